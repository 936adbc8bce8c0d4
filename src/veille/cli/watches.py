"""`veille watch ...` and `veille digest`: what a reader follows, and what they receive."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from veille.cli import ConfigOption, DbOption, LimitOption, _span, app, console
from veille.cli.usage import (
    MAX_PAGE,
    UserError,
    bounded,
    errors,
    open_store,
    output_file,
    output_folder,
    parse_day,
    today,
)
from veille.cli.usage import settings as load_settings
from veille.demo import run_demo
from veille.digest import Period, build
from veille.digest.deliver import deliver, smtp_from_config
from veille.digest.render import FORMATS, render
from veille.i18n import _, n_
from veille.model import Watch
from veille.search import Filters, SearchUnavailable, search
from veille.watch import QueryError, highlights, parse, watch_problems
from veille.watch.rank import weights_from_config

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
    replace: Annotated[
        bool, typer.Option("--replace", help=_("Change the watch of that name if there is one"))
    ] = False,
    db: DbOption = None,
) -> None:
    """Ajoute une veille, ou la modifie avec --replace. / Add a watch, or change it with
    --replace."""
    parse(query)  # a query that cannot be read is refused with the position of the fault
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
        raise UserError("\n".join(problems))
    store = open_store(db)
    if not replace and store.watch(name) is not None:
        store.close()
        raise UserError(
            _("A watch named “{name}” exists already: --replace to change it.", name=name),
            code=1,
        )
    saved, new = store.save_watch(watch)
    store.close()
    shown = f"[bold]{escape(saved.name)}[/] ({saved.id})"
    console.print(
        _("Watch added: {name}", name=shown) if new else _("Watch updated: {name}", name=shown)
    )


@watch_app.command("list")
def watch_list(db: DbOption = None) -> None:
    """Les veilles. / The watches."""
    store = open_store(db)
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
        raise UserError(_("No watch “{name}”.", name=name), code=1)
    return watch


@watch_app.command("show")
def watch_show(name: str, db: DbOption = None) -> None:
    """Une veille et ses derniers envois. / One watch and its last deliveries."""
    store = open_store(db)
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
    store = open_store(db)
    removed = store.remove_watch(name)
    store.close()
    if removed is None:
        raise UserError(_("No watch “{name}”.", name=name), code=1)
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
    store = open_store(db)
    end = parse_day(day) or today()
    watch = store.watch(name_or_query)
    if watch is None:
        parse(name_or_query)
        watch = Watch("test", name_or_query)
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
        weights_from_config(load_settings(config).ranking),
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
        raise UserError(_("Unknown format: {format}.", format=fmt))
    settings = load_settings(config)
    store = open_store(db)
    when = parse_day(day) or today()
    watch = _find(store, name)
    digest = build(store, watch, Period.day(when), weights_from_config(settings.ranking))
    text = render(digest, fmt, lang)
    if output is not None:
        with output_file(output) as stream:
            stream.write(text)
        console.print(_("Written: {path}", path=escape(str(output))))
    elif not send:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    if send:
        if not watch.targets:
            store.close()
            raise UserError(_("This watch has no target (--to)."))
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
    output_folder(output)
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
    limit: Annotated[
        int, typer.Option(help=_("Results per page"), callback=bounded(1, MAX_PAGE))
    ] = 20,
    cursor: Annotated[str | None, typer.Option(help=_("Next page"))] = None,
    db: DbOption = None,
) -> None:
    """Recherche plein texte dans l'archive, mots trouvés en évidence. / Full-text search of
    the archive, matched words highlighted."""
    filters = Filters(
        start=parse_day(since, "--from"), end=parse_day(until, "--to"), site=site, language=lang
    )
    store = open_store(db)
    try:
        results = search(store, query, filters, limit=limit, cursor=cursor)
    except QueryError:
        raise
    except (SearchUnavailable, ValueError) as error:  # no index; a cursor that is not ours
        raise UserError(str(error)) from None
    finally:
        store.close()
    console.print(n_("{count} result", "{count} results", results.total, count=results.total))
    for hit in results.hits:
        when = hit.published.strftime("%Y-%m-%d") if hit.published else "—"
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
    if not name.strip():
        raise UserError(_("An account needs a name."))
    if len(password) < 8:
        raise UserError(_("Eight characters at least."))
    store = open_store(db)
    token = store.add_user(name, password)
    store.close()
    console.print(_("Account {name} ready. API token (shown once):", name=name))
    console.print(token, markup=False, highlight=False)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help=_("Address to listen on"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port"), callback=bounded(1, 65535))] = 8080,
    db: DbOption = None,
) -> None:
    """L'interface web et l'API JSON. / The web UI and the JSON API."""
    # The web stack loads only here: every other command starts faster without it.
    import uvicorn

    from veille.web import create_app

    store = open_store(db)
    beyond = host not in LOOPBACK
    if beyond and not store.has_users():
        # Beyond loopback anyone could read and act: a login is required, so an account.
        store.close()
        raise UserError(
            _(
                "Beyond 127.0.0.1 a login is required: add an account first with "
                "“veille user add NAME”."
            )
        )
    console.print(_("veille on http://{host}:{port}/", host=host, port=port))
    try:
        uvicorn.run(
            create_app(store, require_login=beyond), host=host, port=port, log_level="warning"
        )
    finally:
        store.close()
