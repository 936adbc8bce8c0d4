"""The understanding stage: for each story whose articles changed, its entities (spaCy,
kept per article), key facts, disagreements and summary, stored as its brief.

The work is found in the store: stories flagged when grouping changed them, never
understood, or understood by an older version of the code. Each story's brief, its
entities and the cleared flag are committed together, so a stop or a crash between two
stories loses nothing done, and the next run takes the rest up."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from veille.config import Settings
from veille.enrich import story as enrich_story
from veille.enrich.entities import Entity, Mention, find_mentions, link, lookup_keys
from veille.enrich.story import StoryArticle, entity_text
from veille.model import EntityUpdate, Failure, Skip
from veille.store import Store
from veille.summarize import llm_options_from_config, options_from_config

# Stories read and understood per round (their articles' mentions found in one batch).
ROUND = 50


@dataclass
class UnderstandOutcome:
    understood: int = 0  # stories whose brief was computed
    problems: list[Failure | Skip] = field(default_factory=list)
    stopped: bool = False


def understand(
    store: Store,
    settings: Settings,
    stop: threading.Event | None = None,
    record: Callable[[Failure | Skip], None] | None = None,
) -> UnderstandOutcome:
    """Understand every story that needs it; a story that fails is recorded (and tried
    again next run), the others go on."""
    outcome = UnderstandOutcome()
    summary = options_from_config(settings.summary)
    llm = llm_options_from_config(settings.summary.get("llm"))
    failed: set[int] = set()
    reasons: set[str] = set()

    def note(problem: Failure | Skip) -> None:
        outcome.problems.append(problem)
        if record:
            record(problem)

    while True:
        wanted = [
            s
            for s in store.stories_to_understand(enrich_story.VERSION, limit=ROUND + len(failed))
            if s not in failed
        ][:ROUND]
        if not wanted:
            return outcome
        if stop is not None and stop.is_set():
            outcome.stopped = True
            return outcome
        members = {sid: _story_articles(store, sid) for sid in wanted}
        signatures = {sid: _signature(articles) for sid, articles in members.items()}
        todo = {}
        for sid, articles in members.items():
            if articles and store.brief_signature(sid) != signatures[sid]:
                todo[sid] = articles
            else:
                store.brief_done(sid)  # its articles did not change
        mentions, skipped = _mentions(store, [a for articles in todo.values() for a in articles])
        for article_id, reason in sorted(skipped.items()):
            if reason not in reasons:  # once per run and reason, not per article
                reasons.add(reason)
                note(Skip("understand", f"article:{article_id}", reason))
        for story_id, articles in todo.items():
            if stop is not None and stop.is_set():
                outcome.stopped = True
                return outcome
            try:
                found = {a.id: mentions[a.id][0] for a in articles if a.id in mentions}
                understood = enrich_story.understand(articles, found, summary, llm)
                skipped = tuple(
                    (a.id, reason)
                    for a in articles
                    if (reason := mentions.get(a.id, ([], None))[1])
                )
                brief = replace(enrich_story.brief(story_id, understood, articles), skipped=skipped)
                updates = _entity_updates(store, understood.entities, articles)
            except Exception as exc:  # one story's failure must not stop the others
                failed.add(story_id)
                note(
                    Failure(
                        "understand",
                        f"story:{story_id}",
                        "understand",
                        f"{type(exc).__name__}: {exc}",
                    )
                )
                continue
            with store.transaction():
                store.save_brief(brief, signatures[story_id], enrich_story.VERSION)
                store.save_story_entities(story_id, updates)
                store.brief_done(story_id)
            outcome.understood += 1


def _story_articles(store: Store, story_id: int) -> list[StoryArticle]:
    articles = store.story_articles(story_id)
    ids = [a.id for a in articles if a.id is not None]
    copy_of = {c.copy_id: c.original_id for c in store.copies(ids)}
    return [
        StoryArticle(
            a.id,
            a.title,
            a.text,
            a.url,
            a.site_name,
            a.published,
            a.language,
            copy_of.get(a.id) if copy_of.get(a.id) in ids else None,
        )
        for a in articles
        if a.id is not None
    ]


def _signature(articles: list[StoryArticle]) -> str:
    """What a brief was drawn from: a story whose articles did not change keeps its brief."""
    digest = hashlib.sha256(f"v{enrich_story.VERSION}\n".encode())
    for a in sorted(articles, key=lambda a: a.id):
        digest.update(f"{a.id}|{a.original_id}|{a.title}|{a.published}\n".encode())
        digest.update(hashlib.sha256(a.text.encode()).digest())
    return digest.hexdigest()


def _mentions(
    store: Store, articles: list[StoryArticle]
) -> tuple[dict[int, tuple[list[Mention], str | None]], dict[int, str]]:
    """Entity mentions of the articles: kept ones when their text is unchanged, the others
    found now (all in one spaCy batch) and kept; and why those read now could not be. An
    article with no text (a link and its headline) is not read: a headline alone names
    too little to be worth the model."""
    texts = {a.id: entity_text(a.title, a.text) for a in articles if a.text.strip()}
    hashes = {i: text_key(t) for i, t in texts.items()}
    kept = store.mentions(sorted(texts))
    found = {i: (m, skipped) for i, (h, m, skipped) in kept.items() if h == hashes[i]}
    missing = {
        i: (texts[i], a.language) for a in articles if (i := a.id) in texts and i not in found
    }
    if not missing:
        return found, {}
    new, skipped = find_mentions(missing)
    for article_id, reason in skipped.items():
        found[article_id] = ([], reason)
    for article_id, mentions in new.items():
        found[article_id] = (mentions, None)
    store.save_mentions([(i, hashes[i], found[i][0], found[i][1]) for i in sorted(missing)])
    return found, skipped


def text_key(text: str) -> str:
    """What kept mentions are keyed by: the text they were found in (`entity_text`)."""
    return hashlib.sha256(text.encode()).hexdigest()


def _entity_updates(
    store: Store, entities: list[Entity], articles: list[StoryArticle]
) -> list[EntityUpdate]:
    """The story's entities, each linked to the entities of other stories it is."""
    if not entities:
        return []
    keys = {e.name: lookup_keys(e) for e in entities}
    known = store.entity_candidates(k for found in keys.values() for k in found)
    as_entities = [Entity(k.name, k.kind, list(k.aliases), k.mentions) for k in known]  # type: ignore[arg-type]
    when = {a.id: a.published for a in articles}
    updates = []
    for found in link(entities, as_entities):
        mine = [entities[i] for i in found.new]
        dates = [d for e in mine for i in e.article_ids if (d := when.get(i)) is not None]
        whole = Entity(found.name, found.label, found.aliases, 0)
        updates.append(
            EntityUpdate(
                known=tuple(known[j].id for j in found.known),
                name=found.name,
                kind=found.label,
                aliases=tuple(found.aliases),
                keys=tuple(sorted(lookup_keys(whole))),
                story_name=mine[0].name,
                story_aliases=tuple(dict.fromkeys(a for e in mine for a in e.aliases)),
                mentions=sum(e.mentions for e in mine),
                articles=len(set().union(*(e.article_ids for e in mine))),
                first_seen=min(dates, default=None),
                last_seen=max(dates, default=None),
            )
        )
    return updates
