"""A watch's digest for a period: the stories active then that match its query, once each,
ranked, each with its sources (copies folded under their original), summary, key facts,
disagreements, entities and why it is there (`veille.watch.explain`). A story an earlier
digest of the watch carried comes back only when it has grown since ("+4 sources"). Weak
matches (relevance under the watch's floor) come last, marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from veille.cluster.explain import Grouped, Rarity, why_grouped
from veille.model import (
    Article,
    BriefDisagreement,
    BriefFact,
    BriefQuote,
    BriefSentence,
    Copy,
    Story,
    StoryBrief,
    StoryEntity,
    Watch,
)
from veille.store import Store
from veille.urls import domain, web_link
from veille.watch import Searchable, matches, parse, searchable
from veille.watch.explain import MatchExplanation, explain_match
from veille.watch.rank import Candidate, RankWeights, rank
from veille.when import day_bounds

ENTITIES_SHOWN = 8
QUOTES_SHOWN = 3


@dataclass(frozen=True)
class EntrySource:
    """An outlet's article about the story, and the other places the same text appeared."""

    site: str
    url: str | None  # None: the article's address is no web link (see `veille.urls.web_link`)
    title: str
    published: datetime | None  # naive UTC, as stored
    also: tuple[tuple[str, str | None], ...] = ()  # (site, url) of syndicated copies
    article_id: int | None = None
    published_time_known: bool = False


@dataclass(frozen=True)
class Entry:
    story_id: int
    title: str
    first_seen: datetime | None
    last_seen: datetime | None
    articles: int
    sources: tuple[EntrySource, ...]  # one per outlet, earliest first
    summary: tuple[BriefSentence, ...]
    facts: tuple[BriefFact, ...]
    disagreements: tuple[BriefDisagreement, ...]
    entities: tuple[StoryEntity, ...]
    score: float
    relevance: float
    matched: tuple[str, ...]
    new_sources: int | None  # None: never carried before; else sources added since
    explanation: MatchExplanation  # why it matches and ranks where it does
    grouping: tuple[Grouped, ...] = ()  # why each of its articles is in it
    quotes: tuple[BriefQuote, ...] = ()  # who said what, most carried first


@dataclass(frozen=True)
class Digest:
    watch: Watch
    key: str  # identifies the period: "2026-02-03" for a daily digest
    start: datetime
    end: datetime
    generated: datetime
    entries: tuple[Entry, ...]
    zone: str | None = None  # where its times are shown (Europe/Paris by default)


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, naive like the store's times
    end: datetime
    key: str  # names the period; one digest per watch, key and target is ever sent
    zone: str | None = None  # where its days are, and its times shown

    @classmethod
    def day(cls, day: date, zone: str | None = None) -> Period:
        """The day where `zone` is (Europe/Paris by default), in UTC bounds."""
        start, end = day_bounds(day, zone)
        return cls(start, end, day.isoformat(), zone)


