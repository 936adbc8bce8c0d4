"""Watches: what a reader follows, as a query, and the stories that match it."""

from veille.i18n import _
from veille.model import Watch
from veille.watch.match import Searchable, highlights, matches, searchable, term_hits
from veille.watch.query import FIELDS, And, Node, Not, Or, QueryError, Term, parse, terms_of


def watch_problems(watch: Watch) -> list[str]:
    """Why a watch cannot be saved, in words (empty: it can)."""
    # Imported here: digests are built from watches, so the digest package imports this one.
    from veille.digest.deliver import DeliveryError, parse_target
    from veille.digest.schedule import ScheduleError, parse_schedule

    problems = [] if watch.name.strip() else [_("a watch needs a name")]
    try:
        parse(watch.query)
    except QueryError as error:
        problems.append(str(error))
    if watch.schedule:
        try:
            parse_schedule(watch.schedule)
        except ScheduleError as error:
            problems.append(str(error))
    for target in watch.targets:
        try:
            parse_target(target)
        except DeliveryError as error:
            problems.append(str(error))
    return problems


__all__ = [
    "FIELDS",
    "And",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Searchable",
    "Term",
    "highlights",
    "matches",
    "parse",
    "searchable",
    "term_hits",
    "terms_of",
    "watch_problems",
]
