"""WARC / WARC.gz archives: the HTML pages among their response records.

A corrupt record is reported and skipped: reading resumes at the next record boundary,
so one bad record never costs the rest of an archive.

A gzipped archive (one member per record) can be read in byte ranges (`start`, `end`),
one per worker: a range reads the records that begin inside it, from the first member at
or after `start` that holds a record, so the ranges of a file read together give the
records (and the damage) of reading it whole.
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
_MEMBER_LIMIT = 64 << 20


def read_warc(
    stream: BinaryIO,
    ref: str,
    source: str,
    max_bytes: int,
    start: int = 0,
    end: int | None = None,
) -> Iterator[RawDocument | Failure]:
    """The HTML pages of the records beginning in [`start`, `end`), and the damage found
    there; the whole archive by default."""
    stream.seek(0)
    gzipped = stream.read(2) == b"\x1f\x8b"
    position = _range_start(stream, start, end) if start else 0
    # Damage seen after a good record: reported once we know whether the next boundary
    # parses (the damage was before it) or not (that record is the damaged one).
    suspect: tuple[int, Exception] | None = None
    while position is not None:
        stream.seek(position)
        records = ArchiveIterator(stream, no_record_parse=False)
        last_done: int | None = None
        last_end = position
        try:
            for record in records:
                doc = _record_to_document(record, ref, source, max_bytes)
                # Asking for the offset reads the record to its end: only after the body.
                # warcio counts it from the file's start (the stream's position), wherever
                # reading began.
                offset = records.get_record_offset()
                if end is not None and offset >= end:
                    # The next range's first record: the damage before it is this range's.
                    if suspect:
                        yield _damage(source, ref, *suspect)
                    return
                if not _complete(record):
                    raise EOFError(_("record truncated: the archive ends inside it"))
                last_done, last_end = offset, offset + records.get_record_length()
                if suspect:
                    yield _damage(source, ref, *suspect)
                    suspect = None
                if doc is not None:
                    yield replace(doc, ref=f"{ref}@{last_done}")
            if _more_after(stream, last_end):
                # warcio ends quietly when the file stops inside a record's headers.
                yield Failure(
                    source,
                    f"{ref}@{last_end}",
                    "read",
                    _(
                        "truncated WARC archive: it ends inside the record at byte {offset}",
                        offset=last_end,
                    ),
                )
            break
        except Exception as exc:  # warcio raises many types on damaged input
            if last_done is None:
                if end is not None and position >= end:
                    return  # a damaged record the next range reports
                yield _damage(source, ref, position, exc)
                suspect = None
                position = _next_record_start(stream, position + 1, gzipped)
            else:
                # The error as read from where the damage begins: the one raised here
                # depends on how far the reader had buffered, so on where it started.
                suspect = (last_done + 1, _error_at(stream, last_end) or exc)
                position = _next_record_start(stream, last_done + 1, gzipped)
    if suspect:
        yield _damage(source, ref, *suspect)


def splittable(stream: BinaryIO) -> bool:
    """Whether the archive can be read in byte ranges: gzipped one record per member, as
    WARC files are written. Not an uncompressed archive: a record whose Content-Length
    lies takes the next one with it when read from the start, and a range starting
    between them would not; nor one gzip stream over the whole file."""
    stream.seek(0)
    if stream.read(2) != b"\x1f\x8b":
        return False
    stream.seek(0)
    inflater = zlib.decompressobj(31)
    # A record member is a few kilobytes to a few megabytes; a first member longer than
    # this is a whole-file stream, which only one reader can take from its start.
    for _chunk in range(_MEMBER_LIMIT // _SCAN_CHUNK):
        chunk = stream.read(_SCAN_CHUNK)
        if not chunk:
            return False
        try:
            inflater.decompress(chunk, 1 << 16)
            while inflater.unconsumed_tail and not inflater.eof:
                inflater.decompress(inflater.unconsumed_tail, 1 << 16)
        except zlib.error:
            return False
        if inflater.eof:
            return bool(inflater.unused_data or stream.read(1))
    return False


def _range_start(stream: BinaryIO, start: int, end: int | None) -> int | None:
    """The first gzip member holding a record at or after `start` (before `end`), or
    None."""
    found = _next_record_start(stream, start, gzipped=True)
    return None if found is None or (end is not None and found >= end) else found


def _error_at(stream: BinaryIO, offset: int) -> Exception | None:
    """What reading the record at `offset` from there raises (None if it reads)."""
    stream.seek(offset)
    try:
        for record in ArchiveIterator(stream, no_record_parse=False):
            record.content_stream().read()
            break
    except Exception as exc:  # warcio raises many types on damaged input
        return exc
    return None


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
