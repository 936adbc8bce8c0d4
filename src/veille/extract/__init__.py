"""Extraction: a raw document becomes a clean article (text, full title, date, site...)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import py3langid

from veille.encoding import UndecodableError, decode, fix_text
from veille.extract.clean import (
    clean_inline,
    clean_lines,
    drop_datelines,
    drop_repeated_sentences,
    fold,
)
from veille.extract.html import extract_page, is_truncated
from veille.extract.published import prose_time
from veille.extract.template import SiteTemplate
from veille.extract.text import find_title, fragment_to_text, paragraphs
from veille.i18n import _
from veille.model import Article, RawDocument
from veille.urls import canonical_url, clean_url, domain, is_web_url
from veille.when import has_time, plausible, to_store

# Part of every raw input's digest: raise it when extraction gives other articles from the
# same bytes, so inputs read before are extracted again instead of skipped as unchanged.
EXTRACTION_VERSION = 1


class ExtractError(ValueError):
    """The document holds nothing we can store as an article."""


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None
    # Publication and modification times as `veille.when` has them: aware when the time
    # of day is known, naive midnight for a day alone.
    published: datetime | None = None
    modified: datetime | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None


def extract_html(
    html: bytes | str,
    url: str | None = None,
    content_type: str | None = None,
    template: SiteTemplate | None = None,
) -> Extracted | None:
    """Main text and metadata of one HTML page, cleaned; `template` is what the site's
    other pages have in common (see `veille.extract.template`)."""
    html_text = decode(html, content_type) if isinstance(html, bytes) else html
    page = extract_page(html_text, url, template)
    if page is None:
        return None
    title = fix_text(page.title) if page.title else None
    lines = clean_lines(paragraphs(fix_text(page.text)), title, site_name=page.site_name)
    if page.published is not None:
        lines = drop_datelines(lines, page.published.date())
    text = "\n".join(lines)
    if page.page_type != "article" and _only_the_description(text, page.description):
        text = ""  # a video or listing page: a link worth keeping, not an article
    return Extracted(
        text=text,
        title=title,
        published=page.published,
        modified=page.modified,
        author=page.author,
        site_name=page.site_name,
        language=page.language,
        canonical_url=page.canonical_url,
        description=page.description,
    )


def _only_the_description(text: str, description: str | None) -> bool:
    """The page's only 'text' is its meta description (a video page, say; a short blog
    post whose description is all of it declares itself an article)."""
    if not text or not description or len(text.split()) >= 40:
        return False
    return fold(text) in fold(description)


def extract_text(
    text: str, title: str | None = None, published: datetime | None = None
) -> Extracted:
    """A plain-text dump: headline, date and body from the text alone."""
    lines = paragraphs(fix_text(text))
    if title:
        title, own_line = clean_inline(title), True
    else:
        title, own_line = find_title(lines)
    # A headline taken from the first sentence must not be cut out of the body.
    body = drop_repeated_sentences(clean_lines(lines, title if own_line else None, trim_edges=True))
    return Extracted(
        text="\n".join(body),
        title=title,
        published=published or prose_time("\n".join(lines[:12])),
    )


def extract(raw: RawDocument, source: str, template: SiteTemplate | None = None) -> Article:
    """Dispatch on the document kind, then fill what the container knew better."""
    try:
        if raw.kind == "html":
            found = extract_html(raw.content, raw.url, raw.content_type, template)
            if found is None:
                raise ExtractError(_("not parseable as HTML"))
        else:
            content = raw.content if isinstance(raw.content, str) else decode(raw.content)
            if raw.kind == "fragment":
                content = fragment_to_text(content)
            found = extract_text(content, raw.title, raw.published)
    except UndecodableError as exc:
        raise ExtractError(_("undecodable: {error}", error=exc)) from exc
    # Container hints fill gaps; a feed's cut title never replaces the page's full one.
    hint_title = clean_inline(raw.title) if raw.title else None
    title = found.title
    if not title or (hint_title and is_truncated(title) and not is_truncated(hint_title)):
        title = hint_title or title
    found = replace(
        found,
        title=title,
        published=_published(found.published, raw.published),
        author=found.author or _inline(raw.author),
        site_name=found.site_name or _inline(raw.site_name),
        language=found.language or raw.language,
    )
    return to_article(found, raw, source)


def _published(page: datetime | None, container: datetime | None) -> datetime | None:
    """The page's own date; the feed's time of day when the page gives the same day
    without one."""
    if page is None:
        return container
    same_day = container is not None and container.date() == page.date()
    if not has_time(page) and same_day and has_time(container):
        return container
    return page


def _inline(value: str | None) -> str | None:
    return clean_inline(value) or None if value else None


def to_article(found: Extracted, raw: RawDocument, source: str) -> Article:
    if raw.url is not None and not is_web_url(raw.url):
        # Whatever the input (JSONL, feed, WARC), an article is a web page: a javascript:,
        # data: or file: "URL" would be stored and later shown as a link.
        raise ExtractError(
            _(
                "not an http(s) URL: {url}",
                url=raw.url if len(raw.url) < 80 else raw.url[:77] + "...",
            )
        )
    if not found.text and not found.title:
        raise ExtractError(_("no article text and no title found"))
    # A page read from disk is known by its canonical link; only without one by its path.
    located = raw.url or found.canonical_url
    url = clean_url(located) if located else _file_uri(raw.ref)
    identity = found.canonical_url or url
    canonical = canonical_url(identity) if is_web_url(identity) else url
    language = detect_language(found.text or found.title or "") or found.language
    published, time_known = to_store(plausible(found.published))
    modified, _known = to_store(plausible(found.modified))
    return Article(
        url=url,
        canonical_url=canonical,
        title=found.title or "",
        text=found.text,
        content_hash=content_hash(found.text or f"{found.title}\n{canonical}"),
        raw_ref=raw.ref,
        source=source,
        published=published,
        published_time_known=time_known,
        modified=modified if _known else None,
        author=found.author,
        site_name=found.site_name or domain(url),
        language=language,
        description=found.description,
    )


def content_hash(text: str) -> str:
    """Same text modulo case, accents, spacing and punctuation -> same hash."""
    return hashlib.sha256(fold(text).encode()).hexdigest()


def detect_language(text: str) -> str | None:
    if len(text) < 40:
        return None
    language, _ = py3langid.classify(text[:4000])
    return language


def _file_uri(ref: str) -> str:
    path, sep, fragment = ref.partition("#")
    base, at, offset = path.partition("@")
    uri = Path(base).resolve().as_uri()
    return uri + (f"#offset={offset}" if at else "") + (f"#{fragment}" if sep else "")
