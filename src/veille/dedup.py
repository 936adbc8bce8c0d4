"""Duplicates: one page under several URLs, and one story text published by several sites.

Exact duplicates are caught by keys: `canonical_variant_url` (tracking parameters, AMP and
mobile variants folded) and `normalised_hash` (the text with case, accents, punctuation and
spacing folded away).

Near duplicates (a wire story syndicated with a new title, a credit line, a few words
changed, or cut short) are caught by `NearDuplicateIndex`: MinHash LSH over 3-word
shingles finds candidates, then the candidates' exact shingle sets decide, by Jaccard
similarity or, for truncated copies, by containment. A copy is linked to its original
(shown as "also published by"), never dropped: that is the caller's business, this module
only says which article copies which.
"""

from __future__ import annotations

import re
import struct
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import xxhash

from veille.text import stop_words as _stop_words
from veille.urls import canonical_url
from veille.when import epoch_seconds

SHINGLE_K = 3
NUM_PERM = 128

# --------------------------------------------------------------------------- URLs

# Query parameters that only ask for the AMP or mobile rendering of the same article.
_AMP_PARAMS = {"amp": {"", "1", "true"}, "outputtype": {"amp"}, "output": {"amp"}}
# A rendering prefix on a host that still has a registrable name after it.
_VARIANT_HOST = re.compile(r"^(?:www|m|mobile|amp)\.(?=[^.]+\.[^.]+)")


def canonical_variant_url(url: str) -> str:
    """A key for "the same page": `canonical_url` with its AMP and mobile renderings
    folded. A key to compare URLs with, not one to show or fetch (the host loses ``www.``).

    Conservative on purpose: only the spellings publishers use for "this article, in
    another template" are folded:

    * the host prefixes ``www.``, ``m.``, ``mobile.``, ``amp.`` when a domain name is
      left after them: ``m.lefigaro.fr``, ``amp.lefigaro.fr``, ``www.lefigaro.fr`` and
      ``lefigaro.fr`` are one key (``m.bbc.co.uk`` too), ``amp.dev`` and ``m.tv`` are not
      touched;
    * an ``amp`` path segment anywhere (``/amp/article/x``, ``/article/x/amp``,
      ``/article/x/amp/``) and the ``.amp.html`` / ``.amp`` suffixes (``x.amp.html`` is
      ``x.html``);
    * the query flags ``amp=1``, ``amp=true``, a bare ``amp``, ``outputType=amp`` and
      ``output=amp`` (``amp_*`` parameters are trackers, dropped by `canonical_url`).

    Words merely containing "amp" (``/camp/``, ``/ampoule``) are left alone, and so is a
    trailing slash (``/x/`` and ``/x`` may be two pages).
    """
    url = canonical_url(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    host = _VARIANT_HOST.sub("", parts.netloc)
    path = parts.path
    segments = [s for s in path.split("/") if s.lower() != "amp"]
    path = "/".join(segments) if segments != path.split("/") else path
    if not path.startswith("/"):
        path = "/" + path
    path = re.sub(r"\.amp(?=\.html?$)|\.amp$", "", path, flags=re.IGNORECASE)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if v.lower() not in _AMP_PARAMS.get(k.lower(), ())
    ]
    return urlunsplit((parts.scheme, host, path or "/", urlencode(query), ""))


# --------------------------------------------------------------------------- words

_COMBINING = re.compile("[\u0300-\u036f]")
# Words of two characters or more: an apostrophe splits "l'enquête" into "l" and "enquete",
# and single letters go, so the elisions l', d', j', s', n', c', m', t' vanish; "qu'il"
# leaves "qu", the same on every copy.
_WORD = re.compile(r"\w\w+")


