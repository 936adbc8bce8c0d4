"""The pipeline, top to bottom.

`ingest`: local inputs -> extract -> clean across pages -> store -> index -> group ->
understand.
`run_once`: due sources -> poll -> new pages -> fetch -> extract -> clean -> store -> index
-> group -> understand.
`index`: the full-text index of the articles stored.
`group`: fold syndicated copies, place articles in stories (state kept between runs).
`understand`: for each story that changed, entities (spaCy, kept per article), key facts,
disagreements and the summary across its sources.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy.exc import DataError

from veille import search
from veille.cluster import ClusterDoc, StoryClusterer
from veille.config import Settings
from veille.dedup import NearDuplicateIndex
from veille.digest.build import build as build_digest
from veille.digest.deliver import Outcome, deliver, smtp_from_config
from veille.digest.schedule import DEFAULT_ZONE, due_period, parse_schedule
from veille.enrich import story as enrich_story
from veille.enrich.entities import Entity, Mention, find_mentions, link, lookup_keys
from veille.enrich.story import StoryArticle, entity_text
from veille.extract import ExtractError, content_hash, extract
from veille.extract.clean import fold, site_repeated_lines
from veille.extract.template import SiteTemplate, for_document, template_views
from veille.fetch import Fetcher, FetchError
from veille.i18n import _
from veille.model import Article, Copy, EntityUpdate, Failure, RawDocument, Skip, Source, Watch
from veille.schedule import backoff, next_interval, parse_every
from veille.sources.local import read_path
from veille.sources.web import Poll, PollError, poll, published_per_week
from veille.store import Store
from veille.summarize import llm_options_from_config, options_from_config
from veille.urls import canonical_url, domain
from veille.watch import watch_problems
from veille.watch.rank import weights_from_config

# Documents extracted together, so lines repeated across one site's pages can be found.
BATCH_SIZE = 200
# A page that failed this many times (for passing reasons) is not asked again.
MAX_PAGE_ATTEMPTS = 3


@dataclass
class IngestReport:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    stored: list[int] = field(default_factory=list)  # ids of the articles new or updated
    copies: int = 0
    stories: int = 0  # stories created or grown
    understood: int = 0  # stories whose summary, facts and entities were (re)computed


@dataclass
class RunReport(IngestReport):
    sources: int = 0
    sources_failed: int = 0
    not_modified: int = 0
    items: int = 0
    already_fetched: int = 0
    fetched: int = 0
    links_only: int = 0  # stored from what the feed said: the page could not be fetched


def ingest(
    paths: Iterable[Path],
    store: Store,
    settings: Settings,
    on_item: Callable[[str], None] | None = None,
) -> IngestReport:
    report = IngestReport()
    for path in paths:
        source = str(path)
        store.ensure_source(
            Source(name=path.name or source, kind="file", location=str(path.resolve()))
        )
        for batch in _batches(read_path(path, settings), BATCH_SIZE):
            documents = []
            for item in batch:
                if on_item:
                    on_item(item.ref)
                if isinstance(item, RawDocument):
                    documents.append((source, item))
                else:
                    _record(store, report, item)
            store_documents(documents, store, report)
    index(store, report)
    understand(store, group(store, report), settings, report)
    return report


async def run_once(
    store: Store,
    settings: Settings,
    fetcher: Fetcher,
    *,
    now: datetime | None = None,
    stop: asyncio.Event | None = None,
    on_event: Callable[[str], None] | None = None,
    everything: bool = False,
) -> RunReport:
    """Poll every due source (with `everything`, every source) once, fetch the pages not
    seen before, store the articles."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    report = RunReport()
    due = store.due_sources(None if everything else now)
    report.sources = len(due)
    polls = await asyncio.gather(*(_poll_one(source, fetcher) for source in due))

    candidates: dict[str, tuple[Source, RawDocument]] = {}
    for source, outcome in zip(due, polls, strict=True):
        _record_poll(store, report, source, outcome, now)
        if isinstance(outcome, Poll):
            for problem in outcome.problems:
                _record(store, report, problem)
            for item in outcome.items:
                report.items += 1
                key = canonical_url(item.url) if item.url else item.ref
                candidates.setdefault(key, (source, item))
        if on_event:
            on_event(source.name)

    todo = []
    for key, (source, item) in candidates.items():
        known = store.page(key)
        if known and (
            known["error"] is None or known["permanent"] or known["attempts"] >= MAX_PAGE_ATTEMPTS
        ):
            report.already_fetched += 1
            continue
        todo.append((key, source, item))

    limit = asyncio.Semaphore(max(4, settings.fetch.host_concurrency * 8))

    async def fetch_page(key: str, source: Source, item: RawDocument):
        async with limit:
            if stop is not None and stop.is_set():
                return None
            return await _fetch_page(key, source, item, fetcher, store, report)

    tasks = [asyncio.ensure_future(fetch_page(*job)) for job in todo]
    documents: list[tuple[str, RawDocument]] = []
    for next_done in asyncio.as_completed(tasks):
        done = await next_done
        if done is not None:
            documents.append(done)
            if on_event:
                on_event(done[1].url or done[1].ref)
        if len(documents) >= BATCH_SIZE:
            store_documents(documents, store, report)
            documents = []
    store_documents(documents, store, report)
    index(store, report)
    understand(store, group(store, report), settings, report)
    return report


