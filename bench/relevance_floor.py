"""The relevance floor of watches, learned on OrangeSum (``shared/datasets/README.md``).

A broad watch: for each article of a split, a query ORs three words of its summary, the
rarest and the two commonest in the split (the ones that also find other articles, as
"cybersécurité" finds every trade item of the day). Every article of the split (summary as
headline, full text) is matched against it; the article the words came from is the
relevant one, the others it finds are off-topic. A floor keeps a match strong when its
relevance reaches it.

Printed, for veille's relevance (BM25 over the query's ceiling, `veille.watch.rank`) and
for the baseline, BM25 over the best score among the matches (what ranking scaled by
before): the off-topic and relevant relevances on dev, the floor they suggest (the median
off-topic relevance on dev, to 0.05: half of what a broad watch finds off-topic is marked
weak), and on test, at that floor and others, the share of relevant matches kept strong
and of off-topic ones marked weak. Weak marks, it hides nothing: a floor is chosen to keep
every relevant match strong rather than to catch every off-topic one.

Usage: ``python bench/relevance_floor.py [--seeds 3]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from veille.text import terms
from veille.watch import matches, parse, searchable
from veille.watch.rank import Candidate, rank

SHARED = Path(
    os.environ.get("VEILLE_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
)
ORANGESUM = SHARED / "datasets" / "summarization" / "orangesum"
NOW = datetime(2020, 1, 10)
SIZE = {"dev": 300, "test": 600}  # articles per split (test: its first 600)


def articles(split: str) -> list[dict]:
    with (ORANGESUM / f"{split}.jsonl").open(encoding="utf-8") as file:
        return [json.loads(line) for line in file][: SIZE[split]]


def queries(records: list[dict], rng: random.Random) -> list[tuple[int, str]]:
    """(article, query) pairs: the rarest word of its summary OR two of its commonest."""
    df: dict[str, int] = defaultdict(int)
    words_of = []
    for record in records:
        words = {}
        for word in record["abstract"].replace("'", " ").replace("’", " ").split():
            word = word.strip('.,;:!?«»()"')
            stem = terms(word)
            if stem and len(word) >= 4 and word.isalpha():
                words.setdefault(stem[-1], word)
        words_of.append(words)
        seen = set(terms(record["abstract"] + " " + record["article"]))
        for stem in seen:
            df[stem] += 1
    found = []
    for n, words in enumerate(words_of):
        if len(words) < 3:
            continue
        ordered = sorted(words, key=lambda s: (df[s], rng.random()))
        rare, common = ordered[0], ordered[-2:]
        found.append((n, " OR ".join(words[s] for s in (rare, *common))))
    return found


def scored(split: str, seed: int) -> list[tuple[float, float, bool]]:
    """(relevance, relevance over the best match, relevant) of every match of every query."""
    records = articles(split)
    docs = [searchable(titles=[r["abstract"]], texts=[r["article"]]) for r in records]
    found = []
    for target, text in queries(records, random.Random(seed)):
        query = parse(text)
        hit = [n for n, d in enumerate(docs) if matches(query, d)]
        ranked = rank(query, [Candidate(n, docs[n], 1, NOW) for n in hit], docs, NOW)
        best = max((r.relevance for r in ranked), default=1.0) or 1.0
        for r in ranked:
            found.append((r.relevance, r.relevance / best, r.story_id == target))
    return found


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    runs = {sp: [x for seed in range(args.seeds) for x in scored(sp, seed)] for sp in SIZE}
    for column, name in ((0, "veille: BM25 / the query's ceiling"), (1, "baseline: BM25 / best")):
        dev = runs["dev"]
        off = [x[column] for x in dev if not x[2]]
        relevant = [x[column] for x in dev if x[2]]
        floor = round(round(quantile(off, 0.5) / 0.05) * 0.05, 2)
        print(f"\n{name}")
        print(
            "  dev off-topic quantiles 25/50/75/90%: "
            + " ".join(f"{quantile(off, q):.3f}" for q in (0.25, 0.5, 0.75, 0.9))
            + f"; relevant min {min(relevant):.3f}, 5% {quantile(relevant, 0.05):.3f}"
        )
        test = runs["test"]
        kept = [x for x in test if x[2]]
        off_test = [x for x in test if not x[2]]
        for fl in sorted({floor, 0.1, 0.2, 0.3}):
            strong = sum(1 for x in kept if x[column] >= fl) / len(kept)
            weak = sum(1 for x in off_test if x[column] < fl) / len(off_test)
            chosen = " <- median off-topic on dev" if fl == floor else ""
            print(
                f"  test, floor {fl:.2f}: relevant kept strong {strong:.3f}, "
                f"off-topic marked weak {weak:.3f}{chosen}"
            )
    print(
        f"\ntest: {len(runs['test'])} matches over {args.seeds} seeds, "
        f"{sum(x[2] for x in runs['test'])} relevant"
    )


if __name__ == "__main__":
    main()
