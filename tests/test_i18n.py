"""One French catalogue for the code, the web pages and the digests: every message the code
uses is translated, nothing more; fields and plurals survive; pages are in one language."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from jinja2 import Environment

from tests.helpers import LOCAL
from veille.cluster.stage import group
from veille.i18n import CATALOGUE, _, install, language, n_, ntranslate, p_, translate
from veille.model import (
    Article,
    BriefDisagreement,
    BriefFact,
    BriefNote,
    BriefSentence,
    EntityUpdate,
    Source,
    SourceRef,
    StoryBrief,
    Watch,
)
from veille.pipeline import IngestReport, index
from veille.store import Store
from veille.web import create_app

REPO = Path(__file__).resolve().parents[1]
Key = tuple[str | None, str | tuple[str, ...]]  # (context, msgid or (singular, plural))


@pytest.fixture(scope="module")
def catalogue() -> Catalog:
    with CATALOGUE.open("rb") as po:
        return read_po(po, locale="fr")


@pytest.fixture(scope="module")
def used() -> dict[Key, list[str]]:
    """The messages in the code and templates, found by Babel's extractors with babel.cfg's
    method map and keywords (as `pybabel extract -F babel.cfg` finds them), and where."""
    cfg = REPO / "babel.cfg"
    with cfg.open(encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file, str(cfg))
    found: dict[Key, list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, context in extract_from_dir(
        REPO / "src", method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found[(context, message)].append(f"{filename}:{lineno}")
    return found


def _entries(catalogue: Catalog) -> dict[Key, Message]:
    return {(m.context, m.id): m for m in catalogue if m.id}


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def test_every_message_used_has_its_french_and_none_is_left_over(catalogue, used):
    entries = _entries(catalogue)
    assert len(used) > 250  # the extraction found the code, the pages and the digests
    assert sorted(map(str, used.keys() - entries.keys())) == []  # missing from the .po
    assert sorted(map(str, entries.keys() - used.keys())) == []  # no longer in the code
    assert not catalogue.obsolete
    untranslated = [key for key, m in entries.items() if not all(_forms(m.string))]
    assert untranslated == []
    assert [key for key, m in entries.items() if m.fuzzy] == []


def _fields(text: str) -> set[tuple[str, str]]:
    """`{name:spec}` fields (Python messages) and `%(name)s` ones (templates)."""
    braces = {
        (re.split(r"[.\[]", name)[0], spec)
        for _, name, spec, _ in string.Formatter().parse(text)
        if name is not None
    }
    return braces | {(name, kind) for name, kind in re.findall(r"%\((\w+)\)([sd])", text)}


def test_french_keeps_the_fields_of_the_english(catalogue):
    for message in catalogue:
        if not message.id:
            continue
        english = set().union(*map(_fields, _forms(message.id)))
        for french in _forms(message.string):
            assert _fields(french) == english, message.id


def test_messages_in_templates_hold_no_markup(catalogue, used):
    """Jinja takes a translation as markup (only its fields are escaped): no tag, no entity,
    no double quote (translations go into attributes quoted with it)."""
    in_templates = {
        key for key, where in used.items() if any(".html" in w or ".j2" in w for w in where)
    }
    assert len(in_templates) > 50
    for key, message in _entries(catalogue).items():
        if key in in_templates:
            for text in _forms(message.id) + _forms(message.string):
                assert not set('<&"') & set(text), text


def test_fields_are_filled_only_when_given(monkeypatch):
    monkeypatch.setenv("VEILLE_LANG", "fr")
    assert (
        _("a table of {count} rows, not article text", count=3)
        == "un tableau de 3 lignes, pas un texte d'article"
    )
    assert _(
        "file is {size:,} bytes, over the {limit:,}-byte limit (VEILLE_MAX_BYTES)",
        size=2_000_000,
        limit=1_000_000,
    ).startswith("fichier de 2,000,000 octets")
    assert _("HTTP {status} {phrase}") == "HTTP {status} {phrase}"
    assert translate("empty file", "en") == "empty file"
    monkeypatch.setenv("VEILLE_LANG", "en")
    assert _("empty file") == "empty file"
    assert translate("empty file", "fr") == "fichier vide"


def test_plurals_follow_each_language(monkeypatch):
    def results(n: int) -> str:
        return n_("{count} result", "{count} results", n, count=n)

    monkeypatch.setenv("VEILLE_LANG", "fr")
    assert [results(n) for n in (0, 1, 2, 10)] == [
        "0 résultat",
        "1 résultat",
        "2 résultats",
        "10 résultats",
    ]
    monkeypatch.setenv("VEILLE_LANG", "en")
    assert [results(n) for n in (0, 1, 2)] == ["0 results", "1 result", "2 results"]
    assert ntranslate("(+{n} reprint)", "(+{n} reprints)", 1, "fr", n=1) == "(+1 reprise)"
    assert ntranslate("(+{n} reprint)", "(+{n} reprints)", 0, "en", n=0) == "(+0 reprints)"


def test_the_same_english_worded_apart_in_french(monkeypatch):
    monkeypatch.setenv("VEILLE_LANG", "fr")
    assert (_("failed"), p_("table column", "failed")) == ("échec", "en échec")
    monkeypatch.setenv("VEILLE_LANG", "en")
    assert p_("table column", "failed") == "failed"


def test_templates_translate_per_render_and_escape_fields():
    environment = Environment(autoescape=True)
    install(environment)
    page = environment.from_string(
        '{{ ngettext("%(num)d story", "%(num)d stories", n) }} · '
        '{{ pgettext("button", "Search") }} · {{ _("Done: %(what)s", what=what) }}'
    )
    hostile = "<script>alert(1)</script>"
    french = page.render(lang="fr", n=0, what=hostile)
    assert french.startswith("0 sujet · Chercher · Fait : &lt;script&gt;")
    assert page.render(lang="fr", n=2, what="x").startswith("2 sujets")
    assert page.render(lang="en", n=1, what="x") == "1 story · Search · Done: x"
    assert page.render(lang="en", n=0, what="x").startswith("0 stories")


# -- pages in one language ------------------------------------------------------------------

DAY = datetime(2026, 2, 3, 9)
TITLE = "Perquisition chez X : Elon Musk convoqué"
TEXT = (
    "Les enquêteurs ont mené une perquisition dans les bureaux de la société X mardi. "
    "Elon Musk est convoqué le 20 avril, selon le parquet de Paris."
)
# French that pages show in any language: the articles' own words, the values sources
# give, and the name of the other language on the switch.
DATA_WORDS = set(re.findall(r"\w+", f"{TITLE} {TEXT} 2 février 3 février lundi Français"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A small store with one story, its copy, a brief with every part, entities, a watch
    and a source: every label of the pages shows (no seed day, no language model)."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('i18n') / 'veille.db'}")
    ids = []
    for n, (site, hour) in enumerate((("Le Journal", 9), ("Agence", 11))):
        _, article_id = store.save_article(
            Article(
                url=f"https://example.org/{n}",
                canonical_url=f"https://example.org/{n}",
                title=TITLE,
                text=TEXT,
                content_hash=f"hash-{n}",
                raw_ref=f"ref-{n}",
                source="test",
                published=DAY.replace(hour=hour),
                site_name=site,
                language="fr",
            )
        )
        ids.append(article_id)
    report = IngestReport(stored=ids)
    index(store, report)
    (story_id,) = group(store).stories
    first, second = (
        SourceRef(i, s, f"https://example.org/{n}")
        for n, (i, s) in enumerate(zip(ids, ("Le Journal", "Agence"), strict=True))
    )
    store.save_brief(
        StoryBrief(
            story_id,
            summary=(BriefSentence(TEXT.split(". ")[0] + ".", first, (second,)),),
            facts=(BriefFact("Elon Musk est convoqué le 20 avril.", ("date",), (first,), 2),),
            disagreements=(
                BriefDisagreement(
                    "date",
                    "perquisition",
                    (("2 février", (first,)), ("3 février", (second,))),
                    (BriefNote("Le Journal", "mardi 2 février", "2026-02-02", "lundi"),),
                ),
            ),
        ),
        "test",
        1,
    )
    store.save_story_entities(
        story_id,
        [
            EntityUpdate((), name, kind, (name,), (name.lower(),), name, (name,), 2, 2, DAY, DAY)
            for name, kind in (("Elon Musk", "PER"), ("X", "ORG"), ("Paris", "LOC"))
        ],
    )
    store.save_watch(Watch("raid", "perquisition", targets=("file:/tmp/veille-i18n",)))
    store.add_source(Source(name="Le Journal", kind="feed", location="https://example.org/f"))
    entity = store.entities()[0].id
    pages = (
        "/",
        f"/stories/{story_id}",
        "/search?q=perquisition",
        "/entities",
        f"/entities/{entity}",
        "/watches",
        "/watches?edit=raid&message=raid",
        "/watches/preview?query=perquisition",
        "/sources",
        "/login",
    )
    with TestClient(create_app(store), base_url=LOCAL) as client:
        yield client, pages
    store.close()


class _Visible(HTMLParser):
    """What a reader sees or hears: text, and the labels in attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.parts += [v for k, v in attrs if k in ("aria-label", "placeholder", "title") and v]

    def handle_data(self, data):
        self.parts.append(data)


