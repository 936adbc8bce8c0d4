"""Digests on the seed day: ranked for a watch, one entry per story, clean; the same digest
in Markdown, HTML, Atom and JSON; delivered once to files, SMTP and webhooks."""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import replace
from datetime import date, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import jsonschema
import pytest
from typer.testing import CliRunner

from tests.conftest import seed_day_store
from veille import cli
from veille.cli import app
from veille.cluster.stage import group
from veille.config import DeliverySettings, Settings, SmtpSettings
from veille.digest import Period, build
from veille.digest import deliver as delivery
from veille.digest.deliver import deliver, payload
from veille.digest.render import FORMATS, render
from veille.digest.schedule import due_period, parse_schedule
from veille.model import Article, BriefSentence, SourceRef, StoryBrief, Watch
from veille.pipeline import IngestReport, index
from veille.store import Store
from veille.watch import watch_problems

DAY = date(2026, 2, 3)
RAID_QUERY = "(X OR Musk) AND (perquisition OR perquisitionne)"
# The test servers listen on loopback, which delivery refuses unless allow-listed.
LOOPBACK = DeliverySettings(allow=("127.0.0.1",))
SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "digest.schema.json"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store, path, _ = seed_day_store(tmp_path_factory.mktemp("digest"))
    yield store, path
    store.close()


def _watch(store: Store, name: str, query: str, targets: tuple[str, ...] = ()) -> Watch:
    saved, _ = store.save_watch(Watch(name, query, targets=targets))
    return saved


def _story_keys(store: Store, truth: dict) -> dict[int, str]:
    by_url = {a.canonical_url: a.id for a in store.articles()}
    return {store.story_of(by_url[a["url"]]): a["story"] for a in truth["articles"]}


def test_the_raid_watch_gets_the_raid_story_first_clean(seeded, seed_day_truth):
    store, _ = seeded
    digest = build(store, _watch(store, "raid", RAID_QUERY), Period.day(DAY))
    keys = _story_keys(store, seed_day_truth)
    first = digest.entries[0]
    assert keys[first.story_id] == "x-paris-raid-2026-02-03"
    assert len({e.story_id for e in digest.entries}) == len(digest.entries)
    sites = [s.site for s in first.sources]
    assert len(sites) >= 10 and len(sites) == len(set(sites))
    # The Reuters dispatch published twice by one outlet is one source line.
    copies = [a for a in seed_day_truth["articles"] if a["duplicate_of"]]
    urls = [s.url for s in first.sources]
    assert sum(u in urls for c in copies for u in (c["url"], c["duplicate_of"])) == len(copies)
    off_topic = {k for k, v in keys.items() if v.startswith(("cyber", "agents", "milestone"))}
    assert not off_topic & {e.story_id for e in digest.entries}
    text = render(digest, "md")
    for bad in ("<b>", "&amp;", "...", "…\n"):
        assert bad not in " ".join(
            [e.title for e in digest.entries] + [s.title for s in first.sources]
        )
    assert not [b for b in seed_day_truth["boilerplate_strings"] if b in text]


def test_the_cybersecurity_watch_gets_the_off_topic_items_not_x(seeded, seed_day_truth):
    store, _ = seeded
    digest = build(store, _watch(store, "cyber", "cybersécurité -Musk"), Period.day(DAY))
    keys = _story_keys(store, seed_day_truth)
    found = {keys[e.story_id] for e in digest.entries}
    assert found and "x-paris-raid-2026-02-03" not in found
    truth_stories = {
        a["story"] for a in seed_day_truth["articles"] if "ybersécurité" in a["canonical_title"]
    }
    assert truth_stories - {"x-paris-raid-2026-02-03"} <= found


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.extend(v for k, v in attrs if k == "href" and v)


