"""Text helpers: accent folding, tokens and terms."""

import random
import unicodedata

from veille.text import fold, strip_accents, terms


def _reference(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def test_strip_accents_matches_unicode_data_on_any_text():
    rng = random.Random(3)
    for k in range(120):
        # Half the samples stay among Latin, Greek, Cyrillic and Hebrew, the others range
        # over all of Unicode (surrogates apart): both paths of the fast folding.
        top = 0x600 if k % 2 else 0x110000
        sample = "".join(chr(rng.randrange(top)) for _ in range(400))
        sample = "".join(c for c in sample if not 0xD800 <= ord(c) <= 0xDFFF)
        assert strip_accents(sample) == _reference(sample)


def test_strip_accents_keeps_the_grapheme_joiner_and_letters():
    assert strip_accents("Élysée, Dourov, Ñandú") == "Elysee, Dourov, Nandu"
    assert strip_accents("a\u034fb") == "a\u034fb"  # U+034F is of class 0: not a mark
    assert strip_accents("Ελληνικά") == "Ελληνικα"


def test_fold_and_terms_ignore_case_accents_and_elisions():
    assert fold("L'Élysée  a RÉPONDU") == "l elysee a repondu"
    assert terms("perquisitionné") == terms("Perquisitionne")
    assert terms("l'enquête") == terms("enquête")
