"""Accounts: users and their passwords, the sessions of the web UI, API tokens with a
scope (`read` or `write`). Ending a session, changing a password or removing a user takes
effect at once: sessions are kept in the store, not in a signed cookie."""

from __future__ import annotations

from datetime import timedelta

from veille.i18n import _
from veille.operations import Invalid, NotFound, Refused
from veille.store import Store
from veille.store.sessions import SCOPES, Credential, Token
from veille.store.users import User

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 8


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid([_("Eight characters at least.")])


def _user_id(store: Store, name: str) -> int:
    found = store.user_id(name)
    if found is None:
        raise NotFound(_("No user “{name}”.", name=name))
    return found


def add_user(store: Store, name: str, password: str, scope: str = "write") -> tuple[bool, str]:
    """Add a user (or set the password of the one of that name, which ends their sessions)
    and give them a new API token; returns whether they are new and the token's secret."""
    name = name.strip()
    if not name:
        raise Invalid([_("A user needs a name.")])
    _check_password(password)
    user_id, created = store.add_user(name, password)
    _token, secret = store.add_token(user_id, "default", _scope(scope))
    return created, secret


def change_password(store: Store, name: str, password: str) -> None:
    """A new password; every session of the user ends (their API tokens stay)."""
    _user_id(store, name)
    _check_password(password)
    store.add_user(name, password)


def remove_user(store: Store, name: str) -> None:
    """Remove a user: their sessions, tokens and reading state go with them."""
    if not store.remove_user(name):
        raise NotFound(_("No user “{name}”.", name=name))
    store.forget_reader(name)


def list_users(store: Store) -> list[User]:
    return store.users()


# -- sessions ------------------------------------------------------------------------------


def log_in(store: Store, name: str, password: str) -> str | None:
    """A new session's secret when the password is right, else None."""
    if not store.check_password(name, password):
        return None
    return store.open_session(_user_id(store, name), SESSION_LIFETIME)


def log_out(store: Store, secret: str) -> None:
    store.close_session(secret)


def authenticate(store: Store, session: str | None, bearer: str | None) -> Credential | None:
    """Who a request speaks for: its session cookie, else its API token; None when
    neither is valid."""
    if session:
        found = store.session(session)
        if found is not None:
            return found
    if bearer:
        return store.token(bearer)
    return None


# -- API tokens ----------------------------------------------------------------------------


def _scope(scope: str) -> str:
    if scope not in SCOPES:
        raise Invalid([_("unknown scope: {scope} (read, write)", scope=scope)])
    return scope


def add_token(
    store: Store, user: str, name: str, scope: str, caller: Credential | None = None
) -> tuple[Token, str]:
    """A new API token for `user`; a caller with a read-only token cannot make a token
    that writes. Returns the token and its secret (shown once)."""
    if caller is not None and caller.scope == "read" and scope != "read":
        raise Refused(_("a read-only token cannot make a token that writes"))
    return store.add_token(_user_id(store, user), name.strip() or "token", _scope(scope))


def list_tokens(store: Store, user: str) -> list[Token]:
    return store.tokens(_user_id(store, user))


def remove_token(store: Store, user: str, token_id: int) -> None:
    if not store.remove_token(_user_id(store, user), token_id):
        raise NotFound(_("No token {id}.", id=token_id))
