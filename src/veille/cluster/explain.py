"""Why articles are grouped in one story, told from stored data alone: the copy an article
is of (and how alike they are), the names it shares with the rest of the story, the key
facts it states with other sources, and how close its words are to the rest of the story.

Closeness uses the clusterer's own vectors (`veille.cluster.vectors`: tf-idf over the same
terms, names and headline pieces), with document frequencies counted over the articles
given as the pool (those of the story's days), not the grouping state: it says how alike
the texts are, which is what grouping went by, without replaying it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veille.cluster.vectors import ClusterDoc, DocFreq, Vector, Weighting, doc_terms, dot, tfidf
from veille.enrich.entities import Mention, name_key
from veille.model import Article, Copy, StoryBrief
from veille.urls import domain

NAMES_SHOWN = 6
FACTS_SHOWN = 2
# Articles whose words set document frequencies: enough for rare and common words to
# tell apart, few enough for a page or a digest to count them quickly.
POOL_MAX = 2000


@dataclass(frozen=True)
class Grouped:
    """Why one article is in its story."""

    article_id: int
    site: str
    copy_of: int | None  # the original this article reprints (then nothing else is needed)
    copy_site: str | None
    copy_similarity: float | None  # how alike the two texts are, as dedup measured it
    shared_names: tuple[str, ...]  # people, organisations, places also named elsewhere in it
    shared_facts: tuple[str, ...]  # key facts it states with at least one other source
    facts: int  # how many such facts in all
    similarity: float | None  # cosine to the rest of the story (None: it is alone)


def _site(article: Article) -> str:
    return article.site_name or domain(article.url) or ""


class Rarity:
    """Document frequencies over a pool of articles (at most POOL_MAX), and the clusterer's
    vector of any article against them."""

    def __init__(self, pool: Iterable[Article], weighting: Weighting | None = None) -> None:
        self.weighting = weighting or Weighting()
        self.df = DocFreq()
        self._terms: dict[int, dict[str, float]] = {}
        for article in pool:
            if len(self._terms) >= POOL_MAX:
                break
            if article.id is not None and article.id not in self._terms:
                self._terms[article.id] = self._count(article)

    def _count(self, article: Article) -> dict[str, float]:
        weights = doc_terms(_doc(article), self.weighting).weights
        self.df.add(weights)
        return weights

    def vector(self, article: Article) -> Vector:
        terms = self._terms.get(article.id or 0)
        if terms is None:  # not in the pool: counted now, so its own words are known
            terms = self._terms[article.id or 0] = self._count(article)
        return tfidf(terms, self.df, self.weighting.top_k)


def why_grouped(
    articles: Sequence[Article],
    copies: Iterable[Copy],
    brief: StoryBrief | None,
    mentions: dict[int, list[Mention]],
    rarity: Rarity,
) -> list[Grouped]:
    """For each of the story's `articles`: why it is there. `mentions` are the names found
    in each article (`Store.mentions`); `rarity`, how rare each word is around them."""
    by_id = {a.id: a for a in articles}
    copy_of = {c.copy_id: c for c in copies if c.copy_id in by_id and c.original_id in by_id}
    shown = _display_names(brief)
    keys = {a.id: {name_key(m.text) for m in mentions.get(a.id or 0, [])} - {""} for a in articles}
    seen_in: Counter[str] = Counter(k for found in keys.values() for k in found)
    facts = _facts_by_url(brief)
    vectors = {a.id or 0: rarity.vector(a) for a in articles}
    total: dict[str, float] = {}
    for vector in vectors.values():
        for term, weight in vector.items():
            total[term] = total.get(term, 0.0) + weight
    found = []
    for article in articles:
        aid = article.id or 0
        copy = copy_of.get(article.id)
        names: dict[str, int] = {}
        for key in keys.get(article.id, set()):
            if seen_in[key] > 1:  # named in another of the story's articles too
                name = shown.get(key, key)
                names[name] = max(names.get(name, 0), seen_in[key])
        stated = facts.get(article.url, [])
        found.append(
            Grouped(
                article_id=aid,
                site=_site(article),
                copy_of=copy.original_id if copy else None,
                copy_site=_site(by_id[copy.original_id]) if copy else None,
                copy_similarity=round(copy.similarity, 3) if copy else None,
                shared_names=tuple(
                    n for n, _ in sorted(names.items(), key=lambda p: (-p[1], p[0]))
                )[:NAMES_SHOWN],
                shared_facts=tuple(stated[:FACTS_SHOWN]),
                facts=len(stated),
                similarity=_to_rest(vectors.get(aid), total),
            )
        )
    return found


def _display_names(brief: StoryBrief | None) -> dict[str, str]:
    """Name key of every spelling -> the entity's name as the story gives it."""
    shown: dict[str, str] = {}
    for entity in brief.entities if brief else ():
        for spelling in (entity.name, *entity.aliases):
            shown.setdefault(name_key(spelling), entity.name)
    return shown


def _facts_by_url(brief: StoryBrief | None) -> dict[str, list[str]]:
    """Article URL -> the key facts it states that another independent source states too."""
    found: dict[str, list[str]] = {}
    for fact in brief.facts if brief else ():
        if fact.independent < 2:
            continue
        for ref in fact.sources:
            if ref.url and fact.text not in found.setdefault(ref.url, []):
                found[ref.url].append(fact.text)
    return found


def _doc(article: Article) -> ClusterDoc:
    return ClusterDoc(
        article.id or 0,
        article.title,
        article.text,
        article.published,
        article.site_name,
        article.language,
    )


def _to_rest(vector: Vector | None, total: dict[str, float]) -> float | None:
    """Cosine of an article's vector with the sum of the story's other vectors."""
    if not vector:
        return None
    rest = {t: w - vector.get(t, 0.0) for t, w in total.items()}
    norm = sum(w * w for w in rest.values()) ** 0.5
    if norm < 1e-9:
        return None
    return round(dot(vector, rest) / norm, 3)
