"""The fetcher: polite, bounded, retrying HTTP behind the address guard.

Per host: a concurrency limit and a minimum delay between request starts (raised by
robots.txt Crawl-delay and by Retry-After). Per request: conditional headers, manual
redirects (each hop checked, loops caught), a total deadline on top of httpx's connect and
read timeouts (a slow drip defeats read timeouts), a decoded-size limit, retries with
exponential back-off and jitter on transient failures only.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from veille.config import USER_AGENT_TOKEN, FetchSettings
from veille.fetch.archive import ReplayMiss, WarcArchive
from veille.fetch.body import BodyTooLarge, BoundedDecoder, UnsupportedEncoding
from veille.fetch.safety import Allowlist, UnsafeURLError, check_url, guarded_transport
from veille.i18n import _

_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
_REDIRECTS = {301, 302, 303, 307, 308}
ROBOTS_TTL = 24 * 3600.0  # seconds a robots.txt is trusted (RFC 9309 §2.4)
# After a robots.txt outage, seconds before asking again, doubling up to the maximum.
ROBOTS_RETRY = 60.0
ROBOTS_RETRY_MAX = 3600.0


def _unavailable(status: int | None) -> bool:
    """A robots.txt status meaning "no rules" (RFC 9309 §2.3.1.3: any 4xx). 429 is the
    exception, as Google's crawlers make it: the site asks to slow down, not to be crawled
    freely, so it counts as unreachable."""
    return status is not None and 400 <= status < 500 and status != 429


@dataclass(frozen=True)
class FetchResult:
    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    redirects: tuple[str, ...] = ()

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A fetch that failed for good, with the reason in words and the HTTP status if any."""

    def __init__(self, url: str, kind: str, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.url = url
        # http, timeout, network, too-large, unsafe, robots, robots-unavailable, redirect, replay
        self.kind = kind
        self.reason = reason
        self.status = status

    @property
    def permanent(self) -> bool:
        """Not worth retrying on a later run (gone, refused, forbidden by robots.txt). A
        robots.txt that could not be read ("robots-unavailable") is not: the site's pages
        wait until it can be."""
        return self.kind in ("unsafe", "robots", "too-large") or self.status in (404, 410, 451)

    @property
    def asked(self) -> bool:
        """Whether the page itself was asked for: a page held back because its site's
        robots.txt could not be read was not, so that is no attempt of the page's."""
        return self.kind != "robots-unavailable"


@dataclass(frozen=True)
class _RobotsOutage:
    """robots.txt could not be had (5xx, unreachable, timeout). RFC 9309 §2.3.1.4: crawl
    nothing from the site meanwhile; it is asked again after `retry_at` (back-off)."""

    reason: str
    retry_at: float
    failures: int


@dataclass(frozen=True)
class _RobotsRules:
    rules: Protego | None  # None: everything allowed (no robots.txt, or replaying)
    expires_at: float


@dataclass
class _Response:
    request: httpx.Request
    status: int
    headers: httpx.Headers
    content: bytes


class _HostGate:
    """Request starts to one host are at least `delay` apart; at most `limit` at once."""

    def __init__(
        self,
        limit: int,
        delay: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._semaphore = asyncio.Semaphore(limit)
        self._lock = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep
        self.delay = delay
        self.next_start = 0.0

    @asynccontextmanager
    async def slot(self):
        async with self._semaphore:
            async with self._lock:
                wait = self.next_start - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                self.next_start = self._clock() + self.delay
            yield

    def slow_down(self, delay: float) -> None:
        """A longer delay (robots.txt Crawl-delay) applies from the last start already."""
        if delay > self.delay:
            self.next_start += delay - self.delay
            self.delay = delay

    def hold(self, seconds: float) -> None:
        self.next_start = max(self.next_start, self._clock() + seconds)


class Fetcher:
    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        archive: WarcArchive | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.allow = Allowlist.parse(settings.allow)
        self.archive = archive
        self._clock = clock
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            transport=transport
            or guarded_transport(self.allow, http2=settings.http2, resolve=settings.resolve),
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            trust_env=False,  # an environment proxy would bypass the address guard
            headers={
                "User-Agent": settings.user_agent,
                "Accept-Language": "fr,en;q=0.8,*;q=0.5",
                "Accept-Encoding": "gzip, deflate, br",
            },
        )
        self._hosts: dict[str, _HostGate] = {}
        self._robots: dict[str, _RobotsRules | _RobotsOutage] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- public --------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
    ) -> FetchResult:
        """GET `url`, following redirects; raises FetchError for anything but 2xx/304."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen: list[str] = []
        current = url
        while True:
            self._check_safe(url, current)
            if robots and self.settings.robots:
                await self._check_robots(url, current)
            response = await self._request(url, current, headers)
            location = response.headers.get("location")
            if response.status in _REDIRECTS and location:
                seen.append(current)
                current = urljoin(current, location.strip())
                if current in seen:
                    raise FetchError(url, "redirect", _("redirect loop at {url}", url=current))
                if len(seen) > self.settings.max_redirects:
                    raise FetchError(
                        url,
                        "redirect",
                        _("more than {count} redirects", count=self.settings.max_redirects),
                    )
                continue
            if response.status >= 400 or (response.status >= 300 and response.status != 304):
                raise FetchError(url, "http", _http_reason(response.status), status=response.status)
            return FetchResult(
                url=url,
                final_url=current,
                status=response.status,
                content=response.content,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                redirects=tuple(seen),
            )

    async def _check_robots(self, url: str, current: str) -> None:
        """Raise FetchError unless robots.txt lets `current` be fetched (rules fetched once
        per origin, kept a day as RFC 9309 §2.4 allows)."""
        parts = urlsplit(current)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            known = self._robots.get(origin)
            if known is None or self._clock() >= (
                known.expires_at if isinstance(known, _RobotsRules) else known.retry_at
            ):
                known = await self._load_robots(url, origin, known)
                self._robots[origin] = known
        if isinstance(known, _RobotsOutage):
            raise FetchError(
                url,
                "robots-unavailable",
                _(
                    "robots.txt of {host} cannot be read ({reason}): nothing is fetched from "
                    "the site until it can, try later",
                    host=parts.netloc,
                    reason=known.reason,
                ),
            )
        if known.rules is not None and not known.rules.can_fetch(current, USER_AGENT_TOKEN):
            raise FetchError(url, "robots", _("forbidden by the site's robots.txt"))

    # -- internals -----------------------------------------------------------------------

    def _check_safe(self, url: str, current: str) -> None:
        try:
            urlsplit(current)  # the gates and robots.txt parse it too: "http://[x" fails there
            check_url(current, allow=self.allow)
        except ValueError as exc:
            raise FetchError(url, "unsafe", _("invalid URL: {error}", error=exc)) from exc
        except UnsafeURLError as exc:
            raise FetchError(url, "unsafe", exc.reason) from exc

    async def _load_robots(
        self, url: str, origin: str, before: _RobotsRules | _RobotsOutage | None
    ) -> _RobotsRules | _RobotsOutage:
        expires_at = self._clock() + ROBOTS_TTL
        try:
            result = await self.fetch(f"{origin}/robots.txt", robots=False)
        except FetchError as exc:
            if exc.kind == "unsafe":
                # The address guard refuses the host itself: say so, not "robots.txt".
                raise FetchError(url, "unsafe", exc.reason) from exc
            if exc.kind in ("replay", "redirect") or _unavailable(exc.status):
                # Replaying: the capture ran with robots.txt obeyed. RFC 9309 §2.3.1.2-3:
                # a robots.txt that is missing (4xx) or redirects too often allows all.
                return _RobotsRules(None, expires_at)
            # 5xx, unreachable, timeout (§2.3.1.4): nothing is fetched for now.
            failures = before.failures + 1 if isinstance(before, _RobotsOutage) else 1
            wait = min(ROBOTS_RETRY_MAX, ROBOTS_RETRY * 2 ** (failures - 1))
            return _RobotsOutage(exc.reason, self._clock() + wait, failures)
        rules = Protego.parse(result.content.decode("utf-8", "replace"))
        delay = rules.crawl_delay(USER_AGENT_TOKEN)
        if delay:
            self._gate(urlsplit(origin).netloc).slow_down(
                min(float(delay), self.settings.max_crawl_delay)
            )
        return _RobotsRules(rules, expires_at)

    def _gate(self, host: str) -> _HostGate:
        gate = self._hosts.get(host)
        if gate is None:
            gate = _HostGate(
                self.settings.host_concurrency, self.settings.host_delay, self._clock, self._sleep
            )
            self._hosts[host] = gate
        return gate

    async def _request(self, url: str, current: str, headers: dict[str, str]) -> _Response:
        gate = self._gate(urlsplit(current).netloc)
        settings = self.settings
        for attempt in range(settings.retries + 1):
            last = attempt == settings.retries
            try:
                async with gate.slot():
                    response = await asyncio.wait_for(
                        self._get(current, headers), settings.total_timeout
                    )
            except (TimeoutError, httpx.TimeoutException) as exc:
                if last:
                    raise FetchError(
                        url,
                        "timeout",
                        _("no complete answer within {seconds} s", seconds=settings.total_timeout),
                    ) from exc
            except UnsafeURLError as exc:
                raise FetchError(url, "unsafe", exc.reason) from exc
            except ReplayMiss as exc:
                raise FetchError(url, "replay", str(exc)) from exc
            except BodyTooLarge as exc:
                raise FetchError(
                    url,
                    "too-large",
                    _("body over the {limit:,}-byte limit", limit=settings.max_bytes),
                ) from exc
            except UnsupportedEncoding as exc:
                raise FetchError(
                    url, "http", _("unsupported Content-Encoding {encoding}", encoding=exc)
                ) from exc
            except httpx.TransportError as exc:
                if last:
                    raise FetchError(
                        url, "network", _("network error: {error}", error=_describe(exc))
                    ) from exc
            else:
                if response.status not in _TRANSIENT_STATUS or last:
                    return response
                wait = _retry_after(response.headers.get("retry-after"))
                if wait is not None:
                    if wait > settings.max_retry_after:
                        raise FetchError(
                            url,
                            "http",
                            _(
                                "{reason}; asked to come back in {seconds:.0f} s, longer than "
                                "allowed",
                                reason=_http_reason(response.status),
                                seconds=wait,
                            ),
                            status=response.status,
                        )
                    gate.hold(wait)  # the host asked everyone to wait, not just this URL
                    continue
            await self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        base = self.settings.backoff * (2**attempt)
        return min(self.settings.backoff_max, base) + random.uniform(0, self.settings.backoff)

    async def _get(self, url: str, headers: dict[str, str]) -> _Response:
        async with self._client.stream("GET", url, headers=headers) as response:
            decoder = BoundedDecoder(
                response.headers.get("content-encoding"), self.settings.max_bytes
            )
            async for chunk in response.aiter_raw(16384):
                decoder.feed(chunk)
            body = decoder.content()
        if self.archive is not None:
            self.archive.record(response.request, response, body)
        return _Response(response.request, response.status_code, response.headers, body)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _http_reason(status: int) -> str:
    phrase = httpx.codes.get_reason_phrase(status) or ""
    return _("HTTP {status} {phrase}", status=status, phrase=phrase).strip()


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."
