"""Near-duplicate benchmark: synthetic syndication of OrangeSum articles through dedup.

Each of N originals from ``summarization/orangesum/<split>.jsonl`` gets 1-3 copies made of
a mixture of what syndication does to a wire story:

* ``truncate``: only the first 30-80 % of the words (a teaser, a paywalled excerpt);
* ``lead`` / ``closing``: a sentence added before or after: an agency credit line,
  "Cet article a été mis à jour...", a "Lire aussi" line or a sentence of another article;
* ``edit``: 5-15 % of the words substituted (by words of the corpus), deleted or inserted;
* ``verbatim``: the same text (exact duplicate, under a new title);
* every copy gets a new title (another of the article's summaries).

The rest of the split goes in as distractors, and every article keeps the corpus' own
"hard negatives": OrangeSum has many articles on one event (the same trial, the same
quote), which must not be linked. The bench counts the pairs of different articles whose
TF-IDF cosine is at least 0.3 and reports how many of them were linked.

Everything is fed as one shuffled stream into ``NearDuplicateIndex.add``; a predicted link
copy -> original is correct when both belong to the same copy group (the stream is
shuffled, so a copy may come before its original and be the one linked to). Recall counts,
for each group, the members after the first that were linked into the group.

Data are read at run time from ``<repo>/../shared/datasets/summarization/orangesum``
(``$VEILLE_SHARED`` overrides the ``shared`` directory) and never copied into the repository.

Usage: ``python bench/dedup.py [--split dev|test] [--originals N] [--seed S]
[--jaccard J] [--containment C] [--shingle-k K] [--no-stopwords]``; thresholds were tuned
on ``--split dev`` (seeds 13-15), ``test`` is the figure to report.
``python bench/dedup.py --scale 100000`` streams 100,000 articles through one index
(items/s as it grows, memory, rebuild from stored signatures, ``to_bytes``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from veille import dedup
from veille.text import terms

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VEILLE_SHARED", REPO_ROOT.parent / "shared"))
DATA = SHARED / "datasets" / "summarization" / "orangesum"

KINDS = ("verbatim", "truncate", "lead", "closing", "edit")

_AGENCY_LEADS = (
    "PARIS (AFP) - ",
    "(AFP) - ",
    "Paris, 3 février (Reuters) - ",
    "(Reuters) - ",
    "GENÈVE (ATS) - ",
    "BRUXELLES (Belga) - ",
    "La rédaction, avec AFP. ",
)
_CLOSINGS = (
    "Cet article a été mis à jour le 3 février à 18h12.",
    "Avec AFP.",
    "(Avec Reuters)",
    "© Agence France-Presse",
    "Cet article a été publié initialement sur notre site partenaire.",
    "(Rédigé par la rédaction, édité par le service France)",
)
_SENTENCE = re.compile(r"(?<=[.!?»\"])\s*(?=[A-ZÀÂÉÈÊÎÔÛ«\"])")


@dataclass
class Item:
    key: int
    group: int  # the article the text comes from: copies share their original's group
    text: str
    title: str
    kinds: tuple[str, ...] = ()  # empty for an original


@dataclass
class Corpus:
    items: list[Item] = field(default_factory=list)
    hard_pairs: set[tuple[int, int]] = field(default_factory=set)  # groups, cosine >= 0.3


def load(split: str) -> list[dict]:
    path = DATA / f"{split}.jsonl"
    if not path.exists():
        print(
            f"bench/dedup.py: {path} is absent. The bench reads the project's shared data "
            "beside the repository (set VEILLE_SHARED to the shared folder).",
            file=sys.stderr,
        )
        sys.exit(2)
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.split()) >= 6]


def edit_words(words: list[str], rate: float, vocab: list[str], rng: random.Random) -> list[str]:
    """Substitute, delete or insert about `rate` of the words (60/20/20)."""
    out: list[str] = []
    for word in words:
        if rng.random() >= rate:
            out.append(word)
            continue
        op = rng.random()
        if op < 0.6:
            out.append(rng.choice(vocab))
        elif op < 0.8:
            continue
        else:
            out.extend((word, rng.choice(vocab)))
    return out


def make_copy(
    text: str,
    kinds: Iterable[str],
    *,
    vocab: list[str],
    other_sentences: list[str],
    rng: random.Random,
) -> str:
    words = text.split()
    kinds = set(kinds)
    if "truncate" in kinds:
        keep = max(40, round(len(words) * rng.uniform(0.3, 0.8)))
        words = words[:keep]
        if rng.random() < 0.5:
            words.append("[…]")
    if "edit" in kinds:
        words = edit_words(words, rng.uniform(0.05, 0.15), vocab, rng)
    body = " ".join(words)
    if "lead" in kinds:
        if rng.random() < 0.5:
            body = rng.choice(_AGENCY_LEADS) + body
        else:
            body = rng.choice(other_sentences) + " " + body
    if "closing" in kinds:
        r = rng.random()
        if r < 0.5:
            body = body + "\n" + rng.choice(_CLOSINGS)
        elif r < 0.7:
            body = body + "\nLire aussi : " + rng.choice(other_sentences)
        else:
            body = body + " " + rng.choice(other_sentences)
    return body


def draw_kinds(rng: random.Random) -> tuple[str, ...]:
    if rng.random() < 0.05:
        return ("verbatim",)
    kinds = [
        kind
        for kind, p in (("truncate", 0.35), ("lead", 0.35), ("closing", 0.35), ("edit", 0.75))
        if rng.random() < p
    ]
    return tuple(kinds) or (rng.choice(("truncate", "lead", "closing", "edit")),)


def tfidf_hard_pairs(texts: list[str], threshold: float = 0.3) -> set[tuple[int, int]]:
    """Pairs of different articles on the same subject: TF-IDF cosine over stems."""
    docs = [Counter(terms(t)) for t in texts]
    df = Counter(term for doc in docs for term in doc)
    n = len(docs)
    vectors = []
    for doc in docs:
        vec = {t: (1 + math.log(c)) * math.log(n / df[t]) for t, c in doc.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({t: v / norm for t, v in vec.items()})
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, vec in enumerate(vectors):
        for t, v in vec.items():
            postings[t].append((i, v))
    pairs = set()
    for i, vec in enumerate(vectors):
        scores: dict[int, float] = defaultdict(float)
        for t, v in vec.items():
            for j, w in postings[t]:
                if j > i:
                    scores[j] += v * w
        pairs.update((i, j) for j, s in scores.items() if s >= threshold)
    return pairs


def build(split: str, originals: int, seed: int) -> Corpus:
    rows = load(split)
    rng = random.Random(seed)
    texts = [r["article"] for r in rows]
    vocab = sorted({w for t in texts for w in t.split() if w.isalpha() and len(w) > 2})
    pool = [s for t in texts for s in sentences(t)]
    order = list(range(len(rows)))
    rng.shuffle(order)
    chosen = set(order[: min(originals, len(rows))])
    corpus = Corpus(hard_pairs=tfidf_hard_pairs(texts))
    key = 0
    for i, row in enumerate(rows):
        corpus.items.append(Item(key, i, row["article"], row["abstract"]))
        key += 1
        if i not in chosen:
            continue
        titles = [row.get("barthez") or "", row.get("mbarthez") or "", row["abstract"]]
        for _ in range(rng.randint(1, 3)):
            kinds = draw_kinds(rng)
            others = [s for s in rng.sample(pool, 8) if s not in row["article"]]
            text = (
                row["article"]
                if kinds == ("verbatim",)
                else make_copy(row["article"], kinds, vocab=vocab, other_sentences=others, rng=rng)
            )
            corpus.items.append(Item(key, i, text, rng.choice(titles), kinds))
            key += 1
    rng.shuffle(corpus.items)
    return corpus


@dataclass
class Scores:
    links: int = 0
    correct: int = 0
    expected: int = 0
    found: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_reason: Counter = field(default_factory=Counter)
    wrong_reason: Counter = field(default_factory=Counter)
    hard_linked: int = 0
    wrong: list[tuple[Item, Item, dedup.Match]] = field(default_factory=list)
    missed: list[Item] = field(default_factory=list)


def evaluate(corpus: Corpus, index: dedup.NearDuplicateIndex) -> tuple[Scores, Scores, float]:
    """Scores of the links as `add` returned them, and of the final groups (after later
    articles merged groups: `Match.merged`), and the seconds spent in `add`."""
    by_key = {item.key: item for item in corpus.items}
    start = time.perf_counter()
    results = [(item, index.add(item.key, item.text, title=item.title)) for item in corpus.items]
    seconds = time.perf_counter() - start
    at_once, final = Scores(), Scores()
    seen_groups: set[int] = set()
    for item, match in results:
        first = item.group not in seen_groups
        seen_groups.add(item.group)
        _score(at_once, corpus, item, by_key[match.original] if match else None, match, first)
    roots = {item.key: index.original_of(item.key) for item in corpus.items}
    # Finally, one article per group stands alone: the one all others link to.
    first_of = {}
    for item in corpus.items:
        if roots[item.key] == item.key:
            first_of.setdefault(item.group, item.key)
    for item in corpus.items:
        root = roots[item.key]
        other = by_key[root] if root != item.key else None
        match = next((m for i, m in results if i is item), None) if other else None
        _score(final, corpus, item, other, match, first_of.get(item.group) == item.key)
    return at_once, final, seconds


def _score(
    scores: Scores,
    corpus: Corpus,
    item: Item,
    other: Item | None,
    match: dedup.Match | None,
    first: bool,
) -> None:
    good = False
    if other is not None:
        reason = match.reason if match else "merged"
        scores.links += 1
        scores.by_reason[reason] += 1
        good = other.group == item.group
        if good:
            scores.correct += 1
        else:
            scores.wrong_reason[reason] += 1
            scores.wrong.append((item, other, match))
            if tuple(sorted((item.group, other.group))) in corpus.hard_pairs:
                scores.hard_linked += 1
    if not first:
        scores.expected += 1
        scores.found += good
        if not good:
            scores.missed.append(item)
        # A copy seen first stands for the group; the original seen later is a "copy".
        for kind in item.kinds or ("original",):
            scores.by_kind[kind][0] += 1
            scores.by_kind[kind][1] += good


def signature_speed(texts: list[str], params: dedup.Params) -> dict[str, float]:
    """Per second: whole signatures, and the MinHash step alone, ours vs datasketch's."""
    from datasketch import MinHash

    rates = {}
    start = time.perf_counter()
    for text in texts:
        dedup.signature(text, params)
    rates["signatures (words, shingles, MinHash, credit lines, exact key)"] = (
        time.perf_counter() - start
    )
    start = time.perf_counter()
    hashes = [np.unique(dedup.shingle_hashes(text, params)) for text in texts]
    rates["shingle sets (words + hashing)"] = time.perf_counter() - start
    start = time.perf_counter()
    for h in hashes:
        dedup.minhash(h, params.num_perm)
    rates["MinHash of a shingle set: veille (NumPy, vectorised)"] = time.perf_counter() - start
    start = time.perf_counter()
    theirs = []
    for h in hashes:
        m = MinHash(params.num_perm, hashfunc=int)  # default seed 1, scheme "affine32"
        m.update_batch(h.tolist())
        theirs.append(m.hashvalues)
    rates["MinHash of a shingle set: datasketch update_batch"] = time.perf_counter() - start
    # Same permutations, same hashing: the signatures are datasketch's, bit for bit.
    pairs = zip(hashes, theirs, strict=True)
    same = all((dedup.minhash(h, params.num_perm) == t).all() for h, t in pairs)
    print(f"signatures identical to datasketch MinHash: {same}")
    return {name: len(texts) / seconds for name, seconds in rates.items()}


