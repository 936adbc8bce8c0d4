"""Extraction on pages nobody tuned it to: furniture found by structure, the per-site
template memory, headlines, and publication times to the minute."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import require_french_model
from tests.helpers import LOCAL, write
from veille.cli import app
from veille.config import Settings
from veille.digest import Period, build
from veille.digest.render import render
from veille.extract import extract_html
from veille.extract.html import strip_site_suffix
from veille.extract.template import SiteTemplate, learn, page_blocks
from veille.model import Watch
from veille.pipeline import ingest
from veille.store.schema import template_blocks, template_pages
from veille.web import create_app

FURNITURE = Path(__file__).parent / "data" / "furniture"
TRUTH = json.loads((FURNITURE / "truth.json").read_text("utf-8"))
PARIS_WINTER = timezone(timedelta(hours=1))

PARAGRAPHS = [
    "Le conseil départemental a voté jeudi un plan de 48 millions d'euros pour rénover les "
    "collèges les plus anciens du territoire, dont certains datent des années 1960.",
    "Les travaux commenceront à l'été dans six établissements, avec une priorité donnée à "
    "l'isolation des bâtiments et au remplacement des chaudières au fioul.",
    "L'opposition salue l'effort mais regrette l'absence de calendrier pour les autres "
    "collèges, qui attendront au moins jusqu'en 2029.",
]


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _page(body: str, head: str = "", title: str = "Rénovation des collèges") -> str:
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>{title} - Le Journal Test</title>
<meta property="og:site_name" content="Le Journal Test">{head}</head>
<body><header><a href="/">Le Journal Test</a><nav><a href="/a">Région</a></nav></header>
<main><article><h1>{title}</h1>{body}</article></main>
<footer><a href="/mentions">Mentions légales</a></footer></body></html>"""


def _paragraphs(*extra: str, at: int = 2) -> str:
    blocks = [f"<p>{p}</p>" for p in PARAGRAPHS]
    return "\n".join(blocks[:at] + list(extra) + blocks[at:])


def _extract(html: str, url: str = "https://www.journal-test.example/a.html"):
    found = extract_html(html.encode(), url)
    assert found is not None
    for paragraph in PARAGRAPHS:
        assert paragraph in found.text, paragraph
    return found


# -- the furniture set: outlets written for these tests -------------------------------------


def _article_paragraphs(page: dict) -> list[str]:
    # Sub-headings are in `article` too; paragraphs are what a reader must find whole.
    return [p for p in page["article"] if len(p.split()) >= 8]


@pytest.fixture(scope="module")
def furniture_store(tmp_path_factory):
    from veille.store import Store

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('furniture') / 'veille.db'}")
    # One outlet at a time: a batch spanning more than the clusterer's two weeks of memory
    # trips over the stories it forgets on the way (issue 14's to fix).
    reports = [ingest([outlet], store, Settings()) for outlet in _outlets()]
    yield store, reports
    store.close()


def _outlets() -> list[Path]:
    return sorted(p for p in FURNITURE.iterdir() if p.is_dir())


@pytest.mark.parametrize("split", ["heldout", "dev"])
def test_new_outlets_keep_every_paragraph_and_none_of_their_furniture(furniture_store, split):
    """Related boxes, newsletters, paywalls, comments, video rails inside the body: gone;
    every article paragraph: kept. The held-out outlets were never tuned on."""
    store, reports = furniture_store
    assert not any(r.failed for r in reports)
    # Pages read from disk are known by their canonical link, else by their file.
    stored = {Path(a.raw_ref).relative_to(FURNITURE).as_posix(): a for a in store.articles()}
    for page in (p for p in TRUTH["pages"] if p["split"] == split):
        article = stored[page["file"]]
        text = _words(article.text)
        for paragraph in _article_paragraphs(page):
            assert paragraph in text, (page["file"], paragraph)
        for furniture in page["furniture"]:
            assert furniture not in text, (page["file"], furniture)
        assert article.title == page["title"], page["file"]


def test_the_site_template_is_learned_once_per_page(furniture_store, tmp_path):
    store, _ = furniture_store
    with store.engine.connect() as conn:
        pages = conn.execute(template_pages.select()).all()
        blocks = conn.execute(template_blocks.select()).all()
    # A page learns its site's template when its address is known (a file without a
    # canonical link has none).
    addressed = [
        p for p in TRUTH["pages"] if 'rel="canonical"' in (FURNITURE / p["file"]).read_text()
    ]
    assert len(pages) == len(addressed)
    assert {site for site, _ in pages} >= {"lepetitrhodanien.example", "actu-garonne.example"}
    assert max(row.pages for row in blocks) >= 2  # a newsletter box seen on each page
    # Reading the same pages again changes nothing, the memory included.
    again = [ingest([outlet], store, Settings()) for outlet in _outlets()]
    assert sum(r.unchanged for r in again) == len(TRUTH["pages"])
    assert sum(r.new + r.updated for r in again) == 0
    with store.engine.connect() as conn:
        assert len(conn.execute(template_pages.select()).all()) == len(pages)


