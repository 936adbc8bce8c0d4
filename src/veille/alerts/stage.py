"""The alert stage, run by `veille run` after each poll: for every watch asking for alerts,
note the stories that crossed one of its thresholds, then send what is due.

1. Crossings. The stories active over the last `[alerts] lookback_hours` that match the
   watch (weak matches never alert) are looked at: `instant` when one began after the
   watch switched alerts on, `breaking` when its independent sources surged
   (`veille.alerts.detect`). Each crossing is written as a due `alerts` row before anything
   is sent, once per watch, story and threshold: a story that absorbed one already alerted
   is not alerted again.
2. Sending. Due alerts wait out the watch's quiet hours and its rate cap (alerts sent in
   the last hour); one held longer than `[alerts] expire_hours` is dropped (the digest will
   carry the story). Each target's sending is a `deliveries` row, pending with its payload
   before it is sent, as digests are: a crash at any point sends nothing twice on restart
   and loses nothing.
"""

from __future__ import annotations

import time as timer
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from veille import clock
from veille.alerts.detect import (
    BreakingRule,
    first_surge,
    independent_moments,
    usual_rate,
)
from veille.alerts.limits import is_quiet
from veille.alerts.render import FEED_SIZE, Alert, document, payload
from veille.config import Settings
from veille.digest.build import Entry, Period, build
from veille.digest.deliver import Outcome, deliver_once
from veille.digest.render import rfc3339
from veille.i18n import translate
from veille.model import Failure, Watch
from veille.store import AlertRecord, Store
from veille.watch.rank import weights_from_config
from veille.when import earliest_of_day, local_day

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class AlertOutcome:
    """What became of a due alert in this round."""

    watch: str
    story_id: int
    kind: str
    status: str  # sent, failed, held (quiet hours), capped (rate cap), expired
    title: str = ""
    targets: tuple[Outcome, ...] = ()
    reason: str | None = None


@dataclass
class Watched:
    """A watch's matching stories now: their entries (strong matches only), the moments
    their independent sources joined, and their articles."""

    entries: dict[int, Entry] = field(default_factory=dict)
    moments: dict[int, list[datetime]] = field(default_factory=dict)
    articles: dict[int, set[int]] = field(default_factory=dict)


def rule_of(settings: Settings) -> BreakingRule:
    config = settings.alerts
    return BreakingRule(
        window=timedelta(minutes=config.window_minutes),
        min_sources=config.min_sources,
        ratio=config.ratio,
        baseline=timedelta(hours=config.baseline_hours),
    )


def watched(store: Store, settings: Settings, watch: Watch, now: datetime) -> Watched:
    """The watch's strong matches among the stories active over the lookback."""
    # From the local day's start: a story of pages dated to the day alone is stored at
    # that day's 00:00.
    day = local_day(now - timedelta(hours=settings.alerts.lookback_hours), True, settings.timezone)
    start = earliest_of_day(day, settings.timezone)
    # Not the stored watch: nothing counts as carried by a digest here.
    bare = replace(watch, id=None)
    period = Period(start, now + timedelta(days=1), "alerts")
    digest = build(
        store, bare, period, weights_from_config(settings.ranking), limit=100_000, now=now
    )
    found = Watched()
    for entry in digest.entries:
        if entry.explanation.weak:
            continue
        articles = store.story_articles(entry.story_id)
        ids = [a.id for a in articles if a.id is not None]
        seen = store.first_seen(ids)
        found.entries[entry.story_id] = entry
        found.articles[entry.story_id] = set(ids)
        found.moments[entry.story_id] = [
            when
            for _site, when in independent_moments(
                articles, store.copies(ids), seen, settings.timezone
            )
        ]
    return found