def _fold(text: str) -> str:
    text = text.lower()
    if text.isascii():  # most of the cost is here: skip it when there is nothing to fold
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def words(text: str, *, stop_words: bool = True) -> list[str]:
    """Folded words of `text` for shingling (lower case, no accents, no elisions).

    Not `veille.text.tokens`: that keeps accents and drops bare numbers, and its
    per-word Python loop is three times slower; for copies, numbers are evidence
    (the same figures, the same dates) and speed matters at 100,000 articles.
    """
    found = _WORD.findall(_fold(text))
    if not stop_words:
        stops = _stop_words("fr")
        found = [w for w in found if w not in stops]
    return found


def normalised_hash(text: str) -> str:
    """Exact-duplicate key: the text's words with case, accents, punctuation, spacing and
    elisions folded ("L’État  a dit." and "l'etat a dit" hash alike; single letters are
    not words here). A text without words gives ""."""
    found = _WORD.findall(_fold(text))
    if not found:
        return ""
    return xxhash.xxh3_128_hexdigest(" ".join(found).encode("utf-8"))


# --------------------------------------------------------------------------- shingles

_M1 = np.uint64(0x9E3779B97F4A7C15)


def _fmix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def _shingle_array(found: list[str], k: int) -> np.ndarray:
    """64-bit hashes of the k-word shingles of `found`, in text order, repeats kept.

    Each word is hashed once with xxh64, then each window of k word hashes is combined
    (a polynomial, then the MurmurHash3 finaliser), vectorised: twice as fast as hashing
    the joined k-word strings. A text shorter than k words is one shingle.
    """
    if not found:
        return np.empty(0, dtype=np.uint64)
    hashed = np.fromiter(
        map(xxhash.xxh64_intdigest, map(str.encode, found)), dtype=np.uint64, count=len(found)
    )
    n = max(len(found) - k + 1, 1)
    k = min(k, len(found))
    with np.errstate(over="ignore"):  # multiplications wrap around, as hashes should
        mixed = hashed[:n].copy()
        for j in range(1, k):
            mixed *= _M1
            mixed += hashed[j : j + n]
        return _fmix64(mixed)


def shingle_hashes(text: str, params: Params | None = None) -> np.ndarray:
    """The 32-bit shingle hashes of `text` the index works on (repeats kept)."""
    params = params or Params()
    found = words(text, stop_words=params.stop_words)
    return _shingle_array(found, params.k).astype(np.uint32)


def shingles(text: str, k: int = SHINGLE_K, *, stop_words: bool = True) -> set[int]:
    """The hashed k-word shingles of `text` (words as `words` gives them)."""
    return set(_shingle_array(words(text, stop_words=stop_words), k).tolist())


# --------------------------------------------------------------------------- MinHash