# -- structure, not phrases ----------------------------------------------------------------


def test_a_related_box_and_a_read_also_line_inside_the_body_go():
    box = (
        '<div class="x1"><h4>Dans la même rubrique</h4><ul>'
        '<li><a href="/b.html">Budget : la région vote ses priorités pour 2027</a></li>'
        '<li><a href="/c.html">Transports : un nouveau car express vers la gare</a></li>'
        "</ul></div>"
    )
    line = '<p><b>Voir aussi →</b> <a href="/d.html">Les lycées attendent leurs travaux</a></p>'
    found = _extract(_page(_paragraphs(box, line)))
    for gone in ("Dans la même rubrique", "Budget : la région", "Les lycées attendent"):
        assert gone not in found.text


def test_a_sentence_linking_its_second_half_stays():
    linked = (
        '<p>La présidente a rappelé le vote de 2024, <a href="/e.html">quand le département '
        "avait déjà promis la rénovation de onze collèges.</a></p>"
    )
    found = _extract(_page(_paragraphs(linked)))
    assert "quand le département avait déjà promis" in found.text


def test_sign_up_paywall_and_alert_boxes_go_whatever_their_words():
    sign_up = (
        "<div><p>Le matinal du Journal Test</p><p>Tous les jours, les infos du coin.</p>"
        '<form><input type="email" name="m"><button>OK</button></form>'
        "<p>Adresse gardée pour cet envoi seulement, désinscription dans chaque lettre.</p></div>"
    )
    paywall = (
        "<div><p>Réservé à nos lecteurs abonnés</p><p>Premier mois à 1 €</p>"
        '<a href="/offres">Je découvre</a></div>'
    )
    alert = "<div><p>Soyez prévenu des prochains articles du sujet</p><button>Suivre</button></div>"
    found = _extract(_page(_paragraphs(sign_up, paywall, alert)))
    for gone in ("matinal", "Adresse gardée", "Réservé à nos", "Premier mois", "Soyez prévenu"):
        assert gone not in found.text


def test_a_comment_thread_without_any_telling_name_goes():
    comment = (
        '<div class="q7"><b>{who}</b> <span>il y a 2 h</span><p>{what}</p>'
        "<button>Répondre</button> <button>Signaler</button></div>"
    )
    thread = (
        '<div class="q6">'
        + comment.format(who="Lulu35", what="Enfin une bonne nouvelle pour nos enfants.")
        + comment.format(who="Ptitgris", what="Et les collèges ruraux, on les oublie encore ?")
        + "</div>"
    )
    found = _extract(_page(_paragraphs(thread, at=3)))
    assert "Enfin une bonne nouvelle" not in found.text and "Ptitgris" not in found.text


def test_a_post_made_of_links_is_content():
    links = "".join(
        f'<li><a href="https://source{k}.example/article">Lecture du jour numéro {k} sur '
        f"la rénovation énergétique des bâtiments publics</a></li>"
        for k in range(6)
    )
    html = _page(f'<div class="entry-content"><p>Mes lectures :</p><ul>{links}</ul></div>')
    found = extract_html(html.encode(), "https://blog.example/lectures")
    assert found is not None and "Lecture du jour numéro 5" in found.text


def test_byline_and_date_holders_named_share_are_read():
    head = ""
    byline = (
        '<div class="author-share"><div>Par <a href="/auteurs/ana">Ana Lopez</a></div>'
        "<div>Publié le 3 février 2026 à 14h32</div>"
        '<div><a href="https://facebook.example/share">Partager</a>'
        '<a href="https://x.example/share">Tweeter</a></div></div>'
    )
    found = _extract(_page(byline + _paragraphs(), head))
    assert found.author == "Ana Lopez"
    assert found.published == datetime(2026, 2, 3, 14, 32, tzinfo=found.published.tzinfo)
    assert found.published.utcoffset() == timedelta(hours=1)
    assert "Partager" not in found.text and "Publié le" not in found.text


# -- the template memory -------------------------------------------------------------------


def _site_page(paragraphs: list[str], extra: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs) + extra
    return _page(body)


