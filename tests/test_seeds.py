"""Acceptance on the seed documents: four articles, right dates, no chrome, no repeats."""

from __future__ import annotations

import pytest

from tests.conftest import shared_path
from veille.config import Settings
from veille.pipeline import ingest

SEED_DATES = {
    "000_35af0aaea70cb712.txt": "2026-02-03",  # from its prose "Publié le 3 février 2026"
    "001_9b88f42ffd81dded.txt": "2026-02-04",
    "002_c54f3124094cf66a.txt": "2026-02-03",
    "004_6a509fffc6e0c073.txt": "2026-01-26",
}

CHROME = [
    "Retour à l'accueil",
    "Commentaires",
    "1084 vues",
    "Acheter du Bitcoin",
    "S'inscrire",
    "La Newsletter crypto",
    "Recevez un récapitulatif de l'actualité crypto",
    "Ledger",
    "Certains contenus ou liens dans cet article peuvent être de la publicité",
    "Investir dans les cryptomonnaies comporte des risques",
    "Publicité",
    "[email protected]",
]

# A sample of news sentences from each seed that must come through verbatim.
SURVIVORS = {
    "000_35af0aaea70cb712.txt": [
        "Les procureurs ont convoqué Musk et l'ancienne directrice générale de X, Linda "
        "Yaccarino, à des auditions libres le 20 avril à Paris",
        "Le fondateur de Telegram, Pavel Durov, a commenté que la France est le seul pays",
        "L'affaire a débuté en janvier 2025 lorsque le député libéral Éric Bothorel",
    ],
    "001_9b88f42ffd81dded.txt": [
        "Pavel Valerievitch Dourov, né le 10 octobre 1984 à Leningrad",
        "Le parquet a confirmé qu'Elon Musk et l'ancienne PDG Linda Yaccarino ont été "
        "officiellement convoqués à comparaître à Paris en avril prochain.",
        "« Nous ne laisserons pas de mauvais acteurs mettre en péril l'intégrité de notre "
        "plateforme pour près d'un milliard d'utilisateurs. »",
    ],
    "002_c54f3124094cf66a.txt": [
        "Ce mardi 3 février 2026, la section de lutte contre la cybercriminalité du parquet "
        "de Paris a mené une opération coup de poing",
        "administration d'une plateforme en ligne illicite en bande organisée.",
        "pour une audition libre prévue le 20 avril 2026 à Paris.",
        "Ne vous y trompez pas : ce n’est pas un pays libre.",
    ],
    "004_6a509fffc6e0c073.txt": [
        "La Commission européenne a annoncé lundi l'ouverture d'une nouvelle enquête",
        "soit 190 images par minute en moyenne.",
        "Des millions d'images sexualisées",
        "en imposant des sanctions à l'ancien commissaire Thierry Breton",
    ],
}


@pytest.fixture
def seeded(store):
    report = ingest([shared_path("seeds")], store, Settings())
    by_file = {a.raw_ref.rsplit("/", 1)[-1]: a for a in store.articles()}
    return report, by_file


def test_four_article_seeds_become_four_articles_with_their_dates(seeded):
    report, by_file = seeded
    assert report.new == 4 and not report.failed
    assert {name: a.published.date().isoformat() for name, a in by_file.items()} == SEED_DATES


def test_digest_seed_is_refused_with_a_reason_not_stored(seeded):
    report, by_file = seeded
    assert "003_a3f4e45c569ae733.txt" not in by_file
    refused = {s.ref.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert "liens" in refused["003_a3f4e45c569ae733.txt"]


@pytest.mark.parametrize("chrome", CHROME)
def test_chrome_of_the_seeds_is_gone(seeded, chrome):
    _, by_file = seeded
    for article in by_file.values():
        assert chrome not in article.text, article.raw_ref


def test_news_sentences_survive(seeded):
    _, by_file = seeded
    for name, sentences in SURVIVORS.items():
        for sentence in sentences:
            assert sentence in by_file[name].text, (name, sentence)


def test_repeated_paragraphs_of_the_stitched_dump_are_stored_once(seeded):
    text = seeded[1]["001_9b88f42ffd81dded.txt"].text
    assert text.count("a mené une perquisition dans les bureaux locaux") == 1
    assert text.count("La police française perquisitionne actuellement les bureaux de X") == 1
    assert text.count("critiqué le gouvernement français") == 1


def test_seed_000_title_is_its_headline_not_the_breadcrumb(seeded):
    article = seeded[1]["000_35af0aaea70cb712.txt"]
    assert article.title == (
        "La France perquisitionne les bureaux de X, Musk dénonce une attaque politique"
    )
    assert not article.text.startswith("La France perquisitionne")


def test_second_ingest_changes_nothing(store):
    seeds = shared_path("seeds")
    ingest([seeds], store, Settings())
    before = store.counts()
    again = ingest([seeds], store, Settings())
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)
    assert store.counts() == before
