"""Reading the archive: the stories of a day (ranked for a watch), a story whole with its
timeline, entities, full-text search and the recorded errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from veille.config import Settings
from veille.digest import Entry, Period
from veille.enrich.entities import Entity, lookup_keys, name_key
from veille.i18n import _
from veille.model import Article, EntityRecord, Story, StoryBrief, StoryEntity
from veille.operations import NotFound, OperationError
from veille.operations.digests import build_digest
from veille.operations.following import get_watch
from veille.search import Filters, Results, search
from veille.store import LogEntry, Store
from veille.urls import domain, web_link
from veille.when import local_day, today


class Moved(OperationError):
    """The story was merged into another: `story_id` is where it lives now."""

    status = 301

    def __init__(self, story_id: int) -> None:
        super().__init__(str(story_id))
        self.story_id = story_id


# -- stories -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    story: Story
    score: float | None = None  # for a watch: its ranking score
    entry: Entry | None = None  # for a watch: why it matches and ranks there


def latest_day(store: Store, zone: str | None = None) -> date:
    """The local day of the archive's latest story (today when it is empty)."""
    latest = store.stories(limit=1)
    if latest and latest[0].last_seen:
        return local_day(latest[0].last_seen, True, zone)
    return today(zone)


def stories_of(
    store: Store,
    settings: Settings,
    day: date | None = None,
    watch: str | None = None,
    limit: int | None = None,
) -> list[Ranked]:
    """Stories active on `day` (every live story without it), latest first; with `watch`,
    those it matches that day (today without `day`), best first."""
    if watch is None:
        return [Ranked(s) for s in store.stories(day=day, limit=limit, zone=settings.timezone)]
    found = get_watch(store, watch)
    digest = build_digest(
        store,
        settings,
        # Not its stored self: a look at the day, not a digest (nothing counts as carried).
        replace(found, id=None),
        Period.day(day or today(settings.timezone), settings.timezone),
        limit=limit or 10_000,
    )
    return [Ranked(s, e.score, e) for e in digest.entries if (s := store.story(e.story_id))]


@dataclass(frozen=True)
class Reprint:
    article_id: int
    site: str
    url: str | None


@dataclass(frozen=True)
class TimelineEntry:
    """An original article of the story, with the copies that reprinted it."""

    article_id: int
    published: datetime | None  # naive UTC, as stored
    published_time_known: bool
    site: str
    title: str
    url: str | None  # None: no web link
    language: str | None
    copies: tuple[Reprint, ...]


@dataclass(frozen=True)
class StoryView:
    story: Story
    brief: StoryBrief | None
    articles: tuple[Article, ...]
    copy_of: dict[int, int]  # copy's id -> original's id
    timeline: tuple[TimelineEntry, ...]
    related: tuple[tuple[Story, float], ...]


def _site(article: Article) -> str:
    return article.site_name or domain(article.url) or ""


def story_view(store: Store, story_id: int, follow: bool = False) -> StoryView:
    """A story whole: its brief, articles in order with their copies, related stories. A
    story merged into another raises Moved, or is followed with `follow`."""
    story = store.story(story_id)
    if story is not None and story.merged_into is not None:
        if not follow:
            raise Moved(story.merged_into)
        story = store.story(story.merged_into)
    if story is None:
        raise NotFound(_("No story {id}.", id=story_id))
    articles = store.story_articles(story.id)
    ids = {a.id for a in articles}
    copy_of = {
        c.copy_id: c.original_id
        for c in store.copies([a.id for a in articles if a.id is not None])
        if c.copy_id in ids and c.original_id in ids
    }
    timeline = tuple(
        TimelineEntry(
            a.id or 0,
            a.published,
            a.published_time_known,
            _site(a),
            a.title,
            web_link(a.url),
            a.language,
            tuple(
                Reprint(c.id or 0, _site(c), web_link(c.url))
                for c in articles
                if copy_of.get(c.id) == a.id
            ),
        )
        for a in articles
        if a.id not in copy_of
    )
    return StoryView(
        story,
        store.brief(story.id),
        tuple(articles),
        copy_of,
        timeline,
        tuple(store.related(story.id)),
    )