def test_the_formats_of_one_digest_agree(seeded):
    store, _ = seeded
    digest = build(store, _watch(store, "raid", RAID_QUERY), Period.day(DAY))
    data = json.loads(render(digest, "json"))
    jsonschema.validate(data, json.loads(SCHEMA.read_text("utf-8")))
    feed = feedparser.parse(render(digest, "atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    markdown = render(digest, "md")
    html = _Text()
    html.feed(render(digest, "html"))
    html_text = " ".join(html.parts)
    assert len(feed.entries) == len(data["entries"]) == len(digest.entries)
    for entry, item, story in zip(feed.entries, data["entries"], digest.entries, strict=True):
        assert entry.title == item["title"] == story.title
        assert item["title"] in html_text
        assert f"## {item['rank']}. {item['title']}" in re.sub(r"\\(.)", r"\1", markdown)
        urls = [s["url"] for s in item["sources"]]
        assert [link.href for link in entry.links] == urls
        assert all(u in html.links and f"({u})" in markdown for u in urls)
        for fact in item["facts"]:
            assert fact["text"] in html_text
        for sentence in item["summary"]:
            assert sentence["text"] in entry.summary


def test_english_digest(seeded):
    store, _ = seeded
    digest = build(store, _watch(store, "raid", RAID_QUERY), Period.day(DAY))
    text = render(digest, "md", "en")
    assert "Key facts" in text and "Where sources disagree" in text and "Faits clés" not in text
    assert "February 3, 2026" in text
    assert json.loads(render(digest, "json", "en"))["entries"][0]["disagreements"][0][
        "about"
    ].startswith("date of")


def test_untrusted_text_is_escaped(seeded):
    store, _ = seeded
    watch = _watch(store, "<script>alert(1)</script>", RAID_QUERY)
    digest = build(store, watch, Period.day(DAY))
    for fmt in ("html", "atom"):
        assert "<script>" not in render(digest, fmt)


# -- delivery ------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.original_content)
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd checks it can connect to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield received, port
    finally:
        controller.stop()


def test_smtp_delivery_has_both_parts(seeded, smtp_server):
    store, _ = seeded
    received, port = smtp_server
    watch = _watch(store, "mail", RAID_QUERY, ("mailto:ana@example.org",))
    digest = build(store, watch, Period(datetime(2026, 2, 3), datetime(2026, 2, 4), "mail-1"))
    smtp = SmtpSettings(host="127.0.0.1", port=port, security="none", sender="veille@example.org")
    (outcome,) = deliver(
        store, digest, list(watch.targets), smtp=smtp, delivery=LOOPBACK, sleep=lambda _: None
    )
    assert outcome.status == "sent"
    (raw,) = received
    message = message_from_bytes(raw, policy=default_policy)
    assert message["To"] == "ana@example.org" and "mail" in message["Subject"]
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert digest.entries[0].title in plain and "<table" in html


class _Hook:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.fail = 0

    def serve(self):
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 500 if hook.fail > 0 else 200
                hook.fail -= 1
                if status == 200:
                    hook.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@pytest.fixture
def hook():
    state = _Hook()
    server = state.serve()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_delivery_retries_then_sends_json_and_slack(seeded, hook):
    store, _ = seeded
    state, url = hook
    state.fail = 1  # the first attempt fails: retried with back-off
    watch = _watch(
        store, "hook", RAID_QUERY, (f"webhook:{url}", f"slack:{url}", f"mattermost:{url}")
    )
    digest = build(store, watch, Period(datetime(2026, 2, 3), datetime(2026, 2, 4), "hook-1"))
    pauses: list[float] = []
    outcomes = deliver(store, digest, list(watch.targets), delivery=LOOPBACK, sleep=pauses.append)
    assert [o.status for o in outcomes] == ["sent", "sent", "sent"]
    assert outcomes[0].attempts == 2 and pauses == [2.0]
    generic, slack, mattermost = (json.loads(b) for b in state.bodies)
    assert generic["entries"][0]["title"] == digest.entries[0].title
    # Slack gets its own mrkdwn (*bold*, <url|text>), Mattermost CommonMark.
    assert slack["mrkdwn"] is True and slack["text"].startswith("*Veille « hook »")
    first = digest.entries[0].sources[0]
    assert f"<{first.url}|" in slack["text"] and f"]({first.url})" not in slack["text"]
    assert mattermost["text"].startswith("# Veille « hook »")


def test_a_crash_between_render_and_send_sends_once_never_twice(seeded, hook, monkeypatch):
    store, _ = seeded
    state, url = hook
    watch = _watch(store, "crash", RAID_QUERY, (f"webhook:{url}",))
    digest = build(store, watch, Period(datetime(2026, 2, 3), datetime(2026, 2, 4), "crash-1"))

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies after the payload was recorded

    monkeypatch.setattr(delivery, "send", crash)
    with pytest.raises(KeyboardInterrupt):
        deliver(store, digest, list(watch.targets), delivery=LOOPBACK)
    assert store.delivery(watch.id, "crash-1", f"webhook:{url}").status == "pending"
    assert state.bodies == []
    monkeypatch.undo()
    for _ in range(3):  # the next runs: sent once, then never again
        deliver(store, digest, list(watch.targets), delivery=LOOPBACK)
    assert len(state.bodies) == 1
    assert store.delivery(watch.id, "crash-1", f"webhook:{url}").status == "sent"


def test_a_sent_story_comes_back_only_when_it_grew(seeded, tmp_path):
    store, _ = seeded
    watch = _watch(store, "again", RAID_QUERY, (f"file:{tmp_path}",))
    first = build(store, watch, Period.day(DAY))
    deliver(store, first, list(watch.targets), delivery=DeliverySettings(folder=tmp_path))
    assert (tmp_path / "again-2026-02-03.md").is_file() and (tmp_path / "again.atom").is_file()
    same = build(store, watch, Period(datetime(2026, 2, 3), datetime(2026, 2, 5), "next"))
    assert same.entries == ()
    story = first.entries[0]
    # Pretend it had two sources fewer when it was sent: it grew by two since.
    store.mark_carried(watch.id, "2026-02-03", [(story.story_id, len(story.sources) - 2, 1)])
    grown = build(store, watch, Period(datetime(2026, 2, 3), datetime(2026, 2, 5), "next"))
    assert grown.entries[0].new_sources == 2
    assert "+2 sources depuis le dernier envoi" in render(grown, "md")


def test_schedules():
    daily = parse_schedule("daily 07:00")
    # 06:30 UTC is 07:30 in Paris in winter: today's digest, covering the 24 hours before.
    period = due_period(daily, datetime(2026, 2, 3, 6, 30))
    assert (period.key, period.end) == ("2026-02-03", datetime(2026, 2, 3, 6, 0))
    assert due_period(daily, datetime(2026, 2, 3, 5, 30)).key == "2026-02-02"
    assert (
        due_period(parse_schedule("hourly"), datetime(2026, 7, 3, 6, 30)).key == "2026-07-03T08:00"
    )
    for bad in ("daily 25:00", "weekly", "every 1m"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def test_cli_watch_and_digest(seeded, tmp_path, monkeypatch):
    _, path = seeded
    monkeypatch.setattr(cli.console, "width", 200)
    config = tmp_path / "config.toml"
    config.write_text(f'[delivery]\nfolder = "{tmp_path}"\n', "utf-8")
    monkeypatch.setenv("VEILLE_CONFIG", str(config))
    runner = CliRunner()
    db = ["--db", str(path)]
    bad = runner.invoke(app, ["watch", "add", "bad", "(X OR Musk", *db])
    assert bad.exit_code == 2 and "il manque « ) »" in bad.output
    added = runner.invoke(app, ["watch", "add", "cli", RAID_QUERY, "--to", f"file:{tmp_path}", *db])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["watch", "list", *db])
    assert "cli" in listed.output and f"file:{tmp_path}" in listed.output
    tested = runner.invoke(app, ["watch", "test", "cli", "--date", "2026-02-04", *db])
    assert " 1. Cybercriminalité" in tested.output
    # Each term on its line, as the words the articles use.
    assert "trouvé : X → X ×" in tested.output and "trouvé : Musk → Musk ×" in tested.output
    shown = runner.invoke(app, ["digest", "cli", "--date", "2026-02-03", "--format", "json", *db])
    assert json.loads(shown.output)["entries"][0]["title"].startswith("Cybercriminalité")
    sent = runner.invoke(app, ["digest", "cli", "--date", "2026-02-03", "--send", *db])
    assert sent.exit_code == 0 and "envoyé" in sent.output
    again = runner.invoke(app, ["digest", "cli", "--date", "2026-02-03", "--send", *db])
    assert "déjà envoyé" in again.output
    assert "sent" in runner.invoke(app, ["watch", "show", "cli", *db]).output
    assert runner.invoke(app, ["watch", "remove", "cli", *db]).exit_code == 0
    assert runner.invoke(app, ["watch", "show", "cli", *db]).exit_code == 1


def test_the_example_config_is_valid():
    settings = Settings.from_env(Path(__file__).resolve().parents[1] / "examples" / "config.toml")
    assert len(settings.sources) >= 6 and any(
        "news.google.com" in s["url"] for s in settings.sources
    )
    for entry in settings.watches:
        watch = Watch(
            entry["name"],
            entry["query"],
            schedule=entry["schedule"],
            targets=tuple(entry["targets"]),
        )
        assert watch_problems(watch, settings.delivery) == [], entry["name"]


def test_a_target_that_keeps_failing_is_recorded_and_nothing_is_marked_sent(seeded, hook):
    store, _ = seeded
    state, url = hook
    state.fail = 10
    watch = _watch(store, "down", RAID_QUERY, (f"webhook:{url}",))
    digest = build(store, watch, Period(datetime(2026, 2, 3), datetime(2026, 2, 4), "down-1"))
    (outcome,) = deliver(
        store, digest, list(watch.targets), delivery=LOOPBACK, sleep=lambda _: None
    )
    assert (outcome.status, outcome.attempts, outcome.error) == ("failed", 3, "HTTP 500")
    record = store.delivery(watch.id, "down-1", f"webhook:{url}")
    assert record.status == "failed" and record.error == "HTTP 500"
    # Not carried: the next digest still has the story.
    assert build(store, watch, Period(datetime(2026, 2, 3), datetime(2026, 2, 4), "down-2")).entries


HOSTILE = (
    "javascript:alert(document.cookie)",
    " JaVaScRiPt:alert(2)",
    "data:text/html,<script>alert(3)</script>",
    "vbscript:msgbox(4)",
)


def test_no_digest_format_renders_a_live_link_that_is_not_the_web(tmp_path):
    """Addresses come from feeds written by strangers: whatever a stored article's URL
    says, only http(s) becomes a link, in every format and every target's payload."""
    store = Store(f"sqlite:///{tmp_path / 'links.db'}")
    title = "Perquisition chez X : Elon Musk convoqué"
    text = (
        "Les enquêteurs ont mené une perquisition dans les bureaux de la société X mardi. "
        "Elon Musk est convoqué le 20 avril, selon le parquet de Paris."
    )
    ids = []
    for n, url in enumerate((*HOSTILE, "https://example.org/ok")):
        _, article_id = store.save_article(
            Article(
                url=url,
                canonical_url=f"https://example.org/{n}",
                title=title,
                text=text,
                content_hash=f"h{n}",
                raw_ref=f"r{n}",
                source="test",
                published=datetime(2026, 2, 3, 8 + n),
                published_time_known=True,
                site_name=f"Site {n}",
                language="fr",
            )
        )
        ids.append(article_id)
    report = IngestReport(stored=ids)
    index(store, report)
    (story_id,) = group(store).stories
    refs = tuple(
        SourceRef(i, f"Site {n}", u) for n, (i, u) in enumerate(zip(ids[:4], HOSTILE, strict=True))
    )
    store.save_brief(
        StoryBrief(story_id, summary=(BriefSentence(text, refs[0], refs[1:]),)), "test", 1
    )
    watch, _ = store.save_watch(Watch("liens", "perquisition"))
    digest = build(store, watch, Period.day(DAY))
    assert digest.entries  # the story is there, its hostile addresses with it
    outputs = {fmt: render(digest, fmt) for fmt in FORMATS}
    smtp = SmtpSettings()
    for target in ("file:x", "webhook:https://h.example/", "slack:https://h.example/"):
        outputs[target] = payload(digest, target, "fr", smtp).decode()
    mail = message_from_bytes(
        payload(digest, "mailto:a@example.org", "fr", smtp), policy=default_policy
    )
    outputs["mailto"] = " ".join(
        part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"
    )
    for name, output in outputs.items():
        lowered = output.lower()
        for scheme in ("javascript:", "data:text", "vbscript:"):
            assert scheme not in lowered, (name, scheme)
    html = _Text()
    html.feed(outputs["html"])
    assert html.links == ["https://example.org/ok"]
    assert "[Site 4](https://example.org/ok)" in outputs["md"]
    entry = json.loads(outputs["json"])["entries"][0]
    assert entry["sources"][0]["url"] is None and entry["summary"][0]["sources"][0]["url"] is None
    store.close()


def test_counts_in_the_singular_when_there_is_one(seeded):
    store, _ = seeded
    digest = build(store, _watch(store, "one", RAID_QUERY), Period.day(DAY))
    one = replace(digest, entries=(replace(digest.entries[0], articles=1, sources=()),))
    for fmt in ("md", "html", "text", "slack"):
        text = render(one, fmt)
        assert "1 article ·" in text and "1 articles" not in text, fmt
        assert "0 source" in text
    assert "1 article ·" in render(one, "md", "en") and "0 sources" in render(one, "md", "en")
