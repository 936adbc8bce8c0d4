"""Ranking a watch's stories: relevance to its query, independent sources, recency, growth.

Relevance is BM25 over each story's words (headline words count twice) for the query's
terms (not those under NOT), with document frequencies over all the stories of the period,
so a story that merely contains a keyword once falls below those about it. It is scaled by
the best score the query could give (`ceiling`: each term at full strength, the best
alternative of an OR, every operand of an AND), so it says how well the story matches
whatever else matched: a story found only by a word most of the period's stories contain
scores near 0. Below the watch's relevance floor a match is weak. Each signal is scaled to
[0, 1] and weighed (`RankWeights`, `[ranking]` in config.toml); `Ranked.parts` keeps each
one's share of the score, for explanations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from veille.watch.match import Searchable, term_hits
from veille.watch.query import Node, Not, Or, Term, terms_of


@dataclass(frozen=True)
class RankWeights:
    relevance: float = 0.55
    sources: float = 0.25
    recency: float = 0.1
    growth: float = 0.1
    half_life_hours: float = 24.0  # a story quiet this long has half the recency
    k1: float = 1.2  # BM25 term saturation
    b: float = 0.75  # BM25 length normalisation
    # A match whose relevance is below this is weak: shown last and marked, never alerted
    # (a watch may set its own). The median off-topic relevance of broad watches on
    # OrangeSum dev (bench/relevance_floor.py); on test it keeps every relevant article
    # strong and marks 55 % of the off-topic matches weak (0.3: 90 %).
    floor: float = 0.15


def weights_from_config(config: Mapping[str, Any] | None) -> RankWeights:
    """From the `[ranking]` table (unknown keys ignored)."""
    config = config or {}
    names = {f.name for f in fields(RankWeights)}
    return RankWeights(**{k: float(v) for k, v in config.items() if k in names})


@dataclass(frozen=True)
class Candidate:
    story_id: int
    doc: Searchable
    sources: int  # independent sources
    last_seen: datetime | None
    new_sources: int = 0  # since the watch's last digest carried it


@dataclass(frozen=True)
class Part:
    """One signal's share of a score: `value` as measured (BM25, sources, hours since the
    last article, sources added), `scaled` to [0, 1], and its `weight`."""

    name: str  # relevance, sources, recency, growth
    value: float
    scaled: float
    weight: float

    @property
    def contribution(self) -> float:
        return self.weight * self.scaled


@dataclass(frozen=True)
class Ranked:
    story_id: int
    score: float
    relevance: float  # BM25 over the query's ceiling, in [0, 1]
    matched: tuple[str, ...]  # the query's words found, as written in the query
    parts: tuple[Part, ...] = ()
    weak: bool = False  # relevance under the floor


def _idf(query: Node, pool: Sequence[Searchable]) -> dict[Term, float]:
    """BM25's idf of each query term found in the pool (one found nowhere weighs nothing)."""
    n = max(len(pool), 1)
    idf = {}
    for term in terms_of(query):
        df = sum(1 for d in pool if term_hits(term, d))
        if df:
            idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf


def ceiling(query: Node, idf: Mapping[Term, float], k1: float) -> float:
    """The best BM25 the query can give a story of the pool: each term saturated, the best
    alternative of an OR, all the operands of an AND (a NOT adds nothing). A term the pool
    does not contain is left out: an alternative nobody wrote about says nothing of how
    well the others match."""
    if isinstance(query, Term):
        return idf.get(query, 0.0) * (k1 + 1)
    if isinstance(query, Not):
        return 0.0
    found = [ceiling(n, idf, k1) for n in query.operands]
    return max(found) if isinstance(query, Or) else sum(found)


def bm25(
    query: Node, docs: Sequence[Searchable], pool: Sequence[Searchable], k1: float, b: float
) -> list[tuple[float, tuple[str, ...]]]:
    """(BM25, query words found) of each doc; frequencies over `pool` (docs included)."""
    wanted = terms_of(query)
    n = max(len(pool), 1)
    average = sum(d.length for d in pool) / n or 1.0
    idf_of = _idf(query, pool)
    idf = [idf_of.get(t, 0.0) for t in wanted]
    found = []
    for doc in docs:
        score = 0.0
        matched: list[str] = []
        for term, weight in zip(wanted, idf, strict=True):
            hits = term_hits(term, doc)
            if not hits:
                continue
            matched.append(term.text)
            if term.field in ("site", "lang", "entity"):
                tf = 1.0
            else:
                tf = float(sum(doc.counts.get(h, 0) for h in hits)) or 1.0
            norm = k1 * (1 - b + b * doc.length / average)
            score += weight * tf * (k1 + 1) / (tf + norm)
        found.append((score, tuple(dict.fromkeys(matched))))
    return found


def rank(
    query: Node,
    candidates: Sequence[Candidate],
    pool: Sequence[Searchable],
    now: datetime,
    weights: RankWeights | None = None,
    floor: float | None = None,
) -> list[Ranked]:
    """The candidates best first (ties: the newer story first); a match under `floor`
    (the weights' own without it) is weak and comes after every match that is not."""
    w = weights or RankWeights()
    floor = w.floor if floor is None else floor
    if not candidates:
        return []
    relevance = bm25(query, [c.doc for c in candidates], pool, w.k1, w.b)
    best = ceiling(query, _idf(query, pool), w.k1) or 1.0
    top_sources = max(c.sources for c in candidates) or 1
    top_growth = max(c.new_sources for c in candidates) or 1
    ranked = []
    for candidate, (score, matched) in zip(candidates, relevance, strict=True):
        hours = (
            None
            if candidate.last_seen is None
            else max(0.0, (now - candidate.last_seen).total_seconds() / 3600)
        )
        strength = min(1.0, score / best)
        parts = (
            Part("relevance", score, strength, w.relevance),
            Part(
                "sources",
                candidate.sources,
                math.log1p(candidate.sources) / math.log1p(top_sources),
                w.sources,
            ),
            Part(
                "recency",
                -1.0 if hours is None else hours,
                0.0 if hours is None else 0.5 ** (hours / w.half_life_hours),
                w.recency,
            ),
            Part(
                "growth",
                candidate.new_sources,
                math.log1p(candidate.new_sources) / math.log1p(top_growth),
                w.growth,
            ),
        )
        value = sum(p.contribution for p in parts)
        ranked.append(Ranked(candidate.story_id, value, strength, matched, parts, strength < floor))
    return sorted(ranked, key=lambda r: (r.weak, -r.score, -r.story_id))
