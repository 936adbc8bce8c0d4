"""`veille demo`: the shipped demo day replayed offline through the whole pipeline."""

from __future__ import annotations

import re
from datetime import date

import pytest
from typer.testing import CliRunner

from tests.conftest import require_french_model
from veille.cli import app
from veille.demo import manifest, run_demo
from veille.digest import Period, build
from veille.model import Watch
from veille.store import Store
from veille.urls import canonical_url


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    require_french_model()
    folder = tmp_path_factory.mktemp("demo")
    result = run_demo(folder)
    store = Store(f"sqlite:///{folder / 'veille-demo.db'}")
    yield result, store, manifest()
    store.close()


def _stories(store: Store, day: dict) -> dict[int, str]:
    """Story id in the store -> story key of the manifest."""
    by_url = {a.canonical_url: a.id for a in store.articles()}
    return {
        store.story_of(by_url[canonical_url(page["url"])]): page["story"] for page in day["pages"]
    }


def test_every_page_is_read_and_copies_folded(demo):
    result, _, day = demo
    assert not result.report.failed
    assert result.report.new == len(day["pages"])
    copies = [p for p in day["pages"] if p["duplicate_of"]]
    assert result.report.copies == len(copies)


def test_each_story_of_the_day_is_one_story(demo):
    _, store, day = demo
    placed = _stories(store, day)
    by_key: dict[str, set[int]] = {}
    for story_id, key in placed.items():
        by_key.setdefault(key, set()).add(story_id)
    assert all(len(ids) == 1 for ids in by_key.values()), by_key


def test_the_digest_is_on_disk_and_leads_with_the_main_story(demo):
    result, store, day = demo
    example = day["watch_examples"][0]
    names = {p.suffix for p in result.files}
    assert {".md", ".html", ".json", ".atom"} <= names
    markdown = next(p for p in result.files if p.suffix == ".md").read_text("utf-8")
    assert markdown == result.digest_text
    assert not [b for b in day["boilerplate_strings"] if b in markdown]
    placed = {v: k for k, v in _stories(store, day).items()}
    main = example["expected_stories"][0]
    first_title = store.story(placed[main]).title
    assert f"## 1. {first_title}" in markdown.replace("\\", "")


def test_the_date_disagreement_is_flagged(demo):
    _, store, day = demo
    placed = {v: k for k, v in _stories(store, day).items()}
    for conflict in day["conflicts"]:
        if not conflict["about"].startswith("date"):
            continue
        brief = store.brief(placed[conflict["story"]])
        (found,) = [d for d in brief.disagreements if d.slot == "date"]
        values = dict(found.values)
        for value, urls in conflict["values"].items():
            assert {canonical_url(s.url) for s in values[value]} <= {canonical_url(u) for u in urls}
            assert values[value]
        # The summary takes no sentence from the minority side's sources that states it.
        minority = [refs for _, refs in found.values[1:]]
        minority_urls = {r.url for refs in minority for r in refs}
        assert minority_urls
        assert not [s for s in brief.summary if s.source.url in minority_urls and _dated(s.text)]


def _dated(sentence: str) -> bool:
    return bool(re.search(r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b", sentence))


@pytest.mark.xfail(
    strict=True,
    reason="known clustering false positive: the off-topic fraud explainer (tech-hebdo, 07:00) "
    "meets the Solvéa ransomware story just above both join thresholds (words 0.188 >= 0.175, "
    "meaning 0.575 >= 0.55) and joins it; thresholds are tuned on the dev sets, not here",
)
def test_the_watch_examples(demo):
    _, store, day = demo
    stories = _stories(store, day)
    for example in day["watch_examples"]:
        watch = Watch(example["name"], example["query"])
        digest = build(store, watch, Period.day(date.fromisoformat(day["day"])))
        found = [stories[e.story_id] for e in digest.entries]
        assert found[:1] == example["expected_stories"][:1], example
        assert set(example["expected_stories"]) <= set(found), example
        assert not set(example.get("excluded_stories", ())) & set(found), example


def test_the_cli_prints_the_digest(tmp_path):
    require_french_model()
    result = CliRunner().invoke(app, ["demo", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Veille")
    assert "Écrit : " in result.output


def test_stored_articles_keep_no_page_chrome(demo):
    _, store, day = demo
    by_url = {canonical_url(p["url"]): p for p in day["pages"]}
    for article in store.articles():
        page = by_url[article.canonical_url]
        assert article.title == page["title"]
        leaked = [b for b in day["boilerplate_strings"] if b in article.text]
        assert not leaked, (article.url, leaked)
