"""The JSON API, `/api/v1`: everything the pages and the command line do, for scripts.

Stories (ranked for a watch, each with why), a story whole (explained for a watch) and its
timeline, reading state, search, entities, sources (and OPML), watches (with their
targets, schedules and alerts, a preview, digests by day, alerts and their feed,
deliveries, send now), recorded errors, API tokens. Every handler calls
`veille.operations`, as the pages and the command line do.

Lists are paged by an opaque cursor where they grow with the archive, and carry an ETag
(a client sending If-None-Match gets 304 when nothing changed). Errors are JSON
`Problem`s: `{"detail": ..., "position": ...}` for a query that cannot be read (400),
`{"detail": ..., "problems": [...]}` for input refused (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veille.config import Settings
from veille.digest import Period, why
from veille.digest.render import brief_json, to_json
from veille.model import EntityRecord, Source, Story, Watch
from veille.operations import (
    Conflict,
    Invalid,
    OperationError,
    SignInNeeded,
    accounts,
    alerts,
    archive,
    following,
    reading,
)
from veille.operations import digests as digest_ops
from veille.operations.archive import Moved
from veille.search import CURSOR_PATTERN, Filters, SearchUnavailable, page_cursor, page_offset
from veille.store import AlertRecord, Store
from veille.store.reading import ReadState
from veille.urls import web_link
from veille.watch import QueryError
from veille.web.auth import credential, reader
from veille.when import local, rfc3339, today

DESCRIPTION = """Everything veille's pages and command line do, for scripts.

Beyond loopback every call needs a user: a session cookie from `/login`, or an API token
(`veille user token NAME --scope read|write`) as `Authorization: Bearer <token>`. A `read`
token may only read; changing sources, watches or reading state needs `write`.
"""
TAGS = [
    {"name": "stories", "description": "Stories of a day, a story whole, its timeline, why"},
    {"name": "reading", "description": "What the reader has seen and starred"},
    {"name": "search", "description": "Full-text search in the watch language"},
    {"name": "entities", "description": "People, organisations and places"},
    {"name": "sources", "description": "Feeds and sitemaps followed, OPML in and out"},
    {"name": "watches", "description": "Watches, their digests, alerts and deliveries"},
    {"name": "errors", "description": "Recorded failures"},
    {"name": "account", "description": "Who is asking, and their API tokens"},
]

router = APIRouter(prefix="/api/v1")


class Problem(BaseModel):
    """An error: what went wrong, in words; for a query, the offset of the fault; for
    input refused, each fault."""

    detail: str
    position: int | None = None
    problems: list[str] | None = None


# Identifiers are SQL INTEGER columns, 32 bits on PostgreSQL: larger numbers name nothing
# (and the database refuses to compare them).
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_MODIFIED = {304: {"description": "Unchanged since the ETag sent in If-None-Match"}}
NOT_FOUND = {404: {"model": Problem, "description": "No such thing"}}
BAD_QUERY = {400: {"model": Problem, "description": "A query that cannot be read"}}
REFUSED = {422: {"model": Problem, "description": "Input refused, each fault said"}}
NO_SEARCH = {501: {"model": Problem, "description": "No search on this database"}}
NO_USER = {401: {"model": Problem, "description": "No user: sign in or give a token"}}
Cursor = Annotated[
    str | None, Query(pattern=CURSOR_PATTERN, description="next_cursor of the previous page")
]
Day = Annotated[date, Path(description="YYYY-MM-DD")]


def problem(status: int, detail: str, **more: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, "position": None, **more}, status_code=status)


def answer_refusals(app: FastAPI) -> None:
    """Refusals raised by the operations become this API's problems: handlers call the
    operations and let them raise."""
    app.add_exception_handler(OperationError, operation_problem)
    app.add_exception_handler(QueryError, lambda _request, error: query_problem(error))
    app.add_exception_handler(SearchUnavailable, lambda _request, error: search_problem(error))


def operation_problem(request: Request, error: OperationError) -> Response:
    """An operation's refusal as this API says it."""
    if isinstance(error, Moved):
        return RedirectResponse(_moved(request, error.story_id), status_code=301)
    if isinstance(error, Invalid):
        return problem(error.status, error.reason, problems=error.problems)
    return problem(error.status, error.reason)


def _moved(request: Request, story_id: int) -> str:
    """What was asked (a story, its timeline...) of the story `story_id`, same query."""
    route = request.scope["route"]
    path = route.url_path_for(route.name, **{**request.path_params, "story_id": story_id})
    return f"{path}?{request.url.query}" if request.url.query else path


def query_problem(error: QueryError) -> Response:
    return problem(400, str(error), position=error.position)


def search_problem(error: SearchUnavailable) -> Response:
    return problem(501, str(error))


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ReaderDep = Annotated[str, Depends(reader)]


# -- shapes ---------------------------------------------------------------------------------


class WordCount(BaseModel):
    word: str = Field(description="As the articles write it")
    count: int


