"""Pages in any declared or undeclared encoding decode right; damage is repaired."""

from __future__ import annotations

import pytest

from tests.helpers import article_html
from veille.encoding import decode, fix_text
from veille.extract import extract_html

TEXT = (
    "L’été dernier, la cité a reçu 3 000 € pour « rénover » l’école Saint-Éloi ; "
    "où sont passés les œufs ?"
)


@pytest.mark.parametrize("charset", ["windows-1252", "iso-8859-1", "utf-8"])
def test_declared_charsets_decode(charset):
    html = article_html("Été : la cité rénove l’école", [TEXT] * 3, charset=charset)
    found = extract_html(html.encode("cp1252" if charset != "utf-8" else "utf-8"))
    assert found.title == "Été : la cité rénove l’école"
    assert TEXT in found.text


def test_undeclared_windows_1252_is_guessed():
    html = article_html("Été : la cité rénove l’école", [TEXT] * 3, declare=False)
    assert TEXT in extract_html(html.encode("cp1252")).text


def test_meta_charset_after_the_first_kilobyte_is_found():
    padding = "<!-- " + "x" * 1500 + " -->"
    html = (
        f"<html><head>{padding}<meta charset='iso-8859-1'><title>t</title></head>"
        f"<body><p>{TEXT}</p></body></html>"
    )
    assert TEXT in decode(html.encode("cp1252"))


def test_http_header_charset_wins_over_a_wrong_meta():
    html = f"<html><head><meta charset='utf-8'></head><body><p>{TEXT}</p></body></html>"
    assert TEXT in decode(html.encode("cp1252"), content_type="text/html; charset=windows-1252")


def test_a_lying_declaration_does_not_garble_utf8():
    html = f"<html><head><meta charset='utf-8'></head><body><p>{TEXT}</p></body></html>"
    assert TEXT in decode(html.encode("utf-8"), content_type="text/html; charset=ascii")


def test_mojibake_in_a_page_is_repaired_in_its_text():
    damaged = TEXT.encode("utf-8").decode("cp1252")  # UTF-8 read as windows-1252
    assert "Ã©" in damaged
    found = extract_html(article_html("Titre", [damaged] * 3).encode("utf-8"))
    assert TEXT in found.text


def test_typographic_quotes_are_kept():
    assert fix_text("l’école « ici »") == "l’école « ici »"
