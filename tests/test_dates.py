"""Tests for the French date parser (veille.extract.dates)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veille.extract.dates import (
    DateMention,
    find_date_mentions,
    find_publication_date,
    parse_french_date,
)

REF = date(2026, 2, 3)  # a Tuesday

FRENCH_MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip
ASCII_MONTHS = [
    "janvier", "fevrier", "mars", "avril", "mai", "juin",
    "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
]  # fmt: skip


def only(text: str, reference: date | None = REF) -> DateMention:
    mentions = find_date_mentions(text, reference)
    assert len(mentions) == 1, mentions
    return mentions[0]


# --------------------------------------------------------------------------
# Absolute forms
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "3 février 2026",
        "1er février 2026",
        "3 févr. 2026",
        "03/02/2026",
        "3.2.2026",
        "3-2-2026",
        "2026-02-03",
        "03/02/26",
        "3 fevrier 2026",
        "3 FÉVRIER 2026",
        "3 Fevr 2026",
        "3 fév. 2026",
        "mar. 3 févr. 2026",
        "3\u00a0février\u00a02026",
    ],
)
def test_absolute_forms(text: str) -> None:
    expected = date(2026, 2, 1) if text.startswith("1er") else date(2026, 2, 3)
    m = only(text, None)
    assert m.value == expected
    assert m.has_year
    assert not m.relative
    assert (m.start, m.end) == (0, len(text))
    assert m.text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 août 2025", date(2025, 8, 15)),
        ("15 aout 2025", date(2025, 8, 15)),
        ("2 déc. 2025", date(2025, 12, 2)),
        ("2 dec. 2025", date(2025, 12, 2)),
        ("25 décembre 2025", date(2025, 12, 25)),
        ("1er janvier 2026", date(2026, 1, 1)),
        ("premier mai 2025", date(2025, 5, 1)),
        ("14 juil. 2025", date(2025, 7, 14)),
        ("9 sept. 2025", date(2025, 9, 9)),
        ("31/12/2025", date(2025, 12, 31)),
    ],
)
def test_month_spellings(text: str, expected: date) -> None:
    assert parse_french_date(text) == expected


def test_full_form_with_weekday_and_time() -> None:
    text = "Le conseil s'est réuni le mardi 3 février 2026 à 14h32 à Paris."
    m = only(text)
    assert m.text == "mardi 3 février 2026 à 14h32"
    assert text[m.start : m.end] == m.text
    assert m.value == date(2026, 2, 3)
    assert m.time == (14, 32)
    assert not m.weekday_conflict


@pytest.mark.parametrize(
    ("text", "expected_time"),
    [
        ("Mardi 03 Février 2026, 14:32", (14, 32)),
        ("3 février 2026 à 14 h 32", (14, 32)),
        ("3 février 2026 à 9h", (9, 0)),
        ("03/02/2026 14:32", (14, 32)),
        ("03/02/2026 - 14H32", (14, 32)),
        ("2026-02-03T14:32:00+01:00", (14, 32)),
        ("2026-02-03 14:32", (14, 32)),
        ("3 février 2026", None),
    ],
)
def test_times(text: str, expected_time: tuple[int, int] | None) -> None:
    m = only(text)
    assert m.value == date(2026, 2, 3)
    assert m.time == expected_time


def test_time_does_not_eat_following_words_or_counts() -> None:
    m = only("le 3 février 2026 2 hommes ont été arrêtés")
    assert m.time is None
    assert m.text == "3 février 2026"
    m = only("Publié le 3 février 2026 1084 vues")
    assert m.time is None
    assert m.value == date(2026, 2, 3)


@pytest.mark.parametrize(
    "text",
    [
        "31 février 2026",
        "30 février",
        "29 février 2026",  # 2026 is not a leap year
        "32 janvier 2026",
        "0 mars 2026",
        "31/04/2026",
        "12/13/2026",  # month 13: dd/mm order, not US mm/dd
        "2026-02-30",
        "mardi 31 février 2026",
    ],
)
def test_impossible_dates_are_rejected(text: str) -> None:
    assert find_date_mentions(text, REF) == []
    assert parse_french_date(text, REF) is None


def test_leap_day_accepted() -> None:
    assert parse_french_date("29 février 2028") == date(2028, 2, 29)


def test_numeric_order_is_french() -> None:
    assert parse_french_date("05/04/2026") == date(2026, 4, 5)


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.2026.4",
        "appelez le 01.02.03.04.05",
        "3.2.26",  # dotted two-digit year: more likely a version number
        "123 février 2026 n'existe pas",
        "le cahier et le fichier du lendemain",
        "le 3 maison",
        "les 2 mais",
        "lundi soir, il pleuvait",  # bare weekday without cue
        "Samedi, la foule",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert find_date_mentions(text, REF) == []


def test_spans_survive_case_folding() -> None:
    text = "İSTANBUL, LE 3 FÉVRIER 2026 — İzmir, hier"
    mentions = find_date_mentions(text, REF)
    assert [m.text for m in mentions] == ["3 FÉVRIER 2026", "hier"]
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_multiple_mentions_in_order_with_spans() -> None:
    text = "Entre le 2 février 2026 et le 03/02/2026, puis hier."
    mentions = find_date_mentions(text, REF)
    assert [m.value for m in mentions] == [date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 2)]
    assert [m.text for m in mentions] == ["2 février 2026", "03/02/2026", "hier"]
    for m in mentions:
        assert text[m.start : m.end] == m.text


# --------------------------------------------------------------------------
# Year inference
# --------------------------------------------------------------------------


def test_year_inferred_from_reference() -> None:
    m = only("le 3 février", REF)
    assert m.value == date(2026, 2, 3)
    assert not m.has_year


def test_year_inference_across_new_year_backwards() -> None:
    m = only("le 28 décembre", date(2026, 1, 2))
    assert m.value == date(2025, 12, 28)
    assert not m.has_year


def test_year_inference_across_new_year_forwards() -> None:
    assert parse_french_date("le 3 janvier", date(2025, 12, 20)) == date(2026, 1, 3)


def test_year_inference_never_far_in_the_future() -> None:
    # 20 August 2026 is > 6 months after the reference: the previous year wins.
    assert parse_french_date("le 20 août", REF) == date(2025, 8, 20)
    # Within ~6 months ahead, the closest is kept.
    assert parse_french_date("le 20 avril", REF) == date(2026, 4, 20)


def test_month_date_with_dernier_or_prochain() -> None:
    assert parse_french_date("le 3 mai dernier", REF) == date(2025, 5, 3)
    assert parse_french_date("le 3 mai prochain", REF) == date(2026, 5, 3)
    assert parse_french_date("le 3 février dernier", REF) == date(2025, 2, 3)
    assert parse_french_date("le 20 août prochain", REF) == date(2026, 8, 20)


def test_historical_year() -> None:
    m = only("la prise de la Bastille, le 14 juillet 1789")
    assert (m.value, m.has_year) == (date(1789, 7, 14), True)


def test_yearless_date_without_reference_is_skipped() -> None:
    assert find_date_mentions("le 3 février") == []
    assert parse_french_date("le 3 février") is None


def test_datetime_reference_accepted() -> None:
    assert parse_french_date("hier", datetime(2026, 2, 3, 23, 59)) == date(2026, 2, 2)


# --------------------------------------------------------------------------
# Weekday conflicts
# --------------------------------------------------------------------------


def test_weekday_conflict_keeps_stated_numbers() -> None:
    m = only("mardi 2 février", REF)
    assert m.value == date(2026, 2, 2)  # a Monday
    assert m.weekday_conflict
    assert m.text == "mardi 2 février"


def test_weekday_conflict_with_explicit_year() -> None:
    assert only("mardi 2 février 2026").weekday_conflict
    assert not only("mardi 3 février 2026").weekday_conflict
    assert not only("lundi 2 février 2026").weekday_conflict
    assert only("Mer. 03/02/2026").weekday_conflict


def test_no_weekday_means_no_conflict() -> None:
    assert not only("2 février 2026").weekday_conflict


# --------------------------------------------------------------------------
# Relative forms
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aujourd'hui", date(2026, 2, 3)),
        ("aujourd’hui", date(2026, 2, 3)),
        ("Aujourd'hui", date(2026, 2, 3)),
        ("hier", date(2026, 2, 2)),
        ("Hier soir", date(2026, 2, 2)),
        ("avant-hier", date(2026, 2, 1)),
        ("avant hier", date(2026, 2, 1)),
        ("demain", date(2026, 2, 4)),
        ("après-demain", date(2026, 2, 5)),
        ("ce mardi", date(2026, 2, 3)),  # reference is a Tuesday: that day
        ("Ce lundi", date(2026, 2, 2)),
        ("ce mercredi", date(2026, 1, 28)),  # most recent on or before
        ("le dimanche", date(2026, 2, 1)),
        ("dès jeudi", date(2026, 1, 29)),
        ("mardi dernier", date(2026, 1, 27)),  # strictly before
        ("lundi dernier", date(2026, 2, 2)),
        ("mardi prochain", date(2026, 2, 10)),  # strictly after
        ("vendredi prochain", date(2026, 2, 6)),
        ("il y a 3 jours", date(2026, 1, 31)),
        ("il y a 2 semaines", date(2026, 1, 20)),
    ],
)
def test_relative_forms(text: str, expected: date) -> None:
    m = only(text, REF)
    assert m.value == expected
    assert m.relative
    assert not m.has_year
    assert m.text == text.split(" soir")[0]


def test_ce_mardi_published_wednesday_means_yesterday() -> None:
    assert parse_french_date("ce mardi", date(2026, 2, 4)) == date(2026, 2, 3)


def test_relative_with_time() -> None:
    m = only("hier à 10h30", REF)
    assert (m.value, m.time) == (date(2026, 2, 2), (10, 30))


def test_relative_skipped_without_reference() -> None:
    assert find_date_mentions("hier, ce mardi et mardi dernier, aujourd'hui") == []
    # Absolute dates are still found without a reference.
    assert parse_french_date("hier, le 3 février 2026") == date(2026, 2, 3)


def test_relative_words_inside_other_words_ignored() -> None:
    assert find_date_mentions("cahier, fichier, lendemain, mardis gras", REF) == []


# --------------------------------------------------------------------------
# English bonus
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["February 3, 2026", "Feb 3, 2026", "Feb. 3rd, 2026", "3 February 2026"]
)
def test_english_dates(text: str) -> None:
    assert parse_french_date(text) == date(2026, 2, 3)


# --------------------------------------------------------------------------
# Publication date
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Publié le 3 février 2026 1084 vues", datetime(2026, 2, 3)),
        ("Publié le 3 février 2026 à 14h32", datetime(2026, 2, 3, 14, 32)),
        ("publié le 03/02/2026 - 14:32", datetime(2026, 2, 3, 14, 32)),
        ("Mis en ligne le mardi 3 février 2026", datetime(2026, 2, 3)),
        ("Date de publication : 03/02/2026", datetime(2026, 2, 3)),
        ("Publié par Jean Dupont le 3 février 2026", datetime(2026, 2, 3)),
        ("Par Jean Dupont\nLe 3 février 2026 à 14h32\nTexte.", datetime(2026, 2, 3, 14, 32)),
        ("Par Jean Dupont | Le 3 février 2026 | Politique", datetime(2026, 2, 3)),
        ("Published on February 3, 2026", datetime(2026, 2, 3)),
        ("Published Feb 3, 2026 14:32", datetime(2026, 2, 3, 14, 32)),
        ('{"datePublished": "2026-02-03T14:32:00+01:00"}', datetime(2026, 2, 3, 14, 32)),
    ],
)
def test_publication_cues(text: str, expected: datetime) -> None:
    assert find_publication_date(text, REF) == expected


def test_publication_preferred_over_update() -> None:
    text = (
        "Mis à jour le 5 février 2026 à 10h00\n"
        "Un long article qui parle de tout.\n"
        "Publié le 3 février 2026"
    )
    assert find_publication_date(text, REF) == datetime(2026, 2, 3)


def test_update_date_used_only_as_fallback() -> None:
    assert find_publication_date("Mis à jour le 5 février 2026 à 10h", REF) == datetime(
        2026, 2, 5, 10, 0
    )
    assert find_publication_date("Modifié le 05/02/2026", REF) == datetime(2026, 2, 5)


def test_publication_first_line_beats_body_mention() -> None:
    text = (
        "Publié le 3 février 2026\n"
        "Le rapport, publié le 20 avril 2025 par l'ONG, revient sur les faits."
    )
    assert find_publication_date(text, REF) == datetime(2026, 2, 3)


def test_byline_beats_mid_sentence_publie() -> None:
    text = (
        "Par Jean Dupont\n"
        "Le 3 février 2026 à 14h32\n"
        "Le rapport publié le 20 avril 2025 par l'ONG revient sur les faits."
    )
    assert find_publication_date(text, REF) == datetime(2026, 2, 3, 14, 32)


def test_mid_sentence_publie_used_when_nothing_better() -> None:
    text = (
        "Selon le texte publié le 3 février 2026 au Journal officiel, la mesure entre en vigueur."
    )
    assert find_publication_date(text, REF) == datetime(2026, 2, 3)


def test_body_dates_without_cue_return_none() -> None:
    text = (
        "Le gouvernement a annoncé le 20 avril une réforme. En janvier 2025, déjà, "
        "les syndicats avaient manifesté le 3 février 2026. Hier, ce mardi, rien."
    )
    assert find_publication_date(text, REF) is None
    assert find_publication_date(text) is None


def test_body_sentence_starting_with_le_date_is_not_a_byline() -> None:
    text = "Le 20 avril 2025, la police a interpellé trois personnes."
    assert find_publication_date(text, REF) is None


def test_cue_not_followed_by_a_date_is_ignored() -> None:
    assert find_publication_date("Publié dans Le Monde. Le 20 avril, il pleuvait.", REF) is None


def test_relative_publication_cues() -> None:
    assert find_publication_date("Publié hier à 10h30", REF) == datetime(2026, 2, 2, 10, 30)
    assert find_publication_date("Publié aujourd'hui", REF) == datetime(2026, 2, 3)
    # Without a reference the relative cue cannot be resolved.
    assert find_publication_date("Publié hier à 10h30") is None


# --------------------------------------------------------------------------
# Properties and performance
# --------------------------------------------------------------------------


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(2199, 12, 31)), st.booleans())
def test_round_trip_french_month(d: date, accents: bool) -> None:
    month = (FRENCH_MONTHS if accents else ASCII_MONTHS)[d.month - 1]
    day = "1er" if d.day == 1 else str(d.day)
    assert parse_french_date(f"{day} {month} {d.year}") == d
    assert parse_french_date(f"{d.day} {month.upper()} {d.year}") == d


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_round_trip_numeric(d: date) -> None:
    assert parse_french_date(d.strftime("%d/%m/%Y")) == d
    assert parse_french_date(d.isoformat()) == d


@given(st.text(max_size=200), st.dates())
def test_never_crashes_and_spans_are_consistent(text: str, ref: date) -> None:
    for m in find_date_mentions(text, ref):
        assert text[m.start : m.end] == m.text
    find_publication_date(text, ref)


NEWS_PARAGRAPH = (
    "Le gouvernement a annoncé le 20 avril une réforme des retraites, a indiqué mardi dernier "
    "la ministre, devant 1084 personnes réunies à 14h32 dans la salle des fêtes. En janvier "
    "2025, déjà, les syndicats avaient manifesté. Le rapport publié le 3 février 2026 fait "
    "12 pages ; il sera débattu ce mardi puis le 03/02/2026 à l'Assemblée, selon le cahier "
    "des charges. Les chiffres (1.2.3.4) restent provisoires, précise l'Insee.\n"
)


# Not a speed test (speed is bench/'s): on these megabyte inputs, catastrophic regex
# backtracking or a quadratic scan runs for hours, where the linear code takes about a
# second. The guard makes such a test fail as hung instead of hanging the suite; `re`
# checks for signals while it matches, so the alarm stops a runaway pattern too.
HANG_GUARD = 300


@contextmanager
def _hang_guard(what: str) -> Iterator[None]:
    def hung(signum: int, frame: object) -> None:
        pytest.fail(f"hung: {what} still running after {HANG_GUARD} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, HANG_GUARD)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_one_megabyte_is_read_whole() -> None:
    paragraphs = 1_000_000 // len(NEWS_PARAGRAPH)
    text = NEWS_PARAGRAPH * paragraphs
    with _hang_guard("one megabyte of news"):
        mentions = find_date_mentions(text, REF)
        published = find_publication_date(text, REF)
    one = find_date_mentions(NEWS_PARAGRAPH, REF)
    assert len(one) == 5  # dense on purpose
    # Every paragraph's dates, to the last: nothing skipped or cut short on a long text.
    assert [(m.start, m.text, m.value) for m in mentions] == [
        (m.start + n * len(NEWS_PARAGRAPH), m.text, m.value) for n in range(paragraphs) for m in one
    ]
    assert published == datetime(2026, 2, 3)


@pytest.mark.parametrize(
    "text",
    ["a" * 1_000_000, "1 2 3 4 5 6 7 8 9 10 " * 50_000, "Publié le\n" * 100_000],
    ids=["letters", "numbers", "cues"],
)
def test_pathological_inputs_find_nothing(text: str) -> None:
    with _hang_guard("a pathological megabyte"):
        assert find_date_mentions(text, REF) == []
        assert find_publication_date(text, REF) is None
