"""User errors on the command line: one line naming the fault, a non-zero exit code, never a
Python traceback.

The parsers below and the commands raise `UserError`; the operations they call raise
`OperationError` (`veille.operations`); a query that cannot be read raises `QueryError`.
`Commands`, the group class of the `veille` app, is the one place that shows any of them:
one line on standard error (a short query gets a caret under the fault on a second line),
exit code 2 for a request that cannot be taken, 1 when what it names is not there or is
there already — whichever command, option callback or sub-command raised it.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import typer
from alembic.util.exc import CommandError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from typer.core import TyperGroup

from veille.config import ConfigError, Settings, config_path, database_url
from veille.fetch.safety import Allowlist
from veille.i18n import _
from veille.operations import Conflict, NotFound, OperationError
from veille.sources.local import path_problem
from veille.store import Store
from veille.watch import QueryError
from veille.when import local, today

errors = Console(stderr=True)

# Identifiers are SQL INTEGER columns, 32 bits on PostgreSQL: larger numbers name nothing.
MAX_ID = 2**31 - 1
MAX_LIMIT = 1_000_000  # rows a listing may show
MAX_PAGE = 1_000  # search results on one page (a cursor gives the next)
# Dates a command accepts: wide enough for any archive, narrow enough that a period of
# days around them stays a valid date.
FIRST_DAY, LAST_DAY = date(1000, 1, 1), date(8999, 12, 31)
_TODAY = ("today", "aujourd'hui", "aujourd’hui")
_YESTERDAY = ("yesterday", "hier")
_POINTER_WIDTH = 100  # a caret under a longer query would land on a wrapped line


class UserError(Exception):
    """A mistake in the command line or in what it points at; `message` is shown as is."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Commands(TyperGroup):
    """The `veille` command group: user errors raised anywhere below it become one line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as error:
            raise _said(error.message, error.code) from None
        except OperationError as error:
            # Something named that is not there, or there already: 1; a refused request: 2.
            raise _said(error.reason, 1 if isinstance(error, NotFound | Conflict) else 2) from None
        except QueryError as error:
            exit = _said(_("Invalid query: {error}", error=error), 2)
            if len(error.query) <= _POINTER_WIDTH:
                errors.print(escape(error.pointer()), highlight=False)
            raise exit from None


def _said(message: str, code: int) -> typer.Exit:
    errors.print(f"[red]{escape(message)}[/]", highlight=False, soft_wrap=True)
    return typer.Exit(code)


# -- parsers -------------------------------------------------------------------------------


def parse_day(value: str | None, zone: str, option: str = "--date") -> date | None:
    """YYYY-MM-DD, or today / yesterday (aujourd'hui / hier) where `zone` is."""
    if value is None:
        return None
    word = value.strip().lower()
    if word in _TODAY:
        return today(zone)
    if word in _YESTERDAY:
        return today(zone) - timedelta(days=1)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            _(
                "{option}: unreadable date “{value}” (YYYY-MM-DD, today or yesterday)",
                option=option,
                value=value,
            )
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UserError(
            _(
                "{option}: {value} is out of range ({first} to {last})",
                option=option,
                value=value,
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
            )
        )
    return day


def bounded(low: int, high: int) -> Callable[..., int | None]:
    """A typer callback refusing an integer outside [low, high]."""

    def check(param: typer.CallbackParam, value: int | None) -> int | None:
        if value is not None and not low <= value <= high:
            option = param.param_type_name == "option"
            name = param.opts[0] if option else (param.name or "").upper()
            raise UserError(
                _(
                    "{option}: {value} is out of range ({first} to {last})",
                    option=name,
                    value=value,
                    first=low,
                    last=high,
                )
            )
        return value

    return check


def input_paths(paths: list[Path]) -> list[Path]:
    """The paths, each of which must exist and be readable."""
    problems = [f"{path} : {problem}" for path in paths if (problem := path_problem(path))]
    if problems:
        raise UserError("\n".join(problems))
    return paths


@contextmanager
def operating(db: str | None) -> Iterator[Store]:
    """The store for one command (see `open_store`), closed after it whatever happens."""
    store = open_store(db)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def output_file(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """`path` opened for writing, or a UserError saying why it cannot be written (at the
    opening, at a write, or at the last flush when the disk is full)."""
    try:
        with path.open("wb") if binary else path.open("w", encoding="utf-8", newline="") as stream:
            yield stream
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def output_folder(path: Path) -> Path:
    """`path` as a folder to write in, made if need be, or a UserError saying why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    return path


def _cannot_write(path: Path, exc: OSError) -> UserError:
    reason = _("no such folder") if exc.errno == errno.ENOENT else exc.strerror or str(exc)
    return UserError(_("cannot write {path}: {error}", path=path, error=reason))


def load_settings(config: Path | None) -> Settings:
    """The configuration (`--config`, VEILLE_CONFIG or the default file), checked."""
    try:
        loaded = Settings.from_env(config)
        Allowlist.parse(loaded.fetch.allow)  # checked now, not when the first fetch starts
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:
        raise UserError(
            _("configuration {path}: {error}", path=config_path(config), error=exc)
        ) from None
    return loaded


def open_store(db: str | None) -> Store:
    """The store `--db` / VEILLE_DB names, or a UserError saying why it cannot be opened (a
    wrong URL, a server down, a file that is no database)."""
    url = db or "?"
    try:
        url = database_url(db)
        return Store(url)
    except (OSError, ImportError, SQLAlchemyError, CommandError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise UserError(
            _("cannot open the store {url}: {error}", url=_shown(url), error=reason)
        ) from None


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def clock_time(value: datetime | None, zone: str, form: str = "%Y-%m-%d %H:%M") -> str:
    """A time the store keeps (naive UTC) as the reader's clock shows it (`[digest]
    timezone`); "—" for none."""
    return local(value, True, zone).strftime(form) if value else "—"
