"""Stories in the store: membership, counts, merges, related stories, copies."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import text

from tests.helpers import stored_article
from veille.model import Copy, EntityUpdate
from veille.store import Grouping, StoryView


def _article(store, n: int, site: str, day: int) -> int:
    return stored_article(store, n, site, datetime(2026, 2, day, 9))


def test_stories_count_articles_sites_and_span(store):
    a, b, c = (
        _article(store, 1, "un.fr", 3),
        _article(store, 2, "deux.fr", 4),
        _article(store, 3, "un.fr", 5),
    )
    live = store.apply_grouping(Grouping({a: a, b: a, c: a}, views={a: StoryView(b)}))
    assert live == {a}
    story = store.story(a)
    assert (story.article_count, story.source_count) == (3, 2)
    assert (story.first_seen.day, story.last_seen.day) == (3, 5)
    assert (story.title, story.representative_id) == ("Titre 2", b)
    assert [s.id for s in store.stories(day=datetime(2026, 2, 4).date())] == [a]
    assert store.stories(day=datetime(2026, 2, 6).date()) == []


def test_a_story_left_empty_is_marked_merged_into_where_its_articles_went(store):
    a, b = _article(store, 1, "un.fr", 3), _article(store, 2, "deux.fr", 3)
    store.apply_grouping(
        Grouping({a: a, b: b}, views={a: StoryView(a, ((b, 0.4),)), b: StoryView(b)})
    )
    live = store.apply_grouping(Grouping({a: a, b: a}, views={a: StoryView(a)}))
    assert live == {a}
    assert store.story_of(b) == a
    assert [s.id for s in store.stories()] == [a]
    assert store.story(b).merged_into == a
    assert store.related(a) == []
    # The same story built again from its articles (after a rewind) is live again.
    store.apply_grouping(Grouping({b: b}, views={b: StoryView(b)}))
    assert store.story(b).merged_into is None and store.story(b).article_count == 1


def test_related_stories_are_seen_from_both_sides(store):
    a, b = _article(store, 1, "un.fr", 3), _article(store, 2, "deux.fr", 3)
    store.apply_grouping(
        Grouping({a: a, b: b}, views={a: StoryView(a, ((b, 0.35),)), b: StoryView(b)})
    )
    assert [(s.id, score) for s, score in store.related(b)] == [(a, 0.35)]


def test_copies_are_replaced_and_state_kept(store):
    a, b = _article(store, 1, "un.fr", 3), _article(store, 2, "deux.fr", 3)
    store.apply_grouping(Grouping({a: a, b: a}, copies=(Copy(b, a, 0.93, "near-duplicate"),)))
    store.apply_grouping(Grouping({}, copies=(Copy(b, a, 0.95, "near-duplicate"),)))
    assert store.copies([a]) == [Copy(b, a, 0.95, "near-duplicate")]
    store.apply_grouping(Grouping({}, recopied=(b,)))  # placed again: no longer a copy
    assert store.copies([a]) == []
    assert store.load_state("x") is None
    store.save_state("x", b"1")
    store.save_state("x", b"2")
    assert store.load_state("x") == b"2"


def test_a_transaction_commits_all_or_nothing(store):
    a = _article(store, 1, "un.fr", 3)
    try:
        with store.transaction():
            store.apply_grouping(Grouping({a: a}, views={a: StoryView(a)}))
            _article(store, 2, "deux.fr", 3)
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert store.story(a) is None
    assert store.article("https://deux.fr/a2") is None


def test_entity_totals_moved_by_each_story_equal_a_recount(store):
    """Stories understood again, entities dropped, merged, stories forgotten: the totals
    kept by deltas are those a recount over every story gives."""
    rng = random.Random(4)
    names = ["Elon Musk", "Pavel Durov", "Europol", "Paris", "Linda Yaccarino"]

    def update(name: str, known: tuple[int, ...] = ()) -> EntityUpdate:
        n = rng.randint(1, 9)
        return EntityUpdate(
            known=known,
            name=name,
            kind="PER",
            aliases=(name,),
            keys=(name.lower(),),
            story_name=name,
            story_aliases=(name,),
            mentions=n,
            articles=1,
            first_seen=datetime(2026, 2, rng.randint(1, 9)),
            last_seen=datetime(2026, 2, rng.randint(10, 20)),
        )

    for _ in range(40):
        story = rng.randint(1, 6)
        if rng.random() < 0.15:
            with store.transaction() as conn:
                store.forget_understanding(conn, story)
            continue
        known = {e.name: e.id for e in store.entities(limit=100)}
        chosen = rng.sample(names, rng.randint(0, 4))
        updates = [update(n, (known[n],) if n in known else ()) for n in chosen]
        if len(known) >= 2 and rng.random() < 0.2:  # two known entities turn out one
            a, b = rng.sample(sorted(known), 2)
            updates.append(update(a, (known[a], known[b])))
        store.save_story_entities(story, updates)
    with store.engine.connect() as conn:
        recount = {
            row[0]: (row[1], row[2])
            for row in conn.execute(
                text(
                    "SELECT entity_id, count(*), sum(mentions) FROM story_entities "
                    "GROUP BY entity_id"
                )
            )
        }
    kept = {e.id: (e.stories, e.mentions) for e in store.entities(limit=100)}
    assert kept == recount
