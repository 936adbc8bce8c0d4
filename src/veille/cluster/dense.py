"""Dense vectors for story clustering: a story's mean encoder vector, and an index that
finds the live stories closest to an article whatever their words (another language).

An article's dense vector (`veille.encoder`) is kept in the clusterer's state as base64
float16 (1 KB for 512 dimensions, about the size of its 100-term sparse vector); a story's
dense centroid is the sum of its members' vectors, rebuilt from them when the state is read.
"""

from __future__ import annotations

import base64

import numpy as np


def pack(vector: np.ndarray) -> str:
    """A unit vector as base64 float16, for the state."""
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def unpack(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<f2").astype(np.float32)


class DenseIndex:
    """Unit dense centroids of live stories, one row each; `top` is a matrix product."""

    def __init__(self) -> None:
        self._rows = np.zeros((0, 0), dtype=np.float32)
        self._row: dict[int, int] = {}  # story -> row
        self._story: list[int] = []  # row -> story (-1: free)
        self._free: list[int] = []

    def __len__(self) -> int:
        return len(self._row)

    def set(self, story: int, centroid: np.ndarray) -> None:
        """Index (or re-index) `story` under its centroid (any length; normalised here)."""
        norm = float(np.linalg.norm(centroid))
        if norm <= 0:
            self.remove(story)
            return
        vector = centroid / norm
        row = self._row.get(story)
        if row is None:
            if self._free:
                row = self._free.pop()
            else:
                row = len(self._story)
                self._story.append(-1)
                if row >= len(self._rows):
                    grown = np.zeros((max(16, 2 * len(self._rows)), len(vector)), np.float32)
                    if len(self._rows):
                        grown[: len(self._rows)] = self._rows
                    self._rows = grown
            self._row[story] = row
            self._story[row] = story
        self._rows[row] = vector

    def remove(self, story: int) -> None:
        row = self._row.pop(story, None)
        if row is not None:
            self._rows[row] = 0.0
            self._story[row] = -1
            self._free.append(row)

    def top(self, vector: np.ndarray, k: int, minimum: float) -> list[tuple[float, int]]:
        """Up to `k` (cosine, story) of at least `minimum`, best first (ties: older story)."""
        if not self._row or k <= 0:
            return []
        used = len(self._story)
        cosines = self._rows[:used] @ vector
        rows = np.flatnonzero(cosines >= minimum)
        if len(rows) > k:
            rows = rows[np.argpartition(-cosines[rows], k)[:k]]
        found = [(float(cosines[r]), self._story[r]) for r in rows if self._story[r] >= 0]
        return sorted(found, key=lambda cs: (-cs[0], cs[1]))
