"""Polling a source: a feed or a sitemap, on the web or on disk, into pages to fetch.

Each page comes as a "fragment" document carrying what the source said about it (title,
date, snippet): it is what gets stored, as a link, when the page itself cannot be fetched.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser

from veille.encoding import as_utf8, decode
from veille.extract.clean import clean_inline
from veille.fetch import Fetcher, FetchError
from veille.i18n import _
from veille.model import Failure, RawDocument, Source
from veille.sources.discover import discover_feeds, looks_like_feed
from veille.sources.feed import read_feed
from veille.sources.sitemap import Sitemap, SitemapError, parse_sitemap, sitemaps_from_robots
from veille.when import to_store

_OTHER_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
# A sitemap index of a big site lists hundreds of children: the newest few are enough
# to follow the news.
MAX_CHILD_SITEMAPS = 5


class PollError(Exception):
    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class Poll:
    items: list[RawDocument] = field(default_factory=list)
    problems: list[Failure] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    status: int | None = None
    warning: str | None = None  # read, but not cleanly: shown as the source's last error


async def poll(source: Source, fetcher: Fetcher | None) -> Poll:
    """Read the source once (a conditional GET on the web); raises PollError."""
    if not source.location.startswith(("http://", "https://")):
        data, result = _read_local(source.location), None
    else:
        assert fetcher is not None
        try:
            result = await fetcher.fetch(
                source.location, etag=source.etag, last_modified=source.last_modified
            )
        except FetchError as exc:
            raise PollError(exc.reason, exc.status) from exc
        if result.not_modified:
            return Poll(
                not_modified=True,
                etag=source.etag or result.etag,
                last_modified=source.last_modified or result.last_modified,
                status=304,
            )
        data = result.content
    if source.kind == "sitemap":
        found = await _poll_sitemap(data, source, fetcher)
    else:
        found = _poll_feed(data, source)
    if result is not None:
        found.etag, found.last_modified, found.status = (
            result.etag,
            result.last_modified,
            result.status,
        )
    return found


def _read_local(location: str) -> bytes:
    try:
        return Path(location).read_bytes()
    except OSError as exc:
        raise PollError(_("cannot read the file: {error}", error=exc.strerror or exc)) from exc


def _poll_feed(data: bytes, source: Source) -> Poll:
    data = as_utf8(data)
    if not looks_like_feed(data):
        head = data[:2048].lower()
        if b"<html" in head or b"<!doctype html" in head:
            raise PollError(_("not a feed: the address answers with an HTML page"))
        raise PollError(_("not a feed (malformed or unknown format)"))
    found = Poll()
    for item in read_feed(data, source.location, source.location):
        if isinstance(item, Failure):
            if item.ref == source.location:  # the whole feed is unreadable
                raise PollError(item.reason)
            if item.ref.endswith("#malformed"):
                found.warning = item.reason
            found.problems.append(item)
        else:
            found.items.append(item)
    return found


async def _poll_sitemap(data: bytes, source: Source, fetcher: Fetcher | None) -> Poll:
    try:
        sitemap = parse_sitemap(data, source.location)
    except SitemapError as exc:
        raise PollError(str(exc)) from exc
    found = Poll()
    pages = list(sitemap.pages)
    for child in _newest_children(sitemap):
        if fetcher is None or not child.startswith(("http://", "https://")):
            continue
        try:
            result = await fetcher.fetch(child)
            pages.extend(parse_sitemap(result.content, child).pages)
        except (FetchError, SitemapError) as exc:
            reason = exc.reason if isinstance(exc, FetchError) else str(exc)
            found.problems.append(Failure(source.location, child, "poll", reason))
    for index, page in enumerate(pages, 1):
        found.items.append(
            RawDocument(
                ref=f"{source.location}#url={index}",
                kind="fragment",
                content="",
                url=page.url,
                title=page.title,
                published=page.published or page.lastmod,
                language=page.language,
            )
        )
    return found


def _newest_children(sitemap: Sitemap) -> list[str]:
    # Children are usually named by date ("sitemap-2026-02.xml"): newest names sort last.
    def key(url: str) -> tuple[str, str]:
        digits = "".join(re.findall(r"\d+", url))
        return digits, url

    return sorted(sitemap.sitemaps, key=key)[-MAX_CHILD_SITEMAPS:]


def published_per_week(items: list[RawDocument], now: datetime) -> int:
    """How many of the items were published in the last seven days (for scheduling)."""
    return sum(
        1 for item in items if item.published and 0 <= (now - _naive_utc(item.published)).days < 7
    )


def _naive_utc(value: datetime) -> datetime:
    return to_store(value)[0] or value


@dataclass(frozen=True)
class Found:
    """What an address given to `veille source add` turned out to be."""

    kind: str  # "feed" or "sitemap"
    location: str
    title: str | None
    alternatives: tuple[str, ...] = ()  # other feeds the page announced


async def identify(location: str, fetcher: Fetcher | None) -> Found:
    """A feed or sitemap file or URL as is; a web page by the feeds it announces, else by
    the sitemaps its robots.txt lists. Raises PollError when nothing is found."""
    if not location.startswith(("http://", "https://")):
        if _OTHER_SCHEME.match(location):
            raise PollError(
                _(
                    "unsupported address {location}: an http(s) URL or a local file",
                    location=location,
                )
            )
        # realpath, not Path.resolve: a symbolic link loop is then an unreadable file.
        path = os.path.realpath(Path(location).expanduser())
        return _identify_bytes(_read_local(path), path)
    assert fetcher is not None
    try:
        result = await fetcher.fetch(location)
    except FetchError as exc:
        raise PollError(exc.reason, exc.status) from exc
    try:
        return _identify_bytes(result.content, result.final_url)
    except PollError:
        pass
    html = decode(result.content, result.content_type)
    feeds = discover_feeds(html, result.final_url)
    if feeds:
        return Found("feed", feeds[0].url, feeds[0].title, tuple(feed.url for feed in feeds[1:]))
    parts = urlsplit(result.final_url)
    try:
        robots = await fetcher.fetch(f"{parts.scheme}://{parts.netloc}/robots.txt", robots=False)
        sitemaps = sitemaps_from_robots(robots.content.decode("utf-8", "replace"))
    except FetchError:
        sitemaps = []
    if sitemaps:
        return Found("sitemap", sitemaps[0], None, tuple(sitemaps[1:]))
    raise PollError(_("no feed or sitemap found at {location}", location=location))


def _identify_bytes(data: bytes, location: str) -> Found:
    data = as_utf8(data)
    if looks_like_feed(data):
        title = feedparser.parse(data).feed.get("title")
        return Found("feed", location, clean_inline(title) if title else None)
    try:
        parse_sitemap(data, location)
    except SitemapError as exc:
        raise PollError(_("neither a feed nor a sitemap: {location}", location=location)) from exc
    return Found("sitemap", location, None)
