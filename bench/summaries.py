"""Summary benchmark: ROUGE of veille's extractive summariser on OrangeSum, and its speed.

Scores ROUGE-1, ROUGE-2 and ROUGE-L (F1, per document, averaged, x100) against the
journalists' abstracts of ``summarization/orangesum/<split>.jsonl``, with the scorer of the
datasets README: tokens ``re.findall(r"\\w+", text.lower())`` (accents kept), no stemming,
ROUGE-L on the longest common subsequence of the whole summary. Printed side by side:

* LEAD-1 and LEAD-3: the first one or three sentences, split as the README's figures were
  (after ``.!?`` and a space);
* BARThez and mBARThez: the published outputs stored in the file (abstractive, fine-tuned);
* veille: ``veille.summarize.summarize`` on each article as a one-article story.

The scorer is checked first: on the test split it must give the README's figures for LEAD-1,
LEAD-3 and BARThez, or the bench stops.

Then the time to summarise a synthetic 50-article story (built from 50 articles of the split,
each padded with the next one so an article is ~700 words and neighbours share sentences),
pinned to one core, and the single-article throughput (documents per second).

``--learn`` fits the feature weights on the dev split (never on test) by ridge regression of
each sentence's ROUGE against the abstract, chooses the regression target, the budget and
the picking settings by 5-fold cross-validation on dev, and prints them for
``SINGLE_ARTICLE`` in ``veille/summarize/extractive.py``.

Data are read at run time from ``<repo>/../shared/datasets/summarization/orangesum``
(``$VEILLE_SHARED`` overrides the ``shared`` directory) and never copied into the repository.

Usage: ``python bench/summaries.py [--split dev|test] [--limit N] [--learn [--folds K]
[--features a,b,c]]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from veille.summarize.extractive import (
    Candidate,
    ExtractiveOptions,
    SourceText,
    choose,
    prepare,
    summarize,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VEILLE_SHARED", REPO.parent / "shared"))
DATA = SHARED / "datasets" / "summarization" / "orangesum"
# The README's same-scorer figures on test.jsonl (R1, R2, RL).
README_TEST = {
    "LEAD-1": (21.77, 6.77, 15.25),
    "LEAD-3": (25.82, 9.79, 16.57),
    "BARThez": (30.32, 11.65, 21.64),
    "mBARThez": (31.59, 12.61, 22.62),
}
_LEAD_SPLIT = re.compile(r"(?<=[.!?])\s+")

Scores = tuple[float, float, float]

# --------------------------------------------------------------------------- ROUGE


def tokenize(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _f1(overlap: int, predicted: int, reference: int) -> float:
    if not overlap or not predicted or not reference:
        return 0.0
    precision, recall = overlap / predicted, overlap / reference
    return 2 * precision * recall / (precision + recall)


def _rouge_n(candidate: Sequence[str], reference: Sequence[str], n: int) -> float:
    a, b = _ngrams(candidate, n), _ngrams(reference, n)
    return _f1(sum((a & b).values()), sum(a.values()), sum(b.values()))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge(candidate: str, reference: str) -> Scores:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of one summary (0-1)."""
    c, r = tokenize(candidate), tokenize(reference)
    return _rouge_n(c, r, 1), _rouge_n(c, r, 2), _f1(_lcs(c, r), len(c), len(r))


def mean_rouge(pairs: Sequence[tuple[str, str]]) -> Scores:
    """(candidate, reference) pairs -> mean ROUGE-1/2/L x100."""
    totals = [0.0, 0.0, 0.0]
    for candidate, reference in pairs:
        for k, value in enumerate(rouge(candidate, reference)):
            totals[k] += value
    n = max(1, len(pairs))
    return tuple(round(100 * t / n, 2) for t in totals)  # type: ignore[return-value]


# --------------------------------------------------------------------------- systems


def load(split: str, limit: int | None = None) -> list[dict]:
    path = DATA / f"{split}.jsonl"
    if not path.is_file():
        sys.exit(f"{path} is absent (set VEILLE_SHARED to the shared folder)")
    with path.open(encoding="utf-8") as stream:
        rows = [json.loads(line) for line in stream if line.strip()]
    return rows[:limit] if limit else rows


def lead_words(article: str, n: int) -> str:
    """The article's first `n` words."""
    return " ".join(article.split()[:n])


def lead(article: str, k: int) -> str:
    return " ".join([s for s in _LEAD_SPLIT.split(article) if s.strip()][:k])


def as_story(row: dict) -> list[SourceText]:
    return [SourceText(row["index"], "orangesum", f"orangesum:{row['index']}", "", row["article"])]


