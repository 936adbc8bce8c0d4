"""Scale run: 100,000 articles through near-duplicate detection and story clustering.

Articles are built from the shared datasets' sentences (OrangeSum articles, SemEval
pairs, gnews-fr headlines) with a seeded RNG (see `stream`), spread over a few days;
dates advance one day every `--per-day` articles, so the time windows of both stages are
exercised, and the stories are settled at the end of each day as the pipeline does after
a run. Prints time and peak memory at each checkpoint, the rate between checkpoints,
which stays flat when growth is linear, and BCubed P/R/F1 of the stories found against
the stories the articles were written for (so a speed-up that costs quality shows).

    python bench/scale.py                 # 10k, 30k, 100k
    python bench/scale.py --total 30000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from veille.cluster import ClusterDoc, StoryClusterer
from veille.dedup import NearDuplicateIndex
from veille.text import sentences

REPO = Path(__file__).resolve().parents[1]


def shared_dir(override: str | None) -> Path:
    path = Path(override or os.environ.get("VEILLE_SHARED") or REPO.parent / "shared")
    if not (path / "datasets").is_dir():
        sys.exit(f"shared datasets not found under {path} (set VEILLE_SHARED)")
    return path / "datasets"


def sentence_pool(datasets: Path) -> list[str]:
    pool: list[str] = []
    for split in ("dev", "test"):
        with (datasets / "summarization" / "orangesum" / f"{split}.jsonl").open() as lines:
            for line in lines:
                pool.extend(sentences(json.loads(line)["article"]))
    csv.field_size_limit(sys.maxsize)
    for name in ("training_set.csv", "testing_set.csv"):
        with (datasets / "similarity" / "semeval2022-task8" / name).open(newline="") as f:
            for row in csv.DictReader(f):
                for key, value in row.items():
                    if key and key.endswith("text") and value:
                        pool.extend(sentences(value)[:20])
    with (datasets / "clustering" / "gnews-fr" / "categories.csv").open() as f:
        pool.extend(line.rstrip("\n").split("\t")[-1] for line in f)
    return [s for s in pool if 6 <= len(s.split()) <= 60]


SYLLABLES = [c + v for c in "bcdfglmnprstvz" for v in "aeiou"]


def pseudo_word(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return word.capitalize() if rng.random() < 0.5 else word


def stream(pool: list[str], total: int, per_day: int, seed: int):
    """(id, title, body, when, story) in time order, `total` of them.

    A story is a handful of made-up names and words its articles share (as a real story's
    articles share its people, places and key terms), told by 1 to 20 articles written with
    sentences of the datasets, so stories differ by what they are about, not by their prose;
    a fifth of the articles are syndicated copies of another of the story."""
    rng = random.Random(seed)
    day0 = datetime(2026, 1, 1, 8)
    pending: list[tuple[float, str, str, int]] = []  # (offset in days, title, body, story)
    n = story = 0
    while n < total:
        story += 1
        day = n // per_day
        keys = [pseudo_word(rng) for _ in range(8)]
        size = min(20, int(rng.expovariate(1 / 3)) + 1)
        told: list[str] = []
        for _ in range(size):
            if told and rng.random() < 0.2:
                body = rng.choice(told)
            else:
                lines = []
                for sentence in rng.sample(pool, rng.randint(4, 14)):
                    words = sentence.split()
                    for key in rng.sample(keys, rng.randint(1, 2)):
                        words.insert(rng.randrange(len(words) + 1), key)
                    lines.append(" ".join(words))
                body = " ".join(lines)
                told.append(body)
            title = " ".join([*rng.sample(keys, 2), *rng.choice(pool).split()[:8]])
            pending.append((day + rng.random() * min(3.0, 0.5 * size), title, body, story))
        n += size
    pending.sort(key=lambda item: item[0])
    for i, (offset, title, body, story) in enumerate(pending[:total], 1):
        yield i, title, body, day0 + timedelta(days=offset), story


def bcubed(predicted: dict[int, int], gold: dict[int, int]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 of the stories found against the stories told."""
    pairs = Counter((predicted[i], gold[i]) for i in gold)
    sizes_p = Counter(predicted[i] for i in gold)
    sizes_g = Counter(gold.values())
    p = sum(n * n / sizes_p[s] for (s, _), n in pairs.items()) / len(gold)
    r = sum(n * n / sizes_g[g] for (_, g), n in pairs.items()) / len(gold)
    return p, r, 2 * p * r / (p + r)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--checkpoints", default="10000,30000,100000")
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shared")
    args = parser.parse_args()

    datasets = shared_dir(args.shared)
    started = time.perf_counter()
    pool = sentence_pool(datasets)
    print(
        f"sentence pool: {len(pool):,} sentences ({time.perf_counter() - started:.1f} s); "
        f"cpu {os.cpu_count()}, Python {sys.version.split()[0]}"
    )
    checkpoints = sorted(int(c) for c in args.checkpoints.split(",") if int(c) <= args.total)
    index, clusterer = NearDuplicateIndex(), StoryClusterer()
    copies = 0
    clock = {"dedup": 0.0, "cluster": 0.0}
    last_n, last_t = 0, time.perf_counter()
    day = None
    print(
        f"{'articles':>9} {'dedup s':>8} {'cluster s':>9} {'total s':>8} {'art/s':>7} "
        f"{'stories':>8} {'copies':>7} {'peak MiB':>9} BCubed P/R/F1"
    )
    told: dict[int, int] = {}  # article -> the story it was written for
    found: dict[int, int] = {}  # article -> its story in the clusterer, moves and merges applied
    merged_into: dict[int, int] = {}

    def follow() -> None:
        for article, _, to in clusterer.moves:
            found[article] = to
        for absorbed, kept in clusterer.merges:
            merged_into[absorbed] = kept
        clusterer.moves.clear()
        clusterer.merges.clear()

    for n, title, body, when, story in stream(pool, args.total, args.per_day, args.seed):
        if day is not None and when.date() != day:  # a day's run ends: settle, prune
            t0 = time.perf_counter()
            index.prune(when - timedelta(days=7))
            t1 = time.perf_counter()
            clusterer.settle()
            clock["dedup"] += t1 - t0
            clock["cluster"] += time.perf_counter() - t1
            follow()
        day = when.date()
        t0 = time.perf_counter()
        match = index.add(n, body, title=title, when=when)
        original = match.original if match is not None and match.original != n else None
        copies += original is not None
        t1 = time.perf_counter()
        found[n] = clusterer.add(
            ClusterDoc(n, title, body, when, f"site{n % 97}", "fr"), copy_of=original
        )
        told[n] = story
        t2 = time.perf_counter()
        clock["dedup"] += t1 - t0
        clock["cluster"] += t2 - t1
        if n in checkpoints:
            follow()
            now = time.perf_counter()
            rate = (n - last_n) / (now - last_t)
            print(
                f"{n:>9,} {clock['dedup']:>8.1f} {clock['cluster']:>9.1f} "
                f"{clock['dedup'] + clock['cluster']:>8.1f} {rate:>7.0f} "
                f"{len(clusterer.stories):>8,} {copies:>7,} {peak_mib():>9.0f} "
                f"{quality(found, told, merged_into)}",
                flush=True,
            )
            last_n, last_t = n, time.perf_counter()  # scoring is not the stages' time


def quality(found: dict[int, int], told: dict[int, int], merged_into: dict[int, int]) -> str:
    def resolve(story: int) -> int:
        while story in merged_into:
            story = merged_into[story]
        return story

    p, r, f1 = bcubed({a: resolve(s) for a, s in found.items()}, told)
    return f"{p:.3f}/{r:.3f}/{f1:.3f}"


if __name__ == "__main__":
    main()
