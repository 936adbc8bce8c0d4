"""CSRF protection for the pages' forms: a double-submit token.

Each visitor gets a random token in a cookie (HttpOnly, SameSite=Strict) and in every form;
a POST whose form token does not equal the cookie is refused with 403. Cookies are not
kept apart by port, so a page on another port of the machine could set the cookie: the
Origin check (`veille.web.security.SameOrigin`) is what refuses that one.
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
    """The urlencoded form of a POST, its CSRF token checked; 400 when it is no text."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8 text") from None
    data = {k: v[-1] for k, v in parse_qs(text).items()}
    check(request, data.get("csrf", ""))
    return data


def check(request: Request, token: str) -> None:
    """403 unless `token` is the visitor's CSRF token."""
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not secrets.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(403, "CSRF token missing or wrong")