def veille(row: dict, options: ExtractiveOptions) -> str:
    return summarize(as_story(row), options).text


def check_scorer(rows: list[dict]) -> None:
    """Stop unless the scorer reproduces the README's figures on the test split."""
    systems: dict[str, Callable[[dict], str]] = {
        "LEAD-1": lambda r: lead(r["article"], 1),
        "LEAD-3": lambda r: lead(r["article"], 3),
        "BARThez": lambda r: r["barthez"],
    }
    for name, system in systems.items():
        got = mean_rouge([(system(r), r["abstract"]) for r in rows])
        if any(abs(g - e) > 0.011 for g, e in zip(got, README_TEST[name], strict=True)):
            sys.exit(f"scorer check failed: {name} {got}, README {README_TEST[name]}")


# --------------------------------------------------------------------------- speed


def synthetic_story(rows: list[dict], n: int = 50) -> list[SourceText]:
    """n articles from n OrangeSum rows: each padded with the next, so ~700 words and
    neighbours state the same sentences (near-duplicates to group, as in a real story)."""
    picked = rows[: n + 1]
    start = datetime(2026, 2, 3, 8)
    return [
        SourceText(
            article_id=i,
            site=f"site{i}.example",
            url=f"https://site{i}.example/{row['index']}",
            title=lead(row["article"], 1)[:120],
            text=row["article"] + "\n" + picked[i + 1]["article"],
            published=start + timedelta(minutes=7 * i),
            language="fr",
        )
        for i, row in enumerate(picked[:n])
    ]


def one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return "pinned to one core"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def time_story(
    story: list[SourceText], options: ExtractiveOptions, runs: int = 5
) -> tuple[float, float]:
    """Seconds for the first run (nothing cached: the summariser caches the terms of words it
    has seen) and the median of the next ones."""
    timings = []
    for _ in range(runs + 1):
        began = time.perf_counter()
        summarize(story, options)
        timings.append(time.perf_counter() - began)
    return timings[0], statistics.median(timings[1:])


# --------------------------------------------------------------------------- learning

# No signal for these in single articles without titles: kept as set by hand.
_FIXED = {"support", "title"}
_TARGETS: dict[str, Callable[[Scores], float]] = {
    "rouge-2": lambda s: s[1],
    "(rouge-1 + 2 rouge-2) / 3": lambda s: (s[0] + 2 * s[1]) / 3,
    "mean rouge": lambda s: sum(s) / 3,
}
_RIDGE = [1.0, 10.0, 100.0, 1000.0, 10000.0]
_BUDGETS = [55, 60, 65, 70, 75, 80, 90]
_PICKING = [  # fill, mmr_lambda, redundancy
    (False, 1.0, 1.01),
    (True, 1.0, 1.01),
    (False, 0.8, 0.6),
    (True, 0.8, 0.6),
]


@dataclass
class _Doc:
    candidates: list[Candidate]  # in position order
    reference: str
    sentence_scores: list[Scores]  # each sentence alone against the abstract


