"""What veille follows: sources (feeds and sitemaps, OPML in and out) and watches.

A watch is built and checked here only (`make_watch`, `save_watch`), whoever asks: the
command line, a page's form, the API or the config file, so a watch typed `FR` in one
place matches like `fr` in another.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from veille.config import Settings
from veille.digest import Digest, Period, build
from veille.fetch import Fetcher
from veille.i18n import _
from veille.model import Source, Watch
from veille.operations import Conflict, Invalid, NotFound
from veille.schedule import parse_every
from veille.sources.opml import OpmlError, OpmlFeed, parse_opml, write_opml
from veille.sources.web import Found, PollError, identify
from veille.store import Store
from veille.store.watches import Delivery
from veille.watch import QueryError, parse, watch_problems
from veille.watch.rank import weights_from_config
from veille.when import day_bounds, local_day, today

SOURCE_KINDS = ("feed", "sitemap")

# -- sources -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceAdded:
    source: Source
    created: bool
    alternatives: tuple[str, ...] = ()  # other feeds the page announced


def list_sources(store: Store) -> list[Source]:
    """Sources and their health, failing first."""
    return store.sources()


def get_source(store: Store, key: int | str) -> Source:
    found = store.source(key)
    if found is None:
        raise NotFound(_("No source '{key}'.", key=key))
    return found


def interval(every: str) -> int:
    """Seconds between two polls at most, from "15m", "2h", "1d"; Invalid otherwise."""
    try:
        seconds = int(parse_every(every).total_seconds())
    except (ValueError, OverflowError):  # "abc", "1e999"
        seconds = 0
    if seconds <= 0:
        raise Invalid([_("Unreadable interval: {every}", every=every)])
    return seconds


def add_source(
    store: Store,
    settings: Settings,
    location: str,
    *,
    name: str | None = None,
    every: str = "15m",
    kind: str | None = None,
    local: bool = False,
) -> SourceAdded:
    """Follow a feed or a sitemap. Without `kind`, the location is read to tell (a page
    gives the feeds it announces, else its robots.txt sitemaps). Local files only when
    `local` (the command line): a web request never names a file of the server."""
    location = location.strip()
    seconds = interval(every)
    web = location.startswith(("http://", "https://"))
    if not web and not local:
        raise Invalid([_("a source needs an http(s) URL: « {url} »", url=location)])
    if kind is not None and kind not in SOURCE_KINDS:
        raise Invalid([_("unknown kind of source: {kind} (feed, sitemap)", kind=kind)])
    if kind is None:
        try:
            found = asyncio.run(_identify(location, settings))
        except PollError as error:
            raise Invalid([error.reason]) from None
    else:
        found = Found(kind, location, None, ())
    title = (name or "").strip() or found.title or urlsplit(found.location).netloc
    source, created = store.add_source(
        Source(
            name=title or Path(found.location).name,
            kind=found.kind,
            location=found.location,
            every_seconds=seconds,
        )
    )
    return SourceAdded(source, created, found.alternatives)


async def _identify(location: str, settings: Settings) -> Found:
    if not location.startswith(("http://", "https://")):
        return await identify(location, None)
    async with Fetcher(settings.fetch) as fetcher:
        return await identify(location, fetcher)


def remove_source(store: Store, key: int | str) -> Source:
    removed = store.remove_source(key)
    if removed is None:
        raise NotFound(_("No source '{key}'.", key=key))
    return removed


@dataclass(frozen=True)
class Imported:
    added: int
    known: int


def import_opml(store: Store, data: bytes, every: str = "15m") -> Imported:
    """Follow the feeds of an OPML file (http(s) ones: OPML names no local file here)."""
    seconds = interval(every)
    try:
        feeds = parse_opml(data)
    except OpmlError as error:
        raise Invalid([str(error)]) from None
    added = sum(
        store.add_source(
            Source(name=f.title or f.url, kind="feed", location=f.url, every_seconds=seconds)
        )[1]
        for f in feeds
    )
    return Imported(added, len(feeds) - added)


def export_opml(store: Store) -> bytes:
    """The feeds followed on the web, as OPML."""
    feeds = [
        OpmlFeed(url=s.location, title=s.name)
        for s in store.sources()
        if s.kind == "feed" and s.location.startswith(("http://", "https://"))
    ]
    return write_opml(feeds, "veille")


# -- watches -------------------------------------------------------------------------------


def _items(value: str | Iterable[str] | None, separator: str = ",") -> list[str]:
    if value is None:
        return []
    parts = value.split(separator) if isinstance(value, str) else value
    return [str(p).strip() for p in parts if str(p).strip()]


def make_watch(
    name: str,
    query: str,
    languages: str | Iterable[str] | None = None,
    sites: str | Iterable[str] | None = None,
    schedule: str | None = None,
    targets: str | Iterable[str] | None = None,
    alerts: str | Iterable[str] | None = None,
    quiet_hours: str | None = None,
    max_alerts: int | str | None = None,
    relevance_floor: float | str | None = None,
) -> Watch:
    """The one way a watch is made from what someone typed: names and queries trimmed,
    languages as lower-case primary tags ("FR", "fr-FR" -> "fr"), sites as lower-case
    hosts without "www.", one target per line (or item), alerts as lower-case words, empties
    dropped. A number that cannot be read stays as typed, for `save_watch` to refuse."""
    langs = [re.split(r"[-_]", x)[0].lower() for x in _items(languages)]
    hosts = [x.lower().removeprefix("www.") for x in _items(sites)]
    return Watch(
        name=name.strip(),
        query=query.strip(),
        languages=tuple(dict.fromkeys(langs)),
        sites=tuple(dict.fromkeys(hosts)),
        schedule=(schedule or "").strip() or None,
        targets=tuple(dict.fromkeys(_items(targets, "\n"))),
        alerts=tuple(dict.fromkeys(x.lower() for x in _items(alerts))),
        quiet_hours=(quiet_hours or "").strip() or None,
        max_alerts=_number(max_alerts, int),  # type: ignore[arg-type]
        relevance_floor=_number(relevance_floor, float),  # type: ignore[arg-type]
    )


def _number(value: object, kind: type) -> object:
    """A number typed as text, read as `kind`; left as typed when it cannot be (refused
    with the reason by `watch_problems`); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        return value


