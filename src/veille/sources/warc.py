"""WARC / WARC.gz archives: the HTML pages among their response records.

A corrupt record is reported and skipped: reading resumes at the next record boundary,
so one bad record never costs the rest of an archive.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from veille.i18n import _
from veille.model import Failure, RawDocument

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_SCAN_CHUNK = 1 << 20


def read_warc(
    stream: BinaryIO, ref: str, source: str, max_bytes: int
) -> Iterator[RawDocument | Failure]:
    gzipped = stream.read(2) == b"\x1f\x8b"
    start: int | None = 0
    # Damage seen after a good record: reported once we know whether the next boundary
    # parses (the damage was before it) or not (that record is the damaged one).
    suspect: tuple[int, Exception] | None = None
    while start is not None:
        stream.seek(start)
        records = ArchiveIterator(stream, no_record_parse=False)
        last_done: int | None = None
        end = start
        try:
            for record in records:
                doc = _record_to_document(record, ref, source, max_bytes)
                # Asking for the offset reads the record to its end: only after the body.
                offset = records.get_record_offset()
                if not _complete(record):
                    raise EOFError(_("record truncated: the archive ends inside it"))
                last_done = start + offset
                end = last_done + records.get_record_length()
                if suspect:
                    yield _damage(source, ref, *suspect)
                    suspect = None
                if doc is not None:
                    yield replace(doc, ref=f"{ref}@{last_done}")
            if _more_after(stream, end):
                # warcio ends quietly when the file stops inside a record's headers.
                yield Failure(
                    source,
                    f"{ref}@{end}",
                    "read",
                    _(
                        "truncated WARC archive: it ends inside the record at byte {offset}",
                        offset=end,
                    ),
                )
            break
        except Exception as exc:  # warcio raises many types on damaged input
            if last_done is None:
                yield _damage(source, ref, start, exc)
                suspect = None
                start = _next_record_start(stream, start + 1, gzipped)
            else:
                suspect = (last_done + 1, exc)
                start = _next_record_start(stream, last_done + 1, gzipped)
    if suspect:
        yield _damage(source, ref, *suspect)


def _damage(source: str, ref: str, offset: int, exc: Exception) -> Failure:
    return Failure(
        source,
        f"{ref}@{offset}",
        "read",
        _(
            "corrupt WARC data after byte {offset} ({error}); skipped to the next record",
            offset=offset,
            error=_describe(exc),
        ),
    )


def _record_to_document(
    record, ref: str, source: str, max_bytes: int
) -> RawDocument | Failure | None:
    if record.rec_type not in ("response", "resource"):
        return None
    content_type = ""
    if record.http_headers is not None:
        status = record.http_headers.get_statuscode()
        if status and not status.startswith("2"):
            return None
        content_type = record.http_headers.get_header("Content-Type") or ""
    else:
        content_type = record.rec_headers.get_header("Content-Type") or ""
    if not content_type.lower().startswith(_HTML_TYPES):
        return None
    body = record.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        return Failure(
            source, ref, "read", _("record over the {limit:,}-byte limit", limit=max_bytes)
        )
    return RawDocument(
        ref=ref,
        kind="html",
        content=body,
        url=record.rec_headers.get_header("WARC-Target-URI"),
        content_type=content_type,
    )


def _next_record_start(stream: BinaryIO, offset: int, gzipped: bool) -> int | None:
    """Byte offset of the next plausible record at or after `offset`, or None."""
    marker = _GZIP_MAGIC if gzipped else b"WARC/1."
    position = offset
    while True:
        stream.seek(position)
        chunk = stream.read(_SCAN_CHUNK + len(marker))
        if not chunk:
            return None
        index = chunk.find(marker)
        while index != -1:
            candidate = position + index
            if _looks_like_record(stream, candidate, gzipped):
                return candidate
            index = chunk.find(marker, index + 1)
        position += _SCAN_CHUNK


def _looks_like_record(stream: BinaryIO, offset: int, gzipped: bool) -> bool:
    stream.seek(offset)
    head = stream.read(4096)
    if not gzipped:
        return offset == 0 or _preceded_by_newline(stream, offset)
    try:
        return zlib.decompressobj(31).decompress(head).startswith(b"WARC/")
    except zlib.error:
        return False


def _complete(record) -> bool:
    """Whether the record was read whole: its Content-Length (mandatory in WARC, missing
    when the file ends inside the headers) declared, and that many bytes found."""
    declared = (record.rec_headers.get_header("Content-Length") or "").strip()
    return declared.isdigit() and getattr(record.raw_stream, "limit", 1) == 0


def _more_after(stream: BinaryIO, offset: int) -> bool:
    """Whether anything but blank lines follows `offset`."""
    stream.seek(offset)
    while chunk := stream.read(_SCAN_CHUNK):
        if chunk.strip():
            return True
    return False


def _preceded_by_newline(stream: BinaryIO, offset: int) -> bool:
    stream.seek(offset - 1)
    return stream.read(1) == b"\n"


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."
