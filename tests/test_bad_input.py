"""Bad input: one clear line per problem, the batch goes on, nothing stored is lost."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from tests.helpers import article_html, warc_records, write
from veille.config import Settings
from veille.pipeline import ingest


def _reasons(report) -> dict[str, str]:
    return {f.ref.rsplit("/", 1)[-1]: f.reason for f in report.failed}


@pytest.fixture
def good_page(tmp_path):
    return write(tmp_path / "in" / "good.html", article_html("Rennes vote son budget"))


def test_each_bad_file_gets_one_reason_and_the_batch_goes_on(tmp_path, store, good_page):
    folder = good_page.parent
    write(folder / "empty.html", b"")
    write(folder / "image.html", b"\x89PNG\r\n\x1a\n" + bytes(200))
    write(folder / "noise.bin", b"\x00\x01\x02\x03" * 300)
    random.seed(7)
    write(folder / "undecodable.txt", bytes(random.randrange(128, 256) for _ in range(4000)))
    write(folder / "huge.html", article_html("Trop long", ["mot " * 3000]))
    full = gzip.compress(article_html("Page compressée").encode())
    write(folder / "truncated.html.gz", full[: len(full) // 2])

    report = ingest([folder], store, Settings(max_bytes=10_000))

    reasons = _reasons(report)
    assert set(reasons) == {
        "empty.html",
        "image.html",
        "noise.bin",
        "undecodable.txt",
        "huge.html",
        "truncated.html.gz",
    }
    assert reasons["empty.html"] == "fichier vide"
    assert reasons["image.html"].startswith("une image PNG")
    assert "limite de 10,000 octets" in reasons["huge.html"]
    assert reasons["undecodable.txt"].startswith("illisible")
    assert "tronqué" in reasons["truncated.html.gz"]
    assert report.new == 1
    assert [a.title for a in store.articles()] == ["Rennes vote son budget"]
    # Every failure is kept in the log, once.
    assert len(store.log_entries(level="error")) == 6


def test_compressed_page_is_read(tmp_path, store):
    page = write(
        tmp_path / "in" / "page.html.gz", gzip.compress(article_html("Page compressée").encode())
    )
    report = ingest([page.parent], store, Settings())
    assert report.new == 1 and not report.failed


def test_a_bad_jsonl_line_does_not_cost_the_others(tmp_path, store):
    lines = [
        json.dumps({"url": "https://exemple.fr/a", "title": "Premier", "text": "Texte un. " * 20}),
        '{"url": "https://exemple.fr/b", "title": "Coupé", "te',
        json.dumps({"url": "https://exemple.fr/c", "title": "Sans texte"}),
        json.dumps(
            {
                "url": "https://exemple.fr/d",
                "title": "Dernier",
                "text": "Texte deux. " * 20,
                "date": "2026-02-03T10:00:00+01:00",
            }
        ),
    ]
    path = write(tmp_path / "dump.jsonl", "\n".join(lines))
    report = ingest([path], store, Settings())
    assert report.new == 2
    reasons = _reasons(report)
    assert "ligne tronquée" in reasons["dump.jsonl#line=2"]
    assert "aucun champ texte" in reasons["dump.jsonl#line=3"]
    stored = {a.title: a for a in store.articles()}
    # Stored in UTC, the time of day known: 10:00 in Paris.
    assert stored["Dernier"].published.isoformat() == "2026-02-03T09:00:00"
    assert stored["Dernier"].published_time_known


@pytest.mark.parametrize("compressed", [True, False])
def test_warc_with_a_corrupt_record_still_yields_the_good_ones(tmp_path, store, compressed):
    pages = {
        f"https://exemple.fr/article-{i}": article_html(f"Article numéro {i}").encode()
        for i in range(4)
    }
    records = warc_records(pages, gzip=compressed)
    damaged = bytearray(records[1])
    middle = len(damaged) // 2
    damaged[middle : middle + 40] = b"\xff" * 40  # garbage inside the second record
    if not compressed:
        damaged[:9] = b"GARBAGE!!"  # and a broken header line
    path = write(
        tmp_path / ("crawl.warc.gz" if compressed else "crawl.warc"),
        records[0] + bytes(damaged) + records[2] + records[3],
    )

    report = ingest([path], store, Settings())

    titles = sorted(a.title for a in store.articles())
    assert titles == ["Article numéro 0", "Article numéro 2", "Article numéro 3"]
    assert len(report.failed) == 1
    assert "WARC corrompues" in report.failed[0].reason
    assert all(a.url.startswith("https://exemple.fr/") for a in store.articles())


def test_truncated_warc_keeps_the_records_before_the_cut(tmp_path, store):
    pages = {
        f"https://exemple.fr/p{i}": article_html(f"Page {i} du jour").encode() for i in range(3)
    }
    data = b"".join(warc_records(pages))
    path = write(tmp_path / "cut.warc.gz", data[: len(data) - 200])
    report = ingest([path], store, Settings())
    assert report.new == 2
    assert len(report.failed) == 1


def test_stored_articles_survive_a_bad_rerun(tmp_path, store, good_page):
    ingest([good_page.parent], store, Settings())
    before = store.counts()
    write(good_page, b"\x00\x00binary now\x00")
    report = ingest([good_page.parent], store, Settings())
    assert report.failed and report.new == report.updated == 0
    assert [a.title for a in store.articles()] == ["Rennes vote son budget"]
    assert store.counts()["articles"] == before["articles"]


def test_missing_path_is_reported(tmp_path, store):
    report = ingest([tmp_path / "absent"], store, Settings())
    assert _reasons(report) == {"absent": "fichier ou dossier introuvable"}
