"""Full-text search over the archive: the watch query language, French stems, filters.

One interface (`search`, `index_articles`) over the store's engine. On SQLite (the default)
articles are kept in an FTS5 table of their stems, computed in Python with the same
`veille.text.terms` as matching, so "perquisition" finds "perquisitionné": a query stem
matches the terms it begins (FTS5 prefix) and the shorter terms of its family. The query is
translated from the watch language: words, phrases, AND, OR, NOT / `-`, brackets, `title:`;
`site:`, `lang:` and `entity:` become filters and combine with AND.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, text

from veille.enrich.entities import Entity, lookup_keys
from veille.i18n import _
from veille.model import Article
from veille.store import Store
from veille.text import terms
from veille.watch import And, Node, Not, Or, QueryError, Term, highlights, parse
from veille.watch.match import PREFIX_MIN

TABLE = "article_search"
SNIPPET = 240  # characters of text around the first word found
SNIPPET_WINDOW = 3000  # characters of an article's text searched for it
COUNT_CAP = 10_000  # results counted at most (Results.total is then a lower bound)
RANK_WINDOW = 3_000  # the newest matches ranked by relevance when there are more


class SearchUnavailable(RuntimeError):
    """The store's database has no full-text search veille can use."""


@dataclass(frozen=True)
class Filters:
    start: date | None = None  # published on or after
    end: date | None = None  # published on or before
    site: str | None = None  # site name or host contains
    language: str | None = None
    entity_id: int | None = None


@dataclass(frozen=True)
class Hit:
    article_id: int
    title: str
    url: str
    site: str | None
    published: datetime | None
    story_id: int | None
    snippet: str
    spans: tuple[tuple[int, int], ...]  # found words in the snippet
    title_spans: tuple[tuple[int, int], ...]
    score: float


@dataclass(frozen=True)
class Results:
    hits: tuple[Hit, ...]
    total: int  # COUNT_CAP at most: then "at least"
    next_cursor: str | None

    @property
    def capped(self) -> bool:
        return self.total >= COUNT_CAP


# --------------------------------------------------------------------------- indexing


def _check(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        raise SearchUnavailable(
            _(
                "full-text search needs the SQLite store for now (this store: {dialect})",
                dialect=conn.dialect.name,
            )
        )


def ensure_index(store: Store) -> None:
    with store.engine.begin() as conn:
        _check(conn)
        conn.execute(
            text(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(title, body, "
                "tokenize = 'unicode61 remove_diacritics 0')"
            )
        )


def _stems(value: str, language: str | None) -> str:
    return " ".join(terms(value, language))


def index_articles(store: Store, articles: list[Article]) -> int:
    """(Re)index the articles; returns how many."""
    ensure_index(store)
    with store.engine.begin() as conn:
        for article in articles:
            conn.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), {"id": article.id})
            conn.execute(
                text(f"INSERT INTO {TABLE}(rowid, title, body) VALUES (:id, :title, :body)"),
                {
                    "id": article.id,
                    "title": _stems(article.title, article.language),
                    "body": _stems(article.text, article.language),
                },
            )
    return len(articles)


def index_missing(store: Store, batch: int = 500) -> int:
    """Index the stored articles not indexed yet (a store older than the index)."""
    ensure_index(store)
    done = 0
    while True:
        with store.engine.connect() as conn:
            ids = list(
                conn.execute(
                    text(
                        f"SELECT a.id FROM articles a LEFT JOIN {TABLE} s ON s.rowid = a.id "
                        "WHERE s.rowid IS NULL ORDER BY a.id LIMIT :n"
                    ),
                    {"n": batch},
                ).scalars()
            )
        if not ids:
            return done
        done += index_articles(store, store.articles_by_id(ids))


# --------------------------------------------------------------------------- queries


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _word(stem: str) -> str:
    """A stem as FTS5 sees it: the terms it begins, and the shorter ones of its family."""
    forms = [_quote(stem) + ("*" if len(stem) >= PREFIX_MIN else "")]
    forms += [_quote(stem[:k]) for k in range(PREFIX_MIN, len(stem))]
    return forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")"


@dataclass
class _Translated:
    match: str | None
    sites: list[str]
    languages: list[str]
    entities: list[str]


