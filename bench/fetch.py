"""Fetcher benchmark: throughput and memory of `veille.fetch.Fetcher` on loopback.

A local HTTP/1.1 server runs in a separate process (so its CPU does not share the client's
GIL) on 127.0.0.1, and answers for 50 host names, ``site01.bench.test`` ... ``site50.bench
.test``. The client maps them to 127.0.0.1 through ``FetchSettings.resolve`` (like curl
--resolve) and allow-lists them, so the real fetcher code path is measured: URL check, the
guarded network backend, per-host gates, one robots.txt per host, conditional headers,
bounded body decoding. Nothing is patched or mocked on the client side.

Pages are realistic news articles (30-60 KB of French-looking HTML with chrome, og:title, a
date, 6-10 paragraphs), generated deterministically from host and path with a seeded RNG,
gzip-compressed when the client accepts it, with ETag and Last-Modified. They are generated
before the clock starts, so the server only parses requests and writes cached bytes.

Two passes, each with a fresh Fetcher (one `veille run` creates one Fetcher):

1. plain GETs of every URL (40 per host by default, hosts interleaved);
2. conditional GETs with the ETag and Last-Modified from pass 1: every answer should be 304.

Reported: wall time, pages/s, latency percentiles, errors by FetchError.kind, decoded bytes,
client and server CPU time, connections the server accepted (keep-alive reuse), and the
client's peak RSS (``ru_maxrss``; ``--tracemalloc`` adds Python-heap peaks, slower).

Usage: ``python bench/fetch.py [--pages 2000] [--hosts 50] [--concurrency 64]
[--host-delay 0] [--host-concurrency 2] [--http2/--no-http2] [--quick] [--tracemalloc]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import gc
import gzip
import hashlib
import importlib.util
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

LOOPBACK = "127.0.0.1"
DOMAIN = "bench.test"
ROBOTS = b"User-agent: *\nDisallow:\n\nSitemap: /sitemap.xml\n"  # allows everything
# Latest publication date; article n is n * 37 minutes older (deterministic validators).
EPOCH = datetime(2026, 2, 3, 18, 0, tzinfo=UTC)


def host_name(index: int) -> str:
    return f"site{index:02d}.{DOMAIN}"


# --------------------------------------------------------------------------- page generator

_WORD_TEXT = (
    "le la les un une des du de et à au aux en dans sur pour par avec sans sous entre vers "
    "gouvernement ministre président assemblée sénat réforme budget retraite économie "
    "emploi entreprise salariés syndicats grève négociation accord projet loi décret mesure "
    "hausse baisse prix inflation croissance marché banque taux crédit logement énergie "
    "électricité nucléaire climat transition écologique région département commune maire "
    "élus conseil habitants quartier école collège lycée université étudiants enseignants "
    "santé hôpital médecins patients soins justice tribunal procès enquête police "
    "gendarmerie sécurité agriculteurs récolte élevage eau sécheresse tempête inondation "
    "européen Bruxelles Paris Lyon Marseille Toulouse Bordeaux Lille Nantes Strasbourg "
    "annonce déclaré selon a été sont ont doit pourrait devrait semble reste depuis avant "
    "après pendant lors cette année semaine mois mardi mercredi jeudi vendredi samedi "
    "dimanche lundi nouveau nouvelle grand grande premier première dernier dernière "
    "plusieurs certains nombreux également toutefois cependant ainsi notamment encore déjà "
    "très plus moins bien fait face situation débat opposition majorité gauche droite "
    "centre sondage électeurs campagne scrutin candidat chiffres milliards millions euros "
    "pour-cent rapport étude publié chercheurs données"
)
_WORDS = tuple(_WORD_TEXT.split())
_SECTIONS = (
    "Politique",
    "Économie",
    "Société",
    "International",
    "Planète",
    "Culture",
    "Sports",
    "Sciences",
    "Régions",
    "Opinions",
)
_SUBJECTS = (
    "Réforme des retraites",
    "Budget 2026",
    "Prix de l'énergie",
    "Municipales",
    "Sécheresse",
    "Hôpital public",
    "Logement",
    "Agriculture",
    "Intelligence artificielle",
    "Transports",
)
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _sentence(rng: random.Random, low: int = 8, high: int = 24) -> str:
    words = rng.choices(_WORDS, k=rng.randint(low, high))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", " ?", " !"))


def _title(rng: random.Random) -> str:
    words = " ".join(rng.choices(_WORDS, k=rng.randint(6, 11)))
    return f"{rng.choice(_SUBJECTS)} : {words}"


def _links(rng: random.Random, host: str, count: int, klass: str) -> str:
    items = []
    for _ in range(count):
        slug = "-".join(rng.choices(_WORDS, k=rng.randint(3, 7)))
        label = _sentence(rng, 4, 10).rstrip(".?! ")
        items.append(
            f'<li class="{klass}__item"><a class="{klass}__link" '
            f'href="https://{host}/article/{rng.randint(1, 99999)}-{slug}">{label}</a></li>'
        )
    return "\n".join(items)


def article_date(number: int) -> datetime:
    return EPOCH - timedelta(minutes=37 * number)


def render_article(host: str, number: int) -> bytes:
    """A news article page for `host` and /article/<number>, the same bytes on every call."""
    seed = int.from_bytes(hashlib.sha256(f"{host}/article/{number}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    target = rng.randint(30_000, 60_000)  # total size: real article pages are mostly chrome
    site = host.split(".")[0].capitalize()
    title = _title(rng)
    section = rng.choice(_SECTIONS)
    published = article_date(number)
    iso = published.isoformat()
    human = f"{published.day} {_MONTHS[published.month - 1]} {published.year}"
    author = f"{rng.choice(('Claire', 'Julien', 'Sophie', 'Karim', 'Élodie'))} " + rng.choice(
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Rousseau")
    )
    paragraphs = "\n".join(
        f"<p>{' '.join(_sentence(rng) for _ in range(rng.randint(3, 7)))}</p>"
        for _ in range(rng.randint(6, 10))
    )
    lede = _sentence(rng, 14, 28)
    head = f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{title} - {site}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{lede}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{site}">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{lede}">
<meta property="og:url" content="https://{host}/article/{number}">
<meta property="article:published_time" content="{iso}">
<meta property="article:section" content="{section}">
<link rel="canonical" href="https://{host}/article/{number}">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{title}","datePublished":"{iso}","author":{{"@type":"Person","name":"{author}"}},
"publisher":{{"@type":"Organization","name":"{site}"}}}}</script>
<style>body{{font-family:Georgia,serif;margin:0}}.nav__link{{color:#123;padding:4px}}
.article__body p{{line-height:1.6;margin:0 0 1em}}.footer{{background:#eee}}</style>
</head>
<body>
<header class="header"><a class="logo" href="/">{site}</a>
<nav class="nav"><ul>
{_links(rng, host, 24, "nav")}
</ul></nav></header>
<main>
<article class="article">
<p class="article__kicker">{section}</p>
<h1 class="article__title">{title}</h1>
<p class="article__lede">{lede}</p>
<p class="article__byline">Par <span class="author">{author}</span>, publié le
<time datetime="{iso}">{human} à {published:%H:%M}</time></p>
<div class="article__body">
{paragraphs}
</div>
</article>
<aside class="related"><h2>Sur le même sujet</h2><ul>
{_links(rng, host, 8, "related")}
</ul></aside>
</main>
"""
    tail = '<p class="copyright">© 2026 {site}. Tous droits réservés.</p>\n</footer>\n</body>\n'
    tail = tail.format(site=site) + "</html>\n"
    # Chrome up to the target size: "most read", footer link farms, as on real news sites.
    footer = ['<aside class="most-read"><h2>Les plus lus</h2><ul>']
    size = len(head.encode()) + len(tail.encode())
    while size < target:
        chunk = _links(rng, host, 10, "footer") + "\n"
        footer.append(chunk)
        size += len(chunk.encode())
    footer.append('</ul></aside>\n<footer class="footer">')
    return (head + "".join(footer) + tail).encode()


