"""Story similarity: same event above same topic above unrelated, robust to encoding damage."""

from __future__ import annotations

import functools
import importlib.util
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import REPO, shared_path
from veille.similarity import (
    SAME_STORY,
    ArticleText,
    Vectorizer,
    char_grams,
    name_terms,
    repair,
    score,
    similarity,
    word_terms,
)

# One event (a fire in Lyon), told twice in different words.
FIRE = ArticleText(
    "Lyon : un incendie ravage un immeuble de la Croix-Rousse, 40 personnes évacuées",
    "Un violent incendie s'est déclaré dans la nuit de samedi à dimanche dans un immeuble "
    "de six étages du quartier de la Croix-Rousse, à Lyon. Les pompiers ont évacué 40 "
    "habitants ; deux personnes ont été légèrement intoxiquées par les fumées. L'origine du "
    "feu, parti d'un appartement du troisième étage, reste inconnue. Le maire de Lyon, "
    "Grégory Doucet, s'est rendu sur place dimanche matin.",
    "fr",
)
FIRE_RETOLD = ArticleText(
    "Incendie à la Croix-Rousse : quarante habitants évacués à Lyon",
    "Quarante personnes ont dû quitter leur logement après l'incendie qui a touché un "
    "immeuble de la Croix-Rousse dans la nuit de samedi à dimanche. Selon les pompiers de "
    "Lyon, le feu a pris au troisième étage ; deux habitants ont été intoxiqués. Grégory "
    "Doucet, le maire, est venu constater les dégâts. Une enquête doit établir l'origine "
    "de l'incendie.",
    "fr",
)
# Same topic (a fire, firefighters, evacuations), another event.
OTHER_FIRE = ArticleText(
    "Marseille : un feu de forêt menace des habitations, les pompiers mobilisés",
    "Un incendie de forêt s'est déclaré mardi après-midi sur les hauteurs de Marseille, "
    "attisé par le mistral. Plus de 300 pompiers et six avions bombardiers d'eau sont "
    "engagés. Plusieurs habitations ont été évacuées par précaution dans le quartier de "
    "l'Estaque. Le préfet des Bouches-du-Rhône appelle à la plus grande prudence.",
    "fr",
)
UNRELATED = ArticleText(
    "Ligue 1 : le PSG s'impose face à Nantes et reprend la tête du championnat",
    "Le Paris Saint-Germain a battu le FC Nantes 3-1 dimanche soir au Parc des Princes. "
    "Kylian Mbappé a inscrit un doublé, Vitinha a complété la marque. Les Parisiens "
    "comptent désormais deux points d'avance sur Monaco avant la trêve internationale.",
    "fr",
)
# The fire as an English wire would tell it: only names and numbers can match.
FIRE_EN = ArticleText(
    "Fire forces 40 residents out of Lyon building",
    "Firefighters evacuated 40 residents of a six-storey building in Lyon's Croix-Rousse "
    "district overnight. Two people suffered smoke inhalation. Lyon mayor Grégory Doucet "
    "visited the site on Sunday morning.",
    "en",
)
SPORT_EN = ArticleText(
    "Arsenal beat Chelsea in London derby",
    "Arsenal beat Chelsea 2-0 at the Emirates Stadium on Saturday. Bukayo Saka and Martin "
    "Odegaard scored for the Gunners, who stay top of the Premier League.",
    "en",
)
ARTICLES = [FIRE, FIRE_RETOLD, OTHER_FIRE, UNRELATED, FIRE_EN, SPORT_EN]


def mojibake(article: ArticleText) -> ArticleText:
    """UTF-8 bytes read as windows-1252, as a misconfigured site serves them."""
    damaged = {
        "title": article.title.encode("utf-8").decode("cp1252", errors="replace"),
        "text": article.text.encode("utf-8").decode("cp1252", errors="replace"),
    }
    return ArticleText(**damaged, language=article.language, published=article.published)


@pytest.fixture(scope="module")
def fitted() -> Vectorizer:
    return Vectorizer().fit(ARTICLES)


@pytest.mark.parametrize("use_corpus", [False, True])
def test_same_event_above_same_topic_above_unrelated(use_corpus, fitted):
    vectorizer = fitted if use_corpus else None
    same = similarity(FIRE, FIRE_RETOLD, vectorizer)
    topic = similarity(FIRE, OTHER_FIRE, vectorizer)
    unrelated = similarity(FIRE, UNRELATED, vectorizer)
    assert same > topic > unrelated
    assert same > topic + 0.3
    if use_corpus:  # without idf, "incendie" and "pompiers" weigh as much as "Croix-Rousse"
        assert same > SAME_STORY > topic


def test_across_languages_names_and_numbers_match(fitted):
    assert similarity(FIRE, FIRE_EN, fitted) > similarity(FIRE, SPORT_EN, fitted) + 0.1


