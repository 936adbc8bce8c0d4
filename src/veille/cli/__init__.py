"""The `veille` command: a thin layer over the pipeline (ingest, run) and the operations
every door shares (`veille.operations`)."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veille import clock
from veille.alerts.stage import AlertOutcome
from veille.cli.tables import Col, fit
from veille.cli.usage import (
    MAX_ID,
    MAX_LIMIT,
    Commands,
    UserError,
    bounded,
    clock_time,
    errors,
    input_paths,
    load_settings,
    open_store,
    operating,
    output_file,
    parse_day,
)
from veille.config import Settings
from veille.enrich.conflicts import WeekdayNote, about
from veille.fetch import ArchiveError, Fetcher, WarcArchive, WarcReplayTransport
from veille.i18n import _, n_, p_
from veille.model import EntityRecord, SourceRef, StoryBrief
from veille.operations import archive, following
from veille.operations.alerts import send_alerts
from veille.operations.config import sync_config
from veille.operations.digests import send_due
from veille.pipeline import IngestReport, RunReport, run_once
from veille.pipeline import ingest as run_ingest
from veille.sources.local import count_files
from veille.store import Store
from veille.urls import web_link
from veille.when import days_span, rfc3339, shown

app = typer.Typer(
    help=_("veille: news monitoring, one entry per story."),
    no_args_is_help=True,
    add_completion=False,
    cls=Commands,
)
console = Console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="VEILLE_DB",
        help=_("SQLite file or SQLAlchemy URL (PostgreSQL...)."),
    ),
]
LimitOption = Annotated[int, typer.Option(help=_("Maximum rows"), callback=bounded(1, MAX_LIMIT))]
# Every command showing a time or taking a day reads `[digest] timezone` from this file.
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="VEILLE_CONFIG",
        help=_("TOML configuration file."),
    ),
]


def _waiting() -> None:
    errors.print(_("Another veille job is writing to this store: waiting for it to finish…"))


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Ctrl-C and SIGTERM ask the job to stop at the next unit of work (what is done is
    kept); a second Ctrl-C stops at once."""
    stop = threading.Event()

    def ask(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        errors.print(_("Stopping after the current step…"))

    previous = {sig: signal.signal(sig, ask) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print(table_columns: list[Col], rows: list[list[str]], title: str | None = None) -> None:
    console.print(fit(table_columns, rows, console.width, title))


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help=_("Files or folders: HTML, text, JSONL, feeds, WARC.")),
    ],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Lire des fichiers locaux et stocker leurs articles. / Read local files, store articles."""
    input_paths(paths)
    settings = load_settings(config)
    store = open_store(db)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task(_("Reading"), total=count_files(paths))
        current: list[str] = []

        def advance(ref: str) -> None:
            file = ref.split("#", 1)[0].split("@", 1)[0]
            if not current or current[0] != file:
                current[:] = [file]
                progress.advance(task)

        with _stop_on_signals() as stop:
            report = run_ingest(
                paths, store, settings, on_item=advance, stop=stop, on_wait=_waiting
            )

    _print_ingest(report, _("Ingest"))
    for skip in report.skipped:
        console.print(f"[yellow]{_('skipped')}[/] {escape(skip.ref)} : {escape(skip.reason)}")
    for failure in report.failed:
        console.print(f"[red]{_('failed')}[/] {escape(failure.ref)} : {escape(failure.reason)}")
    store.close()
    _exit_if_stopped(report)


def _print_ingest(report: IngestReport, title: str) -> None:
    labels = (
        _("read"),
        _("new"),
        _("updated"),
        _("unchanged"),
        p_("table column", "skipped"),
        p_("table column", "failed"),
    )
    counts = (
        report.read,
        report.new,
        report.updated,
        report.unchanged,
        len(report.skipped),
        len(report.failed),
    )
    _print([Col(label, justify="right") for label in labels], [[str(n) for n in counts]], title)
    _print_grouping(report)


def _exit_if_stopped(report: IngestReport) -> None:
    if report.stopped:
        errors.print(_("Stopped: what was done is kept; run the same command to finish."))
        raise typer.Exit(130)


def _print_grouping(report: IngestReport) -> None:
    if report.stored:
        copies = n_(
            "{count} syndicated copy folded",
            "{count} syndicated copies folded",
            report.copies,
            count=report.copies,
        )
        stories = n_(
            "{count} story created or grown",
            "{count} stories created or grown",
            report.stories,
            count=report.stories,
        )
        console.print(f"{copies} · {stories}")


@app.command()
def articles(
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    site: Annotated[str | None, typer.Option(help=_("Site name (contains)"))] = None,
    language: Annotated[str | None, typer.Option("--lang", help="fr, en...")] = None,
    limit: LimitOption = 100,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Lister les articles stockés. / List stored articles."""
    zone = load_settings(config).timezone
    if day:
        start = end = parse_day(day, zone)
    else:
        start, end = parse_day(since, zone, "--since"), parse_day(until, zone, "--until")
    store = open_store(db)
    rows = [
        [
            str(article.id),
            shown(article.published, article.published_time_known, zone),
            escape(article.site_name or ""),
            article.language or "",
            escape(article.title),
        ]
        for article in store.articles(
            since=start, until=end, site=site, language=language, limit=limit, zone=zone
        )
    ]
    _print(
        [
            Col("id", justify="right"),
            Col("date"),
            Col(_("site"), drop=2, wrap=True),
            Col(_("lang"), drop=1),
            Col(_("title"), wrap=True),
        ],
        rows,
    )
    store.close()


