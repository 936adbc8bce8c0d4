"""Alerts as stories happen: when a story breaks (plain functions over times), quiet hours,
and a replayed day through `veille run --forever` (a WARC of pages published over the
hours, served progressively from 127.0.0.1 while a simulated clock advances): one instant
alert per new matching story within the poll that fetched it, one breaking alert when a
story's sources jump, none for a story growing slowly, none twice after a crash."""

from __future__ import annotations

import io
import json
import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from referencing import Registry, Resource
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import warc_records
from tests.servers import RSS, _BaseHandler, _hostname, _LoopbackServer
from veille import clock
from veille.alerts.detect import (
    BreakingRule,
    bins,
    first_surge,
    moment,
    surge_at,
    usual_rate,
)
from veille.alerts.limits import QuietHoursError, is_quiet, parse_quiet
from veille.cli import app
from veille.store import Store
from veille.when import earliest_of_day

T0 = datetime(2026, 3, 10, 6, 0)
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _schema(name: str) -> jsonschema.Validator:
    """A schema of docs/, its references to the digest's resolved."""
    schemas = {n: json.loads((DOCS / n).read_text("utf-8")) for n in (name, "digest.schema.json")}
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    return jsonschema.Draft202012Validator(schemas[name], registry=registry)


ALERT_SCHEMA = _schema("alert.schema.json")


def at(hour: int, minute: int = 0) -> datetime:
    return T0.replace(hour=hour, minute=minute)


# -- when a story breaks --------------------------------------------------------------------


def test_a_page_dated_to_the_day_counts_from_when_it_was_seen_and_an_old_one_stays_old():
    seen = at(14, 20)  # UTC, as stored: 15:20 in Paris
    assert moment(None, False, seen) == seen
    # Dated today, no time of day: when it was seen, never midnight.
    assert moment(datetime(2026, 3, 10), False, seen, "Europe/Paris") == seen
    # A backfill: the last instant of its day in Paris (22:59:59 UTC in winter).
    backfill = moment(datetime(2026, 3, 2), False, seen, "Europe/Paris")
    assert backfill == datetime(2026, 3, 2, 22, 59, 59)
    assert moment(at(14, 5), True, seen) == at(14, 5)  # a time of publication: that time
    assert moment(at(18, 0), True, seen) == seen  # a page dated after it was seen: when seen
    # 23:30 UTC on the 10th is the 11th in Paris: a page dated the 11th alone is news then.
    late = datetime(2026, 3, 10, 23, 30)
    assert moment(datetime(2026, 3, 11), False, late, "Europe/Paris") == late
    # A time of day stated as midnight is a time (the day alone is said by `time_known`).
    assert moment(datetime(2026, 3, 10), True, seen) == datetime(2026, 3, 10)


def test_the_days_watched_hold_their_pages_dated_to_the_day_alone_east_and_west():
    # A day alone is stored at its 00:00 UTC: before Paris's day ends, after Montreal's
    # begins; the days looked at begin at the earlier of the two.
    assert earliest_of_day(date(2026, 3, 10), "Europe/Paris") == datetime(2026, 3, 9, 23)
    assert earliest_of_day(date(2026, 3, 10), "America/Montreal") == datetime(2026, 3, 10)


def test_the_timeline_counts_local_hours_and_days():
    # Kolkata is UTC+5:30: its hours begin at half past in UTC.
    step, hourly = bins([at(8, 10), at(8, 40)], [at(8, 10)], "Asia/Kolkata")
    assert step == timedelta(hours=1)
    assert [(b.start, b.articles, b.sources) for b in hourly] == [
        (at(7, 30), 1, 1),
        (at(8, 30), 1, 0),
    ]
    # Over more than three days, days in Paris: 23:30 UTC on the 10th is the 11th there.
    moments = [at(6), datetime(2026, 3, 10, 23, 30), datetime(2026, 3, 14, 12)]
    step, daily = bins(moments, moments[1:2], "Europe/Paris")
    assert step == timedelta(days=1)
    assert [(b.articles, b.sources) for b in daily] == [(1, 0), (1, 1), (0, 0), (0, 0), (1, 0)]
    assert daily[0].start == datetime(2026, 3, 9, 23)  # midnight in Paris, in UTC