def test_mojibake_copy_scores_like_the_clean_text(fitted):
    damaged = mojibake(FIRE_RETOLD)
    assert "Ã©" in damaged.text  # really damaged
    clean = similarity(FIRE, FIRE_RETOLD, fitted)
    assert similarity(FIRE, damaged, fitted) == pytest.approx(clean, abs=1e-9)
    assert similarity(mojibake(FIRE), damaged, fitted) == pytest.approx(clean, abs=1e-9)


def test_mojibake_with_normalised_fractions_is_repaired():
    # "ü" read as Latin-1 is "Ã¼"; NFKC then turned "¼" into "1⁄4".
    assert repair("fÃ1⁄4r gewÃ¶hnlich") == "für gewöhnlich"
    assert repair("1⁄4 de la population") == "1⁄4 de la population"


def test_symmetric_bounded_and_identity_highest(fitted):
    for a in ARTICLES:
        for b in ARTICLES:
            ab, ba = similarity(a, b, fitted), similarity(b, a, fitted)
            assert ab == pytest.approx(ba, abs=1e-12)
            assert 0.0 <= ab <= 1.0
        assert similarity(a, a, fitted) > 0.95


def test_empty_and_title_only_articles(fitted):
    empty = ArticleText("", "", None)
    assert 0.0 <= similarity(empty, FIRE, fitted) < 0.1
    assert 0.0 <= similarity(empty, empty) < 0.1
    headline = ArticleText(FIRE_RETOLD.title, "", "fr")
    assert similarity(headline, FIRE, fitted) > similarity(headline, UNRELATED, fitted)


def test_time_apart_lowers_the_score(fitted):
    day = datetime(2024, 3, 10, 8, tzinfo=UTC)

    def dated(article: ArticleText, when: datetime) -> ArticleText:
        return ArticleText(article.title, article.text, article.language, when)

    near = similarity(dated(FIRE, day), dated(FIRE_RETOLD, day + timedelta(hours=5)), fitted)
    far = similarity(dated(FIRE, day), dated(FIRE_RETOLD, day + timedelta(days=200)), fitted)
    assert far < near
    # A naive date against an aware one compares wall clocks rather than failing.
    naive = dated(FIRE_RETOLD, datetime(2024, 3, 10, 12))
    assert similarity(dated(FIRE, day), naive, fitted) == pytest.approx(near, abs=0.02)


def test_background_idf_weighs_down_what_every_article_says():
    # Two different events share only the words every article of the background uses.
    common = "Coronavirus : la pandémie de Covid-19 continue, confinement et vaccins. "
    background = [
        ArticleText(f"Covid-19 : nouvelles {i}", common + f"Sujet numéro {i}.", "fr")
        for i in range(30)
    ]
    a = ArticleText("Covid-19 : les écoles ferment", common + "Les écoles ferment.", "fr")
    b = ArticleText("Covid-19 : un vaccin testé", common + "Un vaccin est testé.", "fr")
    fitted = Vectorizer().fit(background)
    assert similarity(a, b, fitted) < similarity(a, b)

    incremental = Vectorizer().partial_fit(background[:10]).partial_fit(background[10:])
    assert incremental.df == fitted.df and incremental.n == fitted.n
    profiles = Vectorizer().fit_profiles([*background, a, b])
    assert score(profiles[-2], profiles[-1]) == pytest.approx(
        similarity(a, b, Vectorizer().fit([*background, a, b])), abs=1e-12
    )


def test_tokens_for_unspaced_scripts_and_names():
    assert word_terms("新冠病毒", "zh") == ["新冠", "冠病", "病毒"]
    assert word_terms("Le virus 新冠", "fr") == ["virus", "新冠"]
    assert "_lyo" in char_grams("Lyon") and "rhei" in char_grams("Rheinland-Pfalz")
    names = name_terms("Hier, le maire Grégory Doucet a parlé. Les 40 habitants de Lyon.")
    # Sentence-initial words ("Hier", "Les") are no names; accents fold; numbers are kept.
    assert names == ["gregory", "doucet", "#40", "lyon"]


@functools.cache
def _bench():
    """bench/similarity.py, which is a script rather than part of the package."""
    path = REPO / "bench" / "similarity.py"
    spec = importlib.util.spec_from_file_location("bench_similarity", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def test_bench_metrics():
    bench = _bench()
    assert bench.auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert bench.auc([0.5, 0.5], [True, False]) == 0.5  # ties count half
    assert bench.best_f1([0.9, 0.8, 0.1], [True, False, True]) == pytest.approx(0.8)
    assert bench.split_title("Titre\nCorps du texte") == ("Titre", "Corps du texte")
    assert bench.split_title(" Titre  Corps") == ("Titre", "Corps")


def test_bench_reads_the_semeval_split():
    folder = shared_path("datasets", "similarity", "semeval2022-task8")
    pairs = _bench().load(folder, "dev", days=False)
    assert len(pairs) == 1283
    assert len({p.languages for p in pairs}) == 16
    assert all(1.0 <= p.overall <= 4.0 for p in pairs)
