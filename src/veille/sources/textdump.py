"""Plain-text dumps: an optional `date YYYY-MM-DD` prefix, then the page text as scraped.

Markdown files are read too, but a digest (a list of links) or a table is not an article:
those are refused with a reason rather than stored as one long article.
"""

from __future__ import annotations

import re
from datetime import datetime

from veille.i18n import _
from veille.when import zone

_DATE_PREFIX = re.compile(r"^\s*date\s+(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?\s*")
_MD_LINK = re.compile(r"\[[^\]\n]{3,}\]\((https?://[^)\s]+)\)")
_MD_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")


class NotAnArticle(ValueError):
    """The text is a valid document, but not an article (a digest, an index, a table)."""


def split_dump(text: str) -> tuple[datetime | None, str]:
    """Separate the `date YYYY-MM-DD [HH:MM]` prefix (if any) from the dump's text: the
    day alone, or the local time (see veille.when)."""
    match = _DATE_PREFIX.match(text)
    if not match:
        return None, text.strip()
    year, month, day, hour, minute = match.groups()
    try:
        when = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
    except ValueError:
        return None, text.strip()
    return (when.replace(tzinfo=zone()) if hour else when), text[match.end() :].strip()


def check_is_article(text: str) -> None:
    """Raise NotAnArticle for link lists and tables, which would pollute stories as 'articles'."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise NotAnArticle(_("no text"))
    links = _MD_LINK.findall(text)
    # Words outside link markup: a digest is mostly titles and snippets hung on links.
    if len(links) >= 3:
        headed = sum(
            1
            for line in lines
            if line.lstrip().startswith(("#", "-", "*")) and _MD_LINK.search(line)
        )
        if headed >= 3 or len(links) >= max(3, len(lines) // 5):
            raise NotAnArticle(
                _(
                    "a list of {count} links (a digest or index), not an article; add the "
                    "feed it was built from as a source instead",
                    count=len(links),
                )
            )
    table_rows = sum(1 for line in lines if _MD_TABLE_ROW.match(line))
    if table_rows >= 3 and table_rows >= len(lines) / 2:
        raise NotAnArticle(_("a table of {count} rows, not article text", count=table_rows))
