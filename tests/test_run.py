"""`veille source add` + `veille run` on the seed day served from 127.0.0.1, then replay."""

from __future__ import annotations

import re
import socket
from datetime import datetime

import httpx
import pytest
from typer.testing import CliRunner

from tests.helpers import article_html
from tests.servers import RSS, FixtureServer, seed_day_dir
from veille.cli import app
from veille.config import Settings
from veille.pipeline import send_digests
from veille.store import Store
from veille.urls import canonical_url

FEEDS = ("google-alert-cybercriminalite.xml", "google-alert-cybersecurite.xml", "outlets.rss")


@pytest.fixture(scope="module")
def server():
    try:
        with FixtureServer() as started:
            yield started
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def veille(tmp_path, monkeypatch, server):
    """The CLI with its HTTP traffic routed to the fixture server, as a transport would."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[fetch]\nhost_delay = 0.0\ncontact = "https://example.org/tests"\n'
        f'[archive]\nfolder = "{tmp_path / "warc"}"\n'
        f'[delivery]\nfolder = "{tmp_path}"\n',
        "utf-8",
    )
    monkeypatch.setenv("VEILLE_HOME", str(home))
    monkeypatch.setenv("VEILLE_DB", str(tmp_path / "veille.db"))
    monkeypatch.setattr(
        "veille.fetch.client.guarded_transport", lambda *args, **kwargs: server.transport()
    )
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def _articles(db) -> dict[str, object]:
    store = Store(f"sqlite:///{db}")
    found = {a.canonical_url: a for a in store.articles()}
    store.close()
    return found


@pytest.fixture
def first_run(veille, server, tmp_path):
    for feed in FEEDS:
        veille("source", "add", server.feed_url(feed))
    server.clear()
    output = veille("run")
    return output, _articles(tmp_path / "veille.db")


def test_run_stores_every_article_with_its_publisher_url_title_date_and_site(
    first_run, seed_day_truth
):
    _, articles = first_run
    assert not any("google." in url for url in articles)
    for expected in seed_day_truth["articles"]:
        article = articles[canonical_url(expected["url"])]
        assert article.url == expected["url"]
        assert article.title == expected["canonical_title"]
        assert not re.search(r"<b>|&amp;|&#39;|\.\.\.$", article.title)
        assert article.published.date().isoformat() == expected["published"]
        assert article.site_name == expected["site"]
        assert bool(article.text) == expected["has_article_text"], expected["url"]
    assert len(articles) == len(seed_day_truth["articles"])


def test_second_run_is_conditional_and_fetches_no_page_twice(
    first_run, veille, server, tmp_path, monkeypatch
):
    server.clear()
    veille("run", "--all")
    feeds = [r for r in server.requests if r.path.rsplit("/", 1)[-1] in FEEDS]
    assert len(feeds) == 3
    assert all(r.header("If-None-Match") and r.status == 304 for r in feeds)
    pages = [r for r in server.requests if r.path != "/robots.txt" and r not in feeds]
    assert pages == []


def test_the_user_agent_names_veille_and_the_contact(first_run, server, veille):
    server.clear()
    veille("run", "--all")
    agents = {r.header("User-Agent") for r in server.requests}
    assert agents == {"veille/0.1.0 (+https://example.org/tests)"}


def test_replay_gives_the_same_articles_without_opening_a_socket(
    first_run, veille, tmp_path, monkeypatch
):
    _, original = first_run
    opml = tmp_path / "feeds.opml"
    veille("opml", "export", "-o", str(opml))
    archives = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert archives

    monkeypatch.setenv("VEILLE_DB", str(tmp_path / "replayed.db"))
    connects: list[object] = []

    def refuse(*args, **kwargs):
        connects.append(args)
        raise AssertionError("a socket was opened during replay")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    veille("opml", "import", str(opml))
    veille("run", "--replay", *map(str, archives))
    replayed = _articles(tmp_path / "replayed.db")

    assert connects == []
    assert {u: (a.title, a.text) for u, a in replayed.items()} == {
        u: (a.title, a.text) for u, a in original.items()
    }


def test_sources_are_named_from_their_feeds_and_listed(first_run, veille, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'veille.db'}")
    sources = store.sources()
    store.close()
    assert {s.name for s in sources} == {
        "Google Alert - cybercriminalité",
        "Google Alert - cybersécurité",
        "Revue de presse – sources complémentaires",
    }
    assert all(s.last_success_at and s.failures == 0 and s.items_seen for s in sources)
    listing = veille("source", "list")
    assert "cybercriminalité" in listing and "cybersécurité" in listing


def test_the_main_job_follows_the_config_and_writes_due_digests(veille, server, tmp_path):
    """Sources and watches named in config.toml; `veille run` polls, groups, understands,
    then writes the digest whose slot has come."""
    out = tmp_path / "digests"
    config = tmp_path / "home" / "config.toml"
    sources = "".join(f'[[sources]]\nurl = "{server.feed_url(f)}"\n' for f in FEEDS)
    config.write_text(
        config.read_text("utf-8")
        + sources
        + '[[watches]]\nname = "X"\nquery = "(X OR Musk) AND (perquisition OR perquisitionne)"\n'
        f'schedule = "daily 07:00"\ntargets = ["file:{out}"]\n'
        '[[watches]]\nname = "broken"\nquery = "(X OR"\n',
        "utf-8",
    )
    server.clear()
    output = veille("run")
    assert "watch:broken" in output  # the bad watch is reported ...
    store = Store(f"sqlite:///{tmp_path / 'veille.db'}")
    assert len(store.sources()) == len(FEEDS)
    assert [w.name for w in store.watches()] == ["X"]  # ... and the good one kept
    # Today's slot was sent (nothing that recent in the seed day: an empty digest) ...
    assert list(out.glob("x-*.md"))
    # ... and the morning after the seed day, the X story leads the digest.
    settings = Settings.from_env(config)
    (outcome,) = send_digests(store, settings, now=datetime(2026, 2, 4, 6, 30))
    assert outcome.status == "sent"
    digest = (out / "x-2026-02-04.md").read_text("utf-8")
    assert "## 1. Cybercriminalité" in digest
    assert send_digests(store, settings, now=datetime(2026, 2, 4, 9, 0)) == []  # sent once
    store.close()


def _full(articles: dict) -> dict:
    return {
        u: (a.url, a.title, a.text, a.published, a.author, a.site_name, a.language)
        for u, a in articles.items()
    }


def test_an_offline_run_of_the_seed_day_feeds_leaves_the_stored_articles_as_extracted(
    veille, tmp_path, monkeypatch
):
    """The seed day's pages ingested, then its feeds added and run with the network down:
    no feed snippet replaces a page's article (cut titles, domains for site names)."""
    veille("ingest", str(seed_day_dir() / "pages"))
    before = _full(_articles(tmp_path / "veille.db"))
    assert len(before) == 24

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("offline", request=request)

    def offline(*args, **kwargs):
        return httpx.MockTransport(refuse)

    monkeypatch.setattr("veille.fetch.client.guarded_transport", offline)
    for feed in FEEDS:
        veille("source", "add", str(seed_day_dir() / "feeds" / feed))
    veille("run", "--all")
    assert _full(_articles(tmp_path / "veille.db")) == before