def test_a_jump_of_sources_breaks_and_a_steady_pace_does_not():
    rule = BreakingRule()
    jump = [at(8, 10), at(10, 20), at(14, 5), at(14, 12), at(14, 20), at(14, 31)]
    found = first_surge(jump, rule)
    assert found is not None and found.at == at(14, 20) and found.sources == 3
    slow = [at(7, 30) + timedelta(minutes=100 * k) for k in range(8)]
    assert first_surge(slow, rule) is None
    # Steady at four an hour all day: big, but not breaking after its first hour.
    steady = [at(7) + timedelta(minutes=15 * k) for k in range(40)]
    found = first_surge(steady, rule)
    assert found is not None and found.at <= at(8)
    assert first_surge(steady, rule, since=at(9)) is None


def test_the_watch_usual_pace_raises_the_bar():
    rule = BreakingRule()
    three = [at(14, 5), at(14, 12), at(14, 20)]
    assert surge_at(three, at(14, 20), rule, usual_rate=0.5) is not None
    # A watch whose stories usually gain two sources an hour: three in an hour is usual.
    assert surge_at(three, at(14, 20), rule, usual_rate=2.0) is None
    usual = usual_rate([[at(8), at(9)], [at(10)]], at(6), rule)
    assert usual == pytest.approx(3 / 2)  # three sources over an hour and over one window


def test_quiet_hours_across_midnight_in_the_watch_time_zone():
    assert parse_quiet("22:00-07:00") == (at(22).time(), at(7).time())
    # 21:30 UTC is 22:30 in Paris (winter): quiet; 06:30 UTC is 07:30 there: not.
    assert is_quiet("22:00-07:00", datetime(2026, 1, 5, 21, 30), "Europe/Paris")
    assert not is_quiet("22:00-07:00", datetime(2026, 1, 5, 6, 30), "Europe/Paris")
    assert is_quiet("12:00-14:00", datetime(2026, 1, 5, 12, 0), "UTC")
    assert not is_quiet(None, datetime(2026, 1, 5, 12, 0), "UTC")
    for wrong in ("22h-7h", "25:00-07:00", "07:00-07:00"):
        with pytest.raises(QuietHoursError):
            parse_quiet(wrong)


# -- a replayed day -------------------------------------------------------------------------

FEED = "https://agregateur.example/fil.xml"
# Four events of the day: when each outlet published, the word a watch finds them by.
EVENTS = {
    "incendie": ["08:10", "10:20", "14:05", "14:12", "14:20", "14:31", "14:38", "14:50"],
    "grève": ["07:30", "09:10", "10:50", "12:30", "14:10", "15:50", "17:30"],
    "vignoble": ["11:40", "16:00"],
    "festival": ["09:00", "13:00"],  # matches no watch
}
QUERY = "incendie OR grève OR vignoble"
END = at(19, 0)


@dataclass(frozen=True)
class DayPage:
    url: str
    event: str
    published: datetime
    title: str


