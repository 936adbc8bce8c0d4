"""Settings that travel through the pipeline in one object, read from a TOML file.

The file is `config.toml` in the data folder, or the one named by `--config` /
`VEILLE_CONFIG`. Every key is optional:

    [fetch]
    contact = "https://example.org/about-our-monitoring"   # in the User-Agent
    allow = ["127.0.0.1"]        # addresses otherwise refused (hosts, IPs, CIDRs, :port)
    host_delay = 1.0             # seconds between two requests to one host
    host_concurrency = 2
    timeout = 60                 # total seconds for one response
    max_bytes = 10485760
    retries = 3
    robots = true

    [archive]
    enabled = true               # every response fetched goes to WARC files
    folder = "/path/to/warc"     # default: <data folder>/warc
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from platformdirs import user_data_path

from veille import __version__
from veille.when import DEFAULT_ZONE

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
USER_AGENT_TOKEN = "veille"  # the name robots.txt rules address


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
class FetchSettings:
    contact: str = "https://github.com/veille-news/veille"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 10
    host_concurrency: int = 2
    host_delay: float = 1.0
    max_crawl_delay: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 120.0
    allow: tuple[str, ...] = ()
    resolve: dict[str, list[str]] = field(default_factory=dict)
    http2: bool = True
    robots: bool = True

    @property
    def user_agent(self) -> str:
        return f"{USER_AGENT_TOKEN}/{__version__} (+{self.contact})"


def _fetch_settings(values: dict[str, Any], max_bytes: int) -> FetchSettings:
    known = {
        "contact": str,
        "allow": tuple,
        "host_delay": float,
        "host_concurrency": int,
        "connect_timeout": float,
        "read_timeout": float,
        "max_redirects": int,
        "retries": int,
        "backoff": float,
        "max_retry_after": float,
        "robots": bool,
        "http2": bool,
        "max_crawl_delay": float,
    }
    options: dict[str, Any] = {k: cast(values[k]) for k, cast in known.items() if k in values}
    if "timeout" in values:
        options["total_timeout"] = float(values["timeout"])
    if "resolve" in values:
        options["resolve"] = {host: list(ips) for host, ips in values["resolve"].items()}
    options["max_bytes"] = int(values.get("max_bytes", max_bytes))
    return FetchSettings(**options)


@dataclass(frozen=True)
class Settings:
    # Inputs larger than this are refused (per file, WARC record and HTTP body).
    max_bytes: int = DEFAULT_MAX_BYTES
    fetch: FetchSettings = field(default_factory=lambda: FetchSettings())
    archive: bool = True
    archive_dir: Path = field(default_factory=lambda: data_dir() / "warc")
    # The `[summary]` table: extractive options, and `[summary.llm]` for the optional
    # abstractive rewrite (see veille.summarize).
    summary: dict[str, Any] = field(default_factory=dict)
    smtp: dict[str, Any] = field(default_factory=dict)  # `[smtp]`: e-mail delivery
    ranking: dict[str, Any] = field(default_factory=dict)  # `[ranking]`: digest weights
    digest: dict[str, Any] = field(default_factory=dict)  # `[digest]`: timezone, language
    # `[[sources]]` and `[[watches]]`: what the main job follows, added to the store by
    # `veille run` (sources and watches added by hand stay).
    sources: list[dict[str, Any]] = field(default_factory=list)
    watches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def timezone(self) -> str:
        """Where times are shown (pages, digests, API, CLI): `[digest] timezone`."""
        return str(self.digest.get("timezone", DEFAULT_ZONE))

    @classmethod
    def from_env(cls, config: Path | None = None) -> Settings:
        path = config or Path(os.environ.get("VEILLE_CONFIG", data_dir() / "config.toml"))
        values: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as stream:
                values = tomllib.load(stream)
        max_bytes = int(os.environ.get("VEILLE_MAX_BYTES", 0)) or int(
            values.get("fetch", {}).get("max_bytes", DEFAULT_MAX_BYTES)
        )
        archive = values.get("archive", {})
        return cls(
            max_bytes=max_bytes,
            fetch=_fetch_settings(values.get("fetch", {}), max_bytes),
            archive=bool(archive.get("enabled", True)),
            archive_dir=Path(archive["folder"]).expanduser()
            if "folder" in archive
            else data_dir() / "warc",
            summary=dict(values.get("summary", {})),
            smtp=dict(values.get("smtp", {})),
            ranking=dict(values.get("ranking", {})),
            digest=dict(values.get("digest", {})),
            sources=list(values.get("sources", [])),
            watches=list(values.get("watches", [])),
        )

    def with_fetch(self, **changes: Any) -> Settings:
        return replace(self, fetch=replace(self.fetch, **changes))
