"""`veille user ...` (accounts and their API tokens) and `veille serve` (the web UI and
the JSON API)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from veille.cli import ConfigOption, DbOption, _print, app, console
from veille.cli.tables import Col
from veille.cli.usage import (
    MAX_ID,
    UserError,
    bounded,
    clock_time,
    load_settings,
    open_store,
    operating,
)
from veille.config import LOOPBACK_HOSTS
from veille.i18n import _
from veille.operations import accounts

user_app = typer.Typer(help=_("Web UI accounts."), no_args_is_help=True)
app.add_typer(user_app, name="user")

PasswordOption = Annotated[
    str,
    typer.Option(prompt=_("Password"), hide_input=True, confirmation_prompt=True),
]
ScopeOption = Annotated[
    str, typer.Option(help=_("read: look only; write: also change sources, watches, state"))
]


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help=_("Name"))],
    password: PasswordOption,
    scope: ScopeOption = "write",
    db: DbOption = None,
) -> None:
    """Ajoute un compte (ou change son mot de passe) et donne un jeton d'API. / Add an
    account (or reset its password) and give an API token."""
    with operating(db) as store:
        _created, secret = accounts.add_user(store, name, password, scope)
    console.print(_("Account {name} ready. API token (shown once):", name=escape(name)))
    console.print(secret, markup=False, highlight=False)


@user_app.command("list")
def user_list(db: DbOption = None, config: ConfigOption = None) -> None:
    """Les comptes. / The accounts."""
    zone = load_settings(config).timezone
    with operating(db) as store:
        found = accounts.list_users(store)
    _print(
        [
            Col(_("name"), wrap=True),
            Col(_("created")),
            Col(_("API tokens"), justify="right", drop=1),
            Col(_("open sessions"), justify="right", drop=2),
        ],
        [
            [escape(u.name), clock_time(u.created_at, zone), str(u.tokens), str(u.sessions)]
            for u in found
        ],
    )


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help=_("Name"))],
    password: PasswordOption,
    db: DbOption = None,
) -> None:
    """Change le mot de passe ; ses sessions se ferment. / Change the password; the user's
    sessions end."""
    with operating(db) as store:
        accounts.change_password(store, name, password)
    console.print(_("Password changed: {name}; their sessions are closed.", name=escape(name)))


@user_app.command("remove")
def user_remove(
    name: Annotated[str, typer.Argument(help=_("Name"))],
    db: DbOption = None,
) -> None:
    """Supprime un compte, ses sessions et ses jetons. / Remove an account, its sessions
    and its tokens."""
    with operating(db) as store:
        accounts.remove_user(store, name)
    console.print(_("Account removed: {name}", name=escape(name)))


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help=_("Name"))],
    label: Annotated[str, typer.Option("--name", help=_("What the token is for"))] = "token",
    scope: ScopeOption = "read",
    remove: Annotated[
        int | None,
        typer.Option(help=_("Revoke the token of this id"), callback=bounded(1, MAX_ID)),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Un jeton d'API de plus (ou --remove ID), puis la liste. / One more API token (or
    --remove ID), then the list."""
    zone = load_settings(config).timezone
    with operating(db) as store:
        if remove is not None:
            accounts.remove_token(store, name, remove)
        else:
            _token, secret = accounts.add_token(store, name, label, scope)
            console.print(_("API token (shown once):"))
            console.print(secret, markup=False, highlight=False)
        tokens = accounts.list_tokens(store, name)
    _print(
        [
            Col("id", justify="right"),
            Col(_("name"), wrap=True),
            Col(_("scope")),
            Col(_("created"), drop=2),
            Col(_("last used"), drop=1),
        ],
        [
            [
                str(t.id),
                escape(t.name),
                t.scope,
                clock_time(t.created_at, zone),
                clock_time(t.last_used_at, zone),
            ]
            for t in tokens
        ],
    )


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help=_("Address to listen on"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port"), callback=bounded(1, 65535))] = 8080,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help=_("A host name the server answers to, beyond the loopback ones ([web])"),
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """L'interface web et l'API JSON. / The web UI and the JSON API."""
    # The web stack loads only here: every other command starts faster without it.
    import uvicorn

    from veille.web import create_app

    settings = load_settings(config)
    store = open_store(db)
    beyond = host not in LOOPBACK_HOSTS
    if beyond and not store.has_users():
        # Beyond loopback anyone could read and act: a login is required, so an account.
        store.close()
        raise UserError(
            _(
                "Beyond 127.0.0.1 a login is required: add an account first with "
                "“veille user add NAME”."
            )
        )
    hosts = (*settings.web.allowed_hosts, *(allowed_host or ()))
    if beyond and host not in ("0.0.0.0", "::"):
        hosts = (*hosts, host)  # the address it listens on is a name it answers to
    web = settings.web.model_copy(update={"allowed_hosts": tuple(dict.fromkeys(hosts))})
    console.print(_("veille on http://{host}:{port}/", host=host, port=port))
    if beyond:
        console.print(
            _(
                "It answers to these names only: {names} (add others with --allowed-host "
                "or [web] allowed_hosts).",
                names=", ".join((*LOOPBACK_HOSTS, *web.allowed_hosts)),
            )
        )
    try:
        uvicorn.run(
            create_app(store, settings.model_copy(update={"web": web}), require_login=beyond),
            host=host,
            port=port,
            log_level="warning",
        )
    finally:
        store.close()
