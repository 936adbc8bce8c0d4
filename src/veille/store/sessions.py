"""Sessions of the web UI and API tokens, kept in the store so they can be ended: logging
out ends one session, a new password or the user's removal ends all of theirs. Only a
SHA-256 of each secret is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    select,
)

from veille.store.base import StoreBase
from veille.store.schema import metadata, users, utc_now

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(16), nullable=False),  # read, write
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime),
)

SCOPES = ("read", "write")
# A token's last use is written at most this often: not one write per API call.
_USE_PRECISION = timedelta(minutes=5)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Credential:
    """Who a session or a token speaks for, and what it may do."""

    user: str
    scope: str  # read or write; a session may do all its user may


@dataclass(frozen=True)
class Token:
    id: int
    user: str
    name: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None


class SessionStore(StoreBase):
    # -- sessions --------------------------------------------------------------------------

    def open_session(self, user_id: int, lifetime: timedelta) -> str:
        """A new session for the user; returns its secret (the cookie's value)."""
        secret = secrets.token_urlsafe(32)
        now = utc_now()
        with self._write() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at <= now))
            conn.execute(
                sessions.insert().values(
                    user_id=user_id,
                    token_hash=secret_hash(secret),
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
        return secret

    def session(self, secret: str) -> Credential | None:
        """The user of a live session, or None (unknown, ended or expired)."""
        query = (
            select(users.c.name)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == secret_hash(secret))
            .where(sessions.c.expires_at > utc_now())
        )
        with self._read() as conn:
            name = conn.execute(query).scalar()
        return Credential(name, "write") if name is not None else None

    def close_session(self, secret: str) -> None:
        with self._write() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == secret_hash(secret)))

    # -- API tokens ------------------------------------------------------------------------

    def add_token(self, user_id: int, name: str, scope: str) -> tuple[Token, str]:
        """A new API token for the user; returns it and its secret (shown once)."""
        if scope not in SCOPES:
            raise ValueError(scope)
        secret = secrets.token_urlsafe(32)
        with self._write() as conn:
            token_id = conn.execute(
                api_tokens.insert().values(
                    user_id=user_id,
                    name=name,
                    token_hash=secret_hash(secret),
                    scope=scope,
                    created_at=utc_now(),
                )
            ).inserted_primary_key[0]
        (token,) = [t for t in self.tokens(user_id) if t.id == token_id]
        return token, secret

    def token(self, secret: str) -> Credential | None:
        """Who an API token speaks for, and its scope; None for an unknown token."""
        query = (
            select(api_tokens.c.id, api_tokens.c.scope, api_tokens.c.last_used_at, users.c.name)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == secret_hash(secret))
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        now = utc_now()
        if row.last_used_at is None or now - row.last_used_at > _USE_PRECISION:
            with self._write() as conn:
                conn.execute(
                    api_tokens.update().where(api_tokens.c.id == row.id).values(last_used_at=now)
                )
        return Credential(row.name, row.scope)

    def tokens(self, user_id: int) -> list[Token]:
        query = (
            select(
                api_tokens.c.id,
                users.c.name.label("user"),
                api_tokens.c.name,
                api_tokens.c.scope,
                api_tokens.c.created_at,
                api_tokens.c.last_used_at,
            )
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.id)
        )
        with self._read() as conn:
            return [Token(*row) for row in conn.execute(query)]

    def remove_token(self, user_id: int, token_id: int) -> bool:
        with self._write() as conn:
            done = conn.execute(
                api_tokens.delete().where(
                    api_tokens.c.id == token_id, api_tokens.c.user_id == user_id
                )
            )
        return done.rowcount > 0
