"""OPML subscription lists: read the feeds a reader exports, write ours back out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from veille.i18n import _
from veille.sources.sitemap import local_name, parse_xml
from veille.urls import canonical_url

# Nested folders are flattened into one category string, and split back on write.
CATEGORY_SEPARATOR = " / "

# Characters XML 1.0 cannot carry at all; lxml refuses to serialise them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class OpmlError(ValueError):
    """The bytes are not an OPML file we can read; the message says why."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None = None
    html_url: str | None = None
    category: str | None = None  # the folder path, "Presse / Régionale"


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds an OPML file subscribes to, in document order, each URL once."""
    root = parse_xml(data, OpmlError)
    if local_name(root) != "opml":
        raise OpmlError(
            _("not an OPML file: the root element is <{tag}>", tag=local_name(root) or "?")
        )
    body = next((c for c in root if local_name(c) == "body"), None)
    if body is None:
        raise OpmlError(_("OPML file without a <body> element"))
    found: dict[str, OpmlFeed] = {}
    _walk(body, (), found)
    return list(found.values())


def _walk(parent: etree._Element, path: tuple[str, ...], found: dict[str, OpmlFeed]) -> None:
    for outline in parent:
        if local_name(outline) != "outline":
            continue
        # Readers disagree on case (xmlUrl, xmlurl, XMLURL): attributes are matched without it.
        attrs = {_attribute_name(k): " ".join(v.split()) for k, v in outline.attrib.items()}
        label = attrs.get("title") or attrs.get("text") or None
        url = _feed_url(attrs)
        if url is None:
            # An outline without a feed is a folder: its title joins the category path.
            _walk(outline, (*path, label) if label else path, found)
            continue
        key = canonical_url(url)
        if key not in found:
            found[key] = OpmlFeed(
                url=url,
                # A "title" that merely repeats the URL (OPML requires text=) says nothing.
                title=label if label != url else None,
                html_url=_http_url(attrs.get("htmlurl")),
                category=CATEGORY_SEPARATOR.join(path) or _category_attribute(attrs),
            )
        _walk(outline, path, found)  # some exports nest items under their feed


def write_opml(feeds: list[OpmlFeed], title: str) -> bytes:
    """An OPML 2.0 document (UTF-8) with one folder outline per category level.

    No <dateCreated>: the same feeds give the same bytes, so exports diff cleanly.
    """
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_safe(title)
    body = etree.SubElement(root, "body")
    folders: dict[tuple[str, ...], etree._Element] = {(): body}
    for feed in feeds:
        parent = _folder(folders, _segments(feed.category))
        attrs = {"type": "rss", "text": _xml_safe(feed.title or feed.url)}
        if feed.title:
            attrs["title"] = _xml_safe(feed.title)
        attrs["xmlUrl"] = _xml_safe(feed.url)
        if feed.html_url:
            attrs["htmlUrl"] = _xml_safe(feed.html_url)
        etree.SubElement(parent, "outline", attrs)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _folder(
    folders: dict[tuple[str, ...], etree._Element], path: tuple[str, ...]
) -> etree._Element:
    if path not in folders:
        parent = _folder(folders, path[:-1])
        name = _xml_safe(path[-1])
        folders[path] = etree.SubElement(parent, "outline", text=name, title=name)
    return folders[path]


def _segments(category: str | None) -> tuple[str, ...]:
    if not category:
        return ()
    return tuple(s.strip() for s in category.split(CATEGORY_SEPARATOR) if s.strip())


def _feed_url(attrs: dict[str, str]) -> str | None:
    url = attrs.get("xmlurl")
    if not url and attrs.get("type", "").lower() in ("rss", "atom"):
        url = attrs.get("url")  # a few old exporters
    if not url:
        return None
    # feed://host/path and feed:https://host/path are old browser-handler spellings.
    if url.lower().startswith("feed:"):
        rest = url[5:]
        url = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    return _http_url(url)


def _http_url(url: str | None) -> str | None:
    # Only web URLs: a subscription to file:///etc/passwd must not reach the fetcher.
    try:
        parts = urlsplit(url or "")
    except ValueError:  # "http://[x": a bracketed host that is no IPv6 address
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _category_attribute(attrs: dict[str, str]) -> str | None:
    """OPML 2.0's category="/Presse/Régionale,/Autre": the first one, as a folder path."""
    first = attrs.get("category", "").split(",")[0]
    parts = [p.strip() for p in first.split("/") if p.strip()]
    return CATEGORY_SEPARATOR.join(parts) or None


def _attribute_name(attribute: str) -> str:
    return attribute.rsplit("}", 1)[-1].lower()


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)
