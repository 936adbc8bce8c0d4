"""URL cleaning: trackers go, whatever names the content stays, and only web URLs count."""

from __future__ import annotations

import json

import pytest

from tests.helpers import write
from veille.config import Settings
from veille.pipeline import ingest
from veille.urls import canonical_url, clean_url, is_web_url

# Pairs of distinct articles whose URLs differ only in the query string (or a #! address).
DISTINCT = [
    (
        "https://blog.example/index.php?/archives/101-Le-budget.html",
        "https://blog.example/index.php?/archives/102-La-greve.html",
    ),
    ("https://blog.example/?p=123", "https://blog.example/?p=124"),
    ("https://www.ex.fr/article.php?id=7", "https://www.ex.fr/article.php?id=8"),
    ("https://www.ex.fr/news.php?cid=31", "https://www.ex.fr/news.php?cid=32"),
    ("https://www.ex.fr/dossier.php?affaire=12", "https://www.ex.fr/dossier.php?affaire=13"),
    ("https://www.ex.fr/jeu?game=3", "https://www.ex.fr/jeu?game=4"),
    ("https://www.ex.fr/a?reference=A1", "https://www.ex.fr/a?reference=A2"),
    ("https://www.ex.fr/a?source_id=1", "https://www.ex.fr/a?source_id=2"),
    ("https://www.ex.fr/#!/news/5", "https://www.ex.fr/#!/news/6"),
    ("https://www.ex.fr/s?q=a+b", "https://www.ex.fr/s?q=a%2Bb"),
]


@pytest.mark.parametrize(("one", "other"), DISTINCT)
def test_query_strings_that_name_content_are_kept(one, other):
    assert canonical_url(one) != canonical_url(other)
    assert clean_url(one) == one  # nothing to clean: the URL stays as written


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://ex.fr/?p=124&utm_source=rss&utm_medium=feed", "https://ex.fr/?p=124"),
        ("https://ex.fr/a.php?id=5&xtor=RSS-3&xtref=x", "https://ex.fr/a.php?id=5"),
        ("https://ex.fr/a?at_medium=x&at_campaign=y&page=2", "https://ex.fr/a?page=2"),
        ("https://ex.fr/a?fbclid=1&gclid=2&msclkid=3&igshid=4", "https://ex.fr/a"),
        ("https://ex.fr/a?lmd_medium=al&mc_cid=1&_ga=2&pk_campaign=x", "https://ex.fr/a"),
        ("https://ex.fr/a?UTM_Source=x&Id=3#commentaires", "https://ex.fr/a?Id=3"),
        ("https://ex.fr/index.php?/archives/9-x.html&utm_source=rss", None),
    ],
)
def test_only_known_trackers_go(url, clean):
    expected = clean or "https://ex.fr/index.php?/archives/9-x.html"
    assert clean_url(url) == expected


def test_copies_of_one_page_share_a_canonical_url():
    page = "https://www.ex.fr/a?b=1&a=2"
    for copy in (
        "HTTP://WWW.EX.FR:80/a?a=2&b=1",
        "https://www.ex.fr/a?b=1&a=2&utm_source=x#haut",
        "https://www.ex.fr:443/a?utm_campaign=y&b=1&a=2",
    ):
        assert canonical_url(copy) == canonical_url(page)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,<p>x</p>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://ex.fr/a",
        "/relative/path",
        "https://",
        "http://[x",
        "",
    ],
)
def test_only_http_urls_are_web_urls(url):
    assert not is_web_url(url)


def test_distinct_articles_on_query_urls_are_stored_apart(tmp_path, store):
    text = "Le conseil municipal a voté le budget de l'année prochaine mardi soir. "
    records = [
        {"url": one, "title": f"Billet {n}", "text": f"{text * 3} Billet numéro {n}."}
        for n, (one, _) in enumerate(DISTINCT[:4])
    ] + [
        {"url": other, "title": f"Autre billet {n}", "text": f"{text * 3} Autre {n}, fin."}
        for n, (_, other) in enumerate(DISTINCT[:4])
    ]
    path = write(tmp_path / "billets.jsonl", "\n".join(json.dumps(r) for r in records))
    report = ingest([path], store, Settings())
    assert report.new == 8 and not report.failed
    assert {a.url for a in store.articles()} == {u for pair in DISTINCT[:4] for u in pair}
