"""Page furniture found by its structure, before trafilatura reads the page.

News pages put boxes inside the article body: links to other articles under a short
heading, newsletter and alert sign-ups, paywall offers, comment threads, video rails. Their
wording changes from site to site; their structure does not. A block is furniture when:

- most of its text is link text (a "read also" line, a related box, a playlist);
- it holds form controls (a sign-up form, an alert button, a comment box) and little prose;
- it is a short box with a call to action: a link standing alone as a button;
- it holds a player (video, audio, embedded frame) and little text, or a list of durations;
- it is a comment thread: named so, or a list of like items each carrying controls;
- it is navigation, a page header or footer;
- it is a block the site repeats on its other pages (see `template`).

Nothing here removes the main text's container or anything holding the headline, the
byline or the publication date, and a box holding a large part of the page's prose stays
whatever it looks like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html
from trafilatura.xpaths import BODY_XPATH

from veille.extract.clean import fold

# Inline tags: their text is part of the surrounding block's text.
# fmt: off
INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "font", "i",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
    "var", "wbr", "img",
}
TEXT_BLOCKS = {"p", "li", "blockquote", "pre", "dd", "dt", "td", "th", "figcaption",
                "h1", "h2", "h3", "h4", "h5", "h6"}
_NEVER = {"html", "body", "head", "script", "style", "template", "noscript"}
_MEDIA = {"video", "audio", "iframe", "embed", "object"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_WHOLE = {"ul", "ol", "dl", "table"}
_SKIP_TEXT = {"script", "style", "template", "noscript"}
# Class/id words of comment threads (trafilatura drops "comment*" ones itself; French sites
# also say "réactions").
_COMMENT_WORDS = {
    "comment", "comments", "commentaire", "commentaires", "reaction", "reactions",
    "disqus", "respond", "replies",
}
# fmt: on
_SPLIT_WORDS = re.compile(r"[^a-z0-9]+")
_SENTENCE_END = re.compile(r"[.!?…»\")]\s*$")
# "1 min 20 s", "48 s", "02:14", "1h05": a video's or a podcast's length, alone on a line.
_DURATION = re.compile(
    r"^\W*(?:\d+\s?min(?:\s?\d+\s?s)?|\d+\s?s|\d{1,2}:\d{2}(?::\d{2})?|\d+\s?h\s?\d{2})\W*$"
)

_HOLDER_WORDS = {"byline", "author", "auteur", "signature", "date", "dateline", "dates"}
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
_AD_MAX_CHARS = 400
_TAXONOMY_PREFIXES = ("category-", "tag-", "post-", "entry-", "format-", "type-")
_SPLIT_NAME = re.compile(r"[\s_\-]+")

# A prose paragraph: long enough to be a sentence or more of article text.
PROSE_CHARS = 100
# Boxes are short; a block holding more than this share of the page's prose is content.
MAX_PROSE_SHARE = 0.3
# Link-dominated blocks: link text over all text.
LINK_DENSITY = 0.5
# A link line's label ("Lire aussi |", "À lire également :") is short.
LINK_LABEL_CHARS = 40
# Short boxes (calls to action, players) hold at most this many characters.
BOX_CHARS = 500
# Boxes may hold a paragraph of fine print (a newsletter's legal notice) however short the
# article.
MIN_PROSE_CAP = 300
# A reader's comment, with its name, date and buttons.
COMMENT_CHARS = 1500
# The body trafilatura would pick holds at least this much text to count as the body.
MAIN_CHARS = 100


@dataclass
class _Stats:
    chars: int = 0  # non-space characters of the element's text
    link_chars: int = 0
    links: int = 0
    standalone: int = 0  # links standing alone as a block: buttons
    controls: int = 0  # form controls and buttons
    media: int = 0
    prose: int = 0  # characters of prose paragraphs inside
    items: int = 0  # list items
    durations: int = 0
    protected: bool = False  # holds the headline, the byline or the date


def _count(text: str | None) -> int:
    return len("".join(text.split())) if text else 0


def _words(element: etree._Element) -> set[str]:
    names = f"{element.get('class', '')} {element.get('id', '')}".lower()
    return set(_SPLIT_WORDS.split(names)) - {""}


def _is_control(element: etree._Element) -> bool:
    tag = element.tag
    if tag == "input":
        return (element.get("type") or "text").lower() not in ("hidden", "number", "range")
    return tag in ("button", "select", "textarea") or element.get("role") == "button"


def own_text(element: etree._Element) -> str:
    """The element's text outside its block children (inline children included)."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag in INLINE:
            parts.append(child.text_content() if child.tag != "br" else " ")
        parts.append(child.tail or "")
    return " ".join(parts)


