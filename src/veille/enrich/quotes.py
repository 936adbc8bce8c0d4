"""Who said what: quotations of a story, each with its speaker and the outlets carrying it.

Found by the shapes French (and English) news gives a quotation, in one sentence:

* « … », a déclaré X / a dénoncé X / selon X / a-t-il affirmé ("said X", "X said");
* X a dénoncé « … » / X a déclaré : « … » / X estime que « … »;
* selon X, « … » / d'après X, « … ».

The speaker is the name written there, resolved to one of the story's entities ("Musk" ->
Elon Musk, "le parquet de Paris" -> Parquet de Paris); a pronoun ("a-t-il ajouté") stands for
the last person or organisation the article named before it. A quotation is kept whole:
from its opening mark to the mark that closes it, however many sentences it holds. The same
words quoted by several articles are one quote with all their outlets.

What it does not do: quotations without marks (reported speech), speakers named in an
earlier sentence by a role alone ("le ministre"), or nested quotations beyond one level.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from veille.enrich.entities import Entity, name_key, phonetic
from veille.model import SourceRef
from veille.text import fold

# Verbs of speech, as news writes them after a quotation or before one.
_VERBS = (
    r"(?:déclar|affirm|dénonc|estim|expliqu|assur|ajout|soulign|indiqu|précis|confi|"
    r"écri|écrit|lanc|rétorqu|répond|réagi|poursui|insist|martel|dit|dis|tweet|twitt|"
    r"annonc|regrett|déplor|fustig|critiqu|accus|promi|promet|averti|prévien|prévenu|"
    r"jug|qualifi|rappel|reconn|admi|admet|said|say|stat|add|told|tell|wrote|writ|"
    r"announc|warn|claim|argu|insist|deni|deny|call)"
)
_VERB = rf"{_VERBS}[\wéèêàâîôûç-]*"
_AUX = r"(?:a|ont|avait|avaient|aurait|has|have|had)"
# Names as news writes them: capitalised words, linked by "de", "du", "la" ("parquet de
# Paris"), or an institution in lower case ("le parquet de Paris", "la procureure").
_CAPITAL = r"[A-ZÀ-ÖØ-Þ][\w’'-]*(?:\.(?=[ \t]?[A-ZÀ-ÖØ-Þ]))?"
_NAME = (
    r"(?:(?:le|la|les|l['’]|the)[ \t]+)?"
    r"(?:(?:magistrate?|procureure?|ministre|président|présidente|porte-parole|"
    r"avocate?|dirigeante?|milliardaire|fondateur|fondatrice|patronne?|directrice|directeur|"
    r"juge|maire|député|députée)|(?:parquet|ministère|gouvernement|police|gendarmerie|"
    r"commission|entreprise|société|plateforme|plate-forme|réseau social|groupe|firme|"
    r"company|firm|government|prosecutors?)|"
    + _CAPITAL
    + r")(?:[ \t-]+(?:(?:de|du|des|d['’]|la|le|von|van|der|al)[ \t]+)?"
    + _CAPITAL
    + r"){0,4}"
)
_PRONOUNS = frozenset(
    {"il", "elle", "ils", "elles", "on", "nous", "je", "lui", "celui-ci", "celle-ci"}
    | {"ce dernier", "cette dernière", "he", "she", "they", "we"}
)
_OPEN = "«“"
_CLOSE = {"«": "»", "“": "”"}
_PRONOUN = r"(?:-t-|-)(?P<pronoun>il|elle|ils|elles)\b"

# After a quotation: « … », a déclaré X ; « … », selon X ; « … », a-t-il ajouté ; said X.
_AFTER = re.compile(
    rf"^\s*[,:]?\s*(?:"
    rf"{_AUX}(?:-t-|-)(?P<inverted>il|elle|ils|elles)\s+(?:encore\s+|ainsi\s+|également\s+)?{_VERB}"
    rf"|(?:{_AUX}\s+(?:encore\s+|ainsi\s+|également\s+|notamment\s+)?{_VERB}|{_VERB})"
    rf"(?:\s+(?P<name1>{_NAME})|{_PRONOUN})"
    rf"|(?:[Ss]elon|[Dd]['’]après|[Aa]ccording to)\s+(?P<name2>{_NAME})"
    rf"|(?P<name3>{_NAME})\s+(?:{_AUX}\s+)?{_VERB}"
    rf")",
)
# Before a quotation: X a dénoncé « … » ; X a déclaré : « … » ; selon X, « … ».
_BEFORE = re.compile(
    rf"(?:(?P<name1>{_NAME})\s*(?:,[^,«“]{{0,60}},\s*)?(?:{_AUX}\s+)?"
    rf"(?:(?:encore|ainsi|également|aussi|notamment)\s+)?{_VERB}(?:\s+[^«“.;!?]{{0,80}}?)?"
    rf"|(?:[Ss]elon|[Dd]['’]après|[Aa]ccording to)\s+(?P<name2>{_NAME})\s*,?)"
    rf"\s*:?\s*$",
)
_MIN_WORDS = 4  # a term quoted (« audition libre ») is not a statement ...
_MIN_WORDS_SAID = 2  # ... unless a speaker says it: X a dénoncé un « acte judiciaire abusif »
_STRAIGHT = re.compile(r'"([^"\n]{10,600})"')


@dataclass(frozen=True)
class QuoteText:
    """An article as quote finding needs it."""

    article_id: int
    site: str | None
    url: str
    text: str
    original_id: int | None = None  # a syndicated copy


@dataclass
class Quote:
    text: str  # the words quoted, without the marks
    speaker: str  # as the story's entities name them, else as written
    entity: str | None  # the entity's name when the speaker is one of the story's
    sources: list[SourceRef] = field(default_factory=list)

    @property
    def independent_sources(self) -> int:
        return len({s.article_id for s in self.sources})


@dataclass(frozen=True)
class _Found:
    text: str
    speaker: str  # as written ("" when a pronoun: resolved by the caller)
    start: int  # offset of the quotation in its text


def _normalise_marks(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def quotations(text: str) -> list[tuple[int, int, str]]:
    """(start, end, words) of each quotation in a text: from an opening mark to the mark
    that closes it (nested ones inside), or a pair of straight quotes on one line."""
    text = _normalise_marks(text)
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _OPEN:
            close = _CLOSE[char]
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == char:
                    depth += 1
                elif text[j] == close:
                    if depth == 0:
                        break
                    depth -= 1
                elif text[j] == "\n" and text[j + 1 : j + 2] not in _OPEN:
                    j = -1  # a quotation does not run across paragraphs unannounced
                    break
                j += 1
            if 0 < j < len(text):
                found.append((i, j + 1, text[i + 1 : j].strip()))
                i = j + 1
                continue
        i += 1
    taken = [(a, b) for a, b, _ in found]
    for match in _STRAIGHT.finditer(text):
        if not any(a < match.end() and match.start() < b for a, b in taken):
            found.append((match.start(), match.end(), match.group(1).strip()))
    return sorted(found)


def _name(match: re.Match[str]) -> str | None:
    """The speaker as written; "" for a pronoun or a role without a name ("la magistrate"),
    "@" for an organisation's common noun ("le réseau social")."""
    for group in ("name1", "name2", "name3"):
        value = match.groupdict().get(group)
        if not value:
            continue
        value = value.strip(" ,.;:")
        bare = re.sub(r"^(?:le|la|les|l['’]|the)\s*", "", value, flags=re.IGNORECASE)
        if bare.lower() in _PRONOUNS:
            return ""
        if not any(c.isupper() for c in bare):
            return "@" if re.match(_ORG_NOUNS, bare) else ""
        return value
    return None


