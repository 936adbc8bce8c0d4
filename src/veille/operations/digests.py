"""A watch's digest: built for a day, rendered, sent now, or sent when its schedule says.

`send_digest` is the one build-and-deliver: "send now" on a page or in the API, `veille
digest --send` and the scheduled sending of `veille run` all go through it.
"""

from __future__ import annotations

from datetime import date, datetime

from veille import clock
from veille.config import Settings
from veille.digest import Digest, Period, build
from veille.digest.deliver import Outcome, deliver
from veille.digest.render import FORMATS, render
from veille.digest.schedule import due_period, parse_schedule
from veille.i18n import _
from veille.model import Failure, Watch
from veille.operations import Invalid
from veille.store import Store
from veille.watch.rank import weights_from_config
from veille.when import today


def build_digest(
    store: Store,
    settings: Settings,
    watch: Watch,
    period: Period,
    limit: int = 30,
    now: datetime | None = None,
) -> Digest:
    """The watch's digest for the period, ranked with the `[ranking]` weights."""
    return build(store, watch, period, weights_from_config(settings.ranking), limit, now)


def digest_of_day(
    store: Store, settings: Settings, watch: Watch, day: date | None = None, limit: int = 30
) -> Digest:
    return build_digest(
        store,
        settings,
        watch,
        Period.day(day or today(settings.timezone), settings.timezone),
        limit,
    )


def render_digest(digest: Digest, fmt: str, lang: str) -> str:
    if fmt not in FORMATS:
        raise Invalid([_("Unknown format: {format}.", format=fmt)])
    return render(digest, fmt, lang)


def send_digest(
    store: Store,
    settings: Settings,
    watch: Watch,
    period: Period,
    lang: str | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Build the watch's digest for the period and send it to each of its targets (once
    per period and target: one already sent is skipped). Failures are recorded in the log
    (`veille errors`) and returned with their reason."""
    if not watch.targets:
        raise Invalid(
            [_("« {name} » has nowhere to send its digest: add a target", name=watch.name)]
        )
    digest = build_digest(store, settings, watch, period, now=now)
    outcomes = deliver(
        store,
        digest,
        list(watch.targets),
        lang or settings.digest.language,
        settings.smtp,
        settings.delivery,
    )
    for outcome in outcomes:
        if outcome.status == "failed":
            store.log(
                Failure(f"watch:{watch.name}", outcome.target, "deliver", outcome.error or "")
            )
    return outcomes


def send_due(store: Store, settings: Settings, now: datetime | None = None) -> list[Outcome]:
    """Send each scheduled watch's digest whose slot has come and is not sent yet."""
    now = now or clock.now()
    outcomes: list[Outcome] = []
    for watch in store.watches():
        if not watch.schedule or not watch.targets or watch.id is None:
            continue
        period = due_period(parse_schedule(watch.schedule), now, settings.timezone)
        done = [store.delivery(watch.id, period.key, t) for t in watch.targets]
        if all(d is not None and d.status == "sent" for d in done):
            continue
        outcomes.extend(send_digest(store, settings, watch, period, now=now))
    return outcomes
