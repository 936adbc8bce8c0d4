"""French-first date extraction for news prose.

Pure functions, stdlib only. Three entry points:

- ``find_date_mentions``: every date expression in a text, with char spans.
- ``parse_french_date``: the first date in a short string.
- ``find_publication_date``: the publication date of a page, only when a cue
  ("Publié le", "Mis en ligne le", a "Le <date>" byline...) introduces it.

Patterns run on a lowercased copy of the text (same length, so spans carry
over): case-sensitive patterns that start with a plain character class let
``re`` skip ahead quickly, which keeps a 1 MB text well under a second.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

__all__ = [
    "DateMention",
    "find_date_mentions",
    "find_publication_date",
    "find_publication_mention",
    "find_update_mention",
    "parse_french_date",
]


@dataclass(frozen=True)
class DateMention:
    start: int  # char span in the input text
    end: int
    text: str  # the matched text, e.g. "mardi 2 février"
    value: date  # resolved calendar date
    has_year: bool  # False when the year was inferred from the reference
    relative: bool  # "hier", "ce mardi", "lundi dernier", "aujourd'hui"...
    weekday_conflict: bool  # stated weekday differs from the weekday of `value`
    time: tuple[int, int] | None  # (hour, minute) when given


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
    # English (bonus for "Published on February 3, 2026")
    "january": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8,
    "aug": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip

_WEEKDAYS: dict[str, int] = {
    "lun": 0, "mar": 1, "mer": 2, "jeu": 3, "ven": 4, "sam": 5, "dim": 6,
}  # fmt: skip

# All date patterns below are lowercase and match the lowercased text.
# Horizontal whitespace only (incl. NBSP / narrow NBSP): a date never spans lines.
_S = r"[^\S\r\n]"
_WD_FULL = r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_WD_ABBR = r"lun|mar|mer|jeu|ven|sam|dim"
# Longest forms first; "mar." needs its dot because bare "mar" is too ambiguous.
_FR_MONTH = (
    r"janvier|janv\.?|jan\.?|f[ée]vrier|f[ée]vr\.?|f[ée]v\.?|mars|mar\.|avril|avr\.?"
    r"|mai|juin|juillet|juil\.?|ao[ûu]t|septembre|sept\.?|sep\.?|octobre|oct\.?"
    r"|novembre|nov\.?|d[ée]cembre|d[ée]c\.?"
)
_EN_MONTH = (
    r"january|february|march|april|may|june|july|august|september|october"
    r"|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_NOT_LETTER = r"(?![^\W\d_])"
_YEAR4 = r"(?:1\d|2[01])\d\d"  # 1000-2199: "14 juillet 1789" is news too

_TIME = (
    r"(?<!\d)(?P<hour>2[0-3]|[01]?\d)"
    rf"(?:{_S}?(?:h|heures?){_S}?(?P<min_h>[0-5]\d)?(?:{_S}?min)?"
    r"|:(?P<min_c>[0-5]\d)(?::[0-5]\d)?)"
    r"(?![^\W_])"
)
_TIME_SUFFIX = rf"(?:{_S}*,?{_S}*(?:(?:à|a|vers|[-–—]){_S}*)?{_TIME})?"

# Patterns start with a digit or a literal word (fast scanning); what must not
# precede them is checked in code (see _PRECEDE_*).
_FR_TAIL = (
    rf"{_S}+(?P<month>{_FR_MONTH}){_NOT_LETTER}"
    # "le 3 mai dernier" / "le 3 mai prochain" settle the year's direction.
    rf"(?:{_S}+(?P<year>{_YEAR4})(?!\d)|{_S}+(?P<mdir>dernier|prochain)\b)?" + _TIME_SUFFIX
)
_FR_DATE_RE = re.compile(r"(?P<day>\d\d?)(?:er|ᵉʳ)?" + _FR_TAIL)
_FR_PREMIER_RE = re.compile(r"(?P<day>premier)" + _FR_TAIL)  # apart: keeps the digit scan fast
_NUM_DATE_RE = re.compile(
    r"(?P<day>\d{1,2})(?P<sep>[/.\-])(?P<month>\d{1,2})(?P=sep)"
    r"(?P<year>\d{4}|\d{2})(?!\d|[/.\-]\d)" + _TIME_SUFFIX
)
_ISO_DATE_RE = re.compile(
    rf"(?P<year>{_YEAR4})(?P<sep>[-/])(?P<month>\d\d)(?P=sep)(?P<day>\d\d)"
    r"(?:t(?P<ih>[01]\d|2[0-3]):(?P<imin>[0-5]\d)(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:z|[+-]\d\d:?\d\d)?(?!\d)"
    rf"|(?!\d){_TIME_SUFFIX})"
)
_EN_MD_RE = re.compile(
    rf"(?P<month>{_EN_MONTH})\.?{_S}+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?"
    rf"{_S}+(?P<year>{_YEAR4})(?!\d)" + _TIME_SUFFIX
)
_EN_DM_RE = re.compile(
    rf"(?P<day>\d\d?)(?:st|nd|rd|th)?{_S}+(?P<month>{_EN_MONTH})\.?,?"
    rf"{_S}+(?P<year>{_YEAR4})(?!\d)" + _TIME_SUFFIX
)
_REL_WORD_RE = re.compile(
    rf"(?P<word>avant(?:-|{_S})hier|apr[èe]s(?:-|{_S})demain"
    rf"|aujourd['’ʼ]{_S}?hui|hier|demain)\b" + _TIME_SUFFIX
)
# A bare weekday is too ambiguous: it counts only with a cue before ("ce", "le",
# "dès", checked in code) or after ("dernier"), and never when a day-of-month
# follows (the absolute form's job; "mardi 31 février" is then rejected whole).
_WD_REL_RE = re.compile(
    rf"(?P<wd>{_WD_FULL})\b"
    rf"(?!{_S}*(?:\d{{1,2}}(?:er|ᵉʳ)?{_S}+(?:{_FR_MONTH})|\d{{1,2}}[/.\-]\d|premier\b))"
    rf"(?:{_S}+(?P<dir>dernier|prochain|passé)\b)?" + _TIME_SUFFIX
)
_AGO_RE = re.compile(
    rf"il{_S}+y{_S}+a{_S}+(?P<n>\d{{1,3}}){_S}*"
    r"(?P<unit>jours?|j|semaines?|heures?|h|minutes?|min|mn)\b"
)
# Looked for right before a match (search bounded to end at the match start).
_WD_BEFORE_RE = re.compile(rf"\b(?P<wd>{_WD_FULL}|{_WD_ABBR})\.?,?{_S}+\Z")
_PRE_BEFORE_RE = re.compile(rf"\b(?P<pre>ce|le|dès){_S}+\Z")

_PRECEDE_DIGITS = frozenset("0123456789.,")  # "1,5 mars", "12.3 mai"
_PRECEDE_NUMERIC = frozenset("0123456789/.-")  # "1.03.02.2026", phone numbers
_PRECEDE_WORD: frozenset[str] = frozenset()  # letters only: "cahier", "lendemain"
_NON_ALPHA_RE = re.compile(r"[^a-z]")

_MAX_FUTURE_DAYS = 183  # an inferred year never puts a date > ~6 months ahead


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _lower(text: str) -> str:
    # "İ" is the only character whose lowercase is longer: keep spans aligned.
    return text.replace("İ", "i").lower()


@functools.lru_cache(maxsize=512)  # called on a small vocabulary of matched tokens
def _fold(s: str) -> str:
    """Lowercase, strip accents and dots: 'Févr.' -> 'fevr'."""
    decomposed = unicodedata.normalize("NFD", s.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(".")


def _weekday_num(token: str | None) -> int | None:
    return _WEEKDAYS.get(_fold(token)[:3]) if token else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _infer_year(month: int, day: int, reference: date, direction: str = "") -> date | None:
    """The candidate closest to the reference, at most ~6 months ahead.

    ``direction`` "dernier" / "prochain" forces strictly before / after.
    """
    best: date | None = None
    for year in (reference.year - 1, reference.year, reference.year + 1):
        d = _safe_date(year, month, day)
        if d is None:
            continue
        delta = (d - reference).days
        if (
            (direction == "dernier" and delta >= 0)
            or (direction == "prochain" and delta <= 0)
            or (not direction and delta > _MAX_FUTURE_DAYS)
        ):
            continue
        if best is None or abs(delta) < abs((best - reference).days):
            best = d
    return best


def _time_of(m: re.Match[str]) -> tuple[int, int] | None:
    groups = m.groupdict()
    if groups.get("ih") is not None:
        return int(groups["ih"]), int(groups["imin"])
    hour = groups.get("hour")
    if hour is None:
        return None
    minute = groups.get("min_h") or groups.get("min_c")
    return int(hour), int(minute) if minute else 0


def _preceded_by(low: str, pos: int, chars: frozenset[str]) -> bool:
    """True when the char before `pos` is a letter or one of `chars`."""
    if pos == 0:
        return False
    prev = low[pos - 1]
    return prev in chars or prev.isalpha()


class _Ctx:
    """One scan: original text (for mention text), lowercased copy, reference."""

    __slots__ = ("low", "reference", "text")

    def __init__(self, text: str, reference: date | None) -> None:
        self.text = text
        self.low = _lower(text)
        # datetime is a date subclass but cannot be subtracted from a date.
        self.reference = reference.date() if isinstance(reference, datetime) else reference

    def mention(
        self,
        m: re.Match[str],
        value: date,
        *,
        start: int | None = None,
        has_year: bool,
        relative: bool = False,
        weekday: int | None = None,
    ) -> DateMention:
        begin = m.start() if start is None else start
        return DateMention(
            start=begin,
            end=m.end(),
            text=self.text[begin : m.end()],
            value=value,
            has_year=has_year,
            relative=relative,
            weekday_conflict=weekday is not None and weekday != value.weekday(),
            time=_time_of(m),
        )

    def absolute(
        self, m: re.Match[str], day: int, month: int, year: int | None, direction: str = ""
    ) -> DateMention | None:
        if year is not None:
            value = _safe_date(year, month, day)
        elif self.reference is not None:
            value = _infer_year(month, day, self.reference, direction)
        else:
            value = None  # no year and nothing to infer it from
        if value is None:
            return None
        # A weekday right before the day ("mardi 3 février") joins the mention.
        before = _WD_BEFORE_RE.search(self.low, max(0, m.start() - 20), m.start())
        start, weekday = m.start(), None
        if before is not None:
            start, weekday = before.start(), _weekday_num(before.group("wd"))
        return self.mention(m, value, start=start, has_year=year is not None, weekday=weekday)


# --------------------------------------------------------------------------
# Per-pattern resolvers: match -> mention, or None to reject
# --------------------------------------------------------------------------


def _from_fr(ctx: _Ctx, m: re.Match[str]) -> DateMention | None:
    if _preceded_by(ctx.low, m.start(), _PRECEDE_DIGITS):
        return None
    raw_day = m.group("day")
    day = 1 if raw_day == "premier" else int(raw_day)
    month = _MONTHS.get(_fold(m.group("month")))
    if month is None:
        return None
    year = int(m.group("year")) if m.group("year") else None
    return ctx.absolute(m, day, month, year, m.group("mdir") or "")


def _from_num(ctx: _Ctx, m: re.Match[str]) -> DateMention | None:
    if _preceded_by(ctx.low, m.start(), _PRECEDE_NUMERIC):
        return None
    raw_year = m.group("year")
    if len(raw_year) == 2:
        if m.group("sep") != "/":  # "3.2.26" looks more like a version number
            return None
        year = 2000 + int(raw_year)
    else:
        year = int(raw_year)
        if not 1000 <= year <= 2199:
            return None
    return ctx.absolute(m, int(m.group("day")), int(m.group("month")), year)


def _from_iso(ctx: _Ctx, m: re.Match[str]) -> DateMention | None:
    if _preceded_by(ctx.low, m.start(), _PRECEDE_NUMERIC):
        return None
    return ctx.absolute(m, int(m.group("day")), int(m.group("month")), int(m.group("year")))


def _from_en(ctx: _Ctx, m: re.Match[str]) -> DateMention | None:
    if _preceded_by(ctx.low, m.start(), _PRECEDE_DIGITS):
        return None
    month = _MONTHS.get(_fold(m.group("month")))
    if month is None:
        return None
    return ctx.absolute(m, int(m.group("day")), month, int(m.group("year")))


_REL_OFFSETS = {"avanthier": -2, "hier": -1, "aujourdhui": 0, "demain": 1, "apresdemain": 2}


def _from_rel_word(ctx: _Ctx, m: re.Match[str]) -> DateMention | None:
    if ctx.reference is None or _preceded_by(ctx.low, m.start(), _PRECEDE_WORD):
        return None
    offset = _REL_OFFSETS.get(_NON_ALPHA_RE.sub("", _fold(m.group("word"))))
    if offset is None:
        return None
    value = ctx.reference + timedelta(days=offset)
    return ctx.mention(m, value, has_year=False, relative=True)


def _from_wd_rel(ctx: _Ctx, m: re.Match[str]) -> DateMention | None:
    reference = ctx.reference
    if reference is None or _preceded_by(ctx.low, m.start(), _PRECEDE_WORD):
        return None
    pre = _PRE_BEFORE_RE.search(ctx.low, max(0, m.start() - 10), m.start())
    direction = _fold(m.group("dir")) if m.group("dir") else ""
    if pre is None and not direction:
        return None
    wd = _weekday_num(m.group("wd"))
    if wd is None:
        return None
    if direction == "prochain":
        value = reference + timedelta(days=(wd - reference.weekday()) % 7 or 7)
    else:
        # News usage: "ce mardi" is the latest Tuesday on or before the reference
        # (the publication day itself included); "mardi dernier" is strictly before.
        delta = (reference.weekday() - wd) % 7
        if direction in ("dernier", "passe") and delta == 0:
            delta = 7
        value = reference - timedelta(days=delta)
    start = pre.start() if pre is not None else m.start()
    return ctx.mention(m, value, start=start, has_year=False, relative=True)


def _from_ago(ctx: _Ctx, m: re.Match[str]) -> DateMention | None:
    if ctx.reference is None or _preceded_by(ctx.low, m.start(), _PRECEDE_WORD):
        return None
    n = int(m.group("n"))
    unit = m.group("unit")
    if unit.startswith("sem"):
        days = 7 * n
    elif unit.startswith("j"):
        days = n
    elif unit.startswith("h"):
        days = n // 24  # reference is a date: sub-day offsets are approximate
    else:
        days = 0
    value = ctx.reference - timedelta(days=days)
    return ctx.mention(m, value, has_year=False, relative=True)


_Resolver = Callable[[_Ctx, re.Match[str]], DateMention | None]

# (priority, pattern, resolver): the lower priority wins when spans overlap.
_PATTERNS: tuple[tuple[int, re.Pattern[str], _Resolver], ...] = (
    (0, _FR_DATE_RE, _from_fr),
    (0, _FR_PREMIER_RE, _from_fr),
    (0, _NUM_DATE_RE, _from_num),
    (0, _ISO_DATE_RE, _from_iso),
    (0, _EN_MD_RE, _from_en),
    (0, _EN_DM_RE, _from_en),
    (1, _REL_WORD_RE, _from_rel_word),
    (1, _AGO_RE, _from_ago),
    (2, _WD_REL_RE, _from_wd_rel),
)


def _collect(ctx: _Ctx, pos: int = 0, endpos: int | None = None) -> list[DateMention]:
    # (start, -end, priority, serial, mention): plain tuple order, never compares mentions.
    candidates: list[tuple[int, int, int, int, DateMention]] = []
    for priority, pattern, resolve in _PATTERNS:
        for m in pattern.finditer(ctx.low, pos, len(ctx.low) if endpos is None else endpos):
            try:
                mention = resolve(ctx, m)
            except OverflowError:  # relative offset past date.min / date.max
                continue
            if mention is not None:
                candidates.append((mention.start, -mention.end, priority, len(candidates), mention))
    candidates.sort()

    # Resolve overlaps cluster by cluster: best priority, then longest span.
    result: list[DateMention] = []
    i = 0
    n = len(candidates)
    while i < n:
        cluster_end = -candidates[i][1]
        j = i + 1
        while j < n and candidates[j][0] < cluster_end:
            cluster_end = max(cluster_end, -candidates[j][1])
            j += 1
        if j == i + 1:  # the common case: no overlap
            result.append(candidates[i][4])
            i = j
            continue
        kept: list[DateMention] = []
        cluster = sorted(candidates[i:j], key=lambda c: (c[2], c[0] + c[1], c[0]))
        for *_, cand in cluster:
            if all(cand.end <= k.start or cand.start >= k.end for k in kept):
                kept.append(cand)
        result.extend(sorted(kept, key=lambda k: k.start))
        i = j
    return result


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def find_date_mentions(text: str, reference: date | None = None) -> list[DateMention]:
    """All date expressions in ``text``, in order of appearance.

    Relative expressions ("hier", "ce mardi") and year-less dates ("3 février")
    need ``reference`` (typically the publication or crawl date); without it
    they are skipped.
    """
    return _collect(_Ctx(text, reference))


def parse_french_date(text: str, reference: date | None = None) -> date | None:
    """The first date found in a short string, or None."""
    mentions = _collect(_Ctx(text, reference))
    return mentions[0].value if mentions else None


# Cues run on the lowercased text too; "Publication" alone is too common a noun,
# so it only counts capitalised (checked in code).
_PUB_CUE_RE = re.compile(
    r"\b(?:date\s+de\s+publication|mise?\s+en\s+ligne|publi[ée]e?s?|publication"
    r"|published_time|datepublished|published|posted|pubdate)\b"
)
_UPD_CUE_RE = re.compile(
    r"\b(?:derni[èe]re\s+mise\s+[àa]\s+jour|mise?\s+[àa]\s+jour|m[àa]j|modifi[ée]e?"
    r"|actualis[ée]e?|datemodified|modified_time|last\s+updated|updated|modified)\b"
)
# What may sit between a cue and its date: "le", ":", "on", a byline "par X le"...
_GAP_RE = re.compile(
    r"""[\s:="'|(\-–—]*(?:content[\s=:"']*)?"""
    r"(?:(?:par|by)\s[^\n.;]{1,60}?[\s,]+)?"
    r"(?:(?:le|on|du|at|:)[\s:,]*)?"
)
_MAX_GAP = 80
_WINDOW = _MAX_GAP + 100
# "Le 3 février 2026 à 14h32" as a byline: capitalised "Le" (original text) at a
# line start or after a separator, and only a separator or an update cue after
# the date. A body sentence "Le 20 avril 2025, la police..." fails that check.
_BYLINE_RE = re.compile(r"(?:^|[|•·—–\-])[^\S\n]*Le[^\S\n]+", re.MULTILINE)
_BYLINE_END_RE = re.compile(
    r"[^\S\n]*(?:$|[|•·—–\-(]|,?[^\S\n]*(?:mis|mise|modifi|actualis|m[àa]j|updated))",
    re.MULTILINE,
)
_SEPARATORS = "|•·—–-:()[]\"'>"


