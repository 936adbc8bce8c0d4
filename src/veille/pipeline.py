"""The pipeline, top to bottom: the stages called in order, each stage's body in its own
module.

`ingest`: local inputs (`sources.local`) -> extract and store (`extract.stage`) -> index
(`search`) -> group (`cluster.stage`) -> understand (`enrich.stage`).
`run_once`: due sources polled and their new pages fetched (`sources.polling`) -> extract
and store -> index -> group -> understand. After it, `veille run` sends the alerts
(`alerts.stage`), then the digests whose slot has come.

Each stage finds its work in the store and commits each unit with its done mark, so a job
stopped (Ctrl-C, SIGTERM: `stop`) or killed at any point is finished by the next one. One
job writes to a store at a time (`Store.writer`): a second one waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from itertools import islice
from pathlib import Path

from veille import clock, search
from veille.alerts.stage import AlertOutcome
from veille.cluster.stage import group
from veille.config import Settings
from veille.digest.deliver import Outcome
from veille.enrich.stage import understand
from veille.extract.stage import Document, store_documents
from veille.fetch import Fetcher
from veille.model import Failure, IngestReport, RawDocument, RunReport, Skip, Source
from veille.operations import alerts as operations_alerts
from veille.operations import config as operations_config
from veille.operations import digests as operations_digests
from veille.sources import polling
from veille.sources.local import path_problem, read_path
from veille.store import Store

__all__ = [
    "IngestReport",
    "RunReport",
    "ingest",
    "process",
    "run_once",
    "send_alerts",
    "send_digests",
    "sync_config",
]

# Documents extracted together, so lines repeated across one site's pages can be found.
BATCH_SIZE = 200


def ingest(
    paths: Iterable[Path],
    store: Store,
    settings: Settings,
    on_item: Callable[[str], None] | None = None,
    *,
    stop: threading.Event | None = None,
    on_wait: Callable[[], None] | None = None,
) -> IngestReport:
    report = IngestReport()
    record = partial(_record, store, report)
    with store.writer(on_wait):
        for path in paths:
            source = str(path)
            # A path that cannot be read (missing, a symbolic link loop: resolve() raises
            # on one) is no source; read_path reports why.
            if path_problem(path) is None:
                store.ensure_source(
                    Source(name=path.name or source, kind="file", location=str(path.resolve()))
                )
            for batch in _batches(read_path(path, settings), BATCH_SIZE):
                documents: list[Document] = []
                for item in batch:
                    if on_item:
                        on_item(item.ref)
                    if isinstance(item, RawDocument):
                        documents.append((source, item, None))
                    else:
                        record(item)
                store_documents(documents, store, report, record, stop)
                if _stopped(stop, report):
                    return report
        process(store, settings, report, stop)
    return report


async def run_once(
    store: Store,
    settings: Settings,
    fetcher: Fetcher,
    *,
    now: datetime | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[str], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    everything: bool = False,
) -> RunReport:
    """Poll every due source (with `everything`, every source) once, fetch the pages not
    seen before, store the articles, group and understand them."""
    now = now or clock.now()
    report = RunReport()
    record = partial(_record, store, report)
    with store.writer(on_wait):
        polls = await polling.poll_due(store, fetcher, now, everything, report, record)
        if on_event:
            for source, _poll in polls:
                on_event(source.name)
        jobs = polling.pages_to_fetch(store, polls, settings.fetch.max_new_entries, report, record)
        concurrency = max(4, settings.fetch.host_concurrency * 8)
        documents: list[Document] = []
        async for fetched in polling.fetch_pages(jobs, fetcher, concurrency, stop, report, record):
            documents.append((fetched.source, fetched.document, fetched.page))
            if on_event:
                on_event(fetched.document.url or fetched.document.ref)
            if len(documents) >= BATCH_SIZE:
                store_documents(documents, store, report, record)
                documents = []
        # Pages fetched are stored even after a stop: fetching them again would cost more.
        store_documents(documents, store, report, record)
        if _stopped(stop, report):
            return report
        polling.confirm_polls(store, polls, report.incomplete)
        process(store, settings, report, stop)
    return report


def process(
    store: Store,
    settings: Settings,
    report: IngestReport | None = None,
    stop: threading.Event | None = None,
) -> IngestReport:
    """The stages after storing: index, group, understand (the work found in the store)."""
    report = report or IngestReport()
    record = partial(_record, store, report)
    index(store, report)
    grouped = group(store, stop)
    report.copies += grouped.copies
    report.stories += len(grouped.stories)
    if grouped.stopped or _stopped(stop, report):
        report.stopped = True
        return report
    understood = understand(store, settings, stop, record)
    report.understood += understood.understood
    report.stopped = understood.stopped
    return report


def index(store: Store, report: IngestReport) -> None:
    """Keep the full-text index up to date: the articles just stored, and any older ones
    it does not hold yet."""
    try:
        search.index_articles(store, store.articles_by_id(report.stored))
        search.index_missing(store)
    except search.SearchUnavailable:
        pass  # not on this database; `veille search` says why when asked


def sync_config(store: Store, settings: Settings) -> list[Failure]:
    """The config's sources and watches into the store (see `veille.operations.config`)."""
    return operations_config.sync_config(store, settings)


def send_digests(store: Store, settings: Settings, now: datetime | None = None) -> list[Outcome]:
    """Each scheduled watch's digest whose slot has come (see `veille.operations.digests`)."""
    return operations_digests.send_due(store, settings, now)


def send_alerts(
    store: Store, settings: Settings, now: datetime | None = None
) -> list[AlertOutcome]:
    """Each watch's alerts: crossings noted, the due ones sent (see `veille.operations.alerts`)."""
    return operations_alerts.send_alerts(store, settings, now)


def _stopped(stop: threading.Event | None, report: IngestReport) -> bool:
    if stop is not None and stop.is_set():
        report.stopped = True
    return report.stopped


def _record(store: Store, report: IngestReport, problem: Failure | Skip) -> None:
    store.log(problem)
    (report.failed if isinstance(problem, Failure) else report.skipped).append(problem)


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(items, size)):
        yield batch
