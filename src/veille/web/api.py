"""The JSON API, `/api/v1`: stories (ranked for a watch), a story whole, search, entities.

Lists are paged by an opaque cursor and carry an ETag (a client sending If-None-Match gets
304 when nothing changed). Errors are JSON: `{"detail": ..., "position": ...}` for a query
that cannot be read.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel

from veille.digest import Period, build
from veille.digest.render import brief_json
from veille.model import Story, Watch
from veille.search import (
    CURSOR_PATTERN,
    Filters,
    SearchUnavailable,
    page_cursor,
    page_offset,
    search,
)
from veille.search import stories as find_stories
from veille.store import Store
from veille.watch import QueryError
from veille.when import rfc3339

router = APIRouter(prefix="/api/v1")


class Problem(BaseModel):
    """An error: what went wrong, in words, and for a query the offset of the fault."""

    detail: str
    position: int | None = None


# Identifiers are SQL INTEGER columns, 32 bits on PostgreSQL: larger numbers name nothing
# (and the database refuses to compare them).
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_MODIFIED = {304: {"description": "Unchanged since the ETag sent in If-None-Match"}}
NOT_FOUND = {404: {"model": Problem, "description": "No such thing"}}
BAD_QUERY = {400: {"model": Problem, "description": "A query that cannot be read"}}
Cursor = Annotated[
    str | None, Query(pattern=CURSOR_PATTERN, description="next_cursor of the previous page")
]


def problem(status: int, detail: str, position: int | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "position": position}, status_code=status)


def get_store(request: Request) -> Store:
    return request.app.state.store


def _zone(request: Request) -> str:
    return request.app.state.settings.timezone


StoreDep = Annotated[Store, Depends(get_store)]


class StoryOut(BaseModel):
    id: int
    title: str
    first_seen: datetime | None
    last_seen: datetime | None
    articles: int
    sources: int
    score: float | None = None  # for a watch: its ranking score
    matched: int | None = None  # for a search: its articles the query finds


class Page(BaseModel):
    items: list[Any]
    total: int
    next_cursor: str | None


class StoriesPage(Page):
    items: list[StoryOut]


class StoryList(BaseModel):
    items: list[StoryOut]


def _tagged(request: Request, payload: Any) -> Response:
    """The payload as JSON with a strong ETag; 304 when the client has it already."""
    body = json.dumps(payload, ensure_ascii=False, default=_default, separators=(",", ":"))
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


def _aware(when: datetime | None) -> datetime | None:
    """The store's times are naive UTC: said so on the way out (RFC 3339)."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(type(value))


def _story_out(story: Story, score: float | None = None, matched: int | None = None) -> StoryOut:
    return StoryOut(
        id=story.id,
        title=story.title,
        first_seen=_aware(story.first_seen),
        last_seen=_aware(story.last_seen),
        articles=story.article_count,
        sources=story.source_count,
        score=score,
        matched=matched,
    )


