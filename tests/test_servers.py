"""The loopback servers the fetcher's tests rely on behave as documented in tests/servers.py."""

from __future__ import annotations

import asyncio
import socket
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import (
    ATOM,
    BIG_SIZE,
    CP1252_TEXT,
    GZIP_BOMB_SIZE,
    LAST_MODIFIED,
    LATIN1_TEXT,
    PRIVATE_LINKS,
    RSS,
    FixtureServer,
    HostileServer,
    _BaseHandler,
    article_title,
    seed_day_dir,
)

TIMEOUT = httpx.Timeout(5.0)
# Only a server that never hangs up gets near this: the test fails instead of hanging.
HANG_GUARD = 60.0


@pytest.fixture
def fixtures() -> Iterator[FixtureServer]:
    if not (seed_day_dir() / "urls.tsv").is_file():
        pytest.skip(
            f"{seed_day_dir()} is absent: the seed-day corpus lives in the shared folder "
            "beside the repository (set VEILLE_SHARED to its location)"
        )
    with FixtureServer(robots={"www.lesechos.fr": "User-agent: *\nDisallow: /\n"}) as server:
        yield server


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT) as opened:
        yield opened


# -- FixtureServer --------------------------------------------------------------------------


def test_fixture_page_through_async_transport(fixtures: FixtureServer) -> None:
    url = fixtures.page_urls[0]
    page = fixtures.pages[url]
    host = httpx.URL(url).host

    async def fetch() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=fixtures.transport(), timeout=TIMEOUT) as client:
            first = await client.get(url)
            etag = first.headers["etag"]
            by_etag = await client.get(url, headers={"If-None-Match": f'W/"x", {etag}'})
            by_date = await client.get(url, headers={"If-Modified-Since": LAST_MODIFIED})
            return first, by_etag, by_date

    first, by_etag, by_date = asyncio.run(fetch())
    assert page.file is not None
    assert first.status_code == 200
    assert str(first.url) == url  # the publisher's URL, not the loopback one
    assert first.content == page.file.read_bytes()
    assert first.headers["content-type"] == page.content_type
    assert first.headers["last-modified"] == LAST_MODIFIED
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert (by_date.status_code, by_date.content) == (304, b"")

    assert fixtures.count(host=host) == 3
    logged = fixtures.requests[0]
    assert (logged.method, logged.host, logged.status) == ("GET", host, 200)
    assert logged.header("X-Forwarded-Proto") == "https"
    assert url.endswith(logged.path)
    assert [r.status for r in fixtures.requests] == [200, 304, 304]
    assert fixtures.times(host) == sorted(fixtures.times(host))


def test_fixture_feeds_robots_and_404(fixtures: FixtureServer) -> None:
    with httpx.Client(transport=fixtures.sync_transport(), timeout=TIMEOUT) as client:
        rss = client.get(fixtures.feed_url("outlets.rss"))
        atom = client.get(fixtures.feed_url("google-alert-cybersecurite.xml"))
        assert (rss.status_code, rss.headers["content-type"]) == (200, RSS)
        assert (atom.status_code, atom.headers["content-type"]) == (200, ATOM)

        youtube = next(u for u in fixtures.page_urls if "?" in u)  # the query string counts
        assert client.get(youtube).status_code == 200
        assert client.get(youtube.split("?")[0]).status_code == 404
        assert client.get("https://www.lesechos.fr/inconnu").status_code == 404
        redirected = client.get(fixtures.page_urls[0].replace("https:", "http:", 1))
        assert (redirected.status_code, redirected.headers["location"]) == (
            301,
            fixtures.page_urls[0],
        )

        assert client.get("https://n-importe-quel.example/robots.txt").text == (
            "User-agent: *\nDisallow:\n"
        )
        assert "Disallow: /\n" in client.get("https://www.lesechos.fr/robots.txt").text
    assert fixtures.count(path="/robots.txt") == 2


def test_fixture_rewriting_mode(fixtures: FixtureServer, client: httpx.Client) -> None:
    url = fixtures.page_urls[-1]
    response = client.get(fixtures.local_url(url))
    assert response.content == fixtures.pages[url].body


def test_fixture_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEILLE_SHARED", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="VEILLE_SHARED"):
        FixtureServer()


# -- HostileServer --------------------------------------------------------------------------


