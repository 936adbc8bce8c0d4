"""Story clustering benchmark on gnews-fr (``shared/datasets/README.md``, clustering/).

The headlines of one split are fed to ``veille.cluster.StoryClusterer`` as a shuffled
stream (one order per seed); a story is (section, group). Printed: BCubed precision, recall
and F1 (per-item precision and recall averaged over headlines, F1 of the two means), as
mean ± sd over the seeds, and articles per second.

* ``veille.cluster``: with the dense encoder's headline vectors (`veille.encoder`, encoded
  in one batch before the stream, so the speed printed leaves the encoder out: about 10-15 ms
  an article on one core, see ``bench/similarity.py``); ``VEILLE_ENCODER=none`` gives the
  sparse clusterer alone.
* ``--baseline``: the plain single-pass TF-IDF centroid clusterer (same IDF from past
  documents, same index, words only, cosine threshold tuned on dev). Measured in the README
  on test: F1 0.771.
* ``--distractors N``: mix N headlines of ``one_day_stream.csv`` (another period, so of no
  gnews-fr story) into each stream; they count as wrong members when a gnews-fr headline
  joins them and are not scored themselves. ``--learn`` tunes with 600 of them on dev, which
  brings dev's 408 headlines to about the size of test's 924.
* ``--learn``: re-learns the constants of ``veille/cluster/model.py`` and the vector weights
  on dev (see that module), printing each feature's effect.
* ``--speed N``: N headlines of ``one_day_stream.csv`` in time order, repeated beyond its
  5,064 with new ids and dates moved past the window; prints time and peak memory at
  10k/30k/100k.

Data are read from ``<repo>/../shared`` (``$VEILLE_SHARED`` overrides it).

Usage: ``python bench/clustering.py [--split test] [--seeds 5] [--baseline] [--learn]
[--speed 100000]``
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from veille import encoder as encoders
from veille.cluster import ClusterDoc, ClusterSettings, StoryClusterer, Weighting
from veille.cluster import model as learned
from veille.text import strip_accents

SHARED = Path(
    os.environ.get("VEILLE_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
)
GNEWS = SHARED / "datasets" / "clustering" / "gnews-fr"

# The README's baseline: words only, cosine to the centroid >= 0.225 (best on dev with
# distractors; 0.2-0.225 are within noise there), no late joins or merges.
BASELINE = ClusterSettings(
    weighting=Weighting(name_weight=0.0, number_weight=0.0, gram_weight=0.0),
    features=("cos",),
    weights=(1.0,),
    bias=-0.225,
    sparse_bias=-0.225,
    late_join=0,
    merge_threshold=2.0,
    settle_passes=0,
    dense=False,
)

Item = tuple[str, str]  # (headline, story)


def load(split: str) -> list[Item]:
    splits = {}
    with open(GNEWS / "split.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            splits[(row["section"], row["group"])] = row["split"]
    items = []
    with open(GNEWS / "categories.csv", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            section, group, headline = line.rstrip("\n").split("\t")
            if splits[(section, group)] == split:
                items.append((headline.strip(), f"{section}/{group}"))
    return items


def one_day_stream() -> list[tuple[str, datetime, str]]:
    """(headline, time, silver id) in time order."""
    with open(GNEWS / "one_day_stream.csv", encoding="utf-8") as f:
        rows = [(r[0], datetime.fromisoformat(r[1]), r[2]) for r in csv.reader(f)]
    rows.sort(key=lambda r: r[1])
    return rows


def distractors(n: int, seed: int) -> list[Item]:
    """N distinct stream headlines, accents stripped like gnews-fr's, each its own story."""
    seen: set[str] = set()
    pool = []
    for headline, _, silver in one_day_stream():
        headline = strip_accents(headline).replace("\xa0", " ")
        if headline not in seen:
            seen.add(headline)
            pool.append((headline, "distractor:" + silver))
    random.Random(1000 + seed).shuffle(pool)
    return pool[:n]


def bcubed(predicted: Sequence[int], gold: Sequence[str], scored: int) -> tuple[float, ...]:
    """BCubed P, R, F1 over the first `scored` items (later items are distractors)."""
    clusters: dict[int, set[int]] = defaultdict(set)
    classes: dict[str, set[int]] = defaultdict(set)
    for i, c in enumerate(predicted):
        clusters[c].add(i)
    for i, g in enumerate(gold):
        classes[g].add(i)
    p = r = 0.0
    for i in range(scored):
        both = len(clusters[predicted[i]] & classes[gold[i]])
        p += both / len(clusters[predicted[i]])
        r += both / len(classes[gold[i]])
    p, r = p / scored, r / scored
    return p, r, 2 * p * r / (p + r)


def order(n: int, seed: int) -> list[int]:
    ids = list(range(n))
    random.Random(seed).shuffle(ids)
    return ids


_DENSE: dict[str, np.ndarray] = {}


def dense_vectors(headlines: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The encoder's vectors of the headlines, in one batch (cached across streams); None
    without an encoder. Printed speeds leave this out: see ``--encode``."""
    encoder = encoders.load()
    if encoder is None:
        return None
    missing = sorted({h for h in headlines if h not in _DENSE})
    if missing:
        _DENSE.update(zip(missing, encoder.encode(missing), strict=True))
    return _DENSE


def run_stream(
    items: list[Item],
    settings: ClusterSettings,
    seed: int,
    n_distractors: int = 0,
    make: Callable[[ClusterSettings], StoryClusterer] = StoryClusterer,
) -> tuple[tuple[float, ...], float]:
    stream = items + (distractors(n_distractors, seed) if n_distractors else [])
    dense = dense_vectors([h for h, _ in stream]) if settings.dense else None
    clusterer = make(settings)
    predicted = [0] * len(stream)
    start = time.perf_counter()
    for i in order(len(stream), seed):
        vector = dense[stream[i][0]] if dense is not None else None
        doc = ClusterDoc(id=i, title=stream[i][0], language="fr", dense=vector)
        predicted[i] = clusterer.add(doc)
    # The stream is one run's batch: the pipeline settles the stories once it is in (the
    # baseline, with settle_passes=0, does not).
    clusterer.settle()
    elapsed = time.perf_counter() - start
    # Merges and settling move articles: score the stories as they are at the end.
    predicted = [clusterer.story_of(i) or 0 for i in range(len(stream))]
    return bcubed(predicted, [g for _, g in stream], len(items)), len(stream) / elapsed


def evaluate(
    items: list[Item], settings: ClusterSettings, seeds: Sequence[int], n_distractors: int = 0
) -> tuple[list[float], list[float], float]:
    """Mean and sd of (P, R, F1) over seeds, and articles per second."""
    results, speeds = [], []
    for seed in seeds:
        scores, speed = run_stream(items, settings, seed, n_distractors)
        results.append(scores)
        speeds.append(speed)
    means = [statistics.fmean(r[k] for r in results) for k in range(3)]
    sds = [statistics.stdev(r[k] for r in results) if len(results) > 1 else 0.0 for k in range(3)]
    return means, sds, statistics.fmean(speeds)


def report(label: str, means: list[float], sds: list[float], speed: float) -> None:
    p, r, f = (f"{m:.3f} ± {s:.3f}" for m, s in zip(means, sds, strict=True))
    print(f"{label}: BCubed P {p}  R {r}  F1 {f}  ({speed:,.0f} articles/s)", flush=True)


# -- learning ----------------------------------------------------------------------------


def pairs(
    items: list[Item], settings: ClusterSettings, seeds: Sequence[int], n_distractors: int
) -> tuple[np.ndarray, np.ndarray]:
    """(headline, candidate story) feature rows from the clusterer's own streams.

    The clusterer decides as it would at run time (learning on the stories it really builds,
    errors included, not on perfect ones); a candidate is right when most of its headlines
    are of the headline's story."""
    names = learned.ALL_FEATURES
    rows, labels = [], []
    for seed in seeds:
        stream = items + distractors(n_distractors, seed)
        clusterer = StoryClusterer(settings)
        for i in order(len(stream), seed):
            doc = clusterer.prepare(ClusterDoc(id=i, title=stream[i][0], language="fr"))
            found = clusterer.candidates(doc, every_feature=True)
            if i < len(items):
                for cand in found:
                    members = clusterer.stories[cand.story].members
                    top = Counter(stream[m][1] for m in members).most_common(1)[0][0]
                    rows.append([cand.features[f] for f in names])
                    labels.append(top == stream[i][1])
            best = clusterer.decide(found)
            clusterer._join(doc, best.story if best else None)
    return np.array(rows), np.array(labels, dtype=float)


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Logistic regression by Newton's method; returns [bias, weights...]."""
    x = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x.shape[1])
    ridge = l2 * np.eye(x.shape[1])
    ridge[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) / len(y) + ridge @ w
        hess = (x.T * (p * (1 - p))) @ x / len(y) + ridge
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def best_bias(
    items: list[Item],
    settings: ClusterSettings,
    biases: Sequence[float],
    seeds: Sequence[int],
    n: int,
) -> tuple[float, float]:
    best = (float("nan"), -1.0)
    for bias in biases:
        f1 = evaluate(items, replace(settings, bias=bias), seeds, n)[0][2]
        if f1 > best[1]:
            best = (bias, f1)
    return best