_ORG_NOUNS = (
    r"(?:parquet|ministère|gouvernement|police|gendarmerie|commission|entreprise|société|"
    r"plateforme|plate-forme|réseau social|groupe|firme|company|firm|government|prosecutor)"
)


def find_quotes(text: str) -> list[_Found]:
    """Attributed quotations of one text, in order; a speaker "" stands for a pronoun."""
    text = _normalise_marks(text)
    found: list[_Found] = []
    last_end, last_speaker = -10, None  # where the last attributed quotation's sentence ends
    for start, end, words in quotations(text):
        count = len(words.split())
        speaker = None
        after = _AFTER.match(text[end : end + 120])
        if after and count >= _MIN_WORDS:
            speaker = _name(after)
            if speaker is None and (after.group("pronoun") or after.group("inverted")):
                speaker = ""
        if speaker is None and count >= _MIN_WORDS_SAID:
            line_start = max(text.rfind("\n", 0, start), text.rfind(". ", 0, start) + 1, 0)
            before = _BEFORE.search(text[max(line_start, start - 200) : start])
            if before:
                speaker = _name(before)
        if speaker is None and count >= _MIN_WORDS and last_speaker is not None:
            # A quotation opening right after an attributed one goes on with its speaker:
            # « … », a déclaré Durov. « Ne vous y trompez pas … »
            gap = text[last_end:start]
            if len(gap) <= 4 and "\n" not in gap.strip(" "):
                speaker = last_speaker
        if speaker is None:
            continue
        if found and found[-1].speaker == speaker and _same_sentence(text, found[-1], start):
            # un « acte judiciaire abusif » reposant « sur des motivations politiques »
            joined = f"{found[-1].text} […] {_tidy(words)}"
            found[-1] = _Found(joined, speaker, found[-1].start)
            continue
        found.append(_Found(_tidy(words), speaker, start))
        stop = re.search(r"[.!?…](?=\s|$)", text[end:])
        last_end, last_speaker = (end + stop.end()) if stop else len(text), speaker
    return found


