"""Full-text search over the archive: the watch query language, French stems, filters.

One interface (`search`, `index_articles`) over the store's engine: SQLite's FTS5 by
default (`fts5`), a tsvector when the store is PostgreSQL (`postgres`). Both index the stems
of articles, computed in Python with the same `veille.text.terms` as matching, so
"perquisition" finds "perquisitionné": a query stem matches the terms it begins (prefix)
and the shorter terms of its family. The query is translated from the watch language:
words, phrases, AND, OR, NOT / `-`, brackets, `title:`; `site:`, `lang:` and `entity:`
become filters and combine with AND. Filters, counting, pages and snippets are the same
SQL and Python on both.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from types import ModuleType

from sqlalchemy import text

from veille.enrich.entities import Entity, lookup_keys
from veille.i18n import _
from veille.model import Article, Story
from veille.search import fts5, postgres
from veille.store import Store
from veille.text import terms
from veille.watch import And, Node, Not, Or, QueryError, Term, highlights, parse
from veille.when import day_bounds

TABLE = "article_search"
SNIPPET = 240  # characters of text around the first word found
SNIPPET_WINDOW = 3000  # characters of an article's text searched for it
COUNT_CAP = 10_000  # results counted at most (Results.total is then a lower bound)
RANK_WINDOW = 3_000  # the newest matches ranked by relevance when there are more
STORY_SAMPLE = 1_000  # the matches (the newest, without filters) whose stories are counted


class SearchUnavailable(RuntimeError):
    """The store's database has no full-text search veille can use."""


@dataclass(frozen=True)
class Filters:
    start: date | None = None  # published on or after
    end: date | None = None  # published on or before
    site: str | None = None  # site name or host contains
    language: str | None = None
    entity_id: int | None = None
    zone: str | None = None  # where the days are (Europe/Paris by default)


@dataclass(frozen=True)
class Hit:
    article_id: int
    title: str
    url: str
    site: str | None
    published: datetime | None  # naive UTC, as stored
    story_id: int | None
    snippet: str
    spans: tuple[tuple[int, int], ...]  # found words in the snippet
    title_spans: tuple[tuple[int, int], ...]
    score: float
    published_time_known: bool = False


@dataclass(frozen=True)
class StoryHit:
    story: Story
    matched: int  # its articles the query finds


@dataclass(frozen=True)
class Results:
    hits: tuple[Hit, ...]
    total: int  # COUNT_CAP at most: then "at least"
    next_cursor: str | None
    stories: tuple[StoryHit, ...] = ()  # when asked: the stories most matches are in

    @property
    def capped(self) -> bool:
        return self.total >= COUNT_CAP


# --------------------------------------------------------------------------- back ends

_BACKENDS: dict[str, ModuleType] = {"sqlite": fts5, "postgresql": postgres}


def _backend(store: Store) -> ModuleType:
    found = _BACKENDS.get(store.engine.dialect.name)
    if found is None:
        raise SearchUnavailable(
            _(
                "full-text search needs SQLite or PostgreSQL (this store: {dialect})",
                dialect=store.engine.dialect.name,
            )
        )
    return found


# --------------------------------------------------------------------------- indexing


def index_articles(store: Store, articles: list[Article]) -> int:
    """(Re)index the articles; returns how many."""
    backend = _backend(store)
    rows = [
        (a.id, terms(a.title, a.language), terms(a.text, a.language))
        for a in articles
        if a.id is not None
    ]
    with store.engine.begin() as conn:
        backend.index(conn, rows)
    return len(rows)


def index_missing(store: Store, batch: int = 500) -> int:
    """Index the stored articles not indexed yet (a store older than the index)."""
    backend = _backend(store)
    done = 0
    while True:
        with store.engine.connect() as conn:
            ids = list(
                conn.execute(
                    text(
                        f"SELECT a.id FROM articles a LEFT JOIN {TABLE} s "
                        f"ON s.{backend.KEY} = a.id WHERE s.{backend.KEY} IS NULL "
                        "ORDER BY a.id LIMIT :n"
                    ),
                    {"n": batch},
                ).scalars()
            )
        if not ids:
            return done
        done += index_articles(store, store.articles_by_id(ids))


# --------------------------------------------------------------------------- queries


@dataclass
class Translated:
    match: Node | None  # the words to find; None: filters alone
    sites: list[str]
    languages: list[str]
    entities: list[str]


