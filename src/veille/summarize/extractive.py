"""Extractive story summary: sentences chosen across all of a story's articles.

1. Each article is split into sentences (French-aware: "M.", "Mme", initials, "3.5",
   « quotes », and the glued sentences of scraped text, "mardi.Sur RTL"); page chrome,
   headings and too short or too long sentences are dropped.
2. Near-identical sentences of different articles (token-set Jaccard or containment) become
   one candidate, represented by its best-formed member and carrying all their sources: the
   number of distinct sources stating it is its *support*.
3. Each candidate is scored by a weighted sum of features: position in its article, cosine
   to the story's tf-idf centroid and to its articles' leads, support, overlap with the
   titles, length, quotes, questions, names, numbers, a day named, a reporting verb. The
   one-article weights and settings were learned on OrangeSum dev (`python
   bench/summaries.py --learn`); the story weights are set by hand from them, with support
   strong: several sources stating one thing is what makes it the story.
4. Maximal marginal relevance picks candidates within a budget of words, skipping those too
   close to one already taken; the picks are shown in order of publication, then position.

Deterministic: no randomness, and every tie is broken by input order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import lru_cache
from itertools import repeat
from typing import Any, Literal

from veille.extract.clean import is_chrome_line
from veille.text import fold, stem, tokens
from veille.when import epoch_seconds

Vector = dict[str, float]


@dataclass(frozen=True)
class SourceText:
    """One article of a story, as the summariser reads it."""

    article_id: int
    site: str | None
    url: str
    title: str
    text: str
    published: datetime | None = None
    language: str | None = None


@dataclass(frozen=True)
class SummarySentence:
    text: str
    article_id: int
    site: str | None
    url: str
    # Other sources stating (nearly) the same sentence, as (site, url).
    also: list[tuple[str | None, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    sentences: list[SummarySentence]
    method: Literal["extractive", "llm"] = "extractive"
    # Why the abstractive mode fell back to the extractive summary, in words.
    error: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


# Feature weights for a story of several articles, set by hand from the learned ones below
# and checked on the seed-day fixture: in a story, what several articles agree on (centroid,
# leads, support, titles) matters more than where one article put it.
DEFAULT_WEIGHTS: dict[str, float] = {
    "position": 0.5,
    "first": 0.0,
    "centroid": 2.0,
    "support": 2.0,
    "title": 1.0,
    "length": 1.0,
    "long": -0.7,
    "quote": -0.7,
    "question": -0.35,
    "lead": 1.0,
    "names": 0.0,
    "numbers": 0.0,
    "density": 0.0,
    "day": 0.25,
    "report": 0.0,
    # "Il prévoit…", "Ce dernier…": out of its article, whom it speaks of is lost.
    "anaphora": -1.0,
}

# Settings for a story of a single article, learned on OrangeSum dev (`python
# bench/summaries.py --learn --features position,first,centroid,length,long`: ridge
# regression of each sentence's ROUGE-2 on its features, target, budget and picking by
# 5-fold cross-validation; support and title have no signal there and keep the story
# weights): such a summary is a news abstract, short and mostly from the top, though not
# the very first sentence, often a scene-setter in OrangeSum. Fitting all the features
# scored higher in dev cross-validation (ROUGE-2 11.40 against 10.49) but not on test
# (9.76 against 9.92): the five that carry over are kept.
SINGLE_ARTICLE: dict[str, Any] = {
    "budget_words": 70,
    "fill": False,
    "mmr_lambda": 0.8,
    "redundancy": 0.6,
    "weights": {
        **{name: 0.0 for name in DEFAULT_WEIGHTS},
        "support": DEFAULT_WEIGHTS["support"],
        "title": DEFAULT_WEIGHTS["title"],
        "position": 1.085,
        "first": -0.629,
        "centroid": 2.0,
        "length": 0.533,
        "long": -0.057,
    },
}


@dataclass(frozen=True)
class ExtractiveOptions:
    budget_words: int = 100  # at most this many words in the summary
    max_sentences_per_article: int = 20  # the rest of a long article is rarely summary matter
    # In all: a story of hundreds of articles reads fewer sentences of each (at least 3), so
    # grouping near-duplicates, quadratic at worst, stays within bounds.
    max_sentences: int = 1500
    min_words: int = 6
    max_words: int = 60
    mmr_lambda: float = 0.7  # relevance against novelty when picking
    redundancy: float = 0.4  # overlap with a picked sentence from which a candidate is skipped
    duplicate_jaccard: float = 0.6
    duplicate_containment: float = 0.85
    fill: bool = True  # when the best sentence does not fit, look for a shorter one
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # Overrides for a story of one article.
    single: Mapping[str, Any] = field(default_factory=lambda: dict(SINGLE_ARTICLE))

    def for_articles(self, count: int) -> ExtractiveOptions:
        """The options for a story of `count` articles."""
        if count != 1 or not self.single:
            return self
        return replace(self, single={}, **self.single)


_SCALARS = {spec.name for spec in fields(ExtractiveOptions)} - {"weights", "single"}


def _scalars(values: Mapping[str, Any], defaults: ExtractiveOptions) -> dict[str, Any]:
    return {
        name: type(getattr(defaults, name))(value)
        for name, value in values.items()
        if name in _SCALARS
    }


def options_from_config(config: Mapping[str, Any] | None) -> ExtractiveOptions:
    """Options from the `[summary]` table of config.toml (a dict; unknown keys ignored).

    Keys: budget_words, max_sentences_per_article, max_sentences, min_words, max_words,
    mmr_lambda, redundancy, duplicate_jaccard, duplicate_containment, fill;
    `[summary.weights]` overrides feature weights; `[summary.single]` (and
    `[summary.single.weights]`) overrides them for a story of one article.
    """
    config = config or {}
    defaults = ExtractiveOptions()
    changes = _scalars(config, defaults)
    changes["weights"] = _weights(defaults.weights, config.get("weights"))
    single = config.get("single") if isinstance(config.get("single"), Mapping) else {}
    changes["single"] = {
        **SINGLE_ARTICLE,
        **_scalars(single, defaults),
        "weights": _weights(SINGLE_ARTICLE["weights"], single.get("weights")),
    }
    return replace(defaults, **changes)


def _weights(base: Mapping[str, float], overrides: Any) -> dict[str, float]:
    weights = dict(base)
    if isinstance(overrides, Mapping):
        weights.update({k: float(v) for k, v in overrides.items() if k in weights})
    return weights


# --------------------------------------------------------------------------- sentences

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_TERMINAL = re.compile(r"[.!?…]+")
_CLOSERS = "»”)]"
_OPENERS = '«“"(['
# Exact abbreviations that a capital or a full stop does not end a sentence after.
_ABBREVIATION_WORDS = (
    "M MM Mme Mmes Mlle Mlles Dr Pr Me Mgr St Ste Sts Jr Sr Mr Mrs Ms Prof Gal Gén Cdt Lt "
    "Col Sgt Cie Inc Ltd Co Bd Av No N° Vol Art Ch Chap Fig Éd Ed Ex"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# The same, in lower case: "cf.", "p. 12", "3 févr. 2026".
_LOWER_ABBREVIATION_WORDS = (
    "cf p pp vol art av bd janv févr fév avr juil oct nov déc env hab approx tél vs ex éd "
    "réf n° no chap fig coll dir trad op cit ibid resp"
)
_ABBREVIATIONS_LOWER = frozenset(_LOWER_ABBREVIATION_WORDS.split())
_INITIALS = re.compile(rf"[{_UPPER}](?:\.-?[{_UPPER}])*")
# Scraped text glues a heading to the next paragraph: "classée sans suiteGérald Darmanin".
# A lower-case word of 3+ letters running into a capitalised one (brands like "easyJet" are
# the price of this; "iPhone", "YouTube", "LinkedIn" do not match).
_GLUED_HEADING = re.compile(rf"(?<!\w)([{_LOWER}]{{3,}})(?=[{_UPPER}][{_LOWER}])")
_EDITOR_NOTE = re.compile(r"\(\([^()]{0,600}\)\)\s*")
_SPACE = re.compile(r"\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, line by line (a line break always ends a sentence)."""
    found: list[str] = []
    for line in text.split("\n"):
        for piece in _GLUED_HEADING.sub("\\1\n", line).split("\n"):
            piece = _SPACE.sub(" ", piece).strip()
            if piece:
                found.extend(_split_line(piece))
    return found


