"""The seed day grouped: one story per event, copies folded, state carried to the next day."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.conftest import shared_path
from veille.config import Settings
from veille.pipeline import ingest
from veille.store import Store


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('stories') / 'veille.db'}")
    report = ingest([shared_path("fixtures", "seed-day", "pages")], store, Settings())
    yield store, report
    store.close()


def _story_by_url(store: Store) -> dict[str, int]:
    return {a.canonical_url: store.story_of(a.id) for a in store.articles()}


def test_each_truth_story_is_one_story(grouped, seed_day_truth):
    store, _ = grouped
    placed = _story_by_url(store)
    expected: dict[str, set[int]] = defaultdict(set)
    for article in seed_day_truth["articles"]:
        expected[article["story"]].add(placed[article["url"]])
    assert all(len(ids) == 1 for ids in expected.values()), expected
    assert len({next(iter(ids)) for ids in expected.values()}) == len(expected)


def test_syndicated_copies_are_folded(grouped, seed_day_truth):
    store, report = grouped
    by_url = {a.canonical_url: a.id for a in store.articles()}
    pairs = {
        (by_url[a["url"]], by_url[a["duplicate_of"]])
        for a in seed_day_truth["articles"]
        if a["duplicate_of"]
    }
    links = {(c.copy_id, c.original_id) for c in store.copies(list(by_url.values()))}
    assert links == pairs
    assert report.copies == len(pairs)


def test_the_eu_grok_story_is_related_to_the_x_search(grouped, seed_day_truth):
    store, _ = grouped
    placed = _story_by_url(store)
    story_of = {a["story"]: placed[a["url"]] for a in seed_day_truth["articles"]}
    related = {s.id for s, _ in store.related(story_of["eu-dsa-grok-2026-01-26"])}
    assert story_of["x-paris-raid-2026-02-03"] in related


def test_story_fields(grouped, seed_day_truth):
    store, _ = grouped
    placed = _story_by_url(store)
    raid = [a for a in seed_day_truth["articles"] if a["story"] == "x-paris-raid-2026-02-03"]
    story = store.story(placed[raid[0]["url"]])
    assert story.article_count == len(raid)
    assert story.source_count == len({a["site"] for a in raid})
    assert story.title in {a["canonical_title"] for a in raid}
    assert story.first_seen.date().isoformat() == "2026-02-03"
    assert story.last_seen.date().isoformat() == "2026-02-04"


def test_same_input_again_changes_no_story(grouped):
    store, _ = grouped
    before = (_story_by_url(store), store.counts())
    ingest([shared_path("fixtures", "seed-day", "pages")], store, Settings())
    assert (_story_by_url(store), store.counts()) == before


def test_the_next_day_continues_the_stories(grouped, seed_day_truth):
    store, _ = grouped
    placed = _story_by_url(store)
    raid = next(
        placed[a["url"]]
        for a in seed_day_truth["articles"]
        if a["story"] == "x-paris-raid-2026-02-03"
    )
    report = ingest([shared_path("seeds")], store, Settings())
    assert report.new == 4
    seeds = {
        a.raw_ref.rsplit("/", 1)[-1]: store.story_of(a.id)
        for a in store.articles()
        if a.raw_ref.endswith(".txt")
    }
    # The stitched dump, the crypto-news page and the search article: the X search story.
    for name in (
        "000_35af0aaea70cb712.txt",
        "001_9b88f42ffd81dded.txt",
        "002_c54f3124094cf66a.txt",
    ):
        assert seeds[name] == raid, name
