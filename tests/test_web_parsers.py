"""Sitemaps, OPML, feed autodiscovery and Google News feeds, on small inline samples."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from lxml import etree

from tests.conftest import shared_path
from veille.sources.discover import DiscoveredFeed, discover_feeds, looks_like_feed
from veille.sources.gnews import (
    fallback_key,
    gnews_search_url,
    is_gnews_redirect,
    is_google_news,
    publisher_of,
    strip_publisher_suffix,
)
from veille.sources.opml import OpmlError, OpmlFeed, parse_opml, write_opml
from veille.sources.sitemap import (
    SitemapError,
    SitemapPage,
    parse_sitemap,
    sitemaps_from_robots,
)

PARIS_WINTER = timezone(timedelta(hours=1))

BASE = "https://www.exemple-presse.fr/sitemap.xml"

URLSET = b"""\xef\xbb\xbf
  <?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <!-- generated -->
  <url>
    <loc>
      https://www.exemple-presse.fr/politique/budget-2026
    </loc>
    <lastmod> 2026-02-03T10:15:00+01:00 </lastmod>
    <image:image><image:loc>https://cdn.exemple-presse.fr/budget.jpg</image:loc></image:image>
  </url>
  <url><loc>/societe/greve-sncf?page=2&utm_source=x</loc><lastmod>2026-02-02</lastmod></url>
  <url><loc>https://www.exemple-presse.fr/politique/budget-2026</loc></url>
  <url><loc>   </loc></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>
"""

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://www.exemple-presse.fr/economie/inflation-janvier/</loc>
    <news:news>
      <news:publication>
        <news:name>Exemple Presse</news:name>
        <news:language>fr</news:language>
      </news:publication>
      <news:publication_date>2026-02-03T08:30:00+01:00</news:publication_date>
      <news:title>Inflation : les prix ont   reculé de 0,2 % en janvier</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://www.exemple-presse.fr/monde/elections</loc>
    <news:news>
      <news:publication><news:language>FR-be</news:language></news:publication>
      <news:publication_date>2026-02-02</news:publication_date>
      <news:title>L&amp;apos;Europe &amp;eacute;lit</news:title>
    </news:news>
  </url>
</urlset>
""".encode()

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://www.exemple-presse.fr/sitemaps/2026-02.xml.gz</loc>
    <lastmod>2026-02-03</lastmod></sitemap>
  <sitemap><loc>sitemaps/news.xml</loc></sitemap>
  <sitemap><loc>file:///etc/passwd</loc></sitemap>
  <sitemap><loc>https://www.exemple-presse.fr/sitemaps/2026-02.xml.gz</loc></sitemap>
