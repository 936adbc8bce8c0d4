"""Loopback HTTP servers for the fetcher's tests: the seed-day corpus and a gallery of hostile
endpoints, both on 127.0.0.1 (port 0), started and stopped as context managers.

    with FixtureServer() as server:
        async with httpx.AsyncClient(transport=server.transport()) as client:
            response = await client.get("https://www.lesechos.fr/...")  # served from disk

    with HostileServer() as server:
        httpx.get(server.url("/status/503?retry-after=2"))

Stdlib only on the server side (`http.server`), so nothing here needs the network. Stopping never
hangs: handler threads are daemons, every streaming loop watches a stop event, and `stop()`
shuts down the sockets of connected clients (slow-drip readers, slowloris writers, idle
keep-alives) so their threads wake up at once.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import gzip
import hashlib
import os
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx

__all__ = [
    "ATOM",
    "BIG_SIZE",
    "CP1252_TEXT",
    "FEEDS_HOST",
    "GZIP_BOMB_SIZE",
    "LAST_MODIFIED",
    "LATIN1_TEXT",
    "PRIVATE_LINKS",
    "RSS",
    "FixturePage",
    "FixtureServer",
    "HostileServer",
    "Request",
    "Route",
    "RouteServer",
    "RoutingTransport",
    "SyncRoutingTransport",
    "article_title",
    "closed_port",
    "etag_for",
    "gzip_bomb",
    "seed_day_dir",
]

LOOPBACK = "127.0.0.1"
# Every response served with validators carries this date: fixed, so If-Modified-Since is
# deterministic (the seed day, 3 February 2026, was a Tuesday).
LAST_MODIFIED = "Tue, 03 Feb 2026 12:00:00 GMT"
_LAST_MODIFIED_AT = email.utils.parsedate_to_datetime(LAST_MODIFIED)
FEEDS_HOST = "feeds.veille.test"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
ALLOW_ALL_ROBOTS = "User-agent: *\nDisallow:\n"
HOSTILE_ROBOTS = "User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n"
# Handler sockets time out so a silent client cannot pin a thread for long.
SOCKET_TIMEOUT = 5.0
BIG_SIZE = 20 * 1024 * 1024
GZIP_BOMB_SIZE = 1 << 30  # inflated size of /gzip-bomb: 1 GiB of zeros
# Addresses /feed/private-link points to; nothing here ever connects to them.
PRIVATE_LINKS = ("http://10.0.0.1/secret", "http://169.254.169.254/latest/meta-data/")
# French text for the charset pages: every character of CP1252_TEXT is in windows-1252 but
# not all in ISO-8859-1 (œ, ’, €), hence a separate, Latin-1-only text for /charset/meta-late.
CP1252_TEXT = (
    "L’État a dépensé 3 € de plus : à Besançon, la sœur du maire, très émue, reçoit l’œuvre "
    "près de l’église."
)
LATIN1_TEXT = (
    "À Besançon, la fête a réuni élèves et maîtres ; « déjà très réussie », dit-on à la "
    "préfecture, où l’on s’était préparé."
).replace("’", "'")  # the typographic apostrophe is not in ISO-8859-1


# -- request log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request as the server saw it. `headers` keys are lower-cased; `path` keeps the
    query string; `host` is the Host header without its port; `time` is time.monotonic() when
    the request line arrived; `status` is the status code sent."""

    method: str
    host: str
    path: str
    headers: dict[str, str]
    time: float
    status: int

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def etag_for(body: bytes) -> str:
    """The strong ETag served for `body`."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _hostname(host_header: str) -> str:
    """`Host` header value without its port (IPv6 literals keep their brackets)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _not_modified(headers: Mapping[str, str], etag: str) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since; weak comparison."""
    none_match = headers.get("If-None-Match")
    if none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in none_match.split(",")]
        return "*" in tags or etag in tags
    modified_since = headers.get("If-Modified-Since")
    if modified_since:
        try:
            since = email.utils.parsedate_to_datetime(modified_since)
        except (TypeError, ValueError):
            return False  # an unparsable date is ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return since >= _LAST_MODIFIED_AT
    return False


# -- server plumbing ------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # ThreadingMixIn.server_close() joins every handler thread when this is true, which hangs
    # on a slow-drip client; stop() joins them itself, with a deadline.
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, owner: _LoopbackServer, handler: type[_BaseHandler]) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self.live: dict[socket.socket, threading.Thread] = {}
        self.live_lock = threading.Lock()
        super().__init__((LOOPBACK, 0), handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-body is the point of half these endpoints: stay quiet.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    server_version = "veille-test"
    sys_version = ""
    timeout = SOCKET_TIMEOUT
    server: _HTTPServer
    _arrival: float = 0.0

    # - lifecycle: register the socket so stop() can shut it down under a blocked thread -

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle plus the
        # client's delayed ACK adds ~40 ms to every keep-alive response (and skews timings).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.live_lock:
            self.server.live[self.connection] = threading.current_thread()
        if self.server.stopping.is_set():  # accepted while stopping: hang up at once
            self.close_connection = True
            self._hang_up()

    def finish(self) -> None:
        with self.server.live_lock:
            self.server.live.pop(self.connection, None)
        super().finish()

    def _hang_up(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def handle_one_request(self) -> None:
        if self.server.stopping.is_set():
            self.close_connection = True
            return
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces stderr chatter

    # - request log -

    def parse_request(self) -> bool:
        self._arrival = time.monotonic()
        return super().parse_request()

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        headers = getattr(self, "headers", None)
        self.server.owner._record(
            Request(
                method=self.command or "",
                host=_hostname(headers.get("Host", "")) if headers else "",
                path=self.path if hasattr(self, "path") else "",
                headers={k.lower(): v for k, v in headers.items()} if headers else {},
                time=self._arrival or time.monotonic(),
                status=code,
            )
        )

    # - responses -

    def do_GET(self) -> None:
        try:
            self.route()
        except OSError:
            self.close_connection = True  # the client went away mid-response
            self.server.owner._client_left(self.path)

    do_HEAD = do_GET

    def route(self) -> None:
        raise NotImplementedError

    def origin(self) -> str:
        """The origin the client asked for (`http://127.0.0.1:<port>` when called directly,
        the original scheme and host through a RoutingTransport), for absolute links."""
        scheme = self.headers.get("X-Forwarded-Proto", "http")
        return f"{scheme}://{self.headers.get('Host', '')}"

    @property
    def stopping(self) -> threading.Event:
        return self.server.stopping

    def send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = HTML,
        headers: Mapping[str, str] | None = None,
        *,
        conditional: bool = False,
    ) -> None:
        """A complete response with Content-Length; with `conditional`, ETag + Last-Modified
        and a bodiless 304 when the request's validators match."""
        extra = dict(headers or {})
        if conditional:
            etag = etag_for(body)
            extra |= {"ETag": etag, "Last-Modified": LAST_MODIFIED}
            if _not_modified(self.headers, etag):
                self.send_response(304)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                return
        self.send_response(status)
        bodiless = status in (204, 304) or status < 200
        if not bodiless:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and not bodiless:
            self.wfile.write(body)

    def not_found(self) -> None:
        self.send(404, b"<!DOCTYPE html><title>404</title><p>Page introuvable.</p>")


