"""Where sources disagree: different values for the same slot of a story.

Slots today are the date of an event the story reports (the day given next to one of the
story's key words: "perquisitionnés ce mardi 2 février" against "perquisitionné mardi
3 février") and figures of the same unit given for the same thing. Relative dates ("ce
mardi", "hier") are resolved against each article's publication day first; a weekday that
contradicts its day number is noted.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from veille.enrich.facts import FactSource, event_dates
from veille.i18n import translate
from veille.text import fold, sentences, terms
from veille.when import local_day

_WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_AMOUNT = re.compile(
    r"(\d[\d\s.,]*)\s*(millions?|milliards?)?\s*(?:d['’]\s*|de\s+)?(euros?|€|dollars?|\$|%)",
    re.IGNORECASE,
)
# Only dates near the publication day describe the event being reported; older or later
# ones are background ("ouverte en janvier 2025") or plans ("convoqués le 20 avril").
_EVENT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class WeekdayNote:
    """A source names a weekday that its day number contradicts."""

    site: str
    written: str  # as the source wrote it: "ce mardi 2 février"
    day: str  # ISO date the day number gives
    weekday: str  # what that day really was, in French: "lundi"

    @property
    def text(self) -> str:
        return self.describe()

    def describe(self, lang: str | None = None) -> str:
        return translate(
            "{site} writes « {written} », but {day} was a {weekday}",
            lang,
            site=self.site,
            written=self.written,
            day=self.day,
            weekday=self.weekday,
        )


@dataclass
class Disagreement:
    slot: str  # "date" (of an event) or "figure"
    word: str  # the key word it is about: "perquisition", "amende"
    values: dict[str, list[FactSource]] = field(default_factory=dict)  # most held first
    notes: list[WeekdayNote] = field(default_factory=list)
    said: dict[str, list[str]] = field(default_factory=dict)  # value -> sentences stating it

    @property
    def about(self) -> str:
        """In words, in the reader's language: "date de la perquisition"."""
        return about(self.slot, self.word)

    @property
    def majority(self) -> str:
        return max(self.values, key=lambda value: len(self.values[value]))

    @property
    def disputed(self) -> list[str]:
        """The sentences stating a value fewer sources hold: a summary should not pick one."""
        return [s for value, found in self.said.items() if value != self.majority for s in found]


def about(slot: str, word: str, lang: str | None = None) -> str:
    if slot == "date":
        return translate("date of {word}", lang, word=word)
    return translate("figure for « {word} »", lang, word=word)


def event_words(sources: list[FactSource], titles: list[str], count: int = 3) -> list[str]:
    """The story's key words: terms most of its headlines share (its event's verb or noun)."""
    per_title = Counter(term for title in titles for term in set(terms(title)))
    names = {fold(word) for source in sources for word in re.findall(r"\b[A-Z]\w+", source.text)}
    ranked = [t for t, n in per_title.most_common() if n >= 2 and t not in names and len(t) > 3]
    return ranked[:count]


def _same_word(a: str, b: str) -> bool:
    """Stems of one family: 'perquisit' (perquisition) and 'perquisition' (perquisitionné)."""
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 5 and longer.startswith(shorter)


def _surface(stem: str, titles: list[str]) -> str:
    """The word as the headlines most often write it ("perquisition" for "perquisit")."""
    written = Counter(
        word.lower()
        for title in titles
        for word in re.findall(r"[^\W\d_][\w-]*", title)
        if terms(word) == [stem]
    )
    return min(written, key=lambda w: (-written[w], len(w), w)) if written else stem


_DETERMINED = re.compile(
    r"\b(la|le|les|l['’]|une|un|cette|ce|cet|des)\s*([^\W\d_][\w-]*)", re.IGNORECASE
)
_DEFINITE = {"une": "la", "cette": "la", "un": "le", "ce": "le", "cet": "l'", "des": "les"}


def _event_noun(stem: str, texts: list[str]) -> str | None:
    """What a date is the date of, as a noun with its article: "la perquisition" for the
    stem "perquisit" (the headlines' "perquisitionne" is a verb: a date is an event's).
    A word of the family written after an article is a noun; the most frequent wins."""
    found: Counter[str] = Counter()
    for text in texts:
        for match in _DETERMINED.finditer(text):
            word = match.group(2).lower()
            if not any(_same_word(stem, t) for t in terms(word)):
                continue
            article = match.group(1).lower().replace("’", "'")
            article = _DEFINITE.get(article, article)
            found[f"{article}{word}" if article.endswith("'") else f"{article} {word}"] += 1
    if not found:
        return None
    return min(found, key=lambda p: (-found[p], len(p), p))


