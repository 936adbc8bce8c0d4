"""Bytes to text: declared, sniffed and guessed encodings, then encoding damage repaired."""

from __future__ import annotations

import codecs
import re

import charset_normalizer
import ftfy

from veille.i18n import _

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_\-.]+)""")

# Browsers decode these labels as windows-1252 (WHATWG Encoding): pages that say
# ISO-8859-1 routinely contain curly quotes and the euro sign from 1252.
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819"}

_WESTERN_LOOKALIKES = {
    "cp1250",
    "cp1252",
    "cp1254",
    "cp1257",
    "iso8859-1",
    "iso8859-2",
    "iso8859-9",
    "iso8859-15",
    "mac-latin2",
    "mac-roman",
}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# ftfy's defaults also straighten quotes and fold full-width letters: that would change
# the text a reader quotes, so only the repairs of real damage are kept.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    normalization="NFC",
)


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we can tell."""


def _normalise_label(label: str) -> str | None:
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return _normalise_label(match.group(1)) if match else None


def declared_charset(data: bytes) -> str | None:
    """Charset declared inside the document (meta tag or XML prolog), if any."""
    head = data[:8192]  # some pages put the meta tag well past the first 1024 bytes
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return _normalise_label(match.group(1).decode("ascii", "ignore")) if match else None


def decode(data: bytes, content_type: str | None = None) -> str:
    """Decode bytes as a browser would, trusting the bytes over a lying declaration.

    Order: BOM; UTF-8 when the bytes are (nearly all) valid UTF-8 (genuine windows-1252
    text almost never is, while pages labelled "iso-8859-1" that are UTF-8 are common);
    the HTTP charset; the in-document declaration; a statistical guess. Mojibake is
    repaired later, on the extracted text only (`fix_text`): on a whole page it costs more
    than the extraction.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace")
    if data.isascii():
        return data.decode("ascii")
    if _mostly_decodes(data, "utf-8"):
        return data.decode("utf-8", errors="replace")
    for label in (charset_from_content_type(content_type), declared_charset(data)):
        if label and _mostly_decodes(data, label):
            return data.decode(label, errors="replace")
    best = charset_normalizer.from_bytes(data[: 1024 * 1024]).best()
    if best is None or best.encoding is None:
        raise UndecodableError(_("not text in any known encoding"))
    label = _normalise_label(best.encoding) or best.encoding
    if label in _WESTERN_LOOKALIKES:
        # Latin code pages are hard to tell apart on short texts; French and other
        # Western pages are windows-1252 far more often than Central European ones.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return data.decode(label, errors="replace")


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 told by a byte order mark, or without one by the zero bytes around
    a first ASCII character ("<", "{"), as XML 1.0 Appendix F and RFC 4627 detect them."""
    for bom, name in _BOMS[1:]:
        if head.startswith(bom):
            return name
    zeros = tuple(byte == 0 for byte in head[:4])
    return {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }.get(zeros)


def as_utf8(data: bytes) -> bytes:
    """A UTF-16 or UTF-32 document re-encoded as UTF-8, its XML declaration saying so; any
    other bytes unchanged. Sniffers, feedparser and JSON readers downstream then see the
    ASCII-compatible bytes they expect (a wide feed otherwise looks like binary data)."""
    name = _wide_encoding(data[:4])
    if name is None:
        return data
    try:
        text = data.decode(name)
    except UnicodeDecodeError:
        return data  # not text after all: left for the binary check to refuse
    text = text.removeprefix("\ufeff")
    if any(char < " " and char not in "\t\r\n" for char in text[:4096]):
        return data
    text = re.sub(
        r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""", r'\1"utf-8"', text, count=1
    )
    return text.encode("utf-8")


def _mostly_decodes(data: bytes, label: str) -> bool:
    """Decodes cleanly, or nearly: a page cut mid-character or one bad paste leaves a few
    invalid bytes among many good non-ASCII characters; those are replaced rather than
    letting a guess garble the whole page. A Latin-1 page read as UTF-8 has no good
    multi-byte characters at all, so it fails here."""
    try:
        data.decode(label)
        return True
    except LookupError:
        return False
    except UnicodeDecodeError:
        pass
    text = data.decode(label, errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for char in text if ord(char) > 0x7F) - bad
    return good >= 20 * bad


def fix_text(text: str) -> str:
    """Repair encoding damage (UTF-8 read as Latin-1 and the like) without restyling."""
    return ftfy.fix_text(text, _FTFY)
