"""The `veille` command: a thin layer over the pipeline and the store."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import sys
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from veille.config import Settings, database_url
from veille.enrich.conflicts import WeekdayNote, about
from veille.enrich.entities import Entity, lookup_keys
from veille.fetch import Fetcher, WarcArchive, WarcReplayTransport
from veille.i18n import _, n_, p_
from veille.model import EntityRecord, Source, SourceRef, StoryBrief
from veille.pipeline import IngestReport, RunReport, run_once, send_digests, sync_config
from veille.pipeline import ingest as run_ingest
from veille.schedule import parse_every
from veille.sources.local import count_files
from veille.sources.opml import OpmlError, OpmlFeed, parse_opml, write_opml
from veille.sources.web import Found, PollError, identify
from veille.store import Store
from veille.when import rfc3339, shown

app = typer.Typer(
    help=_("veille: news monitoring, one entry per story."),
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="VEILLE_DB",
        help=_("SQLite file or SQLAlchemy URL (PostgreSQL...)."),
    ),
]


def _store(db: str | None) -> Store:
    return Store(database_url(db))


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help=_("Files or folders: HTML, text, JSONL, feeds, WARC.")),
    ],
    db: DbOption = None,
) -> None:
    """Lire des fichiers locaux et stocker leurs articles. / Read local files, store articles."""
    store = _store(db)
    settings = Settings.from_env()
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

        report = run_ingest(paths, store, settings, on_item=advance)

    table = Table(title=_("Ingest"))
    for label in (
        _("read"),
        _("new"),
        _("updated"),
        _("unchanged"),
        p_("table column", "skipped"),
        p_("table column", "failed"),
    ):
        table.add_column(label, justify="right")
    table.add_row(
        *map(
            str,
            (
                report.read,
                report.new,
                report.updated,
                report.unchanged,
                len(report.skipped),
                len(report.failed),
            ),
        )
    )
    console.print(table)
    _print_grouping(report)
    for skip in report.skipped:
        console.print(f"[yellow]{_('skipped')}[/] {escape(skip.ref)} : {escape(skip.reason)}")
    for failure in report.failed:
        console.print(f"[red]{_('failed')}[/] {escape(failure.ref)} : {escape(failure.reason)}")
    store.close()


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


def _parse_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@app.command()
def articles(
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    site: Annotated[str | None, typer.Option(help=_("Site name (contains)"))] = None,
    language: Annotated[str | None, typer.Option("--lang", help="fr, en...")] = None,
    limit: Annotated[int, typer.Option(help=_("Maximum rows"))] = 100,
    db: DbOption = None,
) -> None:
    """Lister les articles stockés. / List stored articles."""
    store = _store(db)
    start, end = _parse_day(day or since), _parse_day(day or until)
    zone = Settings.from_env().timezone
    table = Table(show_lines=False)
    for column in (
        "id",
        "date",
        _("site"),
        _("lang"),
        _("title"),
    ):
        table.add_column(column)
    for article in store.articles(
        since=start, until=end, site=site, language=language, limit=limit, zone=zone
    ):
        table.add_row(
            str(article.id),
            shown(article.published, article.published_time_known, zone),
            escape(article.site_name or ""),
            article.language or "",
            escape(article.title),
        )
    console.print(table)
    store.close()


@app.command()
def show(
    key: Annotated[str, typer.Argument(help=_("Id or URL"))],
    db: DbOption = None,
) -> None:
    """Afficher un article, nettoyé. / Show one article, clean."""
    store = _store(db)
    article = store.article(key)
    store.close()
    if article is None:
        errors.print(_("No article for '{key}'.", key=key))
        raise typer.Exit(1)
    zone = Settings.from_env().timezone
    console.print(f"[bold]{escape(article.title)}[/]")
    when = shown(article.published, article.published_time_known, zone)
    details = [article.site_name, when if article.published else None, article.author]
    details.append(article.language)
    console.print(" · ".join(escape(d) for d in details if d))
    console.print(f"[link={article.url}]{escape(article.url)}[/link]\n")
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
) -> None:
    """Exporter les articles en JSONL ou CSV. / Export articles as JSONL or CSV."""
    if fmt not in ("jsonl", "csv"):
        errors.print(_("Unknown format: jsonl or csv."))
        raise typer.Exit(2)
    store = _store(db)
    zone = Settings.from_env().timezone
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
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
    finally:
        if output:
            stream.close()
        store.close()


@app.command("errors")
def show_errors(
    all_levels: Annotated[
        bool,
        typer.Option("--all", help=_("Include skipped inputs")),
    ] = False,
    limit: Annotated[int, typer.Option(help=_("Maximum rows"))] = 200,
    db: DbOption = None,
) -> None:
    """Les échecs enregistrés, les plus récents d'abord. / Recorded failures, newest first."""
    store = _store(db)
    entries = store.log_entries(level=None if all_levels else "error", limit=limit)
    store.close()
    if not entries:
        console.print(_("No failure recorded."))
        return
    table = Table()
    table.add_column(_("when"), no_wrap=True)
    table.add_column(_("stage"))
    # Paths wrap instead of being cut: the file name is what the reader needs.
    table.add_column(_("input"), overflow="fold")
    table.add_column(_("reason"))
    table.add_column("×", justify="right")
    for entry in entries:
        table.add_row(
            entry.last_seen.strftime("%Y-%m-%d %H:%M"),
            entry.stage,
            escape(entry.ref),
            escape(entry.reason),
            str(entry.count),
        )
    console.print(table)


