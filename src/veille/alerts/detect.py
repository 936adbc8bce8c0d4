"""When a story breaks: its independent sources arriving faster than it and the watch
usually see, and the moments it crossed that threshold. Plain functions over times.

A source's moment is when it joined the story: the article's time of publication when the
page gives one, else when veille first saw it. A day alone is no time of day: a page dated
to the day alone, that (local) day, counts from when it was seen, never from midnight; an
older day stays old, so a backfill never looks like news breaking. One moment per outlet:
its first article; a syndicated copy counts with its original (`independent_moments`).

Breaking at time `t`: at least `min_sources` sources joined in the `window` before `t`, and
at least `ratio` times as many as expected there, the expectation being the faster of the
story's own rate over the `baseline` before the window and the watch's usual rate (sources
per story-hour of its other matching stories). A story appearing with many sources at once
breaks against the watch's usual rate; one that has grown at a steady pace for hours
needs `ratio` times that pace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from veille.model import Article, Copy
from veille.urls import domain
from veille.when import day_bounds, day_start, local, local_day

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class BreakingRule:
    """The breaking threshold (`[alerts]` in config.toml). On gnews-fr's day of French news
    (bench/alerts.py, a headline standing for a source), these defaults make 41 of 3,974
    stories break (1 %): two sources in the window would make 200 (5 %), five 12; a bare
    count of three, the pace ignored, 42, and the ratio counts more for a watch whose
    stories usually grow faster than the day's 0.96 source an hour."""

    window: timedelta = HOUR
    min_sources: int = 3
    ratio: float = 3.0
    baseline: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Surge:
    """A story crossing the breaking threshold at `at`: `sources` joined in the window
    where `expected` were, from its own rate and the watch's usual one (per hour)."""

    at: datetime
    sources: int
    expected: float
    own_rate: float
    usual_rate: float
    window: timedelta

    def as_dict(self) -> dict[str, float | int]:
        return {
            "sources": self.sources,
            "expected": round(self.expected, 3),
            "own_rate": round(self.own_rate, 3),
            "usual_rate": round(self.usual_rate, 3),
            "window_minutes": int(self.window.total_seconds() // 60),
        }


def moment(
    published: datetime | None,
    time_known: bool,
    first_seen: datetime,
    zone: str | None = None,
) -> datetime:
    """When an article joined the news (see the module's notes); times naive UTC, as
    stored, and a day alone is the publisher's day where `zone` is."""
    if published is None:
        return first_seen
    if not time_known:
        # No time of day: when it was seen, unless that was after the day ended. An older
        # day is placed at its last instant (where `order_key` places it too), the latest
        # it can have been out: old, and no midnight it never stated.
        return min(first_seen, day_bounds(published.date(), zone)[1] - timedelta(seconds=1))
    return min(published, first_seen)


def independent_moments(
    articles: Iterable[Article],
    copies: Iterable[Copy],
    first_seen: dict[int, datetime],
    zone: str | None = None,
) -> list[tuple[str, datetime]]:
    """(outlet, moment) of each independent source of a story, earliest first: an
    outlet's first article, syndicated copies left out (they count with their original)."""
    listed = list(articles)
    ids = {a.id for a in listed}
    copied = {c.copy_id for c in copies if c.original_id in ids and c.copy_id in ids}
    first: dict[str, datetime] = {}
    for article in listed:
        if article.id in copied or article.id not in first_seen:
            continue
        site = article.site_name or domain(article.url) or article.url
        when = moment(article.published, article.published_time_known, first_seen[article.id], zone)
        if site not in first or when < first[site]:
            first[site] = when
    return sorted(((s, w) for s, w in first.items()), key=lambda p: (p[1], p[0]))


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def surge_at(
    moments: Sequence[datetime], at: datetime, rule: BreakingRule, usual_rate: float = 0.0
) -> Surge | None:
    """The surge at `at`, if the story is breaking then."""
    start = at - rule.window
    recent = sum(1 for m in moments if start < m <= at)
    if recent < rule.min_sources:
        return None
    before = [m for m in moments if start - rule.baseline < m <= start]
    own = 0.0
    if before:
        own = len(before) / max(_hours(start - min(before)), _hours(rule.window))
    expected = _hours(rule.window) * max(own, usual_rate)
    if recent < rule.ratio * expected:
        return None
    return Surge(at, recent, expected, own, usual_rate, rule.window)


def first_surge(
    moments: Sequence[datetime],
    rule: BreakingRule,
    usual_rate: float = 0.0,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Surge | None:
    """The first moment (at a source's arrival, from `since` to `until`) the story breaks."""
    for at in sorted(set(moments)):
        if (since is not None and at < since) or (until is not None and at > until):
            continue
        found = surge_at(moments, at, rule, usual_rate)
        if found is not None:
            return found
    return None


def usual_rate(stories: Iterable[Sequence[datetime]], start: datetime, rule: BreakingRule) -> float:
    """Sources per story-hour over the stories given, counting their sources from `start`:
    each story's sources over its span (at least one window long)."""
    sources = 0
    hours = 0.0
    for moments in stories:
        kept = [m for m in moments if m >= start]
        if not kept:
            continue
        sources += len(kept)
        hours += max(_hours(max(kept) - min(kept)), _hours(rule.window))
    return sources / hours if hours else 0.0


@dataclass(frozen=True)
class Bin:
    start: datetime
    articles: int
    sources: int  # outlets first seen in the story then


def bins(
    article_moments: Sequence[datetime],
    source_moments: Sequence[datetime],
    zone: str | None = None,
) -> tuple[timedelta, list[Bin]]:
    """Articles and new independent sources per hour (per day when the story spans more
    than three days), every step of the span shown, empty ones too. Moments are naive UTC;
    steps are the hours and days where `zone` is, each bin's start in naive UTC."""
    if not article_moments:
        return HOUR, []
    first, last = min(article_moments), max(article_moments)
    if last - first > timedelta(days=3):
        # Local days: 23 or 25 hours long when the clocks change.
        step, first_day = timedelta(days=1), local_day(first, True, zone)

        def slot(when: datetime) -> int:
            return (local_day(when, True, zone) - first_day).days

        starts = [day_start(first_day + timedelta(days=i), zone) for i in range(slot(last) + 1)]
    else:
        # From the local hour the first falls in (a zone's offset may be a half hour).
        within = local(first, True, zone)
        step = HOUR
        origin = first - timedelta(
            minutes=within.minute, seconds=within.second, microseconds=within.microsecond
        )

        def slot(when: datetime) -> int:
            return int((when - origin) / HOUR)

        starts = [origin + i * HOUR for i in range(slot(last) + 1)]
    articles = [0] * len(starts)
    sources = [0] * len(starts)
    for when in article_moments:
        articles[slot(when)] += 1
    for when in source_moments:
        if first <= when <= last:
            sources[slot(when)] += 1
    return step, [Bin(s, a, n) for s, a, n in zip(starts, articles, sources, strict=True)]