def learn(seeds: Sequence[int], n: int) -> None:
    dev = load("dev")
    print(f"learning on dev: {len(dev)} headlines + {n} distractors, seeds {list(seeds)}")
    base = ClusterSettings(features=("cos",), weights=(1.0,))
    biases = [-0.2, -0.225, -0.25]
    # 1. Vector weights, one at a time around the current values, cosine model.
    weighting = base.weighting
    for name, values in [
        ("name_weight", [0.0, 0.5, 0.75]),
        ("number_weight", [0.0, 1.0]),
        ("gram_weight", [0.0, 0.3]),
    ]:
        scores = {}
        for value in values:
            trial = replace(base, weighting=replace(weighting, **{name: value}))
            scores[value] = best_bias(dev, trial, biases, seeds, n)
        pick = max(scores, key=lambda v: scores[v][1])
        print(
            f"  {name}: "
            + ", ".join(f"{v} -> F1 {f:.3f} (bias {b})" for v, (b, f) in scores.items())
        )
        weighting = replace(weighting, **{name: pick})
    base = replace(base, weighting=weighting)
    bias, f1 = best_bias(dev, base, [-0.2, -0.2125, -0.225, -0.2375, -0.25, -0.275], seeds, n)
    print(f"cosine alone: bias {bias}, dev F1 {f1:.3f}")
    # 2. Each other feature next to the cosine: logistic regression on pairs from
    # streams the clusterer itself built (other seeds than the evaluation's).
    x, y = pairs(dev, replace(base, bias=bias), [s + 100 for s in seeds[:5]], n)
    names = learned.ALL_FEATURES
    print(f"{len(y)} pairs, {y.mean():.1%} right")
    for extra in [(), *[(f,) for f in names[1:]], names[1:]]:
        cols = ["cos", *extra]
        w = logistic(x[:, [names.index(c) for c in cols]], y)
        # In the clusterer's form: cosine weight 1, the rest relative to it, bias tuned.
        weights = tuple(float(v / w[1]) for v in w[1:])
        trial = replace(base, features=tuple(cols), weights=weights)
        # Thresholds on the model's probability, so every feature set gets a fair range.
        probabilities = (0.05, 0.1, 0.2, 0.3, 0.5)
        biases = [(w[0] - math.log(p / (1 - p))) / w[1] for p in probabilities]
        b, f = best_bias(dev, trial, biases, seeds, n)
        shown = ", ".join(f"{c} {v:+.3f}" for c, v in zip(cols, weights, strict=True))
        print(f"  {' + '.join(cols):40s} F1 {f:.3f} ({f - f1:+.3f})  weights {shown}, bias {b:.3f}")
    print(
        "model.py keeps a feature only if it gains more than the seeds' noise; vectors.Weighting:"
        f" name_weight={weighting.name_weight}, number_weight={weighting.number_weight},"
        f" gram_weight={weighting.gram_weight}; model.BIAS={bias}"
    )


# -- speed --------------------------------------------------------------------------------


def speed(total: int, marks: Sequence[int] = (10_000, 30_000, 100_000)) -> None:
    rows = one_day_stream()
    clusterer = StoryClusterer()
    start = time.perf_counter()
    marks = sorted({m for m in marks if m <= total} | {total})
    done = 0
    passes = math.ceil(total / len(rows))
    # Each pass is moved past the window, so it cannot join the last pass's stories (the
    # same headlines would, and one day's stories would grow forever): a new day's news.
    gap = timedelta(days=math.ceil(clusterer.settings.window_days) + 1)
    for p in range(passes):
        shift = gap * p
        for headline, when, _ in rows:
            if done == total:
                break
            clusterer.add(
                ClusterDoc(id=done, title=headline, published=when + shift, language="fr")
            )
            done += 1
            if done in marks:
                elapsed = time.perf_counter() - start
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(
                    f"{done:>7,} articles: {elapsed:7.1f} s ({done / elapsed:,.0f}/s), "
                    f"peak RSS {peak:,.0f} MiB, {len(clusterer.stories):,} stories and "
                    f"{len(clusterer.docs):,} articles in memory",
                    flush=True,
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--seeds", type=int, default=5, help="streams (shuffles) to average")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--distractors", type=int, default=0)
    parser.add_argument("--baseline", action="store_true", help="also run the plain baseline")
    parser.add_argument("--learn", action="store_true", help="re-learn the weights on dev")
    parser.add_argument("--speed", type=int, metavar="N", help="speed and memory on N articles")
    args = parser.parse_args(argv)
    if not GNEWS.exists():
        print(f"{GNEWS} is absent (set VEILLE_SHARED)", file=sys.stderr)
        return 2
    seeds = range(args.seed, args.seed + args.seeds)
    if args.speed:
        speed(args.speed)
        return 0
    if args.learn:
        learn(range(args.seed, args.seed + max(args.seeds, 10)), args.distractors or 600)
        return 0
    items = load(args.split)
    label = f"{args.split} ({len(items)} headlines, {len({g for _, g in items})} stories"
    label += f", +{args.distractors} distractors)" if args.distractors else ")"
    print(label)
    if args.baseline:
        report("baseline TF-IDF centroid", *evaluate(items, BASELINE, seeds, args.distractors))
    report("veille.cluster          ", *evaluate(items, ClusterSettings(), seeds, args.distractors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
