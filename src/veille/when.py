"""Publication times: how they travel, how they are stored, how they are shown.

- Between sources, extraction and the pipeline, a publication time is a `datetime`: *aware*
  when the time of day is known (an instant, with the offset the publisher meant), *naive at
  midnight* when only the day is known.
- The store keeps naive UTC, like every other time in it, plus whether the time of day is
  known (a day alone is kept as that day at 00:00 and never shown as "00:00").
- Pages, digests and the API show the local time, Europe/Paris unless configured.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from veille import clock

DEFAULT_ZONE = "Europe/Paris"


def zone(name: str | None = None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def day_only(day: date) -> datetime:
    """A publication known to the day."""
    return datetime.combine(day, time())


def has_time(value: datetime) -> bool:
    return value.tzinfo is not None


# Publication times outside these bounds are a page's error (0001-01-01 placeholders, a
# year typed 2206), not news: the article is kept as undated.
EARLIEST = datetime(1900, 1, 1)
AHEAD = timedelta(days=2)  # a time zone off, a clock ahead: later is no publication time


def plausible(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """The publication time, or None when it cannot be one."""
    if value is None:
        return None
    try:
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        return None
    latest = (now or datetime.now(UTC)).replace(tzinfo=None) + AHEAD
    return value if EARLIEST <= naive <= latest else None


def epoch_seconds(value: datetime) -> float:
    """Seconds since 1970 of a store time (naive UTC) or an aware one, whatever the year
    (`datetime.timestamp()` takes a naive time as local and fails before year 2)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH).total_seconds()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_store(value: datetime | None) -> tuple[datetime | None, bool]:
    """(naive UTC or the day at 00:00, whether the time of day is known)."""
    if value is None:
        return None, False
    if value.tzinfo is None:
        return datetime.combine(value.date(), time()), False
    return value.astimezone(UTC).replace(tzinfo=None), True


def from_store(value: datetime | None, time_known: bool) -> datetime | None:
    """Back to the travelling form: aware UTC, or the day alone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if time_known else day_only(value.date())


def local(value: datetime, time_known: bool, where: str | None = None) -> datetime:
    """A stored time in the local zone (a day alone stays that day)."""
    if not time_known:
        return day_only(value.date())
    return value.replace(tzinfo=UTC).astimezone(zone(where))


def rfc3339(value: datetime | None, time_known: bool, where: str | None = None) -> str | None:
    """'2026-02-03T14:32:00+01:00', or '2026-02-03' (RFC 3339 full-date) for a day alone."""
    if value is None:
        return None
    if not time_known:
        return value.date().isoformat()
    return local(value, True, where).isoformat(timespec="seconds")


def shown(value: datetime | None, time_known: bool, where: str | None = None) -> str:
    """'2026-02-03 14:32' in local time, or '2026-02-03' when only the day is known."""
    if value is None:
        return "—"
    if not time_known:
        return value.strftime("%Y-%m-%d")
    return local(value, True, where).strftime("%Y-%m-%d %H:%M")


def local_day(value: datetime, time_known: bool, where: str | None = None) -> date:
    """The day a reader there would say it was published."""
    return local(value, time_known, where).date()


def days_span(
    first: datetime | None,
    last: datetime | None,
    where: str | None = None,
    written: Callable[[date], str] = date.isoformat,
) -> str:
    """The local days between two stored times, a story's or an entity's first and last:
    '2026-02-03 → 2026-02-05', one day once, '—' without a first (`written` writes a day)."""
    if first is None:
        return "—"
    start = local_day(first, True, where)
    end = local_day(last, True, where) if last else start
    return written(start) if start == end else f"{written(start)} → {written(end)}"


def today(where: str | None = None) -> date:
    """The day it is now for a reader there."""
    return local_day(clock.now(), True, where)


def day_start(day: date, where: str | None = None) -> datetime:
    """When a local day begins, in naive UTC (the store's bounds for "that day"). A day
    alone is stored at its 00:00 UTC, which lies within the same local day east of UTC."""
    try:
        begins = datetime.combine(day, time(), tzinfo=zone(where)).astimezone(UTC)
    except OverflowError:  # the first or last days a datetime can hold
        return datetime.min if day.year == 1 else datetime.max
    return begins.replace(tzinfo=None)


def earliest_of_day(day: date, where: str | None = None) -> datetime:
    """The earliest stored time (naive UTC) belonging to a local day: its start, or the
    day's 00:00 where a day alone is stored, which is later only west of UTC."""
    return min(day_start(day, where), datetime.combine(day, time()))


def day_bounds(day: date, where: str | None = None) -> tuple[datetime, datetime]:
    """[start, end) of a local day in naive UTC."""
    following = day + timedelta(days=1) if day < date.max else day
    return day_start(day, where), datetime.max if day == date.max else day_start(following, where)
