"""Key facts and disagreements across a story's sources."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import shared_path
from veille.enrich.conflicts import disagreements
from veille.enrich.facts import FactSource, key_facts
from veille.extract import extract_html
from veille.text import sentences

PUBLISHED = datetime(2026, 2, 3, 12)


def _source(n: int, site: str, text: str, published=PUBLISHED) -> FactSource:
    return FactSource(n, site, f"https://{site}/{n}", text, published)


def test_sentences_respect_abbreviations_and_quotes():
    text = (
        "M. Durand a parlé. « Ce n'est pas fini. » a-t-il dit. Le 3 févr. 2026, "
        "tout change !\nNouveau paragraphe"
    )
    assert sentences(text) == [
        "M. Durand a parlé.",
        "« Ce n'est pas fini. » a-t-il dit.",
        "Le 3 févr. 2026, tout change !",
        "Nouveau paragraphe",
    ]


def test_a_fact_stated_by_several_sources_ranks_first_with_its_sources():
    sources = [
        _source(
            1,
            "a.fr",
            "Le maire sera entendu par les juges le 20 avril à Lyon, a indiqué "
            "le parquet. Il fait beau ce jour-là selon Météo France.",
        ),
        _source(
            2,
            "b.fr",
            "Convoqué le 20 avril par les juges, le maire de Lyon devra "
            "s'expliquer sur les marchés publics.",
        ),
        _source(3, "c.fr", "Le maire de Lyon est convoqué par les juges le 20 avril prochain."),
        _source(4, "d.fr", "Un budget de 12 millions d'euros a été voté pour le stade."),
    ]
    facts = key_facts(sources)
    assert "20 avril" in facts[0].text
    assert sorted(facts[0].sites) == ["a.fr", "b.fr", "c.fr"]
    assert facts[0].independent_sources == 3
    assert any("12 millions" in f.text and f.independent_sources == 1 for f in facts)


def test_a_syndicated_copy_is_not_an_independent_source():
    text = "Le maire de Lyon est convoqué par les juges le 20 avril prochain, a appris l'AFP."
    facts = key_facts(
        [
            _source(1, "a.fr", text),
            FactSource(2, "b.fr", "https://b.fr/2", text, PUBLISHED, original_id=1),
        ]
    )
    assert facts[0].independent_sources == 1 and len(facts[0].sources) == 2


def test_relative_and_explicit_dates_disagreeing_are_flagged():
    sources = [
        _source(1, "a.fr", "La police a perquisitionné mardi le siège du club."),
        _source(2, "b.fr", "Le siège du club a été perquisitionné ce mardi 3 février."),
        _source(3, "c.fr", "Le siège a été perquisitionné ce mardi 2 février par la police."),
        _source(
            4,
            "d.fr",
            "Les joueurs sont convoqués le 20 avril.",
        ),
    ]
    titles = ["Le club perquisitionné", "Perquisition au club", "Le siège perquisitionné"]
    (found,) = disagreements(sources, titles)
    assert {k: [s.site for s in v] for k, v in found.values.items()} == {
        "2026-02-03": ["a.fr", "b.fr"],
        "2026-02-02": ["c.fr"],
    }
    assert found.majority == "2026-02-03"
    assert any("c.fr" in note.text and "lundi" in note.text for note in found.notes)


def test_sources_that_agree_give_no_disagreement():
    sources = [
        _source(1, "a.fr", "Le siège a été perquisitionné ce mardi."),
        _source(2, "b.fr", "Le siège a été perquisitionné mardi 3 février."),
    ]
    assert disagreements(sources, ["Siège perquisitionné", "Perquisition au siège"]) == []


@pytest.fixture(scope="module")
def x_story(seed_day_truth):
    base = shared_path("fixtures", "seed-day")
    sources, titles = [], []
    for n, article in enumerate(seed_day_truth["articles"]):
        if article["story"] == "x-paris-raid-2026-02-03":
            page = extract_html((base / article["page"]).read_bytes(), article["url"])
            sources.append(FactSource(n, page.site_name, article["url"], page.text, page.published))
            titles.append(page.title)
    return sources, titles


def test_seed_day_summons_fact_and_date_disagreement(x_story, seed_day_truth):
    sources, titles = x_story
    summons = next(f for f in seed_day_truth["facts"] if "20 avril" in f["fact"])
    fact = next(f for f in key_facts(sources) if "20 avril" in f.text)
    found = {s.url for s in fact.sources}
    assert len(found & set(summons["sources"])) >= 0.8 * len(summons["sources"])
    (dates,) = [d for d in disagreements(sources, titles) if d.about.startswith("date")]
    truth = seed_day_truth["conflicts"][0]["values"]
    humanite = truth["2026-02-02"]
    assert [s.url for s in dates.values["2026-02-02"]] == humanite
    assert dates.majority == "2026-02-03"
    assert {s.url for s in dates.values["2026-02-03"]} <= set(truth["2026-02-03"])
