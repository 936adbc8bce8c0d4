"""What holds an alert back: a watch's quiet hours (local time) and its rate cap."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from veille.i18n import translate

_QUIET = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class QuietHoursError(ValueError):
    pass


def parse_quiet(text: str) -> tuple[time, time]:
    """ "22:00-07:00" -> (22:00, 07:00); QuietHoursError when it is not two times."""
    match = _QUIET.match(text.strip())
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) != (h2, m2):
            return time(h1, m1), time(h2, m2)
    raise QuietHoursError(
        translate("quiet hours are two times of day: « {text} » (22:00-07:00)", None, text=text)
    )


def is_quiet(text: str | None, now: datetime, zone: str) -> bool:
    """Whether `now` (naive UTC) falls in the quiet hours `text` of the time zone."""
    if not text:
        return False
    start, end = parse_quiet(text)
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight
