"""Named entities: spaCy mentions cleaned, aliases merged within and across stories."""

from __future__ import annotations

import pytest

from tests.conftest import shared_path
from veille.enrich.entities import (
    Entity,
    EntityModelMissing,
    Mention,
    acronym_of,
    find_mentions,
    load,
    mentions,
    merge,
    model_name,
    name_key,
)
from veille.extract import extract_html
from veille.text import fold


@pytest.fixture(scope="module", autouse=True)
def french_model() -> None:
    """Load the French pipeline once for the module (the load is most of its time)."""
    try:
        load("fr")
    except EntityModelMissing as missing:
        pytest.skip(missing.reason)


def entities_of(*texts: str) -> list[Entity]:
    """Entities merged over the texts, one article each."""
    return merge({n: mentions(text) for n, text in enumerate(texts)})


def named(entities: list[Entity], spelling: str) -> list[Entity]:
    """The entities that have `spelling` among their names (folded)."""
    return [e for e in entities if fold(spelling) in {fold(a) for a in e.aliases}]


def test_a_surname_joins_the_full_name() -> None:
    entities = entities_of(
        "Elon Musk a annoncé mardi le rachat d'une société. Selon Musk, l'opération sera "
        "bouclée en juin."
    )
    [musk] = named(entities, "Musk")
    assert (musk.name, musk.label, musk.mentions) == ("Elon Musk", "PER", 2)
    assert musk.aliases == ["Elon Musk", "Musk"]
    assert named(entities, "Elon Musk") == [musk]


def test_transliterations_are_one_person_with_both_spellings() -> None:
    entities = entities_of(
        "Le fondateur de Telegram, Pavel Durov, a été entendu. Pavel Dourov dénonce une "
        "procédure abusive. Dourov vit à Dubaï depuis 2017. Pavel Durov a fait appel."
    )
    people = [e for e in entities if e.label == "PER"]
    assert len(people) == 1
    durov = people[0]
    assert durov.name == "Pavel Durov"  # the spelling used more often
    assert {"Pavel Durov", "Pavel Dourov", "Dourov"} <= set(durov.aliases)
    assert durov.mentions == 4


def test_an_acronym_joins_the_name_it_abbreviates() -> None:
    entities = entities_of(
        "L'enquête est confiée à l'Unité nationale cyber de la gendarmerie. Mardi, "
        "l'UNCyber a saisi plusieurs serveurs."
    )
    [unit] = named(entities, "UNCyber")
    assert unit.label == "ORG"
    assert unit.name == "Unité nationale cyber de la gendarmerie"  # the full form
    # In brackets, the alias is declared: no acronym rule needed.
    [cnil] = named(
        entities_of(
            "La Commission nationale de l'informatique et des libertés (CNIL) a sanctionné "
            "l'entreprise. La CNIL réclame 10 millions d'euros."
        ),
        "CNIL",
    )
    assert cnil.name == "Commission nationale de l'informatique et des libertés"
    assert cnil.mentions == 3


def test_acronym_rules() -> None:
    assert acronym_of("UNCyber", "Unité nationale cyber de la gendarmerie")
    assert acronym_of("UE", "Union européenne")
    assert acronym_of("CNIL", "Commission nationale de l'informatique et des libertés")
    assert acronym_of("SNCF", "Société nationale des chemins de fer français")
    assert not acronym_of("UE", "Union soviétique")
    assert not acronym_of("Europol", "Union européenne")


def test_case_variants_of_an_organisation_are_one() -> None:
    entities = entities_of(
        "Le parquet de Paris a ouvert une enquête. Le Parquet de Paris précise que la garde "
        "à vue a été levée."
    )
    [parquet] = named(entities, "parquet de Paris")
    assert parquet.label == "ORG"
    assert parquet.name == "Parquet de Paris"  # properly cased
    assert set(parquet.aliases) == {"Parquet de Paris", "parquet de Paris"}
    assert not named(entities, "Paris")  # the place is part of the institution's name


def test_two_people_sharing_a_first_name_stay_apart() -> None:
    entities = entities_of(
        "Jean Dupont, maire de la ville, a rencontré Jean Martin, le préfet. Selon Dupont, "
        "l'accord est historique."
    )
    people = sorted((e.name, e.mentions) for e in entities if e.label == "PER")
    assert people == [("Jean Dupont", 2), ("Jean Martin", 1)]