@router.get("/stories", response_model=StoriesPage, responses=NOT_MODIFIED | NOT_FOUND)
def stories(
    request: Request,
    store: StoreDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    watch: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Response:
    """Stories of a day (all of them without `date`), latest first; with `watch`, those
    matching it, ranked for it."""
    offset = page_offset(cursor)
    if watch is not None:
        found = store.watch(watch)
        if found is None:
            return problem(404, f"no watch {watch!r}")
        when = day or date.today()
        digest = build(
            store,
            Watch(found.name, found.query, found.languages, found.sites),
            Period.day(when, _zone(request)),
            limit=10_000,
        )
        ranked = [(store.story(e.story_id), e.score) for e in digest.entries]
        items = [_story_out(s, score) for s, score in ranked if s is not None]
    else:
        items = [_story_out(s) for s in store.stories(day=day, zone=_zone(request))]
    page = items[offset : offset + limit]
    more = offset + len(page) < len(items)
    return _tagged(
        request,
        {
            "items": page,
            "total": len(items),
            "next_cursor": page_cursor(offset + limit) if more else None,
        },
    )


@router.get("/stories/{story_id}", responses=NOT_FOUND | {301: {"description": "Merged"}})
def story(request: Request, story_id: Id, store: StoreDep, lang: str = "fr") -> Any:
    """A story whole: its summary, key facts, disagreements, entities, articles with their
    copies, related stories. A story merged into another redirects to it."""
    found = store.story(story_id)
    if found is None:
        return problem(404, f"no story {story_id}")
    if found.merged_into is not None:
        return RedirectResponse(f"/api/v1/stories/{found.merged_into}", status_code=301)
    articles = store.story_articles(story_id)
    copies = {c.copy_id: c.original_id for c in store.copies([a.id for a in articles if a.id])}
    brief = store.brief(story_id)
    understood = brief_json(brief.summary, brief.facts, brief.disagreements, lang) if brief else {}
    return {
        **_story_out(found).model_dump(mode="json"),
        "summary": understood.get("summary", []),
        "facts": understood.get("facts", []),
        "disagreements": understood.get("disagreements", []),
        "entities": [
            {
                "id": e.entity_id,
                "name": e.name,
                "kind": e.kind,
                "aliases": list(e.aliases),
                "mentions": e.mentions,
            }
            for e in (brief.entities if brief else ())
        ],
        "articles": [
            {
                "id": a.id,
                "title": a.title,
                "url": a.url,
                "site": a.site_name,
                # RFC 3339 in local time, or the day alone when the page gives no time.
                "published": rfc3339(a.published, a.published_time_known, _zone(request)),
                "language": a.language,
                "copy_of": copies.get(a.id),
            }
            for a in articles
        ],
        "related": [
            {"id": other.id, "title": other.title, "score": round(score, 4)}
            for other, score in store.related(story_id)
        ],
        "understood": brief is not None,
    }


NO_SEARCH = {501: {"model": Problem, "description": "No search on this database"}}


def search_terms(
    q: Annotated[str, Query(min_length=1, description="A query in the watch language")],
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    site: str | None = None,
    lang: str | None = None,
    entity: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> tuple[str, Filters]:
    """A search's query and filters, the same for articles and stories."""
    return q, Filters(start=since, end=until, site=site, language=lang, entity_id=entity)


SearchTerms = Annotated[tuple[str, Filters], Depends(search_terms)]


@router.get(
    "/search/stories",
    response_model=StoryList,
    responses=NOT_MODIFIED | BAD_QUERY | NO_SEARCH,
)
def search_stories(
    request: Request,
    store: StoreDep,
    terms: SearchTerms,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Response:
    """The stories most of whose articles a query finds, most found first."""
    try:
        found = find_stories(store, *terms, limit=limit)
    except QueryError as error:
        return problem(400, str(error), error.position)
    except SearchUnavailable as error:
        return problem(501, str(error))
    return _tagged(request, {"items": [_story_out(h.story, matched=h.matched) for h in found]})


@router.get("/search", responses=NOT_MODIFIED | BAD_QUERY | NO_SEARCH)
def search_articles(
    request: Request,
    store: StoreDep,
    terms: SearchTerms,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Response:
    """Articles matching a query in the watch language, best first, with snippets."""
    try:
        results = search(store, *terms, limit=limit, cursor=cursor)
    except QueryError as error:
        return problem(400, str(error), error.position)
    except SearchUnavailable as error:
        return problem(501, str(error))
    return _tagged(
        request,
        {
            "items": [
                {
                    "article_id": h.article_id,
                    "title": h.title,
                    "url": h.url,
                    "site": h.site,
                    "published": rfc3339(h.published, h.published_time_known, _zone(request)),
                    "story_id": h.story_id,
                    "snippet": h.snippet,
                    "spans": [list(s) for s in h.spans],
                    "title_spans": [list(s) for s in h.title_spans],
                    "score": round(h.score, 4),
                }
                for h in results.hits
            ],
            "total": results.total,
            "total_is_lower_bound": results.capped,
            "next_cursor": results.next_cursor,
        },
    )


def _entity_json(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "kind": e.kind,
        "aliases": list(e.aliases),
        "mentions": e.mentions,
        "stories": e.stories,
        "first_seen": e.first_seen,
        "last_seen": e.last_seen,
    }


@router.get("/entities", responses=NOT_MODIFIED)
def entity_list(
    request: Request,
    store: StoreDep,
    story: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    kind: Literal["PER", "ORG", "LOC"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Cursor = None,
) -> Response:
    """People, organisations and places, most mentioned first."""
    offset = page_offset(cursor)
    found = store.entities(story_id=story, kind=kind, limit=offset + limit + 1)
    page = found[offset : offset + limit]
    more = len(found) > offset + limit
    return _tagged(
        request,
        {
            "items": [_entity_json(e) for e in page],
            "total": None,
            "next_cursor": page_cursor(offset + limit) if more else None,
        },
    )


@router.get("/entities/{entity_id}", responses=NOT_FOUND)
def entity(entity_id: Id, store: StoreDep) -> Any:
    """One entity: its spellings and the stories naming it, oldest first."""
    found = store.find_entities(str(entity_id), [])
    if not found:
        return problem(404, f"no entity {entity_id}")
    return {
        **_entity_json(found[0]),
        "stories": [
            {
                **_story_out(s).model_dump(mode="json"),
                "mentions": named.mentions,
                "spellings": list(named.aliases),
            }
            for s, named in store.entity_stories(entity_id)
        ],
    }