def test_blocks_the_site_repeats_elsewhere_go_and_a_copy_of_a_page_keeps_its_text():
    promo = "<div><p>Le Journal Test sur votre téléphone : notre application gratuite</p></div>"
    others = [
        _site_page([f"Autre article numéro {k} avec son propre texte."], promo) for k in (1, 2)
    ]
    template = SiteTemplate()
    for html in others:
        template = learn(template, page_blocks(html))
    page = _site_page(PARAGRAPHS, promo)
    alone = extract_html(page.encode(), "https://www.journal-test.example/x.html")
    remembered = extract_html(
        page.encode(), "https://www.journal-test.example/x.html", None, template
    )
    assert "notre application gratuite" in alone.text
    assert "notre application gratuite" not in remembered.text
    assert all(p in remembered.text for p in PARAGRAPHS)
    # One dispatch under two URLs: the copy shares all its text with a known page, which is
    # no template: the memory stays out of it.
    copies = learn(learn(SiteTemplate(), page_blocks(page)), page_blocks(page))
    copy = extract_html(page.encode(), "https://www.journal-test.example/y.html", None, copies)
    assert all(p in copy.text for p in PARAGRAPHS)


# -- headlines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("og", "document_title", "h1", "url", "expected"),
    [
        # The page's headline, which its <title> confirms, over a rewritten social title.
        (
            "Passerelle fermée : six mois de détour",
            "Vienne : la passerelle fermée six mois - Le Journal Test",
            "Vienne : la passerelle fermée six mois",
            None,
            "Vienne : la passerelle fermée six mois",
        ),
        ("Opinion | Les collèges attendent", None, None, None, "Les collèges attendent"),
        ("VIDÉO. Les collèges attendent leurs travaux", None, None, None,
         "Les collèges attendent leurs travaux"),
        ("Neue Schulen für Berlin - WELT", None, None, "https://www.welt.de/a.html",
         "Neue Schulen für Berlin"),
        ("Neue Schulen für Berlin – DW – 30.01.2024", None, None, "https://www.dw.com/a",
         "Neue Schulen für Berlin"),
        ("新しい学校｜Le Journal Test", None, None, None, "新しい学校"),
        # A place before a colon is the headline's, not a label.
        ("Villeurbanne : grève dans les cantines", None, None, None,
         "Villeurbanne : grève dans les cantines"),
        # An <h1> put together from its markup (a kicker in its own element) says the
        # words of the title confirming it, written as that one is.
        ("Grève : les cantines ferment", None, "<span>Grève</span> les cantines ferment",
         None, "Grève : les cantines ferment"),
        # Soft hyphens are markup, not letters.
        ("Les can\u00adtines ferment", None, None, None, "Les cantines ferment"),
        ("Les cantines ferment › Le Journal Test", None, None, None, "Les cantines ferment"),
    ],
)  # fmt: skip
def test_headlines(og, document_title, h1, url, expected):
    head = f'<meta property="og:title" content="{og}">'
    head += '<meta property="article:section" content="Opinion">'
    title = document_title or og
    body = _paragraphs()
    html = _page(body, head, title="X").replace("<h1>X</h1>", f"<h1>{h1}</h1>" if h1 else "")
    html = html.replace("<title>X - Le Journal Test</title>", f"<title>{title}</title>")
    found = extract_html(html.encode(), url or "https://www.journal-test.example/a.html")
    assert found.title == expected


def test_a_site_name_holding_a_separator_goes_whole():
    title = "Les cantines ferment - Marie Dupont - Le Blog"
    assert strip_site_suffix(title, ["Marie Dupont - Le Blog"]) == "Les cantines ferment"
    # A title that only begins like the name keeps its end.
    other = "Les cantines ferment - Le Blog des écoles"
    assert strip_site_suffix(other, ["Marie Dupont - Le Blog"]) == other


# -- publication times ---------------------------------------------------------------------


def _times(head: str = "", byline: str = "") -> tuple[datetime | None, datetime | None]:
    found = _extract(_page(byline + _paragraphs(), head))
    return found.published, found.modified


def test_a_stamp_with_its_offset_is_the_instant():
    published, modified = _times(
        '<meta property="article:published_time" content="2026-02-03T14:32:00+01:00">'
        '<meta property="article:modified_time" content="2026-02-03T18:05:00+01:00">'
    )
    assert published == datetime(2026, 2, 3, 13, 32, tzinfo=UTC)
    assert modified == datetime(2026, 2, 3, 17, 5, tzinfo=UTC)


def test_french_prose_gives_the_minute_in_paris_time():
    published, modified = _times(
        byline="<p>Publié le 3 février 2026 à 14h32, mis à jour le 4 février 2026 à 9:05</p>"
    )
    assert published == datetime(2026, 2, 3, 14, 32, tzinfo=PARIS_WINTER)
    assert modified == datetime(2026, 2, 4, 9, 5, tzinfo=PARIS_WINTER)


