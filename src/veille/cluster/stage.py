"""The grouping stage: fold syndicated copies onto their original and place articles in
stories, over the store's queue of articles to group.

Stories are built in one order whatever order articles arrive in: publication time, then
a hash of the canonical URL (`model.order_key`). Articles are placed in that order; when a
day ends, its articles settle into the stories closest to them and a checkpoint of the
state is kept. An article that arrives behind the last one placed (yesterday's page found
today, a month of archive backfilled) rewinds the state to the checkpoint of its day and
the articles from there are placed again, so the stories equal those of a run that had
every article from the start, in order.

Every chunk of work is committed with its done marks: the articles' stories, copy links,
the stories' rows and the state after the chunk's last article, and the articles leave
the queue, in one transaction. A crash or a kill at any moment leaves the store as it was
before the chunk; the next run takes the queue up again. The last day's articles settle at
the end of every run, provisionally: the state saved is the one before that settle, and
the next run settles them again with whatever arrived since.
"""

from __future__ import annotations

import json
import struct
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from veille.cluster.online import StoryChange, StoryClusterer
from veille.cluster.vectors import ClusterDoc
from veille.dedup import NearDuplicateIndex
from veille.encoder import article_text, vector_key
from veille.encoder import load as load_encoder
from veille.model import Article, Copy
from veille.parallel import map_processes
from veille.store import Grouping, Store, StoryView
from veille.store.grouping import GROUP_STATE

# Articles placed per committed chunk: seconds of work, so a stop is quick and a crash
# loses little.
CHUNK = 500
# Texts per batch handed to the dense encoder in a worker.
_ENCODE_SLICE = 32
# Syndicated copies appear within days: older signatures are dropped at each day's end.
COPY_WINDOW = timedelta(days=7)
_MAGIC = b"VGRP"
_HEAD = struct.Struct("<4sBII")  # magic, version, header length, dedup index length
_VERSION = 1


@dataclass
class GroupOutcome:
    copies: int = 0  # copy links found
    stories: set[int] = field(default_factory=set)  # live stories created or changed
    rewound_to: str | None = None  # the day grouping started again from, if it did
    stopped: bool = False  # asked to stop before the queue was empty


@dataclass
class _State:
    """Everything grouping needs to continue: the copy index, the clusterer, the key of
    the last article placed, and whether the store holds the last day settled."""

    copies: NearDuplicateIndex
    clusterer: StoryClusterer
    key: str | None = None
    settled: bool = True
    pending: list[Copy] = field(default_factory=list)  # copy links not yet written

    def __post_init__(self) -> None:
        self.clusterer.tracking = True

    @classmethod
    def fresh(cls) -> _State:
        return cls(NearDuplicateIndex(), StoryClusterer())

    def to_bytes(self, settled: bool | None = None) -> bytes:
        header = json.dumps(
            {"key": self.key, "settled": self.settled if settled is None else settled}
        ).encode()
        copies = self.copies.to_bytes()
        head = _HEAD.pack(_MAGIC, _VERSION, len(header), len(copies))
        return head + header + copies + self.clusterer.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> _State:
        magic, version, n_header, n_copies = _HEAD.unpack_from(data)
        if magic != _MAGIC or version != _VERSION:
            raise ValueError("not a veille grouping state")
        at = _HEAD.size
        header = json.loads(data[at : at + n_header])
        at += n_header
        copies = NearDuplicateIndex.from_bytes(data[at : at + n_copies])
        clusterer = StoryClusterer.from_bytes(data[at + n_copies :])
        return cls(copies, clusterer, header["key"], header["settled"])


def group(store: Store, stop: threading.Event | None = None) -> GroupOutcome:
    """Place every queued article; returns what changed. Resumable at any point."""
    outcome = GroupOutcome()
    saved = store.load_state(GROUP_STATE)
    state = _State.from_bytes(saved) if saved else _State.fresh()
    start = store.queue_start()
    if start is not None and state.key is not None and start <= state.key:
        state = _rewind(store, start[:10], outcome)
    elif not state.settled:
        # The store holds the last day as settled by an earlier run: its articles are
        # written again once they settle with what arrives now.
        state.clusterer.touch(state.clusterer.unsettled)
    wanted = _Checkpoints(store.queue_end())
    while start is not None:
        if stop is not None and stop.is_set():
            outcome.stopped = True
            return outcome
        batch = store.queued(CHUNK)
        if not batch:
            break
        checkpoints = []
        dense = _encode(store, state.clusterer, [article for _, article in batch])
        for key, article in batch:
            if stop is not None and stop.is_set():
                # Nothing of this chunk is written: the next run places it again.
                outcome.stopped = True
                return outcome
            if state.key is not None and key[:10] > state.key[:10]:
                _end_day(state, key[:10])
                if wanted(key[:10]):
                    checkpoints.append((key[:10], state.to_bytes(settled=True)))
            outcome.copies += _place(store, state, article, dense.get(article.id))
            state.key = key
        state.settled = False
        changes = state.clusterer.take_changes()
        done = [article.id for _, article in batch if article.id is not None]
        with store.transaction():
            for day, data in checkpoints:
                store.save_checkpoint(day, data)
            outcome.stories |= store.apply_grouping(_grouping(changes, state.pending, done))
            store.dequeue(done)
            store.save_state(GROUP_STATE, state.to_bytes())
        state.pending.clear()
    if not state.settled:
        _settle_last_day(store, state, outcome)
    return outcome


