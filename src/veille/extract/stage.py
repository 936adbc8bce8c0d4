"""The extract-and-store stage: raw documents become clean articles, stored one by one,
each with the record of the page it came from.

A batch is extracted together so lines repeated across one site's pages (menus, bylines,
promotions) can be found and dropped. Then each document is one transaction: the page's
fetch record and its article (or its failure) are committed together, so a page is never
marked fetched without what it gave."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.exc import DataError

from veille.extract import ExtractError, content_hash, extract
from veille.extract.clean import fold, site_repeated_lines
from veille.i18n import _
from veille.model import Article, Failure, IngestReport, PageFetch, RawDocument, Skip
from veille.store import Outcome, Store
from veille.urls import domain

Document = tuple[str, RawDocument, PageFetch | None]  # source, document, page fetched


def store_documents(
    documents: list[Document],
    store: Store,
    report: IngestReport,
    record: Callable[[Failure | Skip], None],
    stop: threading.Event | None = None,
) -> None:
    """Extract, clean across one site's pages, store; failures are recorded, not raised.
    After `stop`, the documents not yet extracted are left for the next run."""
    extracted: list[tuple[Document, Article | None]] = []
    for document in documents:
        if stop is not None and stop.is_set():
            report.stopped = True
            break
        source, raw, _page = document
        report.read += 1
        try:
            article = extract_document(source, raw)
        except ExtractError as exc:
            record(Failure(source, raw.ref, "extract", str(exc)))
            extracted.append((document, None))
            continue
        extracted.append((document, article))
    cleaned = iter(drop_site_furniture([a for _, a in extracted if a is not None]))
    save_extracted(
        [
            (source, raw.ref, page, next(cleaned) if found is not None else None)
            for (source, raw, page), found in extracted
        ],
        store,
        report,
        record,
    )


def extract_document(source: str, raw: RawDocument) -> Article:
    """One document's article (before the cleaning across its site's pages); ExtractError
    when it holds none."""
    # What a feed said of a page is only a stand-in for the page.
    return replace(extract(raw, source), partial=raw.kind == "fragment")


# A document to store: its source, its ref, the page fetch it came from, its article (None
# when extraction failed).
Extracted = tuple[str, str, PageFetch | None, Article | None]


def save_extracted(
    extracted: list[Extracted],
    store: Store,
    report: IngestReport,
    record: Callable[[Failure | Skip], None],
    on_saved: Callable[[int, Outcome, Article], None] | None = None,
) -> None:
    """Store each document's article, one transaction each; `on_saved` runs inside it, so
    what it writes commits with the article."""
    for source, ref, page, article in extracted:
        try:
            with store.transaction():
                if page is not None:
                    store.record_page(**vars(page))
                if article is None:
                    continue
                outcome, article_id = store.save_article(article)
                if on_saved is not None:
                    on_saved(article_id, outcome, article)
        except DataError as exc:
            # A value this database cannot hold: that article fails, the batch goes on.
            reason = _("the database refused it: {error}", error=str(exc.orig).splitlines()[0])
            record(Failure(source, ref, "store", reason))
            if page is not None:
                store.record_page(**vars(replace(page, error=reason)))
            continue
        if outcome == "kept":
            report.unchanged += 1
            record(
                Skip(
                    source,
                    ref,
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