async def _poll_one(source: Source, fetcher: Fetcher) -> Poll | PollError:
    try:
        return await poll(source, fetcher)
    except PollError as exc:
        return exc


def _record_poll(
    store: Store, report: RunReport, source: Source, outcome: Poll | PollError, now: datetime
) -> None:
    every = timedelta(seconds=source.every_seconds) if source.every_seconds else None
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
        _record(store, report, Failure(source.location, source.location, "poll", outcome.reason))
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
        etag=outcome.etag,
        last_modified=outcome.last_modified,
        interval_seconds=int(interval.total_seconds()),
        next_poll_at=now + interval,
    )


async def _fetch_page(
    key: str, source: Source, item: RawDocument, fetcher: Fetcher, store: Store, report: RunReport
) -> tuple[str, RawDocument] | None:
    """The page as an HTML document, or the feed's own item when the page cannot be had."""
    if not item.url or not item.url.startswith(("http://", "https://")):
        return source.location, item
    try:
        result = await fetcher.fetch(item.url)
    except FetchError as exc:
        store.record_page(key, status=exc.status, error=exc.reason, permanent=exc.permanent)
        _record(store, report, Failure(source.location, item.url, "fetch", exc.reason))
        report.links_only += 1
        return source.location, item
    store.record_page(
        key,
        final_url=result.final_url,
        status=result.status,
        etag=result.etag,
        last_modified=result.last_modified,
    )
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
    return source.location, page


def store_documents(
    documents: list[tuple[str, RawDocument]], store: Store, report: IngestReport
) -> None:
    """Extract, clean across one site's pages, store; failures are recorded, not raised."""
    templates = site_templates([document for _, document in documents], store)
    articles: list[Article] = []
    for (source, document), template in zip(documents, templates, strict=True):
        report.read += 1
        try:
            articles.append(extract(document, source, template))
        except ExtractError as exc:
            _record(store, report, Failure(source, document.ref, "extract", str(exc)))
    for article in drop_site_furniture(articles):
        try:
            outcome, article_id = store.save_article(article)
        except DataError as exc:
            # A value this database cannot hold: that article fails, the batch goes on.
            reason = str(exc.orig).splitlines()[0]
            _record(
                store,
                report,
                Failure(
                    article.source,
                    article.raw_ref,
                    "store",
                    _("the database refused it: {error}", error=reason),
                ),
            )
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        if outcome != "unchanged":
            report.stored.append(article_id)


DEDUP_STATE, CLUSTER_STATE = "dedup", "cluster"
# Syndicated copies appear within days; older signatures only cost memory.
COPY_WINDOW = timedelta(days=7)


