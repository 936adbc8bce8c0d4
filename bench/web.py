"""Web latency on a store of 100,000 articles: home, search and story pages, p50/p95/p99.

The store is seeded once (kept at `--db`, rebuilt with `--rebuild`): the synthetic stories
of `bench/scale.py` (sentences of the shared datasets, made-up names shared within each
story, a fifth of the articles syndicated copies) are written straight into the tables —
articles, stories, copy links, each story's brief (its first sentences as summary and
facts), its entities (the story's made-up names, shared across stories), related stories
— and then indexed for search as the pipeline does. Then `veille`'s web app runs under
uvicorn on 127.0.0.1 and a load generator in another process (one client, one request at
a time, so latency is the server's alone) asks for home pages of random days, search pages
with queries drawn from the articles' words, and story pages of random stories.

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
import subprocess
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
from veille.store.schema import (  # noqa: E402
    article_copies,
    articles,
    entities,
    entity_keys,
    stories,
    story_articles,
    story_briefs,
    story_entities,
    story_related,
)
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
    copy_rows, entity_rows, key_rows, story_entity_rows, related_rows = [], [], [], [], []
    entity_ids: dict[str, int] = {}
    previous: list[int] = []
    for story, found in members.items():
        seen: dict[str, int] = {}
        for n, *_rest, body, _url in found:
            if body in seen:  # the same text again: a syndicated copy
                copy_rows.append(
                    {"copy_id": n, "original_id": seen[body], "similarity": 1.0, "reason": "exact"}
                )
            else:
                seen[body] = n
        # The story's names (the capitalised made-up words of its first headline).
        names = [w for w in found[0][3].split()[:2] if w[:1].isupper()]
        for name in names:
            if name not in entity_ids:
                entity_ids[name] = len(entity_ids) + 1
                entity_rows.append(
                    {
                        "id": entity_ids[name],
                        "name": name,
                        "kind": "PER",
                        "aliases": json.dumps([name]),
                        "mentions": 0,
                        "stories": 0,
                        "updated_at": now,
                    }
                )
                key_rows.append({"key": name.lower(), "entity_id": entity_ids[name]})
            row = entity_rows[entity_ids[name] - 1]
            row["mentions"] += len(found)
            row["stories"] += 1
            story_entity_rows.append(
                {
                    "story_id": story,
                    "entity_id": entity_ids[name],
                    "name": name,
                    "aliases": json.dumps([name]),
                    "mentions": len(found),
                    "articles": len(found),
                    "first_seen": found[0][1],
                    "last_seen": found[-1][1],
                }
            )
        related_rows += [
            {"story_id": story, "related_id": other, "score": 0.2} for other in previous[-3:]
        ]
        previous.append(story)
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
            (article_copies, copy_rows),
            (entities, entity_rows),
            (entity_keys, key_rows),
            (story_entities, story_entity_rows),
            (story_related, related_rows),
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
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the load generator's own run
    args = parser.parse_args()
    if args.client:
        load(args.client)
        return

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
        days = sorted(
            {
                r[0].date().isoformat()
                for r in conn.execute(stories.select().with_only_columns(stories.c.last_seen))
                if r[0] is not None
            }
        )
    asked = queries(store, args.requests, rng)
    plan = {
        "home page": [("/", {"date": rng.choice(days)}) for _ in range(args.requests)],
        "search page": [("/search", {"q": q}) for q in asked],
        "search API": [("/api/v1/search", {"q": q}) for q in asked],
        "story page": [
            (f"/stories/{sid}", {})
            for sid in rng.sample(story_ids, min(args.requests, len(story_ids)))
        ],
    }
    with serving(create_app(store)) as base:
        # The load generator is another process: its own work does not slow the server.
        client = subprocess.run(
            [sys.executable, __file__, "--client", base],
            input=json.dumps(plan),
            capture_output=True,
            text=True,
            check=True,
        )
    store.close()
    timings = json.loads(client.stdout)
    for name, values in timings.items():
        print(f"{name:<12} {percentiles(values)}")


def load(base: str) -> None:
    """The load generator: one request at a time, each kind's latencies as JSON."""
    plan = json.loads(sys.stdin.read())
    timings: dict[str, list[float]] = defaultdict(list)
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/search", params={"q": "warm"})  # imports and first connection
        for name, requests in plan.items():
            for path, params in requests:
                began = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                timings[name].append(time.perf_counter() - began)
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