class _Checkpoints:
    """Which day starts get a checkpoint: those `grouping.thin` would keep once the queue is
    done (every day of the last four weeks before its newest article, the first day of each
    week for a year, of each month before), so a long replay does not serialise the state
    at every day only to drop most of them."""

    def __init__(self, newest: str | None) -> None:
        self.recent = (date.fromisoformat(newest[:10]) - timedelta(days=28)) if newest else None
        self.weeks: set[tuple[int, int]] = set()
        self.months: set[tuple[int, int]] = set()

    def __call__(self, day: str) -> bool:
        when = date.fromisoformat(day)
        if self.recent is None or when > self.recent:
            return True
        week, month = tuple(when.isocalendar())[:2], (when.year, when.month)
        if when > self.recent - timedelta(days=365 - 28):
            new = week not in self.weeks
        else:
            new = month not in self.months
        self.weeks.add(week)
        self.months.add(month)
        return new


def _rewind(store: Store, day: str, outcome: GroupOutcome) -> _State:
    """Back to the checkpoint at the start of `day` (or the nearest before it), every
    article from there queued again."""
    found = store.checkpoint(day)
    state = _State.from_bytes(found[1]) if found else _State.fresh()
    with store.transaction():
        store.rewind(found[0] if found else None)
        store.save_state(GROUP_STATE, state.to_bytes())
    outcome.rewound_to = found[0] if found else ""
    return state


def _end_day(state: _State, next_day: str) -> None:
    """The articles of the day just ended settle for good; old copy signatures go."""
    state.clusterer.settle()
    state.copies.prune(datetime.fromisoformat(next_day) - COPY_WINDOW)


def _settle_last_day(store: Store, state: _State, outcome: GroupOutcome) -> None:
    """Settle the last day's articles for the store; the state kept is the one before, so
    the next run settles them again with what arrives then."""
    before = state.to_bytes(settled=True)
    state.clusterer.touch(state.clusterer.unsettled)
    state.clusterer.settle()
    changes = state.clusterer.take_changes()
    with store.transaction():
        outcome.stories |= store.apply_grouping(_grouping(changes, [], []))
        store.save_state(GROUP_STATE, before)
    state.settled = True


def _encode(store: Store, clusterer: StoryClusterer, articles: list[Article]) -> dict[int, Any]:
    """The chunk's dense vectors: those kept with the queue for the same encoder and text
    (computed by `veille reprocess`'s executors), the others encoded over the cores in
    batches (the clusterer would encode one article at a time); empty without an
    encoder."""
    encoder = clusterer.dense_encoder()
    if encoder is None:
        return {}
    kept = store.queued_vectors([a.id for a in articles if a.id is not None])
    found: dict[int, Any] = {}
    missing: list[tuple[int, str]] = []
    for article in articles:
        if article.id is None:
            continue
        text = article_text(article.title, article.text)
        key, vector = kept.get(article.id, (None, None))
        if vector is not None and key == vector_key(encoder, text):
            found[article.id] = np.frombuffer(vector, dtype="<f4")
        else:
            missing.append((article.id, text))
    texts = [text for _, text in missing]
    slices = [texts[i : i + _ENCODE_SLICE] for i in range(0, len(texts), _ENCODE_SLICE)]
    rows = [row for part in map_processes(_encode_slice, slices) for row in part]
    found.update((article_id, row) for (article_id, _), row in zip(missing, rows, strict=True))
    return found


def _encode_slice(texts: list[str]) -> Any:
    # The encoder loaded in the main process (cached), shared by the forked workers; loaded
    # once per process on a cluster's executors.
    encoder = load_encoder()
    assert encoder is not None
    return encoder.encode(texts)


def _place(store: Store, state: _State, article: Article, dense: Any = None) -> int:
    """Place one article: with the article it copies, if any, else where the clusterer
    says. Returns the number of copy links found."""
    assert article.id is not None
    match = state.copies.add(
        article.id,
        article.text,
        title=article.title,
        site=article.site_name,
        when=article.published,
    )
    into = copy_of = None
    found = 0
    if match is not None and match.original != article.id:
        links = [Copy(article.id, match.original, match.similarity, match.reason)]
        # Earlier groups this text shows to be the same dispatch point at one original.
        links += [
            Copy(other, match.original, match.similarity, match.reason)
            for other in match.merged
            if other != match.original
        ]
        state.pending.extend(links)
        found = 1
        copy_of = match.original
        into = state.clusterer.story_of(copy_of) or store.story_of(copy_of)
    state.clusterer.add(
        ClusterDoc(
            article.id,
            article.title,
            article.text,
            article.published,
            article.site_name,
            article.language,
            dense=dense,
        ),
        into=into,
        copy_of=copy_of,
    )
    return found


def _grouping(changes: dict[int, StoryChange], copies: list[Copy], done: list[int]) -> Grouping:
    placed = {m: sid for sid, change in changes.items() for m in change.members}
    views = {
        sid: StoryView(change.representative, change.related) for sid, change in changes.items()
    }
    return Grouping(placed=placed, recopied=tuple(done), copies=tuple(copies), views=views)