def _split_line(line: str) -> list[str]:
    out: list[str] = []
    start = 0
    size = len(line)
    for match in _TERMINAL.finditer(line):
        if match.start() < start:
            continue
        end = match.end()
        # Swallow closing quotes and brackets (". »"); a straight quote closes when the
        # sentence so far holds an odd number of them.
        quotes = line.count('"', start, match.start())
        while True:
            k = end
            while k < size and line[k] == " ":
                k += 1
            if k < size and (line[k] in _CLOSERS or (line[k] == '"' and quotes % 2)):
                quotes += line[k] == '"'
                end = k + 1
                continue
            break
        k = end
        while k < size and line[k].isspace():
            k += 1
        if k >= size:
            break
        glued = k == end
        if not _starts_sentence(line[k], glued):
            continue
        if glued and not _may_glue(line, match.start(), start):
            continue
        if match.group() == "." and _is_abbreviation(line[start : match.start()]):
            continue
        if _inside_quote(line[start:end]):
            continue
        out.append(line[start:end].strip())
        start = k
    tail = line[start:].strip()
    if tail:
        out.append(tail)
    return out


def _inside_quote(text: str) -> bool:
    """A stop inside a quotation does not end the sentence quoting it (« A. B », dit-il),
    unless the quotation runs on (an unbalanced mark would swallow the paragraph)."""
    opened = text.count("«") > text.count("»") or text.count('"') % 2 == 1
    return opened and len(text.split()) < 60