# -- sources -------------------------------------------------------------------------------

source_app = typer.Typer(
    help=_("Followed sources: feeds, sitemaps."),
    no_args_is_help=True,
)
opml_app = typer.Typer(help=_("OPML import and export."), no_args_is_help=True)
app.add_typer(source_app, name="source")
app.add_typer(opml_app, name="opml")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="VEILLE_CONFIG",
        help=_("TOML configuration file."),
    ),
]


def _settings(config: Path | None) -> Settings:
    return Settings.from_env(config)


@asynccontextmanager
async def _fetcher(settings: Settings, replay: list[Path] | None = None):
    """A fetcher on the network (archiving to WARC if enabled) or on WARC files."""
    transport = WarcReplayTransport(replay) if replay else None
    archive = WarcArchive(settings.archive_dir) if settings.archive and not replay else None
    try:
        async with Fetcher(settings.fetch, transport=transport, archive=archive) as fetcher:
            yield fetcher
    finally:
        if archive is not None:
            archive.close()


async def _identify(location: str, settings: Settings) -> Found:
    async with _fetcher(settings) as fetcher:
        return await identify(location, fetcher)


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
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Suivre un flux ou un sitemap. / Follow a feed or a sitemap."""
    settings = _settings(config)
    try:
        interval = parse_every(every)
    except ValueError:
        errors.print(_("Unreadable interval: {every}", every=every))
        raise typer.Exit(2) from None
    try:
        found = asyncio.run(_identify(location, settings))
    except PollError as exc:
        errors.print(f"[red]{escape(exc.reason)}[/]")
        raise typer.Exit(1) from None
    store = _store(db)
    source, created = store.add_source(
        Source(
            name=name
            or found.title
            or urlsplit(found.location).netloc
            or Path(found.location).name,
            kind=found.kind,
            location=found.location,
            every_seconds=int(interval.total_seconds()),
        )
    )
    store.close()
    verb = _("added") if created else _("already followed")
    console.print(
        f"{source.id} · {escape(source.name)} · {source.kind} · {escape(source.location)} — {verb}"
    )
    for other in found.alternatives:
        console.print("  " + _("other feed announced: {url}", url=escape(other)))


@source_app.command("list")
def source_list(db: DbOption = None) -> None:
    """Les sources et leur santé, en échec d'abord. / Sources and health, failing first."""
    store = _store(db)
    rows = store.sources()
    store.close()
    table = Table()
    table.add_column("id", justify="right")
    table.add_column(_("name"), min_width=24, overflow="fold")
    table.add_column(_("kind"))
    table.add_column(_("last success"))
    table.add_column(_("failures"), justify="right")
    table.add_column(_("seen"), justify="right")
    table.add_column(_("last error"), overflow="fold")
    table.add_column(_("next"))
    for source in rows:
        error = ""
        if source.last_error:
            status = f"HTTP {source.last_status} · " if source.last_status else ""
            error = status + source.last_error
        style = "red" if source.failures else None
        table.add_row(
            str(source.id),
            escape(source.name),
            source.kind,
            _when(source.last_success_at),
            str(source.failures),
            str(source.items_seen),
            escape(error),
            _when(source.next_poll_at),
            style=style,
        )
    console.print(table)


