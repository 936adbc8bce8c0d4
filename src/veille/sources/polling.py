"""One round of polling: the due sources read, their schedules and health updated, the
new pages among their entries chosen (at most `max_new_entries` a feed) and fetched.

A page's fetch is not recorded here: it is stored with the article it gave (or the feed's
snippet, when it could not be had) by the store stage, in one transaction, so a page is
never "already fetched" without its article."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from veille.fetch import Fetcher, FetchError
from veille.i18n import _
from veille.model import Failure, PageFetch, RawDocument, RunReport, Skip, Source
from veille.schedule import backoff, next_interval
from veille.sources.web import Poll, PollError, poll, published_per_week
from veille.store import Store
from veille.urls import canonical_url

# A page that failed this many times (for passing reasons) is not asked again; a page held
# back without being asked (its site's robots.txt unavailable) does not count.
MAX_PAGE_ATTEMPTS = 3

Record = Callable[[Failure | Skip], None]


@dataclass(frozen=True)
class PageJob:
    key: str  # the canonical URL
    source: Source
    item: RawDocument  # what the feed said of it


@dataclass(frozen=True)
class Fetched:
    source: str
    document: RawDocument  # the page, or the feed's own item when it could not be had
    page: PageFetch | None  # None: nothing to fetch (a feed item without a web link)


async def poll_due(
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    everything: bool,
    report: RunReport,
    record: Record,
) -> list[tuple[Source, Poll]]:
    """Poll every due source (with `everything`, all of them) once; returns the sources
    read with what they gave. Their validators are kept later (`confirm_polls`)."""
    due = store.due_sources(None if everything else now)
    report.sources = len(due)
    outcomes = await asyncio.gather(*(_poll_one(source, fetcher) for source in due))
    read = []
    for source, outcome in zip(due, outcomes, strict=True):
        _record_poll(store, report, source, outcome, now, record)
        if isinstance(outcome, Poll):
            for problem in outcome.problems:
                record(problem)
            read.append((source, outcome))
    return read


def confirm_polls(store: Store, polls: list[tuple[Source, Poll]], incomplete: set[int]) -> None:
    """Keep each source's validators (ETag, Last-Modified) once every new page it listed
    is stored: saved earlier, a crash would leave those pages behind a 304 for good. A
    source with entries left for later keeps its old ones, so it is read whole again."""
    for source, outcome in polls:
        if source.id is not None and source.id not in incomplete and not outcome.not_modified:
            store.update_source(source.id, etag=outcome.etag, last_modified=outcome.last_modified)


def pages_to_fetch(
    store: Store, polls: list[tuple[Source, Poll]], max_new: int, report: RunReport, record: Record
) -> list[PageJob]:
    """The entries' pages not fetched before, at most `max_new` a source: the others are
    left for the next polls, and counted."""
    seen: set[str] = set()
    jobs = []
    for source, outcome in polls:
        taken = left = 0
        for item in outcome.items:
            report.items += 1
            key = canonical_url(item.url) if item.url else item.ref
            if key in seen:
                continue
            seen.add(key)
            if _already_fetched(store, key):
                report.already_fetched += 1
                continue
            if taken >= max_new:
                left += 1
                continue
            taken += 1
            jobs.append(PageJob(key, source, item))
        if left:
            assert source.id is not None
            report.incomplete.add(source.id)
            report.left_for_later += left
            record(
                Skip(
                    source.location,
                    source.location,
                    _(
                        "{count} new entries left for the next polls (at most {limit} a poll)",
                        count=left,
                        limit=max_new,
                    ),
                )
            )
    return jobs


def _already_fetched(store: Store, key: str) -> bool:
    if store.has_full_article(key):
        return True  # read already (from a file, an archive, another feed)
    known = store.page(key)
    return bool(
        known
        and (known["error"] is None or known["permanent"] or known["attempts"] >= MAX_PAGE_ATTEMPTS)
    )


async def fetch_pages(
    jobs: list[PageJob],
    fetcher: Fetcher,
    concurrency: int,
    stop: threading.Event | None,
    report: RunReport,
    record: Record,
) -> AsyncIterator[Fetched]:
    """Each job's page as it comes (in no particular order); after `stop`, no new fetch
    starts and those in flight finish."""
    limit = asyncio.Semaphore(concurrency)

    async def one(job: PageJob) -> Fetched | None:
        async with limit:
            if stop is not None and stop.is_set():
                return None
            return await _fetch_page(job, fetcher, report, record)

    tasks = [asyncio.ensure_future(one(job)) for job in jobs]
    try:
        for next_done in asyncio.as_completed(tasks):
            done = await next_done
            if done is not None:
                yield done
    finally:
        for task in tasks:
            task.cancel()


async def _fetch_page(job: PageJob, fetcher: Fetcher, report: RunReport, record: Record) -> Fetched:
    item = job.item
    if not item.url or not item.url.startswith(("http://", "https://")):
        return Fetched(job.source.location, item, None)
    try:
        result = await fetcher.fetch(item.url)
    except FetchError as exc:
        record(Failure(job.source.location, item.url, "fetch", exc.reason))
        report.links_only += 1
        page = PageFetch(
            job.key, status=exc.status, error=exc.reason, permanent=exc.permanent, asked=exc.asked
        )
        return Fetched(job.source.location, item, page)
    report.fetched += 1
    page = RawDocument(
        ref=item.url,
        kind="html",
        content=result.content,
        url=result.final_url,
        content_type=result.content_type,
        title=item.title,
        published=item.published,
        author=item.author,
        site_name=item.site_name,
        language=item.language,
    )
    fetched = PageFetch(
        job.key,
        final_url=result.final_url,
        status=result.status,
        etag=result.etag,
        last_modified=result.last_modified,
    )
    return Fetched(job.source.location, page, fetched)


async def _poll_one(source: Source, fetcher: Fetcher) -> Poll | PollError:
    try:
        return await poll(source, fetcher)
    except PollError as exc:
        return exc


def _record_poll(
    store: Store,
    report: RunReport,
    source: Source,
    outcome: Poll | PollError,
    now: datetime,
    record: Record,
) -> None:
    """The source's schedule and health after a poll: backed off while it fails, adapted
    to how often it publishes when it answers."""
    every = timedelta(seconds=source.every_seconds) if source.every_seconds else None
    assert source.id is not None
    if isinstance(outcome, PollError):
        report.sources_failed += 1
        failures = source.failures + 1
        interval = timedelta(seconds=source.interval_seconds or 0) or next_interval(every, 1)
        store.update_source(
            source.id,
            last_polled_at=now,
            last_error=outcome.reason,
            last_status=outcome.status,
            failures=failures,
            next_poll_at=now + backoff(interval, failures),
        )
        record(Failure(source.location, source.location, "poll", outcome.reason))
        return
    if outcome.not_modified:
        report.not_modified += 1
        interval = timedelta(seconds=source.interval_seconds or 0) or next_interval(every, 0)
    else:
        interval = next_interval(every, published_per_week(outcome.items, now))
    store.update_source(
        source.id,
        last_polled_at=now,
        last_success_at=now,
        last_error=outcome.warning,
        last_status=outcome.status,
        failures=0,
        items_seen=source.items_seen + len(outcome.items),
        interval_seconds=int(interval.total_seconds()),
        next_poll_at=now + interval,
    )