@cache
def permutations(num_perm: int = NUM_PERM, seed: int = 1) -> np.ndarray:
    """datasketch's "affine32" permutation parameters (a, b): our signatures equal
    ``MinHash(num_perm, seed, hashfunc=lambda h: h & 0xFFFFFFFF).update_batch(shingles)``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


def _fmix32(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


def minhash(hashes32: np.ndarray, num_perm: int = NUM_PERM) -> np.ndarray:
    """MinHash signature (uint32[num_perm]) of a set of 32-bit hashes, vectorised:
    one (n x num_perm) product and a column minimum, 3x faster than datasketch's
    update_batch, which calls the hash function once per element in Python."""
    a, b = permutations(num_perm)
    if not len(hashes32):
        return np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        mixed = _fmix32(hashes32.astype(np.uint32))
        return (np.multiply.outer(mixed, a) + b).min(axis=0)


# --------------------------------------------------------------------------- agencies

# Credit lines, not mentions: "a déclaré à l'AFP" is in half the articles of a day and
# says nothing about who wrote this one. Names as credit lines spell them.
_CREDIT_NAMES = {
    "AFP": 1,
    "Agence France-Presse": 1,
    "Agence France Presse": 1,
    "Reuters": 2,
    "REUTERS": 2,
    "AP": 4,
    "Associated Press": 4,
    "ATS": 8,
    "Belga": 16,
    "BELGA": 16,
    "DPA": 32,
    "dpa": 32,
    "ANSA": 64,
    "EFE": 128,
    "Bloomberg": 256,
}
# What makes a name a credit line: "(AFP)", "/ATS", "Keystone-ATS", "© AFP" before it, or
# the name alone on its line, maybe after "Avec", "Source :" or "Par" ("Avec AFP",
# "(avec Reuters)"). "... travaillait avec l'AFP" is a mention.
_CREDIT_BEFORE = re.compile(r"(?:[(/©]|Keystone-)\s*$")
_ALONE_BEFORE = re.compile(r"(?:^|\n)[\s(\[—–-]*(?:(?:[Aa]vec|[Pp]ar|[Ss]ources?\s?:|©)\s*)?$")
_ALONE_AFTER = re.compile(r"^[\s)\].—–-]*(?:\n|$)")


def agency_credits(text: str) -> int:
    """Bit mask of the news agencies credited by `text` (0 when none).

    Only the head and tail are read: credit lines open ("PARIS (AFP) -") or close
    ("Avec AFP") a dispatch. Plain `str.find` then a look around each hit: ten times
    faster than one case-folding regex over the text.
    """
    if len(text) > 1200:
        text = text[:600] + "\n" + text[-600:]
    mask = 0
    for name, bit in _CREDIT_NAMES.items():
        start = -1 if mask & bit else text.find(name)
        while start != -1:
            end = start + len(name)
            before, after = text[max(start - 12, 0) : start], text[end : end + 6]
            if not (before[-1:].isalnum() or after[:1].isalnum()) and (
                (
                    _CREDIT_BEFORE.search(before) and (after[:1] == ")" or not before.endswith("("))
                )  # "(AFP)", not "(AFP photo"
                or (_ALONE_BEFORE.search(before) and _ALONE_AFTER.match(after))
            ):
                mask |= bit
                break
            start = text.find(name, end)
    return mask


# --------------------------------------------------------------------------- index


class Params(NamedTuple):
    """Decision thresholds, tuned on the dev split of bench/dedup.py."""

    k: int = SHINGLE_K
    stop_words: bool = True  # kept: they make a shingle specific to its sentence
    num_perm: int = NUM_PERM
    # LSH: 64 bands of 2 rows make a pair a candidate with probability 1-(1-J^2)^64:
    # 0.81 at J=0.16 (a 30 % teaser with 15 % of words edited), 0.98 at J=0.25. Random
    # pairs of OrangeSum articles (J ~ 0.001 with stop words kept) collide once in
    # ~10,000: ~10 candidates to verify per article against 100,000 indexed ones.
    # (32 x 4 bands, for J >= 0.5, lose 17 points of recall on truncated copies.)
    bands: int = 64
    rows: int = 2
    jaccard: float = 0.4  # shingle-set Jaccard for a copy
    containment: float = 0.5  # |A & B| / min(|A|, |B|) for a cut or padded copy
    min_shared: int = 20  # shingles in common before containment counts
    # Fewer shingles in common than this (about two sentences) is what one quoted
    # sentence gives two briefs on the same event: it needs the stricter evidence too.
    solid_shared: int = 40
    agency_bonus: float = 0.05  # thresholds lowered when both credit the same agency
    short_words: int = 40  # below this, a text needs stricter evidence:
    short_jaccard: float = 0.6
    short_containment: float = 0.8
    max_kept: int = 1024  # shingles kept per article (a 1-in-2**s sample above this)


class Match(NamedTuple):
    """The article a text copies. `original` is the first-seen article of its copy group."""

    original: int
    similarity: float  # Jaccard of the shingle sets
    containment: float  # shared shingles over the smaller set
    reason: str  # "exact", "jaccard", "containment"; "+agency" when a credit line helped
    # Groups this text showed to be copies of `original` too (their first articles, seen
    # before it): the caller links them, and their copies, to `original`.
    merged: tuple[int, ...] = ()


class _Signature(NamedTuple):
    """What the index keeps of a text; `signature(text)` is its bytes form."""

    shingles: np.ndarray  # sorted unique uint32 shingle hashes, a 1-in-2**shift sample
    shift: int
    minhash: np.ndarray  # uint32[num_perm]
    agencies: int
    words: int
    exact: int  # 64 bits of normalised_hash, 0 for a text without words

    @classmethod
    def of(cls, text: str, params: Params) -> _Signature:
        folded = _fold(text)
        found = _WORD.findall(folded)
        exact = _exact_key(found)
        if not params.stop_words:
            stops = _stop_words("fr")
            found = [w for w in found if w not in stops]
        hashes = np.unique(_shingle_array(found, params.k).astype(np.uint32))
        sig = minhash(hashes, params.num_perm)
        shift = 0
        while len(hashes) >> shift > params.max_kept:
            shift += 1
        if shift:
            hashes = hashes[(hashes & np.uint32((1 << shift) - 1)) == 0]
        return cls(hashes, shift, sig, agency_credits(text), len(found), exact)

    _HEAD = struct.Struct("<BBHIIQ")

    def to_bytes(self) -> bytes:
        head = self._HEAD.pack(
            1, self.shift, len(self.minhash), self.agencies, self.words, self.exact
        )
        return b"".join(
            (head, self.minhash.astype("<u4").tobytes(), self.shingles.astype("<u4").tobytes())
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> _Signature:
        version, shift, num_perm, agencies, n_words, exact = cls._HEAD.unpack_from(data)
        if version != 1:
            raise ValueError(f"unknown dedup signature version {version}")
        at = cls._HEAD.size
        sig = np.frombuffer(data, dtype="<u4", count=num_perm, offset=at).astype(np.uint32)
        hashes = np.frombuffer(data, dtype="<u4", offset=at + 4 * num_perm).astype(np.uint32)
        return cls(hashes, shift, sig, agencies, n_words, exact)


def _exact_key(found: list[str]) -> int:
    return xxhash.xxh3_64_intdigest(" ".join(found).encode("utf-8")) or 1 if found else 0


def signature(text: str, params: Params | None = None, *, k: int | None = None) -> bytes:
    """What the store keeps per article (about 0.5 kB + 4 bytes a word) so the index can
    be rebuilt at start without re-reading texts: `NearDuplicateIndex.add_signature`."""
    params = params or Params()
    if k is not None:
        params = params._replace(k=k)
    return _Signature.of(text, params).to_bytes()


def _band_keys(sig: np.ndarray, params: Params) -> np.ndarray:
    """One 64-bit key per LSH band, the band number mixed in so all bands share a table.

    `sig` is one signature, or a stack of them (then one row of keys per signature).
    """
    b, r = params.bands, params.rows
    rows = sig[..., : b * r].astype(np.uint64).reshape(*sig.shape[:-1], b, r)
    with np.errstate(over="ignore"):
        keys = np.arange(1, b + 1, dtype=np.uint64)
        for j in range(r):
            keys = _fmix64(keys * _M1 + rows[..., j])
    return keys


class _Postings:
    """A multimap uint64 -> int (LSH band key -> article key) in 16 bytes a posting.

    A Python dict would take ~100 bytes a posting (64 per article); datasketch's
    MinHashLSH keeps a set per bucket, ~120 bytes a posting (7.8 kB an article at 25
    bands, measured). So postings live in two sorted NumPy arrays, and new ones in a
    small dict (at most 131,072 or 1/16 of the arrays) merged into them when full:
    merging two sorted runs is linear, ~0.1 s per million postings. Removal is lazy:
    the caller ignores keys it no longer knows, and `compact` drops them.
    """

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.values = np.empty(0, dtype=np.int64)
        self.recent: dict[int, int | list[int]] = {}

    def __len__(self) -> int:
        return len(self.keys) + len(self.recent)

    def add(self, keys: np.ndarray, value: int) -> None:
        recent = self.recent
        for key in keys.tolist():
            found = recent.get(key)
            if found is None:
                recent[key] = value
            elif isinstance(found, list):
                found.append(value)
            else:
                recent[key] = [found, value]
        if len(recent) > max(1 << 17, len(self.keys) >> 4):
            self.compact()

    def get(self, keys: np.ndarray) -> list[int]:
        found: list[int] = []
        recent = self.recent
        for key in keys.tolist():
            hit = recent.get(key)
            if hit is not None:
                found.extend(hit if isinstance(hit, list) else (hit,))
        if len(self.keys):
            left = np.searchsorted(self.keys, keys, "left")
            right = np.searchsorted(self.keys, keys, "right")
            for lo, hi in zip(
                left[right > left].tolist(), right[right > left].tolist(), strict=True
            ):
                found.extend(self.values[lo:hi].tolist())
        return found

    def compact(self, alive: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        """Merge the recent postings into the arrays, keeping those `alive` says."""
        pairs = [
            (k, v) for k, vs in self.recent.items() for v in (vs if isinstance(vs, list) else (vs,))
        ]
        self.recent = {}
        keys = np.fromiter((k for k, _ in pairs), np.uint64, count=len(pairs))
        values = np.fromiter((v for _, v in pairs), np.int64, count=len(pairs))
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        if alive is not None:
            keep = alive(self.values)
            self.keys, self.values = self.keys[keep], self.values[keep]
            keep = alive(values)
            keys, values = keys[keep], values[keep]
        # Insert the few sorted new postings into the many: one pass, one new array each
        # (a concatenate-and-sort would hold three copies of the postings at its peak).
        at = np.searchsorted(self.keys, keys, "right")
        self.keys = np.insert(self.keys, at, keys)
        self.values = np.insert(self.values, at, values)


@dataclass(slots=True)
class _Entry:
    shingles: bytes  # sorted uint32 shingle hashes, a 1-in-2**shift sample
    shift: int
    agencies: int
    words: int
    exact: int
    when: float | None
    seq: int  # arrival order: the first article of a group is its original


class _Found(NamedTuple):
    match: Match
    shared: np.ndarray  # the shingles in common, sampled 1 in 2**shift
    shift: int


class NearDuplicateIndex:
    """Incremental near-duplicate detection: `add` one article at a time, day after day.

    Every article with text is indexed, copies too: a full text seen after its teaser,
    or a re-edited copy, may be closer to a copy than to the original. Copies form
    groups; `Match.original` is the first-seen article of the group, so "also published
    by" hangs off one article, and `original_of(key)` answers for any article later.

    Memory: ~1 kB of LSH postings (64 bands x 16 bytes), 4 bytes a word for the shingle
    hashes (at most `max_kept`), ~200 bytes of bookkeeping: ~2.6 kB for a 350-word
    article, ~260 MB for 100,000. `prune` bounds it to a window of days.
    """

    def __init__(self, params: Params | None = None) -> None:
        self.params = params or Params()
        self._entries: dict[int, _Entry] = {}
        self._postings = _Postings()
        self._exact: dict[int, int] = {}  # exact key -> first article with that text
        self._parent: dict[int, int] = {}  # copy -> an article of its group (union-find)
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: int) -> bool:
        return key in self._entries

    def add(
        self,
        key: int,
        text: str,
        *,
        title: str = "",
        site: str | None = None,
        when: datetime | None = None,
    ) -> Match | None:
        """Index `text` under `key` and return the article it copies, if any.

        `title` is not used (syndication rewrites titles; one text under two titles is
        still one dispatch); `site` is not evidence either way (a site may republish
        its own dispatch under a second URL). A text without words is not indexed and
        matches nothing. Adding a known key again replaces its text.
        """
        del title, site
        return self._add(key, _Signature.of(text, self.params), when)

    def add_signature(
        self, key: int, signature: bytes, *, when: datetime | None = None, match: bool = False
    ) -> Match | None:
        """Index a stored `signature(text)`; with `match`, also say what it copies (as
        `add`), else only index it (rebuilding the index at start)."""
        sig = _Signature.from_bytes(signature)
        if match:
            return self._add(key, sig, when)
        self.remove(key)
        self._insert(key, sig, when)
        return None

    @classmethod
    def from_signatures(
        cls,
        items: Iterable[tuple[int, bytes]],
        params: Params | None = None,
        *,
        when: Mapping[int, datetime] | None = None,
        originals: Mapping[int, int] | None = None,
    ) -> NearDuplicateIndex:
        """An index rebuilt at start from the stored `signature` of each article, in
        arrival order, with the dates `prune` needs and the copy -> original links the
        store kept. Vectorised: ~5 s per 100,000 articles."""
        index = cls(params)
        when, originals = when or {}, originals or {}
        keys: list[int] = []
        minhashes: list[np.ndarray] = []
        head = _Signature._HEAD
        entries, exact_keys = index._entries, index._exact
        for key, data in items:
            # `_Signature.from_bytes` inlined: this loop is most of a rebuild.
            version, shift, num_perm, agencies, n_words, exact = head.unpack_from(data)
            if version != 1:
                raise ValueError(f"unknown dedup signature version {version}")
            if not exact:
                continue
            stamp = when.get(key)
            index._seq += 1
            entries.pop(key, None)  # a key given twice: the later text wins
            entries[key] = _Entry(
                data[head.size + 4 * num_perm :],
                shift,
                agencies,
                n_words,
                exact,
                epoch_seconds(stamp) if stamp else None,
                index._seq,
            )
            exact_keys.setdefault(exact, key)
            keys.append(key)
            minhashes.append(np.frombuffer(data, "<u4", num_perm, head.size))
        if keys:
            bands = _band_keys(np.stack(minhashes), index.params)
            postings = index._postings
            postings.keys = bands.ravel()
            postings.values = np.repeat(np.array(keys, dtype=np.int64), bands.shape[1])
            order = np.argsort(postings.keys, kind="stable")
            postings.keys, postings.values = postings.keys[order], postings.values[order]
        for copy, original in originals.items():
            if copy != original:
                index._parent[copy] = original
        return index

    def original_of(self, key: int) -> int:
        """The first-seen article of `key`'s copy group (`key` itself if it copies none)."""
        root = key
        while root in self._parent:
            root = self._parent[root]
        while key != root:  # path compression keeps later look-ups short
            self._parent[key], key = root, self._parent[key]
        return root

    def _add(self, key: int, sig: _Signature, when: datetime | None) -> Match | None:
        self.remove(key)
        if not sig.exact:
            return None
        bands = _band_keys(sig.minhash, self.params)
        found = self._find(sig, bands, exclude=key)
        self._insert(key, sig, when, bands)
        if found is None:
            return None
        for root in (*found.merged, key):
            self._parent[root] = found.original
        return found

    def _insert(
        self, key: int, sig: _Signature, when: datetime | None, bands: np.ndarray | None = None
    ) -> None:
        if not sig.exact:
            return
        self._seq += 1
        self._entries[key] = _Entry(
            sig.shingles.tobytes(),
            sig.shift,
            sig.agencies,
            sig.words,
            sig.exact,
            epoch_seconds(when) if when else None,
            self._seq,
        )
        self._exact.setdefault(sig.exact, key)
        if bands is None:
            bands = _band_keys(sig.minhash, self.params)
        self._postings.add(bands, key)

    def _find(self, sig: _Signature, bands: np.ndarray, exclude: int | None) -> Match | None:
        """The group `sig` copies, by its first-seen article, without indexing `sig`.

        Every candidate is verified; when the text matches articles of several groups
        whose shared shingles overlap (two copies of one original, too edited to be
        linked to each other, seen before it), the groups are one: the later ones are
        named in `Match.merged`. A text that matches two groups on different passages
        (a round-up of two dispatches) joins the best one and merges nothing.
        """
        same = self._exact.get(sig.exact)
        if same is not None and same != exclude:
            return Match(self.original_of(same), 1.0, 1.0, "exact")
        best: dict[int, tuple[float, int, _Found]] = {}  # root -> its best match
        for other in set(self._postings.get(bands)):
            entry = self._entries.get(other)
            if other == exclude or entry is None:
                continue  # postings of removed articles linger until compaction
            found = self._verify(sig, entry, other)
            if found is None:
                continue
            score = (max(found.match.similarity, found.match.containment), -entry.seq)
            root = self.original_of(other)
            if root not in best or score > best[root][:2]:
                best[root] = (*score, found)
        if not best:
            return None
        first = max(best, key=lambda r: best[r][:2])
        merged = [r for r in best if r != first and _overlap(best[first][2], best[r][2])]
        group = [first, *merged]
        original = min(group, key=lambda r: self._entries[r].seq if r in self._entries else 0)
        return best[first][2].match._replace(
            original=original, merged=tuple(r for r in group if r != original)
        )

    def _verify(self, sig: _Signature, entry: _Entry, key: int) -> _Found | None:
        """Decide on the exact shingle sets: Jaccard, or containment for a cut copy."""
        p = self.params
        mine, theirs = sig.shingles, np.frombuffer(entry.shingles, dtype=np.uint32)
        shift = max(sig.shift, entry.shift)  # compare samples taken at the same rate
        if sig.shift < shift:
            mine = _sample(mine, shift)
        if entry.shift < shift:
            theirs = _sample(theirs, shift)
        if not len(mine) or not len(theirs):
            return None
        common = np.intersect1d(mine, theirs, assume_unique=True)
        shared = len(common)
        jaccard = shared / (len(mine) + len(theirs) - shared)
        containment = shared / min(len(mine), len(theirs))
        shared <<= shift
        if min(sig.words, entry.words) < p.short_words or shared < p.solid_shared:
            j_min, c_min = p.short_jaccard, p.short_containment
        else:
            j_min, c_min = p.jaccard, p.containment
        bonus = p.agency_bonus if sig.agencies & entry.agencies else 0.0
        reason = ""
        for suffix, cut in (("", 0.0), ("+agency", bonus)):
            if jaccard >= j_min - cut:
                reason = "jaccard" + suffix
            elif containment >= c_min - cut and shared >= p.min_shared:
                reason = "containment" + suffix
            if reason or not bonus:
                break
        if not reason:
            return None
        return _Found(Match(key, round(jaccard, 3), round(containment, 3), reason), common, shift)

    def remove(self, key: int) -> None:
        """Forget one article's text (its postings go at the next compaction); its copy
        group keeps it as a link until `prune`."""
        entry = self._entries.pop(key, None)
        if entry is not None and self._exact.get(entry.exact) == key:
            del self._exact[entry.exact]

    def prune(self, before: datetime) -> int:
        """Forget the articles added with a `when` older than `before`: syndication
        happens within days, and this bounds memory. Returns how many were forgotten.

        A group whose original is forgotten keeps its remaining members together, under
        the earliest of them.
        """
        limit = epoch_seconds(before)
        old = [k for k, e in self._entries.items() if e.when is not None and e.when < limit]
        for key in old:
            self.remove(key)
        self._regroup()
        self._postings.compact(self._alive)
        return len(old)

    def _regroup(self) -> None:
        """Rebuild the group links over the indexed articles only."""
        groups: dict[int, list[int]] = {}
        for key in self._entries:  # arrival order
            groups.setdefault(self.original_of(key), []).append(key)
        self._parent = {k: members[0] for members in groups.values() for k in members[1:]}

    def _alive(self, values: np.ndarray) -> np.ndarray:
        known = np.fromiter(self._entries, dtype=np.int64, count=len(self._entries))
        return np.isin(values, known)

    _INDEX_HEAD = struct.Struct("<4sBQQ")
    _ENTRY = struct.Struct("<qdqBIIQI")

    def to_bytes(self) -> bytes:
        """The whole index state (not pickle: the store's bytes are data, never code);
        `from_bytes` restores it. Both sides need the same `Params`."""
        self._postings.compact(self._alive)
        keys, values = self._postings.keys, self._postings.values
        parts = [
            self._INDEX_HEAD.pack(b"VDUP", 1, len(keys), len(self._entries)),
            keys.astype("<u8").tobytes(),
            values.astype("<i8").tobytes(),
        ]
        for key, e in self._entries.items():  # arrival order
            parts.append(
                self._ENTRY.pack(
                    key,
                    float("nan") if e.when is None else e.when,
                    self.original_of(key),
                    e.shift,
                    e.agencies,
                    e.words,
                    e.exact,
                    len(e.shingles) // 4,
                )
            )
            parts.append(e.shingles)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes, params: Params | None = None) -> NearDuplicateIndex:
        magic, version, n_postings, n_entries = cls._INDEX_HEAD.unpack_from(data)
        if magic != b"VDUP" or version != 1:
            raise ValueError("not a veille near-duplicate index")
        index = cls(params)
        at = cls._INDEX_HEAD.size
        keys = np.frombuffer(data, dtype="<u8", count=n_postings, offset=at)
        values = np.frombuffer(data, dtype="<i8", count=n_postings, offset=at + 8 * n_postings)
        index._postings.keys = keys.astype(np.uint64)
        index._postings.values = values.astype(np.int64)
        at += 16 * n_postings
        for _ in range(n_entries):
            key, when, parent, shift, agencies, n_words, exact, n = cls._ENTRY.unpack_from(data, at)
            at += cls._ENTRY.size
            index._seq += 1
            index._entries[key] = _Entry(
                bytes(data[at : at + 4 * n]),
                shift,
                agencies,
                n_words,
                exact,
                None if when != when else when,  # NaN: no date
                index._seq,
            )
            at += 4 * n
            index._exact.setdefault(exact, key)
            if parent != key:
                index._parent[key] = parent
        return index

    def memory_bytes(self) -> int:
        """Approximate memory held by the index (entries, postings, maps)."""
        size = sys.getsizeof(self._entries) + sys.getsizeof(self._exact)
        size += sys.getsizeof(self._parent) + len(self._parent) * 36
        size += len(self._exact) * 36  # the int keys; the values are the entries' keys
        for key, entry in self._entries.items():
            size += sys.getsizeof(entry) + sys.getsizeof(entry.shingles) + sys.getsizeof(key)
        postings = self._postings
        size += postings.keys.nbytes + postings.values.nbytes + sys.getsizeof(postings.recent)
        size += sum(
            36 + (sys.getsizeof(v) if isinstance(v, list) else 0) for v in postings.recent.values()
        )
        return size


def _sample(hashes: np.ndarray, shift: int) -> np.ndarray:
    return hashes[(hashes & np.uint32((1 << shift) - 1)) == 0]


def _overlap(a: _Found, b: _Found) -> bool:
    """Whether two matches of one text rest on the same passage of it."""
    shift = max(a.shift, b.shift)
    sa = _sample(a.shared, shift) if a.shift < shift else a.shared
    sb = _sample(b.shared, shift) if b.shift < shift else b.shared
    if not len(sa) or not len(sb):
        return False
    common = len(np.intersect1d(sa, sb, assume_unique=True))
    return common >= 0.5 * min(len(sa), len(sb))


def find_copies(
    articles: Iterable[tuple[int, str]], params: Params | None = None
) -> dict[int, int]:
    """Batch use: {copy key: original key} for articles given in publication order."""
    index = NearDuplicateIndex(params)
    found = {}
    for key, text in articles:
        index.add(key, text)
    for key in index._entries:
        original = index.original_of(key)
        if original != key:
            found[key] = original
    return found
