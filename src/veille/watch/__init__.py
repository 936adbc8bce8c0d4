"""Watches: what a reader follows, as a query, and the stories that match it."""

from veille.config import DeliverySettings
from veille.i18n import _
from veille.model import Watch
from veille.watch.match import Searchable, highlights, matches, searchable, term_hits
from veille.watch.query import FIELDS, And, Node, Not, Or, QueryError, Term, parse, terms_of


def watch_problems(watch: Watch, delivery: DeliverySettings | None = None) -> list[str]:
    """Why a watch cannot be saved, in words (empty: it can): no name (or a number), a
    query that cannot be read, an unknown schedule, a target veille does not know or may
    not reach (see `veille.digest.deliver.target_problem`), alert settings that cannot be
    read."""
    # Imported here: digests are built from watches, so the digest package imports this one.
    from veille.digest.deliver import target_problem
    from veille.digest.schedule import ScheduleError, parse_schedule

    delivery = delivery or DeliverySettings()
    problems = [] if watch.name.strip() else [_("a watch needs a name")]
    if watch.name.strip().isdigit():
        # A number names a watch by its id, everywhere a watch is asked for.
        problems.append(_("a watch's name cannot be a number: « {name} »", name=watch.name))
    try:
        parse(watch.query)
    except QueryError as error:
        problems.append(str(error))
    if watch.schedule:
        try:
            parse_schedule(watch.schedule)
        except ScheduleError as error:
            problems.append(str(error))
    problems.extend(p for t in watch.targets if (p := target_problem(t, delivery)) is not None)
    problems.extend(alert_problems(watch))
    return problems


ALERT_KINDS = ("instant", "breaking")


def alert_problems(watch: Watch) -> list[str]:
    """Why a watch's alert settings and relevance floor cannot be taken (empty: they can)."""
    from veille.alerts.limits import QuietHoursError, parse_quiet

    problems = [
        _("unknown alert « {kind} » (instant, breaking)", kind=kind)
        for kind in watch.alerts
        if kind not in ALERT_KINDS
    ]
    if watch.quiet_hours:
        try:
            parse_quiet(watch.quiet_hours)
        except QuietHoursError as error:
            problems.append(str(error))
    cap = watch.max_alerts
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
        problems.append(_("alerts per hour: a whole number, 0 for no cap: « {value} »", value=cap))
    floor = watch.relevance_floor
    if floor is not None and (
        not isinstance(floor, int | float) or isinstance(floor, bool) or not 0 <= floor <= 1
    ):
        problems.append(_("the relevance floor is a number from 0 to 1: « {value} »", value=floor))
    return problems


__all__ = [
    "ALERT_KINDS",
    "FIELDS",
    "And",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Searchable",
    "Term",
    "alert_problems",
    "highlights",
    "matches",
    "parse",
    "searchable",
    "term_hits",
    "terms_of",
    "watch_problems",
]