class TermFound(BaseModel):
    term: str = Field(description="As written in the query")
    field: Literal["title", "text", "site", "lang", "entity"] | None
    words: list[WordCount] = Field(
        description="The words found for it, most frequent first (site:, lang:, entity: "
        "what was matched)"
    )
    headlines: int = Field(description="Articles whose headline has it")
    texts: int = Field(description="Articles whose text has it")


class ExcerptOut(BaseModel):
    article_id: int
    site: str
    text: str
    spans: list[list[int]] = Field(description="[start, end) of each word found")


class Signal(BaseModel):
    signal: Literal["relevance", "sources", "recency", "growth"]
    value: float = Field(
        description="As measured: BM25; independent sources; hours since the last article "
        "(-1: unknown); sources added since last sent"
    )
    scaled: float = Field(description="In [0, 1]")
    weight: float
    contribution: float = Field(description="weight x scaled: the contributions add up")


class Explanation(BaseModel):
    """Why a story matches a watch and ranks where it does."""

    score: float
    relevance: float = Field(description="BM25 over the best the query could give, 0 to 1")
    floor: float = Field(description="The watch's relevance floor")
    weak: bool = Field(description="Relevance under the floor: shown last, never alerted")
    articles: int = Field(description="The articles searched")
    terms: list[TermFound]
    missing: list[str] = Field(description="The query's terms not found")
    title_spans: list[list[int]] = Field(description="Words found in the story's title")
    excerpts: list[ExcerptOut]
    rank: list[Signal]


class StoryOut(BaseModel):
    id: int
    title: str
    first_seen: datetime | None
    last_seen: datetime | None
    articles: int
    sources: int
    score: float | None = None  # for a watch: its ranking score
    matched: int | None = None  # for a search: its articles the query finds
    seen: bool = False  # by the reader asking
    starred: bool = False
    explanation: Explanation | None = None  # for a watch: why it is there


class Page(BaseModel):
    items: list[Any]
    total: int | None
    next_cursor: str | None


class StoriesPage(Page):
    items: list[StoryOut]


class StoryList(BaseModel):
    items: list[StoryOut]


class Ref(BaseModel):
    site: str | None
    url: str | None = Field(description="An http(s) address; null when it is no web link")


class SummarySentence(BaseModel):
    text: str
    sources: list[Ref]


class Fact(BaseModel):
    text: str
    kinds: list[str]
    independent_sources: int
    sources: list[Ref]


class Value(BaseModel):
    value: str
    sources: list[Ref]


class Disagreement(BaseModel):
    about: str
    slot: str
    word: str | None
    values: list[Value]
    notes: list[str]


class Quote(BaseModel):
    text: str = Field(description="The quotation, whole")
    speaker: str = Field(description="Who said it, as the sources name them")
    entity: str | None = Field(description="The story's entity the speaker is, if found")
    sources: list[Ref]


class NamedEntity(BaseModel):
    id: int
    name: str
    kind: str
    aliases: list[str]
    mentions: int


class ArticleOut(BaseModel):
    id: int
    title: str
    url: str | None = Field(description="An http(s) address; null when it is no web link")
    site: str | None
    published: str | None = Field(
        description="RFC 3339: a date-time with the local offset, or a full-date when the "
        "page gave only the day"
    )
    language: str | None
    copy_of: int | None = Field(description="The original this article reprints")


class Related(BaseModel):
    id: int
    title: str
    score: float


class Grouped(BaseModel):
    """Why an article is in its story."""

    article_id: int
    site: str
    copy_of: int | None = Field(description="The original article it reprints")
    copy_site: str | None
    copy_similarity: float | None
    shared_names: list[str] = Field(description="Named by other articles of the story too")
    shared_facts: list[str] = Field(description="Key facts it states with another source")
    facts: int
    similarity: float | None = Field(description="Cosine with the rest of the story")


class StoryDetail(StoryOut):
    summary: list[SummarySentence]
    facts: list[Fact]
    disagreements: list[Disagreement]
    quotes: list[Quote] = Field(description="Who said what, with the outlets carrying it")
    entities: list[NamedEntity]
    articles: list[ArticleOut]  # type: ignore[assignment]
    related: list[Related]
    understood: bool
    grouping: list[Grouped]


class Reprint(BaseModel):
    article_id: int
    site: str
    url: str | None


class TimelineEntry(BaseModel):
    article_id: int
    published: str | None = Field(
        description="RFC 3339: a date-time with the local offset, or a full-date when the "
        "page gave only the day"
    )
    site: str
    title: str
    url: str | None
    language: str | None
    copies: list[Reprint]


class TimelineBin(BaseModel):
    start: datetime = Field(
        description="With the local offset: steps are hours and days where `[digest] timezone` is"
    )
    articles: int
    sources: int = Field(description="Independent sources first seen in the story then")


class CrossingOut(BaseModel):
    kind: Literal["new", "breaking"]
    at: datetime
    details: dict[str, float | int | str]


class AlertOut(BaseModel):
    story_id: int
    kind: Literal["instant", "breaking"]
    crossed_at: datetime
    status: Literal["due", "sent", "expired"]
    sent_at: datetime | None
    details: dict[str, float | int | str]
    title: str | None = Field(description="The story's title when the alert was sent")


