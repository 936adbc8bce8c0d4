"""`veille watch ...`, `veille digest`, `veille search` and `veille demo`: what a reader
follows, and what they receive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from veille.cli import ConfigOption, DbOption, LimitOption, _print, app, console
from veille.cli.tables import Col
from veille.cli.usage import (
    MAX_PAGE,
    UserError,
    bounded,
    errors,
    load_settings,
    operating,
    output_file,
    output_folder,
    parse_day,
)
from veille.demo import run_demo
from veille.digest import Entry, Period, why
from veille.digest.render import FORMATS
from veille.i18n import _, language, n_
from veille.operations import Conflict, alerts, archive, digests, following
from veille.search import Filters, SearchUnavailable
from veille.watch import QueryError, parse
from veille.when import days_span, shown, today

watch_app = typer.Typer(
    help=_("Watches: followed queries, their filters, schedule and delivery targets."),
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")


@watch_app.command("add")
def watch_add(
    name: Annotated[str, typer.Argument(help=_("Watch name"))],
    query: Annotated[str, typer.Argument(help=_("Query"))],
    lang: Annotated[list[str] | None, typer.Option("--lang", help=_("Languages (fr, en…)"))] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help=_("Sites (domains)"))] = None,
    schedule: Annotated[
        str | None,
        typer.Option(help=_("“daily 07:00”, “hourly”, “every 6h”")),
    ] = None,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help=_("Target: file:FOLDER, mailto:ADDRESS, webhook:URL, slack:URL…"),
        ),
    ] = None,
    alert: Annotated[
        list[str] | None,
        typer.Option(
            "--alert",
            help=_("Alerts as stories happen: instant (a new story), breaking (a surge)"),
        ),
    ] = None,
    quiet: Annotated[
        str | None, typer.Option("--quiet", help=_("Quiet hours, local time: “22:00-07:00”"))
    ] = None,
    max_alerts: Annotated[
        int | None, typer.Option("--max-alerts", help=_("Alerts per hour at most (0: no cap)"))
    ] = None,
    floor: Annotated[
        float | None,
        typer.Option("--floor", help=_("Relevance floor, 0 to 1: weaker matches are weak")),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help=_("Change the watch of that name if there is one"))
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Ajoute une veille, ou la modifie avec --replace. / Add a watch, or change it with
    --replace."""
    parse(query)  # a query that cannot be read is refused with the position of the fault
    settings = load_settings(config)
    watch = following.make_watch(
        name, query, lang, site, schedule, to, alert, quiet, max_alerts, floor
    )
    with operating(db) as store:
        try:
            saved, new = following.save_watch(store, settings, watch, replace=replace)
        except Conflict:
            raise UserError(
                _("A watch named “{name}” exists already: --replace to change it.", name=name),
                code=1,
            ) from None
    shown = f"[bold]{escape(saved.name)}[/] ({saved.id})"
    console.print(
        _("Watch added: {name}", name=shown) if new else _("Watch updated: {name}", name=shown)
    )


@watch_app.command("list")
def watch_list(db: DbOption = None) -> None:
    """Les veilles. / The watches."""
    with operating(db) as store:
        found = following.list_watches(store)
    _print(
        [
            Col("id", justify="right", drop=3),
            Col(_("name"), wrap=True),
            Col(_("query"), wrap=True),
            Col(_("schedule"), drop=2),
            Col(_("targets"), wrap=True, drop=1),
        ],
        [
            [
                str(watch.id),
                escape(watch.name),
                escape(watch.query),
                escape(watch.schedule or "—"),
                escape(", ".join(watch.targets) or "—"),
            ]
            for watch in found
        ],
    )


@watch_app.command("show")
def watch_show(name: str, db: DbOption = None, config: ConfigOption = None) -> None:
    """Une veille et ses derniers envois. / One watch and its last deliveries."""
    zone = load_settings(config).timezone
    with operating(db) as store:
        watch = following.get_watch(store, name)
        sent = following.deliveries(store, watch)
        recent = alerts.watch_alerts(store, watch, limit=10)
    console.print(f"[bold]{escape(watch.name)}[/] ({watch.id})")
    console.print(_("query: {query}", query=escape(watch.query)))
    if watch.languages:
        console.print(_("languages: {languages}", languages=", ".join(watch.languages)))
    if watch.sites:
        console.print(_("sites: {sites}", sites=escape(", ".join(watch.sites))))
    console.print(_("schedule: {schedule}", schedule=escape(watch.schedule or "—")))
    console.print(_("targets: {targets}", targets=escape(", ".join(watch.targets) or "—")))
    console.print(_("alerts: {alerts}", alerts=escape(", ".join(watch.alerts) or "—")))
    if watch.quiet_hours:
        console.print(_("quiet hours: {hours}", hours=escape(watch.quiet_hours)))
    if watch.max_alerts is not None:
        console.print(_("alerts per hour at most: {count}", count=watch.max_alerts))
    if watch.relevance_floor is not None:
        console.print(_("relevance floor: {floor}", floor=watch.relevance_floor))
    for record in recent:
        colour = {"sent": "green", "expired": "yellow"}.get(record.status, "yellow")
        console.print(
            f"  {shown(record.crossed_at, True, zone)} {_('alert')} {record.kind} · "
            f"{record.story_id} [{colour}]{record.status}[/]"
        )
    for delivery in sent:
        colour = {"sent": "green", "failed": "red"}.get(delivery.status, "yellow")
        console.print(
            f"  {shown(delivery.updated_at, True, zone)} {escape(delivery.digest_key)} "
            f"[{colour}]{delivery.status}[/] {escape(delivery.target)}"
            + (f" : {escape(delivery.error)}" if delivery.error else "")
        )