def _fts(node: Node, query: str) -> str:
    if isinstance(node, Term):
        if node.field in ("site", "lang", "entity"):
            raise QueryError(_("site:, lang: and entity: combine with AND in a search"), query, 0)
        expression = _quote(" ".join(node.stems)) if node.phrase else _word(node.stems[0])
        return f"title : {expression}" if node.field == "title" else expression
    if isinstance(node, Or):
        parts = []
        for operand in node.operands:
            if isinstance(operand, Not):
                raise QueryError(
                    _("NOT needs words to take from: « a -b », not « a OR -b »"), query, 0
                )
            parts.append(_fts(operand, query))
        return "(" + " OR ".join(parts) + ")"
    if isinstance(node, And):
        positive = [n for n in node.operands if not isinstance(n, Not)]
        negative = [n.operand for n in node.operands if isinstance(n, Not)]
        if not positive:
            raise QueryError(_("a search needs a word to look for, not only exclusions"), query, 0)
        expression = "(" + " AND ".join(_fts(n, query) for n in positive) + ")"
        for excluded in negative:
            expression += f" NOT {_fts(excluded, query)}"
        return "(" + expression + ")"
    raise QueryError(_("a search needs a word to look for, not only exclusions"), query, 0)


def translate(query: str) -> _Translated:
    """The FTS5 expression and the filters of a query in the watch language."""
    node = parse(query)
    parts = list(node.operands) if isinstance(node, And) else [node]
    kept, found = [], _Translated(None, [], [], [])
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
        found.match = _fts(kept[0] if len(kept) == 1 else And(tuple(kept)), query)
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


def search(
    store: Store,
    query: str,
    filters: Filters | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Results:
    """Articles matching the query, best first (BM25, headline words weighing double)."""
    filters = filters or Filters()
    found = translate(query)
    offset = page_offset(cursor)
    ensure_index(store)
    where, params = [], {"limit": limit, "offset": offset}
    if found.match:
        where.append(f"{TABLE} MATCH :match")
        params["match"] = found.match
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
    if filters.start:
        where.append("coalesce(a.published, a.first_seen) >= :start")
        params["start"] = datetime.combine(filters.start, datetime.min.time())
    if filters.end:
        where.append("coalesce(a.published, a.first_seen) < :end")
        params["end"] = datetime.combine(filters.end + timedelta(days=1), datetime.min.time())
    entity_ids = [filters.entity_id] if filters.entity_id else []
    for name in found.entities:
        entity_ids.extend(e.id for e in store.find_entities(name, _entity_keys(name))[:1])
        if not entity_ids:
            return Results((), 0, None)
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
        source, key = TABLE, "rowid"
    elif found.match:
        source, key = f"{TABLE} JOIN articles a ON a.id = {TABLE}.rowid", "a.id"
    else:
        source, key = "articles a", "a.id"
    clause = " AND ".join(where)
    score = f"bm25({TABLE}, 2.0, 1.0)" if found.match else "0.0"
    order = (
        f"score, {key} DESC"
        if found.match
        else "coalesce(a.published, a.first_seen) DESC, a.id DESC"
    )
    with store.engine.connect() as conn:
        # Counting stops at COUNT_CAP: a word in tens of thousands of articles is "10,000+".
        total = conn.execute(
            text(f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {clause} LIMIT :cap)"),
            {**params, "cap": COUNT_CAP},
        ).scalar()
        reachable = total
        if only_words and total >= RANK_WINDOW:
            reachable = RANK_WINDOW
            # A word in thousands of articles: rank the newest RANK_WINDOW of them (ids grow
            # as articles arrive) rather than score every match, which costs the most.
            params["floor"] = conn.execute(
                text(
                    f"SELECT min(rowid) FROM (SELECT rowid FROM {TABLE} WHERE {clause} "
                    "ORDER BY rowid DESC LIMIT :window)"
                ),
                {**params, "window": RANK_WINDOW},
            ).scalar()
            clause += " AND rowid >= :floor"
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
                story_id=story_of.get(article_id),
                snippet=snippet,
                spans=tuple(spans),
                title_spans=tuple(highlights(article.title, node, language)),
                score=-float(value),
            )
        )
    more = offset + len(hits) < reachable
    return Results(tuple(hits), int(total or 0), page_cursor(offset + len(hits)) if more else None)


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
