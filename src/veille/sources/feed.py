"""Feed files (RSS 0.9x/1.0/2.0, Atom, JSON Feed via feedparser): one document per entry."""

from __future__ import annotations

from collections.abc import Iterator
from xml.sax import SAXParseException

import feedparser

from veille.i18n import _
from veille.model import Failure, RawDocument
from veille.sources.common import from_struct_time, parse_when
from veille.urls import domain, unwrap_redirect


def read_feed(data: bytes, ref: str, source: str) -> Iterator[RawDocument | Failure]:
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None) or _("not a feed")
        yield Failure(source, ref, "read", _("unreadable feed: {error}", error=reason))
        return
    if parsed.bozo and isinstance(parsed.get("bozo_exception"), SAXParseException):
        # Broken XML that feedparser's lenient parser still read: keep what it found,
        # and say so (entries past the break may be missing).
        yield Failure(
            source,
            f"{ref}#malformed",
            "read",
            _(
                "malformed feed, {count} entries recovered: {error}",
                count=len(parsed.entries),
                error=parsed.bozo_exception,
            ),
        )
    for index, entry in enumerate(parsed.entries, 1):
        link = entry.get("link")
        entry_ref = f"{ref}#entry={index}"
        if not link:
            yield Failure(source, entry_ref, "read", _("feed entry without a link"))
            continue
        url = unwrap_redirect(link)
        content = entry.get("content")
        body = content[0].get("value") if content else entry.get("summary", "")
        # Only an entry's own <source> names its outlet: a feed's title names the feed
        # (an alert, an aggregator), so the page or the domain will name the site.
        site = (entry.get("source") or {}).get("title")
        yield RawDocument(
            ref=entry_ref,
            kind="fragment",
            content=body or "",
            url=url,
            title=entry.get("title"),
            published=parse_when(entry.get("published") or entry.get("updated"))
            or from_struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
            author=entry.get("author"),
            site_name=site or domain(url),
            language=(parsed.feed.get("language") or "")[:2] or None,
        )
