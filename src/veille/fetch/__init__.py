"""Fetching over HTTP: politeness, limits, retries, address safety, WARC evidence."""

from veille.fetch.archive import ArchiveError, WarcArchive, WarcReplayTransport
from veille.fetch.client import Fetcher, FetchError, FetchResult, FetchSettings

__all__ = [
    "ArchiveError",
    "FetchError",
    "FetchResult",
    "FetchSettings",
    "Fetcher",
    "WarcArchive",
    "WarcReplayTransport",
]