def list_watches(store: Store) -> list[Watch]:
    return store.watches()


def get_watch(store: Store, key: int | str) -> Watch:
    found = store.watch(key)
    if found is None:
        raise NotFound(_("No watch “{name}”.", name=key))
    return found


def save_watch(
    store: Store, settings: Settings, watch: Watch, *, replace: bool = True
) -> tuple[Watch, bool]:
    """Add the watch or, with `replace`, update the one of its name (without: Conflict
    when there is one, and nothing changes); Invalid with every fault found (the query,
    the schedule, a target veille does not know or may not reach)."""
    watch = make_watch(
        watch.name,
        watch.query,
        watch.languages,
        watch.sites,
        watch.schedule,
        watch.targets,
        watch.alerts,
        watch.quiet_hours,
        watch.max_alerts,
        watch.relevance_floor,
    )
    problems = watch_problems(watch, settings.delivery)
    if problems:
        raise Invalid(problems)
    if not replace and store.watch(watch.name) is not None:
        raise Conflict(_("A watch named “{name}” exists already.", name=watch.name))
    return store.save_watch(watch)


def remove_watch(store: Store, key: int | str) -> Watch:
    removed = store.remove_watch(key)
    if removed is None:
        raise NotFound(_("No watch “{name}”.", name=key))
    return removed


def deliveries(store: Store, watch: Watch, limit: int = 10) -> list[Delivery]:
    """The watch's last deliveries, latest first."""
    assert watch.id is not None
    return store.deliveries(watch.id, limit=limit)


def try_watch(
    store: Store,
    settings: Settings,
    watch_or_query: Watch | str,
    end: date | None = None,
    days: int = 7,
    limit: int = 10,
) -> Digest:
    """What a watch (or a bare query) finds over `days` days ending `end` (today), ranked,
    nothing marked as sent. An archive that stops before that window is tested on its
    last days instead. QueryError when the query cannot be read."""
    watch = watch_or_query if isinstance(watch_or_query, Watch) else Watch("test", watch_or_query)
    parse(watch.query)
    zone = settings.timezone
    last = end or today(zone)
    if end is None:
        latest = store.stories(limit=1)
        if latest and latest[0].last_seen:
            latest_day = local_day(latest[0].last_seen, True, zone)
            if latest_day < last - timedelta(days=days - 1):
                last = latest_day
    first = last - timedelta(days=days - 1)
    period = Period(day_bounds(first, zone)[0], day_bounds(last, zone)[1], "test", zone)
    # A test is not a digest: the watch goes without its id, so nothing counts as carried.
    bare = replace(watch, id=None)
    return build(store, bare, period, weights_from_config(settings.ranking), limit=limit)


__all__ = [
    "Imported",
    "QueryError",
    "SourceAdded",
    "add_source",
    "deliveries",
    "export_opml",
    "get_source",
    "get_watch",
    "import_opml",
    "interval",
    "list_sources",
    "list_watches",
    "make_watch",
    "remove_source",
    "remove_watch",
    "save_watch",
    "try_watch",
]