# --------------------------------------------------------------------------- server process


@dataclass(frozen=True)
class _Page:
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: str


class _Server:
    """Minimal HTTP/1.1 server with keep-alive: GET only, cached pages, validators."""

    def __init__(self, pages: dict[tuple[str, str], _Page]) -> None:
        self.pages = pages
        self.stats: Counter[str] = Counter()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    break
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    break  # not HTTP: drop the connection
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)  # GET bodies are ignored
                close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
                writer.write(self.respond(method, target, headers, close))
                await writer.drain()
                if close:
                    break
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def respond(self, method: str, target: str, headers: dict[str, str], close: bool) -> bytes:
        self.stats["requests"] += 1
        host = headers.get("host", "").rsplit(":", 1)[0].lower()
        path = target.split("?", 1)[0]
        extra: list[str] = []
        if method != "GET":
            status, body, ctype = "405 Method Not Allowed", b"", "text/plain"
        elif path == "/robots.txt":
            status, body, ctype = "200 OK", ROBOTS, "text/plain; charset=utf-8"
            self.stats["robots"] += 1
        elif (page := self.pages.get((host, path))) is None:
            status, body, ctype = "404 Not Found", b"not found\n", "text/plain; charset=utf-8"
        else:
            ctype = "text/html; charset=utf-8"
            extra += [f"ETag: {page.etag}", f"Last-Modified: {page.last_modified}"]
            extra.append("Vary: Accept-Encoding")
            if _not_modified(headers, page):
                self.stats["304"] += 1
                return _head("304 Not Modified", extra, close) + b"\r\n"
            if "gzip" in headers.get("accept-encoding", ""):
                body = page.gzipped
                extra.append("Content-Encoding: gzip")
            else:
                body = page.body
            status = "200 OK"
        self.stats[status[:3]] += 1
        extra += [f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
        return _head(status, extra, close) + b"\r\n" + body


def _not_modified(headers: dict[str, str], page: _Page) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since when both are present.
    if "if-none-match" in headers:
        tags = [t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")]
        return page.etag in tags or "*" in tags
    since = headers.get("if-modified-since")
    if not since:
        return False
    try:
        return email.utils.parsedate_to_datetime(
            page.last_modified
        ) <= email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _head(status: str, headers: list[str], close: bool) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Date: {email.utils.formatdate(usegmt=True)}"]
    lines += ["Server: bench", f"Connection: {'close' if close else 'keep-alive'}", *headers]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def build_pages(hosts: int, per_host: int) -> dict[tuple[str, str], _Page]:
    pages = {}
    for h in range(1, hosts + 1):
        host = host_name(h)
        for n in range(1, per_host + 1):
            body = render_article(host, n)
            pages[(host, f"/article/{n}")] = _Page(
                body=body,
                gzipped=gzip.compress(body, compresslevel=6, mtime=0),
                etag='"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"',
                last_modified=email.utils.format_datetime(article_date(n), usegmt=True),
            )
    return pages


def serve(conn: Connection, hosts: int, per_host: int) -> None:
    """Server process entry point: build pages, report the port, then obey commands."""
    started = time.perf_counter()
    pages = build_pages(hosts, per_host)
    generation = time.perf_counter() - started
    asyncio.run(_serve(conn, _Server(pages), generation))


async def _serve(conn: Connection, server: _Server, generation: float) -> None:
    listener = await asyncio.start_server(server.handle, LOOPBACK, 0, backlog=1024)
    port = listener.sockets[0].getsockname()[1]
    sizes = [len(p.body) for p in server.pages.values()]
    gz = [len(p.gzipped) for p in server.pages.values()]
    conn.send({"port": port, "generation": generation, "sizes": sizes, "gzipped": gz})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def command() -> None:
        # Commands from the parent: "stats" (counters so far) or "stop".
        try:
            what = conn.recv()
        except EOFError:
            what = "stop"
        if what in ("stats", "stop"):
            usage = resource.getrusage(resource.RUSAGE_SELF)
            conn.send({**server.stats, "cpu": usage.ru_utime + usage.ru_stime})
        if what == "stop":
            stop.set()

    loop.add_reader(conn.fileno(), command)
    async with listener:
        await stop.wait()
    loop.remove_reader(conn.fileno())


class ServerProcess:
    """The page server in a child process (spawned, so nothing of the client is inherited)."""

    def __init__(self, hosts: int, per_host: int) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=serve, args=(child, hosts, per_host), name="bench-server", daemon=True
        )
        self._process.start()
        child.close()
        # Generating the pages takes a few seconds; a crash in the child must not hang us.
        while not self._conn.poll(0.5):
            if not self._process.is_alive():
                raise RuntimeError(f"page server exited with code {self._process.exitcode}")
        try:
            self.info: dict[str, Any] = self._conn.recv()
        except EOFError:  # the child died before reporting its port
            self._process.join(5)
            raise RuntimeError(f"page server exited with code {self._process.exitcode}") from None
        self.port: int = self.info["port"]

    def stats(self) -> Counter[str]:
        self._conn.send("stats")
        return Counter(self._conn.recv())

    def stop(self) -> Counter[str]:
        final: Counter[str] = Counter()
        with contextlib.suppress(OSError, EOFError):
            self._conn.send("stop")
            if self._conn.poll(10):
                final = Counter(self._conn.recv())
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
        return final


# --------------------------------------------------------------------------- client


@dataclass
class PassResult:
    name: str
    pages: int
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # one message per error kind
    decoded_bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    cpu: float = 0.0
    rss_peak: int = 0  # bytes, process peak so far
    rss_now: int | None = None
    traced_peak: int | None = None
    server: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def bench_urls(hosts: int, pages: int, port: int) -> list[str]:
    """`pages` URLs over `hosts` hosts, interleaved (host 1, 2, ... 50, 1, 2, ...)."""
    per_host = -(-pages // hosts)
    urls = [
        f"http://{host_name(h)}:{port}/article/{n}"
        for n in range(1, per_host + 1)
        for h in range(1, hosts + 1)
    ]
    return urls[:pages]


def max_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def current_rss() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


async def run_pass(
    name: str,
    settings: Any,
    urls: list[str],
    concurrency: int,
    validators: dict[str, tuple[str | None, str | None]] | None,
    server: ServerProcess,
    keepalive: int | None,
) -> PassResult:
    from veille.fetch.client import Fetcher, FetchError

    result = PassResult(name, len(urls))
    before = server.stats()
    if tracemalloc.is_tracing():
        tracemalloc.reset_peak()
    pending: Iterator[str] = iter(urls)  # shared by the workers: one await-free next() each
    cpu_start = time.process_time()
    start = time.perf_counter()

    async def worker(fetcher: Fetcher) -> None:
        for url in pending:
            etag, modified = (validators or {}).get(url, (None, None))
            began = time.perf_counter()
            try:
                page = await fetcher.fetch(url, etag=etag, last_modified=modified)
            except FetchError as exc:
                result.errors[exc.kind] += 1
                result.examples.setdefault(exc.kind, f"{url}: {exc.reason}")
            except Exception as exc:  # a bug in the fetcher: count it, keep measuring
                kind = f"unexpected {type(exc).__name__}"
                result.errors[kind] += 1
                result.examples.setdefault(kind, f"{url}: {exc}")
            else:
                result.statuses[page.status] += 1
                result.decoded_bytes += len(page.content)
                # Keep only the validators: holding 2,000 bodies would measure the bench.
                result.validators[url] = (page.etag, page.last_modified)
            result.latencies.append(time.perf_counter() - began)

    async with Fetcher(settings, transport=_transport(settings, keepalive)) as fetcher:
        workers = min(concurrency, len(urls))
        await asyncio.gather(*(worker(fetcher) for _ in range(workers)))
    result.seconds = time.perf_counter() - start
    result.cpu = time.process_time() - cpu_start
    result.rss_peak = max_rss()
    result.rss_now = current_rss()
    if tracemalloc.is_tracing():
        result.traced_peak = tracemalloc.get_traced_memory()[1]
    after = server.stats()
    result.server = Counter({k: after[k] - before.get(k, 0) for k in after})
    return result


def _transport(settings: Any, keepalive: int | None) -> Any:
    """None (the Fetcher builds its own), or the same guarded transport with other pool limits."""
    if keepalive is None:
        return None
    import httpx

    from veille.fetch.safety import Allowlist, guarded_transport

    limits = httpx.Limits(max_connections=max(100, keepalive), max_keepalive_connections=keepalive)
    return guarded_transport(
        Allowlist.parse(settings.allow),
        http2=settings.http2,
        resolve=settings.resolve,
        limits=limits,
    )


def sniffio_installed() -> bool:
    return importlib.util.find_spec("sniffio") is not None


# --------------------------------------------------------------------------- report


def _mib(size: float | None) -> str:
    return "-" if size is None else f"{size / 2**20:,.1f} MiB"


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:,.1f} ms"


def report(
    args: argparse.Namespace,
    server: ServerProcess,
    passes: list[PassResult],
    baseline_rss: int,
    server_final: Counter[str],
    load: tuple[float, float, float] | None,
) -> None:
    import httpcore
    import httpx
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    console.print(
        f"[bold]Machine[/]: {platform.machine()}, os.cpu_count()={cpus} (usable {usable}), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"httpx {httpx.__version__}, httpcore {httpcore.__version__}, "
        f"sniffio {'installed' if args.sniffio else 'absent'}, {platform.system()}"
    )
    if load is not None:
        # Other processes on the machine take CPU from client and server alike.
        console.print(f"[bold]Load average before the run[/]: {load[0]:.2f} {load[1]:.2f}")
    sizes, gz = server.info["sizes"], server.info["gzipped"]
    console.print(
        f"[bold]Corpus[/]: {len(sizes)} pages on {args.hosts} hosts, "
        f"{statistics.fmean(sizes) / 1024:.1f} KiB mean HTML "
        f"({min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f}), "
        f"{statistics.fmean(gz) / 1024:.1f} KiB gzipped; generated in "
        f"{server.info['generation']:.1f} s before timing; server port {server.port}"
    )
    console.print(
        f"[bold]Settings[/]: concurrency {args.concurrency}, host_concurrency "
        f"{args.host_concurrency}, host_delay {args.host_delay} s, http2={args.http2}, "
        f"robots=on, tracemalloc={'on' if args.tracemalloc else 'off'}, pool keep-alive "
        f"{args.keepalive if args.keepalive is not None else 'default (20)'}, sniffio probe "
        f"{'skipped' if args.skip_sniffio_probe and not args.sniffio else 'as is'}"
    )
    if args.host_delay > 0:
        per_host = -(-args.pages // args.hosts)
        console.print(
            f"[yellow]Politeness bound[/]: {args.hosts} hosts / {args.host_delay} s = "
            f"{args.hosts / args.host_delay:,.0f} pages/s at most; {per_host} pages per host "
            f"take at least {per_host * args.host_delay:.0f} s (plus robots.txt)"
        )

    table = Table(title="Fetcher on loopback")
    table.add_column("")
    for result in passes:
        table.add_column(result.name, justify="right")

    def row(label: str, *cells: str) -> None:
        table.add_row(label, *cells)

    row("URLs", *(f"{r.pages:,}" for r in passes))
    row("wall time", *(f"{r.seconds:,.2f} s" for r in passes))
    row("[bold]pages/s[/]", *(f"[bold]{r.rate:,.0f}[/]" for r in passes))
    row(
        "statuses",
        *(", ".join(f"{s}: {c:,}" for s, c in sorted(r.statuses.items())) or "-" for r in passes),
    )
    row(
        "errors",
        *(", ".join(f"{k}: {c:,}" for k, c in r.errors.most_common()) or "0" for r in passes),
    )
    row("decoded bytes", *(_mib(r.decoded_bytes) for r in passes))
    row("decoded MiB/s", *(f"{r.decoded_bytes / 2**20 / r.seconds:,.1f}" for r in passes))
    row("latency p50", *(_ms(r.latencies, 0.50) for r in passes))
    row("latency p95", *(_ms(r.latencies, 0.95) for r in passes))
    row("latency p99", *(_ms(r.latencies, 0.99) for r in passes))
    row("client CPU", *(f"{r.cpu:,.2f} s ({r.cpu / r.seconds:.0%})" for r in passes))
    row("client CPU per page", *(f"{r.cpu / r.pages * 1000:,.2f} ms" for r in passes))
    row(
        "server CPU",
        *(f"{r.server['cpu']:,.2f} s ({r.server['cpu'] / r.seconds:.0%})" for r in passes),
    )
    row("server requests", *(f"{r.server['requests']:,}" for r in passes))
    row("  of which robots.txt", *(f"{r.server['robots']:,}" for r in passes))
    row("server connections", *(f"{r.server['connections']:,}" for r in passes))
    row(
        "requests / connection",
        *(f"{r.server['requests'] / max(1, r.server['connections']):,.1f}" for r in passes),
    )
    row("peak RSS (process)", *(_mib(r.rss_peak) for r in passes))
    row("peak RSS - baseline", *(_mib(r.rss_peak - baseline_rss) for r in passes))
    row("RSS after pass", *(_mib(r.rss_now) for r in passes))
    if args.tracemalloc:
        row("tracemalloc peak", *(_mib(r.traced_peak) for r in passes))
    console.print(table)
    console.print(
        f"Baseline RSS (imports done, before the first Fetcher): {_mib(baseline_rss)}. "
        f"304 answers in the conditional pass: {passes[-1].statuses.get(304, 0):,} "
        f"of {passes[-1].pages:,}."
    )
    for result in passes:
        for kind, example in result.examples.items():
            console.print(f"[red]{result.name}: first {kind} error[/]: {example}")
    console.print(
        f"Server totals: {server_final['requests']:,} requests on "
        f"{server_final['connections']:,} connections, {server_final['cpu']:.1f} s CPU."
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="URLs per pass (2000)")
    parser.add_argument("--hosts", type=int, default=50, help="simulated host names (50)")
    parser.add_argument("--concurrency", type=int, default=64, help="fetches in flight (64)")
    parser.add_argument(
        "--host-delay",
        type=float,
        default=0.0,
        help="seconds between request starts per host (0: raw throughput; veille uses 1.0)",
    )
    parser.add_argument("--host-concurrency", type=int, default=2, help="per host (2)")
    parser.add_argument(
        "--http2",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="passed to FetchSettings (plain http stays HTTP/1.1 either way)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 pages")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report Python-heap peaks (slower)"
    )
    # Diagnostics: what the figures would be without two costs found outside veille's code.
    parser.add_argument(
        "--keepalive",
        type=int,
        metavar="N",
        help="give the Fetcher the same guarded transport with max_keepalive_connections=N "
        "(default: the Fetcher's own transport, httpx's limit of 20 idle connections)",
    )
    parser.add_argument(
        "--skip-sniffio-probe",
        action="store_true",
        help="when sniffio is not installed, make httpcore's per-lock `import sniffio` fail "
        "fast (it scans sys.path on every call otherwise: encode/httpcore#1103)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.pages = 200
    if args.keepalive is not None and args.keepalive < 0:
        parser.error("--keepalive needs a count of 0 or more")
    if not 1 <= args.hosts <= 99 or args.pages < 1 or args.concurrency < 1:
        parser.error("need 1-99 hosts, at least 1 page and a concurrency of at least 1")
    return args


async def bench(args: argparse.Namespace, server: ServerProcess) -> tuple[list[PassResult], int]:
    from veille.config import FetchSettings

    hosts = [host_name(h) for h in range(1, args.hosts + 1)]
    settings = FetchSettings(
        host_delay=args.host_delay,
        host_concurrency=args.host_concurrency,
        http2=args.http2,
        # Every name answers 127.0.0.1, which the address guard refuses unless allow-listed.
        resolve={host: [LOOPBACK] for host in hosts},
        allow=(LOOPBACK, f"*.{DOMAIN}"),
        robots=True,
    )
    urls = bench_urls(args.hosts, args.pages, server.port)
    gc.collect()
    baseline = max_rss()
    if args.tracemalloc:
        tracemalloc.start()
    first = await run_pass("GET", settings, urls, args.concurrency, None, server, args.keepalive)
    gc.collect()
    second = await run_pass(
        "conditional GET",
        settings,
        urls,
        args.concurrency,
        first.validators,
        server,
        args.keepalive,
    )
    return [first, second], baseline


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.sniffio = sniffio_installed()
    if args.skip_sniffio_probe and not args.sniffio:
        # A None entry makes `import sniffio` raise at once, without the sys.path scan;
        # httpcore then assumes asyncio, which is what runs here anyway.
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    # Imported before the baseline so that RSS growth is the fetching, not the imports.
    import rich.console  # noqa: F401

    import veille.fetch.client  # noqa: F401

    per_host = -(-args.pages // args.hosts)
    print(f"Generating {per_host * args.hosts:,} pages in the server process...", flush=True)
    server = ServerProcess(args.hosts, per_host)
    try:
        passes, baseline = asyncio.run(bench(args, server))
    finally:
        final = server.stop()
    report(args, server, passes, baseline, final, load)
    failed = any(r.errors for r in passes) or passes[-1].statuses.get(304, 0) != args.pages
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