def _starts_sentence(char: str, glued: bool) -> bool:
    if char.isupper() or char in '«“"':
        return True
    return not glued and (char.isdigit() or char in "—–-([")


def _may_glue(line: str, at: int, start: int) -> bool:
    """A stop with no space after ends a sentence only after a word ("mardi.Sur RTL"), not
    within "E.Leclerc" or "3.5"."""
    # Only the last few characters: a search anchored at the end of a long string is slow.
    word = re.search(r"(\w+)\W*$", line[max(start, at - 40) : at])
    return bool(word) and len(word.group(1)) >= 2 and not word.group(1).isupper()


def _is_abbreviation(head: str) -> bool:
    words = head.split()
    if not words:
        return False
    word = words[-1].lstrip(_OPENERS)
    if word in _ABBREVIATIONS or word.lower() in _ABBREVIATIONS_LOWER:
        return True
    if _INITIALS.fullmatch(word):
        if len(word) > 1:
            return True  # "J.-C.", "U.S."
        # A lone capital is an initial ("George W. Bush") unless a lower-case word comes
        # before it: then it is a name ending the sentence ("les locaux de X. Elon Musk").
        return not (len(words) > 1 and words[-2][:1].islower())
    return False


# Sentences that are furniture even inside a paragraph of text.
_CHROME_START = re.compile(
    r"^(?:[«\"“(\[]\s*)?(?:(?:à |a )?lire (?:aussi|également|egalement)|(?:à )?voir aussi|"
    r"regarder aussi|sur le même sujet|retrouvez|suivez[- ]nous|suivez notre|"
    r"abonnez-vous|inscrivez-vous|cliquez|téléchargez|partagez|crédits?\b|©|"
    r"source\s*:|photo\s*:|vidéo\s*:|légende\s*:|mis à jour|publié le|tous droits)",
    re.IGNORECASE,
)
# Narrow on purpose: cookies, newsletters and JavaScript are also news topics (a CNIL fine,
# a hacked mailing list, a browser flaw); only the site talking about its own are chrome.
_CHROME_ANYWHERE = re.compile(
    r"https?://|www\.|\[email|@\w+\.\w|tous droits réservés|réservé aux abonnés"
    r"|\b(?:nous|ce site|nos partenaires)\b[^.]{0,60}\bcookies\b"
    r"|\b(?:accepte[rz]?|paramétre[rz]|gére[rz]|refuse[rz])\b[^.]{0,30}\bcookies\b"
    r"|\b(?:notre|nos|votre) newsletters?\b"
    r"|\b(?:activer|activez|désactivé)\b[^.]{0,20}\bjavascript\b",
    re.IGNORECASE,
)
_ENDS_LIKE_A_SENTENCE = re.compile(r"[.!?…»\"”)]$")


