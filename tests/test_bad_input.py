"""Bad input: one clear line per problem, the batch goes on, nothing stored is lost."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from tests.helpers import article_html, warc_records, write
from veille.config import Settings
from veille.pipeline import ingest
from veille.sources.local import read_path


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


TEXT = "Le conseil municipal de Rennes a voté mardi soir le budget de l'année prochaine. " * 3


def _record(n: int, **fields) -> str:
    record = {"url": f"https://exemple.fr/{n}", "title": f"Titre {n}", "text": TEXT}
    return json.dumps(record | fields, ensure_ascii=False)


def test_jsonl_records_are_split_on_newlines_only(tmp_path, store):
    # U+2028, U+2029 and U+0085 are valid inside JSON strings; str.splitlines() cuts there.
    text = TEXT + "Premier point.\u2028Deuxième point.\u0085Troisième\u2029point."
    path = write(tmp_path / "sep.jsonl", _record(1, text=text) + "\n" + _record(2) + "\r\n")
    report = ingest([path], store, Settings())
    assert report.new == 2 and not report.failed
    first = next(a for a in store.articles() if a.url.endswith("/1"))
    assert "Premier point." in first.text and "Troisième" in first.text


@pytest.mark.parametrize(
    "first_line",
    ['{"url": "https://exemple.fr/0", "title": "Coupé", "te', "export du 3 février 2026"],
)
def test_a_bad_first_line_costs_that_line_only(tmp_path, store, first_line):
    path = write(tmp_path / "dump.jsonl", "\n".join([first_line, _record(1), _record(2)]))
    report = ingest([path], store, Settings())
    assert report.new == 2
    assert list(_reasons(report)) == ["dump.jsonl#line=1"]
    assert sorted(a.title for a in store.articles()) == ["Titre 1", "Titre 2"]


@pytest.mark.parametrize("where", ["first", "middle"])
def test_a_record_nested_100000_deep_is_one_failure(tmp_path, store, where):
    deep = '{"url": "https://exemple.fr/x", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [_record(1), deep, _record(2)] if where == "middle" else [deep, _record(1), _record(2)]
    path = write(tmp_path / "deep.jsonl", "\n".join(lines))
    report = ingest([path], store, Settings())
    assert report.new == 2
    (reason,) = _reasons(report).values()
    assert "imbriqué trop profondément" in reason


def test_a_json_document_nested_100000_deep_is_one_failure(tmp_path, store):
    path = write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    report = ingest([path, write(tmp_path / "ok.jsonl", _record(1))], store, Settings())
    assert report.new == 1
    assert "imbriqué trop profondément" in _reasons(report)["deep.json"]


def test_fields_of_the_wrong_type_are_refused_with_the_reason(tmp_path, store):
    lines = [
        json.dumps({"url": 5, "title": "Nombre", "text": TEXT}),
        json.dumps({"url": "https://exemple.fr/t", "title": "Objet", "text": {"fr": TEXT}}),
        _record(3, title=True),
        _record(4, date=20260203),
        _record(5, author=[{"name": "Ana Martin"}, "Bo Durand"], publisher={"name": "Ouest"}),
    ]
    report = ingest([write(tmp_path / "types.jsonl", "\n".join(lines))], store, Settings())
    reasons = _reasons(report)
    assert reasons == {
        "types.jsonl#line=1": "champ « url » : texte attendu, trouvé : un nombre",
        "types.jsonl#line=2": "champ « text » : texte attendu, trouvé : un objet",
        "types.jsonl#line=3": "champ « title » : texte attendu, trouvé : un booléen",
        "types.jsonl#line=4": "champ « date » : texte attendu, trouvé : un nombre",
    }
    (article,) = store.articles()
    assert (article.author, article.site_name) == ("Ana Martin, Bo Durand", "Ouest")


HOSTILE_URLS = ["javascript:alert(1)", "data:text/html,<p>x</p>", "vbscript:msgbox(1)"]


def test_only_web_urls_are_accepted_whatever_the_input(tmp_path, store):
    folder = tmp_path / "in"
    jsonl = [_record(n, url=url) for n, url in enumerate(HOSTILE_URLS)] + [_record(9)]
    write(folder / "records.jsonl", "\n".join(jsonl))
    items = "".join(
        f"<item><title>Entrée {n}</title><link>{url.replace('<', '&lt;')}</link>"
        f"<description>{TEXT}</description></item>"
        for n, url in enumerate(HOSTILE_URLS)
    )
    write(
        folder / "feed.rss", f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
    )
    json_feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"url": url, "content_text": TEXT} for url in HOSTILE_URLS],
    }
    write(folder / "feed.json", json.dumps(json_feed))
    # warcio leaves the HTTP block of a non-http "response" unparsed: resource records.
    pages = {url: article_html(f"Page {n}").encode() for n, url in enumerate(HOSTILE_URLS)}
    write(folder / "crawl.warc", b"".join(warc_records(pages, gzip=False, kind="resource")))
    page = article_html("Lien canonique hostile").replace(
        "</head>", '<link rel="canonical" href="javascript:alert(1)"></head>'
    )
    write(folder / "page.html", page)

    report = ingest([folder], store, Settings())

    # The JSONL's good record, and the page, known by its path: a canonical link that is
    # no web URL is ignored.
    assert report.new == 2
    page_uri, record_url = sorted(a.url for a in store.articles())
    assert page_uri.startswith("file://") and record_url == "https://exemple.fr/9"
    refused = [f for f in report.failed if "pas une URL http(s)" in f.reason]
    assert len(refused) == 4 * len(HOSTILE_URLS)  # JSONL, RSS, JSON Feed, WARC
    assert not [f for f in report.failed if f not in refused]


def test_a_multi_member_gzip_file_is_read_whole(tmp_path, store):
    html = article_html("Page compressée en deux fois").encode()
    middle = html.index(b"<p>La maire")
    data = gzip.compress(html[:middle]) + gzip.compress(html[middle:])
    report = ingest([write(tmp_path / "page.html.gz", data)], store, Settings())
    assert report.new == 1 and not report.failed
    (article,) = store.articles()
    assert "tribunal administratif" in article.text  # in the second member


@pytest.mark.parametrize("where", ["headers", "body of a non-HTML record"])
def test_a_truncated_plain_warc_is_reported(tmp_path, store, where):
    pages = {f"https://exemple.fr/p{i}": article_html(f"Page {i} du jour").encode() for i in (0, 1)}
    records = warc_records(pages, gzip=False)
    robots = warc_records({"https://exemple.fr/robots.txt": b"User-agent: *\n" * 30}, gzip=False)
    robots = [r.replace(b"text/html; charset=utf-8", b"text/plain") for r in robots]
    if where == "headers":
        data = records[0] + records[1][:200]  # ends inside the second record's headers
    else:
        data = records[0] + records[1] + robots[0][:-300]
    report = ingest([write(tmp_path / "cut.warc", data)], store, Settings())
    assert report.new == (1 if where == "headers" else 2)
    (failure,) = report.failed
    assert "tronqu" in failure.reason


def test_a_symlink_loop_is_reported_as_such(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (failure,) = read_path(tmp_path / "loop", Settings())
    assert failure.reason == "boucle de liens symboliques"


def test_a_symlink_loop_given_to_ingest_is_one_failure_and_the_batch_goes_on(
    tmp_path, store, good_page
):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    report = ingest([loop, good_page], store, Settings())
    assert _reasons(report) == {"loop": "boucle de liens symboliques"}
    assert report.new == 1
    assert [entry.ref for entry in store.log_entries(level="error")] == [str(loop)]
    assert [source.location for source in store.sources()] == [str(good_page.resolve())]


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf16-bom.xml", lambda text: text.replace("utf-8", "utf-16").encode("utf-16")),
        ("utf16le.xml", lambda text: text.replace("utf-8", "utf-16le").encode("utf-16-le")),
        ("utf32-bom.xml", lambda text: text.replace("utf-8", "utf-32").encode("utf-32")),
        ("utf32be.xml", lambda text: text.replace("utf-8", "utf-32be").encode("utf-32-be")),
        ("namespaced.xml", lambda text: text.replace("<rss", "<r:rss").encode()),
    ],
)
def test_feed_files_in_wide_encodings_or_with_a_prefixed_root_are_read(
    tmp_path, store, name, encode
):
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>F</title>'
        "<item><title>Grève au port de Brest</title><link>https://exemple.fr/greve</link>"
        f"<description>{TEXT}</description></item></channel></rss>"
    )
    if name.startswith("namespaced"):
        feed = feed.replace("</rss>", "</r:rss>").replace(
            'version="2.0"', 'xmlns:r="http://backend.userland.com/rss2" version="2.0"'
        )
    report = ingest([write(tmp_path / name, encode(feed))], store, Settings())
    assert report.new == 1 and not report.failed
    (article,) = store.articles()
    assert (article.title, article.url) == ("Grève au port de Brest", "https://exemple.fr/greve")


def test_impossible_publication_dates_leave_the_article_undated(tmp_path, store):
    """Year-1 placeholders and typos far in the future are no publication time: the article
    is stored undated, and grouping (which takes dates as seconds) does not fail on them."""
    text = "La mairie a présenté mardi le nouveau plan de circulation du centre-ville. " * 8
    write(
        tmp_path / "in" / "plan.html",
        article_html("Plan de circulation", [text], day="0001-01-01"),
    )
    write(
        tmp_path / "in" / "dump.jsonl",
        "\n".join(
            json.dumps({"url": f"https://exemple.fr/{n}", "title": t, "text": text, "date": d})
            for n, (t, d) in enumerate(
                [("Futur", "2999-01-01T10:00:00+01:00"), ("Réel", "2026-02-03T10:00:00+01:00")]
            )
        ),
    )
    report = ingest([tmp_path / "in"], store, Settings())
    assert report.new == 3 and not report.failed
    dates = {a.title: a.published for a in store.articles()}
    assert dates["Futur"] is None and dates["Plan de circulation"] is None
    assert dates["Réel"] is not None
    assert all(store.story_of(a.id) for a in store.articles())
