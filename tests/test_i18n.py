"""Every message id in the code has its French text."""

from __future__ import annotations

import ast
from pathlib import Path

from veille.i18n import FRENCH, _

SRC = Path(__file__).resolve().parents[1] / "src" / "veille"


def _message_ids() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_every_message_has_a_french_translation():
    ids = _message_ids()
    assert len(ids) > 20
    assert sorted(ids - FRENCH.keys()) == []


def test_french_and_fields_are_filled(monkeypatch):
    monkeypatch.setenv("VEILLE_LANG", "fr")
    assert (
        _("a table of {count} rows, not article text", count=3)
        == "un tableau de 3 lignes, pas un texte d'article"
    )
    monkeypatch.setenv("VEILLE_LANG", "en")
    assert _("empty file") == "empty file"
