"""When a watch's digest is due, and the period it covers.

    daily 07:00        every day at 07:00 in the watch's time zone (Europe/Paris by
                       default), covering the 24 hours before
    daily              the same at 07:00
    hourly             every hour on the hour, covering the hour before
    every 6h / 30m     every so long from midnight, covering that long

Only the latest slot is ever due: a watch scheduled today does not send last month's
digests, and a machine that slept sends one digest on waking, not one per missed slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from veille.digest.build import Period
from veille.i18n import translate
from veille.when import DEFAULT_ZONE

_DAILY = re.compile(r"^daily(?:\s+(\d{1,2}):(\d{2}))?$")
_EVERY = re.compile(r"^every\s+(\d+)\s*([mh])$")


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    interval: timedelta
    at: time  # the first slot of the day, local time
    text: str


def parse_schedule(text: str) -> Schedule:
    value = " ".join(text.strip().lower().split())
    if value == "hourly":
        return Schedule(timedelta(hours=1), time(0, 0), value)
    if match := _DAILY.match(value):
        hour, minute = int(match.group(1) or 7), int(match.group(2) or 0)
        if hour > 23 or minute > 59:
            raise ScheduleError(translate("no such time of day: « {text} »", None, text=text))
        return Schedule(timedelta(days=1), time(hour, minute), value)
    if match := _EVERY.match(value):
        amount = int(match.group(1))
        interval = timedelta(hours=amount) if match.group(2) == "h" else timedelta(minutes=amount)
        if not timedelta(minutes=5) <= interval <= timedelta(days=1):
            raise ScheduleError(
                translate("an interval from 5 minutes to a day: « {text} »", None, text=text)
            )
        return Schedule(interval, time(0, 0), value)
    raise ScheduleError(
        translate("unknown schedule « {text} » (daily 07:00, hourly, every 6h)", None, text=text)
    )


def due_period(schedule: Schedule, now: datetime, zone: str = DEFAULT_ZONE) -> Period:
    """The period of the latest slot at or before `now` (naive UTC, like the store)."""
    tz = ZoneInfo(zone)
    local = now.replace(tzinfo=UTC).astimezone(tz)
    first = datetime.combine(local.date(), schedule.at, tzinfo=tz)
    if first > local:
        first -= timedelta(days=1)
    steps = (local - first) // schedule.interval
    slot = first + steps * schedule.interval
    end = slot.astimezone(UTC).replace(tzinfo=None)
    start = end - schedule.interval
    key = (
        slot.strftime("%Y-%m-%d")
        if schedule.interval >= timedelta(days=1)
        else slot.strftime("%Y-%m-%dT%H:%M")
    )
    return Period(start, end, key, zone)