</sitemapindex>
"""


# --- sitemaps ----------------------------------------------------------------------------


def test_urlset_pages_are_trimmed_resolved_dated_and_deduplicated():
    sitemap = parse_sitemap(URLSET, BASE)
    assert sitemap.sitemaps == []
    assert [p.url for p in sitemap.pages] == [
        "https://www.exemple-presse.fr/politique/budget-2026",
        # Relative, resolved; the query (and its bare "&") survive untouched.
        "https://www.exemple-presse.fr/societe/greve-sncf?page=2&utm_source=x",
    ]
    first, second = sitemap.pages
    # The image's nested <image:loc> is not mistaken for the page's location.
    # A time comes with its offset (an instant); a date alone stays a day.
    assert first.lastmod == datetime(2026, 2, 3, 10, 15, tzinfo=PARIS_WINTER)
    assert second.lastmod == datetime(2026, 2, 2)
    assert first.title is None and first.published is None and first.language is None


def test_news_sitemap_fields():
    pages = parse_sitemap(NEWS_SITEMAP, BASE).pages
    assert pages[0] == SitemapPage(
        url="https://www.exemple-presse.fr/economie/inflation-janvier/",
        lastmod=None,
        title="Inflation : les prix ont reculé de 0,2 % en janvier",
        published=datetime(2026, 2, 3, 8, 30, tzinfo=PARIS_WINTER),
        language="fr",
    )
    # Double-escaped HTML entities in a title are read as the characters they name.
    assert pages[1].title == "L'Europe élit"
    assert pages[1].published == datetime(2026, 2, 2)
    assert pages[1].language == "fr"


def test_sitemap_without_namespaces_and_with_undeclared_news_prefix():
    data = b"""<urlset><url><loc>https://a.fr/1</loc>
        <news:news><news:title>Sans espace de noms</news:title></news:news></url></urlset>"""
    (page,) = parse_sitemap(data, "https://a.fr/").pages
    assert page.url == "https://a.fr/1"
    assert page.title == "Sans espace de noms"


def test_gzip_sitemap_reads_like_the_plain_one():
    assert parse_sitemap(gzip.compress(NEWS_SITEMAP), BASE) == parse_sitemap(NEWS_SITEMAP, BASE)


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(b"<urlset>" + b" " * 200_000 + b"</urlset>")
    assert len(bomb) < 1000
    with pytest.raises(SitemapError, match="limite"):
        parse_sitemap(bomb, BASE, max_bytes=100_000)
    assert parse_sitemap(bomb, BASE, max_bytes=300_000).pages == []


def test_truncated_and_corrupt_gzip_are_errors():
    with pytest.raises(SitemapError, match="tronqué"):
        parse_sitemap(gzip.compress(NEWS_SITEMAP)[:-40], BASE)
    with pytest.raises(SitemapError, match="corrompues"):
        parse_sitemap(b"\x1f\x8b" + b"\x00" * 30, BASE)


def test_sitemap_index_lists_child_sitemaps_resolved_and_web_only():
    sitemap = parse_sitemap(INDEX, BASE)
    assert sitemap.pages == []
    assert sitemap.sitemaps == [
        "https://www.exemple-presse.fr/sitemaps/2026-02.xml.gz",
        "https://www.exemple-presse.fr/sitemaps/news.xml",
    ]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://a.fr/&xxe;</loc><news:news xmlns:news="x"><news:title>&xxe;</news:title>
  </news:news></url>
</urlset>"""


def test_external_entity_is_never_resolved():
    with pytest.raises(SitemapError) as caught:
        parse_sitemap(XXE, BASE)
    assert "root:" not in str(caught.value)
    assert "entit" in str(caught.value)