def _is_button_like(link: etree._Element, chars: int) -> bool:
    """A short link standing alone as a block ("Je m'abonne", "Créer une alerte"), not a
    headline's or a date's link."""
    if len(link.text_content().split()) > 6 or link.find(".//time") is not None:
        return False
    parent = link.getparent()
    if parent is None or _count(own_text(parent)) - chars > 2:
        return False
    return not any(a.tag in _HEADINGS for a in (parent, *parent.iterancestors()))


def measure(
    root: lxml_html.HtmlElement, protected: Iterable[etree._Element] = ()
) -> dict[etree._Element, _Stats]:
    """Text, link, control, media and prose counts of every element, children first."""
    holders = set(protected)
    elements = [e for e in root.iter(etree.Element) if e.tag not in _SKIP_TEXT]
    stats: dict[etree._Element, _Stats] = {}
    for element in reversed(elements):
        s = _Stats(chars=_count(element.text), protected=element in holders)
        for child in element:
            s.chars += _count(child.tail)
            found = stats.get(child)
            if found is None:
                continue
            s.chars += found.chars
            s.link_chars += found.link_chars
            s.links += found.links
            s.standalone += found.standalone
            s.controls += found.controls
            s.media += found.media
            s.prose += found.prose
            s.durations += found.durations
            s.items += found.items
            s.protected |= found.protected
        tag = element.tag
        if tag == "a" and element.get("href") is not None and s.chars:
            s.link_chars, s.links = s.chars, s.links + 1
            if _is_button_like(element, s.chars):
                s.standalone += 1
        if _is_control(element):
            s.controls += 1
        if tag == "li":
            s.items += 1
        if tag in _MEDIA:
            s.media += 1
        if tag not in INLINE:
            own = own_text(element)
            own_chars = _count(own)
            # Prose is text outside links: a tag cloud is not a paragraph.
            linked = sum(stats[c].link_chars for c in element if c in stats and c.tag in INLINE)
            if own_chars - linked >= PROSE_CHARS and (tag in TEXT_BLOCKS or tag == "div"):
                s.prose += own_chars - linked
            elif own_chars and _DURATION.match(own.strip()):
                s.durations += 1
        stats[element] = s
    return stats


def main_container(root: etree._Element, stats: dict[etree._Element, _Stats]) -> etree._Element:
    """The article body: where trafilatura would look first (its body expressions, which
    know the CMS conventions), else the deepest element holding most of the page's prose
    (a short post beside a long sidebar is found by the former)."""
    for expression in BODY_XPATH:
        found = next(
            (e for e in expression(root) if e in stats and stats[e].chars >= MAIN_CHARS), None
        )
        if found is not None:
            return found
    total = stats[root].prose if root in stats else 0
    node = root
    while total:
        best = max((c for c in node if c in stats), key=lambda c: stats[c].prose, default=None)
        if best is None or stats[best].prose < 0.6 * total:
            break
        node = best
    return node


def _named_thread(element: etree._Element) -> bool:
    return element.tag not in INLINE and bool(_words(element) & _COMMENT_WORDS)