# A sentence wholly in brackets is an editor's aside: "(Ajout du commentaire de X au
# paragraphe 6)", "(Reportage Jean Dupont ; édité par Paul Martin)".
_ASIDE = re.compile(r"^\([^()]*\)[.!?…]?$")


# An item of a list or the end of a cut sentence reads as nothing on its own: "- abus de
# système ... en bande organisée.", "et a ajouté qu'il ferait appel."
_FRAGMENT = re.compile(rf"^(?:[-–—•*·]\s*)?[{_LOWER}]")


def _is_boilerplate(sentence: str) -> bool:
    if is_chrome_line(sentence) or _CHROME_START.match(sentence) or _ASIDE.match(sentence):
        return True
    if _CHROME_ANYWHERE.search(sentence):
        return True
    letters = sum(map(str.isalpha, sentence))
    # No words, or shouting: a banner or a heading in capitals.
    return not letters or sum(map(str.isupper, sentence)) > 0.5 * letters


# --------------------------------------------------------------------------- candidates


@dataclass
class _Sentence:
    text: str
    source: int  # index of its article in the story
    position: int  # among the kept sentences of its article
    words: int
    terms: list[str]


@dataclass
class Candidate:
    """A sentence, or a group of near-identical ones across articles, with its features."""

    text: str
    source: int  # the representative's article
    position: int
    words: int
    members: list[tuple[int, int]]  # (article index, position), representative first
    vector: Vector
    term_set: frozenset[str]
    features: dict[str, float]
    # What the sentence is about when it opens on one of the story's key words, with the
    # days it names: two sentences with the same claim tell the same news twice.
    claim: tuple[str, frozenset[str]] | None = None