def test_a_utc_stamp_and_the_byline_agree_on_the_instant():
    published, _ = _times(
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "2026-07-03T12:32:00Z"}</script>',
        "<p>Le 3 juillet 2026 à 14h32</p>",
    )
    assert published == datetime(2026, 7, 3, 12, 32, tzinfo=UTC)


def test_a_day_alone_stays_a_day():
    published, _ = _times('<meta property="article:published_time" content="2026-02-03">')
    assert published == datetime(2026, 2, 3) and published.tzinfo is None


def test_a_stale_stamp_is_outvoted_by_the_byline_and_htmldate():
    head = '<meta property="article:published_time" content="2019-05-01T10:00:00+02:00">'
    page = _page("<p>Publié le 3 février 2026 à 14h32</p>" + _paragraphs(), head)
    # htmldate reads the address's date: with the byline, two readings against the stamp.
    dated = extract_html(page.encode(), "https://www.journal-test.example/2026/02/03/a.html")
    assert dated.published == datetime(2026, 2, 3, 14, 32, tzinfo=PARIS_WINTER)
    # Without it htmldate reads the stamp too: the page's metadata stands.
    plain = extract_html(page.encode(), "https://www.journal-test.example/a.html")
    assert plain.published.date() == datetime(2019, 5, 1).date()


def test_a_placeholder_stamp_says_nothing():
    # A CMS's empty date ("0001-01-01") was taken for the page's metadata and hid what
    # htmldate reads (here the address's date).
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "0001-01-01T00:00:00Z"}</script>'
    )
    page = _page(_paragraphs(), head)
    found = extract_html(page.encode(), "https://www.journal-test.example/2026/02/03/a.html")
    assert found.published == datetime(2026, 2, 3)


# -- shown where readers are ---------------------------------------------------------------


@pytest.fixture(scope="module")
def timed_store(tmp_path_factory):
    """Two pages of one story: one stating 14:32 in Paris, one its day alone."""
    require_french_model()
    from veille.store import Store

    folder = tmp_path_factory.mktemp("timed")
    for name, stamp in (("a", "2026-02-03T14:32:00+01:00"), ("b", "2026-02-03")):
        head = f'<meta property="article:published_time" content="{stamp}">'
        html = _page(_paragraphs(), head).replace(
            "<title>",
            f'<link rel="canonical" href="https://www.journal-test.example/{name}.html"><title>',
        )
        write(folder / "pages" / f"{name}.html", html)
    location = folder / "veille.db"
    store = Store(f"sqlite:///{location}")
    ingest([folder / "pages"], store, Settings())
    yield store, str(location)
    store.close()


def test_the_store_keeps_utc_and_whether_the_time_is_known(timed_store):
    store, _ = timed_store
    by_url = {a.url.rsplit("/", 1)[-1]: a for a in store.articles()}
    assert by_url["a.html"].published == datetime(2026, 2, 3, 13, 32)
    assert by_url["a.html"].published_time_known
    assert by_url["b.html"].published == datetime(2026, 2, 3)
    assert not by_url["b.html"].published_time_known


def test_export_gives_rfc3339_with_the_offset(timed_store):
    _, location = timed_store
    result = CliRunner().invoke(app, ["export", "--db", location], catch_exceptions=False)
    rows = {r["url"].rsplit("/", 1)[-1]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["a.html"]["published"] == "2026-02-03T14:32:00+01:00"
    assert rows["b.html"]["published"] == "2026-02-03"  # RFC 3339 full-date: no time stated


def test_pages_digests_and_the_api_show_the_time(timed_store):
    store, _ = timed_store
    story = store.stories()[0]
    with TestClient(create_app(store, Settings()), base_url=LOCAL) as client:
        page = client.get(f"/stories/{story.id}").text
        api = client.get(f"/api/v1/stories/{story.id}").json()
    assert "2026-02-03 14:32" in page and "00:00" not in page
    assert {a["published"] for a in api["articles"]} == {"2026-02-03T14:32:00+01:00", "2026-02-03"}
    digest = build(store, Watch("collèges", "collèges"), Period.day(datetime(2026, 2, 3).date()))
    markdown = render(digest, "md")
    assert "3 févr. 2026, 14:32" in markdown
    feed = json.loads(render(digest, "json"))
    times = {s["published"] for e in feed["entries"] for s in e["sources"]}
    assert times <= {"2026-02-03T13:32:00Z", "2026-02-03"} and "2026-02-03T13:32:00Z" in times
