"""Sitemaps, JSON Feed, Google News and feed discovery through the real fetch path."""

from __future__ import annotations

import json

import pytest

from tests.servers import FixtureServer
from veille.config import FetchSettings, Settings
from veille.fetch import Fetcher
from veille.model import Source
from veille.pipeline import run_once
from veille.sources.web import identify

pytestmark = pytest.mark.asyncio

LESECHOS = (
    "https://www.lesechos.fr/tech-medias/intelligence-artificielle/"
    "la-justice-francaise-perquisitionne-dans-les-locaux-de-x-et-convoque-elon-musk-2213629"
)
RTL = (
    "https://www.rtl.be/actu/monde/france/les-locaux-de-x-perquisitionnes-paris-elon-musk-"
    "convoque-en-audition-libre-le/2026-02-03/article/778591"
)
SITEMAP = "https://www.news.example/sitemap-news.xml"
INDEX = "https://www.news.example/sitemap-index.xml"

NEWS_SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>{LESECHOS}</loc><news:news>
    <news:publication><news:name>Les Echos</news:name><news:language>fr</news:language>
    </news:publication>
    <news:publication_date>2026-02-03T11:05:00+01:00</news:publication_date>
    <news:title>La justice française perquisitionne dans les locaux de X</news:title>
  </news:news></url>
  <url><loc>{RTL}</loc></url>
</urlset>""".encode()

SITEMAP_INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{SITEMAP}</loc></sitemap>
</sitemapindex>""".encode()

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Flux JSON",
        "items": [
            {
                "id": "1",
                "url": RTL,
                "title": "Les locaux de X perquisitionnés à Paris",
                "date_published": "2026-02-03T12:00:00+01:00",
            }
        ],
    }
).encode()

GNEWS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>"perquisition X" - Google Actualités</title>
<item><title>La justice française perquisitionne chez X - Les Echos</title>
<link>https://news.google.com/rss/articles/CBMiUnresolvable?oc=5</link>
<pubDate>Tue, 03 Feb 2026 10:12:00 GMT</pubDate>
<source url="https://www.lesechos.fr">Les Echos</source></item>
</channel></rss>""".encode()

PAGE_WITH_FEED = b"""<!DOCTYPE html><html><head><title>Le site</title>
<link rel="alternate" type="application/rss+xml" title="Le fil" href="/fil.xml">
</head><body><p>Accueil</p></body></html>"""


@pytest.fixture(scope="module")
def server():
    extra = {
        SITEMAP: (NEWS_SITEMAP, "application/xml"),
        INDEX: (SITEMAP_INDEX, "application/xml"),
        "https://www.news.example/feed.json": (JSON_FEED, "application/feed+json"),
        "https://news.google.com/rss/search?q=perquisition": (GNEWS, "application/rss+xml"),
        "https://www.site.example/": (PAGE_WITH_FEED, "text/html; charset=utf-8"),
        "https://www.sitemaps.example/": (b"<html><body>rien</body></html>", "text/html"),
    }
    robots = {"www.sitemaps.example": f"User-agent: *\nDisallow:\nSitemap: {SITEMAP}\n"}
    try:
        with FixtureServer(extra=extra, robots=robots) as started:
            yield started
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def settings():
    return Settings().with_fetch(host_delay=0.0, retries=0)


async def _run(store, settings, server, kind, location):
    store.add_source(Source(name=location, kind=kind, location=location))
    async with Fetcher(settings.fetch, transport=server.transport()) as fetcher:
        report = await run_once(store, settings, fetcher)
    return report, {a.url: a for a in store.articles()}


@pytest.mark.parametrize("location", [SITEMAP, INDEX])
async def test_news_sitemaps_and_indexes_bring_their_pages(store, settings, server, location):
    report, articles = await _run(store, settings, server, "sitemap", location)
    assert report.fetched == 2
    assert articles[LESECHOS].title == (
        "La justice française perquisitionne dans les locaux de X et convoque Elon Musk"
    )
    assert articles[RTL].site_name == "RTL Info"


async def test_json_feed(store, settings, server):
    _, articles = await _run(store, settings, server, "feed", "https://www.news.example/feed.json")
    assert articles[RTL].published.date().isoformat() == "2026-02-03"
    assert articles[RTL].text


async def test_google_news_item_falls_back_to_publisher_and_title(store, settings, server):
    report, articles = await _run(
        store, settings, server, "feed", "https://news.google.com/rss/search?q=perquisition"
    )
    assert report.links_only == 1
    (article,) = articles.values()
    assert article.title == "La justice française perquisitionne chez X"
    assert article.site_name == "Les Echos"


async def test_a_page_is_identified_by_the_feed_it_announces(server):
    async with Fetcher(FetchSettings(host_delay=0.0), transport=server.transport()) as fetcher:
        found = await identify("https://www.site.example/", fetcher)
        assert (found.kind, found.location, found.title) == (
            "feed",
            "https://www.site.example/fil.xml",
            "Le fil",
        )
        found = await identify("https://www.sitemaps.example/", fetcher)
        assert (found.kind, found.location) == ("sitemap", SITEMAP)
        found = await identify(SITEMAP, fetcher)
        assert found.kind == "sitemap"
