"""`veille reprocess`: archives read in byte ranges, a small job on Spark (local[2]) that
must leave the store `veille ingest` leaves, with a worker killed mid-job, with the driver
killed and the job run again, and with broken records among the pages."""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest

from tests.conftest import POSTGRES, REPO, postgres_database, require_french_model
from tests.helpers import article_html, warc_records, write
from veille.config import Settings
from veille.pipeline import ingest
from veille.reprocess import environment_ready, job, reprocess
from veille.reprocess.work import plan, read_split
from veille.sources.local import read_path
from veille.sources.warc import read_warc, splittable
from veille.store import Store

RECORDS = 160
MAX_BYTES = 1 << 20


def _bench():
    """bench/reprocess.py: the archive generator and the store comparison."""
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("bench_reprocess", REPO / "bench/reprocess.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


def _items(stream: io.BytesIO, start: int = 0, end: int | None = None) -> list[tuple]:
    return [
        (item.ref, getattr(item, "reason", None), getattr(item, "content", None))
        for item in read_warc(stream, "a.warc", "a.warc", MAX_BYTES, start, end)
    ]


def _in_ranges(data: bytes, step: int) -> list[tuple]:
    stream = io.BytesIO(data)
    bounds = [*range(0, len(data), step), None]
    return [item for a, b in pairwise(bounds) for item in _items(stream, a, b)]


def test_an_archive_read_in_ranges_gives_the_records_and_damage_of_reading_it_whole():
    pages = {f"https://www.exemple.fr/{n}": article_html(f"Titre {n}").encode() for n in range(40)}
    # A page quoting a record header.
    pages["https://www.exemple.fr/quote"] = (
        article_html("Le format WARC").replace("</article>", "\nWARC/1.0\r\n</article>").encode()
    )
    records = warc_records(pages)
    records[10] = records[10][: len(records[10]) // 2]  # truncated
    records[20] = b"\x00garbage\xff" * 50 + records[20]  # damage before a good record
    data = b"".join(records)
    whole = _items(io.BytesIO(data))
    assert len([i for i in whole if i[2] is not None]) >= 38
    assert [i for i in whole if i[1] is not None]  # the damage is reported
    for step in (97, 1000, 4096, 25_000, len(data)):
        assert _in_ranges(data, step) == whole, step
    assert splittable(io.BytesIO(data))


@pytest.mark.parametrize("kept", [30, 120, 0.5])
def test_an_archive_cut_in_its_last_record_reads_the_same_in_ranges(kept):
    """The cut inside the last record's headers (warcio ends quietly), at the start of
    its payload, or in its body: one failure, in ranges as whole."""
    pages = {f"https://www.exemple.fr/{n}": article_html(f"Titre {n}").encode() for n in range(20)}
    records = warc_records(pages)
    last = records[-1]
    data = b"".join(records[:-1]) + last[: kept if isinstance(kept, int) else len(last) // 2]
    whole = _items(io.BytesIO(data))
    assert len([i for i in whole if i[2] is not None]) == 19
    assert len([i for i in whole if i[1] is not None]) == 1
    for step in (97, 1000, 4096, len(data)):
        assert _in_ranges(data, step) == whole, step


def test_an_uncompressed_archive_or_one_gzip_stream_is_read_by_one_task(tmp_path):
    plain = b"".join(warc_records({"https://www.exemple.fr/a": b"<html></html>"}, gzip=False))
    for name, data in (("one.warc.gz", gzip.compress(plain * 50)), ("plain.warc", plain * 50)):
        whole = write(tmp_path / name, data)
        assert not splittable(whole.open("rb"))
        assert [(s.start, s.end) for s in plan([(0, whole)], 100)] == [(0, None)]


# --------------------------------------------------------------------------- on Spark


@pytest.fixture(scope="module")
def spark_case(tmp_path_factory):
    """A small archive of pages (the demo day's templates and sentences, broken records
    among them) and the store `veille ingest` makes of it."""
    missing = environment_ready()
    if missing:
        pytest.skip(missing)
    require_french_model()
    folder = tmp_path_factory.mktemp("reprocess")
    archive = folder / "small.warc.gz"
    written = bench.write_warc(archive, RECORDS, bench.demo_pool(), seed=3)
    settings = Settings(max_bytes=MAX_BYTES)
    reference = folder / "ingest.db"
    with Store(f"sqlite:///{reference}") as store:
        report = ingest([archive], store, settings)
    assert report.new > 120 and report.failed
    return archive, written, settings, bench.snapshot(reference)


def test_the_stages_work_after_storing_runs_on_the_executors_in_order():
    """What the stages after storing fork out on one machine (sentence vectors, stories'
    understanding) is a Spark job in `veille reprocess`: same results, same order, computed
    in the executors' processes."""
    missing = environment_ready()
    if missing:
        pytest.skip(missing)
    context = job._context("local[2]", {})
    watcher = job._Watcher(context, job.ReprocessReport(), None, None)
    try:
        for count in (1, 3, 37):
            items = list(range(count))
            found = job._on_cluster(context, watcher, lambda n: (n * n, os.getpid()), items)
            assert [square for square, _pid in found] == [n * n for n in items]
            assert os.getpid() not in {pid for _square, pid in found}
    finally:
        watcher.close()
        context.stop()


def _same(reference: dict, database: Path | str) -> dict:
    found = bench.compare(reference, bench.snapshot(database))
    assert found["same_urls"] and found["same_ids"], found
    assert found["same_article_rows"] == 1.0, found
    assert found["story_pair_agreement"] == 1.0 and found["same_stories"] == 1.0, found
    assert found["copy_pair_agreement"] == 1.0, found
    assert found["same_entities_per_story"] == 1.0, found
    assert found["same_problems"], found
    return found


def test_spark_stores_what_ingest_stores_broken_records_failing_alone(spark_case, tmp_path):
    archive, written, settings, reference = spark_case
    database = tmp_path / "spark.db"
    with Store(f"sqlite:///{database}") as store:
        report = reprocess([str(archive)], store, settings, "local[2]", split_bytes=50_000)
    assert report.splits >= 4  # the archive was read in ranges, in parallel
    assert report.records == RECORDS - written["others"]
    found = _same(reference, database)
    assert found["copies"][0] > 0 and found["stories"][0] > 10
    # Each broken record is a failure of its own, recorded; the job went on.
    with sqlite3.connect(database) as db:
        stages = [s for (s,) in db.execute("SELECT stage FROM ingest_log WHERE level='error'")]
    assert stages.count("read") >= 3 and stages.count("extract") >= 1
    assert len(stages) == sum(written["broken"].values())
    # The template memory the pages were read with, and the digests of the inputs read,
    # are those `veille ingest` leaves.
    memory = _memory(archive.parent / "ingest.db")
    assert memory["site_templates"] and memory == _memory(database)
    # Run again: the batches whose records were all stored before are not extracted again.
    with Store(f"sqlite:///{database}") as store:
        again = reprocess([str(archive)], store, settings, "local[2]", split_bytes=50_000)
    assert again.unchanged >= 100 and not again.new
    _same(reference, database)


def _memory(database: Path) -> dict[str, list]:
    tables = {
        "site_templates": "site, pages",
        "template_blocks": "site, block, pages, last_page",
        "template_pages": "site, page",
        "raw_inputs": "ref, digest",
    }
    with sqlite3.connect(database) as db:
        return {
            table: db.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}").fetchall()
            for table, columns in tables.items()
        }


def _workers() -> list[int]:
    """This test's Spark Python workers: the processes forked by a pyspark daemon that
    descends from this process (another job's workers on the machine are not ours)."""
    parents: dict[int, int] = {}
    daemons = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        parents[int(entry)] = parent
        if b"pyspark.daemon" in command:
            daemons.add(int(entry))

    def ours(pid: int) -> bool:
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = parents.get(pid, 0)
        return False

    return [pid for pid, parent in parents.items() if parent in daemons and ours(parent)]


def _cpu_ticks(pid: int) -> int:
    """A process's CPU time so far (user + system, in clock ticks); -1 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])


def _server_or_file(tmp_path: Path) -> contextlib.AbstractContextManager[str]:
    """A PostgreSQL database when a server is named (as in CI: a cluster's store), else a
    SQLite file."""
    if os.environ.get(POSTGRES):
        return postgres_database()
    return contextlib.nullcontext(f"sqlite:///{tmp_path / 'spark.db'}")


def test_a_worker_killed_mid_job_leaves_the_same_store(spark_case, tmp_path):
    archive, _written, settings, reference = spark_case
    killed: list[int] = []
    done = threading.Event()

    def kill_one() -> None:
        # Kill a worker while it runs a task (its CPU time moving), not an idle one
        # waiting for the next task: that one's death would fail nothing.
        while not done.is_set():
            before = {pid: _cpu_ticks(pid) for pid in _workers()}
            time.sleep(0.3)
            for pid, ticks in before.items():
                if _cpu_ticks(pid) > ticks + 5:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        return
                    except ProcessLookupError:
                        continue

    killer = threading.Thread(target=kill_one)
    killer.start()
    with _server_or_file(tmp_path) as url:
        try:
            with Store(url) as store:
                report = reprocess([str(archive)], store, settings, "local[2]", split_bytes=50_000)
        finally:
            done.set()
            killer.join()
        assert killed and report.tasks_failed >= 1  # a task died with its worker, ran again
        _same(reference, url)


def _veille(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "VEILLE_MAX_BYTES": str(MAX_BYTES)}
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("veille")), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **kwargs,
    )


def _articles(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=1) as db:
            return db.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_the_driver_killed_then_the_job_run_again_leaves_the_same_store(spark_case, tmp_path):
    archive, written, _settings, reference = spark_case
    database = tmp_path / "spark.db"
    command = ("reprocess", str(archive), "--master", "local[2]", "--db", str(database))
    job = _veille(*command)
    deadline = time.monotonic() + 600
    while _articles(database) < 20 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.poll() is None, job.stdout.read().decode()
    os.killpg(job.pid, signal.SIGKILL)  # the driver and its JVM, mid-way through storing
    job.wait()
    stored = _articles(database)
    assert 20 <= stored < len(reference["articles"])
    again = _veille(*command)
    output = again.communicate(timeout=900)[0].decode()
    assert again.returncode == 0, output
    assert "Traceback" not in output and str(RECORDS - written["others"]) in output
    _same(reference, database)


def test_the_splits_of_inputs_read_as_veille_ingest_reads_them(tmp_path):
    """Folders, files of every kind, archives cut in ranges, a missing path: the splits in
    order give the items of `read_path`, in its order."""
    settings = Settings(max_bytes=MAX_BYTES)
    pages = {f"https://www.exemple.fr/{n}": article_html(f"Titre {n}").encode() for n in range(30)}
    folder = tmp_path / "in"
    write(folder / "b" / "a.warc.gz", b"".join(warc_records(pages)))
    write(folder / "a-b" / "page.html", article_html("Une page"))
    write(folder / "a" / "notes.jsonl", '{"url": "https://www.exemple.fr/j", "text": "Du texte."}')
    write(folder / "a" / "empty.html", b"")
    write(folder / "plain.warc", b"".join(warc_records(pages, gzip=False)))
    inputs = [folder, tmp_path / "missing", folder / "b" / "a.warc.gz"]

    def summary(items):
        return [(i.ref, type(i).__name__, getattr(i, "reason", None)) for i in items]

    expected = [summary(read_path(path, settings)) for path in inputs]
    splits = plan(list(enumerate(inputs)), 2_000)
    assert sum(s.warc for s in splits) > 4
    found = [
        summary(item for s in splits if s.input == n for item in read_split(s, settings))
        for n in range(len(inputs))
    ]
    assert found == expected
