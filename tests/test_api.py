"""The JSON API on the seed day: stories ranked for a watch, a story whole, search,
entities; cursor pages and ETags."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tests.conftest import seed_day_store
from tests.helpers import LOCAL, stored_article
from veille.model import Watch
from veille.store import Grouping, StoryView
from veille.web import create_app

RAID_QUERY = "(X OR Musk) AND (perquisition OR perquisitionne)"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    store, _, _ = seed_day_store(tmp_path_factory.mktemp("api"))
    store.save_watch(Watch("raid", RAID_QUERY))
    with TestClient(create_app(store), base_url=LOCAL) as test_client:
        yield test_client
    store.close()


def test_stories_of_a_day_and_for_a_watch(client):
    day = client.get("/api/v1/stories", params={"date": "2026-02-03"}).json()
    assert day["total"] == len(day["items"]) >= 8
    ranked = client.get("/api/v1/stories", params={"date": "2026-02-03", "watch": "raid"}).json()
    assert ranked["total"] == 1 and ranked["items"][0]["title"].startswith("Cybercriminalité")
    assert ranked["items"][0]["score"] > 0
    assert client.get("/api/v1/stories", params={"watch": "nope"}).status_code == 404


def test_pages_follow_each_other_and_etags_spare_the_body(client):
    seen, cursor = [], None
    while True:
        params = {"date": "2026-02-03", "limit": 3} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/v1/stories", params=params)
        page = response.json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = client.get("/api/v1/stories", params={"date": "2026-02-03"})
    assert seen == [s["id"] for s in everything.json()["items"]]
    etag = everything.headers["etag"]
    again = client.get(
        "/api/v1/stories", params={"date": "2026-02-03"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and not again.content
    assert client.get("/api/v1/stories", params={"cursor": "???"}).status_code == 422


def test_a_story_whole(client):
    raid = client.get("/api/v1/stories", params={"date": "2026-02-03", "watch": "raid"}).json()
    story = client.get(f"/api/v1/stories/{raid['items'][0]['id']}").json()
    assert story["understood"] and story["summary"] and story["facts"]
    assert any("20 avril" in f["text"] for f in story["facts"])
    (dates,) = story["disagreements"]
    assert dates["about"].startswith("date de") and len(dates["values"]) == 2
    assert {"Elon Musk", "Pavel Durov"} <= {e["name"] for e in story["entities"]}
    copies = [a for a in story["articles"] if a["copy_of"]]
    assert len(copies) == 1 and copies[0]["copy_of"] in {a["id"] for a in story["articles"]}
    english = client.get(f"/api/v1/stories/{story['id']}", params={"lang": "en"}).json()
    assert english["disagreements"][0]["about"].startswith("date of")
    assert client.get("/api/v1/stories/99999").status_code == 404


def test_a_merged_story_redirects_to_the_same_resource_of_the_survivor(store):
    a = stored_article(store, 1, "un.fr", datetime(2026, 2, 3, 10))
    b = stored_article(store, 2, "deux.fr", datetime(2026, 2, 3, 11))
    store.apply_grouping(Grouping({a: a, b: b}, views={a: StoryView(a), b: StoryView(b)}))
    store.apply_grouping(Grouping({a: a, b: a}, views={a: StoryView(a)}))
    assert store.story(b).merged_into == a
    with TestClient(create_app(store), base_url=LOCAL) as client:
        for path in ("/timeline", ""):
            moved = client.get(f"/api/v1/stories/{b}{path}", follow_redirects=False)
            assert moved.status_code == 301, path
            assert moved.headers["location"] == f"/api/v1/stories/{a}{path}"
            # The query goes along: the same watch's view of the survivor.
            asked = client.get(
                f"/api/v1/stories/{b}{path}", params={"watch": "x"}, follow_redirects=False
            )
            assert asked.headers["location"] == f"/api/v1/stories/{a}{path}?watch=x"
        page = client.get(f"/stories/{b}", params={"watch": "x"}, follow_redirects=False)
        assert page.status_code == 301
        assert page.headers["location"] == f"/stories/{a}?watch=x&lang=fr"
        timeline = client.get(f"/api/v1/stories/{b}/timeline").json()
        assert timeline["story_id"] == a
        assert [item["article_id"] for item in timeline["items"]] == [a, b]


def test_search(client):
    found = client.get("/api/v1/search", params={"q": "perquisitionné", "limit": 5}).json()
    assert found["total"] >= 13 and len(found["items"]) == 5 and found["next_cursor"]
    hit = found["items"][0]
    assert hit["snippet"] and hit["story_id"]
    bad = client.get("/api/v1/search", params={"q": "(Musk"})
    assert bad.status_code == 400 and bad.json()["position"] == 5


def test_entities(client):
    people = client.get("/api/v1/entities", params={"kind": "PER"}).json()["items"]
    musk = next(e for e in people if e["name"] == "Elon Musk")
    assert musk["stories"] >= 2 and "Musk" in musk["aliases"]
    one = client.get(f"/api/v1/entities/{musk['id']}").json()
    assert len(one["stories"]) == musk["stories"]
    assert client.get("/api/v1/entities", params={"kind": "XYZ"}).status_code == 422
    assert client.get("/api/v1/entities/99999").status_code == 404


def test_the_openapi_document_lists_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/stories",
        "/api/v1/stories/{story_id}",
        "/api/v1/search",
        "/api/v1/entities",
        "/api/v1/entities/{entity_id}",
    } <= set(paths)