def _day_pages() -> tuple[list[DayPage], bytes]:
    """Each event's articles (news-like words of its own, so that each event is one story
    and no two articles are copies), and a WARC of their pages."""
    rng = random.Random(20)
    syllables = ["ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vo"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(3, 4)))

    common = [word() for _ in range(60)]
    pages: list[DayPage] = []
    bodies: dict[str, bytes] = {}
    for n, (event, times) in enumerate(EVENTS.items()):
        own = [word() for _ in range(10)]
        names = [word().capitalize() for _ in range(2)]
        for k, hhmm in enumerate(times):
            hour, minute = map(int, hhmm.split(":"))
            site = f"journal-{n}-{k}.example"
            url = f"https://www.{site}/{event}-{k}"
            title = " ".join([event.capitalize(), names[0], *rng.sample(own, 4)])
            sentences = []
            for _ in range(8):
                picked = [event, *rng.sample(own, 6), *rng.sample(common, 2), rng.choice(names)]
                rng.shuffle(picked)
                sentences.append(" ".join(picked).capitalize() + ".")
            published = at(hour, minute)
            pages.append(DayPage(url, event, published, title))
            bodies[url] = (
                '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
                f"<title>{title}</title>"
                f'<meta property="og:title" content="{title}">'
                f'<meta property="og:site_name" content="Journal {n}-{k}">'
                f'<meta property="article:published_time" content="{published.isoformat()}Z">'
                f"</head><body><article><h1>{title}</h1>"
                + "".join(f"<p>{s}</p>" for s in sentences)
                + "</article></body></html>"
            ).encode()
    return pages, b"".join(warc_records(bodies))


@dataclass
class Day:
    """The simulated clock, what the fixture server shows at its time, and the alerts the
    webhook received."""

    pages: list[DayPage]
    bodies: dict[str, bytes]
    now: datetime = T0
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{p.title}</title><link>{p.url}</link>"
            f"<pubDate>{format_datetime(p.published.replace(tzinfo=None))}</pubDate></item>"
            for p in self.pages
            if p.published <= self.now
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Fil du jour</title><link>https://agregateur.example/</link>{items}"
            "</channel></rss>"
        ).encode()


class _DayHandler(_BaseHandler):
    def route(self) -> None:
        day: Day = self.server.owner.day  # type: ignore[attr-defined]
        url = f"https://{_hostname(self.headers.get('Host', ''))}{self.path}"
        if self.path == "/robots.txt":
            self.send(200, b"User-agent: *\nDisallow:\n", "text/plain")
        elif url == FEED:
            self.send(200, day.feed(), RSS)
        elif url in day.bodies and any(p.url == url and p.published <= day.now for p in day.pages):
            self.send(200, day.bodies[url])
        else:
            self.not_found()

    def do_POST(self) -> None:  # the webhook alerts are sent to
        day: Day = self.server.owner.day  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with day.lock:
            day.received.append(
                {
                    "at": day.now,
                    "key": self.headers.get("Idempotency-Key"),
                    "alert": json.loads(body),
                }
            )
        self.send(204)


class DayServer(_LoopbackServer):
    handler = _DayHandler

    def __init__(self, day: Day) -> None:
        super().__init__()
        self.day = day