def _when(value: datetime | None) -> str:
    return value.strftime("%d/%m %H:%M") if value else "—"


@source_app.command("remove")
def source_remove(
    key: Annotated[str, typer.Argument(help=_("Id, name or location"))],
    db: DbOption = None,
) -> None:
    """Ne plus suivre une source. / Stop following a source."""
    store = _store(db)
    removed = store.remove_source(key)
    store.close()
    if removed is None:
        errors.print(_("No source '{key}'.", key=key))
        raise typer.Exit(1)
    console.print(_("Source removed: {name}", name=removed.name))


@opml_app.command("import")
def opml_import(
    path: Annotated[Path, typer.Argument(help="OPML")],
    every: Annotated[str, typer.Option(help="15m, 2h, 1d")] = "15m",
    db: DbOption = None,
) -> None:
    """Suivre les flux d'un fichier OPML. / Follow the feeds of an OPML file."""
    try:
        feeds = parse_opml(path.read_bytes())
    except (OSError, OpmlError) as exc:
        errors.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    store = _store(db)
    interval = int(parse_every(every).total_seconds())
    added = 0
    for feed in feeds:
        created = store.add_source(
            Source(
                name=feed.title or feed.url, kind="feed", location=feed.url, every_seconds=interval
            )
        )[1]
        added += created
    store.close()
    console.print(
        _(
            "{added} feeds added, {known} already followed.",
            added=added,
            known=len(feeds) - added,
        )
    )


@opml_app.command("export")
def opml_export(
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    db: DbOption = None,
) -> None:
    """Écrire les flux suivis en OPML. / Write the followed feeds as OPML."""
    store = _store(db)
    feeds = [
        OpmlFeed(url=s.location, title=s.name)
        for s in store.sources()
        if s.kind == "feed" and s.location.startswith(("http://", "https://"))
    ]
    store.close()
    data = write_opml(feeds, title="veille")
    if output:
        output.write_bytes(data)
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
    settings = _settings(config)
    files = _warc_files(archives or []) if replay else None
    if replay and not files:
        errors.print(_("--replay: no WARC file given."))
        raise typer.Exit(2)
    store = _store(db)
    try:
        asyncio.run(_run_loop(store, settings, files, forever, everything))
    except KeyboardInterrupt:
        # Each article is committed as it is stored: nothing done is lost.
        errors.print(_("Stopped."))
    store.close()


def _warc_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.warc*")) if path.is_dir() else [path])
    return found