def test_a_page_is_never_marked_fetched_without_its_article(veille, server, tmp_path, monkeypatch):
    """A run that dies while storing leaves the pages it had not stored unfetched: the next
    run fetches them (before, the page was marked fetched first, its article lost)."""
    veille("source", "add", server.feed_url("outlets.rss"))
    real = Store.save_article

    def dies(self, article):
        raise KeyboardInterrupt  # the process killed mid-store

    monkeypatch.setattr(Store, "save_article", dies)
    assert CliRunner().invoke(app, ["run"]).exit_code == 130
    store = Store(f"sqlite:///{tmp_path / 'veille.db'}")
    assert store.counts()["pages"] == 0
    monkeypatch.setattr(Store, "save_article", real)
    veille("run", "--all")
    assert len(_articles(tmp_path / "veille.db")) == 4


def test_a_huge_feed_is_read_a_bounded_number_of_entries_a_poll(tmp_path, monkeypatch):
    """A feed of 1,000 entries: each poll takes at most `max_new_entries` new pages, says
    how many it left, and keeps no validator until the feed is read whole, so the next
    poll gets the whole feed again and takes the next ones."""
    items = "".join(
        f"<item><title>Dépêche {n}</title><link>https://big.example/{n}</link>"
        f"<pubDate>Tue, 03 Feb 2026 10:00:00 GMT</pubDate></item>"
        for n in range(1000)
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Gros</title>{items}'
    extra: dict[str, bytes | tuple[bytes, str]] = {
        "https://big.example/feed.xml": ((feed + "</channel></rss>").encode(), RSS)
    }
    for n in range(1000):
        extra[f"https://big.example/{n}"] = article_html(
            f"Dépêche numéro {n}", [f"Le texte numéro {n} de la dépêche du jour, assez long."]
        ).encode()
    try:
        server = FixtureServer(extra=extra).start()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        "[fetch]\nhost_delay = 0.0\nmax_new_entries = 40\n[archive]\nenabled = false\n", "utf-8"
    )
    monkeypatch.setenv("VEILLE_HOME", str(home))
    monkeypatch.setenv("VEILLE_DB", str(tmp_path / "veille.db"))
    monkeypatch.setattr(
        "veille.fetch.client.guarded_transport", lambda *args, **kwargs: server.transport()
    )
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["source", "add", "https://big.example/feed.xml"]).exit_code == 0
        server.clear()
        assert runner.invoke(app, ["run", "--all"]).exit_code == 0
        pages = [r for r in server.requests if r.path not in ("/feed.xml", "/robots.txt")]
        assert len(pages) == 40
        store = Store(f"sqlite:///{tmp_path / 'veille.db'}")
        reasons = [e.reason for e in store.log_entries(level="skipped")]
        assert (
            "960 nouvelles entrées laissées aux prochains relevés (40 au plus par relevé)"
            in reasons
        )
        assert store.sources()[0].etag is None  # not read whole: no validator kept
        server.clear()
        assert runner.invoke(app, ["run", "--all"]).exit_code == 0
        feeds = [r for r in server.requests if r.path == "/feed.xml"]
        assert [r.header("If-None-Match") for r in feeds] == [None]
        pages = [r for r in server.requests if r.path not in ("/feed.xml", "/robots.txt")]
        assert len(pages) == 40 and len(list(store.articles())) == 80
    finally:
        server.stop()
