"""HTML pages: metadata, then main text with trafilatura after the page's furniture is gone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import trafilatura
from lxml import html as lxml_html
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Document
from trafilatura.utils import load_html

from veille.extract import jsonld
from veille.extract.clean import clean_inline, normalise_space
from veille.extract.furniture import prune_furniture
from veille.extract.published import page_times
from veille.extract.template import SiteTemplate, prune_template
from veille.text import fold
from veille.urls import is_web_url

# What follows a name in a byline: a date cue, a date, a separator.
_BYLINE_TAIL = re.compile(
    r"\s+(?:publi[ée]|mis(?:e)? à jour|modifi[ée]|le \d|\d{1,2}[/ .])|\s*[|·•—–]\s*",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"(?:^|[|·•—–]\s*)Par\s+([A-ZÀ-Ý][\w'’.-]+(?:\s+[A-ZÀ-Ý][\w'’.-]+){0,3})")
# Below this share of the default mode's text, precision mode lost part of the article.
FALLBACK_SHARE = 0.5
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»«›]\s+|\s+::\s+|\s*[｜︱‖∣]\s*")
# A separator ending what is left of a title once the site's name is cut off its end.
_SEPARATOR_END = re.compile(r"(?:\s[|\-–—:·•»«›]|::|[｜︱‖∣])\s*$")
_LABEL_SEPARATORS = re.compile(r"\s+[|»]\s+|\s*[｜︱‖∣]\s*")
_SEPARATOR_CHARS = " |-–—:·•»«›｜︱‖∣"
# A date cut off with a site's name: "30.01.2024", "2024-01-30", "30/01/2024".
_DATE_PART = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
# "VIDÉO. ", "INFO FRANCE 2. ", "DIRECT. ": a label in capitals before the headline.
_CAPS_LABEL = re.compile(
    r"^(?:[A-ZÀ-ÖØ-Þ0-9'’]{2,}\s){0,3}[A-ZÀ-ÖØ-Þ'’]{3,}\.\s+(?=[A-ZÀ-ÖØ-Þ«\"])"
)


@dataclass(frozen=True)
class PageMetadata:
    titles: list[str | None]  # candidates, best first
    headline: str | None  # the page's first <h1>
    section: str | None  # article:section
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


def _meta(tree: lxml_html.HtmlElement, *names: str) -> str | None:
    for name in names:
        for attribute in ("property", "name", "itemprop"):
            found = tree.xpath(f"//meta[@{attribute}=$n]/@content", n=name)
            if found and found[0].strip():
                return clean_inline(found[0])
    return None


def _json_ld_values(tree: lxml_html.HtmlElement, key: str) -> list[str]:
    return [clean_inline(value) for value, _ in jsonld.values(tree, key)]


def _name_key(name: str) -> str:
    """'ITforBusiness.fr', 'IT for Business' and 'itforbusiness' share one key."""
    name = name.strip().lower().removeprefix("www.")
    name = re.sub(r"\.(?:co\.uk|com\.au|[a-z]{2,6})$", "", name)
    return re.sub(r"\W+", "", name)


def _names_site(part: str, keys: set[str]) -> bool:
    """'WELT' names 'welt.de' and 'DIE WELT'; 'DW' names 'dw.com'."""
    key = _name_key(part)
    if not key:
        return False
    return any(key == k or (min(len(key), len(k)) >= 4 and (key in k or k in key)) for k in keys)


def _is_date(part: str) -> bool:
    return bool(_DATE_PART.fullmatch(part.strip()))


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """'Headline | Site' -> 'Headline', only when the cut-off part names the site (however
    it is written: 'Headline - WELT', 'Headline – DW – 30.01.2024')."""
    for name in site_names:
        # A site's name holding a separator itself ("Martina Berg - Lady 50plus").
        head = title.removesuffix(name) if name and len(name) < len(title) else title
        if head != title and _SEPARATOR_END.search(head):
            return head.rstrip(_SEPARATOR_CHARS)
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    keys = {_name_key(name) for name in site_names if name} - {""}
    cut = len(parts)
    while cut > 1 and _is_date(parts[cut - 1]):
        cut -= 1  # a date after the site's name
    if cut > 1 and _names_site(parts[cut - 1], keys):
        return title[: _offset_of_part(title, parts, cut - 1)].rstrip(_SEPARATOR_CHARS)
    if _names_site(parts[0], keys):
        return title[len(parts[0]) :].lstrip(_SEPARATOR_CHARS)
    return title


def _offset_of_part(title: str, parts: list[str], index: int) -> int:
    """Where parts[index] starts in the title."""
    position = 0
    for part in parts[:index]:
        position = title.index(part, position) + len(part)
    return title.index(parts[index], position)


def strip_section_label(title: str, others: list[str], section: str | None = None) -> str:
    """'Opinion | Headline', 'VIDÉO. Headline' -> 'Headline': a label the page's other
    titles do not carry, or its own section's name. Only a label's separators count:
    "Villeurbanne : grève..." is a French headline, place first."""
    parts = _LABEL_SEPARATORS.split(title, maxsplit=1)
    rest = parts[1] if len(parts) == 2 else None
    if rest and len(parts[0].split()) <= 3:
        keys = {fold(o) for o in others}
        if fold(rest) in keys or (section and fold(parts[0]) == fold(section)):
            return rest
    label = _CAPS_LABEL.match(title)
    if label and len(title[label.end() :].split()) >= 4:
        return title[label.end() :]
    return title


def is_truncated(title: str) -> bool:
    return title.endswith(("...", "…")) and not title.endswith("....")


def choose_title(
    candidates: list[str | None],
    site_names: list[str],
    headline: str | None = None,
    section: str | None = None,
) -> str | None:
    """The full headline: the page's own headline (`<h1>`) when other titles confirm it,
    else the first good candidate, unless a longer one completes a cut one."""
    stripped = [strip_site_suffix(normalise_space(c), site_names) for c in candidates if c]
    cleaned = [strip_section_label(c, stripped, section) for c in stripped]
    # A <title> or <h1> that swallowed part of a broken page is no headline.
    cleaned = [c for c in cleaned if c and len(c.split()) <= 40]
    if headline:
        own = strip_site_suffix(normalise_space(headline), site_names)
        same = _confirmation(own, stripped + cleaned, site_names)
        if same and len(own.split()) <= 40:
            # Social titles (og:title) are rewritten for sharing; the page's headline is
            # the article's. Its words, that is: the text is the title that confirms it,
            # written as one string, where the <h1>'s is put together from its markup
            # (a kicker in its own <span>, "Klimaschutz</span>: Bohren" read as
            # "Klimaschutz : Bohren").
            cleaned = [same, *cleaned]
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


def _confirmation(headline: str, others: list[str], site_names: list[str]) -> str | None:
    """An <h1> is the headline when another of the page's titles (JSON-LD, <title>...)
    says it word for word: not a logo's <h1>, nor a heading of some other block. Returns
    that other title."""
    key = fold(headline)
    if not key or _names_site(headline, {_name_key(n) for n in site_names if n}):
        return None
    return next((other for other in others if fold(other) == key), None)


def page_metadata(tree: lxml_html.HtmlElement, url: str | None) -> PageMetadata:
    site = _meta(tree, "og:site_name", "application-name") or next(
        iter(_json_ld_values(tree, "publisher")), None
    )
    h1 = clean_inline(" ".join(tree.xpath("(//h1)[1]//text()")))
    titles: list[str | None] = [
        _meta(tree, "og:title"),
        *_json_ld_values(tree, "headline")[:1],
        _meta(tree, "twitter:title"),
        # Only the document's <title>: inline SVG icons carry <title>s of their own.
        clean_inline(" ".join(tree.xpath("/html/head/title//text()"))) or None,
    ]
    canonical = tree.xpath('//link[@rel="canonical"]/@href') or []
    canonical_url = (canonical[0].strip() if canonical else None) or _meta(tree, "og:url")
    lang = tree.get("lang") or tree.get("xml:lang") or _meta(tree, "og:locale") or ""
    host = urlsplit(url).hostname if url else None
    if not host and canonical_url and canonical_url.startswith("http"):
        host = urlsplit(canonical_url).hostname
    return PageMetadata(
        titles=titles,
        # An <h1> wrapping a whole header block is not a headline.
        headline=h1 if 0 < len(h1.split()) <= 40 else None,
        section=_meta(tree, "article:section"),
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
    published: datetime | None  # see veille.when: aware, or naive midnight for a day
    modified: datetime | None
    author: str | None
    site_name: str | None
    canonical_url: str | None
    description: str | None
    language: str | None
    page_type: str | None
    page_text: str  # all visible text, for cues trafilatura drops (a "Publié le" line)


def extract_page(
    html_text: str, url: str | None, template: SiteTemplate | None = None
) -> HtmlExtraction | None:
    tree = parse(html_text)
    if tree is None:
        return None
    meta = page_metadata(tree, url)
    page_text = "\n".join(
        t.strip()
        for t in tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
        if t.strip()
    )
    # Metadata are read before any pruning, so no pruning can lose the byline or the date.
    about = extract_metadata(tree, url)
    title = choose_title(
        # trafilatura's own pick goes before <title>, which carries more noise.
        [*meta.titles[:3], about.title, *meta.titles[3:]],
        meta.site_names,
        headline=meta.headline,
        section=meta.section,
    )
    times = page_times(tree, page_text, about.date)
    headline = prune_furniture(tree, title)
    if template is not None:
        prune_template(tree, template, keep=[headline] if headline is not None else [])
    document = _main_text(tree, url)
    return HtmlExtraction(
        text=(document.text if document else None) or "",
        title=title,
        published=times.published,
        modified=times.modified,
        author=_clean_author(about.author) or _byline(page_text),
        site_name=meta.site_name or about.sitename,
        canonical_url=meta.canonical_url,
        description=meta.description or about.description,
        language=meta.language,
        page_type=meta.page_type,
        page_text=page_text,
    )


def _main_text(tree: lxml_html.HtmlElement, url: str | None) -> Document | None:
    """trafilatura in precision mode (it drops more of what our pruning left), unless it
    keeps less than half of what its default mode keeps: precision mode cuts short posts,
    forum threads and pages with unusual markup."""
    options = {"url": url, "include_comments": False, "include_tables": True, "deduplicate": False}
    # bare_extraction works on a copy of the tree: both calls see it as pruned.
    precise = trafilatura.bare_extraction(tree, favor_precision=True, **options)
    default = trafilatura.bare_extraction(tree, **options)
    if _size(precise) < FALLBACK_SHARE * _size(default):
        return default
    return precise


def _size(document: Document | None) -> int:
    return len("".join((document.text or "").split())) if document else 0


def _clean_author(author: str | None) -> str | None:
    """A byline's name: 'Par Ana Lopez, publié le 3 février' -> 'Ana Lopez'."""
    if not author:
        return None
    author = re.sub(r"^(par|by)\s+", "", author.strip(), flags=re.IGNORECASE)
    author = _BYLINE_TAIL.split(author, maxsplit=1)[0].strip(" ,;")
    return author or None


def _byline(page_text: str) -> str | None:
    """'Par Ana Lopez' on a short line before the article's first paragraph."""
    for line in page_text.split("\n"):
        if len(line) > 200:
            break
        found = _BYLINE.search(line)
        if found:
            return _clean_author(found.group(1))
    return None
