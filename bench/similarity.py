"""Story-similarity benchmark: `veille.similarity` vs plain TF-IDF cosine on SemEval-2022 task 8.

Data: ``shared/datasets/similarity/semeval2022-task8/`` (``training_set.csv`` is the dev
split, ``testing_set.csv`` the test split; 1,283 multilingual article pairs each, scored 1
"very similar" to 4 "very dissimilar"). Metrics per language pair, then pooled over the
monolingual pairs and over all pairs: Pearson correlation with −Overall, AUC and best-threshold
F1 of "same story" (Overall ≤ 2).

Texts are "title\\nbody" or "title  body" (or no title at all): the title is cut at the
first line break or double space in the first 400 characters. Languages come from the
``lang1``/``lang2`` columns. Each scorer gets its idf from the articles of the split it
scores (no labels), as veille would from its store.

Columns:

* ``tfidf``: the baseline — lower-cased ``\\w\\w+`` tokens, raw counts, smoothed idf, cosine;
* ``veille``: `veille.similarity.score` on text alone (the dataset has no dates);
* ``+days`` (``--days``): the same with publication dates approximated from the pair ids,
  which are crawl-ordered story ids (about 0.9 M a day in the first half of 2020, checked
  against dates written in the texts): how much the time gap adds when dates are known;
* ``+dense``: the same with the dense encoder's cosine (``--encoder use|e5``, default
  ``use``; ``none`` leaves the column out), and ``dense``: that cosine alone. The encoder's
  cost per article is printed.

``--learn`` fits `veille.similarity.WEIGHTS` on the dev split (never on test) and prints
them with 5-fold cross-validated figures; paste the dict into the module.

Data are read at run time from ``<repo>/../shared`` (``--shared`` or ``$VEILLE_SHARED``).

Usage: ``python bench/similarity.py [--split dev|test] [--days] [--learn] [--no-idf]
[--encoder use|e5|none]``
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from veille import encoder as encoders
from veille import similarity as sim
from veille.cluster.vectors import dot, unit

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
FILES = {"dev": "training_set.csv", "test": "testing_set.csv"}

# Story ids grow with crawl time: id 1,484,000,000 is about 2020-01-01, then ~0.9 M a day.
ID_EPOCH, ID_ORIGIN, IDS_PER_DAY = datetime(2020, 1, 1, tzinfo=UTC), 1_484_000_000, 900_000


@dataclass(frozen=True)
class Pair:
    pair_id: str
    a: sim.ArticleText
    b: sim.ArticleText
    overall: float  # 1 same story ... 4 unrelated

    @property
    def languages(self) -> str:
        return f"{self.a.language}-{self.b.language}"

    @property
    def monolingual(self) -> bool:
        return self.a.language == self.b.language


# --------------------------------------------------------------------------- data


def dataset_dir(shared: str | None) -> Path:
    root = Path(shared or os.environ.get("VEILLE_SHARED") or DEFAULT_SHARED)
    folder = root / "datasets" / "similarity" / "semeval2022-task8"
    if not (folder / FILES["dev"]).is_file():
        print(
            f"similarity data not found in {folder}: put the shared folder beside the "
            "repository or pass --shared / set VEILLE_SHARED",
            file=sys.stderr,
        )
        sys.exit(2)
    return folder


def split_title(text: str) -> tuple[str, str]:
    text = text.strip()
    cut = re.search(r"\n|  ", text[:400])
    if cut:
        return text[: cut.start()].strip(), text[cut.end() :].strip()
    return "", text


def published(story_id: str) -> datetime:
    number = int(re.match(r"\d+", story_id).group())  # type: ignore[union-attr]
    return ID_EPOCH + timedelta(days=(number - ID_ORIGIN) / IDS_PER_DAY)


def load(folder: Path, split: str, days: bool) -> list[Pair]:
    csv.field_size_limit(sys.maxsize)  # full article texts exceed the 128 KB default
    pairs = []
    with open(folder / FILES[split], newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ids = row["pair_id"].split("_")
            a, b = (
                sim.ArticleText(
                    *split_title(row[f"text{i}"]),
                    language=row[f"lang{i}"],
                    published=published(ids[i - 1]) if days else None,
                )
                for i in (1, 2)
            )
            pairs.append(Pair(row["pair_id"], a, b, float(row["Overall"])))
    return pairs


# --------------------------------------------------------------------------- scorers

_PLAIN_TOKEN = re.compile(r"\b\w\w+\b")


def tfidf_baseline(pairs: Sequence[Pair]) -> list[float]:
    """Plain TF-IDF cosine, idf from the split's own texts (scikit-learn's defaults)."""
    docs = [
        [_PLAIN_TOKEN.findall(f"{x.title}\n{x.text}".lower()) for x in (p.a, p.b)] for p in pairs
    ]
    df: Counter[str] = Counter()
    for doc in (d for two in docs for d in two):
        df.update(set(doc))
    n = 2 * len(docs)
    idf = {t: math.log((1 + n) / (1 + k)) + 1 for t, k in df.items()}

    def vector(doc: list[str]) -> dict[str, float]:
        return unit({t: c * idf[t] for t, c in Counter(doc).items()})

    return [dot(vector(a), vector(b)) for a, b in docs]


def profiles(
    pairs: Sequence[Pair], fit: bool, encoder: encoders.Encoder | None = None
) -> list[tuple[sim.Profile, sim.Profile]]:
    articles = [x for p in pairs for x in (p.a, p.b)]
    if fit:
        made = sim.Vectorizer(encoder=encoder).fit_profiles(articles)
    else:
        vectorizer = sim.Vectorizer(encoder=encoder)
        made = [vectorizer.profile(x) for x in articles]
    return list(zip(made[::2], made[1::2], strict=True))


# --------------------------------------------------------------------------- metrics


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    try:
        return statistics.correlation(x, y)
    except statistics.StatisticsError:  # fewer than two points or a constant
        return math.nan


def auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Probability a same-story pair outscores another pair (ties count half)."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    n_pos = sum(positive)
    n_neg = len(positive) - n_pos
    if not n_pos or not n_neg:
        return math.nan
    rank_sum = sum(r for r, p in zip(ranks, positive, strict=True) if p)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def best_f1(scores: Sequence[float], positive: Sequence[bool]) -> float:
    ranked = sorted(zip(scores, positive, strict=True), key=lambda sp: -sp[0])
    total = sum(positive)
    best = tp = 0.0
    for i, (s, p) in enumerate(ranked, 1):
        tp += p
        if i == len(ranked) or ranked[i][0] != s:  # threshold between distinct scores
            best = max(best, 2 * tp / (i + total)) if total else best
    return best


def groups(pairs: Sequence[Pair]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        found[p.languages].append(i)
    ordered = dict(sorted(found.items(), key=lambda kv: (kv[0][:2] != kv[0][3:], kv[0])))
    ordered["monolingual"] = [i for i, p in enumerate(pairs) if p.monolingual]
    ordered["all"] = list(range(len(pairs)))
    return ordered


def report(pairs: Sequence[Pair], columns: dict[str, list[float]]) -> None:
    names = list(columns)
    head = f"{'pairs':12} {'n':>5}  " + "  ".join(f"{n:>20}" for n in names)
    print(head)
    print(f"{'':12} {'':>5}  " + "  ".join(f"{'Pearson  AUC    F1':>20}" for _ in names))
    for group, index in groups(pairs).items():
        if group == "monolingual":
            print("-" * len(head))
        y = [-pairs[i].overall for i in index]
        same = [pairs[i].overall <= 2 for i in index]
        cells = []
        for name in names:
            s = [columns[name][i] for i in index]
            cells.append(f"{pearson(s, y):7.3f} {auc(s, same):6.3f} {best_f1(s, same):5.3f}")
        print(f"{group:12} {len(index):5}  " + "  ".join(f"{c:>20}" for c in cells))


# --------------------------------------------------------------------------- learning


def fit_logistic(rows: list[list[float]], targets: list[float], l2: float = 0.01) -> list[float]:
    """Fractional logistic regression by Newton's method; the last column is the bias."""
    import numpy as np  # numpy comes with datasketch; only learning needs it

    x, t = np.array(rows), np.array(targets)
    w = np.zeros(x.shape[1])
    penalty = np.diag([l2] * (x.shape[1] - 1) + [0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - t) + penalty @ w
        hess = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return [float(v) for v in w]


def design(feats: dict[str, float], keys: Sequence[str]) -> list[float]:
    return [feats[k] for k in keys] + [1.0]


def learn(pairs: Sequence[Pair], made: list[tuple[sim.Profile, sim.Profile]]) -> dict:
    weights: dict[str, dict[str, float]] = {}
    feats = [sim.features(a, b) for a, b in made]
    dated = all("days" in f for f in feats)
    dense = all("dense" in f for f in feats)
    for base in ("same", "same+days", "cross", "cross+days"):
        for case in (base, base + "+dense"):
            if ("+days" in case and not dated) or ("+dense" in case and not dense):
                continue
            kind = case.split("+")[0]
            keys = list(sim.FEATURES[kind]) + [k for k in ("days", "dense") if "+" + k in case]
            weights[case] = _fit_case(pairs, feats, kind, keys)
    return weights


def _fit_case(
    pairs: Sequence[Pair], feats: list[dict[str, float]], kind: str, keys: list[str]
) -> dict[str, float]:
    index = [i for i, p in enumerate(pairs) if p.monolingual == (kind == "same")]
    rows = [design(feats[i], keys) for i in index]
    w = fit_logistic(rows, [(4 - pairs[i].overall) / 3 for i in index])
    return {"bias": round(w[-1], 3)} | {k: round(v, 3) for k, v in zip(keys, w[:-1], strict=True)}


def cross_validate(
    pairs: Sequence[Pair], made: list[tuple[sim.Profile, sim.Profile]], folds: int = 5
) -> list[float]:
    """Out-of-fold scores: each pair scored by weights learned without it."""
    rng = random.Random(0)
    fold = [rng.randrange(folds) for _ in pairs]
    out = [0.0] * len(pairs)
    for k in range(folds):
        train = [i for i in range(len(pairs)) if fold[i] != k]
        w = learn([pairs[i] for i in train], [made[i] for i in train])
        for i in range(len(pairs)):
            if fold[i] == k:
                out[i] = sim.score(*made[i], weights=w)
    return out


def print_weights(weights: dict[str, dict[str, float]]) -> None:
    print("WEIGHTS: dict[str, dict[str, float]] = {")
    for case, w in weights.items():
        inner = ", ".join(f'"{k}": {v}' for k, v in w.items())
        print(f'    "{case}": {{{inner}}},')
    print("}")


# --------------------------------------------------------------------------- main


def timed(fn: Callable[[], list]) -> tuple[list, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--days", action="store_true", help="add dates from the story ids")
    parser.add_argument("--learn", action="store_true", help="fit WEIGHTS on dev and print")
    parser.add_argument("--no-idf", action="store_true", help="score without a background")
    parser.add_argument("--shared", help="the shared folder (default ../shared)")
    parser.add_argument("--encoder", default="use", help="dense encoder: use, e5 or none")
    args = parser.parse_args(argv)
    folder = dataset_dir(args.shared)
    encoder = encoders.load(args.encoder)
    if encoder is None and args.encoder not in {"none", "off"}:
        print(f"encoder {args.encoder!r} is not installed: sparse columns only", file=sys.stderr)

    if args.learn:
        pairs = load(folder, "dev", days=True)
        made = profiles(pairs, fit=True, encoder=encoder)
        weights = learn(pairs, made)
        print("# learned on the dev split (training_set.csv), text and approximate dates")
        print_weights(weights)
        print("\n5-fold cross-validation on dev (with dates; text only; each without dense):")
        undated = [(_undate(a), _undate(b)) for a, b in made]
        report(
            pairs,
            {
                "veille cv +days": cross_validate(pairs, made),
                "veille cv": cross_validate(pairs, undated),
                "veille cv sparse": cross_validate(
                    pairs, [(_sparse(a), _sparse(b)) for a, b in undated]
                ),
            },
        )
        return 0

    pairs = load(folder, args.split, days=args.days)
    baseline, _ = timed(lambda: tfidf_baseline(pairs))
    made, profile_seconds = timed(lambda: profiles(pairs, fit=not args.no_idf))
    undated = [(_undate(a), _undate(b)) for a, b in made]
    ours, score_seconds = timed(lambda: [sim.score(a, b) for a, b in undated])
    columns = {"tfidf": baseline, "veille": ours}
    if args.days:
        columns["veille +days"] = [sim.score(a, b) for a, b in made]
    encode_seconds = 0.0
    if encoder is not None:
        articles = [x for p in pairs for x in (p.a, p.b)]
        texts = [encoders.article_text(sim.repair(x.title), sim.repair(x.text)) for x in articles]
        vectors, encode_seconds = timed(lambda: list(encoder.encode(texts)))
        dense = [
            (_with(a, vectors[2 * i]), _with(b, vectors[2 * i + 1]))
            for i, (a, b) in enumerate(undated)
        ]
        columns["veille +dense"] = [sim.score(a, b) for a, b in dense]
        columns["dense"] = [float(a.dense @ b.dense) for a, b in dense]
    print(f"SemEval-2022 task 8, {args.split} split ({FILES[args.split]}), {len(pairs)} pairs")
    report(pairs, columns)
    n = len(pairs)
    print(
        f"\nspeed: {2 * n / profile_seconds:,.0f} articles/s profiled (repair, tokens, idf fit), "
        f"{n / score_seconds:,.0f} pairs/s scored from profiles, "
        f"{n / (profile_seconds + score_seconds):,.0f} pairs/s end to end"
    )
    if encoder is not None:
        print(
            f"encoder {encoder.name}: {1000 * encode_seconds / (2 * n):.1f} ms per article "
            f"({encoders.TEXT_CHARS} characters at most, one batch, this machine's load)"
        )
    return 0


def _with(profile: sim.Profile, dense: object) -> sim.Profile:
    return sim.Profile(**{**profile.__dict__, "dense": dense})


def _sparse(profile: sim.Profile) -> sim.Profile:
    return _with(profile, None)


def _undate(profile: sim.Profile) -> sim.Profile:
    return sim.Profile(**{**profile.__dict__, "published": None})


if __name__ == "__main__":
    sys.exit(main())
