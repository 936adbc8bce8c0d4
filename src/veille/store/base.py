"""The store's connection handling: transactions that compose, one writer at a time.

Every store method reads through `_read()` and writes through `_write()`. Outside a
`transaction()` each call is its own transaction; inside one, every call joins it, so a
stage commits a unit of work and its "done" mark together or not at all.

SQLite write transactions start with BEGIN IMMEDIATE: a deferred transaction that reads,
then writes, fails at once ("database is locked", whatever the busy timeout) when another
process committed in between; an immediate one waits its turn instead.

`writer()` is the store's single-writer lock for the pipeline's jobs (ingest, run): a lock
file beside a SQLite database, an advisory lock on PostgreSQL. Both are released by the
operating system or the server when the process dies, so a killed job never leaves the
store locked.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

_MIGRATIONS = Path(__file__).parent / "migrations"
# A fixed key for pg_advisory_lock: "veille writer".
_PG_LOCK_KEY = 0x7665696C6C65
# A web request may wait for a pipeline chunk to commit; chunks take seconds, not minutes.
_SQLITE_BUSY_SECONDS = 60


class StoreBase:
    def __init__(self, url: str) -> None:
        self.url = url
        sqlite = make_url(url).get_backend_name() == "sqlite"
        self.engine: Engine = create_engine(
            url, connect_args={"timeout": _SQLITE_BUSY_SECONDS} if sqlite else {}
        )
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._local = threading.local()
        self._migrate()

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def _migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.transaction() as connection:
            if connection.dialect.name == "postgresql":
                # Two processes opening a new database would both create its tables; on
                # SQLite, BEGIN IMMEDIATE already makes the second wait.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY + 1}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction that every store call inside joins; nested calls join the
        outer one. Committed on exit, rolled back on any exception."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self.engine.connect() as conn:
            conn.execution_options(veille_write=True)
            with conn.begin():
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None

    _write = transaction

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self.engine.connect() as conn:
            yield conn

    # -- one writer -----------------------------------------------------------------------

    @contextmanager
    def writer(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the store's writer lock for a job; `on_wait` is called once if another
        process holds it (then this one waits for it)."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            database = url.database
            if not database or database == ":memory:" or database.startswith("file:"):
                yield  # a private database: no other process can write to it
                return
            with _file_lock(Path(database).with_name(Path(database).name + ".lock"), on_wait):
                yield
            return
        if url.get_backend_name() == "postgresql":
            with self.engine.connect() as conn:
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
                if not got.scalar():
                    if on_wait:
                        on_wait()
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
            return
        yield  # other databases: their own locking only


@contextmanager
def _file_lock(path: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by `_sqlite_begin`, not by the driver's implicit BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("veille_write")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
