"""Fetching over HTTP: politeness, limits, retries, address safety, WARC evidence."""

from veille.fetch.archive import WarcArchive, WarcReplayTransport
from veille.fetch.client import Fetcher, FetchError, FetchResult, FetchSettings

__all__ = [
    "FetchError",
    "FetchResult",
    "FetchSettings",
    "Fetcher",
    "WarcArchive",
    "WarcReplayTransport",
]
