"""Settings that travel through veille in one typed object, read from a TOML file.

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
    max_new_entries = 300        # new entries taken from one feed per poll

    [archive]
    enabled = true               # every response fetched goes to WARC files
    folder = "/path/to/warc"     # default: <data folder>/warc

    [delivery]
    folder = "/path/to/digests"  # file: targets write inside it (default: <data folder>/digests)
    allow = ["127.0.0.1:2525"]   # addresses otherwise refused, as fetch.allow
    proxy = "http://proxy:3128"  # none by default: environment proxies are not used
    timeout = 30

    [smtp]                       # mailto: targets
    host = "smtp.example.org"
    port = 587
    security = "starttls"        # or "ssl", "none"
    username = "veille@example.org"
    password_env = "VEILLE_SMTP_PASSWORD"
    from = "Veille <veille@example.org>"

    [digest]
    timezone = "Europe/Paris"
    language = "fr"

    [alerts]                     # see AlertSettings
    min_sources = 3
    quiet_hours = "22:00-07:00"
    max_per_hour = 6

    [web]
    allowed_hosts = ["veille.example.org"]   # Host names answered beyond the loopback ones
    max_body = 5242880                       # bytes of a request body

A file that cannot be read or does not fit (TOML that does not parse, a number where a name
is expected, an unknown security mode) is refused whole with `ConfigError`, naming the file
and the key; so is a VEILLE_MAX_BYTES that is not a number of bytes.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_path
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veille import __version__
from veille.i18n import _
from veille.when import DEFAULT_ZONE

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
USER_AGENT_TOKEN = "veille"  # the name robots.txt rules address


class ConfigError(ValueError):
    """A configuration that cannot be used; the message (one line) names the file and the
    key, or the variable, and why."""


def data_dir() -> Path:
    override = os.environ.get("VEILLE_HOME")
    return Path(override) if override else user_data_path("veille", appauthor=False)


def config_path(config: Path | None = None) -> Path:
    """The configuration file: `--config`, else VEILLE_CONFIG, else the data folder's."""
    return config or Path(os.environ.get("VEILLE_CONFIG", data_dir() / "config.toml"))


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


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class FetchSettings(_Section):
    contact: str = "https://github.com/veille-news/veille"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = Field(60.0, alias="timeout")
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
    resolve: dict[str, list[str]] = Field(default_factory=dict)
    http2: bool = True
    robots: bool = True
    # New entries taken from one feed per poll: the rest wait for the next poll (a feed
    # listing 100,000 entries is read a few hundred at a time).
    max_new_entries: int = 300

    @property
    def user_agent(self) -> str:
        return f"{USER_AGENT_TOKEN}/{__version__} (+{self.contact})"


class SmtpSettings(_Section):
    """`[smtp]`: the server digests for `mailto:` targets go through."""

    host: str = "localhost"
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str = "VEILLE_SMTP_PASSWORD"  # the password is read from the environment
    sender: str = Field("veille@localhost", alias="from")
    timeout: float = 30.0


def _default_digests() -> Path:
    return data_dir() / "digests"


class DeliverySettings(_Section):
    """`[delivery]`: where digests may go. Webhooks and the SMTP server pass the fetcher's
    address guard (loopback, private and reserved addresses refused unless in `allow`);
    `file:` targets stay inside `folder`; no proxy unless `proxy` names one."""

    folder: Path = Field(default_factory=_default_digests)
    allow: tuple[str, ...] = ()
    proxy: str | None = None
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 2.0


class DigestSettings(_Section):
    timezone: str = DEFAULT_ZONE
    language: Literal["fr", "en"] = "fr"


