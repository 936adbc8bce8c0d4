"""Plain text (dumps, JSONL text fields) and feed-entry snippets."""

from __future__ import annotations

import re

from veille.extract.clean import clean_inline, fold, is_chrome_line, normalise_space

_BLOCK_END = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li|/h[1-6]|/blockquote|/tr)\s*>", re.IGNORECASE)
_SENTENCE = re.compile(r"^(.+?[.!?…])(?:\s|$)")


def paragraphs(text: str) -> list[str]:
    return [line for line in (normalise_space(raw) for raw in text.splitlines()) if line]


def fragment_to_text(fragment: str) -> str:
    """Text of a feed entry's HTML snippet, one line per block."""
    return "\n".join(
        clean_inline(part) for part in _BLOCK_END.split(fragment) if clean_inline(part)
    )


def _title_like(line: str) -> bool:
    words = len(line.split())
    return 2 <= words <= 30 and not line.endswith(".") and not is_chrome_line(line)


def find_title(lines: list[str]) -> tuple[str | None, bool]:
    """A dump's headline, and whether it stands on a line of its own.

    A short unpunctuated line near the top is the headline; when it is also found inside
    an earlier line, that one is a breadcrumb ("Retour à l'accueil <title> Rubrique").
    Otherwise the first sentence stands in, and stays in the body.
    """
    head = lines[:5]
    for index, line in enumerate(head):
        if _title_like(line) and any(fold(line) in fold(earlier) for earlier in head[:index]):
            return line, True
    if head and _title_like(head[0]):
        return head[0], True
    if not head:
        return None, False
    match = _SENTENCE.match(head[0])
    sentence = match.group(1) if match else head[0]
    if len(sentence) > 220:
        sentence = sentence[:200].rsplit(" ", 1)[0] + "…"
    return sentence, False
