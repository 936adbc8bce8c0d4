"""The processing core holds on any date span, any arrival order, a kill at any moment,
a stop signal, and two jobs on one store: the store ends as a clean run leaves it."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import postgres_database
from tests.helpers import story_partition, synthetic_records
from veille.config import Settings
from veille.pipeline import ingest
from veille.store import Store

VEILLE = str(Path(sys.executable).with_name("veille"))


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return path


def _check_consistent(store: Store) -> None:
    """Every article in exactly one story; every live story has the articles it counts;
    no empty live story; nothing left queued."""
    with store.engine.connect() as conn:
        articles = conn.execute(text("SELECT count(*) FROM articles")).scalar()
        placed = conn.execute(text("SELECT count(DISTINCT article_id) FROM story_articles"))
        assert placed.scalar() == articles
        wrong = conn.execute(
            text(
                "SELECT s.id FROM stories s LEFT JOIN story_articles m ON m.story_id = s.id "
                "WHERE s.merged_into IS NULL GROUP BY s.id, s.article_count "
                "HAVING count(m.article_id) != s.article_count OR s.article_count = 0"
            )
        ).all()
        assert wrong == []
        dead_with_articles = conn.execute(
            text(
                "SELECT s.id FROM stories s JOIN story_articles m ON m.story_id = s.id "
                "WHERE s.merged_into IS NOT NULL"
            )
        ).all()
        assert dead_with_articles == []
        assert conn.execute(text("SELECT count(*) FROM group_queue")).scalar() == 0
        empty_titles = conn.execute(
            text("SELECT count(*) FROM stories WHERE merged_into IS NULL AND title = ''")
        ).scalar()
        assert empty_titles == 0


def _snapshot(store: Store) -> tuple:
    articles = {
        a.canonical_url: (a.title, a.text, a.published, a.site_name) for a in store.articles()
    }
    briefs = {
        frozenset(a.canonical_url for a in store.story_articles(s.id)): bool(store.brief(s.id))
        for s in store.stories()
    }
    return articles, story_partition(store), briefs


def test_a_batch_spanning_weeks_is_grouped_whole(tmp_path):
    """Two records 23 days apart crashed the clusterer, which had forgotten the first story
    by the time it was asked about it."""
    records = [
        {
            "url": "https://a.example/1",
            "title": "Premier",
            "text": "Un texte. " * 30,
            "date": "2026-02-01",
        },
        {
            "url": "https://a.example/2",
            "title": "Second",
            "text": "Autre chose. " * 30,
            "date": "2026-02-24",
        },
    ]
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    report = ingest([_jsonl(tmp_path / "in.jsonl", records)], store, Settings())
    assert report.new == 2 and not report.failed
    _check_consistent(store)
    assert len(store.stories()) == 2
    again = ingest([tmp_path / "in.jsonl"], store, Settings())
    assert again.unchanged == 2 and again.stories == 0


def test_two_years_in_any_order_and_any_batches_give_the_stories_of_date_order(tmp_path):
    records = synthetic_records(90, days=730)
    ordered = sorted(records, key=lambda r: r["date"])
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)

    def run(name: str, batches: list[list[dict]]) -> Store:
        store = Store(f"sqlite:///{tmp_path / name}.db")
        for n, batch in enumerate(batches):
            ingest([_jsonl(tmp_path / name / f"{n}.jsonl", batch)], store, Settings())
        _check_consistent(store)
        return store

    in_order = run("ordered", [ordered])
    expected = story_partition(in_order)
    # Stories of several articles (each event has two to five reports): a real grouping.
    assert sum(len(g) > 1 for g in expected) >= 60
    assert story_partition(run("one-batch", [shuffled])) == expected
    many = [shuffled[i : i + 40] for i in range(0, len(shuffled), 40)]
    assert story_partition(run("many-batches", many)) == expected
    # Newest first, then backfilled: every batch lands before what is stored.
    backwards = [ordered[i : i + 60] for i in range(0, len(ordered), 60)][::-1]
    assert story_partition(run("backfill", backwards)) == expected


def _count(db: Path, table: str) -> int:
    """Rows in `table` of the store a job is writing, 0 until the table is there."""
    if not db.exists():  # connecting would create it under the job
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_ingest_is_finished_by_the_next_one(tmp_path):
    records = synthetic_records(120, seed=11, days=60)
    source = _jsonl(tmp_path / "in" / "all.jsonl", records)
    env = {**os.environ, "VEILLE_HOME": str(tmp_path / "home"), "VEILLE_LANG": "en"}

    def veille(db: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [VEILLE, "ingest", str(source), "--db", str(db)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    clean_db = tmp_path / "clean.db"
    assert veille(clean_db).wait(timeout=600) == 0
    clean = _snapshot(Store(f"sqlite:///{clean_db}"))
    total = len(clean[0])
    # Killed in each stage, told by what the store holds rather than by a clock: while
    # articles are stored, once all are (indexing and grouping), and while stories are
    # understood.
    stages = {
        "storing": lambda db: _count(db, "articles") > 0,
        "grouping": lambda db: _count(db, "articles") == total,
        "understanding": lambda db: _count(db, "story_briefs") > 0,
    }
    for stage, reached in stages.items():
        db = tmp_path / f"killed-{stage}.db"
        job = veille(db)
        deadline = time.monotonic() + 600  # a hang guard, not a timing
        while job.poll() is None and not reached(db):
            if time.monotonic() > deadline:
                job.kill()
                pytest.fail(f"hung: the ingest never got to {stage}")
            time.sleep(0.02)
        job.send_signal(signal.SIGKILL)
        # Killed mid-way, not after it had finished (or failed) on its own.
        assert job.wait(timeout=60) == -signal.SIGKILL, (stage, job.stderr.read())
        assert veille(db).wait(timeout=600) == 0
        store = Store(f"sqlite:///{db}")
        _check_consistent(store)
        assert _snapshot(store) == clean, stage
        store.close()


def test_sigterm_stops_at_the_next_unit_and_the_rerun_finishes(tmp_path):
    records = synthetic_records(200, seed=12, days=90)
    source = _jsonl(tmp_path / "in" / "all.jsonl", records)
    db = tmp_path / "v.db"
    env = {**os.environ, "VEILLE_HOME": str(tmp_path / "home"), "VEILLE_LANG": "en"}
    job = subprocess.Popen(
        [VEILLE, "ingest", str(source), "--db", str(db)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until articles are stored, then ask it to stop.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and job.poll() is None:
        if db.exists():
            with Store(f"sqlite:///{db}").engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM articles")).scalar():
                    break
        time.sleep(0.05)
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=120)  # a hang guard, not a timing
    assert job.returncode == 130, err
    assert "Stopped: what was done is kept" in err
    assert "Traceback" not in err
    store = Store(f"sqlite:///{db}")
    with store.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM group_queue")).scalar()
        stored = conn.execute(text("SELECT count(*) FROM articles")).scalar()
    assert left or stored < len(records)  # it stopped before the end
    rerun = subprocess.run(
        [VEILLE, "ingest", str(source), "--db", str(db)], env=env, capture_output=True
    )
    assert rerun.returncode == 0
    _check_consistent(store)
    assert len(list(store.articles())) == len(records)


def _concurrent(url: str, tmp_path: Path) -> tuple:
    records = synthetic_records(60, seed=21, days=20)
    random.Random(1).shuffle(records)
    first = _jsonl(tmp_path / "a" / "a.jsonl", records[::2])
    second = _jsonl(tmp_path / "b" / "b.jsonl", records[1::2])
    env = {**os.environ, "VEILLE_HOME": str(tmp_path / "home"), "VEILLE_LANG": "en"}
    jobs = [
        subprocess.Popen(
            [VEILLE, "ingest", str(path), "--db", url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    outputs = [job.communicate(timeout=600)[1] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs
    store = Store(url)
    _check_consistent(store)
    together = _snapshot(store)
    store.close()
    return together


def _sequential(url: str, tmp_path: Path) -> tuple:
    records = synthetic_records(60, seed=21, days=20)
    random.Random(1).shuffle(records)
    store = Store(url)
    for name, part in (("a", records[::2]), ("b", records[1::2])):
        ingest([_jsonl(tmp_path / "seq" / name / f"{name}.jsonl", part)], store, Settings())
    snapshot = _snapshot(store)
    store.close()
    return snapshot


def test_two_ingests_at_once_on_sqlite_equal_one_after_the_other(tmp_path):
    together = _concurrent(f"sqlite:///{tmp_path / 'together.db'}", tmp_path)
    assert together == _sequential(f"sqlite:///{tmp_path / 'apart.db'}", tmp_path)


def test_two_ingests_at_once_on_postgresql_equal_one_after_the_other(tmp_path):
    with postgres_database() as url:
        together = _concurrent(url, tmp_path)
    assert together == _sequential(f"sqlite:///{tmp_path / 'apart.db'}", tmp_path)


def test_a_second_job_waits_for_the_first_with_a_message(tmp_path):
    db = tmp_path / "v.db"
    store = Store(f"sqlite:///{db}")
    records = synthetic_records(2, seed=1)
    source = _jsonl(tmp_path / "in.jsonl", records)
    env = {**os.environ, "VEILLE_HOME": str(tmp_path / "home"), "VEILLE_LANG": "en"}
    with store.writer():
        job = subprocess.Popen(
            [VEILLE, "ingest", str(source), "--db", str(db)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = job.stderr.readline()
        assert "Another veille job is writing to this store" in line
        assert job.poll() is None  # still waiting
    assert job.wait(timeout=300) == 0
    assert len(list(store.articles())) == len(records)