def disagreements(sources: list[FactSource], titles: list[str]) -> list[Disagreement]:
    found: list[Disagreement] = []
    seen: set[frozenset[tuple[str, int]]] = set()
    for word in event_words(sources, titles):
        dates = _date_slot(sources, word)
        if dates is None:
            continue
        texts = [s.text for s in sources] + titles
        dates.word = _event_noun(word, texts) or f"« {_surface(word, titles)} »"
        # Two key words of one event give the same split of sources: report it once.
        minority = frozenset(
            (value, s.article_id)
            for value, holders in dates.values.items()
            if value != dates.majority
            for s in holders
        )
        if minority not in seen:
            seen.add(minority)
            found.append(dates)
    found.extend(_amount_slots(sources))
    return found


def _date_slot(sources: list[FactSource], word: str) -> Disagreement | None:
    values: dict[date, list[FactSource]] = defaultdict(list)
    said: dict[date, list[str]] = defaultdict(list)
    notes: list[WeekdayNote] = []
    for source in sources:
        if source.published is None:
            continue
        reference = local_day(source.published, True)  # the day where its readers are
        given: set[date] = set()  # the value(s) this source gives
        for sentence in sentences(source.text):
            if not any(_same_word(word, term) for term in terms(sentence, source.language)):
                continue
            dated = [
                found
                for found in event_dates(sentence, reference)
                if abs(found[0] - reference) <= _EVENT_WINDOW
            ]
            if given:
                # The lede and the body often say it twice: every sentence stating the
                # source's value is one a summary must not take for the story's.
                for value, _written, _contradicts in dated:
                    if value in given:
                        said[value].append(sentence)
                continue
            for value, written, contradicts in dated:
                given.add(value)
                said[value].append(sentence)
                if source not in values[value]:
                    values[value].append(source)
                if contradicts:
                    weekday = _WEEKDAY_NAMES[value.weekday()]
                    notes.append(
                        WeekdayNote(source.site or source.url, written, value.isoformat(), weekday)
                    )
            # The first dated sentence naming the event dates it (`given`).
    if len(values) < 2:
        return None
    return Disagreement(
        slot="date",
        word=word,
        values={
            value.isoformat(): found
            for value, found in sorted(values.items(), key=lambda item: -len(item[1]))
        },
        notes=notes,
        said={value.isoformat(): found for value, found in said.items()},
    )


def _amount_slots(sources: list[FactSource]) -> list[Disagreement]:
    """The same noun with different figures of the same unit in different sources."""
    slots: dict[tuple[str, str], dict[str, list[FactSource]]] = defaultdict(dict)
    said: dict[tuple[str, str], list[str]] = defaultdict(list)  # the sentences, for the word
    stating: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for source in sources:
        for sentence in sentences(source.text):
            for match in _AMOUNT.finditer(sentence):
                figure = re.sub(r"\s", "", match.group(1)).rstrip(".,")
                scale = (match.group(2) or "").lower().rstrip("s")
                unit = fold(match.group(3)).replace("€", "euro").rstrip("s")
                before = terms(sentence[: match.start()])[-3:]
                if not before:
                    continue
                value = f"{figure} {scale} {unit}".replace("  ", " ")
                slot = slots[(before[-1], unit)]
                said[(before[-1], unit)].append(sentence[: match.start()])
                stating[(before[-1], unit)][value].append(sentence)
                holders = slot.setdefault(value, [])
                if source not in holders:
                    holders.append(source)
    found = []
    for (noun, unit), values in slots.items():
        sites = {s.article_id for holders in values.values() for s in holders}
        if (
            len(values) >= 2
            and len(sites) >= 2
            and all(
                len({s.article_id for s in holders}) < len(sites) for holders in values.values()
            )
        ):
            found.append(
                Disagreement(
                    slot="figure",
                    word=_surface(noun, said[(noun, unit)]),
                    values=dict(values),
                    said=dict(stating[(noun, unit)]),
                )
            )
    return found
