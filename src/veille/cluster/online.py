"""Online story clustering: each article joins the best live story or starts a new one.

A story is the sum of its articles' unit tf-idf vectors (its centroid). An inverted index
term -> stories finds the stories sharing a term with a new article; the most similar by
centroid cosine are scored by the learned model (`model.py`) and the article joins the best
one if its score clears 0. Stories quiet for longer than the window take no new article,
and are forgotten after `keep_days` (until then they can still be "related").

A story's id is the id of the article that started it. The clusterer notes the stories
whose articles changed (`take_changes`), with what the store needs of each, also when a
story is forgotten before the caller asked.

State is plain data (`state_to_bytes` / `from_bytes`), so tomorrow's run continues today's
stories; adding an article already placed returns its story and changes nothing.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from operator import attrgetter

import numpy as np
import orjson
import zstandard

from veille import encoder as encoders
from veille.cluster import model
from veille.cluster.dense import DenseIndex, pack, unpack
from veille.cluster.vectors import (
    ClusterDoc,
    DocFreq,
    Vector,
    Weighting,
    doc_terms,
    dot,
    tfidf,
)
from veille.when import epoch_seconds

DAY = 86400.0
_NORM2 = attrgetter("norm2")
STATE_VERSION = 3


@dataclass(frozen=True)
class ClusterSettings:
    weighting: Weighting = field(default_factory=Weighting)
    window_days: float = 4.0  # a story quiet for longer takes no new article ...
    keep_days: float = 14.0  # ... and is forgotten after this long
    max_postings: int = 100  # terms in more stories than this do not find candidates
    shortlist: int = 8  # candidates scored by the model: the best by centroid cosine
    probe_terms: int = 20  # a doc's heaviest terms through which candidates are found
    exact: int = 12  # stories, the best by partial cosine, whose exact cosine is computed
    # Two stories whose centroids come this close become one (rare with headlines: on dev,
    # merging at 0.3-0.5 changed nothing and below 0.25 it joined distinct events).
    merge_threshold: float = 0.5
    # A story of at most this many articles, which came too early to join a story that has
    # grown close to them since, joins it then (dev: +0.006 F1; 2-3 no better than 1).
    late_join: int = 1
    related_min: float = 0.1  # centroid cosine from which another story is "related"
    # `settle`: an article moves to another story whose centroid is closer to it than its
    # own (without it) and at least this close. Headlines, gnews-fr dev BCubed F1 (plain /
    # with 600 distractors): none 0.865/0.840; 0.15 0.897/0.839; 0.175 0.891/0.843;
    # 0.2 0.882/0.846; 0.25 0.868/0.849. Articles with a body use `text_threshold`.
    settle_min: float = 0.175
    settle_passes: int = 10
    # Model (defaults: the learned constants of model.py).
    features: tuple[str, ...] = model.FEATURES
    weights: tuple[float, ...] = model.WEIGHTS
    bias: float = model.BIAS
    sparse_bias: float = model.SPARSE_BIAS  # headlines without a dense vector: cosine alone
    text_threshold: float = model.TEXT_THRESHOLD
    # Dense vectors (`veille.encoder`): the default encoder when installed, else none.
    dense: bool = True
    # An article in a language none of a story's articles is in joins it when its dense
    # vector is this close to the story's (model.py: SemEval-2022 task 8 dev).
    cross_threshold: float = model.CROSS_THRESHOLD
    # An article with a body joins a story in its language only if their dense vectors
    # are at least this close as well (model.py).
    dense_floor: float = model.DENSE_FLOOR
    dense_candidates: int = 4  # stories found by dense cosine besides the sparse shortlist


@dataclass(frozen=True)
class StorySummary:
    id: int
    title: str  # the representative article's headline
    representative: int  # the article closest to the centroid
    first_seen: datetime | None
    last_seen: datetime | None
    count: int
    sites: tuple[str, ...]  # distinct, by number of articles
    article_ids: tuple[int, ...]


@dataclass(frozen=True)
class Candidate:
    story: int
    cosine: float
    features: dict[str, float]
    score: float


@dataclass(frozen=True)
class StoryChange:
    """A story whose articles changed: all its articles now, its most representative one
    and the stories related to it."""

    members: tuple[int, ...]
    representative: int
    related: tuple[tuple[int, float], ...]


@dataclass
class _Doc:
    id: int
    title: str
    vector: Vector
    seen: float | None  # publication time, or the stream's clock when it came without one
    site: str | None
    names: list[str]
    numbers: list[str]
    has_text: bool
    anchor: int | None = None  # placed with this article (a copy with its original)
    language: str | None = None
    dense: str | None = None  # its encoder vector, packed (`cluster.dense.pack`)


_DOC_FIELDS = tuple(f.name for f in fields(_Doc))
_ZSTD_FRAME = b"\x28\xb5\x2f\xfd"  # what a zstd frame starts with (RFC 8878)


@dataclass
class _Story:
    id: int
    centroid: dict[str, float] = field(default_factory=dict)  # sum of member unit vectors
    norm2: float = 0.0
    members: list[int] = field(default_factory=list)
    names: Counter[str] = field(default_factory=Counter)
    numbers: Counter[str] = field(default_factory=Counter)
    first_seen: float | None = None
    last_seen: float | None = None
    resting: bool = False  # out of the window: no longer in the index, still "related"
    dense: np.ndarray | None = None  # sum of its members' dense vectors
    languages: Counter[str] = field(default_factory=Counter)


def _timestamp(when: datetime | None) -> float | None:
    return None if when is None else epoch_seconds(when)  # naive dates are taken as UTC


def _datetime(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class StoryClusterer:
    def __init__(
        self, settings: ClusterSettings | None = None, encoder: encoders.Encoder | None = None
    ) -> None:
        self.settings = settings or ClusterSettings()
        # Dense vectors: the encoder given, else the default one when `settings.dense`.
        self.encoder = encoder if encoder is not None or not self.settings.dense else None
        self._default_encoder = encoder is None and self.settings.dense
        self.dense_index = DenseIndex()  # live stories' dense centroids
        self.df = DocFreq()
        self.docs: dict[int, _Doc] = {}
        self.doc_story: dict[int, int] = {}
        self.stories: dict[int, _Story] = {}
        # term -> {live story: the term's weight in its centroid}: candidates and their
        # partial cosines come from here without touching the stories.
        self.postings: dict[str, dict[int, float]] = {}
        # The same for resting stories (their centroids no longer change): for `related`.
        self.rest_postings: dict[str, dict[int, float]] = {}
        self.clock: float | None = None  # latest publication time seen
        self._swept: float | None = None
        # (absorbed, kept) in order, for the store to follow; the caller may clear it.
        self.merges: list[tuple[int, int]] = []
        # (article, from story, to story) moved by `settle`, for the store to follow.
        self.moves: list[tuple[int, int, int]] = []
        self._followers: dict[int, list[int]] = {}  # anchor -> articles placed with it
        self._unsettled: list[int] = []  # placed since the last `settle`
        self._merged_into: dict[int, int] = {}
        # For a caller that follows the stories (`take_changes`): what changed since it
        # last asked, and what of it was forgotten since. Off by default: a story forgotten
        # while changed costs its `related` then.
        self.tracking = False
        self._changed: set[int] = set()
        self._closed: dict[int, StoryChange] = {}

    # -- the stream -------------------------------------------------------------------------

    def add(self, doc: ClusterDoc, into: int | None = None, copy_of: int | None = None) -> int:
        """Place `doc` and return its story id.

        `copy_of`, an article the clusterer holds, puts `doc` in its story whatever the model
        says, tied to it: a syndicated copy goes where its original goes, also when the
        story settles. `into` puts it in that story (when the original is no longer held),
        unless that story is no longer remembered. A doc already placed keeps its story and
        changes nothing (as long as its story is remembered: `keep_days`; older articles are
        the store's to look up)."""
        if doc.id in self.doc_story:
            return self.doc_story[doc.id]
        state = self.prepare(doc)
        if copy_of is not None and copy_of in self.docs:
            anchor = self.docs[copy_of].anchor or copy_of
            state.anchor = anchor
            self._followers.setdefault(anchor, []).append(doc.id)
            self._join(state, self.doc_story[anchor])
        elif into is not None and self.resolve(into) in self.stories:
            self._join(state, self.resolve(into))
        else:
            found = self.candidates(state)
            best = self.decide(found)
            story = self._join(state, best.story if best else None)
            if best is not None:
                self._merge_converging(story, found)
        self._sweep()
        return self.doc_story[doc.id]

    def place(self, doc: ClusterDoc, story: int | None) -> int:
        """Put `doc` into `story` (None: a new one) whatever the model says: a correction,
        or a teacher's choice when learning."""
        if doc.id in self.doc_story:
            return self.doc_story[doc.id]
        return self._join(self.prepare(doc), story).id

    def prepare(self, doc: ClusterDoc) -> _Doc:
        """The doc's vector, weighed with past documents' IDF; then counts it in."""
        found = doc_terms(doc, self.settings.weighting)
        vector = tfidf(found.weights, self.df, self.settings.weighting.top_k)
        self.df.add(found.weights)
        seen = _timestamp(doc.published)
        if seen is not None and (self.clock is None or seen > self.clock):
            self.clock = seen
        dense = doc.dense
        if dense is None and (encoder := self._encoder()) is not None:
            dense = encoder.encode([encoders.article_text(doc.title, doc.text)])[0]
        return _Doc(
            id=doc.id,
            title=doc.title,
            vector=vector,
            seen=seen if seen is not None else self.clock,
            site=doc.site,
            names=sorted(found.names),
            numbers=sorted(found.numbers),
            has_text=bool(doc.text.strip()),
            language=(doc.language or "")[:2].lower() or None,
            dense=pack(dense) if dense is not None else None,
        )

    def dense_encoder(self) -> encoders.Encoder | None:
        """The dense encoder this clusterer uses (None: words alone)."""
        return self._encoder()

    def _encoder(self) -> encoders.Encoder | None:
        if self._default_encoder:  # loaded on first use: a headline-only caller may not
            self.encoder, self._default_encoder = encoders.load(), False
        return self.encoder

    def _live(self, story: _Story, when: float | None) -> bool:
        if when is None or story.last_seen is None or story.first_seen is None:
            return True  # undated: the same day
        gap = max(story.first_seen - when, when - story.last_seen, 0.0)
        return gap <= self.settings.window_days * DAY

    def closest(self, doc: _Doc) -> list[tuple[float, int]]:
        """(centroid cosine, story id) of the live stories closest to `doc`, best first."""
        s = self.settings
        stories = self.stories
        # Stories are found through the doc's selective terms: one in hundreds of stories
        # (a country, a common stem, a 4-letter piece) finds nothing a rarer one would miss
        # but costs most of the time. Partial cosines over those terms pick the few stories
        # whose exact cosine, over all terms, is computed.
        postings = [(t, p) for t in doc.vector if (p := self.postings.get(t))]
        selective = [(t, p) for t, p in postings if len(p) <= s.max_postings]
        if not selective and postings:
            selective = [min(postings, key=lambda tp: len(tp[1]))]
        if len(selective) > s.probe_terms:  # a long article: its heaviest terms find enough
            selective = sorted(selective, key=lambda tp: -doc.vector[tp[0]])[: s.probe_terms]
        partial: dict[int, float] = {}
        get = partial.get
        for term, posting in selective:
            weight = doc.vector[term]
            for sid, value in posting.items():
                partial[sid] = get(sid, 0.0) + weight * value
        wanted = s.exact
        ranked = self._rank(partial, 2 * wanted)
        # Nearly all candidates are live: the top few suffice, the full sort rarely runs.
        if (
            len(partial) > 2 * wanted
            and sum(self._live(stories[sid], doc.seen) for _, sid in ranked) < wanted
        ):
            ranked = self._rank(partial, len(partial))
        cosines = []
        for _, sid in ranked:
            story = stories[sid]
            if self._live(story, doc.seen):
                cosines.append((dot(doc.vector, story.centroid) / math.sqrt(story.norm2), -sid))
                if len(cosines) == wanted:
                    break
        cosines.sort(reverse=True)  # ties: the older story first, so runs are reproducible
        return [(cos, -neg) for cos, neg in cosines[: s.shortlist]]

    def _rank(self, partial: dict[int, float], k: int) -> list[tuple[float, int]]:
        """The `k` best (partial cosine, story) pairs, best first (ties: the newer story)."""
        sids = np.fromiter(partial, dtype=np.int64, count=len(partial))
        dots = np.fromiter(partial.values(), dtype=np.float64, count=len(partial))
        norms = np.fromiter(
            map(_NORM2, map(self.stories.__getitem__, partial)),
            dtype=np.float64,
            count=len(partial),
        )
        cosines = dots / np.sqrt(norms)
        if k < len(cosines):
            top = np.argpartition(-cosines, k)[:k]
            sids, cosines = sids[top], cosines[top]
        order = np.lexsort((-sids, -cosines))
        return list(zip(cosines[order].tolist(), sids[order].tolist(), strict=True))

    def candidates(self, doc: _Doc, every_feature: bool = False) -> list[Candidate]:
        """The closest live stories, scored by the model (`every_feature`: with all the
        features the model could use, for learning)."""
        short = self.closest(doc)
        vector = unpack(doc.dense) if doc.dense is not None else None
        if vector is not None:
            # Stories close in meaning but sharing no selective word: another language.
            shown = {sid for _, sid in short}
            for _, sid in self.dense_index.top(
                vector, self.settings.dense_candidates, self.settings.cross_threshold
            ):
                story = self.stories[sid]
                if sid not in shown and story.norm2 > 0 and self._live(story, doc.seen):
                    short.append((dot(doc.vector, story.centroid) / math.sqrt(story.norm2), sid))
        wanted = None if every_feature else set(self.settings.features)
        scored = []
        for rank, (cos, sid) in enumerate(short):
            if wanted == {"cos"}:
                feats = {"cos": cos, **self._dense_features(doc, vector, self.stories[sid])}
            else:
                # How far ahead of the runner-up (behind the leader, for the others).
                if rank == 0:
                    margin = cos - (short[1][0] if len(short) > 1 else 0.0)
                else:
                    margin = cos - short[0][0]
                feats = self.features(doc, self.stories[sid], cos, margin)
                feats.update(self._dense_features(doc, vector, self.stories[sid]))
            scored.append(Candidate(sid, cos, feats, self.score(doc, feats)))
        return scored

    def _dense_features(
        self, doc: _Doc, vector: np.ndarray | None, story: _Story
    ) -> dict[str, float]:
        """Cosine of the doc's dense vector to the story's, and whether the doc is in a
        language none of the story's articles is in."""
        found = {"dense": 0.0, "cross": 0.0}
        if vector is not None and story.dense is not None:
            norm = float(np.linalg.norm(story.dense))
            found["dense"] = float(vector @ story.dense) / norm if norm else 0.0
        if doc.language and story.languages and doc.language not in story.languages:
            found["cross"] = 1.0
        return found

    def score(self, doc: _Doc, feats: dict[str, float]) -> float:
        s = self.settings
        if doc.has_text:
            sparse = feats["cos"] - s.text_threshold
            if not feats.get("dense"):
                return sparse  # no dense vector on one side
            if feats.get("cross"):
                # Words hardly meet across languages; meaning does.
                return feats["dense"] - s.cross_threshold
            # Shared names make the words of another event of the same people meet:
            # meaning must agree too.
            return min(sparse, feats["dense"] - s.dense_floor)
        if doc.dense is None and "dense" in s.features:
            return feats["cos"] + s.sparse_bias
        return s.bias + sum(w * feats[f] for f, w in zip(s.features, s.weights, strict=True))

    def decide(self, found: list[Candidate]) -> Candidate | None:
        if not found:
            return None
        top = max(found, key=lambda c: (c.score, -c.story))
        return top if top.score >= 0 else None

    def rarity(self, term: str) -> float:
        """IDF scaled to [0, 1] whatever the number of documents seen."""
        n = self.df.n
        return math.log((n + 1) / (self.df.df.get(term, 0) + 1)) / math.log(n + 2)

    def features(self, doc: _Doc, story: _Story, cos: float, margin: float) -> dict[str, float]:
        n = len(story.members)
        shared = [self.rarity(t) for t in doc.vector if t in story.centroid]
        return {
            "cos": cos,
            "margin": margin,
            "names": sum(self.rarity(t) for t in doc.names if t in story.names),
            "rare": max(shared, default=0.0),
            "numbers": float(sum(1 for x in doc.numbers if x in story.numbers)),
            "size": math.log(n),
        }

    # -- stories ----------------------------------------------------------------------------

    def story_of(self, doc_id: int) -> int | None:
        return self.doc_story.get(doc_id)

    def resolve(self, story_id: int) -> int:
        """The story that `story_id` now belongs to (itself unless it was merged)."""
        while story_id in self._merged_into:
            story_id = self._merged_into[story_id]
        return story_id

    def summary(self, story_id: int) -> StorySummary:
        story = self.stories[self.resolve(story_id)]
        representative = self._representative(story)
        sites = Counter(self.docs[m].site for m in story.members if self.docs[m].site is not None)
        return StorySummary(
            id=story.id,
            title=self.docs[representative].title,
            representative=representative,
            first_seen=_datetime(story.first_seen),
            last_seen=_datetime(story.last_seen),
            count=len(story.members),
            sites=tuple(site for site, _ in sorted(sites.items(), key=lambda kv: (-kv[1], kv[0]))),
            article_ids=tuple(story.members),
        )

    def summaries(self) -> list[StorySummary]:
        return [self.summary(sid) for sid in sorted(self.stories)]

    def representative(self, story_id: int) -> int:
        """The id of the story's most representative article (closest to its centroid)."""
        return self._representative(self.stories[self.resolve(story_id)])

    def _representative(self, story: _Story) -> int:
        # Closest to the centroid; ties: the earliest article.
        return max(story.members, key=lambda m: dot(self.docs[m].vector, story.centroid))

    def related(self, story_id: int, limit: int = 5) -> list[tuple[int, float]]:
        """Other stories about the same subject, not the same event: centroid cosine of at
        least `related_min`, closest first. A story too far in time to be joined can be
        related (the EU's Grok investigation, a week before the search of X's offices).

        Found through the inverted indexes of live and resting stories by the story's
        heaviest terms, then the exact cosine of the best few: never all pairs."""
        return self._related(self.stories[self.resolve(story_id)], limit)

    def _related(self, story: _Story, limit: int = 5) -> list[tuple[int, float]]:
        s = self.settings
        if story.norm2 <= 0:
            return []
        heaviest = sorted(story.centroid.items(), key=lambda tw: (-tw[1], tw[0]))
        partial: dict[int, float] = {}
        for term, weight in heaviest[: 2 * s.probe_terms]:
            for index in (self.postings, self.rest_postings):
                posting = index.get(term)
                if posting is None or len(posting) > 10 * s.max_postings:
                    continue  # in most stories: it relates nothing
                for sid, value in posting.items():
                    partial[sid] = partial.get(sid, 0.0) + weight * value
        partial.pop(story.id, None)
        norm = math.sqrt(story.norm2)
        found = []
        for _, sid in self._rank(partial, 4 * limit) if partial else []:
            other = self.stories[sid]
            cos = dot(story.centroid, other.centroid) / (norm * math.sqrt(other.norm2))
            if cos >= s.related_min:
                found.append((sid, cos))
        found.sort(key=lambda kv: (-kv[1], kv[0]))
        return found[:limit]

    def _join(self, doc: _Doc, into: int | None) -> _Story:
        if into is None:
            story = _Story(id=doc.id)  # a story is named after the article that started it
            self.stories[story.id] = story
        else:
            story = self.stories[into]
            if story.resting:  # placed by hand in a story out of the window: it is back
                story.resting = False
                self._unindex(story, self.rest_postings)
                for term, value in story.centroid.items():
                    self.postings.setdefault(term, {})[story.id] = value
        self._changed.add(story.id)
        self._add_vector(story, doc.vector)
        self._add_dense(story, doc, 1.0)
        story.members.append(doc.id)
        story.names.update(doc.names)
        story.numbers.update(doc.numbers)
        if doc.seen is not None:
            first, last = story.first_seen, story.last_seen
            story.first_seen = doc.seen if first is None else min(first, doc.seen)
            story.last_seen = doc.seen if last is None else max(last, doc.seen)
        self.docs[doc.id] = doc
        self.doc_story[doc.id] = story.id
        if doc.anchor is None:
            self._unsettled.append(doc.id)
        return story

    def _add_dense(self, story: _Story, doc: _Doc, sign: float) -> None:
        """Add (sign 1) or take away (-1) a member's dense vector and language."""
        if doc.language:
            story.languages[doc.language] += int(sign)
            if story.languages[doc.language] <= 0:
                del story.languages[doc.language]
        if doc.dense is not None:
            vector = unpack(doc.dense) * sign
            story.dense = vector if story.dense is None else story.dense + vector
        if story.dense is not None and not story.resting:
            self.dense_index.set(story.id, story.dense)

    def _add_vector(self, story: _Story, vector: Vector) -> None:
        centroid = story.centroid
        cross = 0.0
        norm2 = 0.0
        for term, weight in vector.items():
            old = centroid.get(term)
            norm2 += weight * weight
            if old is None:
                centroid[term] = weight
                self.postings.setdefault(term, {})[story.id] = weight
            else:
                cross += weight * old
                centroid[term] = self.postings[term][story.id] = old + weight
        story.norm2 += 2 * cross + norm2  # |c + v|^2 = |c|^2 + 2 c.v + |v|^2

    def _merge_converging(self, story: _Story, found: list[Candidate]) -> None:
        """After `story` grew, merge it with the other candidates its centroid now meets."""
        for cand in found:
            other = self.stories.get(cand.story)
            if other is None or other.id == story.id or other.norm2 <= 0 or story.norm2 <= 0:
                continue
            if not self._overlap_in_time(story, other):
                continue
            cos = dot(story.centroid, other.centroid) / math.sqrt(story.norm2 * other.norm2)
            if cos >= self.settings.merge_threshold or self._would_join(other, story, cos):
                story = self._merge(story, other)

    def _would_join(self, small: _Story, story: _Story, cos: float) -> bool:
        """A small story whose articles came too early to join `story` would join it now."""
        if len(small.members) > self.settings.late_join:
            return False
        doc = self.docs[small.members[0]]
        feats = self.features(doc, story, cos, 0.0)
        vector = unpack(doc.dense) if doc.dense is not None else None
        feats.update(self._dense_features(doc, vector, story))
        return self.score(doc, feats) >= 0

    def _overlap_in_time(self, a: _Story, b: _Story) -> bool:
        if a.first_seen is None or b.first_seen is None:
            return True
        gap = max(a.first_seen - b.last_seen, b.first_seen - a.last_seen, 0.0)
        return gap <= self.settings.window_days * DAY

    def _merge(self, a: _Story, b: _Story) -> _Story:
        # The bigger story keeps its id (the older on a tie): fewer articles change story.
        if (len(a.members), -a.id) >= (len(b.members), -b.id):
            kept, absorbed = a, b
        else:
            kept, absorbed = b, a
        for term, weight in absorbed.centroid.items():
            posting = self.postings[term]
            del posting[absorbed.id]
            kept.centroid[term] = posting[kept.id] = kept.centroid.get(term, 0.0) + weight
        kept.norm2 = sum(w * w for w in kept.centroid.values())
        kept.members.extend(absorbed.members)
        kept.names.update(absorbed.names)
        kept.numbers.update(absorbed.numbers)
        kept.languages.update(absorbed.languages)
        if absorbed.dense is not None:
            kept.dense = absorbed.dense if kept.dense is None else kept.dense + absorbed.dense
            self.dense_index.set(kept.id, kept.dense)
        self.dense_index.remove(absorbed.id)
        for m in absorbed.members:
            self.doc_story[m] = kept.id
        firsts = [t for t in (kept.first_seen, absorbed.first_seen) if t is not None]
        lasts = [t for t in (kept.last_seen, absorbed.last_seen) if t is not None]
        kept.first_seen = min(firsts) if firsts else None
        kept.last_seen = max(lasts) if lasts else None
        del self.stories[absorbed.id]
        self.merges.append((absorbed.id, kept.id))
        self._merged_into[absorbed.id] = kept.id
        self._changed.discard(absorbed.id)
        self._changed.add(kept.id)
        return kept

    def _sweep(self) -> None:
        """Take stories quiet for longer than the window out of the index, and forget those
        quiet for longer than `keep_days` (checked once per hour of the clock)."""
        if self.clock is None or (self._swept is not None and self.clock - self._swept < 3600):
            return
        self._swept = self.clock
        window = self.clock - self.settings.window_days * DAY
        horizon = self.clock - self.settings.keep_days * DAY
        for story in list(self.stories.values()):
            if story.last_seen is None or story.last_seen >= window:
                continue
            if not story.resting:
                self._rest(story)
            if story.last_seen < horizon:
                if self.tracking and story.id in self._changed:  # not yet taken
                    self._closed[story.id] = self._change(story)
                    self._changed.discard(story.id)
                self._unindex(story, self.rest_postings)
                for m in story.members:
                    self.docs.pop(m, None)
                    self._followers.pop(m, None)
                    self.doc_story.pop(m, None)
                del self.stories[story.id]
        self._merged_into = {
            a: k for a, k in self._merged_into.items() if self.resolve(k) in self.stories
        }

    def _rest(self, story: _Story) -> None:
        self._unindex(story)
        self.dense_index.remove(story.id)
        story.resting = True
        for term, value in story.centroid.items():
            self.rest_postings.setdefault(term, {})[story.id] = value

    def _unindex(self, story: _Story, index: dict[str, dict[int, float]] | None = None) -> None:
        index = self.postings if index is None else index
        for term in story.centroid:
            posting = index.get(term)
            if posting is not None:
                posting.pop(story.id, None)
                if not posting:
                    del index[term]

    # -- what changed, for the store --------------------------------------------------------

    def _change(self, story: _Story) -> StoryChange:
        return StoryChange(
            tuple(story.members), self._representative(story), tuple(self._related(story))
        )

    @property
    def unsettled(self) -> list[int]:
        """The articles placed since the last `settle`."""
        return list(self._unsettled)

    def touch(self, doc_ids: list[int]) -> None:
        """Count the stories of these articles as changed (their stored placement may
        differ from the clusterer's: after a provisional settle)."""
        for doc_id in doc_ids:
            if (story := self.doc_story.get(doc_id)) is not None:
                self._changed.add(story)

    def take_changes(self) -> dict[int, StoryChange]:
        """The stories whose articles changed since the last call (stories merged away are
        not among them: their articles are in the story that absorbed them)."""
        changes = dict(self._closed)
        for sid in sorted(self._changed):
            story = self.stories.get(sid)
            if story is not None and story.members:
                changes[sid] = self._change(story)
        self._changed.clear()
        self._closed.clear()
        self.merges.clear()
        self.moves.clear()
        return changes

    # -- settling -----------------------------------------------------------------------------

    def settle(self) -> int:
        """Let the articles placed since the last call move to the story now closest to them.

        An article placed early in a run was compared with stories as they were then; once
        the run's articles are in, it may sit better elsewhere. It moves (with its copies)
        when another live story's centroid is closer to it than its own story's centroid
        without it, and close enough to have been joined. Passes repeat until nothing
        moves, so settling twice changes nothing. Returns the number of articles moved
        (see `moves`)."""
        batch, self._unsettled = self._unsettled, []
        moved_total = 0
        for _ in range(self.settings.settle_passes):
            before = len(self.moves)
            moved = 0
            for doc_id in batch:
                story = self.stories.get(self.doc_story.get(doc_id, -1))
                if story is not None and not story.resting:
                    moved += self._settle_one(self.docs[doc_id], story)
            moved_total += moved
            if not moved:
                break
            # Next pass: the articles of the stories this one changed.
            changed = {s for _, a, b in self.moves[before:] for s in (a, b)}
            batch = [d for d in batch if self.doc_story.get(d) in changed]
        return moved_total

    def _settle_one(self, doc: _Doc, story: _Story) -> int:
        group = [doc, *(self.docs[f] for f in self._followers.get(doc.id, ()))]
        if len(group) == len(story.members):
            own = 0.0  # alone in its story: any close story is better
        else:
            # Against the centroid without the group: |C - G|^2 = |C|^2 - 2 C.G + |G|^2,
            # over the group's terms only (a big story's centroid has thousands).
            pooled: dict[str, float] = {}
            for member in group:
                for term, weight in member.vector.items():
                    pooled[term] = pooled.get(term, 0.0) + weight
            norm2 = story.norm2 - 2 * dot(pooled, story.centroid) + dot(pooled, pooled)
            mine = dot(doc.vector, story.centroid) - dot(doc.vector, pooled)
            own = mine / math.sqrt(norm2) if norm2 > 1e-12 else 0.0
        threshold = self.settings.text_threshold if doc.has_text else self.settings.settle_min
        best, best_cos = None, max(own, threshold)
        vector = unpack(doc.dense) if doc.dense is not None and doc.has_text else None
        for cos, sid in self.closest(doc):
            if sid != story.id and cos > best_cos:
                if vector is not None:  # the dense rule of `score` holds there too
                    feats = {"cos": cos, **self._dense_features(doc, vector, self.stories[sid])}
                    if self.score(doc, feats) < 0:
                        continue
                best, best_cos = sid, cos
        if best is None:
            return 0
        target = self.stories[best]
        for member in group:
            self._remove_vector(story, member.vector)
            story.members.remove(member.id)
            self._add_vector(target, member.vector)
            self._add_dense(story, member, -1.0)
            self._add_dense(target, member, 1.0)
            target.members.append(member.id)
            story.names -= Counter(member.names)
            story.numbers -= Counter(member.numbers)
            target.names.update(member.names)
            target.numbers.update(member.numbers)
            self.doc_story[member.id] = target.id
            self.moves.append((member.id, story.id, target.id))
        for s in (story, target):
            self._recompute_span(s)
        self._changed.update((story.id, target.id))
        if not story.members:
            self._unindex(story)
            self.dense_index.remove(story.id)
            del self.stories[story.id]
            self.merges.append((story.id, target.id))
            self._merged_into[story.id] = target.id
            self._changed.discard(story.id)
        return len(group)

    def _remove_vector(self, story: _Story, vector: Vector) -> None:
        centroid = story.centroid
        for term, weight in vector.items():
            left = centroid[term] - weight
            posting = self.postings.get(term)
            if abs(left) < 1e-12:
                del centroid[term]
                if posting is not None:
                    posting.pop(story.id, None)
                    if not posting:
                        del self.postings[term]
            else:
                centroid[term] = left
                if posting is not None and story.id in posting:
                    posting[story.id] = left
        story.norm2 = sum(w * w for w in centroid.values())

    def _recompute_span(self, story: _Story) -> None:
        seen = [t for m in story.members if (t := self.docs[m].seen) is not None]
        story.first_seen = min(seen) if seen else None
        story.last_seen = max(seen) if seen else None

    # -- persistence ------------------------------------------------------------------------

    def state_to_bytes(self) -> bytes:
        """Everything needed to continue the stream: IDF counts, live stories, their
        articles' vectors. Settings are not stored: they come from the code."""
        state = {
            "version": STATE_VERSION,
            "n": self.df.n,
            "df": self.df.df,
            "clock": self.clock,
            "swept": self._swept,
            "merged_into": [[a, k] for a, k in self._merged_into.items()],
            "unsettled": self._unsettled,
            # Rows in `_Doc`'s field order (dataclasses.asdict deep-copies every vector:
            # most of the time of a checkpoint).
            "doc_fields": _DOC_FIELDS,
            "docs": [[getattr(d, f) for f in _DOC_FIELDS] for d in self.docs.values()],
            "stories": [
                {
                    "id": s.id,
                    "centroid": s.centroid,
                    "norm2": s.norm2,
                    "members": s.members,
                    "first_seen": s.first_seen,
                    "last_seen": s.last_seen,
                    "resting": s.resting,
                }
                for s in self.stories.values()
            ],
        }
        # Saved with every chunk placed and at every day's start, so its cost grows with
        # the live stories (114 MB of JSON at 13,000 live articles): orjson writes it ~8x
        # faster than json, and zstd level 1 compresses it as zlib level 1 does (-45 %)
        # 5x faster. NumPy floats are written as the floats they are.
        text = orjson.dumps(state, option=orjson.OPT_SERIALIZE_NUMPY)
        return zstandard.ZstdCompressor(level=1).compress(text)

    to_bytes = state_to_bytes

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        settings: ClusterSettings | None = None,
        encoder: encoders.Encoder | None = None,
    ) -> StoryClusterer:
        # States written before 2026-12 are zlib-compressed.
        zstd = data[:4] == _ZSTD_FRAME
        state = orjson.loads(
            zstandard.ZstdDecompressor().decompress(data) if zstd else zlib.decompress(data)
        )
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown clustering state version {state.get('version')!r}")
        self = cls(settings, encoder)
        self.df = DocFreq(state["n"], state["df"])
        self.clock = state["clock"]
        self._swept = state["swept"]
        self._merged_into = {a: k for a, k in state["merged_into"]}
        self._unsettled = state.get("unsettled", [])
        names = state["doc_fields"]
        self.docs = {row[0]: _Doc(**dict(zip(names, row, strict=True))) for row in state["docs"]}
        for doc in self.docs.values():
            if doc.anchor is not None:
                self._followers.setdefault(doc.anchor, []).append(doc.id)
        for s in state["stories"]:
            story = _Story(
                id=s["id"],
                centroid=s["centroid"],
                norm2=s["norm2"],
                members=s["members"],
                first_seen=s["first_seen"],
                last_seen=s["last_seen"],
                resting=s["resting"],
            )
            for m in story.members:
                doc = self.docs[m]
                story.names.update(doc.names)
                story.numbers.update(doc.numbers)
                self._add_dense(story, doc, 1.0)  # dense sums and languages: from members
                self.doc_story[m] = story.id
            index = self.rest_postings if story.resting else self.postings
            for term, value in story.centroid.items():
                index.setdefault(term, {})[story.id] = value
            self.stories[story.id] = story
        return self