def _same_sentence(text: str, previous: _Found, start: int) -> bool:
    """The quotation at `start` continues `previous`'s sentence, a few words after it."""
    between = text[previous.start : start]
    close = max(between.rfind("»"), between.rfind("”"), between.rfind('"'))
    gap = between[close + 1 :] if close >= 0 else between
    return len(gap.split()) <= 4 and not re.search(r"[.!?…]", gap)


def _tidy(words: str) -> str:
    words = " ".join(words.split())
    return words.rstrip(",;") if not words.endswith("...") else words


def _pronoun_speaker(
    text: str, at: int, entities: Sequence[Entity], label: str = "PER"
) -> str | None:
    """The last person (or organisation, `label` ORG) named before `at`; the other kind
    when the article names none of that one before."""
    for wanted in (label, "ORG" if label == "PER" else "PER"):
        found = _last_named(fold(text[:at]), [e for e in entities if e.label == wanted])
        if found:
            return found
    return None


def _last_named(head: str, entities: Sequence[Entity]) -> str | None:
    best, best_at = None, -1
    for entity in entities:
        for alias in entity.aliases:
            key = fold(alias)
            position = _find_word(head, key) if key else -1
            if position > best_at:
                best, best_at = entity.name, position
    return best


def _find_word(text: str, key: str) -> int:
    """Last position of `key` as whole words in `text` (-1 if absent)."""
    found = -1
    for match in re.finditer(rf"(?<!\w){re.escape(key)}(?!\w)", text):
        found = match.start()
    return found


def resolve(speaker: str, entities: Sequence[Entity]) -> Entity | None:
    """The story entity a speaker's name is: same spelling, or a person's surname, or an
    organisation's name inside a longer phrase ("la section ... du parquet de Paris")."""
    # "le réseau social X", "le groupe Nordvalia": the name after the common noun.
    bare = re.sub(r"^(?:[a-zà-ÿ'’-]+\s+)+(?=[A-ZÀ-ÖØ-Þ])", "", speaker)
    for written in dict.fromkeys((bare, speaker)):
        found = _resolve(written, entities)
        if found is not None:
            return found
    return None


def _resolve(speaker: str, entities: Sequence[Entity]) -> Entity | None:
    key = name_key(speaker)
    if not key:
        return None
    words = key.split()
    for entity in entities:
        if entity.label != "LOC" and any(name_key(a) == key for a in entity.aliases):
            return entity
    for entity in entities:
        if entity.label == "PER" and any(
            phonetic(name_key(a).split()[-1]) == phonetic(words[-1])
            for a in entity.aliases
            if name_key(a)
        ):
            return entity
    for entity in sorted(entities, key=lambda e: -len(e.name)):
        if entity.label == "ORG" and any(
            len(name_key(a)) > 2 and f" {name_key(a)} " in f" {key} " for a in entity.aliases
        ):
            return entity
    return None


def story_quotes(
    articles: Sequence[QuoteText], entities: Sequence[Entity], limit: int = 8
) -> list[Quote]:
    """The story's quotes with speakers, most carried first; syndicated copies count with
    their original."""
    quotes: list[Quote] = []
    keys: list[set[str]] = []
    for article in articles:
        for found in find_quotes(article.text):
            speaker = found.speaker
            if speaker in {"", "@"}:  # a pronoun, a role or a common noun: the last named
                label = "ORG" if speaker == "@" else "PER"
                speaker = _pronoun_speaker(
                    _normalise_marks(article.text), found.start, entities, label
                )
            if not speaker:
                continue
            entity = resolve(speaker, entities)
            name = entity.name if entity else speaker
            words = set(fold(found.text).split())
            source = SourceRef(article.original_id or article.article_id, article.site, article.url)
            for quote, seen in zip(quotes, keys, strict=True):
                shared = len(words & seen) / max(1, min(len(words), len(seen)))
                if shared >= 0.8 and (quote.entity or quote.speaker) == name:
                    if len(found.text) > len(quote.text):
                        quote.text = found.text  # the longer citation of the same words
                    if all(s.url != article.url for s in quote.sources):
                        quote.sources.append(source)
                    break
            else:
                quotes.append(Quote(found.text, name, entity.name if entity else None, [source]))
                keys.append(words)
    ranked = sorted(
        enumerate(quotes), key=lambda iq: (-iq[1].independent_sources, iq[1].entity is None, iq[0])
    )
    return [q for _, q in ranked[:limit]]
