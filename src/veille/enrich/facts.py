"""Key facts of a story: the sentences that carry a date, a figure, an amount or a quote,
grouped when several sources state the same thing, ranked by how many independent sources
state it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from veille.extract.clean import is_chrome_line
from veille.extract.dates import find_date_mentions
from veille.summarize.extractive import dangling
from veille.text import fold, sentences, terms
from veille.when import local_day

_AMOUNT = re.compile(
    r"\d[\d\s.,]*\s*(?:%|€|\$|£|euros?\b|dollars?\b|millions?\b|milliards?\b|"
    r"mille\b|km\b|ans\b|personnes\b|morts\b|victimes\b)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_QUOTE = re.compile(r"[«“\"]\s*[^«»“”\"]{20,}[»”\"]")
_MIN_WORDS, _MAX_WORDS = 8, 70


@dataclass(frozen=True)
class FactSource:
    """One article of the story, as the fact finder needs it."""

    article_id: int
    site: str | None
    url: str
    text: str
    published: datetime | None = None
    language: str | None = "fr"
    original_id: int | None = None  # set for a syndicated copy: not an independent source


@dataclass
class Fact:
    text: str  # the best-formed sentence stating it
    kinds: set[str]  # "date", "amount", "number", "quote", "name"
    sources: list[FactSource] = field(default_factory=list)
    dates: set[date] = field(default_factory=set)
    amounts: set[str] = field(default_factory=set)

    @property
    def independent_sources(self) -> int:
        # A syndicated copy counts with its original: one dispatch, one source.
        return len({s.original_id or s.article_id for s in self.sources})

    @property
    def sites(self) -> list[str]:
        seen: dict[str, None] = {}
        for source in self.sources:
            seen.setdefault(source.site or source.url, None)
        return list(seen)


@dataclass
class _Candidate:
    sentence: str
    source: FactSource
    position: int
    kinds: set[str]
    dates: set[date]
    amounts: set[str]
    words: set[str]


_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# "a perquisitionné mardi les bureaux": a bare weekday in news prose means the last one.
_BARE_WEEKDAY = re.compile(rf"\b({'|'.join(_WEEKDAYS)})\b(?!\s+\d)", re.IGNORECASE)
# A capitalised word that does not start the sentence: a name, so someone acting.
_NAME = re.compile(r"(?<![.!?«\"“]\s)(?<!^)\b[A-ZÉÈÀÂÎÔÛÇ][\w’'-]+")


def event_dates(sentence: str, reference: date | None) -> list[tuple[date, str, bool]]:
    """Dates a sentence gives, resolved against the publication day: (value, text as
    written, whether the weekday named contradicts the day number)."""
    found = [(m.value, m.text, m.weekday_conflict) for m in find_date_mentions(sentence, reference)]
    covered = " ".join(text.lower() for _, text, _ in found)
    if reference is not None:
        for match in _BARE_WEEKDAY.finditer(sentence):
            if match.group(1).lower() in covered:
                continue
            back = (reference.weekday() - _WEEKDAYS.index(match.group(1).lower())) % 7
            found.append((date.fromordinal(reference.toordinal() - back), match.group(0), False))
    return found


# What removing a link or an aside leaves behind: "élargie, , alors", "X , a".
_DOUBLE_COMMA = re.compile(r"\s*,(?:\s*,)+")
_SPACE_BEFORE_COMMA = re.compile(r"\s+,")


def _clean(sentence: str) -> str:
    sentence = _DOUBLE_COMMA.sub(",", sentence.lstrip("*-•–— ").strip())
    return _SPACE_BEFORE_COMMA.sub(",", sentence)


def _balanced(sentence: str) -> bool:
    """Quotation marks that open and close within the sentence: a quotation cut in two
    reads as two claims, neither whole."""
    return sentence.count("«") == sentence.count("»") and sentence.count('"') % 2 == 0


def _anchors(sentence: str, reference: date | None) -> tuple[set[str], set[date], set[str]]:
    kinds: set[str] = set()
    dates = {value for value, _, _ in event_dates(sentence, reference)}
    if dates:
        kinds.add("date")
    amounts = {fold(m.group(0)) for m in _AMOUNT.finditer(sentence)}
    if amounts:
        kinds.add("amount")
    elif _NUMBER.search(sentence):
        kinds.add("number")
    if _QUOTE.search(sentence):
        kinds.add("quote")
    if _NAME.search(sentence):
        kinds.add("name")
    return kinds, dates, amounts


def candidates(
    source: FactSource, per_article: int = 40, avoid: frozenset[str] = frozenset()
) -> list[_Candidate]:
    # "ce mardi" is read from the day the article was published where its readers are.
    reference = local_day(source.published, True) if source.published else None
    found = []
    for position, raw in enumerate(sentences(source.text)[:per_article]):
        sentence = _clean(raw)
        count = len(sentence.split())
        if not _MIN_WORDS <= count <= _MAX_WORDS or is_chrome_line(sentence):
            continue
        if not _balanced(sentence) or _avoided(sentence, avoid) or dangling(sentence):
            continue  # a quotation cut in two, a minority claim, a missing antecedent
        if sentence.startswith("(") and sentence.endswith(")"):
            continue  # an editor's aside: "(Ajout du commentaire ... au paragraphe 6)"
        kinds, dates, amounts = _anchors(sentence, reference)
        if not kinds:
            continue
        found.append(
            _Candidate(
                sentence,
                source,
                position,
                kinds,
                dates,
                amounts,
                set(terms(sentence, source.language)),
            )
        )
    return found


def _same_fact(a: _Candidate, b: _Candidate) -> bool:
    """Two sentences state one fact: they share its anchor (a date or an amount) and enough
    of its words, or, without anchors in common, most of their words."""
    if not a.words or not b.words:
        return False
    overlap = len(a.words & b.words)
    jaccard = overlap / len(a.words | b.words)
    containment = overlap / min(len(a.words), len(b.words))
    shared_anchor = bool(a.dates & b.dates) or bool(a.amounts & b.amounts)
    if shared_anchor:
        return overlap >= 3 and (jaccard >= 0.15 or containment >= 0.3)
    return jaccard >= 0.5 or containment >= 0.75


def _avoided(sentence: str, avoid: frozenset[str]) -> bool:
    """The sentence is, holds or is part of one to avoid (split by other rules)."""
    text = " ".join(sentence.split())
    return any(text in a or a in text for a in avoid)


def key_facts(
    stories_articles: list[FactSource], limit: int = 8, avoid: Iterable[str] = ()
) -> list[Fact]:
    """The story's key facts, most independently stated first; no sentence in `avoid` (the
    minority side of a disagreement) is one."""
    avoided = frozenset(" ".join(a.split()) for a in avoid)
    groups: list[list[_Candidate]] = []
    for source in stories_articles:
        for candidate in candidates(source, avoid=avoided):
            # Average linkage: a sentence joins the group it matches at least half of, so
            # one sentence stating two facts does not chain them into one.
            best, best_share = None, 0.5
            for group in groups:
                share = sum(_same_fact(candidate, member) for member in group) / len(group)
                if share >= best_share:
                    best, best_share = group, share
            if best is None:
                groups.append([candidate])
            else:
                best.append(candidate)
    facts = []
    for group in groups:
        best = min(group, key=_representativeness(group))
        fact = Fact(text=best.sentence, kinds=set().union(*(c.kinds for c in group)))
        seen: set[int] = set()
        for member in group:
            if member.source.article_id not in seen:
                seen.add(member.source.article_id)
                fact.sources.append(member.source)
        fact.dates = set().union(*(c.dates for c in group))
        fact.amounts = set().union(*(c.amounts for c in group))
        facts.append((fact, min(c.position for c in group)))
    facts.sort(
        key=lambda pair: (-pair[0].independent_sources, -len(pair[0].kinds - {"name"}), pair[1])
    )
    return [fact for fact, _ in facts[:limit]]


def _representativeness(group: list[_Candidate]):
    """The member sharing the most words with the rest, early in its article, not too long."""

    def key(candidate: _Candidate) -> tuple[float, int]:
        shared = sum(
            len(candidate.words & other.words) for other in group if other is not candidate
        )
        return (-shared / max(1, len(candidate.words)) ** 0.5, candidate.position)

    return key
