"""The extract-and-store stage: raw documents become clean articles, stored one by one,
each with the record of the page it came from. A batch of raw inputs all read before,
unchanged (same bytes, same extraction code), is known by their digests and not extracted
again; a batch with any new or changed input is extracted whole, as it was the first time,
since the cleaning across one site's pages depends on the batch (so a re-run after a crash
in the middle of a batch gives the texts of a clean run).

A batch is extracted together so lines repeated across one site's pages (menus, bylines,
promotions) can be found and dropped; each page is read with its site's template memory
(`veille.extract.template`), into which the batch's new pages are learned first, in their
own transaction (a page learned twice counts once, and its view of the site leaves itself
out, so a re-run after a crash extracts the same text). Then each document is one
transaction: the page's fetch record and its article (or its failure) are committed
together, so a page is never marked fetched without what it gave."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import xxhash
from sqlalchemy.exc import DataError

from veille.extract import EXTRACTION_VERSION, ExtractError, content_hash, extract
from veille.extract.clean import fold, site_repeated_lines
from veille.extract.template import SiteTemplate, for_document, template_views
from veille.i18n import _
from veille.model import Article, Failure, IngestReport, PageFetch, RawDocument, Skip
from veille.parallel import map_processes
from veille.store import Store
from veille.urls import domain

Document = tuple[str, RawDocument, PageFetch | None]  # source, document, page fetched


def store_documents(
    documents: list[Document],
    store: Store,
    report: IngestReport,
    record: Callable[[Failure | Skip], None],
    stop: threading.Event | None = None,
) -> None:
    """Extract (over the cores), clean across one site's pages, store; failures are
    recorded, not raised. After `stop`, the batch is left for the next run."""
    if stop is not None and stop.is_set():
        report.stopped = True
        return
    digests = {raw.ref: raw_digest(raw) for _, raw, _ in documents}
    known = store.raw_digests(sorted(digests))
    if all(known.get(raw.ref) == digests[raw.ref] for _, raw, _ in documents):
        with store.transaction():
            for _source, _raw, page in documents:
                if page is not None:  # fetched again: its new validators are kept
                    store.record_page(**vars(page))
        report.read += len(documents)
        report.unchanged += len(documents)
        return
    extracted: list[tuple[Document, Article | None]] = []
    templates = site_templates([raw for _, raw, _page in documents], store)
    items = [
        (raw, source, template)
        for (source, raw, _page), template in zip(documents, templates, strict=True)
    ]
    results = map_processes(_extract, items, minimum=4)
    for document, result in zip(documents, results, strict=True):
        source, raw, _page = document
        report.read += 1
        if isinstance(result, str):
            record(Failure(source, raw.ref, "extract", result))
            extracted.append((document, None))
            continue
        # What a feed said of a page is only a stand-in for the page.
        extracted.append((document, replace(result, partial=raw.kind == "fragment")))
    cleaned = iter(drop_site_furniture([a for _, a in extracted if a is not None]))
    for (source, raw, page), found in extracted:
        article = next(cleaned) if found is not None else None
        try:
            with store.transaction():
                if page is not None:
                    store.record_page(**vars(page))
                if article is None:
                    continue
                outcome, article_id = store.save_article(article)
                store.read_raw(raw.ref, digests[raw.ref])
        except DataError as exc:
            # A value this database cannot hold: that article fails, the batch goes on.
            reason = _("the database refused it: {error}", error=str(exc.orig).splitlines()[0])
            record(Failure(source, raw.ref, "store", reason))
            if page is not None:
                store.record_page(**vars(replace(page, error=reason)))
            continue
        if outcome == "kept":
            report.unchanged += 1
            record(
                Skip(
                    source,
                    raw.ref,
                    _(
                        "a poorer version of a stored article was not stored: {url}",
                        url=article.url,
                    ),
                )
            )
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        if outcome != "unchanged":
            report.stored.append(article_id)


def raw_digest(raw: RawDocument) -> str:
    """What a raw input gives an article from: its bytes, what its container said of it, and
    the extraction code's version."""
    digest = xxhash.xxh3_128(f"{EXTRACTION_VERSION}|{raw.kind}|".encode())
    content = raw.content.encode() if isinstance(raw.content, str) else raw.content
    digest.update(content)
    for value in (
        raw.url,
        raw.content_type,
        raw.title,
        raw.published,
        raw.author,
        raw.site_name,
        raw.language,
    ):
        digest.update(f"|{value}".encode())
    return digest.hexdigest()


def _extract(item: tuple[RawDocument, str, SiteTemplate | None]) -> Article | str:
    """One document's article, or why there is none (in a worker process: nothing raised)."""
    raw, source, template = item
    try:
        return extract(raw, source, template)
    except ExtractError as exc:
        return str(exc)
    except Exception as exc:  # a page that breaks the extractor fails alone
        return _("extraction failed: {error}", error=f"{type(exc).__name__}: {exc}")


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
    with store.transaction():
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