class AlertSettings(_Section):
    """`[alerts]`: when a story breaks (`veille.alerts.detect`), how long an alert may wait
    for quiet hours or the rate cap to let it go, and what a watch that says nothing gets."""

    window_minutes: int = 60  # a surge is counted over this long ...
    min_sources: int = 3  # ... and needs at least this many new independent sources ...
    ratio: float = 3.0  # ... and this many times the story's and the watch's usual pace
    baseline_hours: float = 24.0  # the story's pace and the watch's are measured over this
    lookback_hours: float = 24.0  # stories active this recently are watched for alerts
    expire_hours: float = 12.0  # an alert held longer than this is dropped, not sent
    max_per_hour: int = 6  # alerts a watch sends per hour at most, unless it says
    quiet_hours: str | None = None  # "22:00-07:00": watches that say nothing wait then


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class WebSettings(_Section):
    """`[web]`: the Host names `veille serve` answers (the loopback ones always, and the
    address it listens on), and the largest request body it reads."""

    allowed_hosts: tuple[str, ...] = ()
    max_body: int = 5 * 1024 * 1024


class Settings(_Section):
    # Inputs larger than this are refused (per file, WARC record and HTTP body).
    max_bytes: int = DEFAULT_MAX_BYTES
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    archive: bool = True
    archive_dir: Path = Field(default_factory=lambda: data_dir() / "warc")
    # The `[summary]` table: extractive options, and `[summary.llm]` for the optional
    # abstractive rewrite (see veille.summarize).
    summary: dict[str, Any] = Field(default_factory=dict)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    ranking: dict[str, Any] = Field(default_factory=dict)  # `[ranking]`: digest weights
    digest: DigestSettings = Field(default_factory=DigestSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    # `[[sources]]` and `[[watches]]`: what the main job follows, added to the store by
    # `veille run` (sources and watches added by hand stay); read entry by entry then, so
    # one bad entry does not stop the others.
    sources: list[dict[str, Any]] = Field(default_factory=list)
    watches: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def timezone(self) -> str:
        """Where times are shown (pages, digests, API, CLI): `[digest] timezone`."""
        return self.digest.timezone

    @classmethod
    def from_env(cls, config: Path | None = None) -> Settings:
        """The settings of the configuration file and VEILLE_MAX_BYTES; ConfigError (the
        file or variable named, and why) when they cannot be used."""
        path = config_path(config)
        budget = os.environ.get("VEILLE_MAX_BYTES", "0")
        if not (budget.strip().isascii() and budget.strip().isdigit()):  # "²" is a digit
            raise ConfigError(_("VEILLE_MAX_BYTES: not a number of bytes: “{value}”", value=budget))
        values: dict[str, Any] = {}
        try:
            if path.is_file():
                with path.open("rb") as stream:
                    values = tomllib.load(stream)
            return cls._validated(values, int(budget))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise _refused(path, problems) from None
        except (OSError, ValueError, TypeError, AttributeError) as error:
            # Unreadable, not TOML, or a table where a value is expected ([fetch] = 3).
            raise _refused(path, error) from None

    @classmethod
    def _validated(cls, values: dict[str, Any], max_bytes: int) -> Settings:
        fetch = values.get("fetch", {})
        max_bytes = max_bytes or int(fetch.get("max_bytes", DEFAULT_MAX_BYTES))
        archive = values.get("archive", {})
        fields: dict[str, Any] = {
            "max_bytes": max_bytes,
            "fetch": {**fetch, "max_bytes": max_bytes},
            "archive": archive.get("enabled", True),
            **{k: values[k] for k in ("summary", "ranking", "sources", "watches") if k in values},
            **{
                k: values[k] for k in ("smtp", "digest", "delivery", "web", "alerts") if k in values
            },
        }
        if "folder" in archive:
            fields["archive_dir"] = Path(archive["folder"]).expanduser()
        if "folder" in values.get("delivery", {}):
            fields["delivery"] = {
                **values["delivery"],
                "folder": Path(values["delivery"]["folder"]).expanduser(),
            }
        return cls.model_validate(fields)

    def with_fetch(self, **changes: Any) -> Settings:
        return self.model_copy(update={"fetch": self.fetch.model_copy(update=changes)})


def _refused(path: Path, error: object) -> ConfigError:
    return ConfigError(_("configuration {path}: {error}", path=path, error=error))