def test_an_ambiguous_surname_stays_apart_across_articles() -> None:
    elon = "Elon Musk a parlé. Musk est confiant."
    kimbal = "Kimbal Musk, son frère, a investi. Musk siège au conseil."
    alone = "Musk a encore tweeté."
    entities = entities_of(elon, kimbal, alone)
    assert sorted(e.name for e in named(entities, "Musk")) == ["Elon Musk", "Kimbal Musk", "Musk"]
    [bare] = [e for e in entities if e.name == "Musk"]
    assert (bare.label, bare.article_ids) == ("PER", {2})
    # With one Musk in the set, the bare surname in another article is his.
    [musk] = named(entities_of(elon, alone), "Musk")
    assert (musk.name, musk.article_ids) == ("Elon Musk", {0, 1})


def test_a_trailing_possessive_is_dropped() -> None:
    assert name_key("Musk’s") == name_key("Musk's") == name_key("Musk") == "musk"
    [found] = mentions("Selon Elon Musk’s, rien ne change.")
    assert found.text == "Elon Musk"
    [musk] = merge(
        {
            1: [Mention("Elon Musk", "PER", 0, 9, 0)],
            2: [Mention("Musk’s", "PER", 0, 6, 0)],
        }
    )
    assert (musk.name, musk.article_ids) == ("Elon Musk", {1, 2})


def test_mentions_are_cleaned() -> None:
    text = "Le réseau social X. Elon Musk a répondu à M. Trump et à la procureure Laure Beccuau."
    found = mentions(text)
    assert "X. Elon Musk" not in {m.text for m in found}
    assert "Elon Musk" in {m.text for m in found}
    for m in found:
        assert text[m.start : m.end] == m.text
    titles = {m.text: m.title for m in found}
    assert titles["Trump"] == "M."
    assert titles["Laure Beccuau"] == "procureure"
    # Determiners go, a former name in brackets is an alias.
    [x, twitter] = mentions("La plateforme X (anciennement Twitter) est visée.")
    assert (x.text, twitter.text, twitter.alias_of) == ("X", "Twitter", "X")
    places = mentions("Les élus ont quitté la France pour rejoindre l'Europe et l'Italie.")
    assert [m.text for m in places] == ["France", "Europe", "Italie"]


def test_english_is_skipped_with_the_reason() -> None:
    try:
        model_name("en")
    except EntityModelMissing:
        pass
    else:
        pytest.skip("an English model is installed here")
    with pytest.raises(EntityModelMissing) as missing:
        mentions("Elon Musk met Linda Yaccarino in Paris.", "en")
    assert "en_core_web_sm" in missing.value.reason
    found, skipped = find_mentions({1: ("Elon Musk a parlé.", "fr"), 2: ("Musk spoke.", "en")})
    assert [m.text for m in found[1]] == ["Elon Musk"]
    assert 2 not in found
    assert "en_core_web_sm" in skipped[2]


def test_merging_is_deterministic() -> None:
    texts = {
        3: "Pavel Dourov a parlé. Telegram répond.",
        1: "Pavel Durov, fondateur de Telegram, est à Paris.",
        2: "Durov et Elon Musk se sont rencontrés. Musk a souri.",
    }
    found, _ = find_mentions({k: (t, "fr") for k, t in texts.items()})
    first = merge(found)
    again = merge(dict(reversed(list(found.items()))))
    assert first == again
    [durov] = named(first, "Durov")
    assert durov.article_ids == {1, 2, 3}


# --------------------------------------------------------------------------- seed day

STORY = "x-paris-raid-2026-02-03"
REQUIRED = {
    "PER": ["Elon Musk", "Linda Yaccarino", "Pavel Durov", "Laure Beccuau"],
    "ORG": ["Europol", "Parquet de Paris"],
}


def matches(entity: Entity, truth: dict) -> bool:
    spellings = {fold(a) for a in entity.aliases}
    return bool(spellings & {fold(n) for n in [truth["name"], *truth["aliases"]]})


def test_seed_day_story_entities(seed_day_truth: dict) -> None:
    base = shared_path("fixtures", "seed-day")
    texts = {}
    for n, article in enumerate(seed_day_truth["articles"]):
        if article["story"] == STORY:
            page = extract_html((base / article["page"]).read_bytes(), article["url"])
            texts[n] = ("\n".join(p for p in (page.title, page.text) if p), "fr")
    found, skipped = find_mentions(texts)
    assert not skipped
    entities = merge(found)
    truth = {
        "PER": seed_day_truth["entities"]["people"],
        "ORG": seed_day_truth["entities"]["orgs"],
    }
    for label, required in REQUIRED.items():
        for name in required:
            [entry] = [t for t in truth[label] if t["name"] == name]
            hits = [e for e in entities if e.label == label and matches(e, entry)]
            assert len(hits) == 1, (name, hits)
    [durov] = [e for e in entities if e.label == "PER" and "Pavel Durov" in e.aliases]
    assert "Pavel Dourov" in durov.aliases
    # No person twice under two spellings.
    for entry in truth["PER"]:
        hits = [e.name for e in entities if e.label == "PER" and matches(e, entry)]
        assert len(hits) <= 1, hits


