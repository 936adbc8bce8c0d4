"""The whole seed day, from feeds to digest, with a cold start: time per stage.

A fresh process and a fresh store: the two Google Alerts feeds and the outlets' RSS of
`../shared/fixtures/seed-day` are served from 127.0.0.1 (the tests' fixture server, every
URL routed to it), then one `veille run` polls them, fetches the 24 pages, extracts and
stores them, folds copies, groups stories, understands them (spaCy's model loaded here,
cold), and the watch `(X OR Musk) AND (perquisition OR perquisitionne)` gets its digest in
the four formats. Prints the seconds of each stage and the total since the interpreter
started (imports included).

    python bench/seedday.py
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' fixture server

from tests.servers import FixtureServer  # noqa: E402
from veille import pipeline  # noqa: E402
from veille.config import Settings  # noqa: E402
from veille.digest import Period, build  # noqa: E402
from veille.digest.render import FORMATS, render  # noqa: E402
from veille.fetch import Fetcher  # noqa: E402
from veille.model import Source, Watch  # noqa: E402
from veille.store import Store  # noqa: E402

FEEDS = ("google-alert-cybercriminalite.xml", "google-alert-cybersecurite.xml", "outlets.rss")
QUERY = "(X OR Musk) AND (perquisition OR perquisitionne)"

clock: dict[str, float] = defaultdict(float)


def timed(name: str, function):
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            clock[name] += time.perf_counter() - began

    return wrapper


def main() -> None:
    imported = time.perf_counter() - STARTED
    # The stages run_once calls, timed where they are looked up.
    pipeline.store_documents = timed("extract + store", pipeline.store_documents)
    pipeline.group = timed("copies + stories", pipeline.group)
    pipeline.understand = timed("understand (entities, facts, summaries)", pipeline.understand)
    with tempfile.TemporaryDirectory() as folder, FixtureServer() as server:
        store = Store(f"sqlite:///{Path(folder) / 'veille.db'}")
        settings = Settings(archive=False).with_fetch(host_delay=0.0, contact="bench")
        for feed in FEEDS:
            store.add_source(Source(name=feed, kind="feed", location=server.feed_url(feed)))

        async def run() -> pipeline.RunReport:
            async with Fetcher(settings.fetch, transport=server.transport()) as fetcher:
                return await pipeline.run_once(store, settings, fetcher, everything=True)

        began = time.perf_counter()
        report = asyncio.run(run())
        total_run = time.perf_counter() - began
        began = time.perf_counter()
        watch, _ = store.save_watch(Watch("X", QUERY))
        digest = build(store, watch, Period.day(date(2026, 2, 3)))
        sizes = {fmt: len(render(digest, fmt)) for fmt in FORMATS}
        clock["digest (build + 5 formats)"] = time.perf_counter() - began
        store.close()
    staged = sum(v for k, v in clock.items() if not k.startswith("digest"))
    print(
        f"seed day: {report.fetched} pages fetched, {report.new} articles, "
        f"{report.copies} copies, {report.stories} stories, {report.understood} understood; "
        f"digest of {len(digest.entries)} entries ("
        + ", ".join(f"{k} {v:,} B" for k, v in sizes.items())
        + ")"
    )
    print(f"{'stage':<42} {'seconds':>8}")
    print(f"{'imports (cold start)':<42} {imported:>8.2f}")
    print(f"{'poll + fetch (loopback)':<42} {total_run - staged:>8.2f}")
    for name, seconds in clock.items():
        print(f"{name:<42} {seconds:>8.2f}")
    print(f"{'total since the interpreter started':<42} {time.perf_counter() - STARTED:>8.2f}")


if __name__ == "__main__":
    main()
