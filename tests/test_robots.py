"""robots.txt per RFC 9309, against loopback servers: a missing one (4xx) allows all; one
that cannot be had (5xx, unreachable, timeout) holds the site's pages back for now, retried
later, never reported as a disallow; only a real disallow is final. The address guard
speaks for itself."""

from __future__ import annotations

import pytest

from tests.helpers import article_html
from tests.servers import RSS, Route, RouteServer, closed_port
from veille.config import FetchSettings, Settings
from veille.fetch import Fetcher, FetchError
from veille.model import Source
from veille.pipeline import run_once
from veille.sources.polling import MAX_PAGE_ATTEMPTS
from veille.urls import canonical_url

pytestmark = pytest.mark.asyncio

PAGE = article_html("Rennes vote son budget").encode()
SETTINGS = FetchSettings(
    host_delay=0.0,
    retries=2,
    backoff=0.01,
    total_timeout=1.0,
    connect_timeout=1.0,
    read_timeout=1.0,
    allow=("127.0.0.1",),
)


# One request each: the robots.txt outages are seen at once.
RUN_SETTINGS = Settings(fetch=SETTINGS.model_copy(update={"retries": 0}))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _site(robots: Route) -> RouteServer:
    return RouteServer({"/robots.txt": robots, "/article": Route(PAGE)})


async def _fetch(url: str, **changes) -> FetchError | None:
    async with Fetcher(SETTINGS.model_copy(update=changes)) as fetcher:
        try:
            await fetcher.fetch(url)
        except FetchError as exc:
            return exc
    return None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
async def test_a_missing_robots_txt_allows_everything(status):
    with _site(Route(b"", status)) as site:
        assert await _fetch(site.url("/article")) is None
        assert site.count(path="/article") == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_a_failing_robots_txt_means_try_later_not_forbidden(status):
    with _site(Route(b"", status)) as site:
        error = await _fetch(site.url("/article"))
        assert error.kind == "robots-unavailable" and not error.permanent
        assert error.status is None  # the page itself was never asked for
        assert "robots.txt" in error.reason and f"HTTP {status}" in error.reason
        assert "interdit" not in error.reason and "réessayer plus tard" in error.reason
        assert site.count(path="/robots.txt") == 3  # retried with back-off
        assert site.count(path="/article") == 0


async def test_an_unreachable_robots_txt_means_try_later():
    error = await _fetch(f"http://127.0.0.1:{closed_port()}/article", retries=0)
    assert error.kind == "robots-unavailable" and not error.permanent
    assert "erreur réseau" in error.reason and "interdit" not in error.reason


async def test_a_robots_txt_that_times_out_means_try_later():
    with _site(Route(b"User-agent: *\nDisallow:\n", delay=3.0)) as site:
        error = await _fetch(site.url("/article"), retries=0, total_timeout=0.5)
        assert error.kind == "robots-unavailable" and not error.permanent
        assert "pas de réponse complète" in error.reason
        assert site.count(path="/article") == 0


async def test_a_real_disallow_is_final():
    with _site(Route(b"User-agent: *\nDisallow: /article\n")) as site:
        error = await _fetch(site.url("/article"))
        assert error.kind == "robots" and error.permanent
        assert error.reason == "interdit par le robots.txt du site"


async def test_a_refused_address_says_so_not_robots_txt():
    with _site(Route(b"", 404)) as site:
        error = await _fetch(f"http://localhost:{site.port}/article", allow=())
        assert error.kind == "unsafe" and error.permanent
        assert "localhost" in error.reason and "bouclage" in error.reason
        assert "robots" not in error.reason
        assert site.count() == 0


async def test_robots_txt_is_asked_again_after_a_back_off():
    clock = Clock()
    with _site(Route(b"", 503)) as site:
        async with Fetcher(SETTINGS.model_copy(update={"retries": 0}), clock=clock) as fetcher:
            with pytest.raises(FetchError):
                await fetcher.fetch(site.url("/article"))
            clock.now += 30  # within the back-off: the outage is remembered, not re-asked
            with pytest.raises(FetchError):
                await fetcher.fetch(site.url("/article"))
            assert site.count(path="/robots.txt") == 1
            site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow:\n")
            clock.now += 60
            result = await fetcher.fetch(site.url("/article"))
        assert result.status == 200 and site.count(path="/robots.txt") == 2


def _follow(store, feeds: RouteServer, links: dict[str, str]) -> None:
    """A feed served by `feeds` listing `links` ({title: url}), followed by the store."""
    items = "".join(f"<item><title>{t}</title><link>{u}</link></item>" for t, u in links.items())
    feed = f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
    feeds.routes["/feed"] = Route(feed.encode(), headers={"Content-Type": RSS})
    store.add_source(Source(name="f", kind="feed", location=feeds.url("/feed"), every_seconds=60))


async def test_a_page_held_back_by_robots_txt_is_fetched_once_the_site_recovers(store):
    pages = _site(Route(b"", 503))
    with pages, RouteServer() as feeds:
        held, refused = pages.url("/article"), pages.url("/private")
        pages.routes["/private"] = Route(PAGE)
        _follow(store, feeds, {"Budget": held, "Privé": refused})

        async with Fetcher(RUN_SETTINGS.fetch) as fetcher:
            first = await run_once(store, RUN_SETTINGS, fetcher)
        assert first.links_only == 2
        for url in (held, refused):
            page = store.page(canonical_url(url))
            assert not page["permanent"] and "robots.txt" in page["error"]

        pages.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private\n")
        async with Fetcher(RUN_SETTINGS.fetch) as fetcher:
            second = await run_once(store, RUN_SETTINGS, fetcher, everything=True)
        assert second.fetched == 1
        assert store.page(canonical_url(held))["error"] is None
        assert store.page(canonical_url(refused))["permanent"]
        article = store.article(canonical_url(held))
        assert article.title == "Rennes vote son budget" and "412 millions" in article.text


async def test_a_page_held_back_by_robots_txt_is_asked_again_whatever_the_number_of_outages(
    store,
):
    """An outage of robots.txt is no attempt of the page's: after more outages than
    MAX_PAGE_ATTEMPTS the page is still asked once the site recovers, where a page that
    failed itself that many times is not asked again."""
    held_site = _site(Route(b"", 503))
    failing_site = RouteServer({"/robots.txt": Route(b"", 404), "/article": Route(b"", 503)})
    with held_site, failing_site, RouteServer() as feeds:
        held, failing = held_site.url("/article"), failing_site.url("/article")
        _follow(store, feeds, {"Budget": held, "Panne": failing})
        runs = MAX_PAGE_ATTEMPTS + 2
        for _ in range(runs):
            async with Fetcher(RUN_SETTINGS.fetch) as fetcher:  # a new job: robots.txt asked again
                await run_once(store, RUN_SETTINGS, fetcher, everything=True)
        assert held_site.count(path="/robots.txt") == runs
        assert held_site.count(path="/article") == 0
        assert store.page(canonical_url(held))["attempts"] == 0
        assert failing_site.count(path="/article") == MAX_PAGE_ATTEMPTS

        held_site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow:\n")
        async with Fetcher(RUN_SETTINGS.fetch) as fetcher:
            recovered = await run_once(store, RUN_SETTINGS, fetcher, everything=True)
        assert recovered.fetched == 1 and held_site.count(path="/article") == 1
        assert failing_site.count(path="/article") == MAX_PAGE_ATTEMPTS
        assert store.article(canonical_url(held)).title == "Rennes vote son budget"
