"""Pages that change things: watches (with a live preview of what they match, past
digests, send now) and sources (health, add, remove, OPML in and out).

Every form carries a CSRF token (see `veille.web.csrf`); a POST without it is refused
with 403.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from veille.digest import Period, build
from veille.digest.deliver import deliver, smtp_from_config
from veille.i18n import _
from veille.model import Source, Watch
from veille.sources.opml import OpmlError, OpmlFeed, parse_opml, write_opml
from veille.watch import QueryError, parse, watch_problems
from veille.web.api import Id
from veille.web.csrf import CSRF_COOKIE, csrf_token, form, with_csrf
from veille.web.pages import language, render

router = APIRouter(include_in_schema=False)


def _back(path: str, request: Request, **message: str) -> RedirectResponse:
    query = {"lang": language(request), **message}
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


# -- watches -------------------------------------------------------------------------------


@router.get("/watches", response_class=HTMLResponse)
def watches_page(request: Request) -> Response:
    store = request.app.state.store
    watches = store.watches()
    sent = {w.name: store.deliveries(w.id, limit=5) for w in watches}
    edit = store.watch(request.query_params["edit"]) if request.query_params.get("edit") else None
    return with_csrf(
        request,
        render(
            request,
            "watches.html",
            "/watches",
            watches=watches,
            sent=sent,
            edit=edit,
            csrf=csrf_token(request),
            message=request.query_params.get("message"),
            error=request.query_params.get("error"),
        ),
    )


@router.get("/watches/preview", response_class=HTMLResponse)
def watch_preview(request: Request) -> Response:
    """What a query would match over the last week: the live preview of the watch form."""
    store = request.app.state.store
    query = request.query_params.get("query", "").strip()
    stories, error = [], None
    if query:
        try:
            parse(query)
            end = date.today()
            period = Period(
                datetime.combine(end - timedelta(days=6), datetime.min.time()),
                datetime.combine(end + timedelta(days=1), datetime.min.time()),
                "preview",
            )
            latest = store.stories(limit=1)
            if latest and latest[0].last_seen and latest[0].last_seen < period.start:
                # An archive that stopped before this week: preview its last week.
                last = latest[0].last_seen.date()
                period = Period(
                    datetime.combine(last - timedelta(days=6), datetime.min.time()),
                    datetime.combine(last + timedelta(days=1), datetime.min.time()),
                    "preview",
                )
            stories = list(build(store, Watch("preview", query), period, limit=10).entries)
        except QueryError as problem:
            error = problem
    return render(request, "preview.html", "/watches", stories=stories, error=error, query=query)


@router.post("/watches")
async def watch_save(request: Request) -> Response:
    data = await form(request)
    watch = Watch(
        name=data.get("name", "").strip(),
        query=data.get("query", "").strip(),
        languages=tuple(x.strip()[:2] for x in data.get("languages", "").split(",") if x.strip()),
        sites=tuple(x.strip() for x in data.get("sites", "").split(",") if x.strip()),
        schedule=data.get("schedule", "").strip() or None,
        targets=tuple(x.strip() for x in data.get("targets", "").splitlines() if x.strip()),
    )
    problems = ([] if watch.name else [_("a watch needs a name")]) + watch_problems(watch)
    if problems:
        return _back("/watches", request, error="; ".join(problems))
    request.app.state.store.save_watch(watch)
    return _back("/watches", request, message=watch.name)


@router.post("/watches/{name}/delete")
async def watch_delete(request: Request, name: str) -> Response:
    await form(request)
    if request.app.state.store.remove_watch(name) is None:
        raise HTTPException(404)
    return _back("/watches", request, message=name)


@router.post("/watches/{name}/send")
async def watch_send(request: Request, name: str) -> Response:
    """Send today's digest now to the watch's targets (once per day and target)."""
    data = await form(request)
    store = request.app.state.store
    watch = store.watch(name)
    if watch is None:
        raise HTTPException(404)
    if not watch.targets:
        return _back(
            "/watches",
            request,
            error=_("« {name} » has nowhere to send its digest: add a target", name=name),
        )
    settings = request.app.state.settings
    day = date.fromisoformat(data["date"]) if data.get("date") else datetime.now(UTC).date()
    digest = build(store, watch, Period.day(day, settings.timezone))
    outcomes = deliver(
        store, digest, list(watch.targets), language(request), smtp_from_config(settings.smtp)
    )
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        return _back("/watches", request, error="; ".join(f"{o.target}: {o.error}" for o in failed))
    return _back("/watches", request, message=name)


# -- sources -------------------------------------------------------------------------------


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request) -> Response:
    store = request.app.state.store
    return with_csrf(
        request,
        render(
            request,
            "sources.html",
            "/sources",
            sources=store.sources(),
            csrf=csrf_token(request),
            message=request.query_params.get("message"),
            error=request.query_params.get("error"),
        ),
    )


@router.post("/sources")
async def source_add(request: Request) -> Response:
    data = await form(request)
    url = data.get("url", "").strip()
    if not url.startswith(("http://", "https://")):
        return _back(
            "/sources", request, error=_("a source needs an http(s) URL: « {url} »", url=url)
        )
    kind = data.get("kind", "feed") if data.get("kind") in ("feed", "sitemap") else "feed"
    request.app.state.store.add_source(
        Source(name=data.get("name", "").strip() or url, kind=kind, location=url)
    )
    return _back("/sources", request, message=url)


@router.post("/sources/{source_id}/delete")
async def source_delete(request: Request, source_id: Id) -> Response:
    await form(request)
    if request.app.state.store.remove_source(source_id) is None:
        raise HTTPException(404)
    return _back("/sources", request)


@router.get("/sources/opml")
def opml_export(request: Request) -> Response:
    feeds = [
        OpmlFeed(url=s.location, title=s.name)
        for s in request.app.state.store.sources()
        if s.kind == "feed" and s.location.startswith(("http://", "https://"))
    ]
    return Response(
        write_opml(feeds, "veille"),
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="veille.opml"'},
    )


@router.post("/sources/opml")
async def opml_import(request: Request) -> Response:
    """An OPML file, sent as the body (`Content-Type: text/x-opml`) with the CSRF token in
    the `X-CSRF-Token` header, as the sources page's import button does."""
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not secrets.compare_digest(
        request.headers.get("x-csrf-token", ""), expected
    ):
        raise HTTPException(403, "CSRF token missing or wrong")
    try:
        feeds = parse_opml(await request.body())
    except OpmlError as problem:
        return _back("/sources", request, error=str(problem))
    store = request.app.state.store
    added = sum(
        store.add_source(Source(name=f.title or f.url, kind="feed", location=f.url))[1]
        for f in feeds
    )
    return _back("/sources", request, message=str(added))
