"""Story similarity: how likely two articles tell the same story, as a score in [0, 1].

Lexical and language-aware. Each article becomes four unit tf-idf vectors (a `Profile`):

* words: `veille.text.terms` (stems, folded accents, no stop words), CJK cut into bigrams,
  title words counted twice;
* lead: the same over the first 60 terms (title and opening), where a report states its event;
* names: capitalised words inside sentences and numbers, which read the same across languages;
* chars: character 4-grams inside words, which catch names spelt a little differently from
  one language to another; read only when the two languages differ;

and, when the vectorizer has an encoder (`veille.encoder`), a dense vector of the title and
opening, whose cosine carries meaning across languages and paraphrase.

Their cosines, and the days between the two articles when both dates are known, go through
a small logistic model whose weights were learned on the SemEval-2022 task 8 dev split
(`python bench/similarity.py --learn`); it estimates (4 - Overall) / 3 on that task's scale
(1 same story ... 4 unrelated), and `SAME_STORY` (0.4) is its "same story" threshold.

Document frequencies come from a background corpus (`Vectorizer.fit` / `partial_fit`: the
articles in the store, a day or a week of news). Without one every term weighs the same:
on SemEval that costs nothing (stop words are already gone), but words of the topic
("incendie", "pompiers") then count as much as those of the event, so same-topic pairs
score closer to the threshold.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from veille.cluster.vectors import Vector, dot, unit
from veille.encoder import Encoder, article_text
from veille.encoding import fix_text
from veille.text import fold, strip_accents, terms


@dataclass(frozen=True)
class ArticleText:
    title: str
    text: str
    language: str | None = None  # ISO 639-1; None is taken as the other article's
    published: datetime | None = None


@dataclass(frozen=True)
class Profile:
    """An article ready to compare: one unit vector per kind of evidence."""

    words: Vector
    lead: Vector
    names: Vector
    chars: Vector
    language: str | None
    published: datetime | None
    dense: Any = None  # unit numpy vector from the vectorizer's encoder, if it has one


# --------------------------------------------------------------------------- tokens

# Han, kana and hangul are written without spaces, so `\w+` yields whole clauses: overlapping
# character bigrams are the usual stand-in for words there.
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUN = re.compile(f"([{_CJK_CHARS}]+)")

# Mojibake whose "¼" (from "ü" = C3 BC read as Latin-1) was later NFKC-normalised into "1⁄4":
# put the fraction back so ftfy recognises the sequence ("fÃ1⁄4r" -> "für").
_SPLIT_FRACTION = re.compile(r"(?<=[ÂÃÄÅ])(?:1⁄4|1⁄2|3⁄4)")
_FRACTIONS = {"1⁄4": "¼", "1⁄2": "½", "3⁄4": "¾"}


def repair(text: str) -> str:
    """Encoding damage undone (`veille.encoding.fix_text`), normalised fractions included."""
    text = _SPLIT_FRACTION.sub(lambda m: _FRACTIONS[m.group()], text)
    return fix_text(text)


def word_terms(text: str, language: str | None) -> list[str]:
    """`veille.text.terms`, with runs of CJK characters cut into overlapping bigrams."""
    found: list[str] = []
    for term in terms(text, language):
        if not _CJK_RUN.search(term):
            found.append(term)
            continue
        for i, part in enumerate(_CJK_RUN.split(term)):
            if i % 2:  # split() with a group puts the CJK runs at odd positions
                found.extend(part[j : j + 2] for j in range(max(1, len(part) - 1)))
            elif part:
                found.append(part)
    return found


def char_grams(text: str, n: int = 4) -> list[str]:
    """Character n-grams inside folded words, edges marked: "_bund", "unde", ..."""
    grams: list[str] = []
    for word in fold(text).split():
        if _CJK_RUN.search(word):
            continue  # the word bigrams already cover it
        padded = f"_{word}_"
        grams.extend(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
    return grams


_WORD_OR_NUMBER = re.compile(r"[^\W\d_][\w'’-]*|\d[\d.,\u00a0\u202f]*\d|\d")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;«»\"“”()\[\]|\n-])\s*$")


def name_terms(text: str) -> list[str]:
    """Name-like words (capitalised, not opening a sentence) and numbers of two digits or more.

    Both cross languages: "Macron", "Biden", "2020" and "35 000" read the same in a French
    and a German report of one event.
    """
    found: list[str] = []
    for match in _WORD_OR_NUMBER.finditer(text):
        word = match.group()
        if word[0].isdigit():
            digits = re.sub(r"\D", "", word)
            if len(digits) >= 2:
                found.append("#" + digits)
        elif word[0].isupper() and len(word) > 1:
            if _SENTENCE_START.search(text[max(0, match.start() - 4) : match.start()]):
                continue  # any word is capitalised there
            found.append(strip_accents(word.lower()))
    return found


@dataclass(frozen=True)
class _Tokens:
    title: list[str]
    words: list[str]  # title, then body
    names: list[str]
    chars: list[str]


def _tokens(article: ArticleText, char_n: int) -> _Tokens:
    title = repair(article.title or "")
    body = repair(article.text or "")
    title_words = word_terms(title, article.language)
    both = f"{title}\n{body}"
    return _Tokens(
        title=title_words,
        words=title_words + word_terms(body, article.language),
        names=name_terms(both),
        chars=char_grams(both, char_n),
    )


# --------------------------------------------------------------------------- vectors


class Vectorizer:
    """Turns articles into `Profile`s, with document frequencies from a background corpus.

    A profile carries the idf of the time it was made: profiles compared with each other
    should come from one state of the vectorizer (refit, then re-profile).
    """

    def __init__(
        self,
        *,
        title_weight: float = 2.0,
        lead_terms: int = 60,
        char_n: int = 4,
        top_k: int | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self.title_weight = title_weight
        self.lead_terms = lead_terms
        self.char_n = char_n
        self.top_k = top_k  # keep only the heaviest terms (smaller profiles to store)
        self.encoder = encoder
        self.n = 0
        self.df: dict[str, Counter[str]] = _empty_df()

    def fit(self, articles: Iterable[ArticleText]) -> Vectorizer:
        self.n = 0
        self.df = _empty_df()
        return self.partial_fit(articles)

    def partial_fit(self, articles: Iterable[ArticleText]) -> Vectorizer:
        for article in articles:
            self._count(_tokens(article, self.char_n))
        return self

    def fit_profiles(self, articles: Iterable[ArticleText]) -> list[Profile]:
        """Fit on `articles` and profile them, reading each article once."""
        self.n = 0
        self.df = _empty_df()
        items = [(a, _tokens(a, self.char_n)) for a in articles]
        for _, tokens in items:
            self._count(tokens)
        dense = self._encode([a for a, _ in items])
        return [self._profile(a, tokens, d) for (a, tokens), d in zip(items, dense, strict=True)]

    def profile(self, article: ArticleText) -> Profile:
        return self._profile(article, _tokens(article, self.char_n), self._encode([article])[0])

    def _encode(self, articles: list[ArticleText]) -> list[Any]:
        if self.encoder is None:
            return [None] * len(articles)
        texts = [article_text(repair(a.title or ""), repair(a.text or "")) for a in articles]
        return list(self.encoder.encode(texts))

    def idf(self, space: str, term: str) -> float:
        """Smoothed: a term never seen weighs most; with no corpus every term weighs 1."""
        return math.log((self.n + 1) / (self.df[space].get(term, 0) + 1)) + 1.0

    def _count(self, tokens: _Tokens) -> None:
        self.n += 1
        self.df["words"].update(set(tokens.words))
        self.df["names"].update(set(tokens.names))
        self.df["chars"].update(set(tokens.chars))

    def _profile(self, article: ArticleText, tokens: _Tokens, dense: Any = None) -> Profile:
        title = set(tokens.title)
        return Profile(
            words=self._weigh("words", tokens.words, title),
            lead=self._weigh("words", tokens.words[: self.lead_terms], title),
            names=self._weigh("names", tokens.names, set()),
            chars=self._weigh("chars", tokens.chars, set()),
            language=_language(article.language),
            published=article.published,
            dense=dense,
        )

    def _weigh(self, space: str, found: list[str], title: set[str]) -> Vector:
        # Raw term counts: on the dev split they beat sublinear (1 + log tf) and binary
        # weights, a story's key words being the ones it repeats.
        df, top = self.df[space], math.log(self.n + 1) + 1.0
        extra = self.title_weight - 1.0
        weights: dict[str, float] = {}
        for term, count in Counter(found).items():
            idf = top - math.log(df.get(term, 0) + 1)  # `idf`, inlined: this loop is hot
            weights[term] = (count + extra if term in title else count) * idf
        if self.top_k and len(weights) > self.top_k:
            weights = dict(sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top_k])
        return unit(weights)


def _empty_df() -> dict[str, Counter[str]]:
    return {"words": Counter(), "names": Counter(), "chars": Counter()}


def _language(language: str | None) -> str | None:
    return language[:2].lower() if language else None


# --------------------------------------------------------------------------- score

# What each model reads. Within one language the lead and names add to the words; the
# character n-grams add nothing there once words are in (dev cross-validation). Across
# languages words rarely match but names, numbers and n-grams of shared names do.
FEATURES = {"same": ("words", "lead", "names"), "cross": ("names", "chars")}

# Learned by `python bench/similarity.py --learn` on SemEval-2022 task 8 training_set.csv
# (the dev split, 1,283 pairs): fractional logistic regression (L2 0.01) of
# (4 - Overall) / 3 on the square roots of the cosines in FEATURES (-Overall climbs steeply
# at low cosines and flattens above 0.4), the dense cosine (USE multilingual,
# `veille.encoder`) when both profiles have one, and log(1 + days apart). One model per
# case: same or different languages, with or without both dates, with or without dense
# vectors. Dates in the dev split are approximate, derived from its crawl-ordered story ids
# (see the bench). Dev 5-fold cross-validation, Pearson (text only): monolingual 0.753
# sparse, 0.766 with dense; all pairs 0.710 and 0.760 (zh-en 0.635 -> 0.882).
WEIGHTS: dict[str, dict[str, float]] = {
    "same": {"bias": -3.231, "words": 3.785, "lead": 2.637, "names": 0.547},
    "same+dense": {"bias": -3.553, "words": 1.136, "lead": 2.934, "names": 0.247, "dense": 3.014},
    "same+days": {"bias": -2.869, "words": 4.066, "lead": 2.602, "names": 0.431, "days": -0.304},
    "same+days+dense": {
        "bias": -3.164,
        "words": 1.843,
        "lead": 2.834,
        "names": 0.176,
        "days": -0.284,
        "dense": 2.534,
    },
    "cross": {"bias": -2.209, "names": 3.683, "chars": 2.609},
    "cross+dense": {"bias": -3.874, "names": 1.483, "chars": -0.393, "dense": 6.957},
    "cross+days": {"bias": -1.764, "names": 3.399, "chars": 3.294, "days": -0.35},
    "cross+days+dense": {
        "bias": -3.375,
        "names": 1.208,
        "chars": 0.585,
        "days": -0.339,
        "dense": 6.648,
    },
}


# Above this a pair reads as one story: the best F1 of "same story" (Overall <= 2) on the
# dev split (0.76; 0.73 on test). Higher trades recall for precision (0.5: P 0.77, R 0.73).
SAME_STORY = 0.4

_VECTORS = ("words", "lead", "names", "chars")


def features(
    a: Profile, b: Profile, wanted: Iterable[str] = (*_VECTORS, "days", "dense")
) -> dict[str, float]:
    """The models' inputs: square roots of the cosines, the cosine of the dense vectors when
    both have one, and log(1 + days) when both are dated."""
    wanted = set(wanted)
    found = {
        k: math.sqrt(max(0.0, dot(getattr(a, k), getattr(b, k))))  # unit vectors
        for k in _VECTORS
        if k in wanted  # the character n-gram cosine is the slow one: skip it unless read
    }
    if "days" in wanted and a.published is not None and b.published is not None:
        found["days"] = math.log1p(abs(_days(a.published, b.published)))
    if "dense" in wanted and a.dense is not None and b.dense is not None:
        found["dense"] = float(a.dense @ b.dense)  # unit vectors
    return found


def model(a: Profile, b: Profile) -> str:
    """Which weights apply: same or cross language, with or without the time gap, with or
    without dense vectors."""
    same = a.language is None or b.language is None or a.language == b.language
    dated = a.published is not None and b.published is not None
    dense = a.dense is not None and b.dense is not None
    return ("same" if same else "cross") + ("+days" if dated else "") + ("+dense" if dense else "")


def score(a: Profile, b: Profile, weights: dict[str, dict[str, float]] | None = None) -> float:
    """Similarity of two profiles from one vectorizer, in [0, 1]."""
    chosen = (weights or WEIGHTS)[model(a, b)]
    found = features(a, b, chosen)
    z = chosen["bias"] + sum(w * found[k] for k, w in chosen.items() if k != "bias")
    return 1.0 / (1.0 + math.exp(-z))


_PLAIN = Vectorizer()  # never fitted: every term weighs the same


def similarity(a: ArticleText, b: ArticleText, vectorizer: Vectorizer | None = None) -> float:
    """How likely `a` and `b` report the same story, in [0, 1]; symmetric.

    Pass a `Vectorizer` fitted on a background corpus for sharper idf weights; its profiles
    can be kept and compared with `score` when one article meets many.
    """
    vectorizer = vectorizer or _PLAIN
    return score(vectorizer.profile(a), vectorizer.profile(b))


def _days(a: datetime, b: datetime) -> float:
    if (a.tzinfo is None) != (b.tzinfo is None):  # one naive, one aware: compare wall clocks
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return (a - b).total_seconds() / 86400.0
