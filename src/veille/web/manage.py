"""Pages that change things: watches (with a live preview of what they match, past
digests and alerts, send now), sources (health, add, remove, OPML in and out), and
signing in and out.

Every form carries a CSRF token (see `veille.web.csrf`); a POST without it is refused
with 403. The work itself (the store, a delivery, reading a source) runs in a worker
thread, through `veille.operations` like the command line and the API.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from veille.digest import Period
from veille.i18n import _
from veille.operations import NotFound, OperationError, accounts, alerts, digests, following
from veille.watch import ALERT_KINDS
from veille.web.api import Id
from veille.web.auth import SESSION_COOKIE, LoginLimiter
from veille.web.csrf import check, csrf_token, form, with_csrf
from veille.web.pages import language, render
from veille.when import shown, today

router = APIRouter(include_in_schema=False)


def _back(path: str, request: Request, **message: str) -> RedirectResponse:
    query = {"lang": language(request), **message}
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


# -- watches -------------------------------------------------------------------------------


@router.get("/watches", response_class=HTMLResponse)
def watches_page(request: Request) -> Response:
    store = request.app.state.store
    watches = following.list_watches(store)
    sent = {w.name: following.deliveries(store, w, limit=5) for w in watches}
    alerted = {w.name: alerts.watch_alerts(store, w, limit=5) for w in watches}
    edit = store.watch(request.query_params["edit"]) if request.query_params.get("edit") else None
    return with_csrf(
        request,
        render(
            request,
            "watches.html",
            "/watches",
            watches=watches,
            sent=sent,
            alerted=alerted,
            when=lambda at: shown(at, True, request.app.state.settings.timezone),
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
            digest = following.try_watch(store, request.app.state.settings, query)
            stories = list(digest.entries)
        except following.QueryError as problem:
            error = problem
    response = render(
        request, "preview.html", "/watches", stories=stories, error=error, query=query
    )
    if error is not None and request.headers.get("hx-request") != "true":
        # Asked directly, a query that cannot be read is the request's fault. Asked by the
        # form's live preview, the fault is the preview asked for: shown, not an error.
        response.status_code = 400
    return response


@router.post("/watches")
async def watch_save(request: Request) -> Response:
    data = await form(request)
    watch = following.make_watch(
        data.get("name", ""),
        data.get("query", ""),
        data.get("languages", ""),
        data.get("sites", ""),
        data.get("schedule", ""),
        data.get("targets", ""),
        [kind for kind in ALERT_KINDS if data.get(f"alert_{kind}")],
        data.get("quiet_hours", ""),
        data.get("max_alerts", ""),
        data.get("relevance_floor", ""),
    )
    try:
        await run_in_threadpool(
            following.save_watch, request.app.state.store, request.app.state.settings, watch
        )
    except OperationError as problem:
        return _back("/watches", request, error=problem.reason)
    return _back("/watches", request, message=watch.name)


@router.post("/watches/{name}/delete")
async def watch_delete(request: Request, name: str) -> Response:
    await form(request)
    try:
        await run_in_threadpool(following.remove_watch, request.app.state.store, name)
    except NotFound:
        raise HTTPException(404) from None
    return _back("/watches", request, message=name)


@router.post("/watches/{name}/send")
async def watch_send(request: Request, name: str) -> Response:
    """Send a day's digest now to the watch's targets (once per day and target); the
    delivery runs in a worker thread: a slow target holds this request only."""
    data = await form(request)
    store, settings = request.app.state.store, request.app.state.settings
    try:
        day = date.fromisoformat(data["date"]) if data.get("date") else today(settings.timezone)
    except ValueError:
        return _back("/watches", request, error=_("Unreadable date: {date}", date=data["date"]))

    def send() -> list:
        watch = following.get_watch(store, name)
        return digests.send_digest(
            store, settings, watch, Period.day(day, settings.timezone), language(request)
        )

    try:
        outcomes = await run_in_threadpool(send)
    except NotFound:
        raise HTTPException(404) from None
    except OperationError as problem:
        return _back("/watches", request, error=problem.reason)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        return _back("/watches", request, error="; ".join(f"{o.target}: {o.error}" for o in failed))
    return _back("/watches", request, message=name)


# -- sources -------------------------------------------------------------------------------


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request) -> Response:
    return with_csrf(
        request,
        render(
            request,
            "sources.html",
            "/sources",
            sources=following.list_sources(request.app.state.store),
            csrf=csrf_token(request),
            message=request.query_params.get("message"),
            error=request.query_params.get("error"),
        ),
    )


@router.post("/sources")
async def source_add(request: Request) -> Response:
    data = await form(request)
    kind = data.get("kind") or "feed"  # "auto": found by reading the location
    try:
        added = await run_in_threadpool(
            lambda: following.add_source(
                request.app.state.store,
                request.app.state.settings,
                data.get("url", ""),
                name=data.get("name"),
                every=data.get("every") or "15m",
                kind=None if kind == "auto" else kind,
            )
        )
    except OperationError as problem:
        return _back("/sources", request, error=problem.reason)
    return _back("/sources", request, message=added.source.location)


@router.post("/sources/{source_id}/delete")
async def source_delete(request: Request, source_id: Id) -> Response:
    await form(request)
    try:
        await run_in_threadpool(following.remove_source, request.app.state.store, source_id)
    except NotFound:
        raise HTTPException(404) from None
    return _back("/sources", request)


@router.get("/sources/opml")
def opml_export(request: Request) -> Response:
    return Response(
        following.export_opml(request.app.state.store),
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="veille.opml"'},
    )


@router.post("/sources/opml")
async def opml_import(request: Request) -> Response:
    """An OPML file, sent as the body (`Content-Type: text/x-opml`) with the CSRF token in
    the `X-CSRF-Token` header, as the sources page's import button does."""
    check(request, request.headers.get("x-csrf-token", ""))
    data = await request.body()
    try:
        done = await run_in_threadpool(following.import_opml, request.app.state.store, data)
    except OperationError as problem:
        return _back("/sources", request, error=problem.reason)
    return _back("/sources", request, message=str(done.added))


# -- signing in and out --------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return with_csrf(
        request,
        render(
            request,
            "login.html",
            "/login",
            csrf=csrf_token(request),
            next=request.query_params.get("next", "/"),
            failed="failed" in request.query_params,
        ),
    )


@router.post("/login")
async def login(request: Request) -> Response:
    limiter: LoginLimiter = request.app.state.logins
    client = request.client.host if request.client else "?"
    if limiter.blocked(client):
        raise HTTPException(429, "too many failed logins; try again in a few minutes")
    data = await form(request)
    target = data.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"  # only within this site
    secret = await run_in_threadpool(
        accounts.log_in, request.app.state.store, data.get("name", ""), data.get("password", "")
    )
    if secret is None:
        limiter.failed(client)
        return RedirectResponse(f"/login?failed=1&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await form(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await run_in_threadpool(accounts.log_out, request.app.state.store, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
