"""Why a story matches a watch and ranks where it does, from what ranking and matching
computed: each query term found, as the words the articles use and where (headlines,
texts), highlighted in the headline and in excerpts; each ranking signal's share of the
score; and whether the match is weak (its relevance under the watch's floor).

Plain data out (`MatchExplanation`): the digests, the pages, the API and the command line
render it each their way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from veille.model import Article
from veille.urls import domain
from veille.watch.match import Searchable, term_hits, word_spans, word_stems
from veille.watch.query import Node, Term, terms_of
from veille.watch.rank import Part, Ranked

WORDS_SHOWN = 6  # spellings shown per term, most frequent first
EXCERPTS = 3  # excerpts of the story's texts with the words found
EXCERPT_CHARS = 240
_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+|$)")

Span = tuple[int, int]


@dataclass(frozen=True)
class TermMatch:
    """A query term the story matched: the words found for it (a stem shown as the words
    the articles use, most frequent first, with their counts), and in how many of the
    story's headlines and texts. For site:, lang: and entity: terms, `words` holds what
    was matched (the site, the language, the entity) and the counts are 0."""

    term: str  # as written in the query
    field: str | None
    words: tuple[tuple[str, int], ...]
    headlines: int
    texts: int


@dataclass(frozen=True)
class Excerpt:
    article_id: int
    site: str
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class MatchExplanation:
    terms: tuple[TermMatch, ...]  # the query's terms found (not those under NOT)
    missing: tuple[str, ...]  # its terms not found (an OR's other alternatives)
    articles: int  # the articles searched
    title_spans: tuple[Span, ...]  # in the story's headline
    excerpts: tuple[Excerpt, ...]
    score: float
    relevance: float  # BM25 over the query's ceiling
    floor: float
    weak: bool
    parts: tuple[Part, ...]  # each ranking signal and its share of the score


def explain_match(
    query: Node,
    title: str,
    articles: Sequence[Article],
    doc: Searchable,
    ranked: Ranked,
    floor: float,
    language: str = "fr",
) -> MatchExplanation:
    """Why the story (its headline `title`, its `articles`, `doc` as matched) ranks as
    `ranked` for `query`."""
    found: list[TermMatch] = []
    missing: list[str] = []
    for term in dict.fromkeys(terms_of(query)):
        hits = term_hits(term, doc)
        if not hits:
            missing.append(term.text)
            continue
        stems = set(word_stems(term))
        if not stems:
            found.append(
                TermMatch(term.text, term.field, tuple((h, 1) for h in sorted(hits)), 0, 0)
            )
            continue
        match = _in_articles(term, stems, articles, language)
        # "perquisition OR perquisitionne": one family of words, the same found; said once.
        if not any(replace(match, term=t.term) == t for t in found):
            found.append(match)
    stems = {s for t in terms_of(query) for s in word_stems(t)}
    return MatchExplanation(
        terms=tuple(found),
        missing=tuple(dict.fromkeys(missing)),
        articles=len(articles),
        title_spans=tuple(word_spans(title, stems, language)),
        excerpts=tuple(_excerpts(articles, stems, language)),
        score=round(ranked.score, 4),
        relevance=round(ranked.relevance, 4),
        floor=floor,
        weak=ranked.weak,
        parts=ranked.parts,
    )


def _in_articles(
    term: Term, stems: set[str], articles: Sequence[Article], language: str
) -> TermMatch:
    spellings: Counter[str] = Counter()
    headlines = texts = 0
    for article in articles:
        in_title = word_spans(article.title, stems, language)
        in_text = [] if term.field == "title" else word_spans(article.text, stems, language)
        headlines += bool(in_title)
        texts += bool(in_text)
        spellings.update(article.title[a:b] for a, b in in_title)
        spellings.update(article.text[a:b] for a, b in in_text)
    # One entry per word whatever its case, shown as it is most often written.
    by_word: dict[str, Counter[str]] = {}
    for word, count in spellings.items():
        by_word.setdefault(word.lower(), Counter())[word] = count
    words = sorted(
        ((forms.most_common(1)[0][0], sum(forms.values())) for forms in by_word.values()),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return TermMatch(term.text, term.field, tuple(words[:WORDS_SHOWN]), headlines, texts)


def _excerpts(articles: Sequence[Article], stems: set[str], language: str) -> list[Excerpt]:
    """The first sentence with a word found in each of the first articles that have one,
    one per site."""
    found: list[Excerpt] = []
    sites: set[str] = set()
    for article in articles:
        site = article.site_name or domain(article.url) or ""
        if site in sites or not stems:
            continue
        for sentence in _SENTENCE.finditer(article.text):
            text = sentence.group().strip()
            spans = word_spans(text, stems, language)
            if not spans:
                continue
            text, spans = _window(text, spans)
            found.append(Excerpt(article.id or 0, site, text, tuple(spans)))
            sites.add(site)
            break
        if len(found) >= EXCERPTS:
            break
    return found


def _window(text: str, spans: list[Span]) -> tuple[str, list[Span]]:
    """At most EXCERPT_CHARS of `text` around its first span, cut at spaces, with "…"."""
    if len(text) <= EXCERPT_CHARS:
        return text, spans
    start = max(0, spans[0][0] - EXCERPT_CHARS // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + EXCERPT_CHARS)
    if end < len(text) and text.rfind(" ", start, end) > spans[0][1]:
        end = text.rfind(" ", start, end)
    prefix = "…" if start else ""
    cut = prefix + text[start:end].rstrip() + ("…" if end < len(text) else "")
    shift = len(prefix) - start
    kept = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return cut, kept