def _read_warc(data: bytes) -> dict[str, bytes]:
    """The pages of the WARC, by URL: what the server answers from."""
    found = {}
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            found[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
    return found


@pytest.fixture
def day(tmp_path, monkeypatch):
    pages, warc = _day_pages()
    (tmp_path / "day.warc.gz").write_bytes(warc)
    state = Day(pages, _read_warc((tmp_path / "day.warc.gz").read_bytes()))
    server = DayServer(state).start()
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        "[fetch]\nhost_delay = 0.0\n[archive]\nenabled = false\n"
        f'[delivery]\nfolder = "{tmp_path}"\nallow = ["127.0.0.1"]\nretries = 1\n',
        "utf-8",
    )
    monkeypatch.setenv("VEILLE_HOME", str(home))
    monkeypatch.setenv("VEILLE_DB", str(tmp_path / "veille.db"))
    monkeypatch.setattr(
        "veille.fetch.client.guarded_transport", lambda *args, **kwargs: server.transport()
    )
    # The feed is polled every 15 minutes all day (its pace is not what is tested here).
    monkeypatch.setattr("veille.sources.polling.next_interval", lambda every, _n: every)
    monkeypatch.setattr(clock, "now", lambda: state.now)

    async def pause(seconds: float, stop: threading.Event) -> None:
        state.now += timedelta(seconds=seconds)
        if state.now >= END:
            stop.set()

    monkeypatch.setattr(clock, "pause", pause)
    state.server = server  # type: ignore[attr-defined]
    yield state
    server.stop()


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_replayed_day_alerts_as_it_happens_once_each_even_across_a_crash(
    day, tmp_path, monkeypatch
):
    hook = f"webhook:{day.server.base_url}/hook"  # type: ignore[attr-defined]
    assert _invoke("source", "add", FEED, "--every", "15m", "--kind", "feed").exit_code == 0
    added = _invoke(
        "watch", "add", "jour", QUERY, "--alert", "instant", "--alert", "breaking", "--to", hook
    )
    assert added.exit_code == 0, added.output

    # A crash at the worst moment: the breaking alert recorded, its delivery pending with
    # its payload, the process killed before the webhook is called.
    from veille.digest import deliver

    real_send = deliver.send

    def dies_on_breaking(target, body, *args, **kwargs):
        if json.loads(body).get("alert") == "breaking":
            raise KeyboardInterrupt
        return real_send(target, body, *args, **kwargs)

    monkeypatch.setattr(deliver, "send", dies_on_breaking)
    crashed = _invoke("run", "--forever")
    assert crashed.exit_code == 130  # killed mid-send ...
    assert day.now < END
    killed_at = day.now
    monkeypatch.setattr(deliver, "send", real_send)
    resumed = _invoke("run", "--forever")  # ... and started again
    assert resumed.exit_code == 0, resumed.output
    assert day.now >= END

    store = Store(f"sqlite:///{tmp_path / 'veille.db'}")
    try:
        by_event = _alerts_by_event(day, store)
        # One instant alert per new matching story, one breaking alert for the jump;
        # none for the slow story's growth, none for what the watch does not match.
        assert sorted(by_event) == [
            ("grève", "instant"),
            ("incendie", "breaking"),
            ("incendie", "instant"),
            ("vignoble", "instant"),
        ]
        assert all(len(found) == 1 for found in by_event.values()), by_event
        keys = [r["key"] for r in day.received]
        assert len(keys) == len(set(keys))  # nothing sent twice
        # The breaking alert was sent after the restart, from what was recorded before.
        (breaking,) = by_event[("incendie", "breaking")]
        assert breaking["at"] == killed_at
        assert breaking["alert"]["details"]["sources"] >= 3
        # Each alert went out in the round that fetched the article that caused it: no
        # later than one polling interval after that fetch.
        seen = _first_seen(store)
        for (event, _kind), (received,) in by_event.items():
            if received is breaking:
                continue
            n = list(EVENTS).index(event)
            fetched = [
                s for url, s in seen.items() if f"journal-{n}-" in url and s <= received["at"]
            ]
            assert received["at"] - max(fetched) < timedelta(minutes=15)
        for received in day.received:
            ALERT_SCHEMA.validate(received["alert"])
        crossed = datetime.fromisoformat(breaking["alert"]["crossed_at"].rstrip("Z"))
        assert crossed <= killed_at and killed_at - crossed < timedelta(minutes=15)
        assert crossed.hour == 14  # when the sources jumped, not when the story began
    finally:
        store.close()


