"""Feed files (RSS 0.9x/1.0/2.0, Atom, JSON Feed via feedparser): one document per entry."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from xml.sax import SAXParseException

import feedparser

from veille.i18n import _
from veille.model import Failure, RawDocument
from veille.sources.common import from_struct_time, parse_when
from veille.sources.gnews import strip_publisher_suffix
from veille.sources.jsonl import RecordError, json_kind, text_field, too_deep
from veille.urls import domain, unwrap_redirect


def read_feed(data: bytes, ref: str, source: str) -> Iterator[RawDocument | Failure]:
    if data.lstrip()[:1] == b"{":
        yield from read_json_feed(data, ref, source)
        return
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
        title = entry.get("title")
        if site and title:
            title = strip_publisher_suffix(title, site)  # Google News: "Titre - Le Monde"
        yield RawDocument(
            ref=entry_ref,
            kind="fragment",
            content=body or "",
            url=url,
            title=title,
            published=parse_when(entry.get("published") or entry.get("updated"))
            or from_struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
            author=entry.get("author"),
            site_name=site or domain(url),
            language=(parsed.feed.get("language") or "")[:2] or None,
        )


def read_json_feed(data: bytes, ref: str, source: str) -> Iterator[RawDocument | Failure]:
    """JSON Feed 1.0/1.1 (feedparser reads only XML feeds)."""
    try:
        feed = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield Failure(source, ref, "read", _("unreadable feed: {error}", error=exc))
        return
    except RecursionError:
        yield Failure(source, ref, "read", _("unreadable feed: {error}", error=too_deep()))
        return
    if not isinstance(feed, dict) or "jsonfeed.org" not in str(feed.get("version", "")):
        yield Failure(source, ref, "read", _("unreadable feed: {error}", error="JSON"))
        return
    language = feed.get("language")
    language = language[:2] if isinstance(language, str) else None
    items = feed.get("items")
    for index, item in enumerate(items if isinstance(items, list) else [], 1):
        item_ref = f"{ref}#entry={index}"
        try:
            document = _json_feed_item(item, item_ref, language)
        except RecordError as exc:
            yield Failure(source, item_ref, "read", str(exc))
            continue
        if document is None:
            yield Failure(source, item_ref, "read", _("feed entry without a link"))
        else:
            yield document


def _json_feed_item(item: object, ref: str, language: str | None) -> RawDocument | None:
    if not isinstance(item, dict):
        raise RecordError(_("expected a JSON object, got {kind}", kind=json_kind(item)))
    url = text_field(item, ("url", "external_url"))
    if not url:
        return None
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
    content = text_field(item, ("content_html", "summary"))
    return RawDocument(
        ref=ref,
        kind="fragment",
        content=content or html.escape(text_field(item, ("content_text",)) or ""),
        url=unwrap_redirect(url),
        title=text_field(item, ("title",)),
        published=parse_when(text_field(item, ("date_published", "date_modified"))),
        author=", ".join(str(n) for n in names) or None,
        site_name=domain(url),
        language=text_field(item, ("language",)) or language,
    )
