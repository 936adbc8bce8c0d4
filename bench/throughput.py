"""Throughput of the whole pipeline, end to end, on this machine's cores.

    python bench/throughput.py                  # jsonl, html, incremental
    python bench/throughput.py --parts growth   # 10k -> 50k -> 100k in daily batches

Parts (each in a fresh store, in this process, the stages timed where the pipeline calls
them; peak memory is the largest sum of proportional set sizes over this process and
its workers, sampled every 50 ms: pages the workers share count once):

- `jsonl`: the 1,200 OrangeSum test articles as JSONL (dates spread over 30 days, ten
  outlets), cold: extract, copies, stories, entities, facts, summaries, search index.
- `html`: every page of `../shared/datasets/extraction` (trafilatura-eval, scrapinghub,
  French) as files, cold; next to it, plain trafilatura (`extract`, default settings, one
  core) over the same pages in the same run, and the ratio.
- `incremental`: 1,000 of the JSONL articles, then the other 200 as a second ingest: cost
  per article of the second against the cold one; then the 1,200 ingested again unchanged.
- `growth`: articles streamed in daily batches (`bench/scale.py`'s generator: stories told
  with the datasets' sentences) up to each checkpoint; cost per article over the last
  batches before each checkpoint, and its ratio to the first.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VEILLE_SHARED", REPO.parent / "shared"))
DATASETS = SHARED / "datasets"
sys.path.insert(0, str(REPO / "bench"))

from veille import pipeline  # noqa: E402
from veille.config import Settings  # noqa: E402
from veille.enrich import stage as understanding  # noqa: E402
from veille.store import Store  # noqa: E402

clock: dict[str, float] = defaultdict(float)  # wall seconds per stage
cpu: dict[str, float] = defaultdict(float)  # CPU seconds per stage, workers included


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(module, name: str, label: str) -> None:
    function = getattr(module, name)

    def wrapper(*args, **kwargs):
        began, used = time.perf_counter(), _cpu()
        try:
            return function(*args, **kwargs)
        finally:
            clock[label] += time.perf_counter() - began
            cpu[label] += _cpu() - used

    setattr(module, name, wrapper)


STAGES = (
    "extract + store",
    "search index",
    "copies + stories",
    "understand",
    "  of which reading the stories",
    "  of which linking entities",
)
timed(pipeline, "store_documents", "extract + store")
timed(pipeline, "index", "search index")
timed(pipeline, "group", "copies + stories")
timed(pipeline, "understand", "understand")
timed(understanding, "_jobs", "  of which reading the stories")
timed(understanding, "_entity_updates", "  of which linking entities")


class PeakMemory:
    """The largest total memory (PSS) of this process and its children, sampled."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self._stop.wait(0.05)

    @property
    def mib(self) -> float:
        return self.peak / 2**20