def test_statuses_and_retry_after(hostile: HostileServer, client: httpx.Client) -> None:
    for code in (404, 410, 500):
        assert client.get(hostile.url(f"/status/{code}")).status_code == code
    unavailable = client.get(hostile.url("/status/503?retry-after=2"))
    assert (unavailable.status_code, unavailable.headers["retry-after"]) == (503, "2")
    throttled = client.get(hostile.url("/status/429?retry-after=1"))
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "1")
    assert client.get(hostile.url("/nulle-part")).status_code == 404

    assert [client.get(hostile.url("/flaky/2")).status_code for _ in range(4)] == [
        503,
        503,
        200,
        200,
    ]
    assert hostile.count(path="/flaky/2") == 4
    assert hostile.count(path="/status/503") == 1  # matches without the query string too
    assert hostile.count(host="127.0.0.1") == 10


def test_redirects(hostile: HostileServer, client: httpx.Client) -> None:
    with pytest.raises(httpx.TooManyRedirects):
        client.get(hostile.url("/redirect-loop"), follow_redirects=True)
    chain = client.get(hostile.url("/redirect-chain/3"), follow_redirects=True)
    assert chain.status_code == 200
    assert len(chain.history) == 3
    # Never follow this one: it points at the cloud metadata address.
    private = client.get(hostile.url("/redirect-private"))
    assert (private.status_code, private.headers["location"]) == (302, PRIVATE_LINKS[1])


def test_charsets(hostile: HostileServer, client: httpx.Client) -> None:
    wrong = client.get(hostile.url("/charset/wrong"))
    assert wrong.headers["content-type"] == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        wrong.content.decode("utf-8")
    assert CP1252_TEXT in wrong.content.decode("cp1252")

    missing = client.get(hostile.url("/charset/missing"))
    assert missing.headers["content-type"] == "text/html"
    assert b"charset" not in missing.content.lower()
    assert CP1252_TEXT in missing.content.decode("cp1252")

    late = client.get(hostile.url("/charset/meta-late"))
    assert late.headers["content-type"] == "text/html"
    assert late.content.index(b'<meta charset="iso-8859-1">') > 1024
    assert LATIN1_TEXT in late.content.decode("iso-8859-1")


