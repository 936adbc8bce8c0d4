"""Feeds served over loopback in the encodings and shapes the wild sends: read whole, or
refused with a reason, never a traceback."""

from __future__ import annotations

import codecs
import gzip
import random

import pytest

from tests.servers import RSS, Route, RouteServer
from veille.config import FetchSettings, Settings
from veille.fetch import Fetcher
from veille.model import Source
from veille.pipeline import run_once
from veille.sources.web import PollError, identify, poll

pytestmark = pytest.mark.asyncio

FAST = FetchSettings(host_delay=0.0, retries=0, allow=("127.0.0.1",), total_timeout=5.0)
TITLES = ("Grève au port de Brest : les dockers cessent le travail", "Rennes vote son budget")


def _rss(encoding: str = "utf-8", *, prolog: bool = True) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>https://www.ouest.example/{n}</link>"
        f"<description>Les dockers ont cessé le travail à l’aube.</description></item>"
        for n, title in enumerate(TITLES)
    )
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if prolog else ""
    return (
        f'{declaration}<rss version="2.0"><channel><title>Ouest Exemple</title>'
        f"<link>https://www.ouest.example/</link>{items}</channel></rss>"
    )


NAMESPACED = """<?xml version="1.0" encoding="utf-8"?>
<r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel>
<r:title>Ouest Exemple</r:title><r:link>https://www.ouest.example/</r:link>
<r:item><r:title>Grève au port de Brest : les dockers cessent le travail</r:title>
<r:link>https://www.ouest.example/0</r:link></r:item>
<r:item><r:title>Rennes vote son budget</r:title><r:link>https://www.ouest.example/1</r:link>
</r:item></r:channel></r:rss>"""

WIDE = {
    "/utf-16-bom-le": codecs.BOM_UTF16_LE + _rss("utf-16").encode("utf-16-le"),
    "/utf-16-bom-be": codecs.BOM_UTF16_BE + _rss("utf-16").encode("utf-16-be"),
    "/utf-16le-declared": _rss("utf-16le").encode("utf-16-le"),
    "/utf-16be-declared": _rss("utf-16be").encode("utf-16-be"),
    "/utf-32-bom": _rss("utf-32").encode("utf-32"),
    "/utf-32le-declared": _rss("utf-32le").encode("utf-32-le"),
    "/utf-32be-declared": _rss("utf-32be").encode("utf-32-be"),
    "/namespaced-root": NAMESPACED.encode(),
}
_half = _rss().index("<item>", _rss().index("<item>") + 1)
TWO_MEMBERS = gzip.compress(_rss()[:_half].encode()) + gzip.compress(_rss()[_half:].encode())
random.seed(14)
NOISE = bytes(random.randrange(256) for _ in range(4096))


@pytest.fixture(scope="module")
def server():
    routes = {path: Route(body, headers={"Content-Type": RSS}) for path, body in WIDE.items()}
    routes["/gzip-members"] = Route(
        TWO_MEMBERS, headers={"Content-Type": RSS, "Content-Encoding": "gzip"}
    )
    routes["/random-bytes"] = Route(NOISE, headers={"Content-Type": RSS})
    with RouteServer(routes) as started:
        yield started


async def _poll(server, path: str):
    source = Source(name=path, kind="feed", location=server.url(path))
    async with Fetcher(FAST) as fetcher:
        return await poll(source, fetcher)


@pytest.mark.parametrize("path", sorted(WIDE))
async def test_wide_encodings_and_namespaced_roots_are_read(server, path):
    found = await _poll(server, path)
    assert [item.title for item in found.items] == list(TITLES)
    assert not found.problems


async def test_a_multi_member_gzip_body_is_read_whole(server):
    found = await _poll(server, "/gzip-members")
    assert [item.title for item in found.items] == list(TITLES)  # one in each member


async def test_random_bytes_served_as_a_feed_are_refused_with_a_reason(server, store):
    with pytest.raises(PollError) as refused:
        await _poll(server, "/random-bytes")
    assert refused.value.reason == "pas un flux (mal formé ou format inconnu)"
    store.add_source(Source(name="bruit", kind="feed", location=server.url("/random-bytes")))
    async with Fetcher(FAST) as fetcher:
        report = await run_once(store, Settings(fetch=FAST), fetcher)
    assert report.sources_failed == 1
    (source,) = store.sources()
    assert source.last_error == refused.value.reason


async def test_a_wide_feed_is_identified_as_a_feed(server):
    async with Fetcher(FAST) as fetcher:
        found = await identify(server.url("/utf-16le-declared"), fetcher)
    assert (found.kind, found.title) == ("feed", "Ouest Exemple")
