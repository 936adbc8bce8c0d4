"""Sparse term vectors for story clustering.

A document becomes a unit-length tf-idf vector over `veille.text.terms` (stems, accents
folded), with document frequencies counted from past documents only, so a vector never
depends on what comes after it and a stream can be clustered as it arrives. Besides the
words, a vector carries name-like words a second time, the numbers it quotes and the
4-letter pieces of its headline's stems: how much each counts was tuned on gnews-fr dev
(see `bench/clustering.py --learn`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import mul
from typing import Any

from veille.text import terms

Vector = dict[str, float]


@dataclass(frozen=True)
class ClusterDoc:
    """One article as the clusterer sees it; `text` may be empty (a headline alone)."""

    id: int
    title: str
    text: str = ""
    published: datetime | None = None
    site: str | None = None
    language: str | None = None
    # Its dense encoder vector when the caller computed it (in a batch, which is faster);
    # otherwise the clusterer encodes it itself when it has an encoder.
    dense: Any = None


@dataclass(frozen=True)
class Weighting:
    """How a document's words become a vector (defaults tuned on gnews-fr dev)."""

    title_weight: float = 2.0  # a title word counts as this many body occurrences
    top_k: int = 100  # terms kept per document
    name_weight: float = 0.5  # extra weight of a capitalised word (a name)
    number_weight: float = 0.0  # weight of a number quoted (on dev: 1.0 changed nothing)
    gram: int = 4  # headline stems are also cut into pieces of this many letters ...
    gram_weight: float = 0.3  # ... each worth this much


class DocFreq:
    """Document frequencies of terms, counted as documents arrive."""

    def __init__(self, n: int = 0, df: dict[str, int] | None = None) -> None:
        self.n = n
        self.df: dict[str, int] = df if df is not None else {}

    def idf(self, term: str) -> float:
        # Smoothed, so a term never seen before gets the highest weight, not a division by 0.
        return math.log((self.n + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def add(self, seen: Iterable[str]) -> None:
        self.n += 1
        df = self.df
        for term in set(seen):
            df[term] = df.get(term, 0) + 1


def unit(weights: dict[str, float]) -> Vector:
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def dot(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    # map() over C-level callables: about twice the speed of a generator expression.
    return sum(map(mul, a.values(), map(b.get, a, repeat(0.0))))


@dataclass(frozen=True)
class DocTerms:
    """What a document brings: its weighted terms before IDF, names and numbers."""

    weights: dict[str, float]
    names: frozenset[str]
    numbers: frozenset[str]


def doc_terms(doc: ClusterDoc, weighting: Weighting) -> DocTerms:
    w = weighting
    language = doc.language
    title = terms(doc.title, language)
    body = terms(doc.text, language) if doc.text else []
    # A headline alone is all title: weighing it would only rescale the vector.
    title_weight = w.title_weight if body else 1.0
    weights: dict[str, float] = {}
    for term, count in Counter(body).items():
        weights[term] = 1.0 + math.log(count)  # sublinear: a repeated word is not 10x the topic
    for term in set(title):
        weights[term] = weights.get(term, 0.0) + title_weight
    found_names = names(doc.title, language) | (names(doc.text, language) if body else set())
    for term in found_names:
        if term in weights:
            weights[term] += w.name_weight * title_weight
    found_numbers = numbers(f"{doc.title}\n{doc.text}")
    if w.number_weight:
        for number in found_numbers:
            weights["#" + number] = w.number_weight * title_weight
    if w.gram_weight:
        # Pieces of words meet where stems do not: "attentats-suicides" and "suicide",
        # "Sea-Watch" and "Seawatch", a name spelled two ways.
        k = w.gram
        for term in set(title):
            for i in range(len(term) - k + 1):
                piece = "~" + term[i : i + k]
                weights[piece] = weights.get(piece, 0.0) + w.gram_weight * title_weight
    return DocTerms(weights, frozenset(found_names), frozenset(found_numbers))


def tfidf(weights: dict[str, float], df: DocFreq, top_k: int) -> Vector:
    """Unit tf-idf vector of the `top_k` heaviest terms."""
    scored = {term: w * df.idf(term) for term, w in weights.items()}
    if len(scored) > top_k:
        scored = dict(sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k])
    return unit(scored)


_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Where a sentence starts, a capital says nothing: "Canicule : ...", "... Brest. L'auteur".
_SENTENCE_END = re.compile(r"(?:[.!?…]\s+|[«\"“]\s*|\n\s*)$")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?")
_YEAR = re.compile(r"(?:19|20)\d\d")


def names(text: str, language: str | None) -> set[str]:
    """Name-like words as matching terms: capitalised words not starting a sentence,
    and words in capitals (PSG, TUNIS)."""
    found = []
    for match in _WORD.finditer(text):
        word = match.group()
        if not word[0].isupper():
            continue
        start = match.start()
        opens = start == 0 or _SENTENCE_END.search(text[max(0, start - 4) : start])
        if word.isupper() or not opens:
            found.append(word)
    return set(terms(" ".join(found), language)) if found else set()


def numbers(text: str) -> set[str]:
    """Numbers as written (42, 42.3): a toll, a score or a sum ties articles to one event.

    Years are left out: "2019" is in every other headline of 2019."""
    found = {n.replace(",", ".") for n in _NUMBER.findall(text)}
    return {n for n in found if not _YEAR.fullmatch(n)}
