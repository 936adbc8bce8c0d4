"""The `veille` command: a thin layer over the pipeline and the store."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from veille.config import Settings, database_url
from veille.i18n import pick
from veille.pipeline import ingest as run_ingest
from veille.sources.local import count_files
from veille.store import Store

app = typer.Typer(
    help=pick(
        "veille : veille médiatique, une entrée par sujet.",
        "veille: news monitoring, one entry per story.",
    ),
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
        help=pick(
            "Fichier SQLite ou URL SQLAlchemy (PostgreSQL...).",
            "SQLite file or SQLAlchemy URL (PostgreSQL...).",
        ),
    ),
]


def _store(db: str | None) -> Store:
    return Store(database_url(db))


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help=pick(
                "Fichiers ou dossiers : HTML, texte, JSONL, flux, WARC.",
                "Files or folders: HTML, text, JSONL, feeds, WARC.",
            )
        ),
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
        task = progress.add_task(pick("Lecture", "Reading"), total=count_files(paths))
        current: list[str] = []

        def advance(ref: str) -> None:
            file = ref.split("#", 1)[0].split("@", 1)[0]
            if not current or current[0] != file:
                current[:] = [file]
                progress.advance(task)

        report = run_ingest(paths, store, settings, on_item=advance)

    table = Table(title=pick("Ingestion", "Ingest"))
    for label in (
        pick("lus", "read"),
        pick("nouveaux", "new"),
        pick("modifiés", "updated"),
        pick("inchangés", "unchanged"),
        pick("ignorés", "skipped"),
        pick("en échec", "failed"),
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
    for skip in report.skipped:
        console.print(
            f"[yellow]{pick('ignoré', 'skipped')}[/] {escape(skip.ref)} : {escape(skip.reason)}"
        )
    for failure in report.failed:
        console.print(
            f"[red]{pick('échec', 'failed')}[/] {escape(failure.ref)} : {escape(failure.reason)}"
        )
    store.close()


def _parse_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@app.command()
def articles(
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD")] = None,
    site: Annotated[
        str | None, typer.Option(help=pick("Nom du site (contient)", "Site name (contains)"))
    ] = None,
    language: Annotated[str | None, typer.Option("--lang", help="fr, en...")] = None,
    limit: Annotated[int, typer.Option(help=pick("Nombre maximal", "Maximum rows"))] = 100,
    db: DbOption = None,
) -> None:
    """Lister les articles stockés. / List stored articles."""
    store = _store(db)
    start, end = _parse_day(day or since), _parse_day(day or until)
    table = Table(show_lines=False)
    for column in (
        "id",
        "date",
        pick("site", "site"),
        pick("langue", "lang"),
        pick("titre", "title"),
    ):
        table.add_column(column)
    for article in store.articles(
        since=start, until=end, site=site, language=language, limit=limit
    ):
        table.add_row(
            str(article.id),
            _day(article.published),
            escape(article.site_name or ""),
            article.language or "",
            escape(article.title),
        )
    console.print(table)
    store.close()


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else "—"


@app.command()
def show(
    key: Annotated[str, typer.Argument(help=pick("Identifiant ou URL", "Id or URL"))],
    db: DbOption = None,
) -> None:
    """Afficher un article, nettoyé. / Show one article, clean."""
    store = _store(db)
    article = store.article(key)
    store.close()
    if article is None:
        errors.print(pick(f"Aucun article pour « {key} ».", f"No article for '{key}'."))
        raise typer.Exit(1)
    console.print(f"[bold]{escape(article.title)}[/]")
    details = [article.site_name, _day(article.published), article.author, article.language]
    console.print(" · ".join(escape(d) for d in details if d))
    console.print(f"[link={article.url}]{escape(article.url)}[/link]\n")
    console.print(escape(article.text), soft_wrap=False)


EXPORT_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "title",
    "published",
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
            help=pick("Fichier (sinon sortie standard)", "File (else standard output)"),
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Exporter les articles en JSONL ou CSV. / Export articles as JSONL or CSV."""
    if fmt not in ("jsonl", "csv"):
        errors.print(pick("Format inconnu : jsonl ou csv.", "Unknown format: jsonl or csv."))
        raise typer.Exit(2)
    store = _store(db)
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = csv.DictWriter(stream, EXPORT_FIELDS) if fmt == "csv" else None
        if writer:
            writer.writeheader()
        for article in store.articles():
            row = {k: v for k, v in asdict(article).items() if k in EXPORT_FIELDS}
            row["published"] = article.published.isoformat() if article.published else None
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
        typer.Option("--all", help=pick("Inclure les entrées ignorées", "Include skipped inputs")),
    ] = False,
    limit: Annotated[int, typer.Option(help=pick("Nombre maximal", "Maximum rows"))] = 200,
    db: DbOption = None,
) -> None:
    """Les échecs enregistrés, les plus récents d'abord. / Recorded failures, newest first."""
    store = _store(db)
    entries = store.log_entries(level=None if all_levels else "error", limit=limit)
    store.close()
    if not entries:
        console.print(pick("Aucun échec enregistré.", "No failure recorded."))
        return
    table = Table()
    table.add_column(pick("quand", "when"), no_wrap=True)
    table.add_column(pick("étape", "stage"))
    # Paths wrap instead of being cut: the file name is what the reader needs.
    table.add_column(pick("entrée", "input"), overflow="fold")
    table.add_column(pick("raison", "reason"))
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