def group(store: Store, report: IngestReport) -> set[int]:
    """Fold syndicated copies onto their original and place new articles in stories;
    returns the stories created or changed.

    Articles already placed keep their story, so running the same input again changes
    nothing; the index and the clusterer are kept in the store, so tomorrow's articles
    continue today's stories.
    """
    todo = store.articles_by_id(store.ungrouped(report.stored))
    if not todo:
        return set()
    # By day, then as they arrived: the clusterer is sensitive to order, and the time of
    # day (now known) let an early off-topic page seed a story its neighbours then joined.
    todo.sort(key=lambda a: (a.published.date() if a.published else date.max, a.id))
    index = _load(store, DEDUP_STATE, NearDuplicateIndex)
    clusterer = _load(store, CLUSTER_STATE, StoryClusterer)
    touched: set[int] = set()
    for article in todo:
        assert article.id is not None
        match = index.add(
            article.id,
            article.text,
            title=article.title,
            site=article.site_name,
            when=article.published,
        )
        into = copy_of = None
        if match is not None and match.original != article.id:
            store.link_copy(Copy(article.id, match.original, match.similarity, match.reason))
            # Earlier groups this text shows to be the same dispatch point at one original.
            for other in match.merged:
                if other != match.original:
                    store.link_copy(Copy(other, match.original, match.similarity, match.reason))
            report.copies += 1
            into, copy_of = store.story_of(match.original), match.original
        story = clusterer.add(
            ClusterDoc(
                article.id,
                article.title,
                article.text,
                article.published,
                article.site_name,
                article.language,
            ),
            into=into,
            copy_of=copy_of,
        )
        store.assign(article.id, story)
        touched.add(story)
    # Articles placed early in the batch may sit better in a story that grew after them.
    clusterer.settle()
    for article_id, before, after in clusterer.moves:
        store.assign(article_id, after)
        touched.update((before, after))
    clusterer.moves.clear()
    for absorbed, kept in clusterer.merges:
        store.merge_stories(absorbed, kept)
        touched.discard(absorbed)
        touched.add(kept)
    clusterer.merges.clear()
    for story in touched:
        representative = clusterer.representative(story)
        headline = next((a.title for a in store.articles_by_id([representative])), "")
        store.refresh_story(story, headline, representative)
        store.set_related(story, clusterer.related(story))
    report.stories = len(touched)
    newest = max((a.published for a in todo if a.published), default=None)
    if newest is not None:
        index.prune(newest - COPY_WINDOW)
    store.save_state(DEDUP_STATE, index.to_bytes())
    store.save_state(CLUSTER_STATE, clusterer.to_bytes())
    return touched


def index(store: Store, report: IngestReport) -> None:
    """Keep the full-text index up to date: the articles just stored, and any older ones
    it does not hold yet."""
    try:
        search.index_articles(store, store.articles_by_id(report.stored))
        search.index_missing(store)
    except search.SearchUnavailable:
        pass  # not on this database; `veille search` says why when asked


def understand(
    store: Store, story_ids: Iterable[int], settings: Settings, report: IngestReport
) -> None:
    """Summary, key facts, disagreements and entities of each story that changed (and of
    stories never understood, or understood by an older version); a story whose articles
    did not change is left as it is.

    Entities are found once per article text and kept; a story that fails is recorded
    and the others go on."""
    wanted = sorted(set(story_ids) | set(store.stories_to_understand(enrich_story.VERSION)))
    if not wanted:
        return
    members: dict[int, list[StoryArticle]] = {}
    for story_id in wanted:
        articles = store.story_articles(story_id)
        if not articles:
            continue
        ids = [a.id for a in articles if a.id is not None]
        copy_of = {c.copy_id: c.original_id for c in store.copies(ids)}
        members[story_id] = [
            StoryArticle(
                a.id,
                a.title,
                a.text,
                a.url,
                a.site_name,
                a.published,
                a.language,
                copy_of.get(a.id) if copy_of.get(a.id) in ids else None,
            )
            for a in articles
            if a.id is not None
        ]
    signatures = {sid: _signature(articles) for sid, articles in members.items()}
    todo = {
        sid: articles
        for sid, articles in members.items()
        if store.brief_signature(sid) != signatures[sid]
    }
    if not todo:
        return
    mentions = _mentions(store, [a for articles in todo.values() for a in articles], report)
    summary = options_from_config(settings.summary)
    llm = llm_options_from_config(settings.summary.get("llm"))
    for story_id, articles in todo.items():
        try:
            found = {a.id: mentions[a.id][0] for a in articles if a.id in mentions}
            understood = enrich_story.understand(articles, found, summary, llm)
            skipped = tuple(
                (a.id, reason) for a in articles if (reason := mentions.get(a.id, ([], None))[1])
            )
            brief = replace(enrich_story.brief(story_id, understood, articles), skipped=skipped)
            updates = _entity_updates(store, understood.entities, articles)
        except Exception as exc:  # one story's failure must not stop the others
            _record(
                store,
                report,
                Failure(
                    "understand", f"story:{story_id}", "understand", f"{type(exc).__name__}: {exc}"
                ),
            )
            continue
        store.save_brief(brief, signatures[story_id], enrich_story.VERSION)
        store.save_story_entities(story_id, updates)
        report.understood += 1


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


def _signature(articles: list[StoryArticle]) -> str:
    """What a brief was drawn from: a story whose articles did not change keeps its brief."""
    digest = hashlib.sha256(f"v{enrich_story.VERSION}\n".encode())
    for a in sorted(articles, key=lambda a: a.id):
        digest.update(f"{a.id}|{a.original_id}|{a.title}|{a.published}\n".encode())
        digest.update(hashlib.sha256(a.text.encode()).digest())
    return digest.hexdigest()


