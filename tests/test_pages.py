"""The HTML pages on the seed day, in French and English; untrusted text rendered inert."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from tests.conftest import seed_day_store
from tests.helpers import LOCAL
from veille.config import Settings
from veille.model import Article, Watch
from veille.pipeline import IngestReport, process
from veille.web import create_app
from veille.web import pages as pages_module

RAID_QUERY = "(X OR Musk) AND (perquisition OR perquisitionne)"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    store, _, _ = seed_day_store(tmp_path_factory.mktemp("pages"))
    store.save_watch(Watch("raid", RAID_QUERY))
    with TestClient(create_app(store), base_url=LOCAL) as client:
        yield client, store
    store.close()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _raid(store) -> int:
    return next(s.id for s in store.stories() if s.article_count > 10)


def test_today_ranks_for_a_watch(site):
    client, store = site
    page = client.get("/", params={"date": "2026-02-03", "watch": "raid"})
    assert page.status_code == 200
    text = _text(page.text)
    assert "3 février 2026" in text and " 1 sujet " in text and "Cybercriminalité" in text
    everything = _text(client.get("/", params={"date": "2026-02-03"}).text)
    count = len(store.stories(day=datetime(2026, 2, 3).date()))
    assert count > 1 and f" {count} sujets " in everything


def test_the_story_page(site):
    client, store = site
    text = _text(client.get(f"/stories/{_raid(store)}").text)
    for heading in ("Résumé", "Faits clés", "Désaccords entre sources", "Entités", "Articles"):
        assert heading in text
    assert "2026-02-02 : L&#39;Humanité" in text or "2026-02-02 : L'Humanité" in text
    assert "aussi publié par" in text  # the Reuters copy under its original
    assert "Sujets liés" not in text or "Grok" in text
    assert client.get("/stories/99999").status_code == 404


def test_english_by_switch_and_by_browser(site):
    client, store = site
    english = client.get(f"/stories/{_raid(store)}", params={"lang": "en"})
    assert "Key facts" in english.text and english.cookies.get("veille_lang") == "en"
    client.cookies.clear()
    browser = client.get("/entities", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "<h1>Entities</h1>" in browser.text
    french = client.get("/entities", headers={"Accept-Language": "fr-FR"})
    assert "<h1>Entités</h1>" in french.text


def test_search_page_highlights_and_reports_errors(site):
    client, _ = site
    page = client.get("/search", params={"q": "perquisitionné"})
    assert re.search(r"\d+ résultats?<", page.text) and "<mark>" in page.text
    bad = client.get("/search", params={"q": "(Musk"})
    assert bad.status_code == 400 and "il manque « ) »" in bad.text


def test_entity_pages(site):
    client, store = site
    listing = client.get("/entities")
    assert "Elon Musk" in listing.text
    musk = next(e for e in store.entities(limit=500) if e.name == "Elon Musk")
    page = client.get(f"/entities/{musk.id}").text
    assert "Mentions par jour" in page and "<rect" in page and "Souvent avec" in page


def test_every_page_sends_a_strict_policy(site):
    client, store = site
    for url in ("/", f"/stories/{_raid(store)}", "/search?q=Musk", "/entities", "/static/app.js"):
        response = client.get(url)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "<script>" not in response.text and "style=" not in response.text


def test_hostile_article_text_is_inert(site):
    client, store = site
    hostile = Article(
        url="https://evil.example/xss",
        canonical_url="https://evil.example/xss",
        title='Perquisition <script>alert("titre")</script> <img src=x onerror="alert(1)">',
        text=(
            'Une perquisition a eu lieu. <script>alert("texte")</script> '
            '<a href="javascript:alert(2)">clic</a> <img src=x onerror=alert(3)>'
        ),
        content_hash="xss",
        raw_ref="xss",
        source="test",
        published=datetime(2026, 2, 3, 9),
        site_name='<b onmouseover="alert(4)">Evil</b>',
        language="fr",
    )
    _, article_id = store.save_article(hostile)
    process(store, Settings(), IngestReport(stored=[article_id]))
    story = store.story_of(article_id)
    pages = [
        client.get(f"/stories/{story}").text,
        client.get("/search", params={"q": "perquisition", "site": "evil"}).text,
        client.get("/", params={"date": "2026-02-03"}).text,
    ]
    for html in pages:
        elements = _Elements()
        elements.feed(html)
        assert not [a for a in elements.attributes if a[0].startswith("on")]
        assert not [a for a in elements.attributes if (a[1] or "").startswith("javascript:")]
        assert not [t for t in elements.tags if t == "img"]
        # The only scripts are the site's own files.
        assert all(src in ("/static/htmx.min.js", "/static/app.js") for src in elements.scripts)
    assert "&lt;script&gt;" in pages[0]
    # An article URL that is not a web address is never a link target.
    assert pages_module.templates.env.filters["web_url"]("javascript:alert(5)") == "#"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.scripts: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
