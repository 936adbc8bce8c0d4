"""Tell what a file holds from its first bytes, not from its name."""

from __future__ import annotations

import re
from enum import StrEnum

from veille.i18n import N_, _


class Kind(StrEnum):
    WARC = "warc"
    GZIP = "gzip"  # not a WARC: decompressed and sniffed again
    HTML = "html"
    FEED = "feed"
    SITEMAP = "sitemap"
    JSONL = "jsonl"  # also a JSON array or a single JSON object
    TEXT = "text"
    EMPTY = "empty"
    BINARY = "binary"


# Formats people drop into a folder by mistake, named so the error says what they are.
_MAGIC = (
    (b"%PDF", N_("a PDF document")),
    (b"\x89PNG", N_("a PNG image")),
    (b"\xff\xd8\xff", N_("a JPEG image")),
    (b"GIF8", N_("a GIF image")),
    (b"PK\x03\x04", N_("a ZIP archive (or office document)")),
    (b"\x7fELF", N_("an executable")),
    (b"BZh", N_("a bzip2 archive")),
    (b"\xfd7zXZ", N_("an xz archive")),
    (b"SQLite format 3", N_("an SQLite database")),
)

# A namespace prefix is allowed: <r:rss xmlns:r="...">, <rdf:RDF>, <atom:feed>.
_FEED_ROOT = re.compile(rb"<(?:[\w.-]+:)?(rss|feed|RDF)[\s>]", re.IGNORECASE)
_SITEMAP_ROOT = re.compile(rb"<(urlset|sitemapindex)[\s>]", re.IGNORECASE)
_HTML_START = re.compile(
    rb"<(!doctype\s+html|html|head|body|meta|title|article|div|p)[\s>/]", re.IGNORECASE
)


def binary_kind(head: bytes) -> str | None:
    """A human name for a binary format, or None when the bytes may be text."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return _(name)
    sample = head[:8192]
    if not sample:
        return None
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _("binary data")
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return _("binary data") if controls / len(sample) > 0.05 else None


def sniff(head: bytes) -> Kind:
    """Classify a document by its first bytes (64 KiB are plenty)."""
    if head.startswith(b"\x1f\x8b"):
        return Kind.GZIP
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return Kind.EMPTY
    if stripped.startswith(b"WARC/"):
        return Kind.WARC
    if binary_kind(head):
        return Kind.BINARY
    if stripped.startswith(b"<"):
        window = stripped[:4096]
        if _SITEMAP_ROOT.search(window):
            return Kind.SITEMAP
        if _FEED_ROOT.search(window) and not re.search(rb"<html[\s>]", window, re.IGNORECASE):
            return Kind.FEED
        return Kind.HTML
    if stripped.startswith((b"{", b"[")) or _mostly_json_lines(stripped):
        return Kind.JSONL
    if _HTML_START.search(stripped[:2048]) and b"</" in stripped[:65536]:
        return Kind.HTML
    return Kind.TEXT


def _mostly_json_lines(head: bytes) -> bool:
    """JSONL whose first line is not a record (a header, a broken line): at least half of
    the lines are objects, one a line. Read as text, it would become one article."""
    lines = [line.strip() for line in head.split(b"\n")[:200]]
    if len(lines) > 1 and len(head) >= 65536:
        lines.pop()  # cut by the sniffing window
    lines = [line for line in lines if line]
    records = sum(1 for line in lines if line.startswith(b"{") and line.endswith(b"}"))
    return records > 0 and records * 2 >= len(lines)
