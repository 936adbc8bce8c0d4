"""What a browser can be made to send, refused before any page or API call sees it.

- `HostGuard`: only the Host names veille serves under are answered (the loopback ones,
  and those configured), so a page the user visits cannot rebind its own name to
  127.0.0.1 and read veille's pages (DNS rebinding): anything else gets 400.
- `SameOrigin`: a request that changes something (POST, PUT, PATCH, DELETE) sent by a
  browser carries an Origin (or a Referer): it must be this site's. A form on another
  site, or on another port of the same machine, is refused with 403 whatever cookies it
  carries. Clients that send neither (scripts, the command line) are not browsers.
- `BodyLimit`: a body larger than `[web] max_body` is refused with 413, from its
  Content-Length before a byte is read, or as soon as a streamed body passes the limit.

All three are plain ASGI middleware: they answer without starting the application.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from veille.config import LOOPBACK_HOSTS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def split_host(value: str) -> tuple[str, int | None]:
    """("example.org", 8080) from "example.org:8080"; IPv6 in brackets; names lower-case,
    without a trailing dot. A port that is no number makes the port -1 (never equal)."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    else:
        host, port = value, None
    if port is None or port == "":
        return host.rstrip("."), None
    return host.rstrip("."), int(port) if port.isdigit() else -1


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """Whether a Host name is one of `allowed`: exact names, or `*.domain` for its
    subdomains; the loopback names always."""
    name, _port = split_host(host)
    for entry in (*LOOPBACK_HOSTS, *allowed):
        entry = entry.strip().lower().rstrip(".")
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
        if name == entry.strip("[]"):
            return True
    return False


class HostGuard:
    def __init__(self, app: App, allowed: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = tuple(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = _header(scope, b"host")
            if not host or not host_allowed(host, self.allowed):
                await _answer(send, 400, "Invalid host header")
                return
        await self.app(scope, receive, send)


def same_origin(origin: str, host: str, scheme: str) -> bool:
    """Whether a browser's Origin (or a Referer) names the site the Host header names."""
    try:
        parts = urlsplit(origin)
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    name, port = split_host(host)
    default = _DEFAULT_PORTS.get(scheme)
    return (parts.hostname.rstrip("."), origin_port or _DEFAULT_PORTS[parts.scheme]) == (
        name,
        port or default,
    )


class SameOrigin:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            host = _header(scope, b"host") or ""
            origin = _header(scope, b"origin")
            referer = _header(scope, b"referer")
            claimed = origin if origin is not None else referer
            if claimed is not None and not same_origin(claimed, host, scope["scheme"]):
                await _answer(send, 403, "cross-site request refused (Origin or Referer)")
                return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


def _too_large(error: BaseException | None) -> bool:
    """Whether `error` is the size limit's, however wrapped (task groups of the middleware
    below gather exceptions into groups; handlers may chain them)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _TooLarge):
            return True
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend((current.__cause__, current.__context__))
    return False


class BodyLimit:
    def __init__(self, app: App, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.limit):
            await _answer(send, 413, f"request body over {self.limit} bytes")
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BaseException as error:
            if started or not _too_large(error):
                raise
            await _answer(send, 413, f"request body over {self.limit} bytes")