def test_feeds_and_articles(hostile: HostileServer, client: httpx.Client) -> None:
    malformed = client.get(hostile.url("/feed/malformed"))
    assert malformed.headers["content-type"] == RSS
    with pytest.raises(ET.ParseError):
        ET.fromstring(malformed.content)
    html = client.get(hostile.url("/feed/html"))
    assert html.headers["content-type"] == RSS
    assert html.content.startswith(b"<!DOCTYPE html>")

    private = ET.fromstring(client.get(hostile.url("/feed/private-link")).content)
    assert [link.text for link in private.iter("link")][1:] == list(PRIVATE_LINKS)

    feed = client.get(hostile.url("/feed/ok"))
    links = [item.findtext("link") for item in ET.fromstring(feed.content).iter("item")]
    assert links == [hostile.url(f"/article/{n}") for n in (1, 2, 3)]
    for n, link in enumerate(links, start=1):
        article = client.get(link)
        assert f'<meta property="og:title" content="{article_title(n)}">' in article.text
        assert "2026-02-03" in article.text
    again = client.get(hostile.url("/feed/ok"), headers={"If-None-Match": feed.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    article = client.get(hostile.url("/article/1"), headers={"If-Modified-Since": LAST_MODIFIED})
    assert article.status_code == 304
    older = "Mon, 02 Feb 2026 12:00:00 GMT"
    assert client.get(links[0], headers={"If-Modified-Since": older}).status_code == 200


def test_robots_and_private_page(hostile: HostileServer, client: httpx.Client) -> None:
    robots = client.get(hostile.url("/robots.txt")).text
    assert robots == "User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n"
    assert client.get(hostile.url("/private/page")).status_code == 200
    assert hostile.count(path="/private/page") == 1


def test_endless_and_big_bodies(hostile: HostileServer, client: httpx.Client) -> None:
    with client.stream("GET", hostile.url("/endless")) as endless:
        assert endless.status_code == 200
        assert "content-length" not in endless.headers
        received = 0
        for chunk in endless.iter_raw():
            received += len(chunk)
            if received > 1 << 20:
                break
    with client.stream("GET", hostile.url("/big")) as big:
        assert int(big.headers["content-length"]) == BIG_SIZE
        assert sum(len(chunk) for chunk in big.iter_raw()) == BIG_SIZE


def test_gzip_bomb_is_small_on_the_wire(hostile: HostileServer, client: httpx.Client) -> None:
    with client.stream("GET", hostile.url("/gzip-bomb")) as bomb:
        assert bomb.headers["content-encoding"] == "gzip"
        raw = b"".join(bomb.iter_raw())  # compressed bytes only: never decode it all
    assert len(raw) == int(bomb.headers["content-length"]) < 2 * 1024 * 1024
    assert int.from_bytes(raw[-4:], "little") == GZIP_BOMB_SIZE % 2**32  # gzip's ISIZE
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    ten_mib = inflater.decompress(raw[:20_000], 10 << 20)
    assert ten_mib == bytes(10 << 20)  # 20 KB on the wire already give 10 MiB of zeros


def test_slow_drip_and_endless_through_async_transport(hostile: HostileServer) -> None:
    async def fetch() -> tuple[str, bytes, int]:
        async with httpx.AsyncClient(transport=hostile.transport(), timeout=TIMEOUT) as client:
            async with client.stream("GET", "https://goutte.example/slow-drip") as drip:
                first = await anext(drip.aiter_raw())
            # The transport streams: reading a bounded amount of an endless body returns.
            async with client.stream("GET", "https://sans-fin.example/endless") as endless:
                received = 0
                async for chunk in endless.aiter_raw():
                    received += len(chunk)
                    if received > 256 * 1024:
                        break
            # Absolute links and redirects follow the host the client asked for.
            feed = await client.get("https://ouest.example/feed/ok")
            assert "<link>https://ouest.example/article/1</link>" in feed.text
            chain = await client.get(
                "https://ouest.example/redirect-chain/2", follow_redirects=True
            )
            assert str(chain.url) == "https://ouest.example/redirect-chain/0"
            return str(drip.url), first, received

    url, first, received = asyncio.run(asyncio.wait_for(fetch(), 5))
    assert url == "https://goutte.example/slow-drip"
    assert first == b"<"
    assert received > 256 * 1024
    assert hostile.count(host="goutte.example") == 1


def _slow_clients(port: int) -> list[socket.socket]:
    """A slow-drip reader that stopped reading, a slowloris writer with half a request line,
    and an idle keep-alive connection."""
    reader = socket.create_connection(("127.0.0.1", port), timeout=2)
    reader.sendall(b"GET /slow-drip?interval=0.1 HTTP/1.1\r\nHost: lent.example\r\n\r\n")
    assert reader.recv(12).startswith(b"HTTP/1.1")
    writer = socket.create_connection(("127.0.0.1", port), timeout=2)
    writer.sendall(b"GET /slow-dr")
    idle = socket.create_connection(("127.0.0.1", port), timeout=2)
    idle.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: lent.example\r\n\r\n")
    assert idle.recv(12).startswith(b"HTTP/1.1")
    return [reader, writer, idle]


def _hung_up_on(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (end of stream or reset), reading what it still
    had to say; False if it stays silent for HANG_GUARD seconds."""
    sock.settimeout(HANG_GUARD)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:  # reset: hung up as well
        pass
    return True


@pytest.mark.parametrize("kind", ["hostile", "fixture"])
def test_stop_hangs_up_on_slow_clients(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the handlers' socket timeout, a connection the server does not hang up on
    # stays open for good: only stop() itself can end these three.
    monkeypatch.setattr(_BaseHandler, "timeout", None)
    if kind == "fixture":  # a one-page corpus, so this runs without the shared folder
        (tmp_path / "page.html").write_bytes(b"<p>Bonjour</p>")
        (tmp_path / "urls.tsv").write_text("https://a.example/\tpage.html\ttext/html\n")
        server: FixtureServer | HostileServer = FixtureServer(tmp_path)
    else:
        server = HostileServer()
    with server:
        clients = _slow_clients(server.port)
    try:
        for name, sock in zip(("slow reader", "slowloris writer", "idle"), clients, strict=True):
            assert _hung_up_on(sock), f"hung: stop() left the {name} client connected"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    finally:
        for sock in clients:
            sock.close()
