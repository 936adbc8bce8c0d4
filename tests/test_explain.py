"""Why a story is there, on the seed day: the terms the raid story matched (stems shown as
the words the articles use, where they were found), its rank and each signal's share with
its 15 independent sources, why its articles are grouped; a broad watch's off-topic items
under the relevance floor; the same explanation in digests (validated by the schema), the
API and the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import seed_day_store
from tests.helpers import LOCAL
from veille.cli import app
from veille.config import Settings
from veille.digest import Period, build
from veille.digest.render import render
from veille.model import Watch
from veille.operations.following import try_watch
from veille.web import create_app

DAY = date(2026, 2, 3)
RAID = "(X OR Musk) AND (perquisition OR perquisitionne)"
BROAD = "X OR Musk OR cybersécurité"
SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "digest.schema.json"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store, path, _ = seed_day_store(tmp_path_factory.mktemp("explain"))
    store.save_watch(Watch("raid", RAID))
    store.save_watch(Watch("large", BROAD))
    yield store, path
    store.close()


def _keys(store, truth) -> dict[int, str]:
    by_url = {a.canonical_url: a.id for a in store.articles()}
    return {store.story_of(by_url[a["url"]]): a["story"] for a in truth["articles"]}


def _entries(store, query):
    return try_watch(store, Settings(), query, DAY, days=7, limit=50).entries


def test_the_raid_story_names_its_terms_where_they_are_and_its_15_sources(seeded, seed_day_truth):
    store, _ = seeded
    (entry,) = _entries(store, RAID)
    assert _keys(store, seed_day_truth)[entry.story_id] == "x-paris-raid-2026-02-03"
    found = entry.explanation
    terms = {t.term: t for t in found.terms}
    # "perquisitionne" shares the stem of "perquisition": the same words, said once.
    assert [t.term for t in found.terms] == ["X", "Musk", "perquisition"]
    words = dict(terms["perquisition"].words)
    # The stem is shown as the words the articles use.
    assert {"perquisitionné", "perquisitions"} <= set(words)
    assert terms["perquisition"].headlines >= 10 and terms["Musk"].headlines >= 10
    assert found.articles == 16 and not found.weak
    title = entry.title
    assert any(title[a:b] == "perquisitionnés" for a, b in found.title_spans)
    assert found.excerpts and all(e.spans for e in found.excerpts)
    parts = {p.name: p for p in found.parts}
    assert parts["sources"].value == 15 == len(entry.sources)
    assert sum(p.contribution for p in found.parts) == pytest.approx(entry.score, abs=1e-3)
    assert parts["relevance"].scaled == found.relevance == pytest.approx(1.0)


def test_why_the_raid_articles_are_grouped(seeded, seed_day_truth):
    store, _ = seeded
    (entry,) = _entries(store, RAID)
    grouping = {g.article_id: g for g in entry.grouping}
    assert len(grouping) == 16
    urls = {a.id: a.url for a in store.story_articles(entry.story_id)}
    truth = {a["url"]: a for a in seed_day_truth["articles"]}
    copies = [g for g in grouping.values() if g.copy_of is not None]
    # The Reuters dispatch under a second Boursorama URL: a copy of the first.
    (copy,) = copies
    pair = {urls[copy.article_id], urls[copy.copy_of]}
    assert pair == {u for u, a in truth.items() if a["duplicate_of"] in pair or u in pair}
    assert copy.copy_site == copy.site == "Boursorama"
    others = [g for g in grouping.values() if g.copy_of is None and g.site != "YouTube"]
    assert all(g.similarity is not None and g.similarity > 0.15 for g in others)
    # Most say which names they share with the rest, and which key facts.
    assert sum("Elon Musk" in g.shared_names for g in others) >= 10
    assert sum(g.facts > 0 for g in others) >= 10


def test_a_broad_watch_marks_its_off_topic_items_weak_and_puts_them_last(seeded, seed_day_truth):
    store, _ = seeded
    entries = _entries(store, BROAD)
    keys = _keys(store, seed_day_truth)
    raid = [e for e in entries if keys[e.story_id] == "x-paris-raid-2026-02-03"]
    off_topic = [e for e in entries if keys[e.story_id] != "x-paris-raid-2026-02-03"]
    assert len(raid) == 1 and len(off_topic) == 7
    assert entries[0] is raid[0] and not raid[0].explanation.weak
    for entry in off_topic:
        found = entry.explanation
        assert found.weak and found.relevance < found.floor, entry.title
        assert [t.term for t in found.terms] == ["cybersécurité"]
    # Weak: far below the raid story, not "effectively tied" with it.
    assert max(e.score for e in off_topic) < raid[0].score / 3


def test_the_same_word_alone_is_a_strong_match(seeded):
    """Weak is relative to what the query asks for: "cybersécurité" alone finds the
    cybersecurity items strong (the word in their headlines), the raid story (where it is
    said once in passing) weak."""
    store, _ = seeded
    entries = _entries(store, "cybersécurité")
    strong = [e for e in entries if not e.explanation.weak]
    assert len(strong) == 7 and all(e.sources and len(e.sources) == 1 for e in strong)
    assert entries[-1].explanation.weak and len(entries[-1].sources) == 15


def test_the_digest_json_carries_the_explanation_and_keeps_to_its_schema(seeded):
    store, _ = seeded
    digest = build(store, Watch("large", BROAD, id=None), Period.day(DAY))
    data = json.loads(render(digest, "json"))
    jsonschema.validate(data, json.loads(SCHEMA.read_text("utf-8")))
    first = data["entries"][0]
    assert {t["term"] for t in first["explanation"]["terms"]} == {"X", "Musk", "cybersécurité"}
    assert [r["signal"] for r in first["explanation"]["rank"]] == [
        "relevance",
        "sources",
        "recency",
        "growth",
    ]
    assert first["explanation"]["rank"][1]["value"] == 15
    assert all(e["explanation"]["weak"] for e in data["entries"][1:])
    assert len(first["grouping"]) == 16
    ids = {g["article_id"] for g in first["grouping"]}
    assert {s["article_id"] for s in first["sources"]} <= ids
    # The other formats say it in words.
    markdown = render(digest, "md", "fr")
    assert "pertinence" in markdown and "correspondance faible" in markdown
    assert "perquisition" not in markdown.split("## 2.")[1]  # only what matched
    english = render(digest, "text", "en")
    assert "weak match: relevance" in english and "independent sources 0.25" in english


def test_the_api_explains_a_story_for_a_watch(seeded):
    store, _ = seeded
    client = TestClient(create_app(store, Settings()), base_url=LOCAL)
    (entry,) = _entries(store, RAID)
    story = client.get(f"/api/v1/stories/{entry.story_id}", params={"watch": "raid"}).json()
    why = story["explanation"]
    assert {"X", "Musk", "perquisition"} <= {t["term"] for t in why["terms"]}
    assert next(r for r in why["rank"] if r["signal"] == "sources")["value"] == 15
    assert len(story["grouping"]) == 16
    plain = client.get(f"/api/v1/stories/{entry.story_id}").json()
    assert plain["explanation"] is None and len(plain["grouping"]) == 16
    listed = client.get("/api/v1/stories", params={"watch": "large", "date": "2026-02-03"})
    items = listed.json()["items"]
    assert [i["explanation"]["weak"] for i in items] == [False] + [True] * 7
    timeline = client.get(f"/api/v1/stories/{entry.story_id}/timeline").json()
    assert sum(b["articles"] for b in timeline["bins"]) == 16
    assert sum(b["sources"] for b in timeline["bins"]) == 15
    # Hours where the reader is (its first article was out at 10:12 UTC).
    assert timeline["bins"][0]["start"] == "2026-02-03T11:00:00+01:00"
    assert timeline["crossings"][0]["kind"] == "new"
    preview = client.get("/api/v1/preview", params={"query": BROAD, "date": "2026-02-03"})
    assert preview.json()["items"][1]["explanation"]["weak"]


def test_watch_test_says_the_words_found_and_the_rank(seeded):
    _, path = seeded
    result = CliRunner().invoke(
        app, ["watch", "test", "large", "--date", "2026-02-03", "--days", "7", "--db", path]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "cybersécurité → cybersécurité" in text
    assert "correspondance faible" in text
    assert "sources indépendantes 0.25" in text


def test_veille_why_explains_a_story_for_a_watch(seeded):
    store, path = seeded
    (entry,) = _entries(store, RAID)
    result = CliRunner().invoke(app, ["why", str(entry.story_id), "raid", "--db", path])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "perquisition → " in text and "perquisitionné" in text
    assert f"{entry.story_id} · 15 sources" in text and "sources indépendantes 0.25" in text
    # A line per article saying why it is in the story, the copy naming its original.
    ids = [a.id for a in store.story_articles(entry.story_id)]
    lines = result.output.splitlines()
    assert sum(any(line.strip().startswith(f"{i} ") for line in lines) for i in ids) == 16
    assert "copie" in text
    # The timeline: articles and new sources by hour, the moment it appeared, in Paris
    # time (its first article was out at 10:12 UTC, the last at 08:20 UTC the next day).
    assert "2026-02-03 11:12 le sujet apparaît" in text
    assert "2026-02-03 11:00 5 articles · 5 nouvelles sources" in text
    assert "2026-02-04 09:00 1 article · 1 nouvelle source" in text


def test_veille_why_refuses_a_story_the_watch_does_not_match(seeded, seed_day_truth):
    store, path = seeded
    keys = _keys(store, seed_day_truth)
    other = next(s for s, key in keys.items() if key != "x-paris-raid-2026-02-03")
    runner = CliRunner()
    result = runner.invoke(app, ["why", str(other), "raid", "--db", path])
    assert result.exit_code == 1 and "ne correspond pas à ce sujet" in result.output
    unknown = runner.invoke(app, ["why", str(other), "nowhere", "--db", path])
    assert unknown.exit_code == 1 and "nowhere" in unknown.output


def test_stories_for_a_watch_mark_the_weak_matches(seeded):
    _, path = seeded
    result = CliRunner().invoke(
        app, ["stories", "--watch", "large", "--date", "2026-02-03", "--db", path]
    )
    assert result.exit_code == 0, result.output
    # Said beside the title, which even a narrow terminal keeps.
    text = " ".join(result.output.replace("│", " ").split())
    assert text.count("(correspondance faible)") == 7
    raid = text.split("Cybercriminalité")[1].split("perquisitionnés")[0]
    assert "faible" not in raid


def test_an_alert_says_why_through_every_kind_of_target(seeded):
    """The breaking alert of the raid story as each target receives it: the reason it
    alerts and why it matches (the words found, the rank) in the e-mail's two parts, the
    Slack and Mattermost messages, the webhook's JSON (to its schema) and the files."""
    from datetime import datetime
    from email import message_from_bytes, policy

    from tests.test_alerts import ALERT_SCHEMA
    from veille.alerts.render import Alert, payload
    from veille.config import SmtpSettings

    store, _ = seeded
    (entry,) = _entries(store, RAID)
    details = {"sources": 14, "expected": 0.5, "window_minutes": 60}
    alert = Alert(
        Watch("raid", RAID),
        "breaking",
        entry.story_id,
        entry,
        datetime(2026, 2, 3, 11, 0),
        details,
        datetime(2026, 2, 3, 11, 5),
    )
    smtp = SmtpSettings(sender="veille@example.org")
    reason = "14 nouvelles sources en 60 min pour 0.5 attendues"

    def sent(target: str) -> bytes:
        return payload(alert, target, "fr", smtp, [])

    mail = message_from_bytes(sent("mailto:ana@example.org"), policy=policy.default)
    assert mail["Subject"].startswith("Alerte info — veille « raid » : Cybercriminalité")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for body in (text, html):
        assert reason in body and "perquisitionnés" in body and "15 sources" in body
    assert "pertinence" in text and "pertinence" in html
    # The story's HTML is part of the page, not shown as escaped text.
    assert "&lt;" not in html and "<h3>" in html
    slack = json.loads(sent("slack:https://hooks.example/s"))
    assert slack["mrkdwn"] and reason in slack["text"] and "perquisition" in slack["text"]
    chat = json.loads(sent("mattermost:https://chat.example/h"))
    assert chat["username"] == "veille" and reason in chat["text"]
    hooked = json.loads(sent("webhook:https://hooks.example/w"))
    ALERT_SCHEMA.validate(hooked)
    assert hooked["alert"] == "breaking" and hooked["reason"] == reason
    files = json.loads(sent("file:alertes"))
    base = f"raid-breaking-{entry.story_id}"
    assert set(files) == {f"{base}.html", f"{base}.json", f"{base}.md", "raid-alerts.atom"}
    assert reason in files[f"raid-breaking-{entry.story_id}.md"]
