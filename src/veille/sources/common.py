"""Helpers shared by the source adapters."""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime

from veille.extract.published import parse_stamp
from veille.i18n import _
from veille.when import day_only


def parse_when(value: str | None) -> datetime | None:
    """A date from a container field (ISO 8601, RFC 822, or French prose), as
    `veille.when` has it: the instant (aware) when a time is given, with its offset (else
    the local zone's), the day alone otherwise."""
    if not value:
        return None
    parsed = parse_stamp(value)
    if parsed is not None:
        return parsed
    from veille.extract.published import prose_time

    return prose_time(value) or _day(value)


def _day(value: str) -> datetime | None:
    from veille.extract.dates import parse_french_date

    day = parse_french_date(value)
    return day_only(day) if day else None


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates (already normalised to UTC by feedparser)."""
    return datetime(*value[:6], tzinfo=UTC) if value else None


def gunzip(data: bytes, max_bytes: int, error: type[ValueError] = ValueError) -> bytes:
    """Decompress gzip data, every member of it (`cat a.gz b.gz` is one valid gzip file),
    refusing to inflate past `max_bytes` (a gzip bomb)."""
    parts: list[bytes] = []
    size = 0
    while True:
        inflater = zlib.decompressobj(31)
        try:
            out = inflater.decompress(data, max_bytes - size + 1)
        except zlib.error as exc:
            raise error(_("corrupt gzip data ({error})", error=exc)) from exc
        size += len(out)
        if size > max_bytes:
            raise error(_("decompresses to over the {limit:,}-byte limit", limit=max_bytes))
        if not inflater.eof:
            raise error(_("truncated gzip file (the compressed stream ends early)"))
        parts.append(out)
        # Padding zeros after the last member are allowed (tape blocks), as gzip does.
        data = inflater.unused_data
        if not data.strip(b"\x00"):
            return b"".join(parts)
