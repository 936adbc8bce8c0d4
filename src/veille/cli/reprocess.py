"""`veille reprocess`: archives read on Apache Spark, stored as `veille ingest` would."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from veille.cli import (
    ConfigOption,
    DbOption,
    _exit_if_stopped,
    _print,
    _print_ingest,
    _stop_on_signals,
    _waiting,
    app,
    console,
    errors,
)
from veille.cli.tables import Col
from veille.cli.usage import UserError, input_paths, load_settings, open_store
from veille.i18n import _, p_
from veille.model import Failure, Skip
from veille.reprocess import SparkUnavailable, environment_ready, reprocess
from veille.reprocess.job import is_url

_NUMBER = re.compile(r"\d[\d,.]*")


@app.command("reprocess")
def reprocess_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help=_(
                "WARC archives (or any input of veille ingest): paths, or URLs Spark reads "
                "(hdfs://, s3a://, file://)."
            )
        ),
    ],
    master: Annotated[
        str,
        typer.Option(help=_("Spark master: local[2], spark://host:7077, yarn…")),
    ] = "local[*]",
    conf: Annotated[
        list[str] | None,
        typer.Option("--conf", help=_("A Spark setting, KEY=VALUE (repeatable).")),
    ] = None,
    split_size: Annotated[
        int | None,
        typer.Option(help=_("Bytes of archive per task (default: from the cores and sizes).")),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Retraiter des archives sur Apache Spark. / Reprocess archives on Apache Spark."""
    settings = {}
    for item in conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(_("--conf takes KEY=VALUE, not “{item}”.", item=item))
        settings[key.strip()] = value
    # Local inputs are checked as `veille ingest` checks them; URLs are Spark's to read.
    input_paths([Path(value) for value in inputs if not is_url(value)])
    missing = environment_ready()
    if missing:
        raise UserError(missing)
    configuration = load_settings(config)
    store = open_store(db)
    try:
        with _stop_on_signals() as stop:
            report = reprocess(
                inputs,
                store,
                configuration,
                master,
                settings,
                split_bytes=split_size,
                on_progress=lambda line: errors.print(escape(line)),
                on_wait=_waiting,
                stop=stop,
            )
    except SparkUnavailable as error:
        raise UserError(str(error)) from None
    finally:
        store.close()
    console.print(
        _(
            "{records} records in {splits} splits; {retried} tasks run again",
            records=report.records,
            splits=report.splits,
            retried=report.tasks_failed,
        )
    )
    _print_ingest(report, _("Reprocess"))
    _print_problems(report.failed, report.skipped)
    console.print(
        _(
            "Spark {map:.0f} s · storing {store:.0f} s (CPU {store_cpu:.0f} s) · grouping and "
            "understanding {process:.0f} s (CPU {process_cpu:.0f} s)",
            map=report.map_seconds,
            store=report.store_seconds,
            store_cpu=report.store_cpu,
            process=report.process_seconds,
            process_cpu=report.process_cpu,
        )
    )
    _exit_if_stopped(report)


def _print_problems(failed: list[Failure], skipped: list[Skip]) -> None:
    """Failures and skips counted by stage and reason (numbers folded: "after byte N"):
    an archive's thousands of records are summed up; `veille errors` lists each."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for problem in [*failed, *skipped]:
        level = (
            p_("table column", "failed")
            if isinstance(problem, Failure)
            else p_("table column", "skipped")
        )
        stage = problem.stage if isinstance(problem, Failure) else "read"
        reason = _NUMBER.sub("N", problem.reason)
        # The start of a reason names it; damaged data quoted after that only widens it.
        counts[(level, stage, reason if len(reason) <= 60 else reason[:59] + "…")] += 1
    if not counts:
        return
    _print(
        [Col(_("level")), Col(_("stage")), Col(_("reason")), Col(_("count"), justify="right")],
        [
            [level, stage, escape(reason), str(count)]
            for (level, stage, reason), count in counts.most_common()
        ],
        _("Problems by reason (veille errors lists each)"),
    )
