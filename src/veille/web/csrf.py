"""CSRF protection for the pages' forms: a double-submit token.

Each visitor gets a random token in a cookie (HttpOnly, SameSite=Strict) and in every form;
a POST whose form token does not equal the cookie is refused with 403.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from fastapi import HTTPException, Request, Response

CSRF_COOKIE = "veille_csrf"


def csrf_token(request: Request) -> str:
    """The visitor's token: from the cookie, or a new one set on this response."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if token is None:
        token = request.state.csrf = secrets.token_urlsafe(32)
    return token


def with_csrf(request: Request, response: Response) -> Response:
    if CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            CSRF_COOKIE, csrf_token(request), httponly=True, samesite="strict", max_age=86400 * 30
        )
    return response


async def form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST, its CSRF token checked."""
    data = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not secrets.compare_digest(data.get("csrf", ""), expected):
        raise HTTPException(403, "CSRF token missing or wrong")
    return data