async def _run_loop(
    store: Store, settings: Settings, replay: list[Path] | None, forever: bool, everything: bool
) -> None:
    """Ctrl-C (or SIGTERM) lets the pages in flight be stored, then stops."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with _fetcher(settings, replay) as fetcher:
        await _poll_until_stopped(store, settings, fetcher, forever, everything, stop)


async def _poll_until_stopped(
    store: Store,
    settings: Settings,
    fetcher: Fetcher,
    forever: bool,
    everything: bool,
    stop: asyncio.Event,
) -> None:
    for problem in sync_config(store, settings):
        errors.print(f"[red]{escape(problem.ref)}[/] : {escape(problem.reason)}")
    while True:
        report = await run_once(store, settings, fetcher, stop=stop, everything=everything)
        everything = False
        _print_run(report)
        for outcome in send_digests(store, settings):
            colour = "green" if outcome.status == "sent" else "red"
            console.print(
                f"[{colour}]{_('digest')}[/] {escape(outcome.target)} : "
                f"{outcome.status}" + (f" — {escape(outcome.error)}" if outcome.error else "")
            )
        if not forever or stop.is_set():
            return
        due = [s.next_poll_at for s in store.sources() if s.next_poll_at]
        now = datetime.now(UTC).replace(tzinfo=None)
        wait = min(((when - now).total_seconds() for when in due), default=60.0)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=min(max(wait, 1.0), 300.0))
        if stop.is_set():
            return


def _print_run(report: RunReport) -> None:
    table = Table(title=_("Run"))
    labels = (
        _("sources"),
        _("failing"),
        _("not modified"),
        _("items"),
        _("already fetched"),
        _("pages fetched"),
        _("links only"),
        _("new"),
        _("updated"),
        _("unchanged"),
    )
    for label in labels:
        table.add_column(label, justify="right")
    table.add_row(
        *map(
            str,
            (
                report.sources,
                report.sources_failed,
                report.not_modified,
                report.items,
                report.already_fetched,
                report.fetched,
                report.links_only,
                report.new,
                report.updated,
                report.unchanged,
            ),
        )
    )
    console.print(table)
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
    limit: Annotated[int, typer.Option(help=_("Maximum rows"))] = 50,
    db: DbOption = None,
) -> None:
    """Les sujets, les plus récents d'abord. / Stories, latest first."""
    store = _store(db)
    found = store.stories(day=_parse_day(day), limit=limit)
    store.close()
    table = Table()
    table.add_column("id", justify="right")
    table.add_column(_("story"), overflow="fold")
    table.add_column(_("articles"), justify="right")
    table.add_column(_("sources"), justify="right")
    table.add_column(_("span"), no_wrap=True)
    for story in found:
        table.add_row(
            str(story.id),
            escape(story.title),
            str(story.article_count),
            str(story.source_count),
            _span(story.first_seen, story.last_seen),
        )
    console.print(table)


def _span(first: datetime | None, last: datetime | None) -> str:
    if not first:
        return "—"
    if not last or first.date() == last.date():
        return first.date().isoformat()
    return f"{first.date().isoformat()} → {last.date().isoformat()}"


