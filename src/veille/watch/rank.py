"""Ranking a watch's stories: relevance to its query, independent sources, recency, growth.

Relevance is BM25 over each story's words (headline words count twice) for the query's
terms (not those under NOT), with document frequencies over all the stories of the period,
so a story that merely contains a keyword once falls below those about it. Each signal is
scaled to [0, 1] and weighed (`RankWeights`, `[ranking]` in config.toml).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from veille.watch.match import Searchable, term_hits
from veille.watch.query import Node, terms_of


@dataclass(frozen=True)
class RankWeights:
    relevance: float = 0.55
    sources: float = 0.25
    recency: float = 0.1
    growth: float = 0.1
    half_life_hours: float = 24.0  # a story quiet this long has half the recency
    k1: float = 1.2  # BM25 term saturation
    b: float = 0.75  # BM25 length normalisation


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
class Ranked:
    story_id: int
    score: float
    relevance: float
    matched: tuple[str, ...]  # the query's words found, as written in the query


def bm25(
    query: Node, docs: Sequence[Searchable], pool: Sequence[Searchable], k1: float, b: float
) -> list[tuple[float, tuple[str, ...]]]:
    """(BM25, query words found) of each doc; frequencies over `pool` (docs included)."""
    wanted = terms_of(query)
    n = max(len(pool), 1)
    average = sum(d.length for d in pool) / n or 1.0
    idf = []
    for term in wanted:
        df = sum(1 for d in pool if term_hits(term, d))
        idf.append(math.log(1 + (n - df + 0.5) / (df + 0.5)))
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
) -> list[Ranked]:
    """The candidates best first (ties: the newer story first)."""
    w = weights or RankWeights()
    if not candidates:
        return []
    relevance = bm25(query, [c.doc for c in candidates], pool, w.k1, w.b)
    top_relevance = max(r for r, _ in relevance) or 1.0
    top_sources = max(c.sources for c in candidates) or 1
    top_growth = max(c.new_sources for c in candidates) or 1
    ranked = []
    for candidate, (score, matched) in zip(candidates, relevance, strict=True):
        if candidate.last_seen is None:
            recency = 0.0
        else:
            hours = max(0.0, (now - candidate.last_seen).total_seconds() / 3600)
            recency = 0.5 ** (hours / w.half_life_hours)
        value = (
            w.relevance * score / top_relevance
            + w.sources * math.log1p(candidate.sources) / math.log1p(top_sources)
            + w.recency * recency
            + w.growth * math.log1p(candidate.new_sources) / math.log1p(top_growth)
        )
        ranked.append(Ranked(candidate.story_id, value, score / top_relevance, matched))
    return sorted(ranked, key=lambda r: (-r.score, -r.story_id))