def _alerts_by_event(day: Day, store: Store) -> dict[tuple[str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for received in day.received:
        alert = received["alert"]
        urls = " ".join(s["url"] or "" for s in alert["entry"]["sources"])
        (event,) = {e for n, e in enumerate(EVENTS) if f"journal-{n}-" in urls}
        found.setdefault((event, alert["alert"]), []).append(received)
    return found


def _first_seen(store: Store) -> dict[str, datetime]:
    articles = list(store.articles())
    seen = store.first_seen([a.id for a in articles if a.id is not None])
    return {a.url: seen[a.id] for a in articles if a.id is not None}


def test_the_day_stories_are_one_per_event(day, tmp_path):
    """The premise of the day: each event is one story, none of its articles a copy."""
    day.now = END
    assert _invoke("source", "add", FEED, "--every", "15m", "--kind", "feed").exit_code == 0
    assert _invoke("run").exit_code == 0
    store = Store(f"sqlite:///{tmp_path / 'veille.db'}")
    try:
        stories = store.stories()
        assert sorted(s.article_count for s in stories) == sorted(len(t) for t in EVENTS.values())
        assert all(s.source_count == s.article_count for s in stories)
    finally:
        store.close()


# -- quiet hours, the rate cap, expiry ----------------------------------------------------


def _records(day: datetime) -> list[dict[str, str]]:
    """Three events of one article each, words of their own, all matching `QUERY`."""
    pages, _ = _day_pages()
    firsts = {}
    for page in pages:
        if page.event != "festival":
            firsts.setdefault(page.event, page)
    return [
        {
            "url": p.url,
            "title": p.title,
            "text": f"{p.title}. " * 12,
            "date": day.date().isoformat(),
            "site": f"Site {n}",
        }
        for n, p in enumerate(firsts.values())
    ]


def test_quiet_hours_hold_alerts_the_cap_spaces_them_and_old_ones_expire(tmp_path, monkeypatch):
    from veille.config import AlertSettings, DeliverySettings, DigestSettings, Settings
    from veille.model import Watch
    from veille.operations.alerts import alerts_feed, send_alerts
    from veille.pipeline import ingest

    now = [datetime(2026, 3, 10, 22, 0)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    settings = Settings(
        delivery=DeliverySettings(folder=tmp_path / "out"),
        digest=DigestSettings(timezone="UTC"),
        alerts=AlertSettings(expire_hours=12),
    )
    store = Store(f"sqlite:///{tmp_path / 'veille.db'}")
    try:
        store.save_watch(
            Watch(
                "soir",
                QUERY,
                targets=("file:alertes",),
                alerts=("instant",),
                quiet_hours="22:00-07:00",
                max_alerts=1,
            )
        )
        now[0] = datetime(2026, 3, 10, 22, 10)
        records = tmp_path / "day.jsonl"
        records.write_text("\n".join(json.dumps(r) for r in _records(now[0])), "utf-8")
        ingest([records], store, settings)

        def round_at(when: datetime) -> list[str]:
            now[0] = when
            return sorted(o.status for o in send_alerts(store, settings, when))

        assert round_at(datetime(2026, 3, 10, 22, 10)) == ["held"] * 3  # quiet: recorded only
        assert store.deliveries() == []
        assert len(store.alerts(status="due")) == 3
        assert round_at(datetime(2026, 3, 11, 7, 5)) == ["capped", "capped", "sent"]
        assert round_at(datetime(2026, 3, 11, 7, 50)) == ["capped", "capped"]  # within the hour
        assert round_at(datetime(2026, 3, 11, 8, 6)) == ["capped", "sent"]
        # Held longer than expire_hours (12 h from 22:10): dropped, never sent.
        assert round_at(datetime(2026, 3, 11, 10, 30)) == ["expired"]
        assert round_at(datetime(2026, 3, 11, 11, 0)) == []
        assert sorted(a.status for a in store.alerts()) == ["expired", "sent", "sent"]
        assert len(store.deliveries()) == 2  # one file target, two alerts
        written = sorted(p.name for p in (tmp_path / "out" / "alertes").iterdir())
        assert sum(name.endswith(".json") for name in written) == 2
        assert "soir-alerts.atom" in written
        feed = feedparser.parse(
            (tmp_path / "out" / "alertes" / "soir-alerts.atom").read_text("utf-8")
        )
        assert not feed.bozo and len(feed.entries) == 2
        watch = store.watch("soir")
        assert watch is not None and len(feedparser.parse(alerts_feed(store, watch)).entries) == 2
    finally:
        store.close()