@watch_app.command("remove")
def watch_remove(name: str, db: DbOption = None) -> None:
    """Supprime une veille. / Remove a watch."""
    with operating(db) as store:
        removed = following.remove_watch(store, name)
    console.print(_("Watch removed: {name}", name=escape(removed.name)))


@watch_app.command("test")
def watch_test(
    name_or_query: Annotated[str, typer.Argument(help=_("Watch or query"))],
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    days: Annotated[int, typer.Option(help=_("Days covered"), callback=bounded(1, 36_600))] = 30,
    limit: LimitOption = 20,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Ce que la veille trouverait dans l'archive, mots trouvés en évidence. / What the watch
    would find in the archive, matched words highlighted."""
    settings = load_settings(config)
    end = parse_day(day, settings.timezone)
    with operating(db) as store:
        watch = store.watch(name_or_query)
        digest = following.try_watch(store, settings, watch or name_or_query, end, days, limit)
    if not digest.entries:
        console.print(_("No story matches."))
        return
    for rank, entry in enumerate(digest.entries, 1):
        print_entry(rank, entry, settings.timezone)


def print_entry(rank: int, entry: Entry, zone: str) -> None:
    """A story found for a watch: its headline with the words found marked, and why it
    is there and there (the words found for each term and where, each ranking signal's
    share, a weak match said so)."""
    found = entry.explanation
    title = _marked(entry.title, list(found.title_spans))
    sources = n_("{count} source", "{count} sources", len(entry.sources), count=len(entry.sources))
    style = "dim" if found.weak else "bold"
    console.print(
        f"{rank:>2}. [{style}]{title}[/]  [dim]{entry.story_id} · {sources} · "
        f"{days_span(entry.first_seen, entry.last_seen, zone)} · {entry.score:.2f}[/]"
    )
    lang = language()
    if found.weak:
        console.print("    [yellow]" + escape(why.weak_line(found, lang)) + "[/]")
    for term in found.terms:
        console.print(
            "    " + _("found: {words}", words=escape(why.term_line(term, found.articles, lang)))
        )
    console.print("    [dim]" + escape(why.rank_line(found, lang)) + "[/]")
    together = why.grouping_line(entry.grouping, lang)
    if together:
        console.print("    [dim]" + escape(_("together: {why}", why=together)) + "[/]")


@app.command("why")
def why_command(
    story_id: Annotated[int, typer.Argument(help=_("Story id"))],
    watch: Annotated[str, typer.Argument(help=_("Watch"))],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Pourquoi un sujet pour une veille : mots trouvés, rang, regroupement, chronologie. /
    Why a story for a watch: words found, rank, grouping, timeline."""
    settings = load_settings(config)
    with operating(db) as store:
        entry = alerts.explain_story(store, settings, story_id, watch)
        timeline = alerts.story_timeline(store, settings, story_id, watch)
    if entry is None:
        raise UserError(_("The watch does not match this story."), code=1)
    print_entry(1, entry, settings.timezone)
    lang = language()
    for grouped in entry.grouping:
        console.print(
            f"    [dim]{grouped.article_id}[/] {escape(grouped.site)} : "
            + escape(why.grouped_line(grouped, lang))
        )
    busy = [b for b in timeline.bins if b.articles]
    for counted in busy:
        console.print(
            f"    {timeline.step_shown(counted.start)}  "
            + n_("{count} article", "{count} articles", counted.articles, count=counted.articles)
            + " · "
            + n_(
                "{count} new source",
                "{count} new sources",
                counted.sources,
                count=counted.sources,
            )
        )
    for crossing in timeline.crossings:
        console.print(f"    [bold]{timeline.shown(crossing.at)}[/] " + _crossed(crossing))
    for record in timeline.alerts:
        console.print(
            f"    {timeline.shown(record.crossed_at)} {_('alert')} {record.kind} · {record.status}"
        )


def _crossed(crossing: alerts.Crossing) -> str:
    """A threshold the story crossed, in the words its alert uses."""
    if crossing.kind == "new":
        return _("the story appears")
    count = int(crossing.details["sources"])
    return n_(
        "{count} new source in {minutes} min where {expected} were expected",
        "{count} new sources in {minutes} min where {expected} were expected",
        count,
        count=count,
        minutes=crossing.details["window_minutes"],
        expected=f"{float(crossing.details['expected']):.1f}",
    )


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in spans:
        out.append(escape(text[at:start]))
        out.append(f"[bold yellow]{escape(text[start:end])}[/]")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


@app.command("digest")
def digest_command(
    name: Annotated[str, typer.Argument(help=_("Watch"))],
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    fmt: Annotated[str, typer.Option("--format", help=", ".join(FORMATS))] = "md",
    lang: Annotated[str, typer.Option("--lang", help="fr, en")] = "fr",
    output: Annotated[Path | None, typer.Option("--output", "-o", help=_("File written"))] = None,
    send: Annotated[bool, typer.Option("--send", help=_("Send to targets"))] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Le résumé d'une veille pour un jour : écrit, affiché ou envoyé. / A watch's digest
    for a day: written, printed or sent."""
    settings = load_settings(config)
    day_asked = parse_day(day, settings.timezone)
    with operating(db) as store:
        watch = following.get_watch(store, name)
        when = day_asked or today(settings.timezone)
        if send:
            outcomes = digests.send_digest(
                store, settings, watch, Period.day(when, settings.timezone), lang
            )
        else:
            text = digests.render_digest(
                digests.digest_of_day(store, settings, watch, when), fmt, lang
            )
    if not send:
        if output is not None:
            with output_file(output) as stream:
                stream.write(text)
            console.print(_("Written: {path}", path=escape(str(output))))
        else:
            console.print(text, markup=False, highlight=False, soft_wrap=True)
        return
    label = {"sent": _("sent"), "skipped": _("already sent")}
    for outcome in outcomes:
        console.print(
            f"{escape(outcome.target)} : "
            + label.get(outcome.status, _("failed"))
            + (f" — {escape(outcome.error)}" if outcome.error else "")
        )
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


@app.command("demo")
def demo_command(
    output: Annotated[Path, typer.Option("--output", "-o", help=_("Demo folder"))] = Path(
        "veille-demo"
    ),
    lang: Annotated[str, typer.Option("--lang", help="fr, en")] = "fr",
) -> None:
    """Une journée d'actualité fictive rejouée de bout en bout, hors ligne. / A fictional
    news day replayed end to end, offline."""
    output_folder(output)
    with console.status(_("Replaying the demo day…")):
        result = run_demo(output, lang)
    console.print(result.digest_text, markup=False, highlight=False, soft_wrap=True)
    report = result.report
    console.print(
        " · ".join(
            (
                n_("{count} page read", "{count} pages read", report.fetched, count=report.fetched),
                n_("{count} article", "{count} articles", report.new, count=report.new),
                n_(
                    "{count} syndicated copy folded",
                    "{count} syndicated copies folded",
                    report.copies,
                    count=report.copies,
                ),
                n_("{count} story", "{count} stories", result.stories, count=result.stories),
            )
        )
    )
    for path in result.files:
        console.print(_("Written: {path}", path=escape(str(path))))
    for failure in report.failed:
        errors.print(f"[red]{escape(failure.ref)}[/] : {escape(failure.reason)}")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help=_("Query (the watch language)"))],
    since: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
    site: Annotated[str | None, typer.Option(help=_("Site (contains)"))] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="fr, en…")] = None,
    watch: Annotated[str | None, typer.Option(help=_("Within a watch's query"))] = None,
    limit: Annotated[
        int, typer.Option(help=_("Results per page"), callback=bounded(1, MAX_PAGE))
    ] = 20,
    cursor: Annotated[str | None, typer.Option(help=_("Next page"))] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Recherche plein texte dans l'archive, mots trouvés en évidence. / Full-text search of
    the archive, matched words highlighted."""
    zone = load_settings(config).timezone
    filters = Filters(
        start=parse_day(since, zone, "--from"),
        end=parse_day(until, zone, "--to"),
        site=site,
        language=lang,
        zone=zone,
    )
    with operating(db) as store:
        try:
            results = archive.search_archive(
                store, query, filters, watch=watch, limit=limit, cursor=cursor
            )
        except QueryError:
            raise  # said with the position of the fault by the command group
        except (SearchUnavailable, ValueError) as error:  # no index; a cursor not ours
            raise UserError(str(error)) from None
    console.print(n_("{count} result", "{count} results", results.total, count=results.total))
    for hit in results.hits:
        when = shown(hit.published, hit.published_time_known, zone)
        story = f" · {_('story')} {hit.story_id}" if hit.story_id else ""
        title = _marked(hit.title, list(hit.title_spans))
        console.print(
            f"\n{when}  [bold]{escape(hit.site or '')}[/]  {title}  [dim]{hit.article_id}{story}[/]"
        )
        console.print("    " + _marked(hit.snippet, list(hit.spans)))
        if hit.url:
            console.print(f"    [link={hit.url}]{escape(hit.url)}[/link]")
    if results.next_cursor:
        console.print("\n" + _("More: --cursor {cursor}", cursor=results.next_cursor))