class Timeline(BaseModel):
    story_id: int
    items: list[TimelineEntry]
    step_minutes: int = Field(description="60, or a day for a story over three days")
    bins: list[TimelineBin]
    crossings: list[CrossingOut] = Field(
        description="When the story appeared and when its sources surged (alert thresholds)"
    )
    alerts: list[AlertOut] = Field(description="With `watch`: its alerts on this story")


class ReadStateOut(BaseModel):
    story_id: int
    seen: bool
    starred: bool


class ReadStates(BaseModel):
    items: list[ReadStateOut]


class ReadingIn(BaseModel):
    """What to set; what is left out (or null) is kept."""

    seen: bool | None = None
    starred: bool | None = None


class ReadingBatch(ReadingIn):
    story_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=500)


class HitOut(BaseModel):
    article_id: int
    title: str
    url: str | None
    site: str | None
    published: str | None = Field(
        description="RFC 3339: a date-time with the local offset, or a full-date when the "
        "page gave only the day"
    )
    story_id: int | None
    snippet: str
    spans: list[list[int]]
    title_spans: list[list[int]]
    score: float


class SearchPage(BaseModel):
    items: list[HitOut]
    total: int
    total_is_lower_bound: bool
    next_cursor: str | None


class EntityOut(BaseModel):
    id: int
    name: str
    kind: str
    aliases: list[str]
    mentions: int
    stories: int
    first_seen: datetime | None
    last_seen: datetime | None


class EntitiesPage(Page):
    items: list[EntityOut]


class EntityStory(StoryOut):
    mentions: int  # the entity's, in this story
    spellings: list[str]


class DayCount(BaseModel):
    day: date
    mentions: int


class Together(BaseModel):
    id: int
    name: str
    kind: str
    stories: int  # named in the same stories this often


class EntityDetail(EntityOut):
    stories: list[EntityStory]  # type: ignore[assignment]
    per_day: list[DayCount]
    together: list[Together]


class SourceOut(BaseModel):
    id: int
    name: str
    kind: str
    location: str
    every_seconds: int | None
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_status: int | None
    failures: int
    items_seen: int


class SourceList(BaseModel):
    items: list[SourceOut]


class SourceIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="An http(s) URL")
    name: str | None = Field(None, max_length=500)
    every: str = Field("15m", description="Shortest interval between two polls: 15m, 2h, 1d")
    kind: Literal["feed", "sitemap"] | None = Field(
        None, description="Without it, the URL is read: a page gives the feeds it announces"
    )


class SourceAdded(SourceOut):
    created: bool
    alternatives: list[str]


class Imported(BaseModel):
    added: int
    known: int


class WatchFields(BaseModel):
    query: str = Field(min_length=1, description="A query in the watch language")
    languages: list[str] = Field(default_factory=list, description="Empty: any")
    sites: list[str] = Field(default_factory=list, description="Empty: any")
    schedule: str | None = Field(None, description="daily 07:00, hourly, every 6h; null: none")
    targets: list[str] = Field(
        default_factory=list,
        description="file:FOLDER, mailto:ADDRESS, webhook:URL, slack:URL, mattermost:URL",
    )
    alerts: list[Literal["instant", "breaking"]] = Field(
        default_factory=list,
        description="instant: a new story matches; breaking: a matching story's sources surge",
    )
    quiet_hours: str | None = Field(
        None, max_length=20, description="Local time, e.g. 22:00-07:00: alerts wait"
    )
    max_alerts: int | None = Field(
        None, ge=0, le=10_000, description="Alerts per hour at most (0: no cap; null: config)"
    )
    relevance_floor: float | None = Field(
        None, ge=0, le=1, description="Weaker matches are weak (null: the config's)"
    )


class WatchIn(WatchFields):
    name: str = Field(min_length=1, max_length=200)


class WatchOut(WatchIn):
    id: int


class WatchList(BaseModel):
    items: list[WatchOut]


class DeliveryOut(BaseModel):
    digest_key: str
    target: str
    status: str
    attempts: int
    error: str | None
    updated_at: datetime


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


class SendIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    day: date | None = Field(
        None, alias="date", description="The day of the digest (default: today, UTC)"
    )
    lang: Literal["fr", "en"] | None = None


class OutcomeOut(BaseModel):
    target: str
    status: Literal["sent", "failed", "skipped"]
    attempts: int
    error: str | None


class Outcomes(BaseModel):
    items: list[OutcomeOut]


class PreviewEntry(BaseModel):
    story_id: int
    title: str
    score: float
    sources: int
    matched: list[str]
    explanation: Explanation


class AlertList(BaseModel):
    items: list[AlertOut]


class Preview(BaseModel):
    start: datetime
    end: datetime
    items: list[PreviewEntry]


class LogEntryOut(BaseModel):
    source: str
    ref: str
    stage: str
    level: str
    reason: str
    count: int
    last_seen: datetime


class LogList(BaseModel):
    items: list[LogEntryOut]


class Me(BaseModel):
    user: str | None = Field(description="null on loopback, where nobody signs in")
    scope: Literal["read", "write"]


class TokenOut(BaseModel):
    id: int
    name: str
    scope: Literal["read", "write"]
    created_at: datetime
    last_used_at: datetime | None