def build(
    store: Store,
    watch: Watch,
    period: Period,
    weights: RankWeights | None = None,
    limit: int = 30,
    now: datetime | None = None,
) -> Digest:
    """The digest of `watch` for the period (stories with articles in it)."""
    query = parse(watch.query)
    start, end = period.start, period.end
    now = now or datetime.now(UTC).replace(tzinfo=None)
    stories = store.active_stories(start, end)
    loaded = {s.id: _load(store, s) for s in stories}
    pool = [doc for _, _, _, doc in loaded.values()]
    carried = store.carried(watch.id, [s.id for s in stories]) if watch.id else {}
    candidates = []
    for story in stories:
        articles, copies, brief, doc = loaded[story.id]
        if not _passes_filters(watch, articles) or not matches(query, doc):
            continue
        sources = _sources(articles, copies)
        before = carried.get(story.id)
        if before is not None and len(sources) <= before.sources:
            continue  # carried already and not grown since
        new = len(sources) - before.sources if before is not None else 0
        candidates.append(Candidate(story.id, doc, len(sources), story.last_seen, new))
    weights = weights or RankWeights()
    floor = watch.relevance_floor if watch.relevance_floor is not None else weights.floor
    ranked = rank(query, candidates, pool, min(now, end), weights, floor)[:limit]
    mentions = _mentions(store, [loaded[r.story_id][0] for r in ranked])
    rarity = Rarity(a for articles, _, _, _ in loaded.values() for a in articles)
    entries = []
    for found in ranked:
        story = next(s for s in stories if s.id == found.story_id)
        articles, copies, brief, doc = loaded[story.id]
        before = carried.get(story.id)
        sources = _sources(articles, copies)
        entries.append(
            Entry(
                story_id=story.id,
                title=story.title,
                first_seen=story.first_seen,
                last_seen=story.last_seen,
                articles=story.article_count,
                sources=tuple(sources),
                summary=brief.summary if brief else (),
                facts=brief.facts if brief else (),
                disagreements=brief.disagreements if brief else (),
                entities=brief.entities[:ENTITIES_SHOWN] if brief else (),
                quotes=brief.quotes[:QUOTES_SHOWN] if brief else (),
                score=round(found.score, 4),
                relevance=round(found.relevance, 4),
                matched=found.matched,
                new_sources=None if before is None else len(sources) - before.sources,
                explanation=explain_match(query, story.title, articles, doc, found, floor),
                grouping=tuple(why_grouped(articles, copies, brief, mentions, rarity)),
            )
        )
    return Digest(watch, period.key, start, end, now, tuple(entries), period.zone)


def _load(
    store: Store, story: Story
) -> tuple[list[Article], list[Copy], StoryBrief | None, Searchable]:
    articles = store.story_articles(story.id)
    copies = store.copies([a.id for a in articles if a.id is not None])
    brief = store.brief(story.id)
    names = [a for e in (brief.entities if brief else ()) for a in (e.name, *e.aliases)]
    doc = searchable(
        titles=[a.title for a in articles],
        texts=[a.text for a in articles],
        sites=[a.site_name for a in articles],
        urls=[a.url for a in articles],
        languages=[a.language for a in articles],
        entity_names=names,
    )
    return articles, copies, brief, doc


def _mentions(store: Store, stories: Sequence[Sequence[Article]]) -> dict[int, list]:
    ids = [a.id for articles in stories for a in articles if a.id is not None]
    return {aid: found for aid, (_hash, found, _skipped) in store.mentions(ids).items()}


def _passes_filters(watch: Watch, articles: Sequence[Article]) -> bool:
    if watch.languages and not any((a.language or "")[:2] in watch.languages for a in articles):
        return False
    if watch.sites:
        wanted = {s.lower().removeprefix("www.") for s in watch.sites}
        hosts = {(domain(a.url) or "").removeprefix("www.") for a in articles}
        return any(h == w or h.endswith("." + w) for h in hosts for w in wanted)
    return True


def _sources(articles: Sequence[Article], copies: Sequence[Copy]) -> list[EntrySource]:
    """One line per outlet, earliest article first; a syndicated copy is shown under its
    original ("also published by"), and a copy on the original's own site not at all.
    Every format renders these lines, so only web links leave here (`web_link`)."""
    by_id = {a.id: a for a in articles}
    copy_of = {c.copy_id: c.original_id for c in copies if c.original_id in by_id}
    ordered = sorted(articles, key=lambda a: (a.published or datetime.max, a.id or 0))
    first: dict[str, Article] = {}  # the outlet's earliest article
    also: dict[int | None, list[tuple[str, str | None]]] = {}
    for article in ordered:
        original = copy_of.get(article.id)
        site = _site(article)
        if original is not None:
            if _site(by_id[original]) != site:
                also.setdefault(original, []).append((site, web_link(article.url)))
            continue
        first.setdefault(site, article)
    return [
        EntrySource(
            site,
            web_link(article.url),
            article.title,
            article.published,
            tuple((s, u) for s, u in also.get(article.id, []) if s not in first or s == site),
            article_id=article.id,
            published_time_known=article.published_time_known,
        )
        for site, article in first.items()
    ]


def _site(article: Article) -> str:
    return article.site_name or (domain(article.url) or article.url)
