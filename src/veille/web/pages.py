"""The HTML pages: today's stories (ranked for a watch), a story, search, entities.

Server-rendered Jinja2, French by default, English by `?lang=en` (kept in a cookie) or the
browser's Accept-Language. Everything from articles is untrusted: templates autoescape it,
and the app sends a strict Content-Security-Policy (see `veille.web`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from veille.config import Settings
from veille.enrich.conflicts import WeekdayNote
from veille.enrich.conflicts import about as about_slot
from veille.i18n import install, long_date, translate
from veille.model import BriefDisagreement, BriefNote, BriefSentence, SourceRef, Story
from veille.operations import NotFound, OperationError, archive, reading
from veille.operations.archive import Moved
from veille.search import Filters, SearchUnavailable
from veille.store import Store
from veille.urls import domain, web_link
from veille.watch import QueryError
from veille.web.api import MAX_ID, Id
from veille.web.auth import reader
from veille.web.csrf import csrf_token, form, with_csrf
from veille.web.why import entry_why, marked, story_why
from veille.when import days_span, local_day, shown

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
install(templates.env)
# Links to articles go out only to the web: a stored "javascript:" or "data:" URL becomes inert.
templates.env.filters["web_url"] = lambda url: web_link(url) or "#"

LANG_COOKIE = "veille_lang"


def language(request: Request) -> str:
    """?lang= first, then the cookie it set, then Accept-Language; French by default."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in ("fr", "en"):
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("fr", "en"):
            return code
    return "fr"


def _span(first: datetime | None, last: datetime | None, lang: str, zone: str) -> str:
    return days_span(first, last, zone, lambda day: long_date(day, lang))


def _sites(refs: tuple[SourceRef, ...]) -> str:
    return ", ".join(dict.fromkeys(r.site or domain(r.url) or r.url for r in refs))