class _LoopbackServer:
    """Start/stop, request log and httpx transports shared by both servers."""

    handler: type[_BaseHandler] = _BaseHandler

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._log_lock = threading.Lock()
        self._left: list[str] = []  # paths whose client hung up mid-response
        self._left_changed = threading.Condition(self._log_lock)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # - lifecycle -

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer(self, self.handler)
        self._port = httpd.server_address[1]
        # A short poll interval makes shutdown() return within ~50 ms.
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self._port}",
            daemon=True,
        )
        thread.start()
        self._httpd, self._thread = httpd, thread
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop serving, hang up on every connected client, and wait (at most `timeout`
        seconds) for the handler threads. Idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._httpd = self._thread = None
        httpd.stopping.set()  # wakes the streaming loops (slow-drip, endless, big…)
        httpd.shutdown()
        thread.join(timeout)
        with httpd.live_lock:
            live = dict(httpd.live)
        for sock in live:
            # shutdown() (not close()) is safe under a thread blocked on the socket: it
            # wakes it with EOF or an error, and leaves the descriptor to that thread.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        deadline = time.monotonic() + timeout
        for handler_thread in live.values():
            handler_thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("server not started: use `with Server() as server:`")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def url(self, path: str = "/") -> str:
        """`http://127.0.0.1:<port><path>`."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # - request log -

    def _record(self, request: Request) -> None:
        with self._log_lock:
            self.requests.append(request)

    def _matching(self, host: str | None, path: str | None, method: str | None) -> list[Request]:
        with self._log_lock:
            logged = list(self.requests)
        return [
            r
            for r in logged
            if (host is None or r.host == host.lower())
            and (path is None or path in (r.path, r.path.split("?", 1)[0]))
            and (method is None or r.method == method.upper())
        ]

    def count(
        self, host: str | None = None, path: str | None = None, *, method: str | None = None
    ) -> int:
        """Requests logged so far for `host` (no port) and/or `path` (exact, with or without
        the query string)."""
        return len(self._matching(host, path, method))

    def times(self, host: str | None = None, path: str | None = None) -> list[float]:
        """time.monotonic() arrival times of the matching requests, oldest first."""
        return sorted(r.time for r in self._matching(host, path, None))

    def _client_left(self, path: str) -> None:
        with self._left_changed:
            self._left.append(path)
            self._left_changed.notify_all()

    def client_left(self, path: str, wait: float) -> bool:
        """Whether a client hung up on `path` (with or without its query string) in the
        middle of a response, waiting at most `wait` seconds for one to."""
        with self._left_changed:
            return self._left_changed.wait_for(
                lambda: any(path in (p, p.split("?", 1)[0]) for p in self._left), wait
            )

    def clear(self) -> None:
        with self._log_lock:
            self.requests.clear()
            self._left.clear()

    # - httpx routing -

    def transport(self, **kwargs: Any) -> RoutingTransport:
        """An async transport sending ANY URL to this server (kwargs go to the inner
        httpx.AsyncHTTPTransport)."""
        return RoutingTransport(self.port, **kwargs)

    def sync_transport(self, **kwargs: Any) -> SyncRoutingTransport:
        return SyncRoutingTransport(self.port, **kwargs)


def _rerouted(request: httpx.Request, port: int) -> httpx.Request:
    """The same request aimed at the loopback server, Host header and body untouched."""
    headers = request.headers.copy()  # Host is already set by httpx.Request
    headers["X-Forwarded-Proto"] = request.url.scheme
    return httpx.Request(
        request.method,
        request.url.copy_with(scheme="http", host=LOOPBACK, port=port),
        headers=headers,
        stream=request.stream,
        extensions=request.extensions,  # carries the client's timeouts
    )


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends every request, whatever its URL, to 127.0.0.1:<port> as plain HTTP, keeping the
    Host header (plus X-Forwarded-Proto). The response streams (nothing is read here) and
    its `.request` is the original one, so `response.url` is the publisher's URL."""

    def __init__(self, port: int, **kwargs: Any) -> None:
        self.port = port
        self._inner = httpx.AsyncHTTPTransport(**kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(_rerouted(request, self.port))
        response.request = request
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class SyncRoutingTransport(httpx.BaseTransport):
    """RoutingTransport for httpx.Client."""

    def __init__(self, port: int, **kwargs: Any) -> None:
        self.port = port
        self._inner = httpx.HTTPTransport(**kwargs)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(_rerouted(request, self.port))
        response.request = request
        return response

    def close(self) -> None:
        self._inner.close()


# -- FixtureServer --------------------------------------------------------------------------


def seed_day_dir() -> Path:
    """`../shared/fixtures/seed-day` beside the repository (VEILLE_SHARED overrides ../shared)."""
    shared = os.environ.get("VEILLE_SHARED")
    base = Path(shared) if shared else Path(__file__).resolve().parents[1].parent / "shared"
    return base / "fixtures" / "seed-day"


@dataclass(frozen=True)
class FixturePage:
    url: str
    file: Path | None  # None for pages given in `extra`
    content_type: str
    body: bytes


def _feed_type(path: Path, body: bytes) -> str:
    return ATOM if path.suffix != ".rss" and b"<feed" in body[:2000] else RSS


class _FixtureHandler(_BaseHandler):
    def route(self) -> None:
        owner: FixtureServer = self.server.owner  # type: ignore[assignment]
        scheme = self.headers.get("X-Forwarded-Proto", "https").lower()
        host = self.headers.get("Host", "").strip().lower()
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute form: used as a proxy
            parts = urlsplit(target)
            scheme, host = parts.scheme, parts.netloc.lower()
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        elif _hostname(host) in (LOOPBACK, "localhost"):
            # Rewriting mode (see local_url): /<host>/<path?query>
            host, _, rest = target.lstrip("/").partition("/")
            target = "/" + rest
        if urlsplit(target).path == "/robots.txt":
            robots = owner.robots.get(_hostname(host), ALLOW_ALL_ROBOTS)
            if isinstance(robots, int):
                self.send(robots, b"", TEXT)
            else:
                self.send(200, robots.encode("utf-8"), TEXT, conditional=True)
            return
        page = owner.pages.get(f"{scheme}://{host}{target}")
        if page is not None:
            self.send(200, page.body, page.content_type, conditional=True)
        elif scheme == "http" and f"https://{host}{target}" in owner.pages:
            # As the real sites do: plain HTTP is redirected to HTTPS.
            self.send(301, b"", HTML, {"Location": f"https://{host}{target}"})
        else:
            self.not_found()


class FixtureServer(_LoopbackServer):
    """Serves the seed-day corpus by host: requests for the real URLs (through
    `transport()` / `sync_transport()`) are answered from `urls.tsv`, the feeds from
    `https://feeds.veille.test/<file name>`, `/robots.txt` for every host.

    - `root`: the seed-day folder (default: `seed_day_dir()`); FileNotFoundError if absent;
    - `robots`: {host: robots.txt text, or a status code such as 404 or 500} (default: allow all);
    - `extra`: more pages, {full URL: body bytes or (body, Content-Type)}.
    """

    handler = _FixtureHandler

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        robots: Mapping[str, str | int] | None = None,
        extra: Mapping[str, bytes | tuple[bytes, str]] | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(root) if root is not None else seed_day_dir()
        table = self.root / "urls.tsv"
        if not table.is_file():
            raise FileNotFoundError(
                f"{table} is absent: FixtureServer serves the project's shared seed-day corpus "
                "beside the repository (set VEILLE_SHARED to the shared folder's location)"
            )
        self.robots: dict[str, str | int] = {h.lower(): t for h, t in (robots or {}).items()}
        self.pages: dict[str, FixturePage] = {}
        for line in table.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            url, name, content_type = line.split("\t")
            file = self.root / name
            self.pages[url] = FixturePage(url, file, content_type, file.read_bytes())
        self.page_urls: list[str] = list(self.pages)  # urls.tsv order
        self.feed_urls: list[str] = []
        feeds = self.root / "feeds"
        for file in sorted(feeds.iterdir()) if feeds.is_dir() else []:
            url = f"https://{FEEDS_HOST}/{file.name}"
            body = file.read_bytes()
            self.pages[url] = FixturePage(url, file, _feed_type(file, body), body)
            self.feed_urls.append(url)
        for url, value in (extra or {}).items():
            body, content_type = value if isinstance(value, tuple) else (value, HTML)
            self.pages[url] = FixturePage(url, None, content_type, body)

    def feed_url(self, name: str) -> str:
        """`https://feeds.veille.test/<name>`, e.g. feed_url("outlets.rss")."""
        url = f"https://{FEEDS_HOST}/{name}"
        if url not in self.pages:
            raise KeyError(name)
        return url

    def local_url(self, url: str) -> str:
        """Rewriting mode, for a client that cannot take a transport:
        https://host/path?q → http://127.0.0.1:<port>/host/path?q (served the same)."""
        parts = urlsplit(url)
        return f"{self.base_url}/{parts.netloc}{parts.path or '/'}" + (
            f"?{parts.query}" if parts.query else ""
        )


# -- HostileServer --------------------------------------------------------------------------


@functools.cache
def gzip_bomb() -> bytes:
    """A valid gzip member (~1 MB) that inflates to GZIP_BOMB_SIZE (1 GiB) of zeros. Deflate
    cannot beat ~1032:1, so ~1 MB is the floor for 1 GiB in one layer. Built in a few ms:
    Z_FULL_FLUSH byte-aligns and resets the window, so every MiB of zeros compresses to the
    same self-contained block, repeated 1024 times."""
    mib = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(bytes(mib)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # empty last block
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"  # magic, deflate, mtime 0, unix
    # CRC-32 of 2**30 zero bytes (zlib.crc32 over them takes ~0.4 s, so it is written here).
    crc = 0x5B64C2B0
    trailer = struct.pack("<II", crc, GZIP_BOMB_SIZE & 0xFFFFFFFF)
    return header + block * (GZIP_BOMB_SIZE // mib) + final + trailer


@functools.cache
def _nested_gzip_bomb() -> bytes:
    # The bomb gzipped again: its repeated blocks shrink to a few KB.
    return gzip.compress(gzip_bomb(), compresslevel=9, mtime=0)


def article_title(n: int) -> str:
    """og:title of HostileServer's /article/<n>."""
    return f"Rennes : le conseil municipal adopte son budget, épisode {n}"


def _article_html(n: int) -> str:
    title = article_title(n)
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>{title} | Ouest Exemple</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Ouest Exemple">
<meta property="article:published_time" content="2026-02-03T0{n % 10}:00:00+01:00">
</head><body>
<article><h1>{title}</h1>
<p class="date"><time datetime="2026-02-03">3 février 2026</time></p>
<p>Le conseil municipal de Rennes a voté mardi soir un budget de 412 millions d'euros pour
l'année 2026, en hausse de 3 % par rapport à l'an dernier.</p>
<p>La maire a défendu un effort particulier sur les transports en commun et la rénovation des
écoles, deux chantiers qu'elle juge prioritaires pour la fin du mandat.</p>
</article>
<footer>© Ouest Exemple — Mentions légales</footer>
</body></html>"""


def _charset_page(text: str, meta: str = "", padding: str = "") -> str:
    paragraphs = "\n".join(f"<p>{text}</p>" for _ in range(4))
    return (
        f'<!DOCTYPE html><html lang="fr"><head>{padding}{meta}\n'
        f"<title>Budget municipal à Besançon</title></head>\n"
        f"<body><article><h1>Budget municipal à Besançon</h1>\n{paragraphs}\n"
        f"</article></body></html>"
    )


_CHARSET_WRONG = _charset_page(CP1252_TEXT).encode("cp1252")
_CHARSET_MISSING = _CHARSET_WRONG
# The HTML prescan only reads the first 1024 bytes: an ASCII comment pushes the meta past it.
_CHARSET_META_LATE = _charset_page(
    LATIN1_TEXT,
    meta='<meta charset="iso-8859-1">',
    padding="<!-- " + "bourrage " * 130 + "-->\n",
).encode("iso-8859-1")
assert _CHARSET_META_LATE.index(b"<meta charset") > 1024

_MALFORMED_FEED = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    "<title>Flux cassé</title><item><title>Fermetures & ouvertures</title>"
    "<link>http://exemple.test/a</link></item><item><title>Sans fin"
).encode()
_HTML_AS_FEED = _charset_page("Ceci est une page HTML, pas un flux.", '<meta charset="utf-8">')
_DRIP = b"<!DOCTYPE html><html><body><p>goutte \xc3\xa0 goutte</p>\n"
_ENDLESS_CHUNK = (
    b"<p>Le flux ne s'arr\xc3\xaate jamais : encore un paragraphe, puis un autre.</p>\n" * 256
)
_BIG_CHUNK = (b"<p>" + b"Gros document. " * 60 + b"</p>\n") * 64


def _rss(title: str, links: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{item_title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Tue, 03 Feb 2026 0{i + 7}:00:00 +0100</pubDate></item>"
        for i, (item_title, link) in enumerate(links)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://127.0.0.1/</link>"
        f"<description>{title}</description>{items}</channel></rss>"
    ).encode()


class _HostileHandler(_BaseHandler):
    def route(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        segments = path.strip("/").split("/")
        head, arg = segments[0], "/".join(segments[1:])
        owner: HostileServer = self.server.owner  # type: ignore[assignment]
        if path == "/":
            links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in _HOSTILE_INDEX)
            self.send(200, f"<!DOCTYPE html><ul>{links}</ul>".encode())
        elif path == "/slow-drip":
            self._slow_drip(float(query.get("interval", 0.5)))
        elif path == "/slow-headers":
            if not self.stopping.wait(float(query.get("delay", 5))):
                self.send(200, _article_html(0).encode())
        elif path == "/endless":
            self._endless()
        elif path in ("/gzip-bomb", "/gzip-bomb-nested"):
            nested = path.endswith("nested")
            body = _nested_gzip_bomb() if nested else gzip_bomb()
            encoding = "gzip, gzip" if nested else "gzip"
            self._stream(body, {"Content-Encoding": encoding})
        elif path == "/redirect-loop":
            self.send(302, b"", HTML, {"Location": "/redirect-loop-2"})
        elif path == "/redirect-loop-2":
            self.send(302, b"", HTML, {"Location": "/redirect-loop"})
        elif head == "redirect-chain" and arg.isdigit():
            left = int(arg)
            if left <= 0:
                self.send(200, _article_html(0).encode())
            else:  # absolute Location here, relative in the loop: both forms get exercised
                location = f"{self.origin()}/redirect-chain/{left - 1}"
                self.send(302, b"", HTML, {"Location": location})
        elif path == "/redirect-private":
            self.send(302, b"", HTML, {"Location": PRIVATE_LINKS[1]})
        elif head == "status" and arg.isdigit() and 200 <= int(arg) <= 599:
            extra = {"Retry-After": query["retry-after"]} if "retry-after" in query else {}
            body = f"<!DOCTYPE html><title>{arg}</title><p>Statut {arg}.</p>".encode()
            self.send(int(arg), body, HTML, extra)
        elif head == "flaky" and arg.isdigit():
            if owner._hit(path) <= int(arg):
                extra = {"Retry-After": query["retry-after"]} if "retry-after" in query else {}
                self.send(503, b"<p>Service indisponible, revenez plus tard.</p>", HTML, extra)
            else:
                self.send(200, _article_html(int(arg)).encode())
        elif path == "/charset/wrong":
            self.send(200, _CHARSET_WRONG, "text/html; charset=utf-8")
        elif path == "/charset/missing":
            self.send(200, _CHARSET_MISSING, "text/html")
        elif path == "/charset/meta-late":
            self.send(200, _CHARSET_META_LATE, "text/html")
        elif path == "/feed/malformed":
            self.send(200, _MALFORMED_FEED, RSS)
        elif path == "/feed/html":
            self.send(200, _HTML_AS_FEED.encode(), RSS)
        elif path == "/feed/private-link":
            links = [("Document secret", PRIVATE_LINKS[0]), ("Métadonnées", PRIVATE_LINKS[1])]
            self.send(200, _rss("Liens privés", links), RSS)
        elif path == "/feed/ok":
            links = [(article_title(n), f"{self.origin()}/article/{n}") for n in (1, 2, 3)]
            self.send(200, _rss("Ouest Exemple", links), RSS, conditional=True)
        elif head == "article" and arg.isdigit():
            self.send(200, _article_html(int(arg)).encode(), conditional=True)
        elif path == "/big":
            self._big(int(query.get("size", BIG_SIZE)))
        elif path == "/robots.txt":
            self.send(200, owner.robots.encode("utf-8"), TEXT)
        elif head == "private":
            self.send(200, b"<!DOCTYPE html><title>Priv\xc3\xa9</title><p>Zone interdite.</p>")
        else:
            self.not_found()

    def _start_stream(self, headers: Mapping[str, str]) -> bool:
        """Headers of an endless or slow body, which ends only when the connection closes.
        False for HEAD (headers only)."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        return self.command != "HEAD"

    def _slow_drip(self, interval: float) -> None:
        # Close-delimited body (no Content-Length): only a total deadline can end it.
        if not self._start_stream({}):
            return
        index = 0
        while True:
            self.wfile.write(bytes([_DRIP[index % len(_DRIP)]]))
            index += 1
            if self.stopping.wait(interval):
                return

    def _endless(self) -> None:
        # Chunked, as an HTTP/1.1 server streams a body of unknown length.
        if not self._start_stream({"Transfer-Encoding": "chunked"}):
            return
        frame = b"%x\r\n%s\r\n" % (len(_ENDLESS_CHUNK), _ENDLESS_CHUNK)
        while not self.stopping.is_set():
            self.wfile.write(frame)

    def _stream(self, body: bytes, headers: Mapping[str, str]) -> None:
        """A body with Content-Length, written in chunks so stop() interrupts it."""
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        view = memoryview(body)
        for start in range(0, len(body), 1 << 16):
            if self.stopping.is_set():
                self.close_connection = True
                return
            self.wfile.write(view[start : start + (1 << 16)])

    def _big(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        while sent < size:
            if self.stopping.is_set():
                self.close_connection = True
                return
            chunk = _BIG_CHUNK[: size - sent]
            self.wfile.write(chunk)
            sent += len(chunk)


_HOSTILE_INDEX = (
    "/slow-drip",
    "/slow-headers?delay=5",
    "/endless",
    "/gzip-bomb",
    "/gzip-bomb-nested",
    "/redirect-loop",
    "/redirect-chain/3",
    "/redirect-private",
    "/status/404",
    "/status/410",
    "/status/429?retry-after=1",
    "/status/500",
    "/status/503?retry-after=2",
    "/flaky/2",
    "/charset/wrong",
    "/charset/missing",
    "/charset/meta-late",
    "/feed/malformed",
    "/feed/html",
    "/feed/private-link",
    "/feed/ok",
    "/article/1",
    "/big",
    "/robots.txt",
    "/private/page",
)


class HostileServer(_LoopbackServer):
    """Misbehaving endpoints under `http://127.0.0.1:<port>/` (listed at `/`), for timeouts,
    size caps, redirects, retries, charsets, feeds and robots.txt. `robots` replaces the
    default robots.txt (Disallow: /private/, Crawl-delay: 1)."""

    handler = _HostileHandler

    def __init__(self, *, robots: str = HOSTILE_ROBOTS) -> None:
        super().__init__()
        self.robots = robots
        self._hits: dict[str, int] = {}
        self._hits_lock = threading.Lock()

    def _hit(self, key: str) -> int:
        """How many times `key` has been requested, this request included (for /flaky/N)."""
        with self._hits_lock:
            self._hits[key] = self._hits.get(key, 0) + 1
            return self._hits[key]


class HeldHook:
    """A webhook receiver on loopback that holds each POST until `release` is set (or
    `hold` seconds pass), for tests and benchmarks of a slow delivery in flight.
    `arrived` is set when a POST came in; `bodies` keeps what was received."""

    def __init__(self, hold: float = 30.0) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.bodies: list[bytes] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.arrived.set()
                hook.release.wait(hold)
                hook.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# -- RouteServer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One answer of a RouteServer: status, body and headers (Content-Type defaults to
    HTML), after `delay` seconds (longer than a client's deadline: a timeout)."""

    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = dataclass_field(default_factory=dict)
    delay: float = 0.0


class _RouteHandler(_BaseHandler):
    def route(self) -> None:
        owner: RouteServer = self.server.owner  # type: ignore[assignment]
        answer = owner.routes.get(self.path) or owner.routes.get(urlsplit(self.path).path)
        if answer is None:
            self.not_found()
            return
        if answer.delay and self.stopping.wait(answer.delay):
            return
        headers = dict(answer.headers)
        content_type = headers.pop("Content-Type", HTML)
        self.send(answer.status, answer.body, content_type, headers)


class RouteServer(_LoopbackServer):
    """Answers `http://127.0.0.1:<port><path>` from `routes` ({path: Route}, the path with
    or without its query), 404 elsewhere; `routes` may be changed between requests. For
    odd bodies and statuses no other server serves (a feed in UTF-32, a 503 robots.txt)."""

    handler = _RouteHandler

    def __init__(self, routes: Mapping[str, Route] | None = None) -> None:
        super().__init__()
        self.routes: dict[str, Route] = dict(routes or {})


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]