def _cue_is_strong(text: str, start: int) -> bool:
    """Capitalised, or first thing on its line / after a separator."""
    if text[start].isupper():
        return True
    lo = max(0, start - 200)
    line_start = text.rfind("\n", lo, start)
    before = text[(line_start + 1 if line_start >= 0 else lo) : start].strip()
    return not before or before[-1] in _SEPARATORS


def _to_datetime(mention: DateMention) -> datetime:
    hour, minute = mention.time or (0, 0)
    return datetime.combine(mention.value, dtime(hour, minute))


def find_publication_date(text: str, reference: date | None = None) -> datetime | None:
    """Publication date of a page/dump, from explicit cues only.

    Preference: strong "Publié le"-style cue (capitalised or at a line start) >
    "Le <date>" byline > mid-sentence "publié le" > update cues ("Mis à jour
    le"...), used only when there is no publication date. Earliest wins within a
    rank. Returns None when no cue introduces a date: body prose is full of dates
    that are not publication dates. Time is 00:00 when not given (see
    ``find_publication_mention`` for whether it was).
    """
    found = find_publication_mention(text, reference)
    return _to_datetime(found) if found is not None else None


def find_publication_mention(text: str, reference: date | None = None) -> DateMention | None:
    """The date mention ``find_publication_date`` reads, with its time when stated."""
    return _cued_mention(text, reference, updates=False)


