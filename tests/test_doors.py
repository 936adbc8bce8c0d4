"""One store, three doors: the same operations through the command line, the JSON API and
the pages (and the config file of `veille run`) give the same results, because each door
calls `veille.operations` and nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import seed_day_store
from tests.helpers import LOCAL
from veille import cli
from veille.cli import app
from veille.config import Settings
from veille.operations.config import sync_config
from veille.web import create_app

DAY = "2026-02-03"
QUERY = "(X OR Musk) AND (perquisition OR perquisitionne)"
OPML = (
    b'<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
    b'<outline type="rss" text="Un" xmlUrl="https://un.example/feed.xml"/>'
    b'<outline type="rss" text="Deux" xmlUrl="https://deux.example/feed.xml"/>'
    b"</body></opml>"
)


@pytest.fixture(scope="module")
def doors(tmp_path_factory):
    folder = tmp_path_factory.mktemp("doors")
    store, db, _ = seed_day_store(folder)
    digests = folder / "digests"
    config = folder / "config.toml"
    config.write_text(f'[delivery]\nfolder = "{digests}"\n', "utf-8")
    settings = Settings.from_env(config)
    runner = CliRunner()

    def command(*args: str) -> str:
        result = runner.invoke(
            app, [*args, "--db", db], env={"VEILLE_CONFIG": str(config)}, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return result.output

    with TestClient(create_app(store, settings), base_url=LOCAL) as client:
        yield store, settings, command, client, digests
    store.close()


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    monkeypatch.setattr(cli.console, "width", 250)  # one row a line, to read the ids back


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/watches").text).group(1)


def _shape(watch) -> tuple:
    return (watch.query, watch.languages, watch.sites, watch.schedule)


def test_a_watch_is_built_the_same_through_every_door(doors):
    store, settings, command, client, _ = doors
    typed = {"languages": " FR, en-GB", "sites": "www.LeMonde.fr", "schedule": "daily 07:00"}
    command(
        "watch", "add", "cli", QUERY, "--lang", "FR", "--lang", "en-GB",
        "--site", "www.LeMonde.fr", "--schedule", "daily 07:00", "--to", "file:cli",
    )  # fmt: skip
    api = client.post(
        "/api/v1/watches",
        json={
            "name": "api",
            "query": QUERY,
            "languages": ["FR", "en-GB"],
            "sites": ["www.LeMonde.fr"],
            "schedule": "daily 07:00",
            "targets": ["file:api"],
        },
    )
    assert api.status_code == 201
    client.post(
        "/watches",
        data={"csrf": _csrf(client), "name": "page", "query": QUERY, "targets": "file:page"}
        | typed,
    )
    config = settings.model_copy(
        update={
            "watches": [
                {
                    "name": "config",
                    "query": QUERY,
                    "languages": ["FR", "en-GB"],
                    "sites": ["www.LeMonde.fr"],
                    "schedule": "daily 07:00",
                    "targets": ["file:config"],
                }
            ]
        }
    )
    assert sync_config(store, config) == []
    shapes = {name: _shape(store.watch(name)) for name in ("cli", "api", "page", "config")}
    assert set(shapes.values()) == {(QUERY, ("fr", "en"), ("lemonde.fr",), "daily 07:00")}
    assert api.json()["languages"] == ["fr", "en"]


def test_a_config_watch_in_capitals_matches_as_one_in_lower_case(doors):
    store, settings, _, client, _ = doors
    config = settings.model_copy(
        update={"watches": [{"name": "upper", "query": QUERY, "languages": ["FR"]}]}
    )
    sync_config(store, config)
    client.post("/api/v1/watches", json={"name": "lower", "query": QUERY, "languages": ["fr"]})
    ids = {}
    for name in ("upper", "lower"):
        watch_id = store.watch(name).id
        digest = client.get(f"/api/v1/watches/{watch_id}/digests/{DAY}").json()
        ids[name] = [e["story_id"] for e in digest["entries"]]
    assert ids["upper"] and ids["upper"] == ids["lower"]


def test_a_digest_and_a_days_stories_are_the_same_through_every_door(doors):
    store, _, command, client, _ = doors
    client.post("/api/v1/watches", json={"name": "raid", "query": QUERY})
    watch_id = store.watch("raid").id
    by_cli = json.loads(command("digest", "raid", "--date", DAY, "--format", "json"))
    by_api = client.get(f"/api/v1/watches/{watch_id}/digests/{DAY}").json()
    for digest in (by_cli, by_api):
        digest.pop("generated")
    assert by_cli == by_api and by_cli["entries"]
    ranked = [e["story_id"] for e in by_api["entries"]]
    api = client.get("/api/v1/stories", params={"date": DAY, "watch": "raid"}).json()
    listed = command("stories", "--date", DAY, "--watch", "raid")
    page = client.get("/", params={"date": DAY, "watch": "raid"}).text
    assert [s["id"] for s in api["items"]] == ranked
    assert [int(i) for i in re.findall(r"^│\s+(\d+) │", listed, re.MULTILINE)] == ranked
    assert [int(i) for i in re.findall(r'<h2>.*?href="/stories/(\d+)\?', page)] == ranked


def test_search_finds_the_same_through_every_door(doors):
    _, _, command, client, _ = doors
    api = client.get("/api/v1/search", params={"q": "perquisitionné", "limit": 10}).json()
    shown = command("search", "perquisitionné", "--limit", "10")
    page = client.get("/search", params={"q": "perquisitionné"}).text
    assert f"{api['total']} résultats" in shown and f"{api['total']} résultats" in page
    titles = [h["title"] for h in api["items"]]
    assert [t for t in titles if t in re.sub(r"\[/?[^]]*]", "", shown)] == titles


def test_sources_and_opml_are_the_same_through_every_door(doors, tmp_path):
    store, _, command, client, _ = doors
    command("source", "add", "https://cli.example/feed.xml", "--kind", "feed", "--every", "2h")
    assert (
        client.post(
            "/api/v1/sources",
            json={"url": "https://api.example/feed.xml", "kind": "feed", "every": "2h"},
        ).status_code
        == 201
    )
    client.post(
        "/sources",
        data={
            "csrf": _csrf(client),
            "url": "https://page.example/feed.xml",
            "kind": "feed",
            "every": "2h",
        },
    )
    shapes = {
        (s.kind, s.every_seconds, s.name)
        for door in ("cli", "api", "page")
        if (s := store.source(f"https://{door}.example/feed.xml"))
    }
    assert shapes == {
        ("feed", 7200, "cli.example"),
        ("feed", 7200, "api.example"),
        ("feed", 7200, "page.example"),
    }
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(OPML)
    assert "2 flux ajoutés, 0 déjà suivi." in command("opml", "import", str(opml))
    again = client.post(
        "/api/v1/sources/opml", content=OPML, headers={"Content-Type": "text/x-opml"}
    )
    assert again.json() == {"added": 0, "known": 2}
    exported = {
        command("opml", "export").encode(),
        client.get("/api/v1/sources/opml").content,
        client.get("/sources/opml").content,
    }
    assert len(exported) == 1 and b"https://deux.example/feed.xml" in exported.pop()
    source_id = store.source("https://api.example/feed.xml").id
    assert client.delete(f"/api/v1/sources/{source_id}").status_code == 204
    command("source", "remove", "https://cli.example/feed.xml")
    page_id = store.source("https://page.example/feed.xml").id
    client.post(f"/sources/{page_id}/delete", data={"csrf": _csrf(client)})
    gone = {f"https://{door}.example/feed.xml" for door in ("cli", "api", "page")}
    assert not gone & {s.location for s in store.sources()}


def test_send_now_sends_the_same_through_every_door(doors):
    store, _, command, client, digests = doors
    for name in ("s-cli", "s-api", "s-page"):
        client.post(
            "/api/v1/watches", json={"name": name, "query": QUERY, "targets": [f"file:{name}"]}
        )
    assert "envoyé" in command("digest", "s-cli", "--date", DAY, "--send")
    api = client.post(f"/api/v1/watches/{store.watch('s-api').id}/send", json={"date": DAY})
    assert [o["status"] for o in api.json()["items"]] == ["sent"]
    client.post("/watches/s-page/send", data={"csrf": _csrf(client), "date": DAY})
    written = {
        name: sorted(p.name.removeprefix(name) for p in (digests / name).iterdir())
        for name in ("s-cli", "s-api", "s-page")
    }
    assert len({tuple(v) for v in written.values()}) == 1, written
    bodies = {
        json.dumps(
            {**json.loads(Path(digests / n / f"{n}-{DAY}.json").read_text()), "generated": 0}
            | {"watch": {}},
            sort_keys=True,
        )
        for n in ("s-cli", "s-api", "s-page")
    }
    assert len(bodies) == 1
    # Sent once: a second time through any door skips it.
    assert "déjà envoyé" in command("digest", "s-api", "--date", DAY, "--send")


def test_removing_a_watch_through_every_door(doors):
    store, _, command, client, _ = doors
    for name in ("r-cli", "r-api", "r-page"):
        client.post("/api/v1/watches", json={"name": name, "query": "Musk"})
    command("watch", "remove", "r-cli")
    assert client.delete(f"/api/v1/watches/{store.watch('r-api').id}").status_code == 204
    client.post("/watches/r-page/delete", data={"csrf": _csrf(client)})
    assert not {"r-cli", "r-api", "r-page"} & {w.name for w in store.watches()}


def test_a_watch_named_by_a_number_is_refused_at_every_door(doors):
    """Doors name watches by name or id: a name that is a number would be taken for an id."""
    store, _, _, client, _ = doors
    answer = client.post("/api/v1/watches", json={"name": "0", "query": "Musk"})
    assert answer.status_code == 422 and "nombre" in answer.json()["detail"]
    refused = CliRunner().invoke(app, ["watch", "add", "12", "Musk", "--db", str(store.url)])
    assert refused.exit_code == 2 and "nombre" in refused.output
