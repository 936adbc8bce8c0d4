"""Plain records that flow between the pipeline stages.

Stages take and return these; only `store` knows how they map to tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

import xxhash


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
    # Aware when the time of day is known, naive midnight for a day alone (veille.when).
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
    # Naive UTC, as stored; a day alone is that day at 00:00 with `published_time_known`
    # false (see veille.when for showing it).
    published: datetime | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    id: int | None = None
    # Only what a feed said of the page (it could not be fetched): any full reading of the
    # page replaces it, and it never replaces one.
    partial: bool = False
    published_time_known: bool = False
    modified: datetime | None = None  # naive UTC, when the page states it


def order_key(
    published: datetime | None, seen: datetime, canonical_url: str, time_known: bool = True
) -> str:
    """An article's place in the order stories are built in: its publication time (UTC;
    the time it was first seen when it has none), then a hash of its canonical URL, so the
    order is the same in every store and whatever order the articles came in. A day alone
    goes at the end of its day: a page that states its time that day was surely out by
    then, so it is the original of a copy, never the other way round."""
    when = published or seen
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    elif published is not None and not time_known:
        when = datetime.combine(when.date(), time(23, 59, 59))
    return f"{when.isoformat(timespec='seconds')}|{xxhash.xxh64_hexdigest(canonical_url.encode())}"


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
class SourceRef:
    """An article cited as the source of a sentence, a fact or a value."""

    article_id: int
    site: str | None
    url: str


@dataclass(frozen=True)
class BriefSentence:
    """A sentence of a story's summary and the source it comes from."""

    text: str
    source: SourceRef | None  # None: an abstractive sentence no source was matched to
    also: tuple[SourceRef, ...] = ()  # other sources stating (nearly) the same


@dataclass(frozen=True)
class BriefFact:
    text: str
    kinds: tuple[str, ...]  # "date", "amount", "number", "quote", "name"
    sources: tuple[SourceRef, ...]
    independent: int  # sources stating it, syndicated copies counted with their original


@dataclass(frozen=True)
class BriefNote:
    """A source's weekday that its day number contradicts."""

    site: str
    written: str
    day: str
    weekday: str


@dataclass(frozen=True)
class BriefDisagreement:
    slot: str  # "date" or "figure"
    word: str  # what it is about: the story's key word
    values: tuple[tuple[str, tuple[SourceRef, ...]], ...]  # most held first
    notes: tuple[BriefNote, ...] = ()


@dataclass(frozen=True)
class BriefQuote:
    """Who said what: the words quoted, the speaker, the outlets carrying them."""

    text: str
    speaker: str  # the entity's name when resolved, else as written
    entity: str | None  # set when the speaker is one of the story's entities
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class EntityRecord:
    """A person, organisation or place across stories, its spellings merged."""

    id: int
    name: str
    kind: str  # "PER", "ORG", "LOC"
    aliases: tuple[str, ...]
    mentions: int
    stories: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class StoryEntity:
    """An entity as one story names it."""

    entity_id: int
    name: str
    kind: str
    aliases: tuple[str, ...]  # the spellings this story uses
    mentions: int
    articles: int


@dataclass(frozen=True)
class StoryBrief:
    """What a reader needs of a story: summary, key facts, disagreements, entities."""

    story_id: int
    summary: tuple[BriefSentence, ...] = ()
    method: str = "extractive"
    summary_error: str | None = None  # why the LLM summary fell back, in words
    facts: tuple[BriefFact, ...] = ()
    disagreements: tuple[BriefDisagreement, ...] = ()
    entities: tuple[StoryEntity, ...] = ()
    # Articles whose entities could not be found, and why (no model for their language).
    skipped: tuple[tuple[int, str], ...] = ()
    updated_at: datetime | None = None
    quotes: tuple[BriefQuote, ...] = ()


@dataclass(frozen=True)
class EntityUpdate:
    """One entity of a story, linked to the known entities it is (see enrich.entities.link)."""

    known: tuple[int, ...]  # entities of other stories it is; they become one (the first)
    name: str  # of the whole, across stories
    kind: str
    aliases: tuple[str, ...]  # every spelling, across stories, the name first
    keys: tuple[str, ...]  # lookup keys of its spellings
    story_name: str  # as this story names it
    story_aliases: tuple[str, ...]
    mentions: int
    articles: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class Watch:
    """What a reader follows: a query in the watch language, filters, a schedule and
    where its digests go."""

    name: str
    query: str
    languages: tuple[str, ...] = ()  # empty: any
    sites: tuple[str, ...] = ()  # empty: any
    schedule: str | None = None  # "daily 07:00", "hourly", "every 6h" (None: on demand)
    targets: tuple[str, ...] = ()  # "file:DIR", "mailto:ADDRESS", "webhook:URL", ...
    id: int | None = None
    # Alerts as stories happen: "instant" (a new story matches), "breaking" (a matching
    # story's sources surge). See `veille.alerts`.
    alerts: tuple[str, ...] = ()
    quiet_hours: str | None = None  # "22:00-07:00", local time: alerts wait until after
    max_alerts: int | None = None  # alerts per hour at most (None: `[alerts] max_per_hour`)
    relevance_floor: float | None = None  # weaker matches are marked (None: `[ranking]`)
    alerts_since: datetime | None = None  # when alerts were switched on (kept by the store)


@dataclass(frozen=True)
class PageFetch:
    """How asking for an article page went, stored with what the page gave."""

    url: str  # canonical: the page's key
    final_url: str | None = None
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    permanent: bool = False  # never asked again (gone, refused by robots.txt, not HTML)
    # False: held back before the page was asked (its robots.txt unavailable); not counted
    # among the page's attempts, so it is asked again whatever the number of outages.
    asked: bool = True


@dataclass
class IngestReport:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    stored: list[int] = field(default_factory=list)  # ids of the articles new or updated
    copies: int = 0
    stories: int = 0  # stories created or grown
    understood: int = 0  # stories whose summary, facts and entities were (re)computed
    stopped: bool = False  # asked to stop: what was done is kept, a re-run finishes


@dataclass
class RunReport(IngestReport):
    sources: int = 0
    sources_failed: int = 0
    not_modified: int = 0
    items: int = 0
    already_fetched: int = 0
    fetched: int = 0
    links_only: int = 0  # stored from what the feed said: the page could not be fetched
    left_for_later: int = 0  # new entries beyond the per-poll bound, taken next time
    incomplete: set[int] = field(default_factory=set)  # sources with entries left for later