@app.command("story")
def story_command(
    story_id: Annotated[int, typer.Argument(help=_("Story id"))],
    db: DbOption = None,
) -> None:
    """Un sujet : ses articles, ses sources, ses copies. / One story: articles, sources,
    copies."""
    store = _store(db)
    story = store.story(story_id)
    if story is not None and story.merged_into is not None:
        story = store.story(story.merged_into)
    if story is None:
        store.close()
        errors.print(_("No story {id}.", id=story_id))
        raise typer.Exit(1)
    members = store.story_articles(story.id)
    copies = store.copies([a.id for a in members if a.id is not None])
    related = store.related(story.id)
    brief = store.brief(story.id)
    store.close()

    console.print(f"[bold]{escape(story.title)}[/]")
    console.print(
        _(
            "{articles} articles · {sources} sources · {span}",
            articles=story.article_count,
            sources=story.source_count,
            span=_span(story.first_seen, story.last_seen),
        )
    )
    if brief is None:
        console.print(
            "\n" + _("No summary yet: the next “veille ingest” or “veille run” computes it.")
        )
    else:
        _print_brief(brief)
    copy_of = {c.copy_id: c.original_id for c in copies}
    by_id = {a.id: a for a in members}
    console.print("\n[bold]" + _("Articles") + "[/]")
    zone = Settings.from_env().timezone
    for article in members:
        if article.id in copy_of:
            continue
        when = shown(article.published, article.published_time_known, zone)
        console.print(
            f"{when}  [bold]{escape(article.site_name or '')}[/]  {escape(article.title)}"
        )
        console.print(f"    [link={article.url}]{escape(article.url)}[/link]")
        also = [by_id[c] for c, o in copy_of.items() if o == article.id and c in by_id]
        for copy in also:
            console.print(
                "    "
                + _(
                    "also published by {site} : {url}",
                    site=escape(copy.site_name or ""),
                    url=escape(copy.url),
                )
            )
    if related:
        console.print("\n" + _("Related stories:"))
        for other, score in related:
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
    story: Annotated[int | None, typer.Option(help=_("Those of one story"))] = None,
    kind: Annotated[str | None, typer.Option(help=_("PER, ORG or LOC"))] = None,
    limit: Annotated[int, typer.Option(help=_("Maximum rows"))] = 50,
    db: DbOption = None,
) -> None:
    """Personnes, organisations et lieux, les plus cités d'abord. / People, organisations
    and places, most mentioned first."""
    if kind and kind.upper() not in _KINDS:
        errors.print(_("Unknown kind: {kind} (PER, ORG, LOC).", kind=kind))
        raise typer.Exit(2)
    store = _store(db)
    found = store.entities(story_id=story, kind=kind, limit=limit)
    store.close()
    table = Table()
    table.add_column("id", justify="right")
    table.add_column(_("name"), overflow="fold")
    table.add_column(_("kind"))
    table.add_column(_("mentions"), justify="right")
    table.add_column(_("stories"), justify="right")
    table.add_column(_("span"), no_wrap=True)
    table.add_column(_("other spellings"), overflow="fold")
    for entity in found:
        table.add_row(
            str(entity.id),
            escape(entity.name),
            entity.kind,
            str(entity.mentions),
            str(entity.stories),
            _span(entity.first_seen, entity.last_seen),
            escape(", ".join(a for a in entity.aliases if a != entity.name)),
        )
    console.print(table)


@app.command("entity")
def entity_command(
    name: Annotated[str, typer.Argument(help=_("Name or id"))],
    db: DbOption = None,
) -> None:
    """Une entité : ses graphies et ses sujets dans le temps. / One entity: its spellings
    and its stories over time."""
    store = _store(db)
    keys = lookup_keys(Entity(name, "PER", [name], 0)) | lookup_keys(Entity(name, "ORG", [name], 0))
    found = store.find_entities(name, keys)
    if not found:
        store.close()
        errors.print(_("No entity “{name}”.", name=name))
        raise typer.Exit(1)
    entity = found[0]
    stories = store.entity_stories(entity.id)
    store.close()
    _print_entity(entity)
    table = Table(title=_("Stories"))
    table.add_column(_("span"), no_wrap=True)
    table.add_column("id", justify="right")
    table.add_column(_("story"), overflow="fold")
    table.add_column(_("mentions"), justify="right")
    table.add_column(_("articles"), justify="right")
    for story, named in stories:
        table.add_row(
            _span(story.first_seen, story.last_seen),
            str(story.id),
            escape(story.title),
            str(named.mentions),
            str(named.articles),
        )
    console.print(table)
    if len(found) > 1:
        console.print(
            _(
                "Other entities by this name: {names}",
                names=escape(", ".join(f"{e.name} ({e.id})" for e in found[1:6])),
            )
        )


def _print_entity(entity: EntityRecord) -> None:
    console.print(f"[bold]{escape(entity.name)}[/] · {_kind_label(entity.kind)} · id {entity.id}")
    others = [a for a in entity.aliases if a != entity.name]
    if others:
        console.print(_("Other spellings: {names}", names=escape(", ".join(others))))
    console.print(
        n_(
            "{mentions} mentions in {count} story · {span}",
            "{mentions} mentions in {count} stories · {span}",
            entity.stories,
            mentions=entity.mentions,
            count=entity.stories,
            span=_span(entity.first_seen, entity.last_seen),
        )
    )


# The watch and digest commands register themselves on `app`.
from veille.cli import watches as _watches  # noqa: E402, F401
