"""When a page says it was published, and last modified: instants, from the page itself.

Each statement a page makes is a candidate: its metadata (`article:published_time` and its
kin, JSON-LD `datePublished` of the article, a `<time datetime>`), its prose ("Publié le
3 février 2026 à 14h32", "Le 3 février 2026 à 14:32"), and htmldate's reading of the page
(trafilatura's date: the original date, extensive search). Which one wins, and why:

1. The page's metadata, when present: the publisher wrote it for machines about this very
   article, where prose dates may belong to a video rail or a related box.
2. Unless the metadata disagrees (by more than a day) with both the prose byline and
   htmldate while those two agree: two independent readings outvote a template's default
   or a stale tag (a CMS that stamps every page with its build date).
3. Without metadata, the prose byline; without either, htmldate's day.

The time of day comes from the winner, or from another candidate stating the same day with
a time (metadata often gives the day, the byline the minute). A time stated without an
offset takes the offset another candidate of the page gives for that day, else the local
zone (Europe/Paris by default): French prose does not write its zone.

Values follow `veille.when`: aware when the time is known, naive midnight for a day alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from lxml import etree

from veille.extract import jsonld
from veille.extract.dates import (
    DateMention,
    find_publication_mention,
    find_update_mention,
)
from veille.when import day_only, plausible, zone

# fmt: off
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "article:published",
    "datepublished", "published_time", "publishdate", "publish-date", "pubdate",
    "dc.date.issued", "dcterms.created", "dc.date", "dcterms.date", "sailthru.date",
    "parsely-pub-date", "cxenseparse:recs:publishtime", "date",
)
_MODIFIED_META = (
    "article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
    "modified_time", "last-modified",
)
# fmt: on
_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report|NewsArticle|Posting", re.IGNORECASE)
_CLASS_WORDS = re.compile(r"[^a-z0-9]+")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Candidate:
    value: datetime  # aware, or naive midnight for a day alone
    source: str  # "meta", "json-ld", "time", "prose", "htmldate"


@dataclass(frozen=True)
class PageTimes:
    published: datetime | None
    modified: datetime | None


def parse_stamp(value: str | None, where: tzinfo | None = None) -> datetime | None:
    """An ISO 8601 or RFC 822 stamp: aware when it states a time of day (with its offset,
    else `where`), the day alone otherwise."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if _ISO_DAY.match(text[:10]) and len(text) == 10:
        try:
            return day_only(date.fromisoformat(text))
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        if (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0) and "T" not in text:
            return day_only(parsed.date())
        parsed = parsed.replace(tzinfo=where or zone())
    return parsed


def _meta_values(tree: etree._Element, names: tuple[str, ...]) -> Iterator[str]:
    wanted = set(names)
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = (meta.get(attribute) or "").strip().lower()
            if key in wanted and key not in found and (meta.get("content") or "").strip():
                found[key] = meta.get("content") or ""
    yield from (found[name] for name in names if name in found)


def _json_ld(tree: etree._Element, key: str) -> Iterator[str]:
    """`key` of the page's article objects first, then of any other object."""
    later: list[str] = []
    for value, item in jsonld.values(tree, key):
        kind = item.get("@type")
        kinds = " ".join(kind) if isinstance(kind, list) else str(kind or "")
        if _ARTICLE_TYPES.search(kinds):
            yield value
        else:
            later.append(value)
    yield from later


def _time_elements(tree: etree._Element, modified: bool) -> Iterator[str]:
    """`<time datetime>`: those marked as the publication (or update) first, then the
    first one of the page (the article's header comes before comments and boxes)."""
    flagged, first = [], []
    for element in tree.iter("time"):
        stamp = element.get("datetime")
        if not stamp:
            continue
        words = set(_CLASS_WORDS.split((element.get("class") or "").lower()))
        prop = element.get("itemprop") or ""
        is_update = prop == "dateModified" or bool(words & {"updated", "modified", "update"})
        if modified:
            if is_update:
                flagged.append(stamp)
        elif prop == "datePublished" or element.get("pubdate") is not None or "published" in words:
            flagged.append(stamp)
        elif not is_update and not first:
            first.append(stamp)
    yield from flagged
    if not modified:
        yield from first


