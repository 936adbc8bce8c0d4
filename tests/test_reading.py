"""An analyst's reading state: stories seen and starred, per reader, through the pages and
the API; the home page says what changed since the last visit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import seed_day_store
from tests.helpers import LOCAL
from veille.config import Settings
from veille.operations import accounts
from veille.store.reading import readers
from veille.store.schema import stories, utc_now
from veille.web import create_app

DAY = "2026-02-03"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    store, _, _ = seed_day_store(tmp_path_factory.mktemp("reading"))
    with TestClient(create_app(store, Settings()), base_url=LOCAL) as client:
        yield client, store
    store.close()


def _age(store, hours: float) -> None:
    """As if veille had made every story that long ago."""
    with store.engine.begin() as conn:
        conn.execute(stories.update().values(updated_at=utc_now() - timedelta(hours=hours)))


def _touch(store, story_id: int) -> None:
    """As if veille had just changed the story."""
    with store.engine.begin() as conn:
        conn.execute(stories.update().where(stories.c.id == story_id).values(updated_at=utc_now()))


def test_a_visit_is_pages_asked_close_together(site):
    _, store = site
    _age(store, 5)
    now = utc_now()
    assert store.visit("analyst", now - timedelta(hours=3)) is None  # the first
    assert store.visit("analyst", now - timedelta(hours=2, minutes=50)) is None  # same visit
    previous = store.visit("analyst", now)  # a new visit: the last one ended then
    assert previous == now - timedelta(hours=2, minutes=50)
    story = store.stories(limit=1)[0]
    assert store.changed_since([story.id], previous) == set()
    _touch(store, story.id)  # it changed
    assert store.changed_since([story.id], previous) == {story.id}


def test_the_home_page_says_what_is_new_since_the_last_visit(site):
    client, store = site
    _age(store, 5)
    client.get("/", params={"date": DAY})
    with store.engine.begin() as conn:  # the reader's last page, two hours ago
        conn.execute(readers.update().values(seen_at=utc_now() - timedelta(hours=2)))
    ids = [int(i) for i in re.findall(r'href="/stories/(\d+)\?', client.get("/").text)]
    changed = store.story(ids[0])
    _touch(store, changed.id)
    with store.engine.begin() as conn:
        conn.execute(readers.update().values(seen_at=utc_now() - timedelta(hours=2)))
    page = client.get("/").text
    assert "1 nouveau depuis votre dernière visite" in page
    badged = re.findall(r'<span class="new">nouveau</span> <a href="/stories/(\d+)', page)
    assert badged == [str(changed.id)]


def test_seen_and_starred_through_the_api_and_the_pages(site):
    client, _ = site
    first, second = (s["id"] for s in client.get("/api/v1/stories").json()["items"][:2])
    starred = client.put(f"/api/v1/stories/{first}/reading", json={"starred": True})
    assert starred.json() == {"story_id": first, "seen": False, "starred": True}
    assert [s["id"] for s in client.get("/api/v1/reading/starred").json()["items"]] == [first]
    marked = client.post("/api/v1/reading", json={"story_ids": [first, second], "seen": True})
    assert [s["seen"] for s in marked.json()["items"]] == [True, True]
    assert client.get(f"/api/v1/stories/{first}/reading").json()["starred"]  # kept
    listed = {s["id"]: s for s in client.get("/api/v1/stories").json()["items"]}
    assert listed[first]["starred"] and listed[second]["seen"]
    # The page's buttons change the same state.
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    back = client.post(
        f"/stories/{second}/reading",
        data={"csrf": token, "seen": "0", "back": "/?date=2026-02-03"},
        follow_redirects=False,
    )
    assert back.status_code == 303 and back.headers["location"] == "/?date=2026-02-03"
    assert not client.get(f"/api/v1/stories/{second}/reading").json()["seen"]
    as_json = client.post(
        f"/stories/{second}/reading",
        data={"csrf": token, "starred": "1"},
        headers={"Accept": "application/json"},
    )
    assert as_json.json() == {"story_id": second, "seen": False, "starred": True}
    # Opening a story is reading it.
    client.get(f"/stories/{second}")
    assert client.get(f"/api/v1/stories/{second}/reading").json()["seen"]
    assert client.put("/api/v1/stories/99999/reading", json={"seen": True}).status_code == 404


def test_each_user_has_their_own_reading_state(tmp_path):
    store, _, _ = seed_day_store(tmp_path)
    _, ana = accounts.add_user(store, "ana", "correct horse battery")
    _, bo = accounts.add_user(store, "bo", "correct horse battery")
    story = store.stories(limit=1)[0].id
    with TestClient(create_app(store, Settings(), require_login=True), base_url=LOCAL) as client:
        as_ana = {"Authorization": f"Bearer {ana}"}
        as_bo = {"Authorization": f"Bearer {bo}"}
        client.put(f"/api/v1/stories/{story}/reading", json={"starred": True}, headers=as_ana)
        assert client.get(f"/api/v1/stories/{story}/reading", headers=as_ana).json()["starred"]
        assert not client.get(f"/api/v1/stories/{story}/reading", headers=as_bo).json()["starred"]
    accounts.remove_user(store, "ana")
    assert store.starred("ana") == []  # a removed user's reading state goes with them
    store.close()
