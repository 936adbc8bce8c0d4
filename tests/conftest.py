"""Shared test fixtures: the `../shared` folder beside the repository, a fresh store, the
seed day through the pipeline."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from veille.config import Settings
from veille.enrich.entities import EntityModelMissing, load
from veille.pipeline import IngestReport, ingest
from veille.store import Store

# Models ship inside their wheels: nothing may be fetched from a model hub during the tests.
os.environ["HF_HUB_OFFLINE"] = "1"

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VEILLE_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is absent: these tests read the project's shared data beside the "
            "repository (set VEILLE_SHARED to its location)"
        )
    return path


def require_french_model() -> None:
    """Skip the test, with the reason, when spaCy's French model is not installed."""
    try:
        load("fr")
    except EntityModelMissing as missing:
        pytest.skip(missing.reason)


POSTGRES = "VEILLE_TEST_POSTGRES"  # a server URL whose role may create databases


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards; skips the test with
    the reason when no server is named (`.ci/run` starts one and names it)."""
    server = os.environ.get(POSTGRES)
    if not server:
        pytest.skip(
            f"no PostgreSQL server: set {POSTGRES} to a URL whose role may create "
            "databases (postgresql+psycopg://user:password@127.0.0.1/db)"
        )
    name = f"veille_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: Engine, name: str) -> None:
    """Drop a test database. An autovacuum worker may be on it (a superuser's process the
    test role may not end): it is done within seconds, so the drop is tried again."""
    for attempt in range(30):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            if attempt == 29:
                raise
            time.sleep(1)


def seed_day_store(folder: Path, url: str | None = None) -> tuple[Store, str, IngestReport]:
    """A store holding the seed-day pages through the real pipeline (stories, briefs,
    entities, search index), its location for `--db` (a SQLite file in `folder` unless a
    URL is given) and the ingest's report; the caller closes it."""
    require_french_model()
    location = url or str(folder / "veille.db")
    store = Store(url or f"sqlite:///{location}")
    report = ingest([shared_path("fixtures", "seed-day", "pages")], store, Settings())
    return store, location, report


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(f"sqlite:///{tmp_path / 'test.db'}")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def seed_day_truth() -> dict:
    return json.loads(shared_path("fixtures", "seed-day", "truth.json").read_text("utf-8"))


@pytest.fixture(autouse=True)
def _french(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages are asserted in French, the default, whatever the machine's locale."""
    monkeypatch.setenv("VEILLE_LANG", "fr")