def find_update_mention(text: str, reference: date | None = None) -> DateMention | None:
    """The date an update cue ("Mis à jour le", "Modifié le"...) introduces."""
    return _cued_mention(text, reference, updates=True)


def _cued_mention(text: str, reference: date | None, updates: bool) -> DateMention | None:
    ctx = _Ctx(text, reference)
    pub = (
        []
        if updates
        else [
            m
            for m in _PUB_CUE_RE.finditer(ctx.low)
            if m.group(0) != "publication" or text[m.start()] == "P"
        ]
    )
    bylines = [] if updates else list(_BYLINE_RE.finditer(text))
    updates_found = list(_UPD_CUE_RE.finditer(ctx.low))
    if not (pub or bylines or updates_found):
        return None  # skip the full mention scan

    # Only scan text right after cues: windows reach past the longest allowed gap
    # plus a long mention, so a date cut at a window's end is never the one used.
    windows: list[list[int]] = []
    for cue_end in sorted(m.end() for m in (*pub, *bylines, *updates_found)):
        if windows and cue_end <= windows[-1][1]:
            windows[-1][1] = cue_end + _WINDOW
        else:
            windows.append([cue_end, cue_end + _WINDOW])
    mentions = [found for lo, hi in windows for found in _collect(ctx, lo, min(hi, len(text)))]
    starts = [mention.start for mention in mentions]

    def date_after(pos: int) -> DateMention | None:
        i = bisect.bisect_left(starts, pos)
        if i == len(mentions):
            return None
        gap = text[pos : starts[i]]
        if len(gap) > _MAX_GAP or not _GAP_RE.fullmatch(gap.lower()):
            return None
        return mentions[i]

    best: tuple[int, int, DateMention] | None = None
    for m in pub:
        found = date_after(m.end())
        rank = 0 if _cue_is_strong(text, m.start()) else 2
        if found is not None and (best is None or (rank, m.start()) < best[:2]):
            best = (rank, m.start(), found)
    for m in bylines:
        found = date_after(m.end())
        if (
            found is not None
            and found.start == m.end()
            and not found.relative
            and _BYLINE_END_RE.match(ctx.low, found.end)
            and (best is None or (1, m.start()) < best[:2])
        ):
            best = (1, m.start(), found)
    if best is None:  # update dates only as a fallback
        for m in updates_found:
            found = date_after(m.end())
            rank = 3 if _cue_is_strong(text, m.start()) else 4
            if found is not None and (best is None or (rank, m.start()) < best[:2]):
                best = (rank, m.start(), found)
    return best[2] if best is not None else None