class TokenList(BaseModel):
    items: list[TokenOut]


class TokenIn(BaseModel):
    name: str = Field("token", min_length=1, max_length=200)
    scope: Literal["read", "write"] = "read"


class TokenCreated(TokenOut):
    secret: str = Field(description="The token itself, shown this once")


# -- helpers --------------------------------------------------------------------------------


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


def _story_out(
    story: Story,
    state: ReadState | None = None,
    score: float | None = None,
    matched: int | None = None,
    explanation: dict | None = None,
) -> StoryOut:
    return StoryOut(
        id=story.id,
        title=story.title,
        first_seen=_aware(story.first_seen),
        last_seen=_aware(story.last_seen),
        articles=story.article_count,
        sources=story.source_count,
        score=score,
        matched=matched,
        seen=state.seen if state else False,
        starred=state.starred if state else False,
        explanation=explanation,
    )


def _stories_out(
    store: Store,
    who: str,
    found: list[tuple[Story, float | None, int | None]],
    explained: dict[int, dict] | None = None,
):
    states = reading.read_states(store, who, [s.id for s, _, _ in found])
    explained = explained or {}
    return [
        _story_out(s, states.get(s.id), score, matched, explained.get(s.id))
        for s, score, matched in found
    ]


def _paged(items: list[Any], cursor: str | None, limit: int, total: bool = True) -> dict:
    offset = page_offset(cursor)
    page = items[offset : offset + limit]
    more = offset + len(page) < len(items)
    return {
        "items": page,
        "total": len(items) if total else None,
        "next_cursor": page_cursor(offset + limit) if more else None,
    }


# -- stories --------------------------------------------------------------------------------


