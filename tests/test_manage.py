"""Pages that change things: watches with a live preview and send-now, sources and OPML;
every form needs its CSRF token."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import seed_day_store
from tests.helpers import LOCAL
from veille.config import DeliverySettings, Settings
from veille.web import create_app


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    """The folder `file:` targets write in (`[delivery] folder`)."""
    return tmp_path_factory.mktemp("digests")


@pytest.fixture(scope="module")
def site(tmp_path_factory, digests):
    store, _, _ = seed_day_store(tmp_path_factory.mktemp("manage"))
    settings = Settings(delivery=DeliverySettings(folder=digests))
    with TestClient(create_app(store, settings), base_url=LOCAL) as client:
        yield client, store
    store.close()


def _token(client: TestClient, page: str) -> str:
    html = client.get(page).text
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_forms_without_the_token_are_refused(site):
    client, store = site
    _token(client, "/watches")  # the cookie is set
    for path, data in (
        ("/watches", {"name": "x", "query": "Musk"}),
        ("/sources", {"url": "https://example.org/feed.xml"}),
    ):
        assert client.post(path, data=data).status_code == 403
        assert client.post(path, data={**data, "csrf": "forged"}).status_code == 403
    assert store.watch("x") is None


def test_a_watch_created_previewed_sent_and_deleted(site, digests):
    client, store = site
    token = _token(client, "/watches")
    preview = client.get("/watches/preview", params={"query": "Musk perquisition"})
    assert "Cybercriminalité" in preview.text
    broken = client.get("/watches/preview", params={"query": "(Musk"})
    assert "il manque « ) »" in broken.text and "^" in broken.text
    saved = client.post(
        "/watches",
        data={
            "csrf": token,
            "name": "raid",
            "query": "Musk perquisition",
            "schedule": "daily 07:00",
            "targets": "file:raid",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and store.watch("raid").schedule == "daily 07:00"
    bad = client.post(
        "/watches", data={"csrf": token, "name": "bad", "query": "(Musk"}, follow_redirects=True
    )
    assert "il manque « ) »" in bad.text and store.watch("bad") is None
    nameless = client.post(
        "/watches", data={"csrf": token, "name": " ", "query": "Musk"}, follow_redirects=True
    )
    assert "une veille demande un nom" in nameless.text
    client.post("/watches", data={"csrf": token, "name": "nowhere", "query": "Musk"})
    unsent = client.post("/watches/nowhere/send", data={"csrf": token}, follow_redirects=True)
    assert "« nowhere » n&#39;a nulle part où envoyer son résumé" in unsent.text
    client.post("/watches/nowhere/delete", data={"csrf": token})
    no_url = client.post("/sources", data={"csrf": token, "url": "ftp://x"}, follow_redirects=True)
    assert "une source demande une URL http(s) : « ftp://x »" in no_url.text
    sent = client.post(
        "/watches/raid/send", data={"csrf": token, "date": "2026-02-03"}, follow_redirects=True
    )
    assert sent.status_code == 200 and (digests / "raid" / "raid-2026-02-03.md").is_file()
    assert "2026-02-03 · sent" in sent.text
    client.post("/watches/raid/delete", data={"csrf": token})
    assert store.watch("raid") is None


def test_sources_added_removed_and_through_opml(site):
    client, store = site
    token = _token(client, "/sources")
    client.post(
        "/sources", data={"csrf": token, "url": "https://example.org/rss.xml", "name": "Exemple"}
    )
    added = next(s for s in store.sources() if s.location == "https://example.org/rss.xml")
    assert added.name == "Exemple" and "Exemple" in client.get("/sources").text
    assert "https://example.org/rss.xml" in client.get("/sources/opml").text
    opml = (
        b'<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        b'<outline type="rss" text="Autre" xmlUrl="https://autre.example/feed.xml"/>'
        b"</body></opml>"
    )
    refused = client.post("/sources/opml", content=opml)
    assert refused.status_code == 403
    imported = client.post("/sources/opml", content=opml, headers={"X-CSRF-Token": token})
    assert imported.status_code == 200
    assert any(s.location == "https://autre.example/feed.xml" for s in store.sources())
    client.post(f"/sources/{added.id}/delete", data={"csrf": token})
    assert all(s.id != added.id for s in store.sources())


def test_a_search_is_saved_as_a_watch_and_searched_within_one(site):
    client, store = site
    page = client.get("/search", params={"q": "perquisition", "language": "fr"})
    assert "Enregistrer cette recherche comme veille" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    client.post("/watches", data={"csrf": token, "name": "perq", "query": "perquisition"})
    assert store.watch("perq").query == "perquisition"
    within = client.get("/search", params={"q": "Durov", "watch": "perq"}).text
    alone = client.get("/search", params={"q": "Durov"}).text
    count = lambda html: int(re.search(r"(\d+) résultat", html).group(1))  # noqa: E731
    assert 0 < count(within) <= count(alone)
    assert count(client.get("/search", params={"q": "Durov", "language": "en"}).text) == 0
