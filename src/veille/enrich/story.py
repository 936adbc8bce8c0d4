"""A story understood: its summary across sources, key facts, disagreements and entities.

Plain functions over a story's articles and their entity mentions (found beforehand, as
spaCy is the slow part and its results are kept per article): the pipeline feeds them and
stores what comes out as a `StoryBrief`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from veille.enrich.conflicts import Disagreement, disagreements
from veille.enrich.entities import Entity, Mention, match_names, merge, readable
from veille.enrich.facts import Fact, FactSource, key_facts
from veille.enrich.quotes import Quote, QuoteText, story_quotes
from veille.model import (
    BriefDisagreement,
    BriefFact,
    BriefNote,
    BriefQuote,
    BriefSentence,
    SourceRef,
    StoryBrief,
)
from veille.summarize import SourceText, Summary, summarize, summarize_llm
from veille.summarize.llm import LlmOptions

# Part of each brief's signature: raise it when what understanding produces changes, so
# stored briefs are computed again.
VERSION = 5


@dataclass(frozen=True)
class StoryArticle:
    """One article of a story, as understanding needs it."""

    id: int
    title: str
    text: str
    url: str
    site: str | None
    published: datetime | None
    language: str | None
    original_id: int | None = None  # a syndicated copy: the article it copies


@dataclass
class Understanding:
    summary: Summary
    facts: list[Fact]
    disagreements: list[Disagreement]
    entities: list[Entity]  # merged within the story
    quotes: list[Quote] = field(default_factory=list)


def entity_text(title: str, text: str) -> str:
    """The text whose entities are found: the headline names people too."""
    return f"{title}\n\n{text}" if title else text


def understand(
    articles: Sequence[StoryArticle],
    mentions: Mapping[int, list[Mention]],
    summary_options: Mapping[str, Any] | None = None,
    llm: LlmOptions | None = None,
    facts_limit: int = 8,
) -> Understanding:
    """Summary, key facts, disagreements and entities of one story.

    `mentions` holds each article's entity mentions (articles without are left out of the
    entities, as when no model reads their language)."""
    ordered = sorted(articles, key=lambda a: (a.published or datetime.max, a.id))
    sources = [
        FactSource(a.id, a.site, a.url, a.text, a.published, a.language, a.original_id)
        for a in ordered
    ]
    # A copy's headline is its original's: counting it twice would make any word "key".
    titles = [a.title for a in ordered if a.original_id is None and a.title]
    conflicts = disagreements(sources, titles)
    # A sentence giving the minority side of a disagreement is no fact of the story.
    disputed = [s for d in conflicts for s in d.disputed]
    facts = key_facts(sources, limit=facts_limit, avoid=disputed)
    # A syndicated copy says what its original says: as input it would only make the
    # dispatch's sentences look stated by several sources.
    texts = [
        SourceText(a.id, a.site, a.url, a.title, a.text, a.published, a.language)
        for a in ordered
        if a.original_id is None
    ]
    # A sentence giving the minority side of a disagreement would state it as the story's.
    summary = summarize(texts, summary_options, avoid=disputed)
    if llm is not None and llm.enabled:
        summary = summarize_llm(texts, summary, [f.text for f in facts], llm)
    read = {a.id: mentions[a.id] for a in ordered if a.id in mentions}
    entities = merge(read)
    # Articles in a language no model reads: the story's known names, found by spelling.
    unread = [a for a in ordered if not read.get(a.id) and a.text and not readable(a.language)]
    if unread and entities:
        for article in unread:
            read[article.id] = match_names(entity_text(article.title, article.text), entities)
        entities = merge(read)
    quotes = story_quotes(
        [QuoteText(a.id, a.site, a.url, a.text, a.original_id) for a in ordered], entities
    )
    return Understanding(summary, facts, conflicts, entities, quotes)


def brief(story_id: int, understood: Understanding, articles: Sequence[StoryArticle]) -> StoryBrief:
    """The stored form of what was understood (entities are the store's to link)."""
    by_url = {a.url: a for a in articles}

    def ref_of(source: Any) -> SourceRef:
        return SourceRef(source.article_id, source.site, source.url)

    def ref_by_url(site: str | None, url: str) -> SourceRef:
        article = by_url.get(url)
        return SourceRef(article.id if article else 0, site, url)

    summary = tuple(
        BriefSentence(
            s.text,
            SourceRef(s.article_id, s.site, s.url) if s.url else None,
            tuple(ref_by_url(site, url) for site, url in s.also),
        )
        for s in understood.summary.sentences
    )
    facts = tuple(
        BriefFact(
            f.text,
            tuple(sorted(f.kinds)),
            tuple(ref_of(s) for s in f.sources),
            f.independent_sources,
        )
        for f in understood.facts
    )
    conflicts = tuple(
        BriefDisagreement(
            d.slot,
            d.word,
            tuple((value, tuple(ref_of(s) for s in held)) for value, held in d.values.items()),
            tuple(BriefNote(n.site, n.written, n.day, n.weekday) for n in d.notes),
        )
        for d in understood.disagreements
    )
    return StoryBrief(
        story_id=story_id,
        summary=summary,
        method=understood.summary.method,
        summary_error=understood.summary.error,
        facts=facts,
        disagreements=conflicts,
        quotes=tuple(
            BriefQuote(q.text, q.speaker, q.entity, tuple(q.sources)) for q in understood.quotes
        ),
    )
