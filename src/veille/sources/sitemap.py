"""Sitemaps (plain, index, Google News, gzipped) and the `Sitemap:` lines of robots.txt.

Also home of `parse_xml`, the one way veille parses untrusted XML (sitemaps, OPML).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree

from veille.i18n import _
from veille.sources.common import gunzip, parse_when

# The sitemap protocol caps a file at 50 MB uncompressed; past that it is a gzip bomb.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024

# A bare "&" (not the start of an XML reference) is the commonest way publishers break
# their XML ("?a=1&b=2" in a URL); libxml2's recovery drops the text after it, so it is
# escaped instead. HTML names like "&eacute;" become literal text, unescaped in titles.
_BARE_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class SitemapError(ValueError):
    """The bytes are not a sitemap we can read; the message says why."""


@dataclass(frozen=True)
class SitemapPage:
    url: str
    lastmod: datetime | None = None
    # From a Google News sitemap's <news:news> block, when there is one.
    title: str | None = None
    published: datetime | None = None
    language: str | None = None


@dataclass(frozen=True)
class Sitemap:
    pages: list[SitemapPage] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # children of a sitemap index


def parse_sitemap(data: bytes, base_url: str, max_bytes: int = MAX_SITEMAP_BYTES) -> Sitemap:
    """The pages (a <urlset>) or child sitemaps (a <sitemapindex>) a sitemap lists.

    Relative locations are resolved against `base_url`; anything that is not http(s)
    afterwards is dropped, so a hostile index cannot send the fetcher to file:// URLs.
    """
    if data.startswith(b"\x1f\x8b"):
        data = gunzip(data, max_bytes, SitemapError)
    root = parse_xml(data, SitemapError)
    kind = local_name(root)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(
            _(
                "not a sitemap: the root element is <{tag}>, expected <urlset> or <sitemapindex>",
                tag=kind or "?",
            )
        )
    pages: dict[str, SitemapPage] = {}
    sitemaps: dict[str, None] = {}
    # Both kinds are read whatever the root says: some generators mix them.
    for element in root:
        name = local_name(element)
        if name not in ("url", "sitemap"):
            continue
        fields = children(element)
        url = _absolute(text_of(fields.get("loc")), base_url)
        if not url:
            continue
        if name == "sitemap":
            sitemaps.setdefault(url, None)
        elif url not in pages:
            pages[url] = _page(fields, url)
    return Sitemap(pages=list(pages.values()), sitemaps=list(sitemaps))


def sitemaps_from_robots(robots_txt: str) -> list[str]:
    """The sitemap URLs a robots.txt declares, in order, without duplicates."""
    found: dict[str, None] = {}
    for line in robots_txt.splitlines():
        line = line.split("#", 1)[0].strip().lstrip("\ufeff")
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "sitemap":
            url = value.strip()
            # The robots.txt standard wants absolute URLs; a relative one has no sure base.
            if _absolute(url, "") == url:
                found.setdefault(url, None)
    return list(found)


def _page(fields: dict[str, etree._Element], url: str) -> SitemapPage:
    lastmod = parse_when(text_of(fields.get("lastmod")))
    if "news" not in fields:
        return SitemapPage(url=url, lastmod=lastmod)
    news = children(fields["news"])
    title = text_of(news.get("title")) or ""
    language = text_of(children(news.get("publication")).get("language")) or ""
    return SitemapPage(
        url=url,
        lastmod=lastmod,
        title=" ".join(html.unescape(title).split()) or None,
        published=parse_when(text_of(news.get("publication_date"))),
        # Same form as feed languages: the primary subtag ("fr" for "fr-FR", "zh-cn").
        language=language.lower().split("-")[0] or None,
    )


def _absolute(location: str | None, base_url: str) -> str | None:
    if not location:
        return None
    if location[:8].lower().startswith(("https://", "http://")) and "[" not in location:
        return location  # the usual case, and urljoin is the slowest step on 50,000 URLs
    try:
        url = urljoin(base_url, location)
        scheme = urlsplit(url).scheme
    except ValueError:  # "http://[x": a bracketed host that is no IPv6 address
        return None
    return url if scheme in ("http", "https") else None


def parse_xml(data: bytes, error: type[ValueError] = ValueError) -> etree._Element:
    """The root of an untrusted XML document, with XML's dangerous features turned off.

    No external entity, DTD or network access (XXE), libxml2's size and amplification
    limits kept (`huge_tree=False`: billion laughs), and documents that declare entities
    or point at a DTD refused outright: no sitemap or OPML file needs them, and a value
    with an entity left unexpanded (libxml2 drops it from attributes) is worse than an
    error. Broken XML is recovered when libxml2 can make sense of it.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.startswith(_UTF16_BOMS):
        # Whitespace before the XML declaration is a fatal error to libxml2, and common.
        data = data.lstrip(b" \t\r\n")
    if not data:
        raise error(_("empty file"))
    options = {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }
    strict = etree.XMLParser(**options)
    try:
        root = etree.fromstring(data, strict)
    except etree.XMLSyntaxError as exc:
        if not data.startswith(_UTF16_BOMS):
            data = _BARE_AMPERSAND.sub(b"&amp;", data)
            # A well-formed document ends with ">": bytes after the last one are a cut
            # download, and recovery would keep "https://www.exe" as a whole URL.
            data = data[: data.rfind(b">") + 1] or data
        parser = etree.XMLParser(recover=True, **options)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            # The parser's own log: the exception's may hold errors of earlier parses.
            first = strict.error_log[0] if len(strict.error_log) else None
            raise error(
                _(
                    "unreadable XML at line {line}: {error}",
                    line=first.line if first else exc.lineno,
                    error=first.message if first else exc.msg,
                )
            ) from exc
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if (
        docinfo.system_url
        or docinfo.public_id
        or (dtd is not None and any(True for _entity in dtd.iterentities()))
    ):
        raise error(_("the document declares XML entities or a DTD, refused as unsafe"))
    return root


def local_name(element: etree._Element | None) -> str:
    """'loc' for '{http://www.sitemaps.org/...}loc', 'news:title' (undeclared prefix), 'LOC'."""
    if element is None or not isinstance(element.tag, str):
        return ""  # comments, processing instructions, entity references
    return element.tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def children(element: etree._Element | None) -> dict[str, etree._Element]:
    """Direct children by local name (any namespace or none); the first of a name wins."""
    found: dict[str, etree._Element] = {}
    if element is not None:
        for item in element:
            found.setdefault(local_name(item), item)
    return found


def text_of(element: etree._Element | None) -> str | None:
    """An element's stripped text; None when empty or when it holds an unresolved entity."""
    if element is None:
        return None
    if next(element.iter(etree.Entity), None) is not None:
        return None  # part of the value is missing: better no value than a wrong one
    return "".join(element.itertext()).strip() or None
