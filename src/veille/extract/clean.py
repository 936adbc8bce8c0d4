"""Line-level cleaning of extracted text: what trafilatura leaves, and what naive dumps carry.

General rules first (editorial notes, counters, call-to-action ads, emoji promos, short
chrome lines at the edges, title echoes, repeated sentences, lines repeated across one
site's pages); a short list of known chrome phrases backs them up.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import date

from veille.encoding import fix_text
from veille.extract.dates import find_date_mentions
from veille.text import fold

# A byline with its date is short.
DATELINE_WORDS = 16

_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{0,500}>")

# Agency editor's notes: ((Traduction automatisée par Reuters ...)), ((Corrects paragraph 3)).
_EDITOR_NOTE = re.compile(r"\(\([^()]{0,600}\)\)\s*")
# Tokens of page chrome inside a line of text.
_INLINE_CHROME = re.compile(
    r"\b\d[\d\s.,]*\s*(?:vues|views|lectures|partages|commentaires)\b"
    r"|\[email(?:&#160;|\s)protected\]"
    r"|\bPartager\s*:\s*",
    re.IGNORECASE,
)

# Backup list: phrases that are chrome wherever they stand on a line of their own.
_CHROME_LINE = re.compile(
    r"^(?:retour à l['’]accueil|accueil|commentaires?|réagir|partager(?: sur \w+)?|"
    r"publicité|sponsorisé|contenu sponsorisé|lire aussi|à lire aussi|à lire également|"
    r"les plus lus|s['’]inscrire|se connecter|connectez-vous.*|abonnez-vous.*|"
    r"newsletter|la newsletter.*|description|voir plus|en savoir plus|"
    r"about press copyright.*|durée\s*:.*|publié\s+(?:hier|aujourd['’]hui|il y a).*|"
    # Datelines: the date is metadata, taken before cleaning.
    r"(?:par [^,.]{2,60}, )?(?:publié|mis à jour|mis en ligne|modifié|actualisé)"
    r"(?: le| il y a)? [^.]{0,60}\d[^.]{0,40})$",
    re.IGNORECASE,
)
# "> Lire aussi : <another article's title>": a link to elsewhere, whatever follows.
_READ_ALSO = re.compile(
    r"^[>›»•\-–\s]*(?:à |a )?(?:lire|voir|regarder) (?:aussi|également|egalement|encore)"
    r"\s*[:>›|-]",
    re.IGNORECASE,
)
_CHROME_PHRASE = re.compile(
    r"certains contenus ou liens dans cet article peuvent être de la publicité"
    r"|j['’]accepte de recevoir"
    r"|politique de confidentialité"
    r"|(?:nous utilisons|ce site utilise|utilisent?) des (?:cookies|traceurs)"
    r"|vous pouvez vous désinscrire"
    r"|investir dans les cryptomonnaies comporte des risques"
    r"|n['’]investissez que ce que vous"
    r"|how youtube works"
    r"|cet article est réservé aux abonnés"
    r"|il vous reste \d+\s?% de l['’]article"
    r"|pour lire la suite"
    r"|recevez [^.]{0,80}(?:par (?:e-)?mail|boîte mail|newsletter)",
    re.IGNORECASE,
)
_CTA_VERBS = {
    "achetez",
    "acheter",
    "sécurisez",
    "découvrez",
    "profitez",
    "essayez",
    "téléchargez",
    "commandez",
    "réservez",
    "souscrivez",
    "investissez",
    "gagnez",
    "économisez",
    "simulez",
    "comparez",
    "inscrivez-vous",
    "abonnez-vous",
    "obtenez",
    "ouvrez",
    "testez",
    "cliquez",
    "recevez",
    "rejoignez",
    "trader",
    "tradez",
    "devenez",
}
_PRICE = re.compile(
    r"\d\s?(?:€|euros?\b|\$|dollars?\b)|à partir de|à seulement|gratuit|offert", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?…»\"”)。！？]\s*$")
_LIST_SEPARATORS = re.compile(r"\s+[·•|>»]\s+")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[«\"“A-ZÀ-ÖØ-Ý0-9])")


def normalise_space(text: str) -> str:
    return _WS.sub(" ", text).strip()


# Invisible characters a headline carries from its markup: soft hyphens, zero-width
# spaces, word joiners, byte-order marks.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")


def clean_inline(text: str) -> str:
    """Strip tags and entities (Google Alerts '<b>', '&amp;') and collapse spaces."""
    text = _TAG.sub("", text)
    # Feeds double-escape: '&amp;#39;' needs two passes to become an apostrophe.
    for _ in range(2):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    # Headlines come from feeds and metadata too: mojibake and control bytes are repaired.
    return normalise_space(_INVISIBLE.sub("", fix_text(text)))


def _starts_with_pictograph(line: str) -> bool:
    first = line.lstrip()[:1]
    return bool(first) and unicodedata.category(first) == "So"


def is_chrome_line(line: str) -> bool:
    """A line that is page furniture, an ad or a disclaimer rather than article text."""
    words = line.split()
    if not words:
        return True
    if _CHROME_LINE.match(line) or _READ_ALSO.match(line) or _CHROME_PHRASE.search(line):
        return True
    if _starts_with_pictograph(line) and len(words) <= 40:
        return True
    if _is_tag_list(line):
        return True
    first = words[0].lower().strip(",:;!")
    return len(words) <= 25 and first in _CTA_VERBS and bool(_PRICE.search(line))


def _is_tag_list(line: str) -> bool:
    """'Cybersécurité · Réseaux sociaux', 'Accueil > Monde > Europe': tags and crumbs."""
    if line.startswith("|"):
        return False  # a table row, which is content
    parts = [p.strip() for p in _LIST_SEPARATORS.split(line)]
    return (
        len(parts) >= 2
        and all(0 < len(p.split()) <= 3 for p in parts)
        and not _SENTENCE_END.search(line)
    )


def _is_heading_like(line: str) -> bool:
    # Length in characters too: CJK lines have no spaces between words.
    return len(line.split()) <= 4 and len(line) <= 40 and not _SENTENCE_END.search(line)


def clean_lines(
    lines: Iterable[str],
    title: str | None = None,
    trim_edges: bool = False,
    site_name: str | None = None,
) -> list[str]:
    """Drop chrome lines, inline chrome and the title repeated in the body.

    With `trim_edges` (raw dumps, which had no page structure to extract from), short
    captionless lines at the start and end go too (menus, labels, buttons), and so do
    breadcrumbs that wrap the title in a few navigation words. In the middle short lines
    are sub-headings, which stay.
    """
    title_key = fold(title) if title else ""
    site_key = fold(site_name) if site_name else ""
    kept: list[str] = []
    for raw in lines:
        line = normalise_space(_INLINE_CHROME.sub(" ", _EDITOR_NOTE.sub("", raw)))
        if not line or line in {"·", "•", "|", "-", "–"} or is_chrome_line(line):
            continue
        key = fold(line)
        if site_key and key == site_key:
            continue  # the site's name alone on a line: a logo's text
        if (
            title_key
            and key
            and (key == title_key or (trim_edges and _is_title_echo(key, title_key)))
        ):
            continue
        kept.append(line)
    if trim_edges:
        while kept and _is_heading_like(kept[-1]):
            kept.pop()
        while kept and _is_heading_like(kept[0]):
            kept.pop(0)
    return kept


def drop_datelines(lines: list[str], published: date | None) -> list[str]:
    """Drop a byline or dateline left at the top or bottom of the text: a short line, not
    a sentence, that states the publication day ("Rédaction X · 5 février 2026 à 07:20",
    "Le 1er février 2026 à 21h15 | Par Y"). The day is metadata, read before cleaning."""
    if published is None or not lines:
        return lines

    def dateline(line: str) -> bool:
        if len(line.split()) > DATELINE_WORDS or line.rstrip().endswith("."):
            return False
        return any(m.value == published for m in find_date_mentions(line, published))

    edges = set(range(min(2, len(lines)))) | set(range(max(0, len(lines) - 2), len(lines)))
    return [line for i, line in enumerate(lines) if i not in edges or not dateline(line)]


def _is_title_echo(key: str, title_key: str) -> bool:
    """A breadcrumb line: the title plus a few navigation words."""
    return title_key in key and len(key.split()) - len(title_key.split()) <= 6


def drop_repeated_sentences(paragraphs: list[str], min_words: int = 6) -> list[str]:
    """Keep the first occurrence of each sentence; stitched dumps repeat whole passages.

    A sentence counts as repeated when its words are (almost) all in one earlier sentence,
    which also catches a copy with a connective added ("Récemment, ...", "En réaction, ...").
    """
    seen: list[set[str]] = []
    exact: set[str] = set()
    out: list[str] = []
    for paragraph in paragraphs:
        sentences = _SENTENCE_SPLIT.split(paragraph)
        kept: list[str] = []
        for sentence in sentences:
            key = fold(sentence)
            words = set(key.split())
            if len(words) >= min_words and (key in exact or _contained(words, seen)):
                continue
            if len(words) >= min_words:
                exact.add(key)
                seen.append(words)
            kept.append(sentence)
        if len(kept) == len(sentences):
            out.append(paragraph)
        elif kept and any(len(fold(s).split()) >= min_words for s in kept):
            out.append(" ".join(kept))
    return out


def _contained(words: set[str], seen: list[set[str]], threshold: float = 0.85) -> bool:
    size = len(words)
    return any(len(words & earlier) >= threshold * size for earlier in seen[-400:])


def site_repeated_lines(
    texts: list[str], min_docs: int = 3, share: float = 0.5, max_words: int = 12
) -> set[str]:
    """Folded lines found in many pages of one site: its furniture, whatever the wording.

    Needs at least `min_docs` pages, and a line must be on `share` of them.
    """
    if len(texts) < min_docs:
        return set()
    counts: Counter[str] = Counter()
    for text in texts:
        # Only short lines: long sentences shared by several pages of one site are wire
        # copy or updates of one story, which is content.
        counts.update(
            {
                fold(line)
                for line in text.split("\n")
                if line.strip() and len(line.split()) <= max_words
            }
        )
    needed = max(min_docs, share * len(texts))
    return {key for key, count in counts.items() if count >= needed and key}