def _kept_sentences(story: Sequence[SourceText], options: ExtractiveOptions) -> list[_Sentence]:
    kept: list[_Sentence] = []
    if not story:
        return kept
    cap = min(options.max_sentences_per_article, max(3, options.max_sentences // len(story)))
    for index, source in enumerate(story):
        title_key = fold(source.title) if source.title else ""
        language = (source.language or "fr")[:2].lower()
        position = 0
        for line in source.text.split("\n"):
            if position >= cap:
                break
            line = _EDITOR_NOTE.sub("", line).strip()
            # A long line is prose: its sentences are checked one by one below, which also
            # catches a disclaimer inside it, and the line-wide checks are slow on it.
            if not line or (len(line) < 300 and is_chrome_line(line)):
                continue
            for sentence in split_sentences(line):
                if position >= cap:
                    break
                words = len(sentence.split())
                if not options.min_words <= words <= options.max_words:
                    continue
                # Headings, captions and datelines do not end like sentences.
                if words < 15 and not _ENDS_LIKE_A_SENTENCE.search(sentence):
                    continue
                if _is_boilerplate(sentence) or (title_key and fold(sentence) == title_key):
                    continue
                if _FRAGMENT.match(sentence):
                    continue
                found = _terms(sentence, language)
                if len(found) < 2:
                    continue
                kept.append(_Sentence(sentence, index, position, words, found))
                position += 1
    return kept


@lru_cache(maxsize=200_000)
def _term(word: str, language: str) -> str:
    return stem(word, language)


def _terms(text: str, language: str) -> list[str]:
    """`veille.text.terms`, word by word through a cache: stories repeat their words, and
    stemming and folding each occurrence was most of the time spent on a 50-article story."""
    return [t for t in map(_term, tokens(text), repeat(language)) if t]


def _idf(sentences: Sequence[_Sentence]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for sentence in sentences:
        df.update(set(sentence.terms))
    n = len(sentences)
    return {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}


def _vector(words: Sequence[str], idf: Mapping[str, float]) -> Vector:
    counts = Counter(words)
    vector = {t: (1.0 + math.log(c)) * idf.get(t, 1.0) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {t: v / norm for t, v in vector.items()}


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine of two term sets. Redundancy is judged on plain terms, not tf-idf: in a story
    the words every article uses weigh little in tf-idf, and they are the ones two sentences
    restating the main fact share."""
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def _cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _near_duplicates(
    sentences: Sequence[_Sentence], idf: Mapping[str, float], options: ExtractiveOptions
) -> list[list[int]]:
    """Groups of near-identical sentences (indices), each group in input order.

    Prefix filtering keeps this far from quadratic: with terms sorted rarest first, two sets
    sharing at least a share t of the smaller one's terms must share one of its first
    |A| - ceil(t|A|) + 1 terms, so only those are looked up.
    """
    sets = [frozenset(s.terms) for s in sentences]
    order = [sorted(s, key=lambda t: (-idf[t], t)) for s in sets]
    postings: dict[str, list[int]] = {}
    for i, terms_ in enumerate(order):
        for term in terms_:
            postings.setdefault(term, []).append(i)
    share = min(options.duplicate_jaccard, options.duplicate_containment)
    parent = list(range(len(sentences)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sizes = [len(s) for s in sets]
    for i, terms_ in enumerate(order):
        size = sizes[i]
        prefix = size - math.ceil(share * size) + 1
        found = set().union(*(postings[term] for term in terms_[:prefix]))
        group = root(i)
        for j in found:
            if (sizes[j], j) <= (size, i):
                continue  # each pair once, probed from its smaller set
            other = root(j)
            if other != group and _similar(sets[i], sets[j], options):
                parent[max(group, other)] = group = min(group, other)
    groups: dict[int, list[int]] = {}
    for i in range(len(sentences)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _similar(a: frozenset[str], b: frozenset[str], options: ExtractiveOptions) -> bool:
    common = len(a & b)
    smaller = min(len(a), len(b))
    if common >= options.duplicate_jaccard * (len(a) + len(b) - common):
        return True
    # Containment: one source's sentence cut short or with a clause added; needs a few words
    # so that "Elon Musk est convoqué." does not swallow every sentence naming him.
    return smaller >= 5 and common >= options.duplicate_containment * smaller


# Beyond this many words a sentence counts as long (the `long` feature starts there).
_CONCISE_WORDS = 35


def _well_formed(sentence: _Sentence) -> tuple[int, ...]:
    """Sort key, best first: starts with a capital or a quote, ends with a stop, not cut."""
    text = sentence.text
    return (
        0 if text[:1].isupper() or text[:1] in '«“"' else 1,
        0 if _ENDS_LIKE_A_SENTENCE.search(text) else 1,
        1 if text.endswith(("...", "…")) else 0,
    )


def _source_key(story: Sequence[SourceText], index: int) -> tuple[Any, ...]:
    """Earliest publication first, undated articles after, then input order."""
    published = story[index].published
    if published is None:
        return (1, 0.0, index)
    return (0, epoch_seconds(published), index)


def _distinct_source(source: SourceText) -> str:
    return (source.site or source.url or str(source.article_id)).lower()


_DIGIT = re.compile(r"\d")
# The news of a news story is dated and attributed: "a annoncé mardi", "selon Le Point".
_DAY = re.compile(
    r"\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|hier|aujourd['’]hui|"
    r"ce matin|ce soir|cette semaine|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|yesterday|today)\b",
    re.IGNORECASE,
)
_REPORTING = re.compile(
    r"\b(?:selon|d['’]après|(?:a |ont )?(?:annoncé|révélé|indiqué|déclaré|affirmé|précisé|"
    r"confirmé|estimé|expliqué|assuré|rapporté)|annonce|révèle|rapporte|indique|déclare|"
    r"affirme|précise|confirme|estime|explique|assure|a-t-(?:il|elle)|according to|said|"
    r"says|announced|reported)\b",
    re.IGNORECASE,
)


_ANAPHORA = re.compile(
    r"^(?:il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|celles-ci|ce dernier|cette dernière|"
    r"ces derniers|ces dernières|lui|he|she|they)\b",
    re.IGNORECASE,
)


# A sentence that leans on what came before it in its article reads as nonsense out of it:
# a pronoun or possessive first ("Il offre…", "Elle agit…", "Sa société…"), or a
# demonstrative in its opening clause ("Partageant cette déclaration, Musk…", "Après cette
# annonce, …") unless it names a time ("Ce mardi", "Cette semaine").
_DANGLING_START = re.compile(
    r"^(?:il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|celles-ci|ce dernier|cette dernière|"
    r"ces derniers|ces dernières|lui|leur|leurs|son|sa|ses|y|en outre|par ailleurs|de plus|"
    r"he|she|they|his|her|its|their|this|these|those|moreover|furthermore)\b",
    re.IGNORECASE,
)
_DEMONSTRATIVE = re.compile(r"\b(?:ce|cet|cette|ces)\s+(?P<noun>[\w-]+)", re.IGNORECASE)
_TIME_NOUNS = frozenset(
    {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "matin", "soir"}
    | {"midi", "après-midi", "nuit", "jour", "week-end", "semaine", "mois", "année", "an"}
    | {"hiver", "printemps", "été", "automne", "moment", "stade"}
)


def dangling(text: str) -> bool:
    """Whether the sentence depends on an antecedent it does not hold, or announces what
    follows it (a lead-in ending with a colon, its quotation in the next paragraph)."""
    if _DANGLING_START.match(text) or text.rstrip().endswith(":"):
        return True
    clause = text.split(",", 1)[0] if "," in text[:80] else ""
    for match in _DEMONSTRATIVE.finditer(clause):
        if match.group("noun").lower() not in _TIME_NOUNS:
            return True
    return False


# A reaction to the event: its other side's word (a denial, a denunciation, an answer).
_REACTION = re.compile(
    r"\b(?:dénonc|réag|répond|rétorqu|critiqu|contest|fustig|s['’]insurg|regrett|déplor|"
    r"condamn|réfut|dément|démenti|qualifi|denounc|respond|react|criticis|criticiz|deni|deny|"
    r"condemn|reject)\w*",
    re.IGNORECASE,
)


def _capitalised_share(text: str) -> float:
    """Share of the words after the first that start with a capital: names, places."""
    words = text.split()[1:]
    return sum(w[:1].isupper() for w in words) / len(words) if words else 0.0


def prepare(story: Sequence[SourceText], options: ExtractiveOptions) -> list[Candidate]:
    """Candidates of a story with their features, ready for `choose`."""
    sentences = _kept_sentences(story, options)
    if not sentences:
        return []
    idf = _idf(sentences)
    vectors = [_vector(s.terms, idf) for s in sentences]
    centroid: Vector = {}
    for vector in vectors:
        for term, value in vector.items():
            centroid[term] = centroid.get(term, 0.0) + value
    norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    centroid = {t: v / norm for t, v in centroid.items()}

    # The leads: what each article says first, the inverted pyramid's top.
    lead: Vector = {}
    for sentence, vector in zip(sentences, vectors, strict=True):
        if sentence.position < 2:
            for term, value in vector.items():
                lead[term] = lead.get(term, 0.0) + value
    norm = math.sqrt(sum(v * v for v in lead.values())) or 1.0
    lead = {t: v / norm for t, v in lead.items()}

    # Titles: each term weighs the share of titles it is in, over the title's length.
    titles = [_terms(s.title, (s.language or "fr")[:2].lower()) for s in story if s.title]
    title_profile: Counter[str] = Counter()
    for words in titles:
        unique = set(words)
        for term in unique:
            title_profile[term] += 1.0 / (len(unique) * len(titles))

    all_sources = {_distinct_source(s) for s in story}
    # Key words: in most headlines (in the one headline of a one-article story).
    per_title = Counter(t for words in titles for t in set(words))
    key_terms = {t for t, n in per_title.items() if n * 2 >= len(titles) and len(t) > 3}
    candidates: list[Candidate] = []
    for group in _near_duplicates(sentences, idf, options):
        # The group speaks through a well-formed sentence that stands alone, a concise one
        # if any (outlets state one claim at different lengths; a long one crowds the
        # budget), the earliest published.
        members = sorted(
            group,
            key=lambda i: (
                _well_formed(sentences[i]),
                dangling(sentences[i].text),
                sentences[i].words > _CONCISE_WORDS,
                _source_key(story, sentences[i].source),
                sentences[i].position,
            ),
        )
        best = sentences[members[0]]
        supporting = {_distinct_source(story[sentences[i].source]) for i in group}
        first_position = min(sentences[i].position for i in group)
        text = best.text
        unique_terms = set(best.terms)
        features = {
            "position": 1.0 / (1.0 + first_position),
            "first": 1.0 if first_position == 0 else 0.0,
            "centroid": _cosine(vectors[members[0]], centroid),
            "support": math.log(len(supporting)) / math.log(len(all_sources))
            if len(all_sources) > 1
            else 0.0,
            "title": sum(title_profile.get(t, 0.0) for t in sorted(unique_terms)),
            "length": min(best.words, 20) / 20.0,
            "long": max(0, best.words - _CONCISE_WORDS) / 25.0,
            "quote": 1.0 if text[:1] in '«“"' else 0.0,
            "question": 1.0 if text.rstrip('»"” ').endswith("?") else 0.0,
            "lead": _cosine(vectors[members[0]], lead),
            "names": _capitalised_share(text),
            "numbers": 1.0 if _DIGIT.search(text) else 0.0,
            "density": len(best.terms) / best.words,
            "day": 1.0 if _DAY.search(text) else 0.0,
            "report": 1.0 if _REPORTING.search(text) else 0.0,
            "anaphora": 1.0 if _ANAPHORA.match(text) else 0.0,
        }
        candidates.append(
            Candidate(
                text=text,
                source=best.source,
                position=best.position,
                words=best.words,
                members=[(sentences[i].source, sentences[i].position) for i in members],
                vector=vectors[members[0]],
                term_set=frozenset(best.terms),
                features=features,
                claim=_claim(text, best.terms, key_terms),
            )
        )
    return candidates


def _claim(
    text: str, words: Sequence[str], key_terms: Collection[str]
) -> tuple[str, frozenset[str]] | None:
    """(the first key word among the sentence's first 8 terms, the days it names)."""
    days = frozenset(d.lower() for d in _DAY.findall(text))
    if not days:
        return None
    for term in words[:8]:
        if term in key_terms:
            return term, days
    return None


def _same_claim(a: Candidate, b: Candidate) -> bool:
    return (
        a.claim is not None
        and b.claim is not None
        and a.claim[0] == b.claim[0]
        and bool(a.claim[1] & b.claim[1])
    )


def score(candidate: Candidate, weights: Mapping[str, float]) -> float:
    return sum(weights.get(name, 0.0) * value for name, value in candidate.features.items())


def choose(candidates: Sequence[Candidate], options: ExtractiveOptions) -> list[int]:
    """Indices of the candidates picked by MMR within the budget of words, best first."""
    if not candidates:
        return []
    scores = [score(c, options.weights) for c in candidates]
    low, high = min(scores), max(scores)
    spread = (high - low) or 1.0
    relevance = [(s - low) / spread for s in scores]
    # Each candidate's highest cosine to the picks so far, updated once per pick: linear
    # in the candidates per pick rather than quadratic.
    novelty = [0.0] * len(candidates)
    picked: list[int] = []
    used = 0
    open_ = set(range(len(candidates)))
    while open_:
        best, best_value = -1, -math.inf
        for i in sorted(open_):
            if used + candidates[i].words > options.budget_words:
                continue  # without `fill` the first best that does not fit ends the summary
            value = options.mmr_lambda * relevance[i] - (1 - options.mmr_lambda) * novelty[i]
            if value > best_value:
                best, best_value = i, value
        if not options.fill:
            overall = max(
                open_,
                key=lambda i: (
                    options.mmr_lambda * relevance[i] - (1 - options.mmr_lambda) * novelty[i],
                    -i,
                ),
            )
            if overall != best:
                break
        if best < 0:
            break
        picked.append(best)
        used += candidates[best].words
        open_.discard(best)
        for i in list(open_):
            overlap = _overlap(candidates[i].term_set, candidates[best].term_set)
            novelty[i] = max(novelty[i], overlap)
            if novelty[i] >= options.redundancy or _same_claim(candidates[i], candidates[best]):
                open_.discard(i)
    return picked


def summarize(
    story: Sequence[SourceText],
    options: ExtractiveOptions | Mapping[str, Any] | None = None,
    avoid: Collection[str] = (),
) -> Summary:
    """The extractive summary of a story (its articles, in any order); no sentence that
    is, or is part of, one in `avoid` is picked."""
    if not isinstance(options, ExtractiveOptions):
        options = options_from_config(options)
    options = options.for_articles(len(story))
    candidates = prepare(story, options)
    if avoid:
        avoided = [" ".join(a.split()) for a in avoid]
        # Sentences are split here and in the caller by different rules: either may hold
        # the other.
        candidates = [c for c in candidates if not _within(" ".join(c.text.split()), avoided)]
    candidates = [c for c in candidates if not dangling(c.text)]
    picked = choose(candidates, options)
    if len({_distinct_source(s) for s in story}) > 1:
        picked = _cover_reaction(candidates, picked, options)
    return assemble(story, [candidates[i] for i in picked])


def _cover_reaction(
    candidates: Sequence[Candidate], picked: list[int], options: ExtractiveOptions
) -> list[int]:
    """A story told by several sources gives the other side's answer: when no picked
    sentence reports a reaction, the best one replaces the weakest picks it needs room of
    (never the first)."""
    if any(_REACTION.search(candidates[i].text) for i in picked):
        return picked
    scores = [score(c, options.weights) for c in candidates]
    chosen = [candidates[i] for i in picked]
    found = [
        i
        for i, c in enumerate(candidates)
        if i not in picked
        and _REACTION.search(c.text)
        and not any(
            _overlap(c.term_set, p.term_set) >= options.redundancy or _same_claim(c, p)
            for p in chosen
        )
    ]
    if not found:
        return picked
    best = max(found, key=lambda i: (scores[i], -i))
    kept = list(picked)
    while kept[1:] and sum(candidates[i].words for i in kept) + candidates[best].words > (
        options.budget_words
    ):
        kept.remove(min(kept[1:], key=lambda i: scores[i]))
    if sum(candidates[i].words for i in kept) + candidates[best].words > options.budget_words:
        return picked
    return [*kept, best]


def _within(text: str, avoided: Sequence[str]) -> bool:
    return any(text in a or a in text for a in avoided)


def assemble(story: Sequence[SourceText], picked: Sequence[Candidate]) -> Summary:
    """Picked candidates as a summary: first the one most sources state (the story's
    core, not one outlet's angle), then the others in order of publication and position."""
    if not picked:
        return Summary([], "extractive")
    lead = max(picked, key=lambda c: (c.features.get("support", 0.0), -picked.index(c)))
    rest = sorted(
        (c for c in picked if c is not lead),
        key=lambda c: (_source_key(story, c.source), c.position),
    )
    ordered = [lead, *rest]
    sentences = []
    for candidate in ordered:
        source = story[candidate.source]
        also: list[tuple[str | None, str]] = []
        seen = {source.url}
        for index, _position in sorted(
            candidate.members[1:], key=lambda m: _source_key(story, m[0])
        ):
            other = story[index]
            if other.url not in seen:
                seen.add(other.url)
                also.append((other.site, other.url))
        sentences.append(
            SummarySentence(candidate.text, source.article_id, source.site, source.url, also)
        )
    return Summary(sentences, "extractive")
