"""Shared test fixtures: the `../shared` folder beside the repository, a fresh store, the
seed day through the pipeline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from veille.config import Settings
from veille.enrich.entities import EntityModelMissing, load
from veille.pipeline import IngestReport, ingest
from veille.store import Store

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


def seed_day_store(folder: Path) -> tuple[Store, Path, IngestReport]:
    """A store in `folder` holding the seed-day pages through the real pipeline (stories,
    briefs, entities, search index), its path and the ingest's report; the caller closes it."""
    require_french_model()
    path = folder / "veille.db"
    store = Store(f"sqlite:///{path}")
    report = ingest([shared_path("fixtures", "seed-day", "pages")], store, Settings())
    return store, path, report


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