def record_crossings(
    store: Store, settings: Settings, watch: Watch, now_watched: Watched, now: datetime
) -> int:
    """Write a due alert for each threshold a matching story crossed (see the module's
    notes); returns how many were new."""
    assert watch.id is not None
    rule = rule_of(settings)
    lookback = now - timedelta(hours=settings.alerts.lookback_hours)
    since = max(lookback, watch.alerts_since or lookback)
    alerted = {
        kind: {a.story_id for a in store.alerts(watch.id, kind=kind)} for kind in watch.alerts
    }
    new = 0
    for story_id, times in now_watched.moments.items():
        if not times:
            continue
        for kind in watch.alerts:
            # This story, or one it has absorbed since (a story's id is its first article's).
            if alerted.get(kind, set()) & now_watched.articles[story_id]:
                continue
            if kind == "instant":
                if times[0] < since:
                    continue
                crossed = now
                details: dict = {"sources": len(times), "first_source": rfc3339(times[0])}
            else:
                others = [m for other, m in now_watched.moments.items() if other != story_id]
                usual = usual_rate(others, now - rule.baseline, rule)
                surge = first_surge(times, rule, usual, since=since, until=now)
                if surge is None:
                    continue
                crossed, details = surge.at, surge.as_dict()
            new += store.record_alert(watch.id, story_id, kind, crossed, details)
    return new


def deliver_due(
    store: Store,
    settings: Settings,
    watch: Watch,
    now_watched: Watched,
    now: datetime,
    sleep: Callable[[float], None] = timer.sleep,
) -> list[AlertOutcome]:
    """Send the watch's due alerts that quiet hours and the cap let through."""
    assert watch.id is not None
    due = sorted(store.alerts(watch.id, status="due"), key=lambda a: (a.created_at, a.id))
    if not due:
        return []
    lang = settings.digest.language
    config = settings.alerts
    quiet = is_quiet(watch.quiet_hours or config.quiet_hours, now, settings.timezone)
    cap = watch.max_alerts if watch.max_alerts is not None else config.max_per_hour
    sent = store.alerts_sent_since(watch.id, now - HOUR)
    earlier = [
        a.document for a in store.alerts(watch.id, status="sent", limit=FEED_SIZE) if a.document
    ]
    outcomes = []
    for record in due:
        entry = _entry(store, now_watched, record)
        title = entry.title if entry else ""
        if now - record.created_at > timedelta(hours=config.expire_hours) or entry is None:
            store.finish_alert(record.id, "expired")
            outcomes.append(
                AlertOutcome(
                    watch.name,
                    record.story_id,
                    record.kind,
                    "expired",
                    title,
                    reason=translate("no longer matches", lang) if entry is None else None,
                )
            )
            continue
        if quiet or (cap and sent >= cap):
            status = "held" if quiet else "capped"
            outcomes.append(AlertOutcome(watch.name, record.story_id, record.kind, status, title))
            continue
        alert = Alert(
            watch,
            record.kind,
            record.story_id,
            entry,
            record.crossed_at,
            record.details,
            now,
            settings.timezone,
        )
        results = deliver_once(
            store,
            watch.id,
            alert.key,
            list(watch.targets),
            lambda target, alert=alert: payload(alert, target, lang, settings.smtp, earlier),
            settings.smtp,
            settings.delivery,
            sleep,
        )
        for result in results:
            if result.status == "failed":
                store.log(
                    Failure(f"watch:{watch.name}", result.target, "alert", result.error or "")
                )
        if all(r.status in ("sent", "skipped") for r in results):
            kept = document(alert, lang)
            store.finish_alert(record.id, "sent", kept)
            earlier.insert(0, kept)
            sent += 1
            status = "sent"
        else:
            status = "failed"  # stays due: tried again next round, until it expires
        outcomes.append(
            AlertOutcome(watch.name, record.story_id, record.kind, status, title, tuple(results))
        )
    return outcomes


def _entry(store: Store, now_watched: Watched, record: AlertRecord) -> Entry | None:
    """The alert's story as it matches now (followed into the story that absorbed it)."""
    story_id: int | None = record.story_id
    for _ in range(10):  # a chain of merges is short; a loop in it is not followed forever
        if story_id is None:
            return None
        if story_id in now_watched.entries:
            return now_watched.entries[story_id]
        story = store.story(story_id)
        story_id = story.merged_into if story else None
    return None


def send_alerts(
    store: Store,
    settings: Settings,
    now: datetime | None = None,
    sleep: Callable[[float], None] = timer.sleep,
) -> list[AlertOutcome]:
    """One round of alerts for every watch that asks for them and has targets."""
    now = now or clock.now()
    outcomes: list[AlertOutcome] = []
    for watch in store.watches():
        if not watch.alerts or not watch.targets or watch.id is None:
            continue
        found = watched(store, settings, watch, now)
        record_crossings(store, settings, watch, found, now)
        outcomes.extend(deliver_due(store, settings, watch, found, now, sleep))
    return outcomes
