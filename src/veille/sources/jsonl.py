"""JSONL (one article a line), a JSON array of articles, or one JSON article.

Lines are split on "\\n" alone: U+2028, U+0085 and the like are valid inside JSON strings,
and `str.splitlines()` would cut a record at them. A line that is not a record (a broken
first line, a record nested past Python's recursion limit, a field of the wrong type) is
one failure, and the other lines are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from veille.i18n import _
from veille.model import Failure, RawDocument
from veille.sources.common import parse_when

# Field names seen in scraper exports, in order of preference.
_URL = ("url", "link", "canonical_url", "href")
_TITLE = ("title", "headline")
_HTML = ("html", "raw_html", "content_html")
_TEXT = ("text", "content", "body", "articleBody", "maintext", "description")
_DATE = (
    "date",
    "published",
    "published_at",
    "publishing_date",
    "date_publish",
    "pubDate",
    "datePublished",
    "created_at",
)
_AUTHOR = ("author", "authors", "byline")
_SITE = ("site", "site_name", "source", "source_domain", "publisher")
_LANG = ("language", "lang")


class RecordError(ValueError):
    """A JSON value that is not an article record; the message says why."""


def _first(record: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    for name in names:
        value = record.get(name)
        if value not in (None, "", []):
            return name, value
    return names[0], None


def json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return _("a boolean")
    if isinstance(value, int | float):
        return _("a number")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("an object")
    return _("a string")


def _wrong(name: str, value: Any) -> RecordError:
    return RecordError(
        _("field “{field}”: expected text, got {kind}", field=name, kind=json_kind(value))
    )


def text_field(record: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The first non-empty field of `names`, which must be text."""
    name, value = _first(record, names)
    if value is not None and not isinstance(value, str):
        raise _wrong(name, value)
    return value


def _names(record: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """Text, a name object ({"name": ...}, as schema.org writes authors and publishers) or
    a list of them."""
    name, value = _first(record, names)
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("name") or item.get("title")
        if item is None:
            continue
        if not isinstance(item, str):
            raise _wrong(name, item)
        found.append(item)
    return ", ".join(found) or None


def record_to_document(record: Any, ref: str) -> RawDocument:
    if not isinstance(record, dict):
        raise RecordError(_("expected a JSON object, got {kind}", kind=json_kind(record)))
    html = text_field(record, _HTML)
    text = text_field(record, _TEXT)
    if not html and not text:
        raise RecordError(_("no text or html field (expected one of: text, content, body, html)"))
    return RawDocument(
        ref=ref,
        kind="html" if html else "text",
        content=html or text or "",
        url=text_field(record, _URL),
        title=text_field(record, _TITLE),
        published=parse_when(text_field(record, _DATE)),
        author=_names(record, _AUTHOR),
        site_name=_names(record, _SITE),
        language=text_field(record, _LANG),
    )


def read_jsonl(text: str, ref: str, source: str) -> Iterator[RawDocument | Failure]:
    stripped = text.strip()
    first = stripped.split("\n", 1)[0].strip()
    if not stripped.startswith("[") and _parses(first):
        yield from _read_lines(stripped, ref, source)
        return
    # An array, or a document spread over lines (pretty-printed): read it whole.
    try:
        whole = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError) as exc:
        if _has_record_lines(stripped):
            # JSONL after all, with a bad first line: that line alone fails.
            yield from _read_lines(stripped, ref, source)
        elif isinstance(exc, RecursionError):
            yield Failure(source, ref, "read", too_deep())
        else:
            yield Failure(
                source,
                ref,
                "read",
                _("invalid JSON at line {line}: {error}", line=exc.lineno, error=exc.msg),
            )
        return
    records = whole if isinstance(whole, list) else [whole]
    for index, record in enumerate(records, 1):
        item_ref = f"{ref}#item={index}"
        try:
            yield record_to_document(record, item_ref)
        except RecordError as exc:
            yield Failure(source, item_ref, "read", str(exc))


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    except RecursionError:
        return True  # a complete value, too deep to be a record: that line fails alone
    return True


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if line:
            yield lineno, line


def _has_record_lines(text: str) -> bool:
    """Whether some line holds a whole JSON object: JSONL, however bad its other lines."""
    for _lineno, line in _lines(text):
        if line.startswith("{") and line.endswith("}"):
            try:
                if isinstance(json.loads(line), dict):
                    return True
            except (json.JSONDecodeError, RecursionError):
                continue
    return False


def _read_lines(text: str, ref: str, source: str) -> Iterator[RawDocument | Failure]:
    for lineno, line in _lines(text):
        line_ref = f"{ref}#line={lineno}"
        try:
            yield record_to_document(json.loads(line), line_ref)
        except RecursionError:
            yield Failure(source, line_ref, "read", too_deep())
        except json.JSONDecodeError as exc:
            yield Failure(
                source,
                line_ref,
                "read",
                _(
                    "invalid JSON ({error} at column {column}; truncated line?)",
                    error=exc.msg,
                    column=exc.colno,
                ),
            )
        except RecordError as exc:
            yield Failure(source, line_ref, "read", str(exc))


def too_deep() -> str:
    return _("JSON nested too deeply to be an article record")
