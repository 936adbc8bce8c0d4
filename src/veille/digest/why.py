"""Explanations in words and in JSON, the same in digests, alerts, pages and the command
line: the terms a story matched (as the words found, and where), each ranking signal's
share of its score, whether the match is weak, and why each article is in the story.
"""

from __future__ import annotations

from typing import Any

from veille.cluster.explain import Grouped
from veille.i18n import ntranslate, translate
from veille.watch.explain import MatchExplanation, TermMatch
from veille.watch.rank import Part


def signal_name(name: str, lang: str | None) -> str:
    names = {
        "relevance": translate("relevance", lang),
        "sources": translate("independent sources", lang),
        "recency": translate("recency", lang),
        "growth": translate("growth", lang),
    }
    return names.get(name, name)


def words_found(term: TermMatch) -> str:
    """ "perquisitionné ×5, perquisitions ×2": the words the articles use for a term."""
    return ", ".join(f"{word} ×{count}" if count > 1 else word for word, count in term.words)


def term_line(term: TermMatch, articles: int, lang: str | None) -> str:
    """A matched term, the words found for it, and where."""
    if term.field in ("site", "lang", "entity"):
        return f"{term.field}:{term.term} → {', '.join(w for w, _ in term.words)}"
    return f"{term.term} → {words_found(term)} ({term_where(term, articles, lang)})"


def term_where(term: TermMatch, articles: int, lang: str | None) -> str:
    """Where a term was found: "13 of 16 headlines, 15 texts"."""
    where = []
    if term.headlines:
        where.append(
            ntranslate(
                "{n} of {total} headline",
                "{n} of {total} headlines",
                term.headlines,
                lang,
                n=term.headlines,
                total=articles,
            )
        )
    if term.texts:
        where.append(ntranslate("{n} text", "{n} texts", term.texts, lang, n=term.texts))
    return ", ".join(where)


def part_value(part: Part, lang: str | None) -> str:
    """A signal as measured: "BM25 14.4", "15 sources", "3 h ago", "+2 sources"."""
    if part.name == "relevance":
        return f"BM25 {part.value:.2f}"
    if part.name == "sources":
        count = int(part.value)
        return ntranslate("{count} source", "{count} sources", count, lang, count=count)
    if part.name == "recency":
        if part.value < 0:
            return "—"
        return translate("last article {hours} h before", lang, hours=f"{part.value:.0f}")
    count = int(part.value)
    return ntranslate(
        "+{count} source since last sent",
        "+{count} sources since last sent",
        count,
        lang,
        count=count,
    )


def rank_line(explanation: MatchExplanation, lang: str | None) -> str:
    """ "score 0.90 = relevance 0.55 + independent sources 0.25 + …"."""
    parts = " + ".join(
        f"{signal_name(p.name, lang)} {p.contribution:.2f}" for p in explanation.parts
    )
    return translate("score {score} = {parts}", lang, score=f"{explanation.score:.2f}", parts=parts)


def weak_line(explanation: MatchExplanation, lang: str | None) -> str:
    return translate(
        "weak match: relevance {relevance} under the floor {floor}",
        lang,
        relevance=f"{explanation.relevance:.2f}",
        floor=f"{explanation.floor:.2f}",
    )


def grouped_line(grouped: Grouped, lang: str | None) -> str:
    """Why an article is in its story, in one line."""
    if grouped.copy_of is not None:
        return translate(
            "copy of {site} (similarity {similarity})",
            lang,
            site=grouped.copy_site or "",
            similarity=f"{grouped.copy_similarity or 0:.2f}",
        )
    said = []
    if grouped.shared_names:
        said.append(
            translate("names shared: {names}", lang, names=", ".join(grouped.shared_names[:4]))
        )
    if grouped.facts:
        said.append(
            ntranslate(
                "{count} key fact stated elsewhere",
                "{count} key facts stated elsewhere",
                grouped.facts,
                lang,
                count=grouped.facts,
            )
        )
    if grouped.similarity is not None:
        said.append(
            translate(
                "similarity to the story {similarity}",
                lang,
                similarity=f"{grouped.similarity:.2f}",
            )
        )
    return " · ".join(said) if said else translate("started the story", lang)


def explanation_json(explanation: MatchExplanation) -> dict[str, Any]:
    return {
        "score": explanation.score,
        "relevance": explanation.relevance,
        "floor": explanation.floor,
        "weak": explanation.weak,
        "articles": explanation.articles,
        "terms": [
            {
                "term": t.term,
                "field": t.field,
                "words": [{"word": w, "count": c} for w, c in t.words],
                "headlines": t.headlines,
                "texts": t.texts,
            }
            for t in explanation.terms
        ],
        "missing": list(explanation.missing),
        "title_spans": [list(s) for s in explanation.title_spans],
        "excerpts": [
            {
                "article_id": e.article_id,
                "site": e.site,
                "text": e.text,
                "spans": [list(s) for s in e.spans],
            }
            for e in explanation.excerpts
        ],
        "rank": [
            {
                "signal": p.name,
                "value": round(p.value, 4),
                "scaled": round(p.scaled, 4),
                "weight": p.weight,
                "contribution": round(p.contribution, 4),
            }
            for p in explanation.parts
        ],
    }


def grouped_json(grouped: Grouped) -> dict[str, Any]:
    return {
        "article_id": grouped.article_id,
        "site": grouped.site,
        "copy_of": grouped.copy_of,
        "copy_site": grouped.copy_site,
        "copy_similarity": grouped.copy_similarity,
        "shared_names": list(grouped.shared_names),
        "shared_facts": list(grouped.shared_facts),
        "facts": grouped.facts,
        "similarity": grouped.similarity,
    }


def grouping_line(grouping: tuple[Grouped, ...], lang: str | None) -> str:
    """Why a story's articles are together, in one line: the names most of them share,
    the copies folded, how alike the rest are."""
    if len(grouping) < 2:
        return ""
    named: dict[str, int] = {}
    for grouped in grouping:
        for name in grouped.shared_names:
            named[name] = named.get(name, 0) + 1
    said = []
    if named:
        best = sorted(named.items(), key=lambda p: (-p[1], p[0]))[:4]
        said.append(
            translate(
                "names shared: {names}",
                lang,
                names=", ".join(f"{name} ({count})" for name, count in best),
            )
        )
    copies = [g for g in grouping if g.copy_of is not None]
    if copies:
        said.append(
            ntranslate(
                "{count} copy of another article",
                "{count} copies of other articles",
                len(copies),
                lang,
                count=len(copies),
            )
        )
    alike = sorted(g.similarity for g in grouping if g.similarity is not None and g.copy_of is None)
    if alike:
        said.append(
            translate(
                "median similarity to the story {similarity}",
                lang,
                similarity=f"{alike[len(alike) // 2]:.2f}",
            )
        )
    return " · ".join(said)


def helpers(lang: str) -> dict[str, Any]:
    """What the digest and alert templates say of an entry's explanation."""

    def terms(entry: Any) -> list[str]:
        found = entry.explanation
        return [term_line(t, found.articles, lang) for t in found.terms]

    return {
        "why_terms": terms,
        "why_rank": lambda entry: rank_line(entry.explanation, lang),
        "why_weak": lambda entry: weak_line(entry.explanation, lang),
        "why_grouping": lambda entry: grouping_line(entry.grouping, lang),
    }
