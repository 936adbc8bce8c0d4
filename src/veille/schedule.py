"""When to poll a source next: adapted to how often it publishes, backed off when failing.

Like Miniflux's entry-frequency scheduler: a feed with W entries in the last week is
polled about every week / W, never more often than the user asked, never less than daily.
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_EVERY = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=24)
WEEK = timedelta(days=7)


def next_interval(every: timedelta | None, weekly_entries: int) -> timedelta:
    floor = every or DEFAULT_EVERY
    if weekly_entries <= 0:
        return max(floor, MAX_INTERVAL)
    return min(max(floor, WEEK / weekly_entries), max(floor, MAX_INTERVAL))


def backoff(interval: timedelta, failures: int) -> timedelta:
    """After `failures` failures in a row: twice the wait each time, a day at most."""
    return min(interval * (2 ** min(failures, 16)), max(interval, MAX_INTERVAL))


def parse_every(text: str) -> timedelta:
    """'15m', '2h', '1d', '90s' or a number of minutes."""
    text = text.strip().lower()
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if text and text[-1] in units:
        return timedelta(**{units[text[-1]]: float(text[:-1])})
    return timedelta(minutes=float(text))
