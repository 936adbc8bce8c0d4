"""`veille demo`: a fictional news day shipped with veille, replayed through the pipeline.

The day (`data/`) is ours, written for the demo: about thirty articles from fictional
outlets on `.example` domains, their RSS feeds, several stories, syndicated copies, a date
disagreement, off-topic items and realistic page chrome. It is packed as a WARC, as a crawl
would have archived it, and `veille run` replays it into a fresh store: feeds, pages,
extraction, copies, stories, entities, facts, summaries, then the digest of a demo watch,
printed and written to disk. Nothing touches the network.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from veille.config import DeliverySettings, Settings
from veille.digest import Period
from veille.digest.render import render
from veille.fetch import Fetcher, WarcReplayTransport
from veille.model import Source, Watch
from veille.operations.digests import digest_of_day, send_digest
from veille.pipeline import RunReport, run_once
from veille.store import Store


def manifest() -> dict[str, Any]:
    return json.loads(
        resources.files(__package__).joinpath("data/manifest.json").read_text("utf-8")
    )


def _data(relative: str) -> bytes:
    return resources.files(__package__).joinpath("data", relative).read_bytes()


def pack_warc(path: Path) -> int:
    """Write the demo day as a WARC of HTTP responses (feeds, pages, robots.txt); returns
    the number of responses."""
    day = manifest()
    records = [
        (feed["url"], "application/rss+xml; charset=utf-8", _data(feed["file"]))
        for feed in day["feeds"]
    ]
    records += [
        (page["url"], "text/html; charset=utf-8", _data(page["file"])) for page in day["pages"]
    ]
    hosts = sorted({url.split("/")[2] for url, _, _ in records})
    records += [
        (f"https://{host}/robots.txt", "text/plain", b"User-agent: *\nAllow: /\n") for host in hosts
    ]
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, content_type, body in records:
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=BytesIO(body), http_headers=headers
                )
            )
    return len(records)


@dataclass
class DemoResult:
    folder: Path
    report: RunReport
    digest_text: str
    files: list[Path] = field(default_factory=list)
    stories: int = 0


def run_demo(folder: Path, lang: str = "fr") -> DemoResult:
    """Replay the demo day into a fresh store in `folder` and write its digest there."""
    folder.mkdir(parents=True, exist_ok=True)
    day = manifest()
    warc = folder / "demo-day.warc.gz"
    pack_warc(warc)
    database = folder / "veille-demo.db"
    for stale in folder.glob("veille-demo.db*"):
        stale.unlink()  # a fresh store each time: the demo shows one day from nothing
    store = Store(f"sqlite:///{database}")
    settings = Settings(
        archive=False, delivery=DeliverySettings(folder=folder.resolve())
    ).with_fetch(host_delay=0.0, contact="veille demo")
    for feed in day["feeds"]:
        store.add_source(Source(name=feed["outlet"], kind="feed", location=feed["url"]))
    example = day["watch_examples"][0]
    watch, _ = store.save_watch(Watch(example["name"], example["query"], targets=("file:.",)))

    async def replay() -> RunReport:
        async with Fetcher(settings.fetch, transport=WarcReplayTransport([warc])) as fetcher:
            return await run_once(store, settings, fetcher, everything=True)

    report = asyncio.run(replay())
    when = date.fromisoformat(day["day"])
    digest = digest_of_day(store, settings, watch, when)
    send_digest(store, settings, watch, Period.day(when, settings.timezone), lang)
    stories = len(store.stories())
    store.close()
    files = sorted(p for p in folder.iterdir() if p.suffix in (".md", ".html", ".json", ".atom"))
    return DemoResult(folder, report, render(digest, "md", lang), files, stories)
