"""Plain records that flow between the pipeline stages.

Stages take and return these; only `store` knows how they map to tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Source:
    """Where documents come from: a feed, a sitemap (URL or local file), a folder."""

    name: str
    kind: str  # "feed", "sitemap", "file"
    location: str  # URL or path
    id: int | None = None
    every_seconds: int | None = None  # the user's polling interval (a floor)
    # Poll state and health, kept by the store.
    etag: str | None = None
    last_modified: str | None = None
    interval_seconds: int | None = None  # adapted to how often the source publishes
    next_poll_at: datetime | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_status: int | None = None
    failures: int = 0
    items_seen: int = 0


@dataclass(frozen=True)
class RawDocument:
    """One input document before extraction, as a source adapter read it.

    `ref` points back at the raw input (a file, a line of a JSONL file, a WARC record),
    so a stored article can always be traced to the bytes it came from.
    """

    ref: str
    kind: str  # "html" (a whole page), "fragment" (HTML snippet of a feed entry), "text"
    content: bytes | str
    url: str | None = None
    content_type: str | None = None
    # Hints from the container (feed entry, JSONL fields, dump header); extraction may
    # prefer better values found in the document itself.
    title: str | None = None
    published: datetime | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Article:
    url: str
    canonical_url: str
    title: str
    text: str
    content_hash: str
    raw_ref: str
    source: str
    published: datetime | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Failure:
    """A document or input that could not be read or extracted, with the reason in words."""

    source: str
    ref: str
    stage: str  # "read", "extract", "store"
    reason: str
    at: datetime | None = None


@dataclass(frozen=True)
class Skip:
    """An input deliberately not stored as an article (e.g. a digest that is a list of links)."""

    source: str
    ref: str
    reason: str


@dataclass(frozen=True)
class Story:
    """Articles about one event, as grouped by the clusterer."""

    id: int
    title: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    article_count: int = 0
    source_count: int = 0
    representative_id: int | None = None
    merged_into: int | None = None


@dataclass(frozen=True)
class Copy:
    """A syndicated copy of an article: the same text published elsewhere."""

    copy_id: int
    original_id: int
    similarity: float
    reason: str


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str  # "PER", "ORG", "LOC"
    aliases: tuple[str, ...] = ()
    id: int | None = None


@dataclass(frozen=True)
class Watch:
    name: str
    query: str
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    schedule: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Digest:
    watch: str
    created: datetime
    story_ids: tuple[int, ...] = ()
    id: int | None = None
