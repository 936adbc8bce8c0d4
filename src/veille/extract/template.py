"""Per-site template memory: the blocks a site repeats on its pages are its furniture.

A block is a unit of text on a page (a paragraph, a list item, a heading, a button, a link
standing alone), known by a fingerprint of its folded text. The store keeps, per site, how
many pages were learned and on how many of them each fingerprint was seen; extraction
takes that as plain data (`SiteTemplate`) and drops the blocks a page shares with enough
of the site's other pages: a newsletter box, a comment prompt, a paywall offer or a
related box reworded by no one. Long prose needs more pages than short lines: follow-ups
of one story may repeat a background paragraph, which is content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from lxml import etree
from trafilatura.utils import load_html

from veille.encoding import UndecodableError, decode
from veille.extract.clean import fold
from veille.extract.furniture import INLINE, own_text
from veille.model import RawDocument
from veille.urls import domain

# A short block seen on this many of the site's other pages is template.
SHORT_PAGES = 2
# Prose (this many words or more) needs more pages, and this share of the site's pages.
PROSE_WORDS = 25
PROSE_PAGES = 3
PROSE_SHARE = 0.1
# A page losing more than this share of its text to the memory is a copy of a known page
# (one dispatch under two URLs), not a page full of template: the memory stays out of it.
MAX_LOSS = 0.5
_SKIP = {"script", "style", "template", "noscript", "head", "title", "meta", "link"}


@dataclass(frozen=True)
class SiteTemplate:
    """What a site's learned pages have in common."""

    pages: int = 0  # pages learned
    blocks: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def __reduce__(self) -> tuple[object, tuple[int, dict[str, int]]]:
        # Sent to the extraction workers: a read-only view does not pickle, its dict does.
        return (_template, (self.pages, dict(self.blocks)))


def _template(pages: int, blocks: dict[str, int]) -> SiteTemplate:
    return SiteTemplate(pages, MappingProxyType(blocks))


@dataclass(frozen=True)
class PageBlocks:
    """A page as the memory sees it: its site, its identity and its blocks."""

    site: str
    page: str  # fingerprint of the page's address: a page is learned once
    blocks: frozenset[str]


def fingerprint(text: str) -> str:
    return hashlib.sha1(fold(text).encode()).hexdigest()[:16]


def _units(root: etree._Element) -> Iterable[tuple[etree._Element, str]]:
    """(element, text) of each block of text: a block element's own text, its inline
    children's included."""
    for element in root.iter(etree.Element):
        if element.tag in INLINE or element.tag in _SKIP:
            continue
        if any(a.tag in _SKIP for a in element.iterancestors()):
            continue
        text = " ".join(own_text(element).split())
        if text:
            yield element, text


def blocks_of(root: etree._Element) -> frozenset[str]:
    return frozenset(fingerprint(text) for _, text in _units(root))


def _parse(html: bytes | str) -> etree._Element | None:
    # The loader extraction uses, so a page's blocks are the same when learned and pruned.
    return load_html(decode(html) if isinstance(html, bytes) else html)


def page_blocks(html: bytes | str, url: str | None = None) -> frozenset[str]:
    """The block fingerprints of a whole page (for learning)."""
    root = _parse(html)
    return blocks_of(root) if root is not None else frozenset()


