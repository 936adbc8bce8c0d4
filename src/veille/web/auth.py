"""Login for the web UI and API when they listen beyond loopback.

Pages need a session (a signed cookie from /login, valid 12 hours, signed with a key made at
start-up, so a restart signs everyone out); the API takes the same cookie or a user's token
as `Authorization: Bearer <token>`. Failed logins are limited per client address: after 5
in 5 minutes, /login answers 429 until the oldest ages out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from veille.web.csrf import csrf_token, form, with_csrf
from veille.web.pages import render

router = APIRouter(include_in_schema=False)
SESSION_COOKIE = "veille_session"
SESSION_SECONDS = 12 * 3600
MAX_FAILURES, FAILURE_WINDOW = 5, 300.0
OPEN_PATHS = ("/login", "/static/")


class Sessions:
    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def sign(self, name: str, now: float | None = None) -> str:
        expiry = int((now or time.time()) + SESSION_SECONDS)
        payload = f"{quote(name, safe='')}:{expiry}"
        return f"{payload}:{self._mac(payload)}"

    def user(self, cookie: str | None) -> str | None:
        if not cookie or cookie.count(":") != 2:
            return None
        name, expiry, mac = cookie.split(":")
        payload = f"{name}:{expiry}"
        if not hmac.compare_digest(mac, self._mac(payload)) or not expiry.isdigit():
            return None
        return name if int(expiry) > time.time() else None

    def _mac(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()

    def blocked(self, client: str) -> bool:
        recent = self.failures[client]
        while recent and recent[0] < time.monotonic() - FAILURE_WINDOW:
            recent.popleft()
        return len(recent) >= MAX_FAILURES

    def failed(self, client: str) -> None:
        self.failures[client].append(time.monotonic())


def authenticated(request: Request) -> bool:
    sessions: Sessions = request.app.state.sessions
    if sessions.user(request.cookies.get(SESSION_COOKIE)):
        return True
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return request.app.state.store.user_of_token(header[7:].strip()) is not None
    return False


async def guard(request: Request, call_next) -> Response:
    """The middleware: everything but the login page and static files needs a user."""
    path = request.url.path
    if not request.app.state.require_login or path.startswith(OPEN_PATHS) or authenticated(request):
        return await call_next(request)
    if path.startswith("/api/") or path in ("/openapi.json", "/docs"):
        return JSONResponse(
            {"detail": "authentication required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return RedirectResponse(f"/login?next={quote(path)}", status_code=303)


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
    sessions: Sessions = request.app.state.sessions
    client = request.client.host if request.client else "?"
    if sessions.blocked(client):
        raise HTTPException(429, "too many failed logins; try again in a few minutes")
    data = await form(request)
    target = data.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"  # only within this site
    if not request.app.state.store.check_password(data.get("name", ""), data.get("password", "")):
        sessions.failed(client)
        return RedirectResponse(f"/login?failed=1&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sessions.sign(data["name"]),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await form(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
