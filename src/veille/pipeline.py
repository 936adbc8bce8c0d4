"""The pipeline, top to bottom: the stages called in order, each stage's body in its own
module.

`ingest`: local inputs (`sources.local`) -> extract and store (`extract.stage`) -> index
(`search`) -> group (`cluster.stage`) -> understand (`enrich.stage`).
`run_once`: due sources polled and their new pages fetched (`sources.polling`) -> extract
and store -> index -> group -> understand.

Each stage finds its work in the store and commits each unit with its done mark, so a job
stopped (Ctrl-C, SIGTERM: `stop`) or killed at any point is finished by the next one. One
job writes to a store at a time (`Store.writer`): a second one waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path

from veille import search
from veille.cluster.stage import group
from veille.config import Settings
from veille.digest.build import build as build_digest
from veille.digest.deliver import Outcome, deliver, smtp_from_config
from veille.digest.schedule import DEFAULT_ZONE, due_period, parse_schedule
from veille.enrich.stage import understand
from veille.extract.stage import Document, store_documents
from veille.fetch import Fetcher
from veille.i18n import _
from veille.model import Failure, IngestReport, RawDocument, RunReport, Skip, Source, Watch
from veille.schedule import parse_every
from veille.sources import polling
from veille.sources.local import read_path
from veille.store import Store
from veille.urls import domain
from veille.watch import watch_problems
from veille.watch.rank import weights_from_config

__all__ = [
    "IngestReport",
    "RunReport",
    "ingest",
    "process",
    "run_once",
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
    now = now or datetime.now(UTC).replace(tzinfo=None)
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
    """Add the config file's sources and watches to the store (a watch named in the config
    takes the config's definition); what cannot be read is returned, the rest goes on."""
    problems: list[Failure] = []
    for entry in settings.sources:
        location = str(entry.get("url") or entry.get("path") or "")
        if not location:
            problems.append(Failure("config", "[[sources]]", "config", _("a source needs url")))
            continue
        try:
            every = parse_every(str(entry.get("every", "15m")))
        except ValueError:
            problems.append(
                Failure(
                    "config",
                    location,
                    "config",
                    _("unreadable interval: {every}", every=entry.get("every")),
                )
            )
            continue
        store.add_source(
            Source(
                name=str(entry.get("name") or domain(location) or location),
                kind=str(entry.get("kind", "feed")),
                location=location,
                every_seconds=int(every.total_seconds()),
            )
        )
    for entry in settings.watches:
        watch = Watch(
            name=str(entry.get("name", "")),
            query=str(entry.get("query", "")),
            languages=tuple(entry.get("languages", ())),
            sites=tuple(entry.get("sites", ())),
            schedule=entry.get("schedule"),
            targets=tuple(entry.get("targets", ())),
        )
        reasons = ([_("a watch needs a name")] if not watch.name else []) + watch_problems(watch)
        if reasons:
            problems.append(Failure("config", f"watch:{watch.name}", "config", "; ".join(reasons)))
            continue
        store.save_watch(watch)
    for problem in problems:
        store.log(problem)
    return problems


def send_digests(store: Store, settings: Settings, now: datetime | None = None) -> list[Outcome]:
    """Build and send each scheduled watch's digest when its slot has come (once per slot
    and target, see `digest.deliver`)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    zone = str(settings.digest.get("timezone", DEFAULT_ZONE))
    lang = str(settings.digest.get("language", "fr"))
    outcomes: list[Outcome] = []
    for watch in store.watches():
        if not watch.schedule or not watch.targets or watch.id is None:
            continue
        period = due_period(parse_schedule(watch.schedule), now, zone)
        done = [store.delivery(watch.id, period.key, t) for t in watch.targets]
        if all(d is not None and d.status == "sent" for d in done):
            continue
        digest = build_digest(store, watch, period, weights_from_config(settings.ranking), now=now)
        sent = deliver(store, digest, list(watch.targets), lang, smtp_from_config(settings.smtp))
        for outcome in sent:
            if outcome.status == "failed":
                store.log(
                    Failure(f"watch:{watch.name}", outcome.target, "deliver", outcome.error or "")
                )
        outcomes.extend(sent)
    return outcomes


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
