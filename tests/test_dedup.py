"""Duplicates: AMP/mobile URLs, exact text keys, near-duplicate copies of wire stories."""

from __future__ import annotations

import itertools
import json
import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.conftest import shared_path
from veille import dedup
from veille.dedup import (
    Match,
    NearDuplicateIndex,
    agency_credits,
    canonical_variant_url,
    find_copies,
    normalised_hash,
    shingles,
    signature,
)

# A wire story and another article on the same event: same people, same place, one
# shared quote, written apart.
WIRE = (
    "Le tribunal correctionnel de Lyon a condamné jeudi l'ancien maire de Villeurbanne, "
    "Jean-Paul Bret, à dix-huit mois de prison avec sursis pour favoritisme dans "
    "l'attribution de marchés publics entre 2015 et 2019. Le parquet avait requis deux ans "
    "d'emprisonnement avec sursis et une amende de 50 000 euros. « C'est une décision "
    "injuste que nous allons contester », a réagi son avocat à la sortie de l'audience. "
    "L'enquête avait été ouverte après un signalement de la chambre régionale des comptes, "
    "qui avait relevé des irrégularités dans une douzaine de contrats passés avec deux "
    "entreprises de travaux publics de la métropole. Les dirigeants de ces sociétés ont été "
    "relaxés, le tribunal estimant qu'ils ne pouvaient pas connaître les conditions "
    "d'attribution des marchés. L'ancien élu, qui a toujours nié les faits, dispose de dix "
    "jours pour faire appel. Son successeur à la mairie n'a pas souhaité commenter la "
    "décision, rappelant que la commune s'était constituée partie civile dès l'ouverture "
    "de la procédure. Le montant du préjudice a été évalué à près de 300 000 euros par les "
    "enquêteurs, qui ont épluché plusieurs centaines de factures."
)
SAME_EVENT = (
    "Dix-huit mois avec sursis : la peine prononcée jeudi à Lyon contre Jean-Paul Bret a "
    "surpris ses partisans, venus nombreux au palais de justice. L'ancien maire de "
    "Villeurbanne, poursuivi pour favoritisme, avait plaidé la bonne foi pendant trois "
    "jours d'audience, assurant n'avoir jamais favorisé la moindre entreprise. « C'est une "
    "décision injuste que nous allons contester », a réagi son avocat. Dans les rues de la "
    "ville, les habitants interrogés se montraient partagés, certains saluant un élu "
    "proche des gens, d'autres estimant que la justice devait passer pour tout le monde. "
    "L'affaire avait éclaté en 2019 lorsque la chambre régionale des comptes avait publié "
    "un rapport sévère sur la gestion des marchés de voirie. Depuis, la majorité municipale "
    "a renouvelé les procédures d'achat et confié leur contrôle à un cabinet extérieur, "
    "une réforme que l'opposition juge encore insuffisante à quelques mois des élections."
)


