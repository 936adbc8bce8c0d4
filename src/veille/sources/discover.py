"""Feed autodiscovery: the feeds a web page announces, and telling a feed from a page."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

_KINDS = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",  # JSON Feed 1.0's type, before feed+json was registered
}

# The XML that may come before the root element: declaration, comments, processing
# instructions, a DOCTYPE (RSS 0.91 has one, with an optional internal subset).
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)
_FEED_ROOT = re.compile(r"\s*<(?:[\w.-]+:)?(?:rss|feed|RDF)[\s>/]", re.I)


@dataclass(frozen=True)
class DiscoveredFeed:
    url: str
    title: str | None
    kind: str  # "rss", "atom" or "json"


def discover_feeds(html: str, base_url: str) -> list[DiscoveredFeed]:
    """The feeds a page links with <link rel="alternate" type="...">, in document order."""
    collector = _LinkCollector()
    try:
        collector.feed(html)
        collector.close()
    except AssertionError:
        pass  # html.parser gives up on some odd markup (<![foo[): keep what came before
    base = _join(base_url, collector.base or "") or base_url
    found: dict[str, DiscoveredFeed] = {}
    for attrs in collector.links:
        if "alternate" not in attrs.get("rel", "").lower().split():
            continue
        kind = _KINDS.get(attrs.get("type", "").split(";")[0].strip().lower())
        href = attrs.get("href", "").strip()
        if not kind or not href:
            continue
        url = _join(base, href)
        parts = urlsplit(url or "")
        if not url or parts.scheme not in ("http", "https"):
            continue
        # WordPress announces the page's REST API entry as an application/json alternate
        # on its pages: not a feed.
        if kind == "json" and ("/wp-json/" in parts.path or "rest_route=" in parts.query):
            continue
        if url not in found:
            title = " ".join(attrs.get("title", "").split()) or None
            found[url] = DiscoveredFeed(url=url, title=title, kind=kind)
    return list(found.values())


def _join(base: str, href: str) -> str | None:
    try:
        joined = urljoin(base, href)
        urlsplit(joined)
    except ValueError:  # "http://[x": a bracketed host that is no IPv6 address
        return None
    return joined.split("#", 1)[0]


def looks_like_feed(data: bytes) -> bool:
    """Whether the bytes are an RSS, Atom or RDF document or a JSON Feed (not a web page)."""
    head = data[:65536]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if text.lstrip().startswith("{"):
        return _is_json_feed(data)
    position = 0
    while match := _PROLOG.match(text, position):
        position = match.end()
    return bool(_FEED_ROOT.match(text, position))


def _is_json_feed(data: bytes) -> bool:
    try:
        parsed = json.loads(data)  # bytes: json detects UTF-8/16/32 and a BOM itself
    except (ValueError, RecursionError):
        return False
    version = parsed.get("version") if isinstance(parsed, dict) else None
    return isinstance(version, str) and "jsonfeed.org" in version


class _LinkCollector(HTMLParser):
    """Collects the attributes of every <link> and the first <base href>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("link", "base"):
            return
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")  # browsers keep the first duplicate
        if tag == "link":
            self.links.append(values)
        elif self.base is None and values.get("href", "").strip():
            self.base = values["href"].strip()