def objective(scores: Scores, reference: Scores) -> float:
    """The worst of the three relative gains over LEAD-3, plus a little of their mean: the
    goal is to beat it on every figure, not to trade one for another."""
    gains = [s / r - 1 for s, r in zip(scores, reference, strict=True)]
    return min(gains) + 0.5 * sum(gains) / 3


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a dozen unknowns)."""
    n = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(n)]
    for i in range(n):
        pivot = max(range(i, n), key=lambda k: abs(rows[k][i]))
        rows[i], rows[pivot] = rows[pivot], rows[i]
        for k in range(n):
            if k != i and rows[i][i]:
                factor = rows[k][i] / rows[i][i]
                for j in range(i, n + 1):
                    rows[k][j] -= factor * rows[i][j]
    return [rows[i][n] / rows[i][i] if rows[i][i] else 0.0 for i in range(n)]


def fit(
    docs: Sequence[_Doc], features: list[str], target: Callable[[Scores], float], ridge: float
) -> dict[str, float]:
    """Ridge regression of each sentence's ROUGE on its features, centred per article: only
    the order of sentences within an article matters to the picking. Thousands of sentences
    for a dozen weights, where a search over whole summaries fits the noise of 300 articles."""
    d = len(features)
    gram = [[0.0] * d for _ in range(d)]
    moment = [0.0] * d
    for doc in docs:
        if len(doc.candidates) < 2:
            continue
        rows = [[c.features[f] for f in features] for c in doc.candidates]
        ys = [target(s) for s in doc.sentence_scores]
        means = [sum(column) / len(rows) for column in zip(*rows, strict=True)]
        y_mean = sum(ys) / len(ys)
        for row, y in zip(rows, ys, strict=True):
            x = [a - m for a, m in zip(row, means, strict=True)]
            for p in range(d):
                moment[p] += x[p] * (y - y_mean)
                for q in range(d):
                    gram[p][q] += x[p] * x[q]
    for p in range(d):
        gram[p][p] += ridge
    return dict(zip(features, _solve(gram, moment), strict=True))


def _scores(
    docs: Sequence[_Doc],
    indices: Sequence[int],
    options: ExtractiveOptions,
    cache: dict[tuple[int, tuple[int, ...]], Scores],
) -> list[Scores]:
    found = []
    for d in indices:
        doc = docs[d]
        picked = tuple(sorted(choose(doc.candidates, options)))
        key = (d, picked)
        if key not in cache:
            text = " ".join(doc.candidates[i].text for i in picked)
            cache[key] = rouge(text, doc.reference)
        found.append(cache[key])
    return found


def _mean(scores: Sequence[Scores]) -> Scores:
    n = max(1, len(scores))
    return tuple(100 * sum(s[k] for s in scores) / n for k in range(3))  # type: ignore[return-value]


def learn(rows: list[dict], folds: int = 5, only: Sequence[str] | None = None) -> ExtractiveOptions:
    """Weights by ridge regression; target, ridge, budget and picking by cross-validation,
    all on `rows` (dev). Prints the choice and returns options carrying it. With `only`,
    the other features weigh 0 (support and title keep their hand-set weights)."""
    base = ExtractiveOptions().for_articles(1)
    features = [name for name in base.weights if name not in _FIXED]
    if only is not None:
        unknown = set(only) - set(features)
        if unknown:
            sys.exit(f"unknown features: {', '.join(sorted(unknown))}")
        base = replace(
            base,
            weights={
                n: (0.0 if n in features and n not in only else w) for n, w in base.weights.items()
            },
        )
        features = [name for name in features if name in only]
    docs = []
    for row in rows:
        candidates = sorted(prepare(as_story(row), base), key=lambda c: c.position)
        sentence_scores = [rouge(c.text, row["abstract"]) for c in candidates]
        docs.append(_Doc(candidates, row["abstract"], sentence_scores))
    lead3 = mean_rouge([(lead(r["article"], 3), r["abstract"]) for r in rows])
    order = list(range(len(docs)))
    random.Random(0).shuffle(order)
    parts = [order[k::folds] for k in range(folds)]
    cache: dict[tuple[int, tuple[int, ...]], Scores] = {}

    def options_for(weights: dict[str, float], budget: int, picking: tuple) -> ExtractiveOptions:
        fill, mmr_lambda, redundancy = picking
        return replace(
            base,
            weights={**base.weights, **weights},
            budget_words=budget,
            fill=fill,
            mmr_lambda=mmr_lambda,
            redundancy=redundancy,
        )

    results = []
    for target_name, target in _TARGETS.items():
        for ridge in _RIDGE:
            fold_weights = []
            for part in parts:
                held_out = set(part)
                training = [docs[d] for d in order if d not in held_out]
                fold_weights.append(fit(training, features, target, ridge))
            for budget in _BUDGETS:
                for picking in _PICKING:
                    pooled: list[Scores] = []
                    for part, weights in zip(parts, fold_weights, strict=True):
                        pooled += _scores(docs, part, options_for(weights, budget, picking), cache)
                    scores = _mean(pooled)
                    setting = (target_name, ridge, budget, picking)
                    results.append((objective(scores, lead3), scores, setting))
    results.sort(key=lambda r: -r[0])
    print(f"dev LEAD-3 {_fmt(lead3)}; {folds}-fold cross-validation, best settings:")
    for value, scores, (target_name, ridge, budget, picking) in results[:5]:
        fill, mmr_lambda, redundancy = picking
        print(
            f"  {_fmt(scores)}  objective {value:+.4f}  target {target_name}, ridge {ridge:g}, "
            f"budget {budget}, fill {fill}, mmr {mmr_lambda}, redundancy {redundancy}"
        )
    _, _, (target_name, ridge, budget, picking) = results[0]
    weights = fit(docs, features, _TARGETS[target_name], ridge)
    # Scaled so the largest weighs 2, like the hand-set story weights (title keeps its own).
    top = max(abs(w) for w in weights.values()) or 1.0
    weights = {name: round(2 * w / top, 3) for name, w in weights.items()}
    learned = options_for(weights, budget, picking)
    in_sample = _mean(_scores(docs, order, learned, cache))
    print(f"refit on all of dev: {_fmt(in_sample)} (in sample)")
    single = {
        "budget_words": learned.budget_words,
        "fill": learned.fill,
        "mmr_lambda": learned.mmr_lambda,
        "redundancy": learned.redundancy,
        "weights": {**base.weights, **weights},
    }
    print("SINGLE_ARTICLE = " + json.dumps(single, indent=4))
    return replace(ExtractiveOptions(), single=single)


# --------------------------------------------------------------------------- report


def _fmt(scores: Scores) -> str:
    return " / ".join(f"{s:5.2f}" for s in scores)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--limit", type=int, default=None, help="first N documents only")
    parser.add_argument("--learn", action="store_true", help="tune on dev, then report")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument(
        "--features", help="with --learn: the features to fit, comma-separated (others: 0)"
    )
    args = parser.parse_args(argv)
    pinned = one_core()

    options = ExtractiveOptions()
    if args.learn:
        only = args.features.split(",") if args.features else None
        options = learn(load("dev", args.limit), args.folds, only)

    rows = load(args.split, args.limit)
    if args.split == "test" and not args.limit:
        check_scorer(rows)
        print("scorer check: LEAD-1, LEAD-3 and BARThez match the README's figures")

    # Timed first, before the single articles it is made of warm the cache of terms.
    story = synthetic_story(load(args.split))
    first, warm = time_story(story, options)
    summary = summarize(story, options)

    systems: dict[str, Callable[[dict], str]] = {
        "LEAD-1": lambda r: lead(r["article"], 1),
        "LEAD-3": lambda r: lead(r["article"], 3),
        "BARThez": lambda r: r["barthez"],
        "mBARThez": lambda r: r["mbarthez"],
    }
    results: dict[str, Scores] = {}
    lengths: dict[str, float] = {}
    for name, system in systems.items():
        outputs = [system(r) for r in rows]
        results[name] = mean_rouge(list(zip(outputs, (r["abstract"] for r in rows), strict=True)))
        lengths[name] = statistics.mean(len(tokenize(o)) for o in outputs)
    began = time.perf_counter()
    outputs = [veille(r, options) for r in rows]
    elapsed = time.perf_counter() - began
    results["veille"] = mean_rouge(list(zip(outputs, (r["abstract"] for r in rows), strict=True)))
    lengths["veille"] = statistics.mean(len(tokenize(o)) for o in outputs)
    # Length-matched leads: the article's first words, as many as veille's summary has
    # (per document), or as many as its summaries have on average.
    counts = [len(o.split()) for o in outputs]
    average = round(statistics.mean(counts))
    leads = {
        "LEAD=words": [lead_words(r["article"], n) for r, n in zip(rows, counts, strict=True)],
        f"LEAD-{average}w": [lead_words(r["article"], average) for r in rows],
    }
    for name, made in leads.items():
        results[name] = mean_rouge(list(zip(made, (r["abstract"] for r in rows), strict=True)))
        lengths[name] = statistics.mean(len(tokenize(o)) for o in made)
    reference_length = statistics.mean(len(tokenize(r["abstract"])) for r in rows)

    print(
        f"\nOrangeSum {args.split}: {len(rows)} documents, abstracts {reference_length:.1f} "
        "tokens on average"
    )
    print(f"{'system':<10} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'tokens':>7}")
    for name, scores in results.items():
        print(f"{name:<10} {scores[0]:8.2f} {scores[1]:8.2f} {scores[2]:8.2f} {lengths[name]:7.1f}")
    above = all(v > b for v, b in zip(results["veille"], results["LEAD-3"], strict=True))
    print(f"veille above LEAD-3 on every figure: {'yes' if above else 'NO'}")
    best = max(leads, key=lambda name: results[name][0] + results[name][1])
    gains = [v - b for v, b in zip(results["veille"], results[best], strict=True)]
    print(
        f"veille - best length-matched lead ({best}): ROUGE-1 {gains[0]:+.2f}, "
        f"ROUGE-2 {gains[1]:+.2f}, ROUGE-L {gains[2]:+.2f}"
    )

    words = sum(len(s.text.split()) for s in story)
    cited = {s.site for s in summary.sentences} | {
        site for s in summary.sentences for site, _url in s.also
    }
    print(
        f"\n50-article story ({words:,} words, {pinned}): {first:.3f} s the first time, "
        f"{warm:.3f} s (median of 5) after; summary of {len(summary.sentences)} sentences, "
        f"{sum(len(s.text.split()) for s in summary.sentences)} words, citing "
        f"{len(cited)} sources"
    )
    print(f"single articles: {len(rows) / elapsed:.0f} documents/second")


if __name__ == "__main__":
    main()
