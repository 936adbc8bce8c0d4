"""Shared test fixtures: the `../shared` folder beside the repository, and a fresh store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

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
