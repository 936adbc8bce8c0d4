"""The HTML pages: today's stories (ranked for a watch), a story, search, entities.

Server-rendered Jinja2, French by default, English by `?lang=en` (kept in a cookie) or the
browser's Accept-Language. Everything from articles is untrusted: templates autoescape it,
and the app sends a strict Content-Security-Policy (see `veille.web`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from veille.digest import Period, build
from veille.enrich.conflicts import WeekdayNote
from veille.enrich.conflicts import about as about_slot
from veille.enrich.entities import name_key
from veille.i18n import install, long_date, translate
from veille.model import BriefDisagreement, BriefNote, BriefSentence, SourceRef, Story, Watch
from veille.search import Filters, SearchUnavailable, search
from veille.store import Store
from veille.urls import domain
from veille.watch import QueryError
from veille.web.api import MAX_ID, Id
from veille.web.csrf import csrf_token, with_csrf
from veille.when import local_day, shown

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
install(templates.env)
# Links to articles go out only to the web: a stored "javascript:" or "data:" URL becomes inert.
templates.env.filters["web_url"] = lambda url: (
    url if str(url).lower().startswith(("http://", "https://")) else "#"
)
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


def _span(first: datetime | None, last: datetime | None, lang: str) -> str:
    if first is None:
        return "—"
    if last is None or first.date() == last.date():
        return long_date(first, lang)
    return f"{long_date(first, lang)} → {long_date(last, lang)}"


def _sites(refs: tuple[SourceRef, ...]) -> str:
    return ", ".join(dict.fromkeys(r.site or domain(r.url) or r.url for r in refs))


def _marked(text: str, spans: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> Markup:
    """The text escaped, the found words in <mark>."""
    out, at = [], 0
    for start, end in spans:
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def render(request: Request, name: str, page: str, **values: Any) -> Response:
    lang = language(request)
    query = dict(request.query_params) | {"lang": "en" if lang == "fr" else "fr"}
    context = {
        "lang": lang,
        "page": page,
        "switch_url": f"{request.url.path}?{urlencode(query)}",
        **values,
    }
    response = templates.TemplateResponse(request, name, context)
    if request.query_params.get("lang") in ("fr", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _store(request: Request) -> Store:
    return request.app.state.store


def _zone(request: Request) -> str:
    return request.app.state.settings.timezone


@router.get("/", response_class=HTMLResponse)
def today(request: Request) -> Response:
    store = _store(request)
    lang = language(request)
    params = request.query_params
    zone = _zone(request)
    when = _parse_day(params.get("date")) or _latest_day(store, zone)
    chosen = store.watch(params["watch"]) if params.get("watch") else None
    if chosen is not None:
        digest = build(
            store,
            Watch(chosen.name, chosen.query, chosen.languages, chosen.sites),
            Period.day(when, zone),
            limit=100,
        )
        stories = [s for e in digest.entries if (s := store.story(e.story_id)) is not None]
    else:
        stories = store.stories(day=when, zone=zone)
    cards = [_card(store, s, when, lang, zone) for s in stories]
    return render(
        request,
        "today.html",
        "/",
        day=when,
        day_label=long_date(when, lang),
        stories=cards,
        watches=store.watches(),
        watch=chosen.name if chosen else "",
    )


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _latest_day(store: Store, zone: str) -> date:
    latest = store.stories(limit=1)
    if latest and latest[0].last_seen:
        return local_day(latest[0].last_seen, True, zone)
    return datetime.now(UTC).date()


def _card(store: Store, story: Story, day: date, lang: str, zone: str) -> dict[str, Any]:
    articles = store.story_articles(story.id)
    sites = list(dict.fromkeys(a.site_name or domain(a.url) or "" for a in articles))
    days = {
        a.id: local_day(a.published, a.published_time_known, zone) for a in articles if a.published
    }
    before = {a.site_name for a in articles if days.get(a.id, day) < day}
    today_sites = {a.site_name for a in articles if days.get(a.id) == day}
    brief = store.brief(story.id)
    summary = " ".join(s.text for s in brief.summary[:2]) if brief else ""
    return {
        "id": story.id,
        "title": story.title,
        "span": _span(story.first_seen, story.last_seen, lang),
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
    story = store.story(story_id)
    if story is None:
        raise HTTPException(404)
    if story.merged_into is not None:
        return RedirectResponse(f"/stories/{story.merged_into}?lang={lang}", status_code=301)
    articles = store.story_articles(story_id)
    zone = _zone(request)
    copy_of = {c.copy_id: c.original_id for c in store.copies([a.id for a in articles if a.id])}
    timeline = []
    for article in articles:
        if article.id in copy_of:
            continue
        copies = [a for a in articles if copy_of.get(a.id) == article.id]
        timeline.append(
            {
                "when": shown(article.published, article.published_time_known, zone),
                "site": article.site_name or domain(article.url),
                "title": article.title,
                "url": article.url,
                "copies": [{"site": c.site_name or domain(c.url), "url": c.url} for c in copies],
            }
        )

    def cited(sentence: BriefSentence) -> str:
        return _sites(((sentence.source,) if sentence.source else ()) + sentence.also)

    def about(conflict: BriefDisagreement) -> str:
        return about_slot(conflict.slot, conflict.word, lang)

    def note_text(note: BriefNote) -> str:
        return WeekdayNote(note.site, note.written, note.day, note.weekday).describe(lang)

    return render(
        request,
        "story.html",
        "/stories",
        story=story,
        brief=store.brief(story_id),
        span=_span(story.first_seen, story.last_seen, lang),
        timeline=timeline,
        related=store.related(story_id),
        cited=cited,
        sites=_sites,
        about=about,
        note_text=note_text,
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    store = _store(request)
    params = request.query_params
    q = params.get("q", "").strip()
    results, error, story_hits = None, None, []
    since, until = _parse_day(params.get("from")), _parse_day(params.get("to"))
    watch = store.watch(params["watch"]) if params.get("watch") else None
    if q or watch:
        # Within a watch: its query and the words asked, both.
        full = f"({watch.query}) ({q})" if watch and q else (watch.query if watch else q)
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
            results = search(
                store, full, filters, limit=20, cursor=params.get("cursor"), stories=5 * first
            )
            story_hits = list(results.stories)
        except QueryError as problem:
            error = str(problem)
        except (SearchUnavailable, ValueError) as problem:
            error = str(problem)
    next_url = None
    if results and results.next_cursor:
        next_url = "/search?" + urlencode(dict(params) | {"cursor": results.next_cursor})
    return with_csrf(
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
            watch=watch.name if watch else "",
            watches=store.watches(),
            results=results,
            story_hits=story_hits,
            span=lambda s: _span(s.first_seen, s.last_seen, language(request)),
            when=lambda h: shown(h.published, h.published_time_known, _zone(request)),
            error=error,
            next_url=next_url,
            marked=_marked,
            csrf=csrf_token(request),
        ),
    )


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
        entities=store.entities(limit=200),
        kind=_kind(lang),
    )


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_page(request: Request, entity_id: Id) -> Response:
    store = _store(request)
    lang = language(request)
    found = store.find_entities(str(entity_id), [])
    if not found:
        raise HTTPException(404)
    entity = found[0]
    stories = store.entity_stories(entity.id)
    per_day = _mentions_per_day(store, entity.aliases, [s.id for s, _ in stories], _zone(request))
    return render(
        request,
        "entity.html",
        "/entities",
        entity=entity,
        stories=stories,
        per_day=per_day,
        peak=max((c for _, c in per_day), default=1) or 1,
        together=store.co_occurring(entity.id),
        kind=_kind(lang),
        span=lambda s: _span(s.first_seen, s.last_seen, lang),
    )


def _mentions_per_day(
    store: Store, aliases: tuple[str, ...], story_ids: list[int], zone: str
) -> list[tuple[str, int]]:
    """Mentions of the entity's spellings in its stories' articles, by day of publication,
    every day of the span shown (days without are zero)."""
    keys = {name_key(a) for a in aliases}
    articles = [a for sid in story_ids for a in store.story_articles(sid)]
    found = store.mentions([a.id for a in articles if a.id is not None])
    counts: Counter[date] = Counter()
    for article in articles:
        if article.published is None or article.id not in found:
            continue
        _, mentions, _ = found[article.id]
        day = local_day(article.published, article.published_time_known, zone)
        counts[day] += sum(1 for m in mentions if name_key(m.text) in keys)
    if not counts:
        return []
    first, last = min(counts), max(counts)
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)][-90:]
    return [(d.isoformat(), counts.get(d, 0)) for d in days]