def _check(node: Node, query: str) -> None:
    """Refuse what no full-text engine can run: fields that are filters inside OR or NOT,
    an OR of an exclusion, exclusions alone."""
    if isinstance(node, Term):
        if node.field in ("site", "lang", "entity"):
            raise QueryError(_("site:, lang: and entity: combine with AND in a search"), query, 0)
    elif isinstance(node, Or):
        for operand in node.operands:
            if isinstance(operand, Not):
                raise QueryError(
                    _("NOT needs words to take from: « a -b », not « a OR -b »"), query, 0
                )
            _check(operand, query)
    elif isinstance(node, And):
        if all(isinstance(n, Not) for n in node.operands):
            raise QueryError(_("a search needs a word to look for, not only exclusions"), query, 0)
        for operand in node.operands:
            _check(operand.operand if isinstance(operand, Not) else operand, query)
    else:
        raise QueryError(_("a search needs a word to look for, not only exclusions"), query, 0)


def translate(query: str) -> Translated:
    """The words to find and the filters of a query in the watch language; raises
    QueryError for a query a search cannot run."""
    node = parse(query)
    parts = list(node.operands) if isinstance(node, And) else [node]
    kept, found = [], Translated(None, [], [], [])
    for part in parts:
        if isinstance(part, Term) and part.field == "site":
            found.sites.append(part.stems[0])
        elif isinstance(part, Term) and part.field == "lang":
            found.languages.append(part.stems[0][:2])
        elif isinstance(part, Term) and part.field == "entity":
            found.entities.append(part.text)
        else:
            kept.append(part)
    if kept:
        found.match = kept[0] if len(kept) == 1 else And(tuple(kept))
        _check(found.match, query)
    return found


# Cursors name the next page's offset ("o40"): opaque to clients, whose only use is to
# send them back; one format here and in the API, so any well-formed cursor is valid.
CURSOR_PATTERN = r"^o[0-9]{1,9}$"


def page_cursor(offset: int) -> str:
    return f"o{offset}"


def page_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ValueError(_("invalid cursor"))
    return int(cursor[1:])


@dataclass
class _Plan:
    """A query as SQL: where its matches come from, the condition, the parameters."""

    backend: ModuleType
    words: bool  # something to match in the full-text index
    only_words: bool  # and no filter: the index alone
    source: str
    key: str  # the article id in `source`
    clause: str
    params: dict[str, object]


def _plan(store: Store, query: str, filters: Filters) -> _Plan | None:
    """The SQL of a query and filters; None when an `entity:` names no known entity."""
    found = translate(query)
    backend = _backend(store)
    where: list[str] = []
    params: dict[str, object] = {}
    if found.match:
        where.append(backend.MATCH)
        params["match"] = backend.expression(found.match)
    sites = list(found.sites) + ([filters.site] if filters.site else [])
    for k, site in enumerate(sites):
        where.append(
            f"(lower(coalesce(a.site_name, '')) LIKE :site{k} OR lower(a.url) LIKE :site{k})"
        )
        params[f"site{k}"] = f"%{site.lower()}%"
    languages = list(found.languages) + ([filters.language[:2]] if filters.language else [])
    for k, language in enumerate(languages):
        where.append(f"lower(coalesce(a.language, '')) LIKE :lang{k}")
        params[f"lang{k}"] = f"{language.lower()}%"
    # Days are local days (Europe/Paris unless configured), the store's times UTC.
    if filters.start:
        where.append("coalesce(a.published, a.first_seen) >= :start")
        params["start"] = day_bounds(filters.start, filters.zone)[0]
    if filters.end:
        where.append("coalesce(a.published, a.first_seen) < :end")
        params["end"] = day_bounds(filters.end, filters.zone)[1]
    entity_ids = [filters.entity_id] if filters.entity_id else []
    for name in found.entities:
        entity_ids.extend(e.id for e in store.find_entities(name, _entity_keys(name))[:1])
        if not entity_ids:
            return None
    for k, entity_id in enumerate(entity_ids):
        where.append(
            "a.id IN (SELECT sa.article_id FROM story_articles sa JOIN story_entities se "
            f"ON se.story_id = sa.story_id WHERE se.entity_id = :entity{k})"
        )
        params[f"entity{k}"] = entity_id
    if not found.match and not where:
        raise QueryError(_("a search needs a word to look for, not only exclusions"), query, 0)
    only_words = bool(found.match) and len(where) == 1
    if only_words:
        # No filter: the full-text table alone, without a join per match (most searches).
        source, key = TABLE, f"{TABLE}.{backend.KEY}"
    elif found.match:
        source, key = f"{TABLE} JOIN articles a ON a.id = {TABLE}.{backend.KEY}", "a.id"
    else:
        source, key = "articles a", "a.id"
    return _Plan(backend, bool(found.match), only_words, source, key, " AND ".join(where), params)


def stories(
    store: Store, query: str, filters: Filters | None = None, limit: int = 5
) -> list[StoryHit]:
    """The stories most of whose articles the query finds, most found first (counted over
    STORY_SAMPLE matches)."""
    return list(search(store, query, filters, limit=0, stories=limit).stories)