def _secret_documents(tmp_path) -> list[bytes]:
    """Ways to pull a local file's content into a document: none may work."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "TOPSECRET">')
    body = "<urlset><url><loc>https://a.fr/&leak;</loc></url></urlset>"
    return [
        f'<!DOCTYPE urlset [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>{body}'.encode(),
        f'<!DOCTYPE urlset SYSTEM "{dtd.as_uri()}">{body}'.encode(),
        f'<!DOCTYPE urlset [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>{body}'.encode(),
    ]


def test_no_way_of_reading_a_local_file_leaks_it(tmp_path):
    for data in _secret_documents(tmp_path):
        try:
            sitemap = parse_sitemap(data, BASE)
        except SitemapError as exc:
            assert "TOPSECRET" not in str(exc)
        else:
            assert "TOPSECRET" not in repr(sitemap)
        opml = data.replace(b"urlset", b"opml").replace(b"<url><loc>", b"<body><outline xmlUrl='")
        opml = opml.replace(b"</loc></url>", b"'/></body>")
        try:
            feeds = parse_opml(opml)
        except OpmlError as exc:
            assert "TOPSECRET" not in str(exc)
        else:
            assert "TOPSECRET" not in repr(feeds)


def test_documents_with_entities_or_a_dtd_are_refused(tmp_path):
    # Even unexpanded, an entity would leave a silently shortened URL behind.
    for data in _secret_documents(tmp_path):
        with pytest.raises(SitemapError, match="DTD"):
            parse_sitemap(data, BASE)
    # A bare DOCTYPE declares nothing and is harmless.
    assert parse_opml(b"<!DOCTYPE opml><opml><body/></opml>") == []


# 10**5 characters, which libxml2 itself would expand, and 10**10 (billion laughs), which
# its amplification limit stops.
@pytest.mark.parametrize("levels", [5, 10])
def test_entity_bombs_are_refused_unexpanded(monkeypatch, levels):
    entities = '<!ENTITY a0 "xxxxxxxxxx">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels)
    )
    loc = f"https://a.fr/&a{levels - 1};"
    data = f"<!DOCTYPE urlset [{entities}]><urlset><url><loc>{loc}</loc></url></urlset>"
    trees: list[etree._Element] = []
    fromstring = etree.fromstring

    def parsed(text: bytes, parser: etree.XMLParser) -> etree._Element:
        trees.append(root := fromstring(text, parser))
        return root

    monkeypatch.setattr(etree, "fromstring", parsed)
    with pytest.raises(SitemapError, match="DTD"):
        parse_sitemap(data.encode(), BASE)
    # Read, then refused for its entities, and nothing was expanded on the way: the work
    # done is that of the bytes given, whatever the machine.
    assert trees and all(len("".join(tree.itertext())) < len(data) for tree in trees)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "vide"),
        (b"   \n", "vide"),
        (b"not xml at all", "Start tag expected"),
        (b"<html><body><p>Erreur 404</p></body></html>", "<html>"),
        (b'<rss version="2.0"><channel/></rss>', "<rss>"),
    ],
)
def test_what_is_not_a_sitemap_is_an_error_that_says_why(data, expected):
    with pytest.raises(SitemapError, match=expected) as caught:
        parse_sitemap(data, BASE)
    assert isinstance(caught.value, ValueError)


def test_truncated_sitemap_keeps_the_pages_before_the_cut():
    data = URLSET[: URLSET.index(b"<url><loc>https://www.exemple-presse.fr/politique/budget")]
    expected = [
        "https://www.exemple-presse.fr/politique/budget-2026",
        "https://www.exemple-presse.fr/societe/greve-sncf?page=2&utm_source=x",
    ]
    # Cut inside a URL: the partial URL is not taken for a page.
    pages = parse_sitemap(data + b"<url><loc>https://www.exe", BASE).pages
    assert [p.url for p in pages] == expected
    # Cut inside a tag.
    pages = parse_sitemap(data + b"<url><loc>https://www.exemple-presse.fr/a</loc></u", BASE).pages
    assert [p.url for p in pages] == [*expected, "https://www.exemple-presse.fr/a"]


def test_sitemaps_from_robots():
    robots = (
        "\ufeffUser-agent: *\n"
        "Disallow: /recherche\n"
        "Sitemap: https://www.exemple-presse.fr/sitemap.xml\n"
        "SITEMAP:https://www.exemple-presse.fr/news.xml   # news\n"
        "  sitemap :  https://www.exemple-presse.fr/sitemap.xml\n"
        "# Sitemap: https://www.exemple-presse.fr/commented.xml\n"
        "Sitemap: /relative.xml\n"
        "Sitemaps-Index: https://www.exemple-presse.fr/no.xml\n"
    )
    assert sitemaps_from_robots(robots) == [
        "https://www.exemple-presse.fr/sitemap.xml",
        "https://www.exemple-presse.fr/news.xml",
    ]
    assert sitemaps_from_robots("") == []


# --- OPML --------------------------------------------------------------------------------

OPML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
  <head><title>Abonnements</title></head>
  <body>
    <outline text="Presse" title="Presse">
      <outline text="Régionale">
        <outline type="rss" text="Ouest-France" xmlurl="https://www.ouest-france.fr/rss/une"
                 htmlUrl="https://www.ouest-france.fr/"/>
        <outline type="rss" title="La Dépêche" text="ignored" XMLURL="https://www.ladepeche.fr/rss.xml"/>
      </outline>
      <outline type="rss" text="Le  Monde" xmlURL=" https://www.lemonde.fr/rss/une.xml "/>
    </outline>
    <outline text="Dossier vide"><outline text="Pas un flux" htmlUrl="https://a.fr/"/></outline>
    <outline type="rss" text="Libé" xmlUrl="https://www.liberation.fr/rss/?a=1&b=2"/>
    <outline type="rss" text="Le Monde encore" xmlUrl="http://www.lemonde.fr/rss/une.xml"/>
    <outline type="rss" text="Ancien" xmlUrl="feed://www.exemple.fr/flux"/>
    <outline type="rss" text="Piège" xmlUrl="file:///etc/passwd"/>
  </body>
</opml>
""".encode("iso-8859-1")