def _is_comment_thread(element: etree._Element, stats: dict[etree._Element, _Stats]) -> bool:
    if element.tag in INLINE:
        return False
    if _named_thread(element):
        return True
    # A list of like items (same tag and class), each short and with its own controls,
    # that makes up most of the block: readers' comments and their buttons.
    shapes: dict[tuple[str, str], list[int]] = {}
    for child in element:
        found = stats.get(child)
        if found is not None and found.controls and 0 < found.chars <= COMMENT_CHARS:
            shapes.setdefault((child.tag, child.get("class", "")), []).append(found.chars)
    total = stats[element].chars
    return any(len(sizes) >= 2 and sum(sizes) >= 0.6 * total for sizes in shapes.values())


def furniture(
    root: lxml_html.HtmlElement,
    stats: dict[etree._Element, _Stats],
    main: etree._Element,
) -> list[etree._Element]:
    """The outermost furniture blocks, in document order."""
    main_prose = stats[main].prose if main in stats else 0
    # A box may hold some prose (fine print), never most of the article's.
    prose_cap = min(max(MIN_PROSE_CAP, MAX_PROSE_SHARE * main_prose), 0.5 * main_prose)
    above_main = {id(e) for e in main.iterancestors()} | {id(main)}
    inside_main = {id(e) for e in main.iter(etree.Element)}
    # Nothing holding most of the body's text is furniture, whatever it looks like (a
    # link-blog post is a list of links).
    body_cap = 0.5 * stats[main].chars if main in stats else 0
    page_chars = stats[root].chars if root in stats else 0
    found: list[etree._Element] = []
    stack = [root]
    while stack:
        element = stack.pop()
        s = stats.get(element)
        if s is None or element.tag in INLINE:
            continue
        if (
            element.tag not in _NEVER
            and id(element) not in above_main
            and not s.protected
            and not (id(element) in inside_main and s.chars > body_cap)
            and _is_furniture(element, s, stats, prose_cap, page_chars)
        ):
            found.append(element)
            continue
        # A list or a table that stays, stays whole: its items are judged together.
        if element.tag not in TEXT_BLOCKS and element.tag not in _WHOLE:
            stack.extend(reversed([c for c in element if isinstance(c.tag, str)]))
    return found


def _is_furniture(
    element: etree._Element,
    s: _Stats,
    stats: dict[etree._Element, _Stats],
    prose_cap: float,
    page_chars: int,
) -> bool:
    if not s.chars:
        # Text-less: an empty player or form keeps nothing worth reading.
        return bool(s.media or s.controls)
    tag = element.tag
    little_prose = s.prose <= prose_cap
    if tag in ("nav", "footer", "header") or element.get("role") in ("navigation", "banner"):
        return little_prose
    if _named_box(element, s, page_chars):
        return True
    if little_prose and _is_comment_thread(element, stats):
        return True
    if _link_box(element, s, little_prose):
        return True
    # Sign-up forms, alert buttons, comment boxes; not a list with a control (a recipe's
    # servings selector beside its ingredients).
    if s.controls and little_prose and s.chars <= 2000 and s.items < 3:
        return True
    # A box of short lines (no paragraph of prose) with a button-like link, a player or
    # durations: a call to action, a paywall offer, a video.
    boxed = tag not in TEXT_BLOCKS and tag not in _WHOLE  # a list is its items' (above)
    short_box = boxed and s.chars <= BOX_CHARS and not s.prose
    return short_box and bool(s.standalone or s.media or s.durations)


def _link_box(element: etree._Element, s: _Stats, little_prose: bool) -> bool:
    """Mostly link text: a related box, a "read also" line, a playlist, a tag cloud."""
    tag = element.tag
    if tag in _HEADINGS or not s.links or s.link_chars < LINK_DENSITY * s.chars:
        return False
    if tag in TEXT_BLOCKS:
        # A paragraph is a link line when little text stands outside its links (a label)
        # and it reads as a title, not as a sentence that links its second half.
        text = element.text_content().rstrip()
        return s.chars - s.link_chars <= LINK_LABEL_CHARS and not text.endswith(".")
    # Links with prose around them are a paragraph's, unless they are nearly all of it.
    return s.chars <= 3000 and (little_prose or s.link_chars >= 0.8 * s.chars)