def scale(n: int, seed: int, params: dedup.Params) -> None:
    """Stream `n` articles through one index: time per article as it grows, and memory.

    The articles are OrangeSum texts (both splits) with half their words replaced by
    words drawn from the corpus' own word frequencies: distinct articles with the
    statistics of news, each of ~1,500 templates giving a cluster of same-topic texts
    (the LSH's worst case); one in 20 is a light copy (5 % edits) of an earlier one.
    Then the index is rebuilt from the stored signatures, as at start-up.
    """
    import resource

    rng = random.Random(seed)
    texts = [row["article"] for split in ("dev", "test") for row in load(split)]
    vocab = [w for t in texts for w in t.split()]  # with repeats: frequencies kept
    index = dedup.NearDuplicateIndex(params)
    made: list[str] = []
    signatures: list[bytes] = []
    start = time.perf_counter()
    links, adding, added = 0, 0.0, 0.0
    step = max(n // 10, 1)
    for key in range(n):
        if made and rng.random() < 0.05:
            text = " ".join(edit_words(rng.choice(made).split(), 0.05, vocab, rng))
        else:
            words = rng.choice(texts).split()
            text = " ".join(w if rng.random() < 0.5 else rng.choice(vocab) for w in words)
        if len(made) < 5000:
            made.append(text)
        else:
            made[rng.randrange(5000)] = text
        began = time.perf_counter()
        links += index.add(key, text) is not None
        adding += time.perf_counter() - began
        if key < 20000:
            signatures.append(dedup.signature(text, params))
        if (key + 1) % step == 0:
            print(
                f"  {key + 1:>7,} articles: {step / (adding - added):,.0f} items/s in add(), "
                f"index {index.memory_bytes() / 2**20:,.0f} MiB "
                f"({index.memory_bytes() / (key + 1):,.0f} bytes/article), links {links:,}",
                flush=True,
            )
            added = adding
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"scale: {n:,} articles, {adding:.1f} s in add() ({n / adding:,.0f} items/s), "
        f"{time.perf_counter() - start:.1f} s with making them; max RSS {rss:,.0f} MiB"
    )
    size = sum(map(len, signatures)) / len(signatures)
    start = time.perf_counter()
    dedup.NearDuplicateIndex.from_signatures(enumerate(signatures), params)
    seconds = time.perf_counter() - start
    print(
        f"rebuild from {len(signatures):,} stored signatures ({size:,.0f} bytes each): "
        f"{seconds:.2f} s, i.e. {seconds * 100_000 / len(signatures):.1f} s per 100,000"
    )
    start = time.perf_counter()
    data = index.to_bytes()
    dumped = time.perf_counter() - start
    start = time.perf_counter()
    dedup.NearDuplicateIndex.from_bytes(data, params)
    print(
        f"to_bytes: {len(data) / 2**20:,.0f} MiB in {dumped:.2f} s, "
        f"from_bytes in {time.perf_counter() - start:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--originals", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--jaccard", type=float, default=None, help="Jaccard threshold")
    parser.add_argument("--containment", type=float, default=None, help="containment threshold")
    parser.add_argument("--shingle-k", type=int, default=dedup.SHINGLE_K)
    parser.add_argument("--no-stopwords", action="store_true", help="drop stop words")
    parser.add_argument("--show", type=int, default=5, help="errors to print")
    parser.add_argument("--scale", type=int, default=0, help="stream N articles (speed, memory)")
    args = parser.parse_args(argv)

    params = dedup.Params(k=args.shingle_k, stop_words=not args.no_stopwords)
    if args.scale:
        scale(args.scale, args.seed, params)
        return 0

    corpus = build(args.split, args.originals, args.seed)
    if args.jaccard is not None:
        params = params._replace(jaccard=args.jaccard)
    if args.containment is not None:
        params = params._replace(containment=args.containment)
    index = dedup.NearDuplicateIndex(params)
    at_once, final, seconds = evaluate(corpus, index)
    # Memory in a second pass: tracing allocations slows everything down.
    tracemalloc.start()
    evaluate(corpus, dedup.NearDuplicateIndex(params))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    n = len(corpus.items)
    copies = sum(1 for item in corpus.items if item.kinds)
    print(
        f"split={args.split} seed={args.seed} originals={min(args.originals, n - copies)} "
        f"copies={copies} stream={n} k={params.k} jaccard>={params.jaccard} "
        f"containment>={params.containment} stop_words={params.stop_words}"
    )
    print(f"hard-negative pairs (TF-IDF cosine >= 0.3): {len(corpus.hard_pairs)}")
    for name, scores in (("as add() returned them", at_once), ("final groups", final)):
        p = scores.correct / scores.links if scores.links else 1.0
        r = scores.found / scores.expected if scores.expected else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(
            f"near-duplicate links, {name}: P {p:.3f}  R {r:.3f}  F1 {f1:.3f}  "
            f"(links {scores.links}, correct {scores.correct}, expected {scores.expected}, "
            f"hard-negative pairs linked {scores.hard_linked})"
        )
    scores = final
    print("final recall by transformation (a copy counts under each of its transformations):")
    for kind in (*KINDS, "original"):
        total, good = scores.by_kind.get(kind, (0, 0))
        if total:
            print(f"  {kind:<9} {good / total:.3f}  ({good}/{total})")
    print(f"links by reason: {dict(scores.by_reason)}; wrong: {dict(scores.wrong_reason)}")
    print(
        f"throughput: {n / seconds:,.0f} items/s through add() (signature, LSH, verification); "
        f"peak traced memory {peak / 2**20:.1f} MiB, index {index.memory_bytes() / n:,.0f} "
        "bytes/article"
    )
    texts = [item.text for item in corpus.items]
    for name, rate in signature_speed(texts, params).items():
        print(f"per second, {name}: {rate:,.0f}")
    for item, other, match in scores.wrong[: args.show]:
        print(f"\nWRONG {match}: {item.kinds} g{item.group} -> g{other.group}")
        print("  A:", item.text[:300].replace("\n", " "))
        print("  B:", other.text[:300].replace("\n", " "))
    for item in scores.missed[: args.show]:
        print(f"\nMISSED {item.kinds} g{item.group}: {item.text[:300]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
