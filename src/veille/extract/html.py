"""HTML pages: main text and metadata with trafilatura, after pruning ads and consent boxes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml import html as lxml_html
from trafilatura.utils import load_html

from veille.extract.clean import clean_inline, normalise_space
from veille.urls import is_web_url

# Class/id words of containers that are never article text. trafilatura prunes many of
# these itself, but an in-read ad left in place makes it drop the paragraphs after it.
# fmt: off
_AD_WORDS = {
    "ad", "ads", "adslot", "advert", "adverts", "advertisement", "advertising", "pub",
    "publicite", "sponsor", "sponsored", "taboola", "outbrain", "dfp",
}
_BOX_WORDS = {
    "share", "sharing", "social", "cookie", "cookies", "consent", "gdpr", "didomi",
    "newsletter",
}
# fmt: on
# An ad slot holds a label and a line or two; a longer block named like one is content
# that a designer tagged ("TestReport__Section--Ads" holds a review's conclusion).
_AD_MAX_CHARS = 400
_TAXONOMY_PREFIXES = ("category-", "tag-", "post-", "entry-", "format-", "type-")
_SPLIT_WORDS = re.compile(r"[\s_\-]+")
_KEEP_TAGS = {"html", "body", "main", "article"}
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+|\s+::\s+")


@dataclass(frozen=True)
class PageMetadata:
    titles: list[str | None]  # candidates, best first
    site_names: list[str]
    site_name: str | None
    canonical_url: str | None
    description: str | None
    language: str | None
    page_type: str | None  # og:type: "article", "video.other", "website"...


def parse(html_text: str) -> lxml_html.HtmlElement | None:
    # trafilatura's own loader: its parser settings and repairs are what its extraction
    # was tuned on (a plain lxml parse of the same page loses paragraphs on some sites).
    return load_html(html_text)


def _is_furniture(element: lxml_html.HtmlElement) -> bool:
    # CMS taxonomy classes ("category-advertising", "tag-ad") describe the article a
    # wrapper holds, not the wrapper: they never mark furniture.
    names = " ".join(
        name
        for name in f"{element.get('class', '')} {element.get('id', '')}".lower().split()
        if not name.startswith(_TAXONOMY_PREFIXES)
    )
    words = set(_SPLIT_WORDS.split(names))
    if words & _BOX_WORDS:
        return True
    if words & _AD_WORDS or "sponsored" in (element.get("rel") or ""):
        return len(element.text_content()) <= _AD_MAX_CHARS
    return element.get("aria-modal") == "true" and element.get("role") in ("dialog", "alertdialog")


def prune(tree: lxml_html.HtmlElement) -> None:
    """Remove ad slots, consent banners and newsletter boxes in place.

    A container named like an ad but holding a large share of the page's text is a
    wrapper (Libération's whole page sits in an "ad-portal" div): it stays.
    """
    ceiling = 0.2 * len(tree.text_content())
    doomed = [
        element
        for element in tree.iter(etree.Element)
        if element.tag not in _KEEP_TAGS
        and _is_furniture(element)
        and len(element.text_content()) <= ceiling
        # Ads and consent boxes are not made of paragraphs; article sections are.
        and len(element.findall(".//p")) < 3
    ]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()


def _meta(tree: lxml_html.HtmlElement, *names: str) -> str | None:
    for name in names:
        for attribute in ("property", "name", "itemprop"):
            found = tree.xpath(f"//meta[@{attribute}=$n]/@content", n=name)
            if found and found[0].strip():
                return clean_inline(found[0])
    return None


def _json_ld_values(tree: lxml_html.HtmlElement, key: str) -> list[str]:
    values: list[str] = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except (json.JSONDecodeError, ValueError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                value = item.get(key)
                if isinstance(value, str) and value.strip():
                    values.append(clean_inline(value))
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
    return values


def _name_key(name: str) -> str:
    """'ITforBusiness.fr', 'IT for Business' and 'itforbusiness' share one key."""
    name = re.sub(r"\.(fr|com|net|org|ch|be|ca|info|io|eu|co\.uk)$", "", name.strip().lower())
    return re.sub(r"\W+", "", name.removeprefix("www."))


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """'Headline | Site' -> 'Headline', only when the cut-off part names the site."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    keys = {_name_key(name) for name in site_names if name} - {""}
    if _name_key(parts[-1]) in keys:
        return title[: title.rfind(parts[-1])].rstrip(" |-–—:·•»")
    if _name_key(parts[0]) in keys:
        return title[len(parts[0]) :].lstrip(" |-–—:·•»")
    return title


def is_truncated(title: str) -> bool:
    return title.endswith(("...", "…")) and not title.endswith("....")


def choose_title(candidates: list[str | None], site_names: list[str]) -> str | None:
    """The full headline: first good candidate, unless a longer one completes a cut one."""
    cleaned = [strip_site_suffix(normalise_space(c), site_names) for c in candidates if c]
    # A <title> or <h1> that swallowed part of a broken page is no headline.
    cleaned = [c for c in cleaned if c and len(c.split()) <= 40]
    if not cleaned:
        return None
    best = cleaned[0]
    if is_truncated(best):
        stem = best.rstrip(".…").strip()
        for other in cleaned[1:]:
            rest = other[len(stem) :].lstrip()
            # A completion goes on with words; "<cut title>… - Section" is the same cut.
            completes = other.startswith(stem) and rest and not rest.startswith(("…", "..."))
            if completes and not is_truncated(other):
                return other
    return best


def page_metadata(tree: lxml_html.HtmlElement, url: str | None) -> PageMetadata:
    site = _meta(tree, "og:site_name", "application-name") or next(
        iter(_json_ld_values(tree, "publisher")), None
    )
    h1 = clean_inline(" ".join(tree.xpath("(//h1)[1]//text()")))
    titles: list[str | None] = [
        _meta(tree, "og:title"),
        *_json_ld_values(tree, "headline")[:1],
        _meta(tree, "twitter:title"),
        # An <h1> wrapping a whole header block is not a headline.
        h1 if 0 < len(h1.split()) <= 40 else None,
        # Only the document's <title>: inline SVG icons carry <title>s of their own.
        clean_inline(" ".join(tree.xpath("/html/head/title//text()"))) or None,
    ]
    canonical = tree.xpath('//link[@rel="canonical"]/@href') or []
    canonical_url = (canonical[0].strip() if canonical else None) or _meta(tree, "og:url")
    lang = tree.get("lang") or tree.get("xml:lang") or _meta(tree, "og:locale") or ""
    host = urlsplit(url).hostname if url else None
    return PageMetadata(
        titles=titles,
        site_names=[site or "", host or ""],
        site_name=site,
        canonical_url=canonical_url if is_web_url(canonical_url) else None,
        description=_meta(tree, "og:description", "description"),
        page_type=(_meta(tree, "og:type") or "").lower() or None,
        language=lang[:2].lower() or None,
    )


@dataclass(frozen=True)
class HtmlExtraction:
    text: str
    title: str | None
    published: datetime | None
    author: str | None
    site_name: str | None
    canonical_url: str | None
    description: str | None
    language: str | None
    page_type: str | None
    page_text: str  # all visible text, for cues trafilatura drops (a "Publié le" line)


def extract_page(html_text: str, url: str | None) -> HtmlExtraction | None:
    tree = parse(html_text)
    if tree is None:
        return None
    meta = page_metadata(tree, url)
    page_text = "\n".join(
        t.strip()
        for t in tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
        if t.strip()
    )
    prune(tree)
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    text = (document.text if document else None) or ""
    published = _parse_date(document.date if document else None)
    if published is None:
        found = find_date(html_text, original_date=True, extensive_search=True, url=url)
        published = _parse_date(found)
    author = document.author if document else None
    return HtmlExtraction(
        text=text,
        # trafilatura's own pick goes before <h1> and <title>, which carry more noise.
        title=choose_title(
            [*meta.titles[:3], document.title if document else None, *meta.titles[3:]],
            meta.site_names,
        ),
        published=published,
        author=_clean_author(author),
        site_name=meta.site_name or (document.sitename if document else None),
        canonical_url=meta.canonical_url,
        description=meta.description or (document.description if document else None),
        language=meta.language,
        page_type=meta.page_type,
        page_text=page_text,
    )


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _clean_author(author: str | None) -> str | None:
    if not author:
        return None
    author = re.sub(r"^(par|by)\s+", "", author.strip(), flags=re.IGNORECASE)
    return author or None
