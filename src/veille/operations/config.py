"""The config file's `[[sources]]` and `[[watches]]` brought into the store by `veille run`,
through the same operations as a source or a watch added by hand."""

from __future__ import annotations

from veille.config import Settings
from veille.i18n import _
from veille.model import Failure
from veille.operations import Invalid
from veille.operations.following import add_source, make_watch, save_watch
from veille.store import Store
from veille.urls import domain


def sync_config(store: Store, settings: Settings) -> list[Failure]:
    """Add the config's sources and watches (a watch named in the config takes the
    config's definition); what cannot be read is recorded and returned, the rest goes on."""
    problems: list[Failure] = []
    for entry in settings.sources:
        location = str(entry.get("url") or entry.get("path") or "")
        if not location:
            problems.append(Failure("config", "[[sources]]", "config", _("a source needs url")))
            continue
        try:
            add_source(
                store,
                settings,
                location,
                name=str(entry.get("name") or domain(location) or location),
                every=str(entry.get("every", "15m")),
                kind=str(entry.get("kind", "feed")),
                local=True,  # the config is the owner's: local feed files are theirs
            )
        except Invalid as error:
            problems.append(Failure("config", location, "config", error.reason))
    for entry in settings.watches:
        watch = make_watch(
            str(entry.get("name", "")),
            str(entry.get("query", "")),
            entry.get("languages"),
            entry.get("sites"),
            entry.get("schedule"),
            entry.get("targets"),
            entry.get("alerts"),
            entry.get("quiet_hours"),
            entry.get("max_alerts"),
            entry.get("relevance_floor"),
        )
        try:
            save_watch(store, settings, watch)
        except Invalid as error:
            problems.append(Failure("config", f"watch:{watch.name}", "config", error.reason))
    for problem in problems:
        store.log(problem)
    return problems