def test_seed_text_with_two_spellings() -> None:
    path = shared_path("seeds", "001_9b88f42ffd81dded.txt")
    entities = entities_of(path.read_text("utf-8"))
    durovs = [
        e for e in entities if any(w in fold(a) for a in e.aliases for w in ("durov", "dourov"))
    ]
    assert len(durovs) == 1
    assert {"Pavel Durov", "Pavel Dourov"} <= set(durovs[0].aliases)


def by_label(entities: list[Entity]) -> set[tuple[str, str]]:
    return {(e.name, e.label) for e in entities}


def test_a_rubric_sentence_is_no_name() -> None:
    # The model takes the section label for an organisation.
    found = by_label(entities_of("Basket. Evan Fournier a signé au Pirée pour deux saisons."))
    assert found == {("Evan Fournier", "PER"), ("Pirée", "LOC")}


def test_a_full_name_in_apposition_to_a_role_is_a_person() -> None:
    # The model calls the name a place.
    text = "Sa fondatrice, Ngozi Okonjo-Iweala Adebayo, a présenté le rapport annuel."
    assert by_label(entities_of(text)) == {("Ngozi Okonjo-Iweala Adebayo", "PER")}


def test_the_kind_of_organisation_before_a_name_types_it() -> None:
    # The model misses "Smoby"; a verb between the noun and the name breaks the link.
    text = (
        "Le fabricant de jouets Smoby va délocaliser sa production. Le groupe a nommé "
        "Pierre Dupont à la tête de sa filiale."
    )
    assert by_label(entities_of(text)) == {("Smoby", "ORG"), ("Pierre Dupont", "PER")}


def test_a_ministry_is_named_and_a_portfolio_is_not() -> None:
    text = (
        "Le ministère de la Transition écologique a publié un décret. La ministre de la "
        "Culture, Rachida Dati, a salué ce choix."
    )
    assert by_label(entities_of(text)) == {
        ("ministère de la Transition écologique", "ORG"),
        ("Rachida Dati", "PER"),
    }


def test_institution_names_take_back_their_complements() -> None:
    # The model stops at "incendie" and tags the department apart; it calls the
    # statistics institute a place.
    assert by_label(
        entities_of(
            "Le Service départemental d'incendie et de secours de l'Isère a évacué 40 "
            "personnes. L'Institut national de la statistique et des études économiques a "
            "publié ses chiffres."
        )
    ) == {
        ("Service départemental d'incendie et de secours de l'Isère", "ORG"),
        ("Institut national de la statistique et des études économiques", "ORG"),
    }


def test_a_role_phrase_is_no_organisation() -> None:
    text = "La Première ministre lituanienne Inga Ruginienė a rencontré le président polonais."
    assert by_label(entities_of(text)) == {("Inga Ruginienė", "PER")}


def test_the_organisation_after_a_general_secretary_is_kept() -> None:
    # "secrétaire général de l'Otan" is an employer, not a portfolio.
    text = "Mark Rutte, secrétaire général de l'Otan, a parlé à Bruxelles."
    assert ("Otan", "ORG") in by_label(entities_of(text))


def test_events_and_share_buttons_are_no_organisations() -> None:
    text = "Suivez-nous sur Instagram et sur TikTok\nLe Salon du livre de Paris ouvre vendredi."
    assert by_label(entities_of(text)) == set()
    # A button glued to the article: the sentence after it is read.
    glued = "Partager sur Facebook. Sa directrice, Nadia Benali, présente la saison."
    assert by_label(entities_of(glued)) == {("Nadia Benali", "PER")}


def test_truncated_and_run_on_body_names_are_mended() -> None:
    # The model stops at "français", runs on into the verb "menace" (a noun too), and
    # calls the farmers' union a place.
    text = (
        "L'Observatoire français des conjonctures économiques a revu sa prévision. La "
        "Fédération nationale des transports routiers menace de bloquer les dépôts. La "
        "Confédération paysanne dénonce les accords de libre-échange."
    )
    assert by_label(entities_of(text)) == {
        ("Observatoire français des conjonctures économiques", "ORG"),
        ("Fédération nationale des transports routiers", "ORG"),
        ("Confédération paysanne", "ORG"),
    }