def render(request: Request, name: str, page: str, **values: Any) -> Response:
    lang = language(request)
    query = dict(request.query_params) | {"lang": "en" if lang == "fr" else "fr"}
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    context = {
        "lang": lang,
        "page": page,
        "switch_url": f"{request.url.path}?{urlencode(query)}",
        "back": here,  # where a form's answer brings the reader back
        **values,
    }
    response = templates.TemplateResponse(request, name, context)
    if request.query_params.get("lang") in ("fr", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _store(request: Request) -> Store:
    return request.app.state.store


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _reader(request: Request) -> str:
    return reader(request)


def _zone(request: Request) -> str:
    return request.app.state.settings.timezone


@router.get("/", response_class=HTMLResponse)
def today(request: Request) -> Response:
    store = _store(request)
    lang = language(request)
    params = request.query_params
    when = _parse_day(params.get("date")) or archive.latest_day(store, _zone(request))
    watch = params.get("watch") or None
    try:
        ranked = archive.stories_of(store, _settings(request), when, watch, limit=100)
    except NotFound:
        watch, ranked = None, archive.stories_of(store, _settings(request), when)
    ids = [r.story.id for r in ranked]
    who = _reader(request)
    visit = reading.visit(store, who, ids)
    states = reading.read_states(store, who, ids)
    outlets = store.story_outlets(ids)
    summaries = store.summaries(ids)
    cards = [
        _card(
            r.story,
            outlets.get(r.story.id, []),
            summaries.get(r.story.id, ""),
            when,
            lang,
            _zone(request),
        )
        | {
            "new": r.story.id in visit.new,
            "state": states[r.story.id],
            "why": entry_why(r.entry, lang) if r.entry else None,
        }
        for r in ranked
    ]
    return with_csrf(
        request,
        render(
            request,
            "today.html",
            "/",
            day=when,
            day_label=long_date(when, lang),
            stories=cards,
            watches=store.watches(),
            watch=watch or "",
            new_count=len(visit.new),
            previous_visit=visit.previous,
            csrf=csrf_token(request),
        ),
    )


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _card(
    story: Story,
    outlets: list[tuple[str | None, str, datetime | None, bool]],
    summary: str,
    day: date,
    lang: str,
    zone: str,
) -> dict[str, Any]:
    """A story on a page of stories: its outlets (site, URL, time of each article) and the
    first sentences of its summary, read for all the page's stories at once. `day` is a
    local day (where `zone` is)."""
    sites = list(dict.fromkeys(site or domain(url) or "" for site, url, _, _ in outlets))
    days = [
        (site, local_day(when, known, zone) if when else None) for site, _, when, known in outlets
    ]
    before = {site for site, seen in days if (seen or day) < day}
    today_sites = {site for site, seen in days if seen == day}
    return {
        "id": story.id,
        "title": story.title,
        "span": _span(story.first_seen, story.last_seen, lang, zone),
        "sources": story.source_count,
        "sites": sites[:6] + (["…"] if len(sites) > 6 else []),
        # Outlets that joined the story on this day, when it had begun before.
        "new_sources": len(today_sites - before) if before else 0,
        "summary": summary,
    }


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: Id) -> Response:
    store = _store(request)
    lang = language(request)
    try:
        view = archive.story_view(store, story_id)
    except Moved as moved:
        # The reader's query goes along (the watch whose match is explained, say).
        query = urlencode({**request.query_params, "lang": lang})
        return RedirectResponse(f"/stories/{moved.story_id}?{query}", status_code=301)
    except NotFound:
        raise HTTPException(404) from None
    # Opening a story is reading it.
    state = reading.mark(store, _reader(request), [story_id], seen=True)[story_id]
    explained = story_why(
        store, _settings(request), view.story.id, request.query_params.get("watch"), lang
    )
    timeline = [
        {
            "when": shown(entry.published, entry.published_time_known, _zone(request)),
            "site": entry.site,
            "title": entry.title,
            "url": entry.url,
            "copies": [
                {"site": c.site, "url": c.url, "why": explained["grouped"].get(c.article_id, "")}
                for c in entry.copies
            ],
            "why": explained["grouped"].get(entry.article_id, ""),
        }
        for entry in view.timeline
    ]

    def cited(sentence: BriefSentence) -> str:
        return _sites(((sentence.source,) if sentence.source else ()) + sentence.also)

    def about(conflict: BriefDisagreement) -> str:
        return about_slot(conflict.slot, conflict.word, lang)

    def note_text(note: BriefNote) -> str:
        return WeekdayNote(note.site, note.written, note.day, note.weekday).describe(lang)

    story = view.story
    return with_csrf(
        request,
        render(
            request,
            "story.html",
            "/stories",
            story=story,
            brief=view.brief,
            state=state,
            csrf=csrf_token(request),
            span=_span(story.first_seen, story.last_seen, lang, _zone(request)),
            timeline=timeline,
            related=view.related,
            explained=explained,
            watches=store.watches(),
            cited=cited,
            sites=_sites,
            about=about,
            note_text=note_text,
        ),
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    store = _store(request)
    params = request.query_params
    q = params.get("q", "").strip()
    results, error, story_hits, status = None, None, [], 200
    since, until = _parse_day(params.get("from")), _parse_day(params.get("to"))
    watch = params.get("watch") or None
    if q or watch:
        entity = params.get("entity", "")
        filters = Filters(
            start=since,
            end=until,
            site=params.get("site") or None,
            language=params.get("language") or None,
            entity_id=int(entity) if entity.isdigit() and int(entity) <= MAX_ID else None,
            zone=_zone(request),
        )
        try:
            # The first page leads with the stories: an event has many articles.
            first = not params.get("cursor")
            results = archive.search_archive(
                store,
                q,
                filters,
                watch=watch,
                limit=20,
                cursor=params.get("cursor"),
                stories=5 * first,
            )
            story_hits = list(results.stories)
        except QueryError as problem:
            error, status = str(problem), 400
        except (SearchUnavailable, ValueError) as problem:
            error = str(problem)
        except OperationError as problem:
            error = problem.reason
    next_url = None
    if results and results.next_cursor:
        next_url = "/search?" + urlencode(dict(params) | {"cursor": results.next_cursor})
    page = with_csrf(
        request,
        render(
            request,
            "search.html",
            "/search",
            q=q,
            since=since,
            until=until,
            site=params.get("site"),
            language_filter=params.get("language"),
            entity=params.get("entity"),
            watch=watch or "",
            watches=store.watches(),
            results=results,
            story_hits=story_hits,
            span=lambda s: _span(s.first_seen, s.last_seen, language(request), _zone(request)),
            when=lambda h: shown(h.published, h.published_time_known, _zone(request)),
            error=error,
            next_url=next_url,
            marked=marked,
            csrf=csrf_token(request),
        ),
    )
    page.status_code = status  # a query that cannot be read is the request's fault
    return page


def _kind(lang: str) -> Callable[[str], str]:
    labels = {
        "PER": translate("Person", lang),
        "ORG": translate("Organisation", lang),
        "LOC": translate("Place", lang),
    }
    return lambda code: labels.get(code, code)


@router.get("/entities", response_class=HTMLResponse)
def entities_page(request: Request) -> Response:
    store = _store(request)
    lang = language(request)
    return render(
        request,
        "entities.html",
        "/entities",
        entities=archive.list_entities(store, limit=200),
        kind=_kind(lang),
    )


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_page(request: Request, entity_id: Id) -> Response:
    store = _store(request)
    lang = language(request)
    try:
        view = archive.entity_view(store, entity_id, _zone(request))
    except NotFound:
        raise HTTPException(404) from None
    per_day = [(d.isoformat(), n) for d, n in view.per_day]
    return render(
        request,
        "entity.html",
        "/entities",
        entity=view.entity,
        stories=view.stories,
        per_day=per_day,
        peak=max((c for _, c in per_day), default=1) or 1,
        together=view.together,
        kind=_kind(lang),
        span=lambda s: _span(s.first_seen, s.last_seen, lang, _zone(request)),
    )


# -- reading state -------------------------------------------------------------------------


def _flag(value: str | None) -> bool | None:
    return None if value is None or value == "" else value in ("1", "true", "on")


@router.post("/stories/{story_id}/reading")
async def reading_form(request: Request, story_id: Id) -> Response:
    """Seen or unseen, starred or not, from a story's buttons (and their shortcuts): back
    to the page it came from, or, asked by the page's script, its new state as JSON."""
    data = await form(request)
    try:
        states = await run_in_threadpool(
            reading.mark,
            _store(request),
            _reader(request),
            [story_id],
            _flag(data.get("seen")),
            _flag(data.get("starred")),
        )
    except NotFound:
        raise HTTPException(404) from None
    state = states[story_id]
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"story_id": story_id, "seen": state.seen, "starred": state.starred})
    back = data.get("back", "/")
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = "/"
    return RedirectResponse(back, status_code=303)
