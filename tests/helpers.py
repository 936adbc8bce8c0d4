"""Builders for test inputs: small HTML pages and WARC archives made on the fly."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from veille.extract import content_hash
from veille.model import Article
from veille.store import Store

PARAGRAPHS = [
    "Le conseil municipal de Rennes a voté mardi soir un budget de 412 millions d'euros "
    "pour l'année 2026, en hausse de 3 % par rapport à l'an dernier.",
    "La maire a défendu un effort particulier sur les transports en commun et la rénovation "
    "des écoles, deux chantiers qu'elle juge prioritaires pour la fin du mandat.",
    "L'opposition a dénoncé une fiscalité trop lourde et annoncé un recours devant le "
    "tribunal administratif, estimant que certaines dépenses n'étaient pas financées.",
]


def article_html(
    title: str,
    paragraphs: list[str] = PARAGRAPHS,
    *,
    charset: str = "utf-8",
    site: str = "Ouest Exemple",
    day: str = "2026-02-03",
    declare: bool = True,
) -> str:
    meta = f'<meta charset="{charset}">' if declare else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="fr"><head>{meta}
<title>{title} | {site}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{day}T08:00:00+01:00">
</head><body>
<nav><a href="/">Accueil</a> <a href="/politique">Politique</a></nav>
<article><h1>{title}</h1>
{body}
</article>
<footer>© {site} — Mentions légales — Contact</footer>
</body></html>"""


def warc_records(
    pages: dict[str, bytes], *, gzip: bool = True, kind: str = "response"
) -> list[bytes]:
    """Each page as one serialized WARC response record (one gzip member when gzip), or
    a `resource` record (the page without its HTTP headers)."""
    records = []
    for url, body in pages.items():
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=gzip)
        if kind == "resource":
            record = writer.create_warc_record(
                url, "resource", payload=io.BytesIO(body), warc_content_type="text/html"
            )
        else:
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers
            )
        writer.write_record(record)
        records.append(buffer.getvalue())
    return records


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def synthetic_records(
    events: int, *, seed: int = 7, start: datetime = datetime(2024, 3, 1), days: int = 730
) -> list[dict]:
    """News-like JSONL records: `events` events spread over `days`, each reported by two to
    five outlets within two days, each event with its own vocabulary (invented words, so
    no two events share more than chance). For grouping tests that need many stories."""
    rng = random.Random(seed)
    syllables = ["ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vo"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(3, 4)))

    common = [word() for _ in range(60)]
    sites = [f"journal-{n}.example" for n in range(12)]
    records = []
    for event in range(events):
        own = [word() for _ in range(12)]
        names = [word().capitalize() for _ in range(3)]
        when = start + timedelta(days=rng.uniform(0, days))
        for outlet in rng.sample(sites, rng.randint(2, 5)):
            sentences = []
            for _ in range(6):
                picked = rng.sample(own, 4) + rng.sample(common, 3) + [rng.choice(names)]
                rng.shuffle(picked)
                sentences.append(" ".join(picked).capitalize() + ".")
            records.append(
                {
                    "url": f"https://www.{outlet}/{event}/{word()}",
                    "title": " ".join([names[0], *rng.sample(own, 4)]).capitalize(),
                    "text": " ".join(sentences),
                    "date": (when + timedelta(hours=rng.uniform(0, 48))).isoformat(
                        timespec="seconds"
                    ),
                    "site": outlet,
                }
            )
    return records


def story_partition(store) -> set[frozenset[str]]:
    """The stories as sets of canonical URLs (ids differ between stores)."""
    urls = {a.id: a.canonical_url for a in store.articles()}
    groups: dict[int, set[str]] = {}
    for article_id, story_id in store.stories_of(list(urls)).items():
        groups.setdefault(story_id, set()).add(urls[article_id])
    return {frozenset(g) for g in groups.values()}


# The address the web tests call the app at: a loopback name, as `veille serve` answers
# only to those (and configured ones); TestClient's default "testserver" is refused.
LOCAL = "http://127.0.0.1"


def stored_article(store: Store, n: int, site: str, published: datetime) -> int:
    """The id of article `n` of `site`, saved straight into the store (no grouping)."""
    text = f"Texte numéro {n} sur un sujet."
    _, article_id = store.save_article(
        Article(
            url=f"https://{site}/a{n}",
            canonical_url=f"https://{site}/a{n}",
            title=f"Titre {n}",
            text=text,
            content_hash=content_hash(text),
            raw_ref="test",
            source="test",
            published=published,
            site_name=site,
        )
    )
    return article_id
