"""Words for matching: French-aware tokens, stop words, Snowball stems, folded accents.

Shared by near-duplicate detection, story clustering, similarity, watches and search, so
"l'enquête", "L’ENQUÊTE" and "enquetes" meet on one term.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import snowballstemmer
from stop_words import get_stop_words

# Elided articles and pronouns glued to the next word: l'État, d'Elon, qu'il, jusqu'au.
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"\w+")

_LANGUAGES = {
    "fr": "french",
    "en": "english",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "pl": "polish",
    "ru": "russian",
    "tr": "turkish",
    "ar": "arabic",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "fi": "finnish",
    "ro": "romanian",
    "hu": "hungarian",
    "el": "greek",
    "ca": "catalan",
}


@cache
def _combining() -> re.Pattern[str]:
    # One pass of a regex over the text instead of a Python test per character; built once,
    # from the same Unicode data `unicodedata.combining` uses, as ranges: a class listing
    # each of the ~2,000 marks is matched 20x slower than the ~300 ranges they form.
    ranges: list[list[int]] = []
    for i in range(0x110000):
        if unicodedata.combining(chr(i)):
            if ranges and ranges[-1][1] == i - 1:
                ranges[-1][1] = i
            else:
                ranges.append([i, i])
    parts = (re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
    return re.compile("[" + "".join(parts) + "]+")


# The marks of Latin, Greek and Cyrillic letters: a short range is matched far faster than
# the whole class, which only text with a character beyond it needs.
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")  # U+034F joins, of class 0


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    text = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", text))
    return _combining().sub("", text) if max(text) >= "\u0483" else text


def fold(text: str) -> str:
    """Comparison key: lower case, no accents, words only, single spaces."""
    return " ".join(re.findall(r"\w+", strip_accents(text.lower())))


# A capital letter standing alone is a name (X, the network; M, the magazine), not a word,
# except those that are words or sentence starts.
_LETTER_WORDS = {"A", "I", "Y", "O", "À"}


def tokens(text: str) -> list[str]:
    """Lower-case words with elisions cut off ("l'enquête" -> "enquête"), accents kept.

    Bare numbers are dropped but for years, which carry meaning; single letters are
    dropped but for capitals that stand for a name.
    """
    found = []
    for word in _WORD.findall(_ELISION.sub(" ", text)):
        if word.isdigit() and len(word) != 4:
            continue
        if len(word) == 1:
            if not word.isupper() or word in _LETTER_WORDS:
                continue
            word = word + "_"  # kept apart from the stop word it would fold into
        found.append(word.lower())
    return found


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer | None:
    name = _LANGUAGES.get(language)
    return snowballstemmer.stemmer(name) if name else None


@cache
def stop_words(language: str) -> frozenset[str]:
    name = _LANGUAGES.get(language)
    try:
        words = get_stop_words(name) if name else []
    except Exception:  # stop_words raises its own error for languages it lacks
        words = []
    return frozenset(strip_accents(w.lower()) for w in words)


@cache
def _stops(language: str) -> frozenset[str]:
    return stop_words(language) | stop_words("fr") | stop_words("en")


# Words repeat: folding each once per process is most of what `terms` would spend.
_plain = lru_cache(maxsize=262_144)(strip_accents)


def terms(text: str, language: str | None = "fr") -> list[str]:
    """Stemmed, accent-folded content words of `text` in reading order."""
    language = (language or "fr")[:2].lower()
    stemmer = _stemmer(language)
    stops = _stops(language)
    words = [w for w in tokens(text) if _plain(w) not in stops]
    if stemmer is not None:
        words = stemmer.stemWords(words)
    return [_plain(w) for w in words]


def stem(word: str, language: str | None = "fr") -> str:
    """One word's term, as `terms` would give it (empty for a stop word)."""
    found = terms(word, language)
    return found[0] if found else ""


# Sentence ends: . ! ? … (and closing quotes after them) before a capital, a quote or a
# digit; not after common abbreviations or initials ("M. Trump", "J.-L. Mélenchon").
_SENTENCE_END = re.compile(r"(?<=[.!?…])[»\"”)]?\s+(?=[«\"“(A-ZÀ-ÖØ-Ý0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:M|Mme|Mmes|MM|Mlle|Dr|Pr|Me|Mgr|St|Ste|av|apr|J\.-C|etc|cf|p|art|n°|No|vol|"
    r"janv|févr|fév|avr|juil|sept|oct|nov|déc|Jr|Sr|Inc|Co|Corp|Ltd|vs)|\b[A-Z])\.$"
)


def _open_quote(piece: str) -> bool:
    """A quotation opened and not closed yet (not a runaway one: 80 words at most)."""
    return piece.count("«") > piece.count("»") and len(piece.split()) < 80


def sentences(text: str) -> list[str]:
    """The sentences of a text, paragraph by paragraph."""
    found: list[str] = []
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            head = paragraph[start : match.start()].rstrip()
            if _ABBREVIATION.search(head):
                continue
            end = match.end() - len(match.group(0).lstrip('»"”)'))
            piece = paragraph[start:end].strip()
            if _open_quote(piece):
                continue  # « A. B », a déclaré X: the quotation is one sentence's
            if piece:
                found.append(piece)
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            found.append(tail)
    return found
