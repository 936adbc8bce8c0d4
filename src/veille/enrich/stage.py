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
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from veille.config import Settings
from veille.enrich import story as enrich_story
from veille.enrich.entities import (
    Entity,
    EntityModelMissing,
    Mention,
    find_mentions,
    link,
    load,
    lookup_keys,
)
from veille.enrich.story import StoryArticle, entity_text
from veille.model import EntityUpdate, Failure, Skip, StoryBrief
from veille.parallel import Workers
from veille.store import Store
from veille.summarize import llm_options_from_config, options_from_config

# Stories read and understood per round (their articles' mentions found in one batch).
ROUND = 200
# Entities are read in an article's first 20,000 characters (a long feature or a dump goes
# on for pages; the people and organisations it is about are named early).
NER_CHARACTERS = 20_000


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

    def note(problem: Failure | Skip) -> None:
        outcome.problems.append(problem)
        if record:
            record(problem)

    with Workers() as pool:
        return _rounds(store, summary, llm, pool, stop, outcome, note)


def _rounds(
    store: Store,
    summary: Any,
    llm: Any,
    pool: Workers,
    stop: threading.Event | None,
    outcome: UnderstandOutcome,
    note: Callable[[Failure | Skip], None],
) -> UnderstandOutcome:
    """Rounds of stories: read, understood over the cores, written as they come back."""
    failed: set[int] = set()
    reasons: set[str] = set()
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
        jobs, hashes = _jobs(store, wanted, summary, llm)
        for language in {lang for job in jobs for _, lang in job.missing.values()}:
            with suppress(EntityModelMissing):
                load(language)  # here, before the fork: the workers share it
        # Computed biggest first, so the workers finish together; written in story order
        # as soon as a story's turn comes, while the workers go on. Entities are linked to
        # those of the stories written before, so the order of writing is the order of
        # the stories, whatever the order of computing (which depends on the mentions
        # kept from an earlier reading): the same stories give the same entities.
        by_size = sorted(jobs, key=lambda job: -sum(len(t) for t, _ in job.missing.values()))
        turns = iter(sorted(job.story_id for job in jobs))
        turn = next(turns, None)
        ready: dict[int, tuple[_Job, _Done]] = {}
        for job, done in zip(by_size, pool.imap(_understand_story, by_size), strict=True):
            ready[job.story_id] = (job, done)
            while turn in ready:
                _write(store, *ready.pop(turn), hashes, failed, reasons, outcome, note)
                if stop is not None and stop.is_set():
                    outcome.stopped = True
                    return outcome
                turn = next(turns, None)


def _write(
    store: Store,
    job: _Job,
    d: _Done,
    hashes: dict[int, str],
    failed: set[int],
    reasons: set[str],
    outcome: UnderstandOutcome,
    note: Callable[[Failure | Skip], None],
) -> None:
    """One story's result written: the mentions found, then its brief and entities with
    its done mark in one transaction, or its failure recorded (tried again next run)."""
    store.save_mentions(
        [
            (i, hashes[i], d.found.get(i, []), d.skipped.get(i))
            for i in sorted(set(d.found) | set(d.skipped))
        ]
    )
    for article_id, reason in sorted(d.skipped.items()):
        if reason not in reasons:  # once per run and reason, not per article
            reasons.add(reason)
            note(Skip("understand", f"article:{article_id}", reason))
    try:
        if d.error is not None:
            raise _Failed(d.error)
        assert d.brief is not None
        updates = _entity_updates(store, d.entities, job.articles)
    except Exception as exc:  # one story's failure must not stop the others
        failed.add(job.story_id)
        reason = str(exc) if isinstance(exc, _Failed) else f"{type(exc).__name__}: {exc}"
        note(Failure("understand", f"story:{job.story_id}", "understand", reason))
        return
    with store.transaction():
        store.save_brief(d.brief, job.signature, enrich_story.VERSION)
        store.save_story_entities(job.story_id, updates)
        store.brief_done(job.story_id)
    outcome.understood += 1


class _Failed(Exception):
    """A story's understanding failed in a worker; the message says how."""


@dataclass(frozen=True)
class _Job:
    """One story to understand, with everything a worker needs."""

    story_id: int
    signature: str
    articles: list[StoryArticle]
    kept: dict[int, tuple[list[Mention], str | None]]  # mentions found before
    missing: dict[int, tuple[str, str | None]]  # texts to read: (text, language)
    summary: Any
    llm: Any


@dataclass(frozen=True)
class _Done:
    found: dict[int, list[Mention]]  # mentions found now
    skipped: dict[int, str]  # why a text could not be read
    brief: StoryBrief | None = None
    entities: list[Entity] = field(default_factory=list)
    error: str | None = None


def _jobs(
    store: Store, story_ids: list[int], summary: Any, llm: Any
) -> tuple[list[_Job], dict[int, str]]:
    """The stories whose articles changed since their brief, with the mentions kept for
    texts read before; a story whose articles did not change is marked done here. Also
    the hash of each text read, to keep its mentions under."""
    jobs = []
    hashes: dict[int, str] = {}
    for story_id in story_ids:
        articles = _story_articles(store, story_id)
        signature = _signature(articles)
        if not articles or store.brief_signature(story_id) == signature:
            store.brief_done(story_id)  # its articles did not change
            continue
        # An article with no text (a link and its headline) is not read: a headline alone
        # names too little to be worth the model.
        texts = {a.id: entity_text(a.title, a.text) for a in articles if a.text.strip()}
        mine = {i: text_key(t) for i, t in texts.items()}
        kept = {
            i: (m, skipped)
            for i, (h, m, skipped) in store.mentions(sorted(texts)).items()
            if h == mine[i]
        }
        languages = {a.id: a.language for a in articles}
        missing = {i: (t[:NER_CHARACTERS], languages[i]) for i, t in texts.items() if i not in kept}
        hashes.update(mine)
        jobs.append(_Job(story_id, signature, articles, kept, missing, summary, llm))
    return jobs, hashes


def _understand_story(job: _Job) -> _Done:
    """A story's entities, key facts, disagreements and summary (in a worker process:
    failures come back as values)."""
    try:
        new, skipped = find_mentions(job.missing) if job.missing else ({}, {})
    except Exception as exc:
        return _Done({}, {}, error=f"{type(exc).__name__}: {exc}")
    try:
        mentions = {i: m for i, (m, _) in job.kept.items()} | new
        reasons = {i: r for i, (_, r) in job.kept.items() if r} | skipped
        understood = enrich_story.understand(job.articles, mentions, job.summary, job.llm)
        brief = replace(
            enrich_story.brief(job.story_id, understood, job.articles),
            skipped=tuple((a.id, reasons[a.id]) for a in job.articles if a.id in reasons),
        )
    except Exception as exc:  # one story's failure must not stop the others
        return _Done(new, skipped, error=f"{type(exc).__name__}: {exc}")
    return _Done(new, skipped, brief, understood.entities)


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
