"""Helpers shared by the source adapters."""

from __future__ import annotations

import time
import zlib
from datetime import datetime
from email.utils import parsedate_to_datetime

from veille.i18n import _


def parse_when(value: str | None) -> datetime | None:
    """A date from a container field (ISO 8601, RFC 822, or French prose).

    Publication dates keep the publisher's wall-clock time and drop the offset: the day an
    outlet printed on its page is what readers compare, not the UTC instant.
    """
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            from veille.extract.dates import parse_french_date

            day = parse_french_date(value)
            return datetime(day.year, day.month, day.day) if day else None
    return parsed.replace(tzinfo=None)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates (already normalised to UTC by feedparser)."""
    return datetime(*value[:6]) if value else None


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