def _visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def _pattern(text: str) -> re.Pattern[str]:
    """A label as it shows, its fields standing for anything."""
    parts = re.split(r"%\(\w+\)[sd]|\{[^}]*\}", text)
    body = r".+?".join(re.escape(p) for p in parts)
    start = r"(?<!\w)" if re.match(r"\w", text) else ""
    end = r"(?!\w)" if re.search(r"\w$", text) else ""
    return re.compile(start + body + end)


def _labels(catalogue: Catalog, used) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(English forms, French forms) of the messages pages show that differ in French."""
    shown = {
        key
        for key, where in used.items()
        if any("/web/" in w or "conflicts.py" in w for w in where)
    }
    return [
        (_forms(m.id), _forms(m.string))
        for key, m in _entries(catalogue).items()
        if key in shown and _forms(m.id) != _forms(m.string)
    ]


def test_pages_are_french_by_default_and_english_when_asked(site, catalogue, used):
    client, pages = site
    labels = _labels(catalogue, used)
    assert len(labels) > 60
    for path in pages:
        client.cookies.clear()
        french = client.get(path)
        english = client.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert french.status_code == english.status_code == 200, path
        french_text, english_text = _visible(french.text), _visible(english.text)
        for english_forms, french_forms in labels:
            for text in french_forms:
                assert not _pattern(text).search(english_text), (path, text)
            for text in english_forms:
                assert not _pattern(text).search(french_text), (path, text)
        # French the catalogue does not know (text written in a template) is caught too.
        rest = re.sub(r"\w+", lambda m: "" if m[0] in DATA_WORDS else m[0], english_text)
        accented = re.search(r"\S*[àâçéèêëîïôûùüÿœ]\S*", rest, re.IGNORECASE)
        assert accented is None, (path, accented)
    client.cookies.clear()
    story = _visible(client.get(pages[1]).text)
    assert "Désaccords entre sources" in story and "3 février 2026" in story
    story = _visible(client.get(pages[1] + "?lang=en").text)
    assert "Where sources disagree" in story and "February 3, 2026" in story


def test_errors_made_deep_in_the_code_follow_the_page_language(site):
    """A query's error is raised by the query parser, far from the request: it still comes
    in the reader's language, on pages and in the API (Accept-Language)."""
    client, _ = site
    client.cookies.clear()
    french = _visible(client.get("/search", params={"q": "(Musk"}).text)
    english = _visible(client.get("/search", params={"q": "(Musk", "lang": "en"}).text)
    assert "il manque « ) »" in french and "il manque" not in english
    assert "missing" in english.lower()
    client.cookies.clear()
    api = client.get("/api/v1/search", params={"q": "(Musk"}, headers={"Accept-Language": "en"})
    assert api.status_code == 400 and "missing" in api.json()["detail"].lower()
    api = client.get("/api/v1/search", params={"q": "(Musk"})
    assert "il manque" in api.json()["detail"]
    # The process's own language is left as it was.
    assert language() == "fr"
