"""Builders for test inputs: small HTML pages and WARC archives made on the fly."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

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
