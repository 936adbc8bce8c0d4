"""Alerts and explanations for every door: the alert round of `veille run`, a watch's
alerts (and their Atom feed), a story explained for a watch (why it matches, ranks and
holds together), and a story's timeline with the moments it crossed alert thresholds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from veille import clock
from veille.alerts import render as alert_render
from veille.alerts import stage
from veille.alerts.detect import (
    Bin,
    BreakingRule,
    bins,
    first_surge,
    independent_moments,
    moment,
    usual_rate,
)
from veille.cluster.explain import Grouped, Rarity, why_grouped
from veille.config import Settings
from veille.digest import Entry, Period
from veille.i18n import _
from veille.model import Story, Watch
from veille.operations import NotFound
from veille.operations.digests import build_digest
from veille.operations.following import get_watch
from veille.store import AlertRecord, Store
from veille.when import day_bounds, earliest_of_day, local_day, shown

TIMELINE_STEPS = 240  # the latest steps of a timeline shown (ten days of hours)


def send_alerts(
    store: Store, settings: Settings, now: datetime | None = None
) -> list[stage.AlertOutcome]:
    """One round: crossings noted, due alerts sent (see `veille.alerts.stage`)."""
    return stage.send_alerts(store, settings, now)


def watch_alerts(store: Store, watch: Watch, limit: int = 50) -> list[AlertRecord]:
    """The watch's alerts, the latest crossed first."""
    assert watch.id is not None
    return store.alerts(watch.id, limit=limit)


def alerts_feed(store: Store, watch: Watch, lang: str = "fr") -> str:
    """The watch's alerts as sent, as an Atom feed."""
    assert watch.id is not None
    sent = store.alerts(watch.id, status="sent", limit=alert_render.FEED_SIZE)
    return alert_render.feed(watch, [a.document for a in sent if a.document], lang)


# -- a story explained ---------------------------------------------------------------------


def _live(store: Store, story_id: int) -> Story:
    story = store.story(story_id)
    seen = 0
    while story is not None and story.merged_into is not None and seen < 10:
        story, seen = store.story(story.merged_into), seen + 1
    if story is None:
        raise NotFound(_("No story {id}.", id=story_id))
    return story


def _days(story: Story, zone: str) -> tuple[date, date]:
    """The first and last local days the story spans."""
    now = clock.now()
    first = story.first_seen or now
    return local_day(first, True, zone), local_day(story.last_seen or first, True, zone)


def _period(story: Story, zone: str) -> Period:
    """The local days the story spans: its articles are ranked among that period's stories
    (pages dated to their first day alone included)."""
    first, last = _days(story, zone)
    return Period(earliest_of_day(first, zone), day_bounds(last, zone)[1], "story", zone)


def explain_story(store: Store, settings: Settings, story_id: int, watch: str) -> Entry | None:
    """The story as the watch sees it over the days it spans: why it matches, where it
    ranks and why its articles are together; None when the watch does not match it.
    NotFound for an unknown watch or story."""
    found = get_watch(store, watch)
    story = _live(store, story_id)
    bare = replace(found, id=None)
    digest = build_digest(store, settings, bare, _period(story, settings.timezone), limit=100_000)
    return next((e for e in digest.entries if e.story_id == story.id), None)


def story_grouping(store: Store, settings: Settings, story_id: int) -> tuple[Grouped, ...]:
    """Why each of the story's articles is in it (no watch needed); a word's rarity is
    measured among the articles of the local days the story spans."""
    story = _live(store, story_id)
    articles = store.story_articles(story.id)
    ids = [a.id for a in articles if a.id is not None]
    first, last = _days(story, settings.timezone)
    pool = store.articles(since=first, until=last, zone=settings.timezone)
    mentions = {aid: found for aid, (_h, found, _s) in store.mentions(ids).items()}
    return tuple(
        why_grouped(articles, store.copies(ids), store.brief(story.id), mentions, Rarity(pool))
    )


# -- timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    """A moment the story crossed a threshold: `new` when it appeared (an instant alert's
    threshold), `breaking` when its sources surged."""

    kind: str
    at: datetime
    details: dict


@dataclass(frozen=True)
class TimelineView:
    story_id: int
    step: timedelta  # an hour, or a day for a story of more than three days
    bins: tuple[Bin, ...]
    crossings: tuple[Crossing, ...]
    alerts: tuple[AlertRecord, ...]  # the watch's alerts on this story, when one is given
    zone: str | None = None  # where its hours and days are (times naive UTC, as stored)

    def shown(self, when: datetime) -> str:
        """A time of the timeline, local."""
        return shown(when, True, self.zone)

    def step_shown(self, start: datetime) -> str:
        """A step's start, local: its day, or its day and hour."""
        if self.step >= timedelta(days=1):
            return local_day(start, True, self.zone).isoformat()
        return shown(start, True, self.zone)


def story_timeline(
    store: Store, settings: Settings, story_id: int, watch: str | None = None
) -> TimelineView:
    """Articles and new independent sources per hour (or day), and the moments the story
    crossed the alert thresholds: against its own pace, and with `watch` against that
    watch's usual pace too (and the alerts the watch recorded on it)."""
    story = _live(store, story_id)
    articles = store.story_articles(story.id)
    ids = [a.id for a in articles if a.id is not None]
    seen = store.first_seen(ids)
    zone = settings.timezone
    sources = [w for _s, w in independent_moments(articles, store.copies(ids), seen, zone)]
    # A page giving its day alone counts from when it was seen (see `detect.moment`).
    times = [
        moment(a.published, a.published_time_known, seen[a.id], zone)
        for a in articles
        if a.id in seen
    ]
    rule = stage.rule_of(settings)
    usual = 0.0
    recorded: tuple[AlertRecord, ...] = ()
    if watch is not None:
        found = get_watch(store, watch)
        usual = _usual_rate(store, settings, found, story, rule)
        assert found.id is not None
        recorded = tuple(store.alerts(found.id, story_ids=ids))
    step, counted = bins(times, sources, zone)
    crossings = []
    if sources:
        crossings.append(Crossing("new", sources[0], {"sources": 1}))
    surge = first_surge(sources, rule, usual)
    if surge is not None:
        crossings.append(Crossing("breaking", surge.at, surge.as_dict()))
    return TimelineView(
        story.id, step, tuple(counted[-TIMELINE_STEPS:]), tuple(crossings), recorded, zone
    )


def _usual_rate(
    store: Store, settings: Settings, watch: Watch, story: Story, rule: BreakingRule
) -> float:
    """The watch's usual pace over the story's days, from its other strong matches."""
    bare = replace(watch, id=None)
    period = _period(story, settings.timezone)
    digest = build_digest(store, settings, bare, period, limit=100_000)
    others = []
    for entry in digest.entries:
        if entry.story_id == story.id or entry.explanation.weak:
            continue
        articles = store.story_articles(entry.story_id)
        ids = [a.id for a in articles if a.id is not None]
        seen = store.first_seen(ids)
        moments = independent_moments(articles, store.copies(ids), seen, settings.timezone)
        others.append([w for _s, w in moments])
    return usual_rate(others, period.start - rule.baseline, rule)
