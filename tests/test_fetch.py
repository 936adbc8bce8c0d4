"""The fetcher against real HTTP servers on 127.0.0.1: politeness, limits, hostile answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from itertools import pairwise
from typing import Any, TypeVar

import httpcore
import pytest

from tests.servers import CP1252_TEXT, LATIN1_TEXT, HostileServer, article_title
from veille.config import FetchSettings, Settings
from veille.extract import extract_html
from veille.fetch import Fetcher, FetchError
from veille.fetch.safety import Allowlist, guarded_transport
from veille.model import Source
from veille.pipeline import run_once

pytestmark = pytest.mark.asyncio

# robots.txt is off but where it is tested: the server's Crawl-delay of 1 s would make
# every other test crawl.
FAST = dict(
    host_delay=0.0,
    total_timeout=3.0,
    connect_timeout=2.0,
    read_timeout=2.0,
    retries=1,
    backoff=0.05,
    max_retry_after=5.0,
    max_bytes=1024 * 1024,
    allow=("127.0.0.1",),
    robots=False,
)
# Only a broken fetcher gets anywhere near this: the test fails instead of hanging.
HANG_GUARD = 300.0
T = TypeVar("T")


async def _guarded(work: Awaitable[T]) -> T:
    return await asyncio.wait_for(work, HANG_GUARD)


@pytest.fixture(scope="module")
def hostile():
    with HostileServer() as server:
        yield server


def fetcher(**changes) -> Fetcher:
    return Fetcher(FetchSettings(**(FAST | changes)))


async def _error(url: str, transport: Any = None, **changes) -> FetchError:
    async with Fetcher(FetchSettings(**(FAST | changes)), transport=transport) as client:
        with pytest.raises(FetchError) as caught:
            await _guarded(client.fetch(url))
    return caught.value


class _Counted(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream, backend: _CountingBackend) -> None:
        self.stream, self.backend = stream, backend

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self.stream.read(max_bytes, timeout)
        self.backend.received += len(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.stream.aclose()

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class _CountingBackend(httpcore.AsyncNetworkBackend):
    """The network under the fetcher's address guard, counting the bytes read off it."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.received = 0

    async def connect_tcp(self, host: str, port: int, **options: Any) -> _Counted:
        return _Counted(await self.inner.connect_tcp(host, port, **options), self)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def test_private_addresses_are_refused_unless_allowed(hostile):
    error = await _error(hostile.url("/article/1"), allow=())
    assert error.kind == "unsafe" and "127.0.0.1" in error.reason
    assert hostile.count(path="/article/1") == 0
    async with fetcher() as client:
        page = await client.fetch(hostile.url("/article/1"))
    assert article_title(1).encode() in page.content


async def test_redirect_to_a_private_address_is_refused(hostile):
    error = await _error(hostile.url("/redirect-private"))
    assert error.kind == "unsafe" and "169.254.169.254" in error.reason


async def test_slow_drip_ends_at_the_total_deadline(hostile):
    hostile.clear()
    # A byte every 0.2 s never trips a 60 s read timeout: only the total deadline ends it.
    url = hostile.url("/slow-drip?interval=0.2")
    error = await _error(url, total_timeout=1.0, read_timeout=60.0, retries=0)
    assert error.kind == "timeout"
    assert error.reason == "pas de réponse complète en 1.0 s"
    assert hostile.client_left("/slow-drip", HANG_GUARD)  # the client hung up on it


@pytest.mark.parametrize("path", ["/endless", "/big", "/gzip-bomb"])
async def test_oversized_bodies_stop_at_the_limit_without_the_memory(hostile, path):
    limit = 512 * 1024
    network = _CountingBackend()
    transport = guarded_transport(Allowlist.parse(FAST["allow"]), backend=network)
    error = await _error(hostile.url(path), transport, max_bytes=limit)
    assert error.kind == "too-large"
    assert error.reason == f"contenu au-delà de la limite de {limit:,} octets"
    # Read off the socket and decoded alike, it stops near the limit, whether the body is
    # endless, 20 MB or 1 GiB inflated from 1 MB: what was read and held stays that small.
    assert network.received < limit + 256 * 1024
    decoded = error.__cause__.args[0]  # BodyTooLarge: the decoded size when it stopped
    assert limit < decoded <= limit + 64 * 1024


async def test_redirect_loop_and_long_chains_are_caught(hostile):
    error = await _error(hostile.url("/redirect-loop"))
    assert error.kind == "redirect" and "boucle" in error.reason
    error = await _error(hostile.url("/redirect-chain/5"), max_redirects=3)
    assert error.kind == "redirect"
    async with fetcher() as client:
        result = await client.fetch(hostile.url("/redirect-chain/2"))
    assert result.status == 200 and len(result.redirects) == 2


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_http_errors_are_readable_and_only_transient_ones_retried(hostile, status):
    hostile.clear()
    error = await _error(hostile.url(f"/status/{status}"), retries=2)
    assert error.status == status and str(status) in error.reason
    assert error.permanent == (status != 500)
    assert hostile.count(path=f"/status/{status}") == (3 if status == 500 else 1)


async def test_retry_after_is_honoured(hostile):
    hostile.clear()
    error = await _error(hostile.url("/status/503?retry-after=1"), retries=1)
    assert error.status == 503
    times = hostile.times(path="/status/503")
    # Asked again once, and not before the second the server asked for.
    assert len(times) == 2 and times[1] - times[0] >= 0.95
    hostile.clear()
    error = await _error(hostile.url("/status/503?retry-after=2"), max_retry_after=1.0)
    assert "revenir dans 2 s" in error.reason
    assert hostile.count(path="/status/503") == 1  # longer than allowed: not waited for


async def test_transient_failures_are_retried_until_success(hostile):
    async with fetcher(retries=3) as client:
        result = await client.fetch(hostile.url("/flaky/2"))
    assert result.status == 200


async def test_robots_disallow_is_obeyed_and_crawl_delay_spaces_requests(hostile):
    hostile.clear()
    async with fetcher(host_delay=0.1, robots=True) as client:
        with pytest.raises(FetchError) as caught:
            await client.fetch(hostile.url("/private/page"))
        assert caught.value.kind == "robots"
        await asyncio.gather(*(client.fetch(hostile.url(f"/article/{n}")) for n in (1, 2, 3)))
    assert hostile.count(path="/private/page") == 0
    times = hostile.times()  # robots.txt then the three articles
    gaps = [b - a for a, b in pairwise(times)]
    # Crawl-delay: 1 beats host_delay; 10 ms for the clocks of client and server.
    assert len(times) == 4 and min(gaps) >= 0.9  # Crawl-delay: 1 (arrival jitter allowed)


async def test_conditional_get_gets_304(hostile):
    async with fetcher() as client:
        first = await client.fetch(hostile.url("/article/2"))
        again = await client.fetch(hostile.url("/article/2"), etag=first.etag)
    assert first.etag and again.not_modified and again.content == b""


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/charset/wrong", CP1252_TEXT),
        ("/charset/missing", CP1252_TEXT),
        ("/charset/meta-late", LATIN1_TEXT),
    ],
)
async def test_wrong_or_missing_charsets_decode(hostile, path, text):
    async with fetcher() as client:
        result = await client.fetch(hostile.url(path))
    found = extract_html(result.content, result.final_url, result.content_type)
    assert text in found.text


async def test_a_run_records_every_hostile_source_and_stores_the_good_one(hostile, store):
    bad = [
        "/feed/malformed",
        "/feed/html",
        "/status/404",
        "/status/410",
        "/status/500",
        "/status/503?retry-after=30",
        "/slow-drip?interval=0.3",
        "/endless",
        "/gzip-bomb",
        "/redirect-loop",
        "/charset/missing",
    ]
    for path in [*bad, "/feed/ok", "/feed/private-link"]:
        store.add_source(Source(name=path, kind="feed", location=hostile.url(path)))
    settings = Settings().with_fetch(**(FAST | {"total_timeout": 1.5}))
    async with Fetcher(settings.fetch) as client:
        report = await _guarded(run_once(store, settings, client))

    health = {s.name: s for s in store.sources()}
    for path in bad:
        assert health[path].last_error, path
        # A broken feed that still yielded an entry is read, with the error kept.
        assert health[path].failures == (0 if path == "/feed/malformed" else 1), path
    assert "HTML" in health["/feed/html"].last_error
    # The endless and the inflating bodies stopped at the size limit, the drip at the deadline.
    for path in ("/endless", "/gzip-bomb"):
        assert "contenu au-delà de la limite" in health[path].last_error, path
    assert "pas de réponse complète en 1.5 s" in health["/slow-drip?interval=0.3"].last_error
    assert health["/status/410"].last_status == 410
    assert health["/feed/ok"].failures == 0 and health["/feed/ok"].items_seen == 3
    titles = {a.title for a in store.articles()}
    assert {article_title(n) for n in (1, 2, 3)} <= titles
    refused = [f.reason for f in report.failed if f.stage == "fetch"]
    assert any("10.0.0.1" in r for r in refused) and any("169.254.169.254" in r for r in refused)
    # Failing sources come first in the health list.
    assert store.sources()[-1].failures == 0