def edit(text: str, rate: float, seed: int = 1) -> str:
    """Change about `rate` of the words (substitutions, deletions, insertions)."""
    rng = random.Random(seed)
    fillers = ["notamment", "désormais", "également", "ainsi", "toutefois", "selon nos"]
    out: list[str] = []
    for word in text.split():
        r = rng.random()
        if r < rate / 2:
            out.append(rng.choice(fillers))
        elif r < rate * 0.75:
            continue
        elif r < rate:
            out.extend((word, rng.choice(fillers)))
        else:
            out.append(word)
    return " ".join(out)


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("variant", "page"),
    [
        (
            "https://amp.lefigaro.fr/politique/x_123.php",
            "https://www.lefigaro.fr/politique/x_123.php",
        ),
        (
            "https://m.lefigaro.fr/politique/x_123.php",
            "https://www.lefigaro.fr/politique/x_123.php",
        ),
        ("https://mobile.lesechos.fr/a/b-123", "https://www.lesechos.fr/a/b-123"),
        ("https://m.bbc.co.uk/news/x", "https://www.bbc.co.uk/news/x"),
        ("https://www.lemonde.fr/a/article/x.amp.html", "https://www.lemonde.fr/a/article/x.html"),
        ("https://www.ouest-france.fr/amp/a/b-123", "https://www.ouest-france.fr/a/b-123"),
        ("https://www.sudouest.fr/a/b-123.php/amp", "https://www.sudouest.fr/a/b-123.php"),
        ("https://www.example.fr/a/amp/", "https://www.example.fr/a/"),
        ("https://www.example.fr/a?amp=1&id=3", "https://www.example.fr/a?id=3"),
        ("https://www.example.fr/a?outputType=amp", "https://www.example.fr/a"),
        ("https://www.example.fr/a?amp", "https://www.example.fr/a"),
        ("http://www.example.fr/a?amp_js_v=0.1&utm_source=x", "https://example.fr/a"),
        ("https://www.google.com/url?url=https://m.lefigaro.fr/x&ct=ga", "https://lefigaro.fr/x"),
    ],
)
def test_amp_and_mobile_variants_fold_onto_the_page(variant: str, page: str) -> None:
    assert canonical_variant_url(variant) == canonical_variant_url(page)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://amp.dev/documentation", "https://dev/documentation"),
        ("https://m.tv/x", "https://tv/x"),
        ("https://www.example.fr/camp/x", "https://www.example.fr/c/x"),
        ("https://www.example.fr/ampoule", "https://www.example.fr/oule"),
        ("https://www.example.fr/a?id=amp", "https://www.example.fr/a"),
        ("https://www.example.fr/a?id=1", "https://www.example.fr/a?id=2"),
    ],
)
def test_other_pages_stay_apart(one: str, other: str) -> None:
    assert canonical_variant_url(one) != canonical_variant_url(other)


def test_variant_keys_are_stable() -> None:
    assert canonical_variant_url("https://amp.dev/documentation") == "https://amp.dev/documentation"
    key = canonical_variant_url("https://m.lefigaro.fr/x.amp.html?amp=1")
    assert key == "https://lefigaro.fr/x.html"
    assert canonical_variant_url(key) == key


# --------------------------------------------------------------------------- words


def test_normalised_hash_folds_case_accents_punctuation_and_spacing() -> None:
    one = "L’État a dit : « Non ! »\n\nLe  MINISTRE  s'est tu."
    other = "l'etat a dit non le ministre s’est tu"
    assert normalised_hash(one) == normalised_hash(other)
    assert normalised_hash(one) != normalised_hash("L'État a dit oui. Le ministre s'est tu.")
    assert normalised_hash("") == normalised_hash(" \n… ") == ""


def test_shingles_cut_elisions_and_fold_accents() -> None:
    assert shingles("l'enquête d'Élisabeth qu'il mène") == shingles(
        "L’ENQUETE  D’ELISABETH, QU’IL MENE"
    )
    assert len(shingles("un deux trois quatre cinq", k=3)) == 3
    assert len(shingles("deux mots", k=3)) == 1  # a short text is one shingle
    assert shingles("", k=3) == set()


def test_minhash_estimates_jaccard() -> None:
    # (bench/dedup.py checks the signatures equal datasketch's MinHash, whose import
    # alone takes two seconds.)
    a = np.arange(0, 3000, dtype=np.uint32)
    b = np.arange(1000, 4000, dtype=np.uint32)  # Jaccard 2000 / 4000 = 0.5
    estimate = (dedup.minhash(a) == dedup.minhash(b)).mean()
    assert 0.38 < estimate < 0.62
    assert (dedup.minhash(a) == dedup.minhash(a[::-1].copy())).all()


def test_agency_credit_lines_not_mentions() -> None:
    assert agency_credits("PARIS (AFP) - Le gouvernement a annoncé") == agency_credits(
        "Texte.\nAvec AFP"
    )
    assert agency_credits("Paris, 3 février (Reuters) - La police") == agency_credits(
        "Texte.\n(avec Reuters)"
    )
    assert agency_credits("GENÈVE (ATS) - x") == agency_credits("Texte. /ATS")
    assert agency_credits("x\n© AFP") and agency_credits("Source : AFP")
    assert not agency_credits("« Non », a déclaré à l'AFP le ministre, qui travaillait avec l'AFP")
    assert not agency_credits("LES ÉTATS-UNIS, APRÈS (AFP photo) un accord")
    assert agency_credits("(AFP) x") != agency_credits("(Reuters) x")


