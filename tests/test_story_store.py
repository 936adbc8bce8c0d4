"""Stories in the store: membership, counts, merges, related stories, copies."""

from __future__ import annotations

from datetime import datetime

from veille.extract import content_hash
from veille.model import Article, Copy


def _article(store, n: int, site: str, day: int) -> int:
    text = f"Texte numéro {n} sur un sujet."
    _, article_id = store.save_article(
        Article(
            url=f"https://{site}/a{n}",
            canonical_url=f"https://{site}/a{n}",
            title=f"Titre {n}",
            text=text,
            content_hash=content_hash(text),
            raw_ref="test",
            source="test",
            published=datetime(2026, 2, day, 9),
            site_name=site,
        )
    )
    return article_id


def test_stories_count_articles_sites_and_span(store):
    a, b, c = (
        _article(store, 1, "un.fr", 3),
        _article(store, 2, "deux.fr", 4),
        _article(store, 3, "un.fr", 5),
    )
    for article in (a, b, c):
        store.assign(article, 7)
    store.refresh_story(7, "Titre 1", a)
    story = store.story(7)
    assert (story.article_count, story.source_count) == (3, 2)
    assert (story.first_seen.day, story.last_seen.day) == (3, 5)
    assert [s.id for s in store.stories(day=datetime(2026, 2, 4).date())] == [7]
    assert store.stories(day=datetime(2026, 2, 6).date()) == []


def test_merging_moves_the_articles_and_hides_the_absorbed_story(store):
    a, b = _article(store, 1, "un.fr", 3), _article(store, 2, "deux.fr", 3)
    store.assign(a, 1)
    store.assign(b, 2)
    store.set_related(1, [(2, 0.4)])
    store.merge_stories(absorbed=2, kept=1)
    store.refresh_story(1, "Titre 1", a)
    assert store.story_of(b) == 1
    assert [s.id for s in store.stories()] == [1]
    assert store.story(2).merged_into == 1
    assert store.related(1) == []


def test_related_stories_are_seen_from_both_sides(store):
    a, b = _article(store, 1, "un.fr", 3), _article(store, 2, "deux.fr", 3)
    store.assign(a, 1)
    store.assign(b, 2)
    for story, article in ((1, a), (2, b)):
        store.refresh_story(story, f"Titre {article}", article)
    store.set_related(1, [(2, 0.35)])
    assert [(s.id, score) for s, score in store.related(2)] == [(1, 0.35)]


def test_copies_and_state(store):
    a, b = _article(store, 1, "un.fr", 3), _article(store, 2, "deux.fr", 3)
    store.link_copy(Copy(b, a, 0.93, "near-duplicate"))
    store.link_copy(Copy(b, a, 0.95, "near-duplicate"))  # idempotent
    assert store.copies([a]) == [Copy(b, a, 0.95, "near-duplicate")]
    assert store.load_state("x") is None
    store.save_state("x", b"1")
    store.save_state("x", b"2")
    assert store.load_state("x") == b"2"
