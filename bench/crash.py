"""Kill -9 at random moments, re-run, compare with a clean run.

Two jobs over the same 1,171 pages of `../shared/datasets/extraction` (trafilatura-eval,
scrapinghub and the French pages; several languages, many sites):

- `veille ingest FOLDER` over the pages as files;
- `veille run --all --replay WARC`: the same pages in a WARC with six RSS feeds listing
  them, the feeds added by `veille opml import`.

Each job runs once to the end (the clean store), then `--kills` times into a fresh store:
started, killed with SIGKILL after a random delay between 0.2 s and the clean run's
duration, run again to completion, and compared with the clean store: the same articles
(canonical URL, title, text, date, site), the same stories (as sets of articles), no empty
or untitled live story, every article in one story, nothing left queued, every live story
understood. Two trials run at a time (two cores).

    python bench/crash.py [--kills 10] [--jobs ingest,replay] [--seed 1]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import text
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VEILLE_SHARED", REPO.parent / "shared"))
EXTRACTION = SHARED / "datasets" / "extraction"
VEILLE = str(Path(sys.executable).with_name("veille"))
sys.path.insert(0, str(REPO))

from tests.helpers import story_partition  # noqa: E402
from veille.store import Store  # noqa: E402


def pages() -> list[tuple[str, bytes]]:
    """(URL, HTML bytes) of every page of the extraction corpora."""
    found: list[tuple[str, bytes]] = []
    evaldata = json.loads((EXTRACTION / "trafilatura-eval" / "evaldata.json").read_text())
    for url, entry in evaldata.items():
        path = EXTRACTION / "trafilatura-eval" / "pages" / (entry["file"] + ".gz")
        if path.is_file():
            found.append((url, gzip.decompress(path.read_bytes())))
    truth = json.loads((EXTRACTION / "scrapinghub" / "ground-truth.json").read_text())
    for key, entry in truth.items():
        path = EXTRACTION / "scrapinghub" / "html" / f"{key}.html.gz"
        if path.is_file() and entry.get("url"):
            found.append((entry["url"], gzip.decompress(path.read_bytes())))
    for path in sorted((EXTRACTION / "french" / "fundus").glob("*.html.gz")):
        found.append(
            (f"https://fundus.example/{path.name[:-8]}", gzip.decompress(path.read_bytes()))
        )
    seen: set[str] = set()
    return [
        (u, b)
        for u, b in found
        if u.startswith(("http://", "https://")) and not (u in seen or seen.add(u))
    ]


def build_inputs(folder: Path) -> tuple[Path, Path, Path, int]:
    """The pages as files, the same pages in a WARC with six feeds, and an OPML of them."""
    corpus = pages()
    files = folder / "pages"
    files.mkdir()
    for n, (url, body) in enumerate(corpus):
        head = f'<link rel="canonical" href="{escape(url)}">'.encode()
        html = body.replace(b"</head>", head + b"</head>", 1) if b"</head>" in body else body
        (files / f"{n:05d}.html").write_bytes(html)
    feeds = [corpus[i::6] for i in range(6)]
    warc = folder / "pages.warc.gz"
    with warc.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)

        def record(url: str, content_type: str, body: bytes) -> None:
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers
                )
            )

        for n, items in enumerate(feeds):
            entries = "".join(
                f"<item><title>page {escape(url)}</title><link>{escape(url)}</link></item>"
                for url, _ in items
            )
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Fil {n}</title>'
            rss += f"{entries}</channel></rss>"
            record(f"https://feeds.crash.example/{n}.xml", "application/rss+xml", rss.encode())
        for url, body in corpus:
            record(url, "text/html; charset=utf-8", body)
        for host in sorted({u.split("/")[2] for u, _ in corpus} | {"feeds.crash.example"}):
            record(f"https://{host}/robots.txt", "text/plain", b"User-agent: *\nAllow: /\n")
    opml = folder / "feeds.opml"
    outlines = "".join(
        f'<outline type="rss" text="Fil {n}" xmlUrl="https://feeds.crash.example/{n}.xml"/>'
        for n in range(6)
    )
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>')
    return files, warc, opml, len(corpus)


class Job:
    def __init__(self, kind: str, files: Path, warc: Path, opml: Path, home: Path) -> None:
        self.kind, self.files, self.warc, self.opml = kind, files, warc, opml
        self.env = {**os.environ, "VEILLE_HOME": str(home), "VEILLE_LANG": "en"}
        home.mkdir(exist_ok=True)
        (home / "config.toml").write_text(
            "[fetch]\nhost_delay = 0.0\nmax_new_entries = 5000\n[archive]\nenabled = false\n"
        )

    def prepare(self, db: Path) -> None:
        if self.kind == "replay":
            subprocess.run(
                [VEILLE, "opml", "import", str(self.opml), "--db", str(db)],
                env=self.env,
                check=True,
                capture_output=True,
            )

    def start(self, db: Path) -> subprocess.Popen:
        if self.kind == "ingest":
            args = ["ingest", str(self.files)]
        else:
            args = ["run", "--all", "--replay", str(self.warc)]
        return subprocess.Popen(
            [VEILLE, *args, "--db", str(db)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def complete(self, db: Path) -> float:
        began = time.monotonic()
        job = self.start(db)
        _, err = job.communicate()
        if job.returncode != 0:
            raise SystemExit(f"{self.kind} failed: {err.decode()[-2000:]}")
        return time.monotonic() - began


def snapshot(db: Path) -> dict:
    store = Store(f"sqlite:///{db}")
    articles = {
        a.canonical_url: (a.title, a.text, a.published, a.site_name) for a in store.articles()
    }
    with store.engine.connect() as conn:
        problems = {
            "articles outside any story": conn.execute(
                text(
                    "SELECT count(*) FROM articles "
                    "WHERE id NOT IN (SELECT article_id FROM story_articles)"
                )
            ).scalar(),
            "empty live stories": conn.execute(
                text("SELECT count(*) FROM stories WHERE merged_into IS NULL AND article_count = 0")
            ).scalar(),
            "untitled live stories": conn.execute(
                text(
                    "SELECT count(*) FROM stories WHERE merged_into IS NULL AND article_count > 0 "
                    "AND title = ''"
                )
            ).scalar(),
            "queued": conn.execute(text("SELECT count(*) FROM group_queue")).scalar(),
            "live stories not understood": conn.execute(
                text(
                    "SELECT count(*) FROM stories s LEFT JOIN story_briefs b ON b.story_id = s.id "
                    "WHERE s.merged_into IS NULL AND s.article_count > 0 "
                    "AND (b.story_id IS NULL OR s.pending_brief)"
                )
            ).scalar(),
        }
    partition = story_partition(store)
    store.close()
    return {"articles": articles, "stories": partition, "problems": problems}


def trial(job: Job, folder: Path, n: int, delay: float) -> dict:
    db = folder / f"{job.kind}-{n}.db"
    job.prepare(db)
    running = job.start(db)
    time.sleep(delay)
    finished_before = running.poll() is not None
    running.send_signal(signal.SIGKILL)
    running.wait()
    rerun = job.complete(db)
    return {"delay": delay, "finished_before": finished_before, "rerun": rerun, **snapshot(db)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--jobs", default="ingest,replay")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    if not EXTRACTION.is_dir():
        raise SystemExit(f"{EXTRACTION} is absent: this bench reads the shared datasets")
    rng = random.Random(options.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, warc, opml, count = build_inputs(folder)
        print(f"{count} pages; {options.kills} kills per job")
        for kind in options.jobs.split(","):
            job = Job(kind, files, warc, opml, folder / f"home-{kind}")
            clean_db = folder / f"{kind}-clean.db"
            job.prepare(clean_db)
            took = job.complete(clean_db)
            clean = snapshot(clean_db)
            print(
                f"\n{kind}: clean run {took:.1f} s, {len(clean['articles'])} articles, "
                f"{len(clean['stories'])} stories, problems {clean['problems']}"
            )
            delays = [rng.uniform(0.2, took) for _ in range(options.kills)]
            with ThreadPoolExecutor(2) as pool:
                runs = [pool.submit(trial, job, folder, n, d) for n, d in enumerate(delays)]
                results = [run.result() for run in runs]
            same = 0
            for n, result in enumerate(results):
                ok = (
                    result["articles"] == clean["articles"]
                    and result["stories"] == clean["stories"]
                    and not any(result["problems"].values())
                )
                same += ok
                lost = len(set(clean["articles"]) - set(result["articles"]))
                print(
                    f"  kill {n + 1:2d} at {result['delay']:6.1f} s"
                    f"{' (after it ended)' if result['finished_before'] else ''}: "
                    f"re-run {result['rerun']:5.1f} s, "
                    f"{'same as clean' if ok else 'DIFFERENT'}"
                    + (
                        ""
                        if ok
                        else f" (articles lost {lost}, stories "
                        f"{len(result['stories'])} vs {len(clean['stories'])}, "
                        f"problems {result['problems']})"
                    )
                )
            print(f"{kind}: {same}/{len(results)} kills ended in the clean run's store")


if __name__ == "__main__":
    main()
