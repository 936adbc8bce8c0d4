"""The web side of veille: server-rendered pages and the JSON API (`/api/v1`) over a store,
both calling `veille.operations` (the same operations as the command line).

Every response carries a strict Content-Security-Policy: scripts and styles from this site
only (no inline script), no frames, no plugins; article text is escaped in every template.
Requests pass, in order: the Host check, the size limit of their body, the Origin check
of anything that changes state (`veille.web.security`), then who is asking
(`veille.web.auth`). Handlers do their blocking work (the store, deliveries) in worker
threads, so a slow webhook never holds the event loop.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from veille.config import Settings
from veille.i18n import speaking
from veille.store import Store
from veille.web import api, auth, docs, manage, pages
from veille.web.security import BodyLimit, HostGuard, SameOrigin

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def create_app(
    store: Store, settings: Settings | None = None, require_login: bool = False
) -> FastAPI:
    """The app over `store`; with `require_login` (any address but loopback), every page and
    API call needs a user (see `veille.web.auth`)."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="veille",
        summary="Veille médiatique : une entrée par sujet. / News monitoring: one entry per story.",
        description=api.DESCRIPTION,
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_tags=api.TAGS,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.require_login = require_login
    app.state.logins = auth.LoginLimiter()
    app.middleware("http")(auth.guard)

    @app.middleware("http")
    async def reader_language(request: Request, call_next) -> Response:
        # Messages made deep in the code (a query's error) follow the page's language.
        with speaking(pages.language(request)):
            return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        # same-origin, not no-referrer: with no-referrer, browsers send "Origin: null" on
        # this site's own forms, and the Origin check could not tell them from a forgery.
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    # Added last, run first: Origin, then body size, then the Host name, outermost.
    app.add_middleware(SameOrigin)
    app.add_middleware(BodyLimit, limit=settings.web.max_body)
    app.add_middleware(HostGuard, allowed=settings.web.allowed_hosts)

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    api.answer_refusals(app)
    app.include_router(api.router)
    app.include_router(docs.router)
    app.include_router(pages.router)
    app.include_router(manage.router)
    return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port in a thread, for benchmarks and
    browser tests; yields its base URL and stops it on exit."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