def page_key(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()[:16]


def for_document(raw: RawDocument) -> PageBlocks | None:
    """An HTML page's site, key and blocks, when its address is known (its URL, else its
    canonical link); None for other documents."""
    if raw.kind != "html":
        return None
    try:
        text = (
            decode(raw.content, raw.content_type) if isinstance(raw.content, bytes) else raw.content
        )
    except UndecodableError:
        return None
    return for_page(text, raw.url)


def for_page(html: bytes | str, url: str | None) -> PageBlocks | None:
    """A page's site, key and blocks, when its address is known."""
    root = _parse(html)
    if root is None:
        return None
    address = url or next(iter(root.xpath('//link[@rel="canonical"]/@href')), None)
    site = domain(address) if address else None
    if not site:
        return None
    return PageBlocks(site, page_key(address), blocks_of(root))


def learn(template: SiteTemplate, blocks: frozenset[str]) -> SiteTemplate:
    """The memory after one more page of the site."""
    counts = dict(template.blocks)
    for block in blocks:
        counts[block] = counts.get(block, 0) + 1
    return SiteTemplate(template.pages + 1, MappingProxyType(counts))


def without(template: SiteTemplate, blocks: frozenset[str]) -> SiteTemplate:
    """The memory of the site's *other* pages, for a page it already learned."""
    counts = dict(template.blocks)
    for block in blocks:
        if counts.get(block, 0) > 0:
            counts[block] -= 1
    return SiteTemplate(max(0, template.pages - 1), MappingProxyType(counts))


def _repeated(template: SiteTemplate, text: str) -> bool:
    seen = template.blocks.get(fingerprint(text), 0)
    if len(text.split()) < PROSE_WORDS:
        return seen >= SHORT_PAGES
    return seen >= PROSE_PAGES and seen >= PROSE_SHARE * template.pages


def prune_template(
    root: etree._Element, template: SiteTemplate, keep: Iterable[etree._Element] = ()
) -> None:
    """Remove, in place, the blocks the site repeats on its other pages, and the boxes made
    only of them; never what holds `keep` (headline, byline, date)."""
    if not template.pages:
        return
    protected = {id(e) for k in keep for e in (k, *k.iterancestors())}
    units = {id(e): (e, text) for e, text in _units(root)}
    total = sum(len(text) for _, text in units.values())
    repeated = {key for key, (_, text) in units.items() if _repeated(template, text)}
    lost = sum(len(units[key][1]) for key in repeated)
    if not repeated or lost > MAX_LOSS * total:
        return
    # Bottom-up: an element goes when it holds text and all of it is repeated.
    elements = [e for e in root.iter(etree.Element) if e.tag not in _SKIP]
    state: dict[int, tuple[int, bool]] = {}  # id -> (units inside, all repeated)
    for element in reversed(elements):
        count, clean = 0, True
        if id(element) in units:
            count, clean = 1, id(element) in repeated
        for child in element:
            inner = state.get(id(child))
            if inner is not None and inner[0]:
                count += inner[0]
                clean = clean and inner[1]
        state[id(element)] = (count, clean)
    doomed = []
    stack = [root]
    while stack:
        element = stack.pop()
        count, clean = state.get(id(element), (0, False))
        if not count:
            continue
        if clean and id(element) not in protected and element is not root:
            doomed.append(element)
            continue
        stack.extend(c for c in element if isinstance(c.tag, str))
    for element in doomed:
        element.drop_tree()


def template_views(
    pages: list[PageBlocks | None],
    memory: Mapping[str, SiteTemplate],
    learned: Mapping[str, set[str]],
) -> tuple[list[SiteTemplate | None], dict[str, list[PageBlocks]]]:
    """Each page's view of its site (what the site's *other* pages have in common), once
    the batch's new pages are learned; and those new pages, per site, for the store.

    `memory` is the stored template of each site (at least for the batch's blocks),
    `learned` the batch's pages the store had learned already: a page read again is not
    counted twice, so reading the same input twice extracts the same text.
    """
    current = dict(memory)
    fresh: dict[str, dict[str, PageBlocks]] = {}
    for page in pages:
        if page is None or page.page in learned.get(page.site, set()):
            continue
        if page.page in fresh.get(page.site, {}):
            continue
        current[page.site] = learn(current.get(page.site, SiteTemplate()), page.blocks)
        fresh.setdefault(page.site, {})[page.page] = page
    views = [
        without(current[p.site], p.blocks) if p is not None and p.site in current else None
        for p in pages
    ]
    return views, {site: list(new.values()) for site, new in fresh.items()}