# --------------------------------------------------------------------------- near duplicates


def test_exact_copy_under_a_new_title() -> None:
    index = NearDuplicateIndex()
    assert index.add(1, WIRE, title="Villeurbanne : l'ancien maire condamné") is None
    match = index.add(2, WIRE.replace(". ", ".\n"), title="Jean-Paul Bret condamné")
    assert match == Match(1, 1.0, 1.0, "exact")


def test_copy_with_ten_percent_of_words_edited() -> None:
    index = NearDuplicateIndex()
    index.add(1, WIRE)
    match = index.add(2, edit(WIRE, 0.10))
    assert match is not None and match.original == 1
    assert match.reason == "jaccard" and 0.3 < match.similarity < 1


def test_truncated_copy() -> None:
    words = WIRE.split()
    index = NearDuplicateIndex()
    index.add(1, WIRE)
    match = index.add(2, " ".join(words[: len(words) // 3]) + " […]")
    assert match is not None and match.original == 1
    assert match.reason == "containment" and match.containment > 0.95


def test_original_seen_after_its_teaser() -> None:
    words = WIRE.split()
    index = NearDuplicateIndex()
    index.add(1, " ".join(words[: len(words) // 2]))
    assert index.add(2, WIRE).original == 1


def test_copy_with_an_agency_credit_line() -> None:
    index = NearDuplicateIndex()
    index.add(1, WIRE)
    match = index.add(2, "LYON (AFP) - " + edit(WIRE, 0.05) + "\nAvec AFP")
    assert match is not None and match.original == 1


def test_agency_credits_lower_the_bar_a_little() -> None:
    params = dedup.Params(jaccard=0.65, containment=0.8, agency_bonus=0.05)
    copy = edit(WIRE, 0.12, seed=3)
    plain = NearDuplicateIndex(params)
    plain.add(1, WIRE)
    assert plain.add(2, copy) is None
    credited = NearDuplicateIndex(params)
    credited.add(1, "LYON (AFP) - " + WIRE)
    match = credited.add(2, copy + "\n(Avec AFP)")
    assert match is not None and match.reason.endswith("+agency")


def test_two_articles_on_one_event_are_not_copies() -> None:
    index = NearDuplicateIndex()
    index.add(1, WIRE)
    assert index.add(2, SAME_EVENT) is None
    # ... nor is a brief that quotes the same sentence as the story.
    brief = "Jean-Paul Bret condamné. « C'est une décision injuste que nous allons contester », a réagi son avocat à la sortie de l'audience jeudi à Lyon."  # noqa: E501
    assert index.add(3, brief) is None


def test_short_texts_need_stricter_evidence() -> None:
    one = "Le conseil municipal a voté jeudi soir le budget 2026 de la commune, en hausse de 3 %."
    index = NearDuplicateIndex()
    index.add(1, one)
    assert index.add(2, one.replace("jeudi soir", "mardi")) is None
    assert index.add(3, one.replace("budget", "budget primitif")) is not None


def test_copies_are_linked_not_dropped_and_groups_merge() -> None:
    # Two heavy rewrites of one dispatch are too far apart to be linked to each other;
    # the dispatch, seen after them, shows they are one group.
    first, second = edit(WIRE, 0.2, seed=1), edit(WIRE, 0.2, seed=2)
    index = NearDuplicateIndex()
    index.add(10, first)
    assert index.add(11, second) is None
    match = index.add(12, WIRE)
    assert match is not None and match.original == 10 and match.merged == (11,)
    assert [index.original_of(k) for k in (10, 11, 12)] == [10, 10, 10]
    assert len(index) == 3


def test_find_copies_batch() -> None:
    words = WIRE.split()
    found = find_copies(
        [
            (1, WIRE),
            (2, SAME_EVENT),
            (3, "PARIS (AFP) - " + edit(WIRE, 0.08)),
            (4, " ".join(words[:60])),
            (5, ""),
            (6, ""),
        ]
    )
    assert found == {3: 1, 4: 1}


def test_signatures_rebuild_the_index() -> None:
    texts = {1: WIRE, 2: SAME_EVENT}
    rebuilt = NearDuplicateIndex.from_signatures(
        ((k, signature(t)) for k, t in texts.items()), originals={}
    )
    assert len(rebuilt) == 2
    assert rebuilt.add(3, edit(WIRE, 0.1)).original == 1
    assert rebuilt.add(4, SAME_EVENT).reason == "exact"
    one = NearDuplicateIndex()
    one.add_signature(1, signature(WIRE))
    assert one.add_signature(2, signature(edit(WIRE, 0.1)), match=True).original == 1


def test_index_round_trips_through_bytes() -> None:
    index = NearDuplicateIndex()
    index.add(1, WIRE, when=datetime(2026, 2, 3))
    index.add(2, edit(WIRE, 0.1))
    index.add(3, SAME_EVENT)
    restored = NearDuplicateIndex.from_bytes(index.to_bytes())
    assert len(restored) == 3 and restored.original_of(2) == 1
    assert restored.add(4, edit(WIRE, 0.1, seed=9)).original == 1
    assert restored.add(5, edit(SAME_EVENT, 0.05)).original == 3
    with pytest.raises(ValueError):
        NearDuplicateIndex.from_bytes(b"pickle" + bytes(40))


def test_prune_forgets_old_articles() -> None:
    day = datetime(2026, 2, 3)
    index = NearDuplicateIndex()
    index.add(1, WIRE, when=day - timedelta(days=10))
    index.add(2, edit(WIRE, 0.05), when=day - timedelta(days=9))
    index.add(3, SAME_EVENT, when=day)
    assert index.prune(day - timedelta(days=7)) == 2
    assert len(index) == 1 and 1 not in index
    assert index.add(4, WIRE, when=day) is None  # the old dispatch is gone
    assert index.add(5, SAME_EVENT).original == 3


def test_readding_a_key_replaces_its_text() -> None:
    index = NearDuplicateIndex()
    index.add(1, WIRE)
    index.add(1, SAME_EVENT)
    assert len(index) == 1
    assert index.add(2, SAME_EVENT).original == 1
    assert index.add(3, WIRE) is None


# --------------------------------------------------------------------------- seed day


@pytest.fixture(scope="module")
def seed_day_texts() -> list[tuple[str, str]]:
    from veille.extract import extract_html

    root = shared_path("fixtures", "seed-day")
    truth = json.loads((root / "truth.json").read_text("utf-8"))
    types = dict(
        (line.split("\t")[1], line.split("\t")[2])
        for line in (root / "urls.tsv").read_text("utf-8").splitlines()
        if line
    )
    out = []
    for article in truth["articles"]:
        page = root / article["page"]
        found = extract_html(page.read_bytes(), article["url"], types.get(article["page"]))
        out.append((article["url"], found.text if found else ""))
    return out


def test_seed_day_boursorama_pair_is_one_dispatch(seed_day_texts: list[tuple[str, str]]) -> None:
    truth = json.loads(shared_path("fixtures", "seed-day", "truth.json").read_text("utf-8"))
    pairs = [(a["url"], a["duplicate_of"]) for a in truth["articles"] if a["duplicate_of"]]
    assert len(pairs) == 1
    texts = dict(seed_day_texts)
    copy, original = pairs[0]
    index = NearDuplicateIndex()
    index.add(0, texts[original], site="Boursorama")
    match = index.add(1, texts[copy], site="Boursorama")
    assert match is not None and match.original == 0


def test_seed_day_has_no_other_copies(seed_day_texts: list[tuple[str, str]]) -> None:
    truth = json.loads(shared_path("fixtures", "seed-day", "truth.json").read_text("utf-8"))
    urls = [url for url, _ in seed_day_texts]
    expected = {
        urls.index(a["url"]): urls.index(a["duplicate_of"])
        for a in truth["articles"]
        if a["duplicate_of"]
    }
    texts = [text for _, text in seed_day_texts]
    assert find_copies(enumerate(texts)) == expected
    # Whatever the order: no pair of the day but that one is linked.
    linked = {frozenset(pair) for pair in expected.items()}
    for a, b in itertools.combinations(range(len(texts)), 2):
        found = find_copies([(b, texts[b]), (a, texts[a])])
        assert bool(found) == (frozenset((a, b)) in linked), (urls[a], urls[b], found)