def test_opml_nested_categories_case_variants_and_dedupe():
    assert parse_opml(OPML) == [
        OpmlFeed(
            "https://www.ouest-france.fr/rss/une",
            "Ouest-France",
            "https://www.ouest-france.fr/",
            "Presse / Régionale",
        ),
        OpmlFeed("https://www.ladepeche.fr/rss.xml", "La Dépêche", None, "Presse / Régionale"),
        OpmlFeed("https://www.lemonde.fr/rss/une.xml", "Le Monde", None, "Presse"),
        # A bare "&" in the attribute is kept rather than cut by XML recovery.
        OpmlFeed("https://www.liberation.fr/rss/?a=1&b=2", "Libé", None, None),
        OpmlFeed("http://www.exemple.fr/flux", "Ancien", None, None),
    ]


def test_opml_round_trip():
    feeds = [
        OpmlFeed("https://www.lemonde.fr/rss/une.xml", "Le Monde", "https://www.lemonde.fr/", None),
        OpmlFeed("https://a.fr/rss", "A & B <c>", None, "Presse / Régionale"),
        OpmlFeed("https://b.fr/rss", None, None, "Presse / Régionale"),
        OpmlFeed("https://c.fr/rss", "C", None, "Presse"),
        OpmlFeed("https://d.fr/rss", "D", None, "Blogs"),
    ]
    data = write_opml(feeds, "Veille « cyber »")
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Veille « cyber »"
    # One folder per level, not one per feed; every outline has the required text=.
    assert [o.get("text") for o in root.find("body")] == ["Le Monde", "Presse", "Blogs"]
    assert all(o.get("text") for o in root.iter("outline"))
    assert parse_opml(data) == feeds


def test_opml_write_groups_interleaved_categories_and_drops_control_characters():
    feeds = [
        OpmlFeed("https://a.fr/rss", "A\x00\x07", None, "X"),
        OpmlFeed("https://b.fr/rss", "B", None, "Y"),
        OpmlFeed("https://c.fr/rss", "C", None, "X"),
    ]
    back = parse_opml(write_opml(feeds, "t"))
    assert [(f.url, f.title, f.category) for f in back] == [
        ("https://a.fr/rss", "A", "X"),
        ("https://c.fr/rss", "C", "X"),
        ("https://b.fr/rss", "B", "Y"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "vide"),
        (b"<<<", "invalid element name"),
        (b'<rss version="2.0"/>', "<rss>"),
        (b'<opml version="2.0"><head/></opml>', "body"),
    ],
)
def test_malformed_opml_is_an_error_that_says_why(data, expected):
    with pytest.raises(OpmlError, match=expected):
        parse_opml(data)


def test_opml_external_entity_is_never_resolved():
    data = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&xxe;" xmlUrl="https://a.fr/&xxe;"/></body></opml>"""
    with pytest.raises(OpmlError) as caught:
        parse_opml(data)
    assert "root:" not in str(caught.value)


# --- autodiscovery -----------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="fr"><head>
<meta charset="utf-8">
<title>Exemple Presse</title>
<link rel="stylesheet" type="text/css" href="/style.css">
<LINK REL="Alternate" TYPE="application/rss+xml" title="Exemple Presse &raquo; Flux" href="/feed/">
<link rel="alternate nofollow" type="application/atom+xml; charset=utf-8" href="../atom.xml"
      title="  Atom  ">
