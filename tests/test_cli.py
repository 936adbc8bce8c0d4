"""The `veille` command end to end on a temporary store."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest
from typer.testing import CliRunner

from tests.helpers import article_html, write
from veille.cli import app
from veille.store import Store


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("VEILLE_DB", str(tmp_path / "cli.db"))
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result

    return invoke


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    write(
        folder / "rennes.html",
        article_html("Rennes vote son budget").replace(
            "</head>", '<link rel="canonical" href="https://www.ouest.example/rennes"></head>'
        ),
    )
    write(
        folder / "brest.html",
        article_html("Brest inaugure son tramway", day="2026-01-30").replace(
            "</head>", '<link rel="canonical" href="https://www.ouest.example/brest"></head>'
        ),
    )
    write(folder / "vide.txt", "")
    return folder


def _row(output: str) -> list[str]:
    """The numbers row of the ingest summary table."""
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if cells and all(c.isdigit() for c in cells):
            return cells
    raise AssertionError(output)


def test_ingest_prints_a_summary_and_reports_failures(run, inputs):
    first = run("ingest", str(inputs))
    assert first.exit_code == 0
    assert _row(first.output) == ["2", "2", "0", "0", "0", "1"]
    assert "vide.txt" in first.output and "fichier vide" in first.output
    # One article and its copy: one of each, in the singular.
    assert "1 copie syndiquée repliée · 1 sujet créé ou enrichi" in first.output
    again = run("ingest", str(inputs))
    assert _row(again.output) == ["2", "0", "0", "2", "0", "1"]


def test_ingest_reads_the_configuration_given(run, inputs, tmp_path):
    # The file's size limit applies: both pages are over 100 bytes.
    config = write(tmp_path / "small.toml", "[fetch]\nmax_bytes = 100\n")
    result = run("ingest", str(inputs), "--config", str(config))
    assert result.exit_code == 0
    assert _row(result.output) == ["0", "0", "0", "0", "0", "3"]


def test_errors_lists_what_failed(run, inputs):
    run("ingest", str(inputs))
    result = run("errors")
    assert "fichier vide" in result.output and "vide.txt" in result.output


def test_errors_and_sources_show_the_reader_s_clock(run, inputs, tmp_path, monkeypatch):
    monkeypatch.setattr("veille.clock.now", lambda: datetime(2026, 2, 3, 20, 5))
    config = write(tmp_path / "zone.toml", '[digest]\ntimezone = "Pacific/Kiritimati"\n')
    run("ingest", str(inputs))
    assert "2026-02-04 10:05" in run("errors", "--config", str(config)).output  # UTC+14
    run("source", "add", "https://www.ouest.example/feed.xml", "--name", "Ouest")
    with Store(f"sqlite:///{tmp_path / 'cli.db'}") as store:
        (source,) = store.sources()
        store.update_source(source.id, last_success_at=datetime(2026, 2, 3, 20, 5))
    assert "04/02 10:05" in run("source", "list", "--config", str(config)).output


def test_articles_filters_by_date_and_show_finds_by_url(run, inputs):
    run("ingest", str(inputs))
    listing = run("articles", "--since", "2026-02-01")
    assert "Rennes vote son budget" in listing.output
    assert "Brest" not in listing.output
    shown = run("show", "https://www.ouest.example/brest")
    assert "Brest inaugure son tramway" in shown.output
    assert "2026-01-30" in shown.output
    assert run("show", "https://absent.example/").exit_code == 1


def test_export_jsonl_and_csv(run, inputs, tmp_path):
    run("ingest", str(inputs))
    rows = [json.loads(line) for line in run("export", "--format", "jsonl").output.splitlines()]
    assert {r["title"] for r in rows} == {"Rennes vote son budget", "Brest inaugure son tramway"}
    assert all(r["text"] and r["content_hash"] for r in rows)
    out = tmp_path / "articles.csv"
    run("export", "--format", "csv", "-o", str(out))
    parsed = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert [r["published"][:10] for r in parsed] == ["2026-02-03", "2026-01-30"]


def test_english_messages_on_request(run, inputs, monkeypatch):
    monkeypatch.setenv("VEILLE_LANG", "en")
    result = run("ingest", str(inputs))
    assert "empty file" in result.output and "unchanged" in result.output


def test_tables_fit_80_columns_without_cutting_a_header(run, inputs, tmp_path, monkeypatch):
    """At 80 columns long text wraps, the least needed columns go, and no header is ever
    cut to "sour…"."""
    from veille import cli
    from veille.model import Source, Watch
    from veille.store import Store

    monkeypatch.setattr(cli.console, "width", 80)
    run("ingest", str(inputs))
    store = Store(f"sqlite:///{tmp_path / 'cli.db'}")
    for n in range(3):
        store.add_source(
            Source(
                name=f"Le Monde — cybercriminalité, cybersécurité et rançongiciels {n}",
                kind="feed",
                location=f"https://www.lemonde.fr/cybersecurite/rss_full_{n}.xml",
            )
        )
    store.update_source(1, failures=4, last_status=503, last_error="service indisponible " * 4)
    store.save_watch(
        Watch(
            "cyber",
            "(cybercriminalité OR cyberattaque OR rançongiciel) -bitcoin " * 2,
            schedule="daily 07:00",
            targets=("file:cyber", "mailto:ana@example.org,bo@example.org"),
        )
    )
    store.close()
    for command in (
        ("source", "list"),
        ("watch", "list"),
        ("articles",),
        ("stories",),
        ("entities",),
        ("errors", "--all"),
    ):
        output = run(*command).output
        lines = output.splitlines()
        assert lines and max(len(line) for line in lines) <= 80, command
        assert "…" not in output, (command, output)
    monkeypatch.setenv("VEILLE_LANG", "fr")
    listing = run("source", "list").output
    # Headers may wrap between their words, never inside one.
    for word in ("dernier", "succès", "échecs", "nom", "dernière", "erreur"):
        assert re.search(rf"(?<!\w){word}(?!\w)", listing), word