class _NoZone(tzinfo):
    """Marks a time stated without an offset until the page's own offset is known."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


_NO_ZONE = _NoZone()


def _from_mention(mention: DateMention | None, source: str) -> Candidate | None:
    if mention is None:
        return None
    if mention.time is None:
        return Candidate(day_only(mention.value), source)
    hour, minute = mention.time
    day = mention.value
    return Candidate(datetime(day.year, day.month, day.day, hour, minute, tzinfo=_NO_ZONE), source)


def _first(stamps: Iterator[str], source: str) -> Candidate | None:
    """The first stamp that can be a publication time: a CMS's placeholder
    ("0001-01-01T00:00:00") says nothing, and must not hide the stamps after it."""
    for stamp in stamps:
        parsed = parse_stamp(stamp, _NO_ZONE)
        if parsed is not None and _possible(parsed):
            return Candidate(parsed, source)
    return None


def _possible(value: datetime) -> bool:
    return plausible(value.replace(tzinfo=None) if value.tzinfo is _NO_ZONE else value) is not None


def _day(value: datetime, where: tzinfo) -> date:
    if value.tzinfo is None or value.tzinfo is _NO_ZONE:
        return value.date()
    return value.astimezone(where).date()


def _agree(a: datetime, b: datetime, where: tzinfo) -> bool:
    return abs((_day(a, where) - _day(b, where)).days) <= 1


def _timed(value: datetime) -> bool:
    return value.tzinfo is not None


def _settle(chosen: Candidate, others: list[Candidate], where: tzinfo) -> datetime:
    """The chosen day with the best stated time, and a real offset."""
    value = chosen.value
    if not _timed(value):
        for other in others:
            if _timed(other.value) and _day(other.value, where) == value.date():
                value = other.value
                break
    if value.tzinfo is _NO_ZONE:
        value = value.replace(tzinfo=_offset_for(value, others) or where)
    return value


def _offset_for(value: datetime, others: list[Candidate]) -> tzinfo | None:
    """The offset the page states for a time it also writes without one: from a stamp
    with the same wall-clock time, else from a stamp of that day with a non-zero offset (a
    "Z" stamp is usually the CMS's UTC, not the publisher's zone)."""
    stamps = [
        o.value
        for o in others
        if _timed(o.value) and o.value.tzinfo is not _NO_ZONE and o.value.date() == value.date()
    ]
    for stamp in stamps:
        if (stamp.hour, stamp.minute) == (value.hour, value.minute):
            return stamp.tzinfo
    for stamp in stamps:
        offset = stamp.utcoffset()
        if offset:
            return timezone(offset)
    return None


def prose_time(text: str, where: str | None = None) -> datetime | None:
    """The publication time a text's own cue gives ("Publié le 3 février 2026 à 14h32"),
    in the local zone; the day alone when no time is written."""
    found = _from_mention(find_publication_mention(text), "prose")
    if found is None:
        return None
    value = found.value
    return value.replace(tzinfo=zone(where)) if value.tzinfo is _NO_ZONE else value


def _stated(
    tree: etree._Element, names: tuple[str, ...], key: str, modified: bool
) -> list[Candidate]:
    """What the page's metadata state: its meta tags, JSON-LD, <time> elements."""
    found = (
        _first(_meta_values(tree, names), "meta"),
        _first(_json_ld(tree, key), "json-ld"),
        _first(_time_elements(tree, modified=modified), "time"),
    )
    return [c for c in found if c is not None]


def page_times(
    tree: etree._Element,
    page_text: str,
    htmldate_day: str | None,
    where: str | None = None,
) -> PageTimes:
    """The page's publication and modification times (see the module's policy)."""
    local = zone(where)
    metadata = _stated(tree, _PUBLISHED_META, "datePublished", modified=False)
    prose = _from_mention(find_publication_mention(page_text), "prose")
    if prose is not None and not _possible(prose.value):
        prose = None
    htmldate = parse_stamp(htmldate_day)
    reading = Candidate(htmldate, "htmldate") if htmldate is not None else None
    candidates = [*metadata, *(c for c in (prose, reading) if c is not None)]
    chosen = _choose(metadata, prose, reading, local)
    published = _settle(chosen, candidates, local) if chosen is not None else None

    modified_candidates = _stated(tree, _MODIFIED_META, "dateModified", modified=True)
    update = _from_mention(find_update_mention(page_text), "prose")
    if update is not None:
        modified_candidates.append(update)
    modified = (
        _settle(modified_candidates[0], [*modified_candidates[1:], *candidates], local)
        if modified_candidates
        else None
    )
    if modified is not None and published is not None and _before(modified, published):
        modified = None  # an "update" before the publication is some other date
    return PageTimes(published, modified)


def _before(a: datetime, b: datetime) -> bool:
    if _timed(a) and _timed(b):
        return a < b
    return a.date() < b.date()


def _choose(
    metadata: list[Candidate],
    prose: Candidate | None,
    reading: Candidate | None,
    where: tzinfo,
) -> Candidate | None:
    if metadata:
        # Metadata that disagree among themselves: the one htmldate agrees with.
        best = next(
            (m for m in metadata if reading is not None and _agree(m.value, reading.value, where)),
            metadata[0],
        )
        outvoted = (
            prose is not None
            and reading is not None
            and _agree(prose.value, reading.value, where)
            and not _agree(best.value, prose.value, where)
        )
        return prose if outvoted else best
    return prose or reading