<link rel="alternate" type="application/feed+json" href="https://cdn.exemple.fr/feed.json#top">
<link rel="alternate" type="application/json" href="https://www.exemple-presse.fr/wp-json/wp/v2/posts/12">
<link rel="alternate" type="application/json+oembed" href="/oembed?url=x">
<link rel="alternate" type="text/html" hreflang="en" href="/en/">
<link rel="alternate" type="application/rss+xml" href="https://www.exemple-presse.fr/feed/">
<link rel="alternate" type="application/rss+xml" href="javascript:void(0)">
<link rel="alternate" type="application/rss+xml">
<link rel="feed" type="application/rss+xml" href="/not-alternate.xml">
<script>document.write('<link rel="alternate" type="application/rss+xml" href="/js.xml">')</script>
</head><body><link rel="alternate" type="application/json" href="comments.json"></body></html>
"""


def test_autodiscovery_resolves_relative_hrefs_and_reads_rel_tokens():
    assert discover_feeds(PAGE, "https://www.exemple-presse.fr/politique/article.html") == [
        DiscoveredFeed("https://www.exemple-presse.fr/feed/", "Exemple Presse » Flux", "rss"),
        DiscoveredFeed("https://www.exemple-presse.fr/atom.xml", "Atom", "atom"),
        DiscoveredFeed("https://cdn.exemple.fr/feed.json", None, "json"),
        DiscoveredFeed("https://www.exemple-presse.fr/politique/comments.json", None, "json"),
    ]


def test_autodiscovery_honours_base_href_and_finds_nothing_in_plain_pages():
    page = (
        '<head><base href="/rubrique/">'
        "<link rel=alternate type=application/rss+xml href=rss></head>"
    )
    assert discover_feeds(page, "https://a.fr/x/y") == [
        DiscoveredFeed("https://a.fr/rubrique/rss", None, "rss")
    ]
    assert discover_feeds("<html><body>Bonjour</body></html>", "https://a.fr/") == []
    assert discover_feeds("", "https://a.fr/") == []


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>',
        b'\xef\xbb\xbf  <?xml version="1.0"?><!-- a <html> comment -->'
        b'<?xml-stylesheet href="s.xsl"?><feed xmlns="http://www.w3.org/2005/Atom"/>',
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"/>',
        '<?xml version="1.0" encoding="UTF-16"?><rss/>'.encode("utf-16"),
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": []}',
    ],
)
def test_looks_like_feed(data):
    assert looks_like_feed(data)


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html>\n<html><head><title>rss feed</title></head></html>",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><rss/></html>',
        b'<?xml version="1.0"?><urlset/>',
        b'{"version": "1.0", "items": []}',
        b'[{"version": "https://jsonfeed.org/version/1"}]',
        b'{"version": "https://jsonfeed.org/version/1", ',
        b"Pas de flux ici",
        b"",
    ],
)
def test_does_not_look_like_a_feed(data):
    assert not looks_like_feed(data)


def test_the_shared_feed_files_look_like_feeds():
    folder = shared_path("fixtures", "seed-day", "feeds")
    files = sorted(folder.glob("*.xml")) + sorted(folder.glob("*.rss"))
    assert files
    for path in files:
        assert looks_like_feed(path.read_bytes()), path.name


# --- Google News -------------------------------------------------------------------------

GNEWS_RSS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<rss xmlns:media="http://search.yahoo.com/mrss/" version="2.0">
<channel>
<generator>NFE/5.0</generator>
<title>"cybersécurité" - Google Actualités</title>
<link>https://news.google.com/search?q=cybers%C3%A9curit%C3%A9&amp;hl=fr&amp;gl=FR&amp;ceid=FR:fr</link>
<language>fr</language>
<item>
<title>Cyberattaque : l'hôpital de Cannes toujours perturbé - Le Monde</title>
<link>https://news.google.com/rss/articles/CBMiggFodHRwczovL3d3dy5sZW1vbmRlLmZy?oc=5</link>
<guid isPermaLink="false">CBMiggFodHRwczovL3d3dy5sZW1vbmRlLmZy</guid>
<pubDate>Tue, 03 Feb 2026 14:08:48 GMT</pubDate>
<description>&lt;a href="https://news.google.com/rss/articles/CBMigg?oc=5"&gt;Cyberattaque&lt;/a&gt;</description>
<source url="https://www.lemonde.fr">Le Monde</source>
</item>
<item>
<title>Rançongiciel : ce qu'il faut savoir - Les Échos - Les Échos</title>
<link>https://news.google.com/rss/articles/CBMiZmh0dHBzOi8vd3d3Lmxlc2VjaG9z?oc=5</link>
<pubDate>Tue, 03 Feb 2026 12:00:00 GMT</pubDate>
<source url="https://www.lesechos.fr">Les Échos</source>
</item>
<item>
<title>Un titre sans source - avec un tiret</title>
<link>https://news.google.com/rss/articles/CBMiXYZ?oc=5</link>
</item>
</channel>
</rss>
""".encode()