@app.command()
def show(
    key: Annotated[str, typer.Argument(help=_("Id or URL"))],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Afficher un article, nettoyé. / Show one article, clean."""
    zone = load_settings(config).timezone
    # A number is an id, and ids are bounded: a larger one names nothing.
    named = not key.isdigit() or (key.isascii() and 1 <= int(key) <= MAX_ID)
    with operating(db) as store:
        article = store.article(key) if named else None
    if article is None:
        raise UserError(_("No article for '{key}'.", key=key), code=1)
    console.print(f"[bold]{escape(article.title)}[/]")
    when = shown(article.published, article.published_time_known, zone)
    details = [article.site_name, when if article.published else None, article.author]
    details.append(article.language)
    console.print(" · ".join(escape(d) for d in details if d))
    link = web_link(article.url)
    console.print((f"[link={link}]{escape(link)}[/link]" if link else escape(article.url)) + "\n")
    console.print(escape(article.text), soft_wrap=False)


EXPORT_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "title",
    "published",
    "modified",
    "author",
    "site_name",
    "language",
    "description",
    "content_hash",
    "raw_ref",
    "source",
    "text",
)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help=_("File (else standard output)"),
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Exporter les articles en JSONL ou CSV. / Export articles as JSONL or CSV."""
    if fmt not in ("jsonl", "csv"):
        raise UserError(_("Unknown format: jsonl or csv."))
    zone = load_settings(config).timezone
    target = output_file(output) if output else nullcontext(sys.stdout)
    with operating(db) as store, target as stream:
        writer = csv.DictWriter(stream, EXPORT_FIELDS) if fmt == "csv" else None
        if writer:
            writer.writeheader()
        for article in store.articles():
            row = {k: v for k, v in asdict(article).items() if k in EXPORT_FIELDS}
            # RFC 3339 with the local offset when the page states a time; the day alone
            # (full-date) when it states only that.
            row["published"] = rfc3339(article.published, article.published_time_known, zone)
            row["modified"] = rfc3339(article.modified, True, zone)
            if writer:
                writer.writerow(row)
            else:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")


@app.command("errors")
def show_errors(
    all_levels: Annotated[
        bool,
        typer.Option("--all", help=_("Include skipped inputs")),
    ] = False,
    limit: LimitOption = 200,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Les échecs enregistrés, les plus récents d'abord. / Recorded failures, newest first."""
    zone = load_settings(config).timezone
    with operating(db) as store:
        entries = archive.recorded_errors(store, all_levels, limit)
    if not entries:
        console.print(_("No failure recorded."))
        return
    _print(
        [
            Col(_("when")),
            Col(_("stage"), drop=1),
            # Paths wrap instead of being cut: the file name is what the reader needs.
            Col(_("input"), wrap=True),
            Col(_("reason"), wrap=True),
            Col("×", justify="right", drop=2),
        ],
        [
            [
                clock_time(entry.last_seen, zone),
                entry.stage,
                escape(entry.ref),
                escape(entry.reason),
                str(entry.count),
            ]
            for entry in entries
        ],
    )


# -- sources -------------------------------------------------------------------------------

source_app = typer.Typer(
    help=_("Followed sources: feeds, sitemaps."),
    no_args_is_help=True,
)
opml_app = typer.Typer(help=_("OPML import and export."), no_args_is_help=True)
app.add_typer(source_app, name="source")
app.add_typer(opml_app, name="opml")


@asynccontextmanager
async def _fetcher(settings: Settings, replay: WarcReplayTransport | None = None):
    """A fetcher on the network (archiving to WARC if enabled) or on WARC files."""
    archive = WarcArchive(settings.archive_dir) if settings.archive and not replay else None
    try:
        async with Fetcher(settings.fetch, transport=replay, archive=archive) as fetcher:
            yield fetcher
    finally:
        if archive is not None:
            archive.close()


@source_app.command("add")
def source_add(
    location: Annotated[
        str,
        typer.Argument(
            help=_("URL of a feed, a sitemap or a page (its feeds are looked up), or a local file.")
        ),
    ],
    name: Annotated[str | None, typer.Option(help=_("Display name"))] = None,
    every: Annotated[
        str,
        typer.Option(help=_("Shortest interval between two polls (15m, 2h, 1d).")),
    ] = "15m",
    kind: Annotated[
        str | None,
        typer.Option(help=_("feed or sitemap (else found by reading the location)")),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Suivre un flux ou un sitemap. / Follow a feed or a sitemap."""
    settings = load_settings(config)
    with operating(db) as store:
        added = following.add_source(
            store, settings, location, name=name, every=every, kind=kind, local=True
        )
    source = added.source
    verb = _("added") if added.created else _("already followed")
    console.print(
        f"{source.id} · {escape(source.name)} · {source.kind} · {escape(source.location)} — {verb}"
    )
    for other in added.alternatives:
        console.print("  " + _("other feed announced: {url}", url=escape(other)))


@source_app.command("list")
def source_list(db: DbOption = None, config: ConfigOption = None) -> None:
    """Les sources et leur santé, en échec d'abord. / Sources and health, failing first."""
    zone = load_settings(config).timezone
    with operating(db) as store:
        found = following.list_sources(store)
    rows = []
    for source in found:
        error = ""
        if source.last_error:
            status = f"HTTP {source.last_status} · " if source.last_status else ""
            error = status + source.last_error
        style = "[red]{}[/]" if source.failures else "{}"
        rows.append(
            [
                str(source.id),
                style.format(escape(source.name)),
                source.kind,
                clock_time(source.last_success_at, zone, _SHORT),
                str(source.failures),
                str(source.items_seen),
                escape(error),
                clock_time(source.next_poll_at, zone, _SHORT),
            ]
        )
    _print(
        [
            Col("id", justify="right"),
            Col(_("name"), wrap=True),
            Col(_("kind"), drop=3),
            Col(_("last success"), drop=1),
            Col(_("failures"), justify="right"),
            Col(_("seen"), justify="right", drop=4),
            Col(_("last error"), wrap=True, drop=2),
            Col(_("next"), drop=5),
        ],
        rows,
    )


# Sources are polled every few minutes to hours: the day and month suffice.
_SHORT = "%d/%m %H:%M"


@source_app.command("remove")
def source_remove(
    key: Annotated[str, typer.Argument(help=_("Id, name or location"))],
    db: DbOption = None,
) -> None:
    """Ne plus suivre une source. / Stop following a source."""
    with operating(db) as store:
        removed = following.remove_source(store, key)
    console.print(_("Source removed: {name}", name=escape(removed.name)))


@opml_app.command("import")
def opml_import(
    path: Annotated[Path, typer.Argument(help="OPML")],
    every: Annotated[str, typer.Option(help="15m, 2h, 1d")] = "15m",
    db: DbOption = None,
) -> None:
    """Suivre les flux d'un fichier OPML. / Follow the feeds of an OPML file."""
    (path,) = input_paths([path])
    try:
        data = path.read_bytes()
    except OSError as exc:  # a folder, a file that went away
        reason = _("cannot read the file: {error}", error=exc.strerror or exc)
        raise UserError(f"{path} : {reason}") from None
    with operating(db) as store:
        done = following.import_opml(store, data, every)
    console.print(
        n_("{count} feed added", "{count} feeds added", done.added, count=done.added)
        + ", "
        + n_(
            "{count} already followed.",
            "{count} already followed.",
            done.known,
            count=done.known,
        )
    )


@opml_app.command("export")
def opml_export(
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    db: DbOption = None,
) -> None:
    """Écrire les flux suivis en OPML. / Write the followed feeds as OPML."""
    with operating(db) as store:
        data = following.export_opml(store)
    if output:
        with output_file(output, binary=True) as stream:
            stream.write(data)
    else:
        sys.stdout.write(data.decode("utf-8"))


# -- run -----------------------------------------------------------------------------------


@app.command()
def run(
    forever: Annotated[
        bool,
        typer.Option(
            "--forever",
            help=_("Keep going: each source at its pace."),
        ),
    ] = False,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help=_("Poll every source now, due or not."),
        ),
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help=_("Answer from the WARC archives given instead of the network."),
        ),
    ] = False,
    archives: Annotated[
        list[Path] | None,
        typer.Argument(
            help=_("With --replay: WARC files, or folders holding them."),
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Relever les sources dues, récupérer les nouvelles pages. / Poll due sources, fetch new
    pages."""
    settings = load_settings(config)
    transport = _replay(archives or []) if replay else None
    store = open_store(db)
    try:
        stopped = asyncio.run(_run_loop(store, settings, transport, forever, everything))
    except KeyboardInterrupt:
        # Each unit of work is committed with its done mark: nothing done is lost.
        stopped = True
    store.close()
    if stopped:
        errors.print(_("Stopped: what was done is kept; run the same command to finish."))
        raise typer.Exit(130)


def _replay(paths: list[Path]) -> WarcReplayTransport:
    """The WARC files given to --replay (folders: the archives inside), read."""
    found: list[Path] = []
    for path in input_paths(paths):
        found.extend(sorted(path.glob("*.warc*")) if path.is_dir() else [path])
    if not found:
        raise UserError(_("--replay: no WARC file given."))
    try:
        return WarcReplayTransport(found)
    except ArchiveError as exc:
        raise UserError(str(exc)) from None


async def _run_loop(
    store: Store,
    settings: Settings,
    replay: WarcReplayTransport | None,
    forever: bool,
    everything: bool,
) -> bool:
    """Ctrl-C (or SIGTERM) lets the pages in flight be stored, then stops at the next unit
    of work; returns whether it was asked to stop before the end."""
    with _stop_on_signals() as stop:
        async with _fetcher(settings, replay) as fetcher:
            return await _poll_until_stopped(store, settings, fetcher, forever, everything, stop)


async def _poll_until_stopped(
    store: Store,
    settings: Settings,
    fetcher: Fetcher,
    forever: bool,
    everything: bool,
    stop: threading.Event,
) -> bool:
    for problem in sync_config(store, settings):
        errors.print(f"[red]{escape(problem.ref)}[/] : {escape(problem.reason)}")
    while True:
        report = await run_once(
            store, settings, fetcher, stop=stop, everything=everything, on_wait=_waiting
        )
        everything = False
        _print_run(report)
        if report.stopped:
            return True
        # Alerts first: they are sent within the poll that brought their articles.
        for alert in await asyncio.to_thread(send_alerts, store, settings):
            _print_alert(alert)
        for outcome in await asyncio.to_thread(send_due, store, settings):
            colour = "green" if outcome.status == "sent" else "red"
            console.print(
                f"[{colour}]{_('digest')}[/] {escape(outcome.target)} : "
                f"{outcome.status}" + (f" — {escape(outcome.error)}" if outcome.error else "")
            )
        if not forever or stop.is_set():
            return False
        due = [s.next_poll_at for s in store.sources() if s.next_poll_at]
        now = clock.now()
        wait = min(((when - now).total_seconds() for when in due), default=60.0)
        await clock.pause(min(max(wait, 1.0), 300.0), stop)
        if stop.is_set():
            return False


def _print_alert(alert: AlertOutcome) -> None:
    """A line per alert sent, failed or dropped (one held by quiet hours or the cap is
    said when it goes)."""
    if alert.status in ("held", "capped"):
        return
    colour = {"sent": "green", "expired": "yellow"}.get(alert.status, "red")
    errors_said = "; ".join(
        f"{t.target}: {t.error}" for t in alert.targets if t.status == "failed" and t.error
    )
    console.print(
        f"[{colour}]{_('alert')}[/] {escape(alert.kind)} {escape(alert.watch)} · "
        f"{alert.story_id} {escape(alert.title)} : {alert.status}"
        + (f" — {escape(errors_said or alert.reason or '')}" if errors_said or alert.reason else "")
    )


def _print_run(report: RunReport) -> None:
    counts = (
        (_("sources"), report.sources, 0),
        (_("failing"), report.sources_failed, 0),
        (_("not modified"), report.not_modified, 3),
        (_("items"), report.items, 0),
        (_("already fetched"), report.already_fetched, 2),
        (_("pages fetched"), report.fetched, 0),
        (_("links only"), report.links_only, 1),
        (_("new"), report.new, 0),
        (_("updated"), report.updated, 0),
        (_("unchanged"), report.unchanged, 0),
    )
    _print(
        [Col(label, justify="right", drop=drop) for label, _count, drop in counts],
        [[str(count) for _label, count, _drop in counts]],
        _("Run"),
    )
    _print_grouping(report)
    for failure in report.failed:
        console.print(
            f"[red]{_('failed')}[/] {escape(failure.stage)} "
            f"{escape(failure.ref)} : {escape(failure.reason)}"
        )


# -- stories -------------------------------------------------------------------------------


@app.command("stories")
def stories_command(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    watch: Annotated[
        str | None, typer.Option(help=_("Those a watch matches that day, ranked for it"))
    ] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Les sujets, les plus récents d'abord. / Stories, latest first."""
    settings = load_settings(config)
    when = parse_day(day, settings.timezone)
    with operating(db) as store:
        found = archive.stories_of(store, settings, when, watch, limit)
    _print(
        [
            Col("id", justify="right"),
            Col(_("story"), wrap=True),
            Col(_("articles"), justify="right", drop=2),
            Col(_("sources"), justify="right"),
            Col(_("span"), drop=1),
        ]
        + ([Col(_("score"), justify="right", drop=3)] if watch else []),
        [
            [
                str(r.story.id),
                escape(r.story.title) + _weak(r),
                str(r.story.article_count),
                str(r.story.source_count),
                days_span(r.story.first_seen, r.story.last_seen, settings.timezone),
            ]
            + ([f"{r.score or 0:.2f}"] if watch else [])
            for r in found
        ],
    )


def _weak(ranked: archive.Ranked) -> str:
    """A weak match said beside the title, which a narrow terminal keeps (`veille why`
    says why)."""
    weak = ranked.entry is not None and ranked.entry.explanation.weak
    return f" [yellow]({_('weak match')})[/]" if weak else ""


@app.command("story")
def story_command(
    story_id: Annotated[int, typer.Argument(help=_("Story id"), callback=bounded(1, MAX_ID))],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Un sujet : ses articles, ses sources, ses copies. / One story: articles, sources,
    copies."""
    zone = load_settings(config).timezone
    with operating(db) as store:
        view = archive.story_view(store, story_id, follow=True)
    story = view.story
    console.print(f"[bold]{escape(story.title)}[/]")
    console.print(
        " · ".join(
            (
                n_(
                    "{count} article",
                    "{count} articles",
                    story.article_count,
                    count=story.article_count,
                ),
                n_(
                    "{count} source",
                    "{count} sources",
                    story.source_count,
                    count=story.source_count,
                ),
                days_span(story.first_seen, story.last_seen, zone),
            )
        )
    )
    if view.brief is None:
        console.print(
            "\n" + _("No summary yet: the next “veille ingest” or “veille run” computes it.")
        )
    else:
        _print_brief(view.brief)
    console.print("\n[bold]" + _("Articles") + "[/]")
    for entry in view.timeline:
        when = shown(entry.published, entry.published_time_known, zone)
        console.print(f"{when}  [bold]{escape(entry.site)}[/]  {escape(entry.title)}")
        if entry.url:
            console.print(f"    [link={entry.url}]{escape(entry.url)}[/link]")
        for copy in entry.copies:
            console.print(
                "    "
                + _(
                    "also published by {site} : {url}",
                    site=escape(copy.site),
                    url=escape(copy.url or "—"),
                )
            )
    if view.related:
        console.print("\n" + _("Related stories:"))
        for other, score in view.related:
            console.print(f"  {other.id} · {escape(other.title)} ({score:.2f})")


_KINDS = ("PER", "ORG", "LOC")


def _kind_label(kind: str) -> str:
    """The kind's heading, in the language of the moment (not the one at import)."""
    labels = {"PER": _("People"), "ORG": _("Organisations"), "LOC": _("Places")}
    return labels.get(kind, kind)


def _sites(refs: tuple[SourceRef, ...]) -> str:
    return ", ".join(dict.fromkeys(r.site or urlsplit(r.url).netloc for r in refs))


def _print_brief(brief: StoryBrief) -> None:
    if brief.summary:
        title = _("Summary")
        if brief.method == "llm":
            title += " " + _("(written by the language model)")
        console.print(f"\n[bold]{title}[/]")
        for sentence in brief.summary:
            cited = (sentence.source,) if sentence.source else ()
            sites = _sites(cited + sentence.also)
            console.print(f"  {escape(sentence.text)} [dim]\\[{escape(sites)}][/]")
    if brief.summary_error:
        console.print("[yellow]" + _("Extractive summary:") + "[/] " + escape(brief.summary_error))
    if brief.facts:
        console.print("\n[bold]" + _("Key facts") + "[/]")
        for fact in brief.facts:
            console.print(f"  • {escape(fact.text)}")
            console.print(
                "    [dim]"
                + n_(
                    "{count} source: {sites}",
                    "{count} sources: {sites}",
                    fact.independent,
                    count=fact.independent,
                    sites=escape(_sites(fact.sources)),
                )
                + "[/]"
            )
    if brief.quotes:
        console.print("\n[bold]" + _("Who said what") + "[/]")
        for quote in brief.quotes:
            console.print(
                f"  [bold]{escape(quote.speaker)}[/] : « {escape(quote.text)} » "
                f"[dim]\\[{escape(_sites(quote.sources))}][/]"
            )
    if brief.disagreements:
        console.print("\n[bold]" + _("Where sources disagree") + "[/]")
        for conflict in brief.disagreements:
            console.print(f"  {escape(about(conflict.slot, conflict.word))}")
            for value, refs in conflict.values:
                console.print(f"    [bold]{escape(value)}[/] : {escape(_sites(refs))}")
            for note in conflict.notes:
                text = WeekdayNote(note.site, note.written, note.day, note.weekday).text
                console.print(f"    [yellow]⚠ {escape(text)}[/]")
    if brief.entities:
        console.print("\n[bold]" + _("Entities") + "[/]")
        for kind in _KINDS:
            named = [e for e in brief.entities if e.kind == kind]
            if not named:
                continue
            shown = []
            for entity in named[:15]:
                others = [a for a in entity.aliases if a != entity.name]
                also = ""
                if others:
                    quoted = _("”, “").join(others)
                    also = _(", also “{names}”", names=quoted)
                shown.append(f"{entity.name} ({entity.mentions}{also})")
            console.print(f"  [bold]{_kind_label(kind)}[/] : " + escape(" · ".join(shown)))
    for article_id, reason in brief.skipped[:3]:
        console.print(
            "[yellow]"
            + _("Entities not looked for")
            + f" (article {article_id}) : {escape(reason)}[/]"
        )


@app.command("entities")
def entities_command(
    story: Annotated[
        int | None, typer.Option(help=_("Those of one story"), callback=bounded(1, MAX_ID))
    ] = None,
    kind: Annotated[str | None, typer.Option(help=_("PER, ORG or LOC"))] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Personnes, organisations et lieux, les plus cités d'abord. / People, organisations
    and places, most mentioned first."""
    if kind and kind.upper() not in _KINDS:
        raise UserError(_("Unknown kind: {kind} (PER, ORG, LOC).", kind=kind))
    zone = load_settings(config).timezone
    with operating(db) as store:
        found = archive.list_entities(store, story, kind.upper() if kind else None, limit)
    _print(
        [
            Col("id", justify="right"),
            Col(_("name"), wrap=True),
            Col(_("kind"), drop=2),
            Col(_("mentions"), justify="right"),
            Col(_("stories"), justify="right", drop=1),
            Col(_("span"), drop=3),
            Col(_("other spellings"), wrap=True, drop=4),
        ],
        [
            [
                str(entity.id),
                escape(entity.name),
                entity.kind,
                str(entity.mentions),
                str(entity.stories),
                days_span(entity.first_seen, entity.last_seen, zone),
                escape(", ".join(a for a in entity.aliases if a != entity.name)),
            ]
            for entity in found
        ],
    )


@app.command("entity")
def entity_command(
    name: Annotated[str, typer.Argument(help=_("Name or id"))],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Une entité : ses graphies et ses sujets dans le temps. / One entity: its spellings
    and its stories over time."""
    zone = load_settings(config).timezone
    with operating(db) as store:
        view = archive.entity_view(store, name, zone)
    _print_entity(view.entity, zone)
    _print(
        [
            Col(_("span")),
            Col("id", justify="right"),
            Col(_("story"), wrap=True),
            Col(_("mentions"), justify="right", drop=1),
            Col(_("articles"), justify="right", drop=2),
        ],
        [
            [
                days_span(story.first_seen, story.last_seen, zone),
                str(story.id),
                escape(story.title),
                str(named.mentions),
                str(named.articles),
            ]
            for story, named in view.stories
        ],
        _("Stories"),
    )
    if view.others:
        console.print(
            _(
                "Other entities by this name: {names}",
                names=escape(", ".join(f"{e.name} ({e.id})" for e in view.others[:5])),
            )
        )


def _print_entity(entity: EntityRecord, zone: str) -> None:
    console.print(f"[bold]{escape(entity.name)}[/] · {_kind_label(entity.kind)} · id {entity.id}")
    others = [a for a in entity.aliases if a != entity.name]
    if others:
        console.print(_("Other spellings: {names}", names=escape(", ".join(others))))
    console.print(
        n_("{count} mention", "{count} mentions", entity.mentions, count=entity.mentions)
        + " "
        + n_("in {count} story", "in {count} stories", entity.stories, count=entity.stories)
        + f" · {days_span(entity.first_seen, entity.last_seen, zone)}"
    )


# The watch, digest, account and server commands register themselves on `app`.
from veille.cli import accounts as _accounts  # noqa: E402, F401
from veille.cli import reprocess as _reprocess  # noqa: E402, F401
from veille.cli import watches as _watches  # noqa: E402, F401