def _story_route(
    path: str, model: type[BaseModel]
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A GET of one story: 404 when there is no such story, 301 to the same resource of the
    story it was merged into (see operation_problem)."""
    merged = {301: {"description": "Merged into another story: the same resource of it"}}
    return router.get(path, response_model=model, responses=NOT_FOUND | merged, tags=["stories"])


@router.get(
    "/stories",
    response_model=StoriesPage,
    responses=NOT_MODIFIED | NOT_FOUND,
    tags=["stories"],
)
def stories(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    who: ReaderDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    watch: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Response:
    """Stories of a day (all of them without `date`), latest first; with `watch`, those
    matching it that day (today without `date`), ranked for it."""
    found = archive.stories_of(store, settings, day, watch)
    explained = {r.story.id: why.explanation_json(r.entry.explanation) for r in found if r.entry}
    items = _stories_out(store, who, [(r.story, r.score, None) for r in found], explained)
    return _tagged(request, _paged(items, cursor, limit))


@_story_route("/stories/{story_id}", StoryDetail)
def story(
    story_id: Id,
    store: StoreDep,
    settings: SettingsDep,
    who: ReaderDep,
    lang: Literal["fr", "en"] = "fr",
    watch: Annotated[str | None, Query(description="Explain the story for this watch")] = None,
) -> Any:
    """A story whole: its summary, key facts, disagreements, entities, articles with their
    copies, why each article is in it, related stories; with `watch`, why it matches that
    watch and ranks where it does over the days it spans (`explanation`, null when the
    watch does not match it). A story merged into another redirects to it."""
    view = archive.story_view(store, story_id)
    brief = view.brief
    understood = (
        brief_json(brief.summary, brief.facts, brief.disagreements, lang, brief.quotes)
        if brief
        else {}
    )
    state = reading.read_states(store, who, [view.story.id])[view.story.id]
    entry = alerts.explain_story(store, settings, view.story.id, watch) if watch else None
    explanation = why.explanation_json(entry.explanation) if entry else None
    summary = _story_out(view.story, state, explanation=explanation).model_dump(
        exclude={"articles"}
    )
    return StoryDetail(
        **summary,
        summary=understood.get("summary", []),
        facts=understood.get("facts", []),
        disagreements=understood.get("disagreements", []),
        quotes=understood.get("quotes", []),
        entities=[
            NamedEntity(
                id=e.entity_id,
                name=e.name,
                kind=e.kind,
                aliases=list(e.aliases),
                mentions=e.mentions,
            )
            for e in (brief.entities if brief else ())
        ],
        articles=[
            ArticleOut(
                id=a.id or 0,
                title=a.title,
                url=web_link(a.url),
                site=a.site_name,
                published=rfc3339(a.published, a.published_time_known, settings.timezone),
                language=a.language,
                copy_of=view.copy_of.get(a.id or 0),
            )
            for a in view.articles
        ],
        related=[
            Related(id=other.id, title=other.title, score=round(score, 4))
            for other, score in view.related
        ],
        understood=brief is not None,
        grouping=[
            why.grouped_json(g)
            for g in (
                entry.grouping if entry else alerts.story_grouping(store, settings, view.story.id)
            )
        ],
    )


@_story_route("/stories/{story_id}/timeline", Timeline)
def story_timeline(
    story_id: Id,
    store: StoreDep,
    settings: SettingsDep,
    watch: Annotated[str | None, Query(description="Against this watch's usual pace")] = None,
) -> Any:
    """The story's original articles in order of publication, each with the copies that
    reprinted it; articles and new independent sources per hour (per day past three
    days); the moments it crossed alert thresholds (and with `watch`, that watch's alerts
    on it)."""
    view = archive.story_view(store, story_id)
    counted = alerts.story_timeline(store, settings, view.story.id, watch)
    return Timeline(
        story_id=view.story.id,
        step_minutes=int(counted.step.total_seconds() // 60),
        bins=[
            TimelineBin(
                start=local(b.start, True, settings.timezone),
                articles=b.articles,
                sources=b.sources,
            )
            for b in counted.bins
        ],
        crossings=[
            CrossingOut(kind=c.kind, at=_aware(c.at), details=c.details)  # type: ignore[arg-type]
            for c in counted.crossings
        ],
        alerts=[_alert(a) for a in counted.alerts],
        items=[
            TimelineEntry(
                article_id=e.article_id,
                published=rfc3339(e.published, e.published_time_known, settings.timezone),
                site=e.site,
                title=e.title,
                url=e.url,
                language=e.language,
                copies=[Reprint(article_id=c.article_id, site=c.site, url=c.url) for c in e.copies],
            )
            for e in view.timeline
        ],
    )


# -- reading state --------------------------------------------------------------------------


def _state(state: ReadState) -> ReadStateOut:
    return ReadStateOut(story_id=state.story_id, seen=state.seen, starred=state.starred)


@router.get(
    "/stories/{story_id}/reading",
    response_model=ReadStateOut,
    responses=NOT_FOUND,
    tags=["reading"],
)
def reading_state(story_id: Id, store: StoreDep, who: ReaderDep) -> Any:
    """Whether the reader has seen the story, and starred it."""
    if store.story(story_id) is None:
        return problem(404, f"no story {story_id}")
    return _state(reading.read_states(store, who, [story_id])[story_id])


@router.put(
    "/stories/{story_id}/reading",
    response_model=ReadStateOut,
    responses=NOT_FOUND,
    tags=["reading"],
)
def set_reading_state(story_id: Id, change: ReadingIn, store: StoreDep, who: ReaderDep) -> Any:
    """Mark the story seen or unseen, starred or not (what is left out is kept)."""
    states = reading.mark(store, who, [story_id], change.seen, change.starred)
    return _state(states[story_id])


@router.post("/reading", response_model=ReadStates, responses=NOT_FOUND, tags=["reading"])
def set_reading_states(change: ReadingBatch, store: StoreDep, who: ReaderDep) -> Any:
    """Mark several stories at once (a day read through, say)."""
    states = reading.mark(store, who, change.story_ids, change.seen, change.starred)
    return ReadStates(items=[_state(s) for s in states.values()])


@router.get("/reading/starred", response_model=StoryList, tags=["reading"])
def starred(store: StoreDep, who: ReaderDep) -> Any:
    """The reader's starred stories, the latest starred first."""
    found = reading.starred_stories(store, who)
    return StoryList(items=_stories_out(store, who, [(s, None, None) for s in found]))


# -- search ---------------------------------------------------------------------------------


def search_terms(
    q: Annotated[str, Query(min_length=1, description="A query in the watch language")],
    settings: SettingsDep,
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    site: str | None = None,
    lang: str | None = None,
    entity: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    watch: Annotated[str | None, Query(description="Within this watch's query")] = None,
) -> tuple[str, Filters, str | None]:
    """A search's query, filters and watch, the same for articles and stories; days are
    local days (`[digest] timezone`)."""
    filters = Filters(
        start=since,
        end=until,
        site=site,
        language=lang,
        entity_id=entity,
        zone=settings.timezone,
    )
    return q, filters, watch


SearchTerms = Annotated[tuple[str, Filters, str | None], Depends(search_terms)]


@router.get(
    "/search/stories",
    response_model=StoryList,
    responses=NOT_MODIFIED | BAD_QUERY | NOT_FOUND | NO_SEARCH,
    tags=["search"],
)
def search_stories(
    request: Request,
    store: StoreDep,
    who: ReaderDep,
    terms: SearchTerms,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Response:
    """The stories most of whose articles a query finds, most found first."""
    query, filters, watch = terms
    found = archive.search_archive(store, query, filters, watch=watch, limit=0, stories=limit)
    rows = [(h.story, None, h.matched) for h in found.stories]
    return _tagged(request, {"items": _stories_out(store, who, rows)})


@router.get(
    "/search",
    response_model=SearchPage,
    responses=NOT_MODIFIED | BAD_QUERY | NOT_FOUND | NO_SEARCH,
    tags=["search"],
)
def search_articles(
    request: Request,
    store: StoreDep,
    terms: SearchTerms,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Response:
    """Articles matching a query in the watch language, best first, with snippets."""
    query, filters, watch = terms
    results = archive.search_archive(store, query, filters, watch=watch, limit=limit, cursor=cursor)
    return _tagged(
        request,
        {
            "items": [
                {
                    "article_id": h.article_id,
                    "title": h.title,
                    "url": h.url,
                    "site": h.site,
                    "published": rfc3339(h.published, h.published_time_known, settings.timezone),
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


# -- entities -------------------------------------------------------------------------------


def _entity(e: EntityRecord) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "kind": e.kind,
        "aliases": list(e.aliases),
        "mentions": e.mentions,
        "stories": e.stories,
        "first_seen": _aware(e.first_seen),
        "last_seen": _aware(e.last_seen),
    }


@router.get("/entities", response_model=EntitiesPage, responses=NOT_MODIFIED, tags=["entities"])
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
    found = archive.list_entities(store, story, kind, offset + limit + 1)
    page = _paged([_entity(e) for e in found], cursor, limit, total=False)
    return _tagged(request, page)


@router.get(
    "/entities/{entity_id}", response_model=EntityDetail, responses=NOT_FOUND, tags=["entities"]
)
def entity(entity_id: Id, store: StoreDep, who: ReaderDep, settings: SettingsDep) -> Any:
    """One entity: its spellings, the stories naming it (oldest first), its mentions by
    (local) day, the entities named with it most often."""
    view = archive.entity_view(store, entity_id, settings.timezone)
    states = reading.read_states(store, who, [s.id for s, _ in view.stories])
    return EntityDetail(
        **{
            **_entity(view.entity),
            "stories": [
                EntityStory(
                    **_story_out(s, states.get(s.id)).model_dump(),
                    mentions=named.mentions,
                    spellings=list(named.aliases),
                )
                for s, named in view.stories
            ],
            "per_day": [DayCount(day=d, mentions=n) for d, n in view.per_day],
            "together": [
                Together(id=e.id, name=e.name, kind=e.kind, stories=n) for e, n in view.together
            ],
        }
    )


# -- sources --------------------------------------------------------------------------------


def _source(source: Source) -> SourceOut:
    return SourceOut(
        id=source.id or 0,
        name=source.name,
        kind=source.kind,
        location=source.location,
        every_seconds=source.every_seconds,
        next_poll_at=_aware(source.next_poll_at),
        last_polled_at=_aware(source.last_polled_at),
        last_success_at=_aware(source.last_success_at),
        last_error=source.last_error,
        last_status=source.last_status,
        failures=source.failures,
        items_seen=source.items_seen,
    )


@router.get("/sources", response_model=SourceList, tags=["sources"])
def sources(store: StoreDep) -> Any:
    """The sources followed and their health, failing first."""
    return SourceList(items=[_source(s) for s in following.list_sources(store)])


OPML = {
    200: {
        "content": {"text/x-opml": {"schema": {"type": "string"}}},
        "description": "The feeds followed on the web, as OPML",
    }
}


@router.get("/sources/opml", response_class=Response, responses=OPML, tags=["sources"])
def opml_export(store: StoreDep) -> Response:
    """The feeds followed, as an OPML file."""
    return Response(following.export_opml(store), media_type="text/x-opml; charset=utf-8")


@router.post(
    "/sources/opml",
    response_model=Imported,
    responses=REFUSED,
    tags=["sources"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/x-opml": {"schema": {"type": "string"}},
                "application/xml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def opml_import(request: Request, store: StoreDep) -> Any:
    """Follow the feeds of an OPML file sent as the body."""
    data = await request.body()
    done = await run_in_threadpool(following.import_opml, store, data)
    return Imported(added=done.added, known=done.known)


@router.get("/sources/{source_id}", response_model=SourceOut, responses=NOT_FOUND, tags=["sources"])
def source(source_id: Id, store: StoreDep) -> Any:
    return _source(following.get_source(store, source_id))


@router.post(
    "/sources",
    response_model=SourceAdded,
    status_code=201,
    responses=REFUSED | {200: {"model": SourceAdded, "description": "Already followed"}},
    tags=["sources"],
)
def source_add(added: SourceIn, store: StoreDep, settings: SettingsDep) -> Any:
    """Follow a feed or a sitemap (with `kind`), or what a page announces (without)."""
    done = following.add_source(
        store, settings, added.url, name=added.name, every=added.every, kind=added.kind
    )
    body = SourceAdded(
        **_source(done.source).model_dump(),
        created=done.created,
        alternatives=list(done.alternatives),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if done.created else 200)


@router.delete("/sources/{source_id}", status_code=204, responses=NOT_FOUND, tags=["sources"])
def source_remove(source_id: Id, store: StoreDep) -> Response:
    """Stop following a source."""
    following.remove_source(store, source_id)
    return Response(status_code=204)


# -- watches --------------------------------------------------------------------------------


def _watch(watch: Watch) -> WatchOut:
    return WatchOut(
        id=watch.id or 0,
        name=watch.name,
        query=watch.query,
        languages=list(watch.languages),
        sites=list(watch.sites),
        schedule=watch.schedule,
        targets=list(watch.targets),
        alerts=list(watch.alerts),  # type: ignore[arg-type]
        quiet_hours=watch.quiet_hours,
        max_alerts=watch.max_alerts,
        relevance_floor=watch.relevance_floor,
    )


def _made(name: str, fields: WatchFields) -> Watch:
    return following.make_watch(
        name,
        fields.query,
        fields.languages,
        fields.sites,
        fields.schedule,
        fields.targets,
        fields.alerts,
        fields.quiet_hours,
        fields.max_alerts,
        fields.relevance_floor,
    )


def _alert(record: AlertRecord) -> AlertOut:
    return AlertOut(
        story_id=record.story_id,
        kind=record.kind,  # type: ignore[arg-type]
        crossed_at=_aware(record.crossed_at),
        status=record.status,  # type: ignore[arg-type]
        sent_at=_aware(record.sent_at),
        details=record.details,
        title=(record.document or {}).get("entry", {}).get("title"),
    )


@router.get("/watches", response_model=WatchList, tags=["watches"])
def watches(store: StoreDep) -> Any:
    return WatchList(items=[_watch(w) for w in following.list_watches(store)])


@router.get("/preview", response_model=Preview, responses=BAD_QUERY | NOT_FOUND, tags=["watches"])
def preview(
    store: StoreDep,
    settings: SettingsDep,
    query: Annotated[str, Query(min_length=1, description="A query in the watch language")],
    end: Annotated[date | None, Query(alias="date", description="The last day covered")] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Any:
    """What a query would find as a watch, over `days` days up to `date` (the archive's
    last week when it stops before), best first; nothing is saved or sent."""
    digest = following.try_watch(store, settings, query, end, days, limit)
    return Preview(
        start=_aware(digest.start),
        end=_aware(digest.end),
        items=[
            PreviewEntry(
                story_id=e.story_id,
                title=e.title,
                score=e.score,
                sources=len(e.sources),
                matched=list(e.matched),
                explanation=why.explanation_json(e.explanation),
            )
            for e in digest.entries
        ],
    )


WATCH_REFUSED = REFUSED | {409: {"model": Problem, "description": "A watch of that name exists"}}


@router.post(
    "/watches", response_model=WatchOut, status_code=201, responses=WATCH_REFUSED, tags=["watches"]
)
def watch_add(added: WatchIn, store: StoreDep, settings: SettingsDep) -> Any:
    """A new watch; its query, schedule and targets are checked (a target the delivery
    guard refuses, such as a webhook on a private address, is refused here)."""
    watch = _made(added.name, added)
    try:
        saved, _ = following.save_watch(store, settings, watch, replace=False)
    except Conflict:
        return problem(409, f"a watch named {watch.name!r} exists: PUT /watches/{{id}}")
    return JSONResponse(_watch(saved).model_dump(mode="json"), status_code=201)


@router.get("/watches/{watch_id}", response_model=WatchOut, responses=NOT_FOUND, tags=["watches"])
def watch(watch_id: Id, store: StoreDep) -> Any:
    return _watch(following.get_watch(store, watch_id))


@router.put(
    "/watches/{watch_id}",
    response_model=WatchOut,
    responses=NOT_FOUND | REFUSED,
    tags=["watches"],
)
def watch_replace(watch_id: Id, fields: WatchFields, store: StoreDep, settings: SettingsDep) -> Any:
    """Replace the watch's query, filters, schedule and targets (its name stays)."""
    found = following.get_watch(store, watch_id)
    saved, _ = following.save_watch(store, settings, _made(found.name, fields))
    return _watch(saved)


@router.delete("/watches/{watch_id}", status_code=204, responses=NOT_FOUND, tags=["watches"])
def watch_remove(watch_id: Id, store: StoreDep) -> Response:
    following.remove_watch(store, watch_id)
    return Response(status_code=204)


@router.get(
    "/watches/{watch_id}/deliveries",
    response_model=DeliveryList,
    responses=NOT_FOUND,
    tags=["watches"],
)
def watch_deliveries(
    watch_id: Id, store: StoreDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> Any:
    """The watch's last deliveries, latest first: which digest, where, and how it went."""
    sent = following.deliveries(store, following.get_watch(store, watch_id), limit)
    return DeliveryList(
        items=[
            DeliveryOut(
                digest_key=d.digest_key,
                target=d.target,
                status=d.status,
                attempts=d.attempts,
                error=d.error,
                updated_at=_aware(d.updated_at),
            )
            for d in sent
        ]
    )


@router.get(
    "/watches/{watch_id}/alerts",
    response_model=AlertList,
    responses=NOT_FOUND,
    tags=["watches"],
)
def watch_alerts(
    watch_id: Id, store: StoreDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> Any:
    """The watch's alerts, the latest crossed first: which story, which threshold, the
    counts that made it cross, and whether it was sent (or held past its time)."""
    found = alerts.watch_alerts(store, following.get_watch(store, watch_id), limit)
    return AlertList(items=[_alert(a) for a in found])


ALERTS_FEED = {
    200: {
        "content": {"application/atom+xml": {"schema": {"type": "string"}}},
        "description": "The watch's alerts as sent, as an Atom feed",
    }
}


@router.get(
    "/watches/{watch_id}/alerts/feed",
    response_class=Response,
    responses=ALERTS_FEED | NOT_FOUND,
    tags=["watches"],
)
def watch_alerts_feed(watch_id: Id, store: StoreDep, lang: Literal["fr", "en"] = "fr") -> Response:
    """The watch's alerts as sent, latest first, as an Atom feed (for a feed reader)."""
    text = alerts.alerts_feed(store, following.get_watch(store, watch_id), lang)
    return Response(text, media_type="application/atom+xml; charset=utf-8")


DigestFormat = Literal["json", "md", "html", "text", "atom", "slack"]
DIGEST_FORMATS = {
    "json": "application/json",
    "md": "text/markdown",
    "html": "text/html",
    "text": "text/plain",
    "atom": "application/atom+xml",
    "slack": "text/plain",
}
DIGEST_CONTENT = {
    200: {
        "description": "The digest: JSON as docs/digest.schema.json, or rendered",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            **{
                kind: {"schema": {"type": "string"}}
                for kind in dict.fromkeys(DIGEST_FORMATS.values())
                if kind != "application/json"
            },
        },
    }
}


@router.get(
    "/watches/{watch_id}/digests/{day}",
    response_class=Response,
    responses=DIGEST_CONTENT | NOT_FOUND,
    tags=["watches"],
)
def watch_digest(
    watch_id: Id,
    day: Day,
    store: StoreDep,
    settings: SettingsDep,
    fmt: Annotated[
        Literal["json", "md", "html", "text", "atom", "slack"], Query(alias="format")
    ] = ("json"),
    lang: Literal["fr", "en"] = "fr",
) -> Response:
    """The watch's digest for a day, as it would be sent (stories already sent to its
    targets come back only when they grew)."""
    found = following.get_watch(store, watch_id)
    digest = digest_ops.digest_of_day(store, settings, found, day)
    if fmt == "json":
        return JSONResponse(to_json(digest, lang))
    text = digest_ops.render_digest(digest, fmt, lang)
    return Response(text, media_type=f"{DIGEST_FORMATS[fmt]}; charset=utf-8")


@router.post(
    "/watches/{watch_id}/send",
    response_model=Outcomes,
    responses=NOT_FOUND | REFUSED,
    tags=["watches"],
)
async def watch_send(
    watch_id: Id,
    store: StoreDep,
    settings: SettingsDep,
    send: Annotated[SendIn | None, Body()] = None,
) -> Any:
    """Send the watch's digest of a day to its targets now (once per day and target:
    one already sent is skipped). The delivery runs in a worker thread, so a slow target
    holds this request only."""
    send = send or SendIn()

    def deliver() -> Any:
        watch = following.get_watch(store, watch_id)
        period = Period.day(send.day or today(settings.timezone), settings.timezone)
        return digest_ops.send_digest(store, settings, watch, period, send.lang)

    outcomes = await run_in_threadpool(deliver)
    return Outcomes(
        items=[
            OutcomeOut(target=o.target, status=o.status, attempts=o.attempts, error=o.error)  # type: ignore[arg-type]
            for o in outcomes
        ]
    )


# -- errors ---------------------------------------------------------------------------------


@router.get("/errors", response_model=LogList, tags=["errors"])
def errors(
    store: StoreDep,
    everything: Annotated[bool, Query(alias="all", description="Refused inputs too")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """Recorded failures (stage, input, reason, how often), newest first."""
    return LogList(
        items=[
            LogEntryOut(
                source=e.source,
                ref=e.ref,
                stage=e.stage,
                level=e.level,
                reason=e.reason,
                count=e.count,
                last_seen=_aware(e.last_seen),
            )
            for e in archive.recorded_errors(store, everything, limit)
        ]
    )


# -- account --------------------------------------------------------------------------------


@router.get("/me", response_model=Me, tags=["account"])
def me(request: Request) -> Any:
    """Who the API takes the caller for, and what they may do."""
    found = credential(request)
    return Me(user=found.user if found else None, scope=found.scope if found else "write")


def _user(request: Request) -> str:
    found = credential(request)
    if found is None:
        raise SignInNeeded("sign in (or give a token) to manage API tokens")
    return found.user


def _token(token: Any) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        scope=token.scope,
        created_at=_aware(token.created_at),
        last_used_at=_aware(token.last_used_at),
    )


@router.get("/tokens", response_model=TokenList, responses=NO_USER, tags=["account"])
def tokens(request: Request, store: StoreDep) -> Any:
    """The caller's API tokens (never their secrets)."""
    return TokenList(items=[_token(t) for t in accounts.list_tokens(store, _user(request))])


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    responses=NO_USER | {403: {"model": Problem, "description": "Beyond the caller's scope"}},
    tags=["account"],
)
def token_add(request: Request, added: TokenIn, store: StoreDep) -> Any:
    """A new API token for the caller; its secret is in this answer only."""
    token, secret = accounts.add_token(
        store, _user(request), added.name, added.scope, credential(request)
    )
    body = TokenCreated(**_token(token).model_dump(), secret=secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=201)


@router.delete(
    "/tokens/{token_id}", status_code=204, responses=NO_USER | NOT_FOUND, tags=["account"]
)
def token_remove(request: Request, token_id: Id, store: StoreDep) -> Response:
    """Revoke one of the caller's tokens."""
    accounts.remove_token(store, _user(request), token_id)
    return Response(status_code=204)