def test_google_news_sample_through_feedparser():
    entries = feedparser.parse(GNEWS_RSS).entries
    publishers = [publisher_of(entry) for entry in entries]
    assert publishers == [
        ("Le Monde", "https://www.lemonde.fr"),
        ("Les Échos", "https://www.lesechos.fr"),
        (None, None),
    ]
    titles = [
        strip_publisher_suffix(e.title, name)
        for e, (name, _) in zip(entries, publishers, strict=True)
    ]
    assert titles == [
        "Cyberattaque : l'hôpital de Cannes toujours perturbé",
        "Rançongiciel : ce qu'il faut savoir - Les Échos",  # only Google's own suffix goes
        "Un titre sans source - avec un tiret",
    ]
    assert all(is_gnews_redirect(e.link) for e in entries)
    assert not any(is_google_news(e.link) for e in entries)


def test_strip_publisher_suffix_edge_cases():
    assert strip_publisher_suffix("Titre – LE MONDE", "Le Monde") == "Titre"
    assert strip_publisher_suffix("Le Monde", "Le Monde") == "Le Monde"
    assert strip_publisher_suffix("Titre - Le Mondial", "Le Monde") == "Titre - Le Mondial"
    assert strip_publisher_suffix("Titre - Le Monde", "") == "Titre - Le Monde"


def test_fallback_key_is_the_same_story_however_it_is_spelled():
    key = fallback_key("Cyberattaque : l'hôpital de Cannes - Le Monde", "Le Monde")
    assert key == fallback_key("cyberattaque — l’Hôpital de  Cannes", "le monde")
    assert key != fallback_key("Cyberattaque : l'hôpital de Cannes", "Libération")


def test_google_news_urls():
    url = gnews_search_url('"rançongiciel" site:lemonde.fr')
    assert url.startswith("https://news.google.com/rss/search?q=")
    assert url.endswith("&hl=fr&gl=FR&ceid=FR:fr")
    assert parse_qs(urlsplit(url).query)["q"] == ['"rançongiciel" site:lemonde.fr']
    assert is_google_news(url)
    assert gnews_search_url("x", lang="en-US", country="us").endswith(
        "?q=x&hl=en-US&gl=US&ceid=US:en"
    )
    with pytest.raises(ValueError):
        gnews_search_url("x", lang="fr&evil=1")
    with pytest.raises(ValueError):
        gnews_search_url("x", country="FR\n")
    with pytest.raises(ValueError):
        gnews_search_url("   ")
    assert is_google_news("https://news.google.com/rss?hl=fr&gl=FR&ceid=FR:fr")
    assert is_google_news("https://news.google.com/rss/topics/CAAqJggKIiBDQkFTRWdv?hl=fr")
    assert not is_google_news("https://news.google.com/search?q=x")
    assert not is_google_news("https://news.google.com.evil.fr/rss/search?q=x")
    assert not is_google_news("https://www.lemonde.fr/rss/une.xml")
    assert is_gnews_redirect("https://news.google.com/articles/CBMiabc?hl=fr")
    assert not is_gnews_redirect("https://news.google.com/rss/search?q=x")
    assert not is_gnews_redirect("https://www.lemonde.fr/rss/articles/x")


def test_one_malformed_url_does_not_sink_the_rest():
    bad = "http://[not-ipv6/feed"
    sitemap = f"<urlset><url><loc>{bad}</loc></url><url><loc>//[x/a</loc></url>"
    sitemap += "<url><loc>https://a.fr/ok</loc></url></urlset>"
    assert [p.url for p in parse_sitemap(sitemap.encode(), BASE).pages] == ["https://a.fr/ok"]
    assert sitemaps_from_robots(f"Sitemap: {bad}\nSitemap: https://a.fr/s.xml") == [
        "https://a.fr/s.xml"
    ]
    opml = (
        f'<opml><body><outline xmlUrl="{bad}"/><outline xmlUrl="https://a.fr/rss"/></body></opml>'
    )
    assert [f.url for f in parse_opml(opml.encode())] == ["https://a.fr/rss"]
    page = f'<base href="{bad}"><link rel=alternate type=application/rss+xml href="{bad}">'
    page += "<link rel=alternate type=application/rss+xml href=/rss>"
    assert [f.url for f in discover_feeds(page, "https://a.fr/x")] == ["https://a.fr/rss"]
    assert not is_google_news(bad) and not is_gnews_redirect(bad)