def _tree_rss(pid: int) -> int:
    """Proportional set size of the process and its descendants: pages shared by forked
    workers (the spaCy model) count once in all, not once per process."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as status:
            for line in status:
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                for child in children.read().split():
                    total += _tree_rss(int(child))
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return total


def orangesum_records() -> list[dict]:
    rows = [json.loads(line) for line in (DATASETS / "summarization/orangesum/test.jsonl").open()]
    rng = random.Random(1)
    start = datetime(2026, 1, 5, 6)
    records = []
    for row in rows:
        title = row["abstract"].split(". ")[0][:200]
        records.append(
            {
                "url": f"https://www.orange-{row['index'] % 10}.example/articles/{row['index']}",
                "title": title,
                "text": row["article"],
                "date": (start + timedelta(minutes=rng.uniform(0, 30 * 24 * 60))).isoformat(
                    timespec="seconds"
                ),
                "site": f"Orange {row['index'] % 10}",
            }
        )
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def html_pages(folder: Path) -> list[Path]:
    files = []
    extraction = DATASETS / "extraction"
    sources = [
        *sorted((extraction / "trafilatura-eval" / "pages").glob("*.gz")),
        *sorted((extraction / "scrapinghub" / "html").glob("*.html.gz")),
        *sorted((extraction / "french" / "fundus").glob("*.html.gz")),
    ]
    for n, path in enumerate(sources):
        target = folder / f"{n:05d}.html"
        target.write_bytes(gzip.decompress(path.read_bytes()))
        files.append(target)
    for n, path in enumerate(sorted((extraction / "french" / "readability").glob("*/source.html"))):
        target = folder / f"r{n}.html"
        target.write_bytes(path.read_bytes())
        files.append(target)
    return files


def ingest(paths: list[Path], db: Path) -> tuple[pipeline.IngestReport, float, float]:
    """(report, seconds, peak MiB) of one `veille ingest` into the store at `db`."""
    store = Store(f"sqlite:///{db}")
    with PeakMemory() as memory:
        began = time.perf_counter()
        report = pipeline.ingest(paths, store, Settings(archive=False))
        took = time.perf_counter() - began
    store.close()
    return report, took, memory.mib


def print_run(label: str, count: int, took: float, mib: float) -> None:
    print(
        f"{label}: {count} articles in {took:.1f} s = {count / took:.1f} articles/s, "
        f"peak {mib:.0f} MiB (this process and its workers)"
    )
    print(f"    {'stage':<44} {'wall s':>7} {'CPU s':>7}")
    for stage in STAGES:  # in pipeline order, "of which" after its stage
        print(f"    {stage:<44} {clock[stage]:7.1f} {cpu[stage]:7.1f}")
    clock.clear()
    cpu.clear()


def part_jsonl(tmp: Path) -> None:
    records = orangesum_records()
    source = write_jsonl(tmp / "orangesum.jsonl", records)
    clock.clear()
    report, took, mib = ingest([source], tmp / "jsonl.db")
    print_run("OrangeSum JSONL, cold", report.new, took, mib)


def part_html(tmp: Path) -> None:
    import trafilatura

    folder = tmp / "pages"
    folder.mkdir()
    files = html_pages(folder)
    clock.clear()
    _report, took, mib = ingest([folder], tmp / "html.db")
    print_run(f"{len(files)} HTML pages, cold", len(files), took, mib)
    began = time.perf_counter()
    for file in files:
        trafilatura.extract(file.read_bytes())
    plain = time.perf_counter() - began
    print(
        f"plain trafilatura.extract, one core: {len(files) / plain:.1f} pages/s; "
        f"veille ingest end to end: {len(files) / took:.1f} pages/s = "
        f"{plain / took:.2f}x plain trafilatura"
    )


def part_incremental(tmp: Path) -> None:
    """The next day's news (the 200 latest articles) into a store of the 1,000 before
    them; then the 200 earliest as a backfill into a store of the 1,000 after them (every
    article placed again from the first late day); then the 1,200 again, unchanged."""
    records = sorted(orangesum_records(), key=lambda r: r["date"])
    for label, (old, new) in {
        "incremental": (records[:1000], records[1000:]),
        "backfill": (records[200:], records[:200]),
    }.items():
        first = write_jsonl(tmp / label / "first" / "first.jsonl", old)
        second = write_jsonl(tmp / label / "second" / "second.jsonl", new)
        db = tmp / f"{label}.db"
        clock.clear()
        cpu.clear()
        _, cold, _ = ingest([first], db)
        clock.clear()
        cpu.clear()
        report, took, mib = ingest([second], db)
        print_run(f"{label}: 200 articles into a store of 1,000", report.new, took, mib)
        per_cold, per_new = cold / 1000, took / 200
        print(
            f"cost per article: cold {1000 * per_cold:.1f} ms, {label} "
            f"{1000 * per_new:.1f} ms = {per_new / per_cold:.2f}x cold"
        )
    clock.clear()
    report, again, _ = ingest([first, second], db)
    print(
        f"the 1,200 again, unchanged: {again:.2f} s ({report.unchanged} unchanged) = "
        f"{(cold + took) / again:.1f}x faster than their first ingest"
    )


def part_growth(tmp: Path, checkpoints: list[int], per_day: int) -> None:
    import scale

    pool = scale.sentence_pool(DATASETS)
    db = tmp / "growth.db"
    by_day: dict[str, list[dict]] = defaultdict(list)
    for n, title, body, when, _story in scale.stream(pool, max(checkpoints), per_day, 7):
        by_day[when.date().isoformat()].append(
            {
                "url": f"https://www.site{n % 97}.example/{n}",
                "title": title,
                "text": body,
                "date": when.isoformat(timespec="seconds"),
                "site": f"Site {n % 97}",
            }
        )
    done = 0
    window: list[tuple[int, float]] = []
    first_cost = None
    print(f"{'articles':>9} {'ms/article':>11} {'x first':>8} {'peak MiB':>9}")
    peak = 0.0
    for n, (_day, records) in enumerate(sorted(by_day.items())):
        source = write_jsonl(tmp / "days" / f"{n:04d}.jsonl", records)
        _report, took, mib = ingest([source], db)
        peak = max(peak, mib)
        done += len(records)
        window = [*window[-4:], (len(records), took)]
        if any(done >= c > done - len(records) for c in checkpoints):
            cost = 1000 * sum(t for _, t in window) / sum(k for k, _ in window)
            first_cost = first_cost or cost
            print(f"{done:>9,} {cost:>11.2f} {cost / first_cost:>8.2f} {peak:>9.0f}", flush=True)
        clock.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="jsonl,html,incremental")
    parser.add_argument("--growth", default="10000,50000,100000")
    parser.add_argument("--per-day", type=int, default=2000)
    options = parser.parse_args()
    if not DATASETS.is_dir():
        raise SystemExit(f"{DATASETS} is absent: this bench reads the shared datasets")
    print(f"cpu {os.cpu_count()}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for part in options.parts.split(","):
            print(f"\n== {part}")
            if part == "jsonl":
                part_jsonl(tmp)
            elif part == "html":
                part_html(tmp)
            elif part == "incremental":
                part_incremental(tmp)
            elif part == "growth":
                part_growth(tmp, [int(c) for c in options.growth.split(",")], options.per_day)


if __name__ == "__main__":
    main()