def _mentions(
    store: Store, articles: list[StoryArticle], report: IngestReport
) -> dict[int, tuple[list[Mention], str | None]]:
    """Entity mentions of the articles: kept ones when their text is unchanged, the others
    found now (all in one spaCy batch) and kept."""
    texts = {a.id: entity_text(a.title, a.text) for a in articles}
    hashes = {i: hashlib.sha256(t.encode()).hexdigest() for i, t in texts.items()}
    kept = store.mentions(sorted(texts))
    found = {i: (m, skipped) for i, (h, m, skipped) in kept.items() if h == hashes[i]}
    missing = {i: (texts[i], a.language) for a in articles if (i := a.id) not in found}
    if missing:
        new, skipped = find_mentions(missing)
        reasons = set()
        for article_id, reason in skipped.items():
            found[article_id] = ([], reason)
            if reason not in reasons:  # once per run and reason, not per article
                reasons.add(reason)
                _record(store, report, Skip("understand", f"article:{article_id}", reason))
        for article_id, mentions in new.items():
            found[article_id] = (mentions, None)
        store.save_mentions([(i, hashes[i], found[i][0], found[i][1]) for i in sorted(missing)])
    return found


def _entity_updates(
    store: Store, entities: list[Entity], articles: list[StoryArticle]
) -> list[EntityUpdate]:
    """The story's entities, each linked to the entities of other stories it is."""
    if not entities:
        return []
    keys = {e.name: lookup_keys(e) for e in entities}
    known = store.entity_candidates(k for found in keys.values() for k in found)
    as_entities = [Entity(k.name, k.kind, list(k.aliases), k.mentions) for k in known]  # type: ignore[arg-type]
    when = {a.id: a.published for a in articles}
    updates = []
    for found in link(entities, as_entities):
        mine = [entities[i] for i in found.new]
        dates = [d for e in mine for i in e.article_ids if (d := when.get(i)) is not None]
        whole = Entity(found.name, found.label, found.aliases, 0)
        updates.append(
            EntityUpdate(
                known=tuple(known[j].id for j in found.known),
                name=found.name,
                kind=found.label,
                aliases=tuple(found.aliases),
                keys=tuple(sorted(lookup_keys(whole))),
                story_name=mine[0].name,
                story_aliases=tuple(dict.fromkeys(a for e in mine for a in e.aliases)),
                mentions=sum(e.mentions for e in mine),
                articles=len(set().union(*(e.article_ids for e in mine))),
                first_seen=min(dates, default=None),
                last_seen=max(dates, default=None),
            )
        )
    return updates


def _load(store: Store, name: str, kind):
    data = store.load_state(name)
    return kind.from_bytes(data) if data else kind()


def site_templates(documents: list[RawDocument], store: Store) -> list[SiteTemplate | None]:
    """Each page's view of its site's template (veille.extract.template), after the
    batch's new pages are learned into the store."""
    pages = [for_document(document) for document in documents]
    blocks: dict[str, set[str]] = defaultdict(set)
    keys: dict[str, set[str]] = defaultdict(set)
    for page in filter(None, pages):
        blocks[page.site].update(page.blocks)
        keys[page.site].add(page.page)
    memory = {site: store.site_template(site, found) for site, found in blocks.items()}
    learned = {site: store.learned_pages(site, found) for site, found in keys.items()}
    views, fresh = template_views(pages, memory, learned)
    for site, new in fresh.items():
        store.learn_pages(site, new)
    return views


def drop_site_furniture(articles: list[Article]) -> list[Article]:
    """Remove short lines that recur on most pages of one site (menus, bylines, promos)."""
    by_site: dict[str, list[int]] = defaultdict(list)
    for index, article in enumerate(articles):
        by_site[domain(article.url) or ""].append(index)
    cleaned = list(articles)
    for site, indexes in by_site.items():
        if not site:
            continue
        furniture = site_repeated_lines([articles[i].text for i in indexes])
        if not furniture:
            continue
        for i in indexes:
            text = "\n".join(
                line for line in articles[i].text.split("\n") if fold(line) not in furniture
            )
            if text != articles[i].text:
                cleaned[i] = replace(articles[i], text=text, content_hash=content_hash(text))
    return cleaned


def _record(store: Store, report: IngestReport, problem: Failure | Skip) -> None:
    store.log(problem)
    (report.failed if isinstance(problem, Failure) else report.skipped).append(problem)


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(items, size)):
        yield batch
