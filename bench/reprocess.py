"""Reprocessing an archive on Spark against `veille ingest` on one machine: speed and
sameness.

    python bench/reprocess.py                    # 20,000 records
    python bench/reprocess.py --records 2000 --runs ingest,local[2]

A WARC.gz of `--records` records is generated (seeded): news pages made from the demo
day's HTML templates (src/veille/demo/data/pages: nine outlets, their menus, bylines and
sidebars), their headlines and bodies written with the shared datasets' sentences
(OrangeSum, SemEval, gnews-fr; `bench/scale.py`'s story generator: stories told by 1 to 20
articles, a fifth of them syndicated copies), spread over several days; plus records that
are not pages (requests, images, 404s) and broken ones (truncated, binary, oversized,
garbage between records). Each run is a `veille` subprocess on a fresh SQLite store:
`veille ingest`, then `veille reprocess --master local[1]` and `local[2]`. Printed for
each: wall seconds, records/s, CPU seconds of the process tree, the machine's load
(`uptime`) before and after, and the speed-up to local[1] and to `veille ingest`; then
each Spark store against the ingest store: articles (canonical URLs, titles, dates, text
hashes), failures recorded, copy and story pair agreement, entities per story.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from itertools import combinations
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
TEMPLATES = REPO / "src" / "veille" / "demo" / "data" / "pages"
MAX_BYTES = 1 << 20  # VEILLE_MAX_BYTES for every run: oversized records stay small

_LONG_P = re.compile(r"<p>(.*?)</p>", re.S)
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?(?:[+-]\d\d:\d\d|Z)?")


# --------------------------------------------------------------------------- the archive


class Template:
    """One demo page, its headline, lead, address, date and body paragraphs located."""

    def __init__(self, path: Path) -> None:
        self.html = path.read_text(encoding="utf-8")
        self.domain = path.parent.name
        self.title = re.search(r'property="og:title" content="([^"]*)"', self.html).group(1)
        self.lead = re.search(r'name="description" content="([^"]*)"', self.html).group(1)
        self.url = re.search(r'rel="canonical" href="([^"]*)"', self.html).group(1)
        self.dates = set(_ISO.findall(self.html))
        body = [m for m in _LONG_P.finditer(self.html) if len(m.group(1)) > 100]
        self.body = (body[0].start(), body[-1].end())

    def render(self, title: str, paragraphs: list[str], url: str, when: datetime) -> bytes:
        page = (
            self.html[: self.body[0]]
            + "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
            + self.html[self.body[1] :]
        )
        page = page.replace(self.title, html.escape(title)).replace(self.url, url)
        page = page.replace(self.lead, html.escape(paragraphs[0][:200]))
        stamp = when.strftime("%Y-%m-%dT%H:%M:00+01:00")
        for old in self.dates:
            page = page.replace(old, stamp)
        return page.encode("utf-8")


def templates() -> list[Template]:
    return [Template(p) for p in sorted(TEMPLATES.glob("*/*.html"))]


def demo_pool() -> list[str]:
    """Sentences of the demo pages themselves: a corpus that needs no shared datasets."""
    from veille.text import sentences

    pool = []
    for template in templates():
        for match in _LONG_P.finditer(template.html):
            pool.extend(sentences(html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))))
    return [s for s in pool if 6 <= len(s.split()) <= 60]


def _record(writer: WARCWriter, url: str, body: bytes, status: str, kind: str) -> None:
    headers = StatusAndHeaders(status, [("Content-Type", kind)], protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
    )


def _member(url: str, body: bytes, status: str = "200 OK", kind: str = "text/html") -> bytes:
    buffer = io.BytesIO()
    _record(WARCWriter(buffer, gzip=True), url, body, status, kind)
    return buffer.getvalue()


def write_warc(
    path: Path, records: int, pool: list[str], *, seed: int = 7, per_day: int = 0
) -> dict:
    """A WARC.gz of `records` records, one gzip member each; returns what was written:
    pages, copies, stories, and the broken records by kind."""
    from scale import stream  # bench/scale.py: stories told with the pool's sentences

    rng = random.Random(seed)
    pages = templates()
    broken = max(4, records // 200)  # 0.5 %: truncated, binary, oversized, garbage
    others = max(4, records // 100)  # 1 %: requests, images, 404s (not pages, no failure)
    articles = records - broken - others
    per_day = per_day or max(50, articles // 8)
    written: dict = {"pages": 0, "stories": {}, "broken": defaultdict(int), "others": 0}
    specials = ["truncated", "binary", "oversized", "garbage"] * (broken // 4 + 1)
    specials = specials[:broken] + ["other"] * others
    slots = set(rng.sample(range(1, articles), len(specials)))
    specials_at = dict(zip(sorted(slots), specials, strict=True))
    with path.open("wb") as out:
        for n, title, body, when, story in stream(pool, articles, per_day, seed):
            kind = specials_at.get(n)
            if kind == "other":
                choice = rng.choice(["request", "image", "404"])
                url = f"https://www.example-cdn.example/{n}.jpg"
                if choice == "request":
                    buffer = io.BytesIO()
                    writer = WARCWriter(buffer, gzip=True)
                    writer.write_record(
                        writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET /"))
                    )
                    out.write(buffer.getvalue())
                elif choice == "image":
                    out.write(_member(url, os.urandom(3000), kind="image/jpeg"))
                else:
                    out.write(_member(url, b"<html>Not found</html>", "404 Not Found"))
                written["others"] += 1
            elif kind is not None:
                url = f"https://www.broken.example/{kind}/{n}"
                if kind == "truncated":
                    member = _member(url, b"<html><p>" + b"x" * 5000 + b"</p></html>")
                    out.write(member[: len(member) // 2])
                elif kind == "binary":
                    out.write(_member(url, os.urandom(4000)))
                elif kind == "oversized":
                    out.write(_member(url, b"<html><p>" + b"y " * (MAX_BYTES // 2 + 10) + b"</p>"))
                else:
                    out.write(os.urandom(rng.randint(100, 2000)))
                written["broken"][kind] += 1
            template = pages[rng.randrange(len(pages))]
            sentences = re.split(r"(?<=[.!?]) ", body)
            paragraphs = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower())[:60].strip("-")
            url = f"https://{template.domain}/{when:%Y/%m/%d}/{slug}-{n}"
            out.write(_member(url, template.render(title, paragraphs, url, when)))
            written["pages"] += 1
            written["stories"][url] = story
    written["broken"] = dict(written["broken"])
    written["records"] = written["pages"] + written["others"] + sum(written["broken"].values())
    return written


# --------------------------------------------------------------------------- the stores


def snapshot(database: Path | str) -> dict:
    """What a store holds, keyed by canonical URL (ids may differ between two stores);
    a SQLite file or any SQLAlchemy URL."""
    from sqlalchemy import create_engine, text

    url = database if isinstance(database, str) else f"sqlite:///{database}"
    engine = create_engine(url)
    with engine.connect() as db:

        def rows(query: str) -> list:
            return [tuple(row) for row in db.execute(text(query))]

        articles = {
            row[0]: (row[1], _when(row[2]), *row[3:])
            for row in rows(
                "SELECT canonical_url, title, published, content_hash, language, id FROM articles"
            )
        }
        url_of = {row[-1]: url for url, row in articles.items()}
        stories: dict[int, set[str]] = defaultdict(set)
        for article_id, story_id in rows("SELECT article_id, story_id FROM story_articles"):
            stories[story_id].add(url_of[article_id])
        copies = {
            (url_of[c], url_of[o])
            for c, o in rows("SELECT copy_id, original_id FROM article_copies")
        }
        entities: dict[int, set[tuple[str, str]]] = defaultdict(set)
        for story_id, name, kind in rows(
            "SELECT se.story_id, se.name, e.kind FROM story_entities se "
            "JOIN entities e ON e.id = se.entity_id"
        ):
            entities[story_id].add((name, kind))
        problems = set(rows("SELECT ref, stage, level, reason FROM ingest_log"))
        briefs = {sid for (sid,) in rows("SELECT story_id FROM story_briefs")}
    engine.dispose()
    by_members = {frozenset(m): sid for sid, m in stories.items()}
    return {
        "articles": {url: row[:-1] for url, row in articles.items()},
        "ids": {url: row[-1] for url, row in articles.items()},
        "stories": by_members,
        "entities": {frozenset(stories[sid]): entities[sid] for sid in stories},
        "copies": copies,
        "problems": problems,
        "briefs": len(briefs),
    }


def _when(value: datetime | str | None) -> datetime | None:
    # SQLite gives dates back as text to a plain query; PostgreSQL as datetimes.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _pairs(groups) -> set[tuple[str, str]]:
    return {pair for members in groups for pair in combinations(sorted(members), 2)}


def compare(reference: dict, other: dict) -> dict:
    """Agreement of `other` with `reference`: 1.0 is the same."""
    ref_articles, articles = reference["articles"], other["articles"]
    same_urls = set(ref_articles) == set(articles)
    same_rows = sum(1 for u, row in ref_articles.items() if articles.get(u) == row)
    story_pairs = _pairs(reference["stories"]), _pairs(other["stories"])
    union = story_pairs[0] | story_pairs[1]
    copies = reference["copies"] | other["copies"]
    shared = set(reference["entities"]) & set(other["entities"])
    same_entities = sum(1 for m in shared if reference["entities"][m] == other["entities"][m])
    return {
        "articles": len(ref_articles),
        "same_urls": same_urls,
        "same_article_rows": same_rows / max(1, len(ref_articles)),
        "same_ids": reference["ids"] == other["ids"],
        "story_pair_agreement": len(story_pairs[0] & story_pairs[1]) / max(1, len(union)),
        "stories": (len(reference["stories"]), len(other["stories"])),
        "same_stories": len(shared) / max(1, len(reference["stories"])),
        "copy_pair_agreement": len(reference["copies"] & other["copies"]) / max(1, len(copies)),
        "copies": (len(reference["copies"]), len(other["copies"])),
        "same_entities_per_story": same_entities / max(1, len(shared)),
        "same_problems": reference["problems"] == other["problems"],
        "problems": (len(reference["problems"]), len(other["problems"])),
    }


# --------------------------------------------------------------------------- the runs


def load() -> str:
    return "/".join(f"{n:.1f}" for n in os.getloadavg())


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds so far of `root` and its descendants (from /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    for pid, cpu in times.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            seen[pid] = max(seen.get(pid, 0.0), cpu)


def run(command: list[str], env: dict) -> tuple[float, float, str]:
    """Wall and CPU seconds of a command: its process tree sampled every half second
    (the JVM and Spark's Python workers included; a process's last half second before it
    ends may be missed)."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        seen: dict[int, float] = {}
        while process.poll() is None:
            _tree_cpu(process.pid, seen)
            time.sleep(0.5)
        wall = time.perf_counter() - began
        log.seek(0)
        output = log.read().decode(errors="replace")
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return wall, sum(seen.values()), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", default="ingest,local[1],local[2]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="folder to keep the archive and stores in")
    parser.add_argument("--shared", help="the shared folder (default ../shared)")
    args = parser.parse_args()

    from scale import sentence_pool, shared_dir

    folder = Path(args.keep or tempfile.mkdtemp(prefix="veille-reprocess-"))
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "bench.warc.gz"
    began = time.perf_counter()
    pool = sentence_pool(shared_dir(args.shared))
    written = write_warc(archive, args.records, pool, seed=args.seed)
    print(
        f"archive: {written['records']:,} records ({written['pages']:,} pages, "
        f"{written['others']} not pages, broken {written['broken']}), "
        f"{archive.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - began:.0f} s; "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    veille = str(Path(sys.executable).with_name("veille"))
    env = {
        **os.environ,
        "VEILLE_MAX_BYTES": str(MAX_BYTES),
        "VEILLE_HOME": str(folder),
        "COLUMNS": "200",  # the job's account on one line each
    }
    # A name may come back (local[2],local[1],local[2]): its runs are averaged, so a load
    # that changes during the bench weighs on both sides.
    results: dict[str, list[float]] = defaultdict(list)
    stores: dict[str, dict] = {}
    for number, name in enumerate(args.runs.split(",")):
        database = folder / f"{number}-{re.sub(r'[^a-z0-9]+', '-', name).strip('-')}.db"
        database.unlink(missing_ok=True)
        if name == "ingest":
            command = [veille, "ingest", str(archive), "--db", str(database)]
        else:
            command = [veille, "reprocess", str(archive), "--master", name, "--db", str(database)]
        load_before = load()
        wall, cpu, output = run(command, env)
        results[name].append(wall)
        print(
            f"{name:>9}: {wall:7.0f} s wall, {written['records'] / wall:6.1f} records/s, "
            f"CPU {cpu:7.0f} s; load {load_before} -> {load()}",
            flush=True,
        )
        # The job's own account: records and tasks run again, and where its time went.
        said = [line.strip() for line in output.splitlines() if line.startswith("Spark ")]
        said += [line.strip() for line in output.splitlines() if " splits; " in line]
        print("           " + " | ".join(said), flush=True)
        stores.setdefault(name, snapshot(database))
    wall = {name: sum(runs) / len(runs) for name, runs in results.items()}
    if "local[1]" in wall and "local[2]" in wall:
        print(f"speed-up local[2] / local[1]: {wall['local[1]'] / wall['local[2]']:.2f}x")
    if "ingest" in wall:
        for name in wall:
            if name != "ingest":
                print(f"speed-up {name} / ingest: {wall['ingest'] / wall[name]:.2f}x")
        for name, store in stores.items():
            if name != "ingest":
                print(f"{name} against ingest: {json.dumps(compare(stores['ingest'], store))}")
    print(f"stores and archive in {folder}")


if __name__ == "__main__":
    main()
