"""Settings that travel through the pipeline in one object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_path

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def data_dir() -> Path:
    override = os.environ.get("VEILLE_HOME")
    return Path(override) if override else user_data_path("veille", appauthor=False)


def database_url(db: str | None = None) -> str:
    """Resolve `--db` / `VEILLE_DB`: a SQLAlchemy URL, or a path to a SQLite file."""
    value = db or os.environ.get("VEILLE_DB")
    if not value:
        value = str(data_dir() / "veille.db")
    if "://" in value:
        return value
    path = Path(value).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Settings:
    # Inputs larger than this are refused (per file, and per WARC record).
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get("VEILLE_MAX_BYTES")
        return cls(max_bytes=int(raw)) if raw else cls()