def _named_box(element: etree._Element, s: _Stats, page_chars: int) -> bool:
    """Ads, share bars, consent and newsletter boxes, by their class or id words.

    CMS taxonomy classes ("category-advertising", "tag-ad") describe the article a wrapper
    holds, not the wrapper: they never count. A block named like an ad but long is content
    a designer tagged ("TestReport__Section--Ads" holds a review's conclusion), and a box
    holding a fifth of the page is a wrapper (Libération's page sits in an "ad-portal").
    """
    if s.chars > 0.2 * page_chars:
        return False
    names = " ".join(
        name
        for name in f"{element.get('class', '')} {element.get('id', '')}".lower().split()
        if not name.startswith(_TAXONOMY_PREFIXES)
    )
    words = set(_SPLIT_NAME.split(names))
    if words & _BOX_WORDS:
        return s.prose < 3 * PROSE_CHARS
    if words & _AD_WORDS or "sponsored" in (element.get("rel") or ""):
        return s.chars <= _AD_MAX_CHARS
    return element.get("aria-modal") == "true" and element.get("role") in (
        "dialog",
        "alertdialog",
    )


def _headline(root: lxml_html.HtmlElement, headline: str | None) -> etree._Element | None:
    h1s = root.findall(".//h1")
    key = fold(headline) if headline else ""
    matching = next((h for h in h1s if key and fold(h.text_content()) == key), None)
    return matching if matching is not None else next(iter(h1s), None)


def _holders(
    root: lxml_html.HtmlElement, main: etree._Element, stats: dict[etree._Element, _Stats]
) -> list[etree._Element]:
    """Byline and date holders placed before the article text (dates and names further
    down belong to comments and related boxes)."""
    first_prose = next(
        (
            e
            for e in main.iter(etree.Element)
            if e in stats and e.tag in TEXT_BLOCKS and stats[e].prose
        ),
        main,
    )
    found = []
    for element in root.iter(etree.Element):
        if element is first_prose:
            break
        if (
            element.tag == "time"
            or element.get("itemprop") in ("author", "datePublished", "dateModified")
            or element.get("rel") == "author"
            or _words(element) & _HOLDER_WORDS
        ) and stats.get(element, _Stats()).chars <= 300:
            found.append(element)
    return found


def prune_furniture(
    root: lxml_html.HtmlElement, headline: str | None = None
) -> etree._Element | None:
    """Remove the furniture blocks of a parsed page, in place; returns the headline's
    element, when the page has one."""
    title = _headline(root, headline)
    stats = measure(root, [title] if title is not None else [])
    # Comment threads named so go first: a long one must not pass for the main text.
    threads = [
        e
        for e in root.iter(etree.Element)
        if e in stats and e.tag not in _NEVER and not stats[e].protected and _named_thread(e)
    ]
    for element in _outermost(threads):
        element.drop_tree()
    stats = measure(root, [title] if title is not None else [])
    main = main_container(root, stats)
    protected = _holders(root, main, stats) + ([title] if title is not None else [])
    stats = measure(root, protected)
    for element in furniture(root, stats, main):
        if element.getparent() is not None:
            element.drop_tree()
    if title is not None:
        # The article's own header holds its standfirst; trafilatura's precision mode
        # drops every <header>, so this one goes in as a plain block.
        for ancestor in title.iterancestors("header"):
            ancestor.tag = "div"
    return title


def _outermost(elements: list[etree._Element]) -> list[etree._Element]:
    chosen = {id(e) for e in elements}
    return [e for e in elements if not any(id(a) in chosen for a in e.iterancestors())]
