"""Does a slow delivery hold anyone else? 100 concurrent clients, 3,000 requests, while a
"send now" waits on a webhook that answers only when the load is over.

`veille serve` runs in its own process on the seed day (a store made once through the
pipeline, kept in --work), with `[delivery] allow` naming loopback so the webhook, a local
server that holds every POST, is reached. The load generator (asyncio + httpx, in this
process) opens 100 clients that share 3,000 requests over the pages and the API: today's
stories, a story, search, the watches page, the JSON stories and search. It runs twice:

- baseline: no delivery in flight;
- held: a "send now" (POST /api/v1/watches/{id}/send) is sent first, and the load starts
  once the webhook holds it; the webhook lets go when the load is done.

Printed: p50 / p95 / p99 / max latency of each run, the held run's p95 as a ratio to the
baseline's, requests that failed, and how long the delivery was held (every request of
the held run finished while it was). No request should wait on the delivery: a server
that delivered on its event loop would answer none until the webhook let go.

    python bench/web_concurrency.py                       # 100 clients, 3,000 requests
    python bench/web_concurrency.py --clients 50 --requests 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers import HeldHook  # noqa: E402
from veille.config import Settings  # noqa: E402
from veille.model import Watch  # noqa: E402
from veille.pipeline import ingest  # noqa: E402
from veille.store import Store  # noqa: E402

SEED_DAY = REPO.parent / "shared" / "fixtures" / "seed-day" / "pages"
QUERIES = ("perquisition", "Musk", "cybercriminalité", "Durov", "tribunal", "enquête")


def prepare(work: Path) -> tuple[Path, list[int]]:
    """The seed-day store (made once) and the ids of its stories."""
    db = work / "veille.db"
    if not db.exists():
        if not SEED_DAY.exists():
            sys.exit(f"{SEED_DAY} is absent: this benchmark reads the shared seed day")
        store = Store(f"sqlite:///{db}")
        ingest([SEED_DAY], store, Settings(archive=False))
        store.close()
    store = Store(f"sqlite:///{db}")
    ids = [s.id for s in store.stories()]
    store.close()
    return db, ids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(db: Path, config: Path, port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-c",
        "from veille.cli import app; app()",
        "serve",
        "--port",
        str(port),
        "--db",
        str(db),
        "--config",
        str(config),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=os.environ | {})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    sys.exit("veille serve did not start")


def paths(stories: list[int], total: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    kinds = [
        lambda: "/?date=2026-02-03",
        lambda: f"/stories/{rng.choice(stories)}",
        lambda: f"/search?q={rng.choice(QUERIES)}",
        lambda: "/watches",
        lambda: "/api/v1/stories?date=2026-02-03",
        lambda: f"/api/v1/search?q={rng.choice(QUERIES)}&limit=10",
    ]
    return [rng.choice(kinds)() for _ in range(total)]


async def load(base: str, todo: list[str], clients: int) -> tuple[list[float], int]:
    """Each client takes the next path until none is left; latencies in seconds."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in todo:
        queue.put_nowait(path)
    latencies: list[float] = []
    failures = 0

    async def client() -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            while not queue.empty():
                path = queue.get_nowait()
                began = time.perf_counter()
                try:
                    response = await http.get(path)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                failures += not ok

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, failures


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else 0


def report(name: str, latencies: list[float], failures: int, took: float) -> float:
    p95 = quantile(latencies, 0.95)
    print(
        f"{name:9} {len(latencies):5} requests in {took:5.1f} s  "
        f"p50 {quantile(latencies, 0.5) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
        f"p99 {quantile(latencies, 0.99) * 1000:7.1f} ms  max {max(latencies) * 1000:7.1f} ms  "
        f"failed {failures}"
    )
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "veille-web-concurrency"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db, stories = prepare(args.work)
    with HeldHook(hold=600) as hook:
        config = args.work / "config.toml"
        config.write_text(
            f'[delivery]\nfolder = "{args.work / "digests"}"\nallow = ["127.0.0.1"]\n', "utf-8"
        )
        store = Store(f"sqlite:///{db}")
        store.remove_watch("held")
        watch, _ = store.save_watch(Watch("held", "Musk", targets=(f"webhook:{hook.url}",)))
        store.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = serve(db, config, port)
        try:
            asyncio.run(load(base, paths(stories, 200, seed=0), 20))  # warm up
            began = time.perf_counter()
            todo = paths(stories, args.requests, 1)
            baseline, failed = asyncio.run(load(base, todo, args.clients))
            base_p95 = report("baseline", baseline, failed, time.perf_counter() - began)

            sending = subprocess.Popen(  # the "send now", from another process: it waits
                [
                    sys.executable,
                    "-c",
                    "import httpx,sys; r = httpx.post(sys.argv[1], json={'date': '2026-02-03'},"
                    " timeout=900); print(r.status_code, r.text[:200])",
                    f"{base}/api/v1/watches/{watch.id}/send",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            if not hook.arrived.wait(30):
                sys.exit("the delivery never reached the webhook")
            held_since = time.perf_counter()
            held, failed = asyncio.run(load(base, paths(stories, args.requests, 2), args.clients))
            held_p95 = report("held", held, failed, time.perf_counter() - held_since)
            still_held = not hook.release.is_set() and sending.poll() is None
            held_for = time.perf_counter() - held_since
            hook.release.set()
            answer = sending.communicate(timeout=60)[0].strip()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"held p95 / baseline p95 = {held_p95 / base_p95:.2f}; the delivery was held "
        f"{held_for:.1f} s and {'still' if still_held else 'NO LONGER'} in flight when the "
        f"last request was answered; send now then answered: {answer}"
    )


if __name__ == "__main__":
    main()
