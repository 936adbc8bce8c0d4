"""Local sources read by content: feeds, JSONL, HTML pages of the seed-day fixture."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import shared_path
from tests.helpers import article_html, write
from veille.config import Settings
from veille.model import RawDocument
from veille.pipeline import ingest
from veille.sources.local import read_path


def _documents(path):
    return [d for d in read_path(path, Settings()) if isinstance(d, RawDocument)]


def test_google_alerts_feed_entries_are_unwrapped_and_cleaned(store):
    feed = shared_path("fixtures", "seed-day", "feeds", "google-alert-cybercriminalite.xml")
    report = ingest([feed], store, Settings())
    assert report.new == 13 and not report.failed
    for article in store.articles():
        assert "google.com" not in article.url
        assert "<b>" not in article.title and "&amp;" not in article.title
        assert "&#39;" not in article.text and "<b>" not in article.text
    urls = {a.url for a in store.articles()}
    assert (
        "https://www.laliberte.ch/articles/cybercriminalite-elon-musk-convoque-le-20-avril"
        "-a-paris-1296640"
    ) in urls


def test_rss_feed_keeps_the_publication_instant_with_its_offset(tmp_path):
    feed = shared_path("fixtures", "seed-day", "feeds", "outlets.rss")
    docs = _documents(feed)
    assert len(docs) == 4
    # "Wed, 04 Feb 2026 09:20:00 +0100": the instant, with the offset the outlet wrote.
    assert docs[0].published.isoformat() == "2026-02-04T09:20:00+01:00"
    assert docs[0].site_name == "TechActu Monde"  # from the item's <source>


def test_jsonl_array_and_single_object_are_read(tmp_path):
    record = {
        "link": "https://exemple.fr/x?utm_source=rss&xtor=RSS-3",
        "headline": "Titre",
        "body": "Un texte assez long pour un article. " * 5,
        "published_at": "2026-02-03",
        "authors": ["Ana", "Bo"],
    }
    write(
        tmp_path / "a.json",
        json.dumps([record, record | {"link": "https://exemple.fr/y"}], indent=2),
    )
    write(tmp_path / "b.json", json.dumps(record, indent=2))
    docs = _documents(tmp_path)
    assert len(docs) == 3
    assert docs[0].author == "Ana, Bo" and docs[0].title == "Titre"


def test_tracking_parameters_are_dropped_from_stored_urls(tmp_path, store):
    record = {
        "url": "https://exemple.fr/x?id=4&utm_source=rss&xtor=RSS-3&fbclid=abc#top",
        "title": "Titre",
        "text": "Un texte assez long pour un article. " * 5,
    }
    ingest([write(tmp_path / "a.jsonl", json.dumps(record))], store, Settings())
    (article,) = store.articles()
    assert article.url == "https://exemple.fr/x?id=4"


def test_html_without_url_uses_its_canonical_link(tmp_path, store):
    html = article_html("Rennes vote son budget").replace(
        "</head>",
        '<link rel="canonical" href="https://www.ouest.example/rennes-budget?utm_medium=x"></head>',
    )
    ingest([write(tmp_path / "in" / "page.html", html)], store, Settings())
    (article,) = store.articles()
    assert article.canonical_url == "https://www.ouest.example/rennes-budget"
    assert article.site_name == "Ouest Exemple"
    assert article.published.date().isoformat() == "2026-02-03"


@pytest.fixture(scope="module")
def fixture_pages(tmp_path_factory):
    pages = shared_path("fixtures", "seed-day", "pages")
    from veille.store import Store

    db = tmp_path_factory.mktemp("pages") / "pages.db"
    store = Store(f"sqlite:///{db}")
    report = ingest([pages], store, Settings())
    articles = {a.canonical_url: a for a in store.articles()}
    store.close()
    return report, articles


def test_fixture_pages_have_full_titles_dates_and_sites(fixture_pages, seed_day_truth):
    report, articles = fixture_pages
    assert report.read == 24 and not report.failed
    for expected in seed_day_truth["articles"]:
        article = articles[expected["url"]]
        assert article.title == expected["canonical_title"]
        assert article.published.date().isoformat() == expected["published"]
        assert article.site_name == expected["site"]
        assert article.language == expected["language"]


def test_fixture_pages_lose_their_chrome_and_keep_their_sentences(fixture_pages, seed_day_truth):
    _, articles = fixture_pages
    for expected in seed_day_truth["articles"]:
        article = articles[expected["url"]]
        text = re.sub(r"\s+", " ", article.text)
        for chrome in seed_day_truth["boilerplate_strings"]:
            assert chrome not in text, (expected["url"], chrome)
        for sentence in expected["key_sentences"]:
            assert sentence in text, (expected["url"], sentence)