def search(
    store: Store,
    query: str,
    filters: Filters | None = None,
    limit: int = 20,
    cursor: str | None = None,
    stories: int = 0,
) -> Results:
    """Articles matching the query, best first (BM25, headline words weighing double);
    with `stories`, that many stories most of the matches belong to."""
    offset = page_offset(cursor)
    plan = _plan(store, query, filters or Filters())
    if plan is None:
        return Results((), 0, None)
    backend, source, key, clause = plan.backend, plan.source, plan.key, plan.clause
    only_words = plan.only_words
    params = plan.params | {"limit": limit, "offset": offset}
    score = backend.SCORE if plan.words else "0.0"
    order = (
        f"score, {key} DESC"
        if plan.words
        else "coalesce(a.published, a.first_seen) DESC, a.id DESC"
    )
    with store.engine.connect() as conn:
        for statement in backend.SETUP:
            conn.execute(text(statement))
        # Counting stops at COUNT_CAP: a word in tens of thousands of articles is "10,000+".
        # The matches' ids, counted; without filters newest first (ids grow as articles
        # arrive), so that a word in thousands of articles ranks its newest `window`
        # rather than score every match, which costs the most.
        newest_first = f" ORDER BY {backend.NEWEST}" if only_words else ""
        found_ids = list(
            conn.execute(
                text(f"SELECT {key} FROM {source} WHERE {clause}{newest_first} LIMIT :cap"),
                {**params, "cap": COUNT_CAP},
            ).scalars()
        )
        total = reachable = len(found_ids)
        window = min(RANK_WINDOW, backend.RANK_MOST)
        if only_words and total >= window:
            reachable = window
            among, values = backend.among(key, found_ids[:window])
            clause += f" AND {among}"
            params |= values
        rows = conn.execute(
            text(
                f"SELECT {key}, {score} AS score FROM {source} WHERE {clause} "
                f"ORDER BY {order} LIMIT :limit OFFSET :offset"
            ),
            params,
        ).all()
    articles = {a.id: a for a in store.articles_by_id([r[0] for r in rows])}
    story_of = store.stories_of([r[0] for r in rows])
    node = parse(query)
    hits = []
    for article_id, value in rows:
        article = articles[article_id]
        snippet, spans = _snippet(article, node)
        language = (article.language or "fr")[:2]
        hits.append(
            Hit(
                article_id=article_id,
                title=article.title,
                url=article.url,
                site=article.site_name,
                published=article.published,
                published_time_known=article.published_time_known,
                story_id=story_of.get(article_id),
                snippet=snippet,
                spans=tuple(spans),
                title_spans=tuple(highlights(article.title, node, language)),
                score=-float(value),
            )
        )
    more = offset + len(hits) < reachable
    return Results(
        tuple(hits),
        total,
        page_cursor(offset + len(hits)) if more else None,
        _stories_of(store, found_ids[:STORY_SAMPLE], stories) if stories else (),
    )


def _stories_of(store: Store, article_ids: list[int], limit: int) -> tuple[StoryHit, ...]:
    counted = Counter(store.stories_of(article_ids).values())
    best = sorted(counted.items(), key=lambda item: (-item[1], -item[0]))[:limit]
    found = ((store.story(story_id), matched) for story_id, matched in best)
    return tuple(StoryHit(story, matched) for story, matched in found if story is not None)


def _entity_keys(name: str) -> set[str]:
    return lookup_keys(Entity(name, "PER", [name], 0)) | lookup_keys(Entity(name, "ORG", [name], 0))


def _snippet(article: Article, node: Node) -> tuple[str, list[tuple[int, int]]]:
    """Text around the first word found, with the spans of the words found in it."""
    # The reader sees the start of the text most: looking for the words found within its
    # first few thousand characters keeps a page of results fast on long articles.
    body = " ".join(article.text[:SNIPPET_WINDOW].split())
    spans = highlights(body, node, (article.language or "fr")[:2])
    if not spans:
        cut = body[:SNIPPET]
        return (cut + ("…" if len(body) > SNIPPET else "")), []
    start = max(0, spans[0][0] - SNIPPET // 3)
    if start:
        start = body.rfind(" ", 0, start) + 1
    end = min(len(body), start + SNIPPET)
    if end < len(body):
        end = max(body.rfind(" ", start, end), spans[0][1])
    prefix = "…" if start else ""
    suffix = "…" if end < len(body) else ""
    kept = [
        (a - start + len(prefix), b - start + len(prefix))
        for a, b in spans
        if a >= start and b <= end
    ]
    return prefix + body[start:end] + suffix, kept
