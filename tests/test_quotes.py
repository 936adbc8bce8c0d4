"""Who said what: quotations, their speakers resolved to the story's entities, the outlets
carrying them. The sentences are the project's own, written for this test (no corpus)."""

from __future__ import annotations

import pytest

from veille.enrich.entities import Entity
from veille.enrich.quotes import QuoteText, find_quotes, quotations, resolve, story_quotes

ENTITIES = [
    Entity("Claire Vasseur", "PER", ["Claire Vasseur", "Vasseur"], 3),
    Entity("Hugo Marchetti", "PER", ["Hugo Marchetti", "Marchetti"], 2),
    Entity("Nordvalia", "ORG", ["Nordvalia"], 4),
    Entity("parquet de Lyon", "ORG", ["parquet de Lyon", "Parquet de Lyon"], 2),
    Entity("Lyon", "LOC", ["Lyon"], 3),
]

# (text, expected (speaker, start of the words quoted)); None: no attributed quotation.
CASES = [
    (
        "« Nous ne céderons rien sur la sécurité des salariés », a déclaré Claire Vasseur.",
        ("Claire Vasseur", "Nous ne céderons rien"),
    ),
    (
        "Hugo Marchetti a dénoncé « une décision prise sans la moindre concertation ».",
        ("Hugo Marchetti", "une décision prise"),
    ),
    (
        "La ministre a reçu les syndicats. Claire Vasseur a déclaré : « Le dialogue reprendra "
        "dès lundi à Lyon. »",
        ("Claire Vasseur", "Le dialogue reprendra"),
    ),
    (
        "Selon Marchetti, « le calendrier fixé par la direction est intenable ».",
        ("Hugo Marchetti", "le calendrier fixé"),
    ),
    (
        "« Les comptes de l'entreprise sont sincères et vérifiés », selon Nordvalia.",
        ("Nordvalia", "Les comptes de l'entreprise"),
    ),
    (
        "Le groupe Nordvalia a dénoncé mardi une « procédure disproportionnée ».",
        ("Nordvalia", "procédure disproportionnée"),
    ),
    (
        "Claire Vasseur est arrivée à Lyon lundi. « Je resterai jusqu'à la fin des "
        "négociations », a-t-elle assuré.",
        ("Claire Vasseur", "Je resterai jusqu'à"),
    ),
    (
        "« Aucune piste n'est écartée à ce stade de l'enquête », précise le parquet de Lyon.",
        ("parquet de Lyon", "Aucune piste n'est"),
    ),
    (
        "« Le site de Vénissieux restera ouvert. Aucun emploi ne sera supprimé », a promis "
        "Hugo Marchetti.",
        ("Hugo Marchetti", "Le site de Vénissieux restera ouvert. Aucun emploi"),
    ),
    (
        '"We will appeal this ruling as soon as possible," said Claire Vasseur.',
        ("Claire Vasseur", "We will appeal"),
    ),
    (
        "Hugo Marchetti estime que « la fermeture du dépôt serait une faute historique ».",
        ("Hugo Marchetti", "la fermeture du dépôt"),
    ),
    # A term in quotation marks, not a statement; a title; no speaker at all.
    ("Les salariés sont convoqués en « entretien préalable » vendredi.", None),
    ("Le rapport « Logistique 2030 » sera publié en juin à Lyon.", None),
    ("« Une journée noire pour la logistique française » titrait le journal régional.", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_speaker_and_words(text: str, expected: tuple[str, str] | None) -> None:
    found = story_quotes([QuoteText(1, "site", "https://a.example/1", text)], ENTITIES)
    if expected is None:
        assert found == []
        return
    speaker, words = expected
    assert [q.speaker for q in found] == [speaker]
    assert found[0].text.startswith(words)
    assert found[0].text.count("«") == found[0].text.count("»")


def test_quotations_are_kept_whole() -> None:
    text = "« Première phrase. Deuxième phrase, « citée », encore. » a-t-il dit."
    assert quotations(text) == [(0, 56, "Première phrase. Deuxième phrase, « citée », encore.")]


def test_a_quotation_after_an_attributed_one_keeps_its_speaker() -> None:
    text = (
        "« Le plan est prêt depuis des semaines », a déclaré Claire Vasseur. « Il ne "
        "manque que la signature de l'État. »"
    )
    found = story_quotes([QuoteText(1, "s", "u", text)], ENTITIES)
    assert [(q.speaker, q.text[:12]) for q in found] == [
        ("Claire Vasseur", "Le plan est "),
        ("Claire Vasseur", "Il ne manque"),
    ]


def test_the_same_words_in_two_outlets_are_one_quote_with_both() -> None:
    one = "« Nous ne céderons rien sur la sécurité des salariés », a déclaré Claire Vasseur."
    two = "Claire Vasseur a affirmé : « nous ne céderons rien sur la sécurité des salariés »."
    found = story_quotes(
        [
            QuoteText(1, "A", "https://a.example/1", one),
            QuoteText(2, "B", "https://b.example/2", two),
        ],
        ENTITIES,
    )
    assert len(found) == 1
    assert [s.site for s in found[0].sources] == ["A", "B"]
    assert found[0].independent_sources == 2


def test_a_syndicated_copy_is_not_another_outlet() -> None:
    text = "« Nous ne céderons rien sur la sécurité des salariés », a déclaré Claire Vasseur."
    found = story_quotes(
        [
            QuoteText(1, "A", "https://a.example/1", text),
            QuoteText(2, "A", "https://a.example/2", text, 1),
        ],
        ENTITIES,
    )
    assert found[0].independent_sources == 1


def test_resolution() -> None:
    assert resolve("Vasseur", ENTITIES).name == "Claire Vasseur"
    assert resolve("le groupe Nordvalia", ENTITIES).name == "Nordvalia"
    assert resolve("la section financière du parquet de Lyon", ENTITIES).name == "parquet de Lyon"
    assert resolve("Lyon", ENTITIES) is None  # a place says nothing
    assert resolve("Jeanne Martin", ENTITIES) is None


def test_an_unknown_speaker_is_kept_as_written() -> None:
    found = find_quotes("« Ce chantier durera dix ans au moins », a estimé Paul Girard.")
    assert [(f.speaker, f.text) for f in found] == [
        ("Paul Girard", "Ce chantier durera dix ans au moins")
    ]
