"""Who is asking: sessions for the pages, API tokens for scripts (the login and logout
pages are in `veille.web.manage`).

A session is a random secret in an HttpOnly cookie, kept (hashed) in the store for 12
hours: logging out, a new password or the user's removal ends it at once. The API takes
the same cookie or a token as `Authorization: Bearer <token>`; a token's scope is `read`
(GET only) or `write`. Beyond loopback everything but the login page and static files
needs one; on loopback nobody logs in, yet a token given is still held to its scope.
Failed logins are limited per client address: after 5 in 5 minutes, /login answers 429
until the oldest ages out.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from veille.operations import accounts
from veille.operations.reading import LOCAL_READER
from veille.store.sessions import Credential
from veille.web.security import UNSAFE_METHODS

SESSION_COOKIE = "veille_session"
MAX_FAILURES, FAILURE_WINDOW = 5, 300.0
OPEN_PATHS = ("/login", "/static/")


class LoginLimiter:
    """Failed logins per client address, within FAILURE_WINDOW seconds."""

    def __init__(self) -> None:
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, client: str) -> bool:
        recent = self.failures[client]
        while recent and recent[0] < time.monotonic() - FAILURE_WINDOW:
            recent.popleft()
        return len(recent) >= MAX_FAILURES

    def failed(self, client: str) -> None:
        self.failures[client].append(time.monotonic())


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def credential(request: Request) -> Credential | None:
    """Who the request speaks for (set by `guard`)."""
    return getattr(request.state, "credential", None)


def reader(request: Request) -> str:
    """Whose reading state a request reads and changes: the user, or the local reader."""
    found = credential(request)
    return found.user if found is not None else LOCAL_READER


def _refuse(request: Request, status: int, detail: str) -> Response:
    path = request.url.path
    if status == 401 and not (path.startswith("/api/") or path == "/openapi.json"):
        return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def guard(request: Request, call_next) -> Response:
    """The middleware: finds who is asking (in a worker thread: the store is blocking),
    requires a user beyond loopback, and holds a read-only token to reading."""
    session, bearer = request.cookies.get(SESSION_COOKIE), _bearer(request)
    found = None
    if session or bearer:
        found = await run_in_threadpool(
            accounts.authenticate, request.app.state.store, session, bearer
        )
    request.state.credential = found
    if bearer and found is None:
        return _refuse(request, 401, "unknown API token")
    open_path = request.url.path.startswith(OPEN_PATHS)
    if request.app.state.require_login and found is None and not open_path:
        return _refuse(request, 401, "authentication required")
    if found is not None and found.scope == "read" and request.method in UNSAFE_METHODS:
        return _refuse(request, 403, "this token may only read (scope: read)")
    return await call_next(request)
