"""One French catalogue for the code's messages: every message the code uses is translated,
nothing more; fields and plurals survive."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from veille.i18n import CATALOGUE, _, n_, p_, translate

REPO = Path(__file__).resolve().parents[1]
Key = tuple[str | None, str | tuple[str, ...]]  # (context, msgid or (singular, plural))


@pytest.fixture(scope="module")
def catalogue() -> Catalog:
    with CATALOGUE.open("rb") as po:
        return read_po(po, locale="fr")


@pytest.fixture(scope="module")
def used() -> dict[Key, list[str]]:
    """The messages in the code, found by Babel's extractors with babel.cfg's
    method map and keywords (as `pybabel extract -F babel.cfg` finds them), and where."""
    cfg = REPO / "babel.cfg"
    with cfg.open(encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file, str(cfg))
    found: dict[Key, list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, context in extract_from_dir(
        REPO / "src", method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found[(context, message)].append(f"{filename}:{lineno}")
    return found


def _entries(catalogue: Catalog) -> dict[Key, Message]:
    return {(m.context, m.id): m for m in catalogue if m.id}


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def test_every_message_used_has_its_french_and_none_is_left_over(catalogue, used):
    entries = _entries(catalogue)
    assert len(used) > 200  # the extraction found the code and the command line
    assert sorted(map(str, used.keys() - entries.keys())) == []  # missing from the .po
    assert sorted(map(str, entries.keys() - used.keys())) == []  # no longer in the code
    assert not catalogue.obsolete
    untranslated = [key for key, m in entries.items() if not all(_forms(m.string))]
    assert untranslated == []
    assert [key for key, m in entries.items() if m.fuzzy] == []


def _fields(text: str) -> set[tuple[str, str]]:
    """`{name:spec}` fields (Python messages) and `%(name)s` ones (templates)."""
    braces = {
        (re.split(r"[.\[]", name)[0], spec)
        for _, name, spec, _ in string.Formatter().parse(text)
        if name is not None
    }
    return braces | {(name, kind) for name, kind in re.findall(r"%\((\w+)\)([sd])", text)}


def test_french_keeps_the_fields_of_the_english(catalogue):
    for message in catalogue:
        if not message.id:
            continue
        english = set().union(*map(_fields, _forms(message.id)))
        for french in _forms(message.string):
            assert _fields(french) == english, message.id


def test_fields_are_filled_only_when_given(monkeypatch):
    monkeypatch.setenv("VEILLE_LANG", "fr")
    assert (
        _("a table of {count} rows, not article text", count=3)
        == "un tableau de 3 lignes, pas un texte d'article"
    )
    assert _(
        "file is {size:,} bytes, over the {limit:,}-byte limit (VEILLE_MAX_BYTES)",
        size=2_000_000,
        limit=1_000_000,
    ).startswith("fichier de 2,000,000 octets")
    assert _("HTTP {status} {phrase}") == "HTTP {status} {phrase}"
    assert translate("empty file", "en") == "empty file"
    monkeypatch.setenv("VEILLE_LANG", "en")
    assert _("empty file") == "empty file"
    assert translate("empty file", "fr") == "fichier vide"


def test_plurals_follow_each_language(monkeypatch):
    def results(n: int) -> str:
        return n_("{count} result", "{count} results", n, count=n)

    monkeypatch.setenv("VEILLE_LANG", "fr")
    assert [results(n) for n in (0, 1, 2, 10)] == [
        "0 résultat",
        "1 résultat",
        "2 résultats",
        "10 résultats",
    ]
    monkeypatch.setenv("VEILLE_LANG", "en")
    assert [results(n) for n in (0, 1, 2)] == ["0 results", "1 result", "2 results"]


def test_the_same_english_worded_apart_in_french(monkeypatch):
    monkeypatch.setenv("VEILLE_LANG", "fr")
    assert (_("failed"), p_("table column", "failed")) == ("échec", "en échec")
    monkeypatch.setenv("VEILLE_LANG", "en")
    assert p_("table column", "failed") == "failed"
