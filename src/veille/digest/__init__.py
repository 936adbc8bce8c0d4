"""Digests: a watch's stories for a period, rendered and delivered."""

from veille.digest.build import Digest, Entry, EntrySource, Period, build

__all__ = ["Digest", "Entry", "EntrySource", "Period", "build"]
