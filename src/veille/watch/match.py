"""Matching a query against a story (or an article): which do, and on which words.

A story is matched as a whole: its headlines, its texts, its sites, languages and entities
(`Searchable`). Words are compared as terms (`veille.text.terms`: lower case, accents and
elisions gone, French stems); a query term also finds the longer terms of its stem family
and the shorter one it extends ("perquisit" and "perquisition", from "perquisition" and
"perquisitionné"), when the shorter has at least `PREFIX_MIN` letters.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from veille.enrich.entities import name_key
from veille.text import fold, terms
from veille.watch.query import And, Node, Not, Or, Term, terms_of

# Below this many letters a stem is too short to stand for its family ("franc" would find
# "franchis", "port" would find "portrait").
PREFIX_MIN = 6


@dataclass
class Searchable:
    """A story's (or an article's) words and attributes, ready for matching."""

    titles: list[list[str]]  # the terms of each headline, in order
    texts: list[list[str]]  # the terms of each text
    sites: set[str]  # folded site names and host names
    languages: set[str]
    entities: set[str]  # name keys of every spelling of its entities
    counts: Counter[str] = field(default_factory=Counter)  # term -> occurrences (title x2)
    title_terms: set[str] = field(default_factory=set)
    sorted_terms: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for sequence in self.titles:
            for term in sequence:
                self.counts[term] += 2  # a headline word says more of what it is about
        for sequence in self.texts:
            self.counts.update(sequence)
        self.title_terms = {t for sequence in self.titles for t in sequence}
        self.sorted_terms = sorted(self.counts)

    @property
    def length(self) -> int:
        return sum(self.counts.values())


def searchable(
    titles: Iterable[str],
    texts: Iterable[str],
    sites: Iterable[str | None] = (),
    urls: Iterable[str] = (),
    languages: Iterable[str | None] = (),
    entity_names: Iterable[str] = (),
    language: str = "fr",
) -> Searchable:
    hosts = {(urlsplit(u).hostname or "").removeprefix("www.") for u in urls}
    return Searchable(
        titles=[terms(t, language) for t in titles if t],
        texts=[terms(t, language) for t in texts if t],
        sites={fold(s) for s in sites if s} | {h for h in hosts if h},
        languages={lang.lower()[:2] for lang in languages if lang},
        entities={name_key(n) for n in entity_names if n},
    )


def _word_hits(stem: str, doc: Searchable, title_only: bool) -> set[str]:
    """The document's terms a query stem finds."""
    vocabulary = doc.title_terms if title_only else doc.counts
    found = {stem} if stem in vocabulary else set()
    if len(stem) >= PREFIX_MIN:
        at = bisect.bisect_left(doc.sorted_terms, stem)
        while at < len(doc.sorted_terms) and doc.sorted_terms[at].startswith(stem):
            if doc.sorted_terms[at] in vocabulary:
                found.add(doc.sorted_terms[at])
            at += 1
    for k in range(PREFIX_MIN, len(stem)):
        if stem[:k] in vocabulary:
            found.add(stem[:k])
    return found


def _phrase_hits(stems: tuple[str, ...], sequences: list[list[str]], doc: Searchable) -> set[str]:
    allowed = [_word_hits(s, doc, title_only=False) for s in stems]
    if not all(allowed):
        return set()
    found: set[str] = set()
    n = len(stems)
    for sequence in sequences:
        for i in range(len(sequence) - n + 1):
            if all(sequence[i + k] in allowed[k] for k in range(n)):
                found.update(sequence[i : i + n])
    return found


def term_hits(term: Term, doc: Searchable) -> set[str]:
    """What of the document a term finds (terms, or the value matched); empty: no match."""
    if term.field == "site":
        value = term.stems[0]
        folded = fold(value)
        return {
            s
            for s in doc.sites
            if s == value or s.endswith("." + value) or (folded and folded in s)
        }
    if term.field == "lang":
        return {lang for lang in doc.languages if lang.startswith(term.stems[0][:2])}
    if term.field == "entity":
        key = name_key(term.text)
        return {key} if key in doc.entities else set()
    sequences = doc.titles if term.field == "title" else doc.titles + doc.texts
    if term.phrase:
        return _phrase_hits(term.stems, sequences, doc)
    return _word_hits(term.stems[0], doc, title_only=term.field == "title")


def matches(node: Node, doc: Searchable) -> bool:
    if isinstance(node, Term):
        return bool(term_hits(node, doc))
    if isinstance(node, Not):
        return not matches(node.operand, doc)
    if isinstance(node, And):
        return all(matches(n, doc) for n in node.operands)
    if isinstance(node, Or):
        return any(matches(n, doc) for n in node.operands)
    raise TypeError(node)


_WORD = re.compile(r"[^\W_][\w'’-]*")


def highlights(text: str, node: Node, language: str = "fr") -> list[tuple[int, int]]:
    """Spans of `text` whose words the query's words find (not those under NOT, nor
    site:, lang:, entity:), by the rules of `term_hits`."""
    return word_spans(text, {s for t in terms_of(node) for s in word_stems(t)}, language)


def word_stems(term: Term) -> tuple[str, ...]:
    """The stems a term finds in running text (none for site:, lang:, entity:)."""
    return term.stems if term.field in (None, "title", "text") else ()


def word_spans(text: str, wanted: set[str], language: str = "fr") -> list[tuple[int, int]]:
    """Spans of `text` whose words belong to the stem family of one of `wanted`."""
    spans = []
    for match in _WORD.finditer(text):
        term = _last_term(match.group(), language)
        if term and any(_same_family(q, term) for q in wanted):
            spans.append(match.span())
    return spans


def _same_family(query: str, term: str) -> bool:
    if query == term:
        return True
    shorter, longer = (query, term) if len(query) <= len(term) else (term, query)
    return len(shorter) >= PREFIX_MIN and longer.startswith(shorter)


@lru_cache(maxsize=100_000)
def _last_term(word: str, language: str) -> str:
    # Texts repeat their words: each is stemmed once per process, not once per page shown.
    found = terms(word, language)
    return found[-1] if found else ""
