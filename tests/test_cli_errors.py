"""No user error on the command line ends in a Python traceback: one line naming the fault,
exit code 2 (1 where something exists already or was not found)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import write
from veille.cli import app
from veille.when import DEFAULT_ZONE, zone

DEEP = "(" * 300 + "grève" + ")" * 300


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("VEILLE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("VEILLE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("VEILLE_MAX_BYTES", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        # catch_exceptions=False: an exception escaping the command fails the test.
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _one_line(result, code: int = 2) -> str:
    """The single line a user error prints on standard error."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _files(tmp_path: Path) -> dict[str, Path]:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    not_toml = write(tmp_path / "bad.toml", "fetch = [\n")
    wrong_type = write(tmp_path / "wrong.toml", '[fetch]\nretries = "trois"\n')
    bad_allow = write(tmp_path / "allow.toml", '[fetch]\nallow = ["###"]\n')
    opml = write(tmp_path / "feeds.opml", "<opml><body></body></opml>")
    return {
        "missing": tmp_path / "absent",
        "loop": loop,
        "not_toml": not_toml,
        "wrong_type": wrong_type,
        "bad_allow": bad_allow,
        "opml": opml,
        "out": tmp_path / "missing" / "x.md",
    }


# (arguments, with {name} filled from _files; a fragment of the line printed)
CASES = [
    (["articles", "--date", "2026-13-45"], "--date : date illisible « 2026-13-45 »"),
    (["articles", "--since", "demain"], "--since : date illisible « demain »"),
    (["stories", "--date", "9999-12-31"], "--date : 9999-12-31 hors limites"),
    (["watch", "test", "grève", "--date", "2026-02-30"], "--date : date illisible"),
    (["digest", "veille", "--date", "2026-13-45"], "--date : date illisible"),
    (["search", "grève", "--from", "03/02/2026"], "--from : date illisible"),
    (["export", "-o", "{out}"], "impossible d'écrire {out} : dossier introuvable"),
    (["opml", "export", "-o", "{out}"], "impossible d'écrire {out} : dossier introuvable"),
    (["ingest", "{missing}"], "{missing} : fichier ou dossier introuvable"),
    (["ingest", "{loop}"], "{loop} : boucle de liens symboliques"),
    (["opml", "import", "{missing}"], "{missing} : fichier ou dossier introuvable"),
    (["run", "--replay", "{missing}"], "{missing} : fichier ou dossier introuvable"),
    (["run", "--replay", "{opml}"], "{opml} : pas une archive WARC lisible"),
    (["watch", "add", "X", DEEP], "Requête invalide : la requête imbrique plus de 32 niveaux"),
    (["watch", "test", DEEP], "Requête invalide : la requête imbrique plus de 32 niveaux"),
    (["search", DEEP], "Requête invalide : la requête imbrique plus de 32 niveaux"),
    (["articles", "--limit", "-5"], "--limit : -5 hors limites (1 à 1000000)"),
    (["search", "grève", "--limit", "0"], "--limit : 0 hors limites"),
    (["watch", "test", "grève", "--days", "100000000"], "--days : 100000000 hors limites"),
    (["story", "99999999999999999999"], "STORY_ID : 99999999999999999999 hors limites"),
    (["entities", "--story", "99999999999"], "--story : 99999999999 hors limites"),
    (["serve", "--port", "70000"], "--port : 70000 hors limites (1 à 65535)"),
    (["source", "add", "https://x.example/f.xml", "--every", "1e999"], "Intervalle illisible"),
    (["opml", "import", "{opml}", "--every", "-5m"], "Intervalle illisible : -5m"),
    (["run", "--config", "{not_toml}"], "configuration {not_toml} : "),
    (["run", "--config", "{wrong_type}"], "configuration {wrong_type} : "),
    (["run", "--config", "{bad_allow}"], "entrée fetch.allow invalide « ### »"),
    (["articles", "--db", "nosuchdialect://x"], "impossible d'ouvrir la base de données"),
    (["articles", "--db", "{opml}"], "impossible d'ouvrir la base de données"),
    (["demo", "-o", "{opml}"], "impossible d'écrire {opml}"),
    (["watch", "add", "", "grève"], "une veille demande un nom"),
    (["user", "add", " ", "--password", "un mot de passe"], "Un compte demande un nom."),
    (["ingest", "/dev/null"], "/dev/null : ni un fichier ni un dossier"),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_a_user_error_is_one_line_and_exit_code_2(run, tmp_path, args, expected):
    files = {name: str(path) for name, path in _files(tmp_path).items()}
    result = run(*[arg.format(**files) if "{" in arg else arg for arg in args])
    assert expected.format(**files) in _one_line(result)


@pytest.mark.parametrize("budget", ["dix", "-5", "²", "1e6"])
def test_a_bad_max_bytes_variable_is_named(run, tmp_path, monkeypatch, budget):
    monkeypatch.setenv("VEILLE_MAX_BYTES", budget)
    line = _one_line(run("ingest", str(write(tmp_path / "a.txt", "Un texte."))))
    assert line.startswith("VEILLE_MAX_BYTES : pas un nombre d'octets")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full is Linux's full disk")
def test_a_full_disk_while_writing_is_one_line(run, tmp_path):
    record = {"url": "https://ex.fr/1", "title": "Grève au port", "text": "La grève dure. " * 20}
    run("ingest", str(write(tmp_path / "a.jsonl", json.dumps(record))))
    assert "No space left" in _one_line(run("export", "-o", "/dev/full"))


def test_a_missing_path_ingests_nothing(run, tmp_path):
    record = {"url": "https://ex.fr/1", "title": "Grève au port", "text": "La grève dure. " * 20}
    good = write(tmp_path / "in" / "a.jsonl", json.dumps(record))
    _one_line(run("ingest", str(good.parent), str(tmp_path / "absent")))
    assert run("export").output == ""


def test_watch_add_does_not_replace_an_existing_watch_unless_asked(run):
    assert run("watch", "add", "port", "grève AND port").exit_code == 0
    line = _one_line(run("watch", "add", "port", "dockers"), code=1)
    assert line == "Une veille « port » existe déjà : --replace pour la modifier."
    assert "grève AND port" in run("watch", "show", "port").output
    replaced = run("watch", "add", "port", "dockers", "--replace")
    assert replaced.exit_code == 0 and "Veille modifiée" in replaced.output
    assert "dockers" in run("watch", "show", "port").output


def test_a_query_nested_to_the_limit_still_searches(run, tmp_path):
    record = {"url": "https://ex.fr/1", "title": "Grève au port", "text": "La grève dure. " * 20}
    run("ingest", str(write(tmp_path / "a.jsonl", json.dumps(record))))
    nested = "(" * 31 + "grève" + ")" * 31
    result = run("search", nested)
    assert result.exit_code == 0 and "Grève au port" in result.output


@pytest.mark.parametrize(
    ("word", "days_ago"),
    [("today", 0), ("aujourd'hui", 0), ("yesterday", 1), ("hier", 1), ("Hier", 1)],
)
def test_dates_may_be_today_or_yesterday(run, tmp_path, word, days_ago):
    # Today where the (default) configuration says days are: Paris.
    now = datetime.now(zone(DEFAULT_ZONE))
    records = [
        {
            "url": f"https://ex.fr/{n}",
            "title": title,
            "text": f"{title}. " * 30,
            "date": (now - timedelta(days=n)).isoformat(timespec="seconds"),
        }
        for n, title in enumerate(("Aujourdhui au port", "Hier au port"))
    ]
    run("ingest", str(write(tmp_path / "a.jsonl", "\n".join(map(json.dumps, records)))))
    listing = run("articles", "--date", word).output
    assert ("Hier au port" in listing) == (days_ago == 1)
    assert ("Aujourdhui au port" in listing) == (days_ago == 0)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://[x/feed.xml", "URL invalide : "),
        ("ftp://ftp.example.org/feed.xml", "adresse non prise en charge ftp://ftp.example.org"),
    ],
)
def test_source_add_refuses_what_it_cannot_fetch_in_one_line(run, location, expected):
    assert expected in _one_line(run("source", "add", location))  # a bad request: 2
