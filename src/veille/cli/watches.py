"""`veille watch ...` and `veille digest`: what a reader follows, and what they receive."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from veille.cli import ConfigOption, DbOption, _settings, _span, _store, app, console, errors
from veille.config import Settings
from veille.demo import run_demo
from veille.digest import Period, build
from veille.digest.deliver import deliver, smtp_from_config
from veille.digest.render import FORMATS, render
from veille.i18n import _, n_
from veille.model import Watch
from veille.search import Filters, SearchUnavailable, search
from veille.watch import QueryError, highlights, parse, watch_problems
from veille.watch.rank import weights_from_config
from veille.when import shown

watch_app = typer.Typer(
    help=_("Watches: followed queries, their filters, schedule and delivery targets."),
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")


def _check_query(query: str) -> None:
    try:
        parse(query)
    except QueryError as error:
        errors.print(_("Invalid query: {error}", error=escape(str(error))))
        errors.print(escape(error.pointer()), highlight=False)
        raise typer.Exit(2) from None


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
    db: DbOption = None,
) -> None:
    """Ajoute ou modifie une veille. / Add or change a watch."""
    _check_query(query)
    watch = Watch(
        name,
        query,
        tuple(x.lower()[:2] for x in lang or ()),
        tuple(site or ()),
        schedule,
        tuple(to or ()),
    )
    problems = watch_problems(watch)
    if problems:
        for problem in problems:
            errors.print(escape(problem))
        raise typer.Exit(2)
    store = _store(db)
    saved, new = store.save_watch(watch)
    store.close()
    shown = f"[bold]{escape(saved.name)}[/] ({saved.id})"
    console.print(
        _("Watch added: {name}", name=shown) if new else _("Watch updated: {name}", name=shown)
    )


@watch_app.command("list")
def watch_list(db: DbOption = None) -> None:
    """Les veilles. / The watches."""
    store = _store(db)
    found = store.watches()
    store.close()
    table = Table()
    table.add_column("id", justify="right")
    table.add_column(_("name"))
    table.add_column(_("query"), overflow="fold")
    table.add_column(_("schedule"))
    table.add_column(_("targets"), overflow="fold")
    for watch in found:
        table.add_row(
            str(watch.id),
            escape(watch.name),
            escape(watch.query),
            escape(watch.schedule or "—"),
            escape(", ".join(watch.targets) or "—"),
        )
    console.print(table)


def _find(store, name: str) -> Watch:
    watch = store.watch(name)
    if watch is None:
        store.close()
        errors.print(_("No watch “{name}”.", name=name))
        raise typer.Exit(1)
    return watch


@watch_app.command("show")
def watch_show(name: str, db: DbOption = None) -> None:
    """Une veille et ses derniers envois. / One watch and its last deliveries."""
    store = _store(db)
    watch = _find(store, name)
    sent = store.deliveries(watch.id, limit=10)
    store.close()
    console.print(f"[bold]{escape(watch.name)}[/] ({watch.id})")
    console.print(_("query: {query}", query=escape(watch.query)))
    if watch.languages:
        console.print(_("languages: {languages}", languages=", ".join(watch.languages)))
    if watch.sites:
        console.print(_("sites: {sites}", sites=escape(", ".join(watch.sites))))
    console.print(_("schedule: {schedule}", schedule=escape(watch.schedule or "—")))
    console.print(_("targets: {targets}", targets=escape(", ".join(watch.targets) or "—")))
    for delivery in sent:
        colour = {"sent": "green", "failed": "red"}.get(delivery.status, "yellow")
        console.print(
            f"  {delivery.updated_at:%Y-%m-%d %H:%M} {escape(delivery.digest_key)} "
            f"[{colour}]{delivery.status}[/] {escape(delivery.target)}"
            + (f" : {escape(delivery.error)}" if delivery.error else "")
        )


@watch_app.command("remove")
def watch_remove(name: str, db: DbOption = None) -> None:
    """Supprime une veille. / Remove a watch."""
    store = _store(db)
    removed = store.remove_watch(name)
    store.close()
    if removed is None:
        errors.print(_("No watch “{name}”.", name=name))
        raise typer.Exit(1)
    console.print(_("Watch removed: {name}", name=escape(removed.name)))


@watch_app.command("test")
def watch_test(
    name_or_query: Annotated[str, typer.Argument(help=_("Watch or query"))],
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    days: Annotated[int, typer.Option(help=_("Days covered"))] = 30,
    limit: Annotated[int, typer.Option(help=_("Maximum rows"))] = 20,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Ce que la veille trouverait dans l'archive, mots trouvés en évidence. / What the watch
    would find in the archive, matched words highlighted."""
    store = _store(db)
    watch = store.watch(name_or_query)
    if watch is None:
        _check_query(name_or_query)
        watch = Watch("test", name_or_query)
    end = date.fromisoformat(day) if day else datetime.now(UTC).date()
    period = Period(
        datetime.combine(end - timedelta(days=days - 1), datetime.min.time()),
        datetime.combine(end + timedelta(days=1), datetime.min.time()),
        "test",
    )
    # A test is not a digest: nothing is marked as carried.
    digest = build(
        store,
        Watch(watch.name, watch.query, watch.languages, watch.sites),
        period,
        weights_from_config(_settings(config).ranking),
        limit=limit,
    )
    node = parse(watch.query)
    store.close()
    if not digest.entries:
        console.print(_("No story matches."))
        return
    for rank, entry in enumerate(digest.entries, 1):
        title = _marked(entry.title, highlights(entry.title, node))
        console.print(
            f"{rank:>2}. {title}  [dim]{entry.story_id} · {len(entry.sources)} sources · "
            f"{_span(entry.first_seen, entry.last_seen)} · {entry.score:.2f}[/]"
        )
        if entry.matched:
            console.print(
                "    [dim]" + _("found: {words}", words=escape(", ".join(entry.matched))) + "[/]"
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
    if fmt not in FORMATS:
        errors.print(_("Unknown format: {format}.", format=fmt))
        raise typer.Exit(2)
    settings = _settings(config)
    store = _store(db)
    watch = _find(store, name)
    when = date.fromisoformat(day) if day else datetime.now(UTC).date()
    period = Period.day(when, settings.timezone)
    digest = build(store, watch, period, weights_from_config(settings.ranking))
    text = render(digest, fmt, lang)
    if output is not None:
        output.write_text(text, "utf-8")
        console.print(_("Written: {path}", path=escape(str(output))))
    elif not send:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    if send:
        if not watch.targets:
            store.close()
            errors.print(_("This watch has no target (--to)."))
            raise typer.Exit(2)
        outcomes = deliver(
            store, digest, list(watch.targets), lang, smtp_from_config(settings.smtp)
        )
        for outcome in outcomes:
            label = {"sent": _("sent"), "skipped": _("already sent")}
            console.print(
                f"{escape(outcome.target)} : "
                + label.get(outcome.status, _("failed"))
                + (f" — {escape(outcome.error)}" if outcome.error else "")
            )
        store.close()
        if any(o.status == "failed" for o in outcomes):
            raise typer.Exit(1)
        return
    store.close()


@app.command("demo")
def demo_command(
    output: Annotated[Path, typer.Option("--output", "-o", help=_("Demo folder"))] = Path(
        "veille-demo"
    ),
    lang: Annotated[str, typer.Option("--lang", help="fr, en")] = "fr",
) -> None:
    """Une journée d'actualité fictive rejouée de bout en bout, hors ligne. / A fictional
    news day replayed end to end, offline."""
    with console.status(_("Replaying the demo day…")):
        result = run_demo(output, lang)
    console.print(result.digest_text, markup=False, highlight=False, soft_wrap=True)
    report = result.report
    console.print(
        _(
            "{pages} pages read, {articles} articles, {copies} copies folded, {stories} stories.",
            pages=report.fetched,
            articles=report.new,
            copies=report.copies,
            stories=result.stories,
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
    limit: Annotated[int, typer.Option(help=_("Results per page"))] = 20,
    cursor: Annotated[str | None, typer.Option(help=_("Next page"))] = None,
    db: DbOption = None,
) -> None:
    """Recherche plein texte dans l'archive, mots trouvés en évidence. / Full-text search of
    the archive, matched words highlighted."""
    store = _store(db)
    try:
        filters = Filters(
            start=date.fromisoformat(since) if since else None,
            end=date.fromisoformat(until) if until else None,
            site=site,
            language=lang,
        )
        results = search(store, query, filters, limit=limit, cursor=cursor)
    except QueryError as error:
        store.close()
        errors.print(_("Invalid query: {error}", error=escape(str(error))))
        raise typer.Exit(2) from None
    except (SearchUnavailable, ValueError) as error:
        store.close()
        errors.print(escape(str(error)))
        raise typer.Exit(2) from None
    store.close()
    console.print(n_("{count} result", "{count} results", results.total, count=results.total))
    for hit in results.hits:
        when = shown(hit.published, hit.published_time_known, Settings.from_env().timezone)
        story = f" · {_('story')} {hit.story_id}" if hit.story_id else ""
        title = _marked(hit.title, list(hit.title_spans))
        console.print(
            f"\n{when}  [bold]{escape(hit.site or '')}[/]  {title}  [dim]{hit.article_id}{story}[/]"
        )
        console.print("    " + _marked(hit.snippet, list(hit.spans)))
        console.print(f"    [link={hit.url}]{escape(hit.url)}[/link]")
    if results.next_cursor:
        console.print("\n" + _("More: --cursor {cursor}", cursor=results.next_cursor))


LOOPBACK = ("127.0.0.1", "localhost", "::1")


user_app = typer.Typer(help=_("Web UI accounts."), no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help=_("Name"))],
    password: Annotated[
        str,
        typer.Option(prompt=_("Password"), hide_input=True, confirmation_prompt=True),
    ],
    db: DbOption = None,
) -> None:
    """Ajoute un compte (ou change son mot de passe) et donne son jeton d'API. / Add an
    account (or reset its password) and give its API token."""
    if len(password) < 8:
        errors.print(_("Eight characters at least."))
        raise typer.Exit(2)
    store = _store(db)
    token = store.add_user(name, password)
    store.close()
    console.print(_("Account {name} ready. API token (shown once):", name=name))
    console.print(token, markup=False, highlight=False)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help=_("Address to listen on"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port"))] = 8080,
    db: DbOption = None,
) -> None:
    """L'interface web et l'API JSON. / The web UI and the JSON API."""
    # The web stack loads only here: every other command starts faster without it.
    import uvicorn

    from veille.web import create_app

    store = _store(db)
    beyond = host not in LOOPBACK
    if beyond and not store.has_users():
        # Beyond loopback anyone could read and act: a login is required, so an account.
        store.close()
        errors.print(
            _(
                "Beyond 127.0.0.1 a login is required: add an account first with "
                "“veille user add NAME”."
            )
        )
        raise typer.Exit(2)
    console.print(_("veille on http://{host}:{port}/", host=host, port=port))
    try:
        uvicorn.run(
            create_app(store, require_login=beyond), host=host, port=port, log_level="warning"
        )
    finally:
        store.close()
