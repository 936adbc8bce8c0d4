"""Stories understood through the real pipeline: entities stored across stories, key facts
with their sources, the date disagreement, a summary across sources; shown by the CLI."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from typer.testing import CliRunner

from tests.conftest import seed_day_store, shared_path
from veille import cli, pipeline
from veille.cli import app
from veille.config import Settings
from veille.enrich import stage as enrich_stage
from veille.enrich.conflicts import about
from veille.enrich.entities import name_key
from veille.model import Article
from veille.pipeline import ingest
from veille.store import Store
from veille.summarize.extractive import dangling
from veille.text import fold

RAID = "x-paris-raid-2026-02-03"
GROK = "eu-dsa-grok-2026-01-26"


@pytest.fixture(scope="module")
def understood(tmp_path_factory):
    store, path, report = seed_day_store(tmp_path_factory.mktemp("understand"))
    yield store, report, path
    store.close()


def _story_of(store: Store, truth: dict, story: str) -> int:
    url = next(a["url"] for a in truth["articles"] if a["story"] == story)
    article = next(a for a in store.articles() if a.canonical_url == url)
    return store.story_of(article.id)


def test_every_story_is_understood(understood):
    store, report, _ = understood
    live = store.stories()
    assert report.understood == len(live)
    assert all(store.brief(s.id) is not None for s in live)
    assert not [e for e in store.log_entries() if e.stage == "understand"]


def test_raid_entities_merge_spellings(understood, seed_day_truth):
    store, _, _ = understood
    brief = store.brief(_story_of(store, seed_day_truth, RAID))
    people = {e.name: e for e in brief.entities if e.kind == "PER"}
    orgs = {fold(e.name) for e in brief.entities if e.kind == "ORG"}
    for name in ("Elon Musk", "Linda Yaccarino", "Pavel Durov", "Laure Beccuau"):
        assert name in people, sorted(people)
    assert {"Pavel Dourov", "Durov"} <= set(people["Pavel Durov"].aliases)
    assert "Musk" in people["Elon Musk"].aliases
    assert "europol" in orgs and "parquet de paris" in orgs
    # No person twice under two spellings: every surname key names one entity.
    surnames = [name_key(n).split()[-1] for n in people]
    assert len(surnames) == len(set(surnames)), sorted(people)


def test_entities_are_linked_across_stories(understood, seed_day_truth):
    store, _, _ = understood
    raid, grok = (_story_of(store, seed_day_truth, s) for s in (RAID, GROK))
    musk = [e for e in store.entities(limit=500) if e.name == "Elon Musk"]
    assert len(musk) == 1 and musk[0].stories >= 2
    stories = {story.id for story, _ in store.entity_stories(musk[0].id)}
    assert {raid, grok} <= stories
    # The totals are the sums over the stories naming it.
    assert musk[0].mentions == sum(n.mentions for _, n in store.entity_stories(musk[0].id))


def test_summons_fact_with_its_sources_and_the_date_disagreement(understood, seed_day_truth):
    store, _, _ = understood
    brief = store.brief(_story_of(store, seed_day_truth, RAID))
    summons = next(f for f in seed_day_truth["facts"] if "20 avril" in f["fact"])
    fact = next(f for f in brief.facts if "20 avril" in f.text)
    cited = {s.url for s in fact.sources}
    assert len(cited & set(summons["sources"])) >= 0.8 * len(summons["sources"])
    assert fact.independent >= 5
    (dates,) = [d for d in brief.disagreements if d.slot == "date"]
    truth = seed_day_truth["conflicts"][0]["values"]
    values = dict(dates.values)
    assert [s.url for s in values["2026-02-02"]] == truth["2026-02-02"]
    assert {s.url for s in values["2026-02-03"]} <= set(truth["2026-02-03"])
    assert dates.values[0][0] == "2026-02-03"  # the value most sources give comes first
    # What the date is the date of, a noun as the texts write it (not "perquisitionne").
    assert dates.word == "la perquisition"
    assert about(dates.slot, dates.word, "fr") == "date de la perquisition"
    # The minority side is never a fact of the story.
    assert not [f.text for f in brief.facts if "2 février" in f.text]
    assert all(f.text.count("«") == f.text.count("»") for f in brief.facts)
    assert not [f.text for f in brief.facts if re.search(r",\s*,", f.text)]
    assert any(n.weekday == "lundi" and n.day == "2026-02-02" for n in dates.notes)


def test_summary_cites_three_sources_and_no_boilerplate(understood, seed_day_truth):
    store, _, _ = understood
    brief = store.brief(_story_of(store, seed_day_truth, RAID))
    text = " ".join(s.text for s in brief.summary)
    assert not [b for b in seed_day_truth["boilerplate_strings"] if b in text]
    cited = {s.source.site for s in brief.summary} | {a.site for s in brief.summary for a in s.also}
    assert len(cited) >= 3
    assert brief.method == "extractive" and brief.summary_error is None
    # L'Humanité's "mardi 2 février" is the minority side of the date disagreement: the
    # summary does not state it as the story's date.
    minority = {v for d in brief.disagreements for v, _ in d.values[1:]}
    assert "2026-02-02" in minority and "2 février" not in text
    # No sentence leans on an antecedent it lacks, none tells the search twice, and the
    # other side's answer is there.
    assert not [s.text for s in brief.summary if dangling(s.text)]
    searches = [s.text for s in brief.summary if re.match(r"\W*\w+ \w+, une perquisition", s.text)]
    assert len(searches) <= 1, searches
    # X's answer (its denunciation, or its qualifying the case as political), whoever
    # reports it.
    answers = [s.text for s in brief.summary if re.search(r"\b(?:dénonc|qualifi|réfut)", s.text)]
    assert answers and all(" X " in f" {a} " or "X," in a for a in answers), brief.summary


def test_raid_quotes_have_speakers(understood, seed_day_truth):
    store, _, _ = understood
    brief = store.brief(_story_of(store, seed_day_truth, RAID))
    speakers = {q.entity for q in brief.quotes if q.entity}
    assert len([q for q in brief.quotes if q.entity]) >= 3
    assert {"X", "Pavel Durov"} <= speakers, [(q.speaker, q.text) for q in brief.quotes]
    assert speakers & {"Laure Beccuau", "Parquet de Paris", "parquet de Paris"}
    x = [q for q in brief.quotes if q.entity == "X"]
    assert any("pressions" in q.text for q in x)
    for quote in brief.quotes:
        assert quote.text.count("«") == quote.text.count("»")
        assert quote.sources


def test_cli_story_shows_summary_facts_disagreement_and_entities(understood, seed_day_truth):
    store, _, path = understood
    story = _story_of(store, seed_day_truth, RAID)
    result = CliRunner().invoke(app, ["story", str(story), "--db", str(path)])
    assert result.exit_code == 0, result.output
    out = re.sub(r"\s+", " ", result.output)
    for heading in (
        "Résumé",
        "Faits clés",
        "Qui a dit quoi",
        "Désaccords entre sources",
        "Entités",
        "Articles",
    ):
        assert heading in out
    assert "20 avril" in out
    assert "2026-02-02 : L'Humanité" in out
    assert "mais le 2026-02-02 était un lundi" in out
    assert "Pavel Durov" in out and "Dourov" in out


def test_cli_entities_and_entity(understood, seed_day_truth, monkeypatch):
    store, _, path = understood
    monkeypatch.setattr(cli.console, "width", 200)  # table cells unwrapped
    runner = CliRunner()
    listed = runner.invoke(app, ["entities", "--kind", "PER", "--db", str(path)])
    assert listed.exit_code == 0 and "Elon Musk" in listed.output
    assert "Commission" not in listed.output  # only people
    story = _story_of(store, seed_day_truth, GROK)
    of_story = runner.invoke(app, ["entities", "--story", str(story), "--db", str(path)])
    assert "Grok" in of_story.output and "Yaccarino" not in of_story.output
    # A spelling or a surname finds the entity; its stories are listed over time.
    shown = runner.invoke(app, ["entity", "Dourov", "--db", str(path)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Pavel Durov")
    musk = runner.invoke(app, ["entity", "musk", "--db", str(path)])
    assert musk.output.startswith("Elon Musk")
    assert musk.output.index("2026-01-26") < musk.output.index("2026-02-03")
    missing = runner.invoke(app, ["entity", "Personne Inconnue", "--db", str(path)])
    assert missing.exit_code == 1


def test_unchanged_stories_are_not_understood_again(understood, monkeypatch):
    store, _, _ = understood

    def fail(*args, **kwargs):
        raise AssertionError("an unchanged story was understood again")

    monkeypatch.setattr(enrich_stage.enrich_story, "understand", fail)
    report = ingest([shared_path("fixtures", "seed-day", "pages")], store, Settings())
    assert report.understood == 0


def test_a_failing_story_is_recorded_and_the_others_go_on(store, monkeypatch):
    texts = {
        "a": "Le maire de Lyon est convoqué par les juges le 20 avril, a indiqué le parquet.",
        "b": "La tempête Ciara a privé d'électricité 40 000 foyers en Bretagne lundi soir.",
    }
    for n, (key, text) in enumerate(texts.items()):
        _save_unread(store, key, n, text[:40], text)  # entities skipped with the reason
    real = enrich_stage.enrich_story.understand

    def flaky(articles, *args, **kwargs):
        if "tempête" in articles[0].text:
            raise ValueError("broken on purpose")
        return real(articles, *args, **kwargs)

    monkeypatch.setattr(enrich_stage.enrich_story, "understand", flaky)
    report = pipeline.process(store, Settings())
    assert report.understood == 1
    assert [f.stage for f in report.failed] == ["understand"]
    assert "broken on purpose" in report.failed[0].reason
    logged = store.log_entries()
    assert any(e.stage == "understand" and "broken on purpose" in e.reason for e in logged)
    assert any("xx" in e.reason for e in logged)  # the language without a model
    understood = [s for s in store.stories() if store.brief(s.id)]
    assert len(understood) == 1
    assert store.brief(understood[0].id).skipped[0][1].endswith("xx")
    # The failed story is taken up again by the next run.
    monkeypatch.setattr(enrich_stage.enrich_story, "understand", real)
    again = pipeline.process(store, Settings())
    assert again.understood == 1 and all(store.brief(s.id) for s in store.stories())


def test_stories_are_written_in_story_order_whatever_the_order_of_computing(store, monkeypatch):
    """Stories are computed biggest first (the workers finish together) but written in
    story order: each story's entities are linked to those written before it, so a run
    whose mentions were kept from an earlier reading (computed in another order) must
    link them the same way."""
    topics = {
        "Lyon": "Le conseil municipal a voté le budget des écoles et des crèches.",
        "Brest": "La tempête a arraché des toitures et coupé plusieurs routes côtières.",
        "Nantes": "Le festival de musique attend quarante mille spectateurs ce week-end.",
        "Lille": "Une usine de batteries va embaucher trois cents ouvriers en mars.",
        "Dijon": "Les vendanges tardives inquiètent les viticulteurs après la grêle.",
    }
    for n, (town, sentence) in enumerate(topics.items()):
        text = f"{town} : {sentence} " * (n + 1) * 3  # the later, the longer
        _save_unread(store, town.lower(), n, sentence[:40], text)  # the order alone matters
    written: list[int] = []
    real = Store.save_brief

    def save_brief(self, brief, *args, **kwargs):
        written.append(brief.story_id)
        return real(self, brief, *args, **kwargs)

    monkeypatch.setattr(Store, "save_brief", save_brief)
    report = pipeline.process(store, Settings())
    assert report.understood == len(written) >= 3
    assert written == sorted(written)


def _save_unread(store: Store, key: str, n: int, title: str, text: str) -> None:
    """An article in a language no model reads ("xx"): understood without entities."""
    store.save_article(
        Article(
            url=f"https://{key}.example/{n}",
            canonical_url=f"https://{key}.example/{n}",
            title=title,
            text=text,
            content_hash=key,
            raw_ref=key,
            source="test",
            published=datetime(2026, 2, 3, 9),
            site_name=f"{key}.example",
            language="xx",
        )
    )
