"""Which day a time belongs to is decided by `[digest] timezone` alone: an article published
at 23:30 UTC on 3 February is read on the 4th in Paris and on the 3rd in UTC, in a watch's
test window, in the days a story spans (command line, pages, digests), in a digest's title
and in the day "today" names there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import require_french_model
from tests.helpers import LOCAL, write
from veille import cli, clock
from veille.cli import app
from veille.config import DigestSettings, Settings
from veille.digest.render import render
from veille.model import Watch
from veille.operations import archive, digests
from veille.operations.following import try_watch
from veille.pipeline import ingest
from veille.store import Store
from veille.web import create_app

# (zone, the day 2026-02-03 23:30 UTC is there, the other day)
ZONES = [("Europe/Paris", "2026-02-04", "2026-02-03"), ("UTC", "2026-02-03", "2026-02-04")]
IN_WORDS = {"2026-02-03": "3 février 2026", "2026-02-04": "4 février 2026"}
# 23:45 UTC on 3 February: already the 4th in Paris.
LATE_NOW = datetime(2026, 2, 3, 23, 45)


def _article(n: int, title: str, published: str) -> dict:
    return {
        "url": f"https://ex.fr/{n}",
        "title": title,
        "text": f"{title}. " * 30,
        "date": published,
    }


@pytest.fixture
def late_store(store, tmp_path):
    """A store holding one story, published at 23:30 UTC on 3 February."""
    record = _article(1, "Grève tardive au port du Havre", "2026-02-03T23:30:00+00:00")
    ingest([write(tmp_path / "late.jsonl", json.dumps(record))], store, Settings())
    return store


def _config(tmp_path: Path, zone: str) -> Path:
    return write(tmp_path / f"{zone.replace('/', '-')}.toml", f'[digest]\ntimezone = "{zone}"\n')


def _veille(tmp_path: Path, zone: str, *args: str) -> str:
    result = CliRunner().invoke(
        app,
        [*args, "--db", str(tmp_path / "test.db")],
        env={"VEILLE_CONFIG": str(_config(tmp_path, zone))},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("zone", "there", "elsewhere"), ZONES)
def test_a_watch_test_window_is_made_of_local_days(late_store, zone, there, elsewhere):
    settings = Settings(digest=DigestSettings(timezone=zone))

    def found(day: str) -> int:
        window = try_watch(late_store, settings, "grève", date.fromisoformat(day), days=1)
        return len(window.entries)

    assert found(there) == 1
    assert found(elsewhere) == 0


@pytest.mark.parametrize(("zone", "there", "elsewhere"), ZONES)
def test_a_story_spans_its_local_days_on_the_command_line(
    late_store, tmp_path, monkeypatch, zone, there, elsewhere
):
    monkeypatch.setattr(cli.console, "width", 250)  # every column shown
    (story,) = late_store.stories()
    for listing in (
        _veille(tmp_path, zone, "stories"),
        _veille(tmp_path, zone, "story", str(story.id)),
        _veille(tmp_path, zone, "watch", "test", "grève", "--date", there, "--days", "1"),
    ):
        assert there in listing
        assert elsewhere not in listing


def _with_config_option(
    tmp_path: Path, zone: str, commands: list[list[str]]
) -> Iterator[tuple[list[str], str]]:
    """Each command's output with `--config` naming a file in `zone`, VEILLE_CONFIG one in
    the other zone: the option, not the variable or the default file, must decide."""
    other = next(z for z, *_ in ZONES if z != zone)
    env = {"VEILLE_CONFIG": str(_config(tmp_path / "env", other))}
    option = ["--config", str(_config(tmp_path, zone)), "--db", str(tmp_path / "test.db")]
    for command in commands:
        result = CliRunner().invoke(app, [*command, *option], env=env, catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        yield command, result.output


@pytest.mark.parametrize(("zone", "there", "elsewhere"), ZONES)
def test_the_config_option_decides_the_local_days_of_every_command(
    late_store, tmp_path, monkeypatch, zone, there, elsewhere
):
    monkeypatch.setattr(cli.console, "width", 250)  # every column shown
    (story,) = late_store.stories()
    (article,) = late_store.articles()
    commands = [
        ["articles"],
        ["articles", "--date", there],
        ["show", str(article.id)],
        ["export"],
        ["search", "grève"],
        ["search", "grève", "--from", there, "--to", there],
        ["stories"],
        ["story", str(story.id)],
        ["watch", "test", "grève", "--date", there, "--days", "1"],
    ]
    for command, output in _with_config_option(tmp_path, zone, commands):
        assert there in output and "Grève tardive" in output, command
        assert elsewhere not in output, command
    # The other day holds nothing.
    elsewhere_only = [
        ["articles", "--date", elsewhere],
        ["search", "grève", "--from", elsewhere, "--to", elsewhere],
    ]
    for command, output in _with_config_option(tmp_path, zone, elsewhere_only):
        assert "Grève tardive" not in output, command


@pytest.mark.parametrize(("zone", "there", "elsewhere"), ZONES)
def test_the_config_option_decides_the_local_days_of_entities(
    late_store, tmp_path, monkeypatch, zone, there, elsewhere
):
    require_french_model()  # the story's place, Le Havre, is found by the French model
    monkeypatch.setattr(cli.console, "width", 250)
    commands = [["entities"], ["entity", "Havre"]]
    for command, output in _with_config_option(tmp_path, zone, commands):
        assert there in output and "Havre" in output, command
        assert elsewhere not in output, command


@pytest.mark.parametrize(
    ("zone", "today", "yesterday"),
    [("Europe/Paris", {"after"}, {"before"}), ("UTC", {"before", "after"}, set())],
)
def test_today_on_the_command_line_is_the_local_day(
    store, tmp_path, monkeypatch, zone, today, yesterday
):
    monkeypatch.setattr(clock, "now", lambda: LATE_NOW)
    titles = {"before": "Avant minuit à Paris", "after": "Après minuit à Paris"}
    records = [
        _article(1, titles["before"], "2026-02-03T22:30:00+00:00"),
        _article(2, titles["after"], "2026-02-03T23:40:00+00:00"),
    ]
    ingest([write(tmp_path / "a.jsonl", "\n".join(map(json.dumps, records)))], store, Settings())
    for word, expected in (("today", today), ("yesterday", yesterday)):
        listing = _veille(tmp_path, zone, "articles", "--date", word)
        assert {key for key, title in titles.items() if title in listing} == expected, word


@pytest.mark.parametrize(("zone", "there", "elsewhere"), ZONES)
def test_today_of_the_doors_is_the_local_day(
    late_store, tmp_path, monkeypatch, zone, there, elsewhere
):
    monkeypatch.setattr(clock, "now", lambda: LATE_NOW)
    settings = Settings(digest=DigestSettings(timezone=zone))
    watch = Watch("port", "grève")
    # A day's digest and a day's stories for a watch, without a day: today, there.
    digest = digests.digest_of_day(late_store, settings, watch)
    assert digest.key == there and len(digest.entries) == 1
    late_store.save_watch(watch)
    assert [r.story.title for r in archive.stories_of(late_store, settings, watch="port")] == [
        "Grève tardive au port du Havre"
    ]
    empty = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert archive.latest_day(empty, zone).isoformat() == there
    finally:
        empty.close()


@pytest.mark.parametrize(("zone", "there", "elsewhere"), ZONES)
def test_a_digest_and_a_page_say_the_local_days(late_store, zone, there, elsewhere):
    settings = Settings(digest=DigestSettings(timezone=zone))
    digest = digests.digest_of_day(
        late_store, settings, Watch("port", "grève"), date.fromisoformat(there)
    )
    for fmt in ("text", "md", "html"):
        text = render(digest, fmt, "fr")
        assert IN_WORDS[there] in text  # the title's day and the story's span
        assert IN_WORDS[elsewhere] not in text, fmt
    (story,) = late_store.stories()
    with TestClient(create_app(late_store, settings), base_url=LOCAL) as client:
        page = client.get(f"/stories/{story.id}").text
    assert IN_WORDS[there] in page and IN_WORDS[elsewhere] not in page
