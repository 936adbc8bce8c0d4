"""Web latency on a store of 100,000 articles: search page and story page, p50/p95/p99.

The store is seeded once (kept at `--db`, rebuilt with `--rebuild`): the synthetic stories
of `bench/scale.py` (sentences of the shared datasets, made-up names shared within each
story) are written straight into the tables — articles, stories, each story's brief (its
first sentences as summary and facts) — and then indexed for search as the pipeline does.
Then `veille`'s web app runs under uvicorn on 127.0.0.1 and a local load generator (one
client, one request at a time, so latency is the server's alone) asks for search pages
with queries drawn from the articles' words and story pages of random stories.

    python bench/web.py                     # 100k articles, 300 requests of each kind
    python bench/web.py --articles 20000 --requests 100
    python bench/web.py --db postgresql+psycopg://user:pw@127.0.0.1/empty_db  # PostgreSQL

A PostgreSQL database is seeded when it holds no article (give a new, empty one; --rebuild
only deletes SQLite files).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import insert

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from scale import sentence_pool, shared_dir, stream  # noqa: E402

from veille.search import index_missing  # noqa: E402
from veille.store import Store  # noqa: E402
from veille.store.schema import articles, stories, story_articles, story_briefs  # noqa: E402
from veille.text import sentences, terms  # noqa: E402
from veille.web import create_app, serving  # noqa: E402


def seed(store: Store, total: int, shared: str | None) -> None:
    pool = sentence_pool(shared_dir(shared))
    rows, members = [], defaultdict(list)
    for n, title, body, when, story in stream(pool, total, 5000, seed=7):
        site = f"site{n % 97}.example"
        url = f"https://{site}/{story}/{n}"
        rows.append(
            {
                "id": n,
                "canonical_url": url,
                "url": url,
                "title": title,
                "text": body,
                "published": when,
                "site_name": f"Site {n % 97}",
                "language": "fr",
                "content_hash": str(n),
                "raw_ref": url,
                "source": "bench",
                "first_seen": when,
                "updated_at": when,
            }
        )
        members[story].append((n, when, f"Site {n % 97}", title, body, url))
    now = rows[-1]["first_seen"]
    story_rows, link_rows, brief_rows = [], [], []
    for story, found in members.items():
        whens = [w for _, w, _, _, _, _ in found]
        first = found[0]
        said = sentences(first[4])[:5]
        ref = {"article_id": first[0], "site": first[2], "url": first[5]}
        brief = {
            "summary": [{"text": s, "source": ref, "also": []} for s in said[:2]],
            "method": "extractive",
            "summary_error": None,
            "facts": [
                {"text": s, "kinds": ["name"], "sources": [ref], "independent": 1}
                for s in said[2:5]
            ],
            "disagreements": [],
            "skipped": [],
        }
        story_rows.append(
            {
                "id": story,
                "title": first[3],
                "first_seen": min(whens),
                "last_seen": max(whens),
                "article_count": len(found),
                "source_count": len({s for _, _, s, _, _, _ in found}),
                "representative_id": first[0],
                "updated_at": now,
            }
        )
        link_rows += [{"article_id": n, "story_id": story, "added_at": now} for n, *_ in found]
        brief_rows.append(
            {
                "story_id": story,
                "signature": "bench",
                "version": 0,
                "data": json.dumps(brief, ensure_ascii=False),
                "updated_at": now,
            }
        )
    with store.engine.begin() as conn:
        for table, values in (
            (articles, rows),
            (stories, story_rows),
            (story_articles, link_rows),
            (story_briefs, brief_rows),
        ):
            for start in range(0, len(values), 5000):
                conn.execute(insert(table), values[start : start + 5000])


def queries(store: Store, count: int, rng: random.Random) -> list[str]:
    """Queries as readers type them: a word or two of the archive's titles, sometimes a
    phrase or an exclusion."""
    with store.engine.connect() as conn:
        titles = [
            r[0]
            for r in conn.execute(
                # In id order: the same queries on every database and run.
                articles.select()
                .with_only_columns(articles.c.title)
                .order_by(articles.c.id)
                .limit(5000)
            )
        ]
    words = [w for t in titles for w in t.split() if len(w) > 4 and w.isalpha() and terms(w)]
    found = []
    for _ in range(count):
        a, b = rng.choice(words), rng.choice(words)
        found.append(rng.choice([a, f"{a} {b}", f'"{a} {b}"', f"{a} -{b}", f"{a} OR {b}"]))
    return found


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {at(0.5):6.1f} ms  p95 {at(0.95):6.1f} ms  p99 {at(0.99):6.1f} ms  "
        f"max {ordered[-1] * 1000:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--db", default="/tmp/veille-web-bench.db")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--shared")
    args = parser.parse_args()

    if "://" in args.db:
        store = Store(args.db)
    else:
        path = Path(args.db)
        if args.rebuild:
            for old in path.parent.glob(path.name + "*"):
                old.unlink()
        store = Store(f"sqlite:///{path}")
    print(f"database: {store.engine.dialect.name}")
    if not store.counts()["articles"]:
        began = time.perf_counter()
        seed(store, args.articles, args.shared)
        seeded = time.perf_counter() - began
        began = time.perf_counter()
        indexed = index_missing(store)
        print(
            f"seeded {args.articles:,} articles in {seeded:.1f} s; indexed {indexed:,} for "
            f"search in {time.perf_counter() - began:.1f} s"
        )
    counts = store.counts()
    print(f"store: {counts}")

    rng = random.Random(1)
    with store.engine.connect() as conn:
        story_ids = [r[0] for r in conn.execute(stories.select().with_only_columns(stories.c.id))]
    asked = queries(store, args.requests, rng)
    timings: dict[str, list[float]] = defaultdict(list)
    found_total = []
    with serving(create_app(store)) as base, httpx.Client(base_url=base, timeout=30) as client:
        client.get("/search", params={"q": "warm"})  # imports and first connection
        for query in asked:
            began = time.perf_counter()
            response = client.get("/search", params={"q": query})
            timings["search page"].append(time.perf_counter() - began)
            response.raise_for_status()
            began = time.perf_counter()
            client.get("/api/v1/search", params={"q": query}).raise_for_status()
            timings["search API"].append(time.perf_counter() - began)
            found_total.append(client.get("/api/v1/search", params={"q": query}).json()["total"])
        for story_id in rng.sample(story_ids, min(args.requests, len(story_ids))):
            began = time.perf_counter()
            client.get(f"/stories/{story_id}").raise_for_status()
            timings["story page"].append(time.perf_counter() - began)
    store.close()
    print(
        f"{len(asked)} queries, results per query: median {statistics.median(found_total):,.0f}, "
        f"max {max(found_total):,}"
    )
    for name, values in timings.items():
        print(f"{name:<12} {percentiles(values)}")


if __name__ == "__main__":
    main()
