"""JSONL (one article a line), a JSON array of articles, or one JSON article."""

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


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, "", []):
            return value
    return None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("title") or "") or None
    return str(value)


def record_to_document(record: Any, ref: str) -> RawDocument:
    if not isinstance(record, dict):
        raise ValueError(_("expected a JSON object, got {kind}", kind=type(record).__name__))
    html = _first(record, _HTML)
    text = _first(record, _TEXT)
    if not html and not text:
        raise ValueError(_("no text or html field (expected one of: text, content, body, html)"))
    return RawDocument(
        ref=ref,
        kind="html" if html else "text",
        content=str(html or text),
        url=_as_text(_first(record, _URL)),
        title=_as_text(_first(record, _TITLE)),
        published=parse_when(_as_text(_first(record, _DATE))),
        author=_as_text(_first(record, _AUTHOR)),
        site_name=_as_text(_first(record, _SITE)),
        language=_as_text(_first(record, _LANG)),
    )


def read_jsonl(text: str, ref: str, source: str) -> Iterator[RawDocument | Failure]:
    stripped = text.strip()
    # A pretty-printed JSON document is not JSONL: try it whole first.
    if stripped.startswith("[") or ("\n" in stripped and not _is_json(stripped.split("\n", 1)[0])):
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError as exc:
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
            except ValueError as exc:
                yield Failure(source, item_ref, "read", str(exc))
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        line_ref = f"{ref}#line={lineno}"
        try:
            yield record_to_document(json.loads(line), line_ref)
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
        except ValueError as exc:
            yield Failure(source, line_ref, "read", str(exc))


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True
