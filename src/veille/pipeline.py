"""The pipeline, top to bottom: read inputs, extract articles, clean across pages, store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from veille.config import Settings
from veille.extract import ExtractError, content_hash, extract
from veille.extract.clean import fold, site_repeated_lines
from veille.model import Article, Failure, RawDocument, Skip, Source
from veille.sources.local import read_path
from veille.store import Store
from veille.urls import domain

# Documents extracted together, so lines repeated across one site's pages can be found.
BATCH_SIZE = 200


@dataclass
class IngestReport:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)


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
            articles: list[Article] = []
            for item in batch:
                if on_item:
                    on_item(item.ref)
                if isinstance(item, RawDocument):
                    report.read += 1
                    try:
                        articles.append(extract(item, source))
                    except ExtractError as exc:
                        _record(store, report, Failure(source, item.ref, "extract", str(exc)))
                else:
                    _record(store, report, item)
            for article in drop_site_furniture(articles):
                outcome, _ = store.save_article(article)
                setattr(report, outcome, getattr(report, outcome) + 1)
    return report


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