# -- entities ------------------------------------------------------------------------------


def list_entities(
    store: Store, story: int | None = None, kind: str | None = None, limit: int = 50
) -> list[EntityRecord]:
    """People, organisations and places, most mentioned first."""
    return store.entities(story_id=story, kind=kind, limit=limit)


@dataclass(frozen=True)
class EntityView:
    entity: EntityRecord
    stories: tuple[tuple[Story, StoryEntity], ...]  # oldest first
    per_day: tuple[tuple[date, int], ...]  # mentions by day of publication
    together: tuple[tuple[EntityRecord, int], ...]  # named most often in the same stories
    others: tuple[EntityRecord, ...]  # other entities the name given points at


def find_entities(store: Store, name: str) -> list[EntityRecord]:
    """The entities a name (or an id) points at, best first; NotFound when none."""
    keys = lookup_keys(Entity(name, "PER", [name], 0)) | lookup_keys(Entity(name, "ORG", [name], 0))
    found = store.find_entities(name, keys)
    if not found:
        raise NotFound(_("No entity “{name}”.", name=name))
    return found


def entity_view(store: Store, name_or_id: str | int, zone: str | None = None) -> EntityView:
    """An entity, its stories, its mentions per local day (where `zone` is)."""
    found = find_entities(store, str(name_or_id))
    entity = found[0]
    stories = store.entity_stories(entity.id)
    return EntityView(
        entity,
        tuple(stories),
        _mentions_per_day(store, entity.aliases, [s.id for s, _ in stories], zone),
        tuple(store.co_occurring(entity.id)),
        tuple(found[1:]),
    )


def _mentions_per_day(
    store: Store, aliases: tuple[str, ...], story_ids: list[int], zone: str | None
) -> tuple[tuple[date, int], ...]:
    """Mentions of the entity's spellings in its stories' articles, by day of publication,
    every day of the span (90 at most, the latest) shown, days without being zero."""
    keys = {name_key(a) for a in aliases}
    articles = [a for sid in story_ids for a in store.story_articles(sid)]
    found = store.mentions([a.id for a in articles if a.id is not None])
    counts: Counter[date] = Counter()
    for article in articles:
        if article.published is None or article.id not in found:
            continue
        _hash, mentions, _skipped = found[article.id]
        day = local_day(article.published, article.published_time_known, zone)
        counts[day] += sum(1 for m in mentions if name_key(m.text) in keys)
    if not counts:
        return ()
    first, last = min(counts), max(counts)
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)][-90:]
    return tuple((d, counts.get(d, 0)) for d in days)


# -- search and errors ---------------------------------------------------------------------


def search_archive(
    store: Store,
    query: str,
    filters: Filters | None = None,
    *,
    watch: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    stories: int = 0,
) -> Results:
    """Articles matching a query in the watch language, best first; within a watch, those
    matching both its query and this one. QueryError (with its position) when the query
    cannot be read; SearchUnavailable on a database without full-text search."""
    if watch is not None:
        within = get_watch(store, watch).query
        query = f"({within}) ({query})" if query.strip() else within
    results = search(store, query, filters, limit=limit, cursor=cursor, stories=stories)
    return Results(
        # Hits carry the stored address: only a web link leaves (None otherwise).
        tuple(replace(h, url=web_link(h.url)) for h in results.hits),
        results.total,
        results.next_cursor,
        results.stories,
    )


def recorded_errors(store: Store, everything: bool = False, limit: int = 200) -> list[LogEntry]:
    """Recorded failures, newest first; with `everything`, refused inputs too."""
    return store.log_entries(level=None if everything else "error", limit=limit)
