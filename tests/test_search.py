"""Full-text search of the archive: French stems, the watch language, filters, pages; the
same tests on each back end (SQLite's FTS5, PostgreSQL's tsvector)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import postgres_database, seed_day_store
from tests.helpers import LOCAL
from veille import cli
from veille.cli import app
from veille.search import Filters, index_articles, search, translate
from veille.watch import QueryError, matches, parse, searchable
from veille.web import create_app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    if request.param == "sqlite":
        store, location, _ = seed_day_store(folder)
        yield store, location
        store.close()
        return
    with postgres_database() as url:
        store, location, _ = seed_day_store(folder, url)
        assert store.engine.dialect.name == "postgresql"
        yield store, location
        store.close()


def _titles(results) -> list[str]:
    return [h.title for h in results.hits]


def test_a_noun_finds_the_verb_and_the_other_way(archive):
    store, _ = archive
    noun = search(store, "perquisition", limit=50)
    verb = search(store, "perquisitionné", limit=50)
    assert noun.total == verb.total >= 13
    assert any("perquisitionne " in t for t in _titles(noun))  # "... perquisitionne dans ..."
    assert any("perquisition " in t.lower() for t in _titles(verb))


def test_accents_case_elisions_and_phrases(archive):
    store, _ = archive
    assert search(store, "CYBERSECURITE").total == search(store, "cybersécurité").total > 0
    assert search(store, "l'enquête").total == search(store, "enquete").total > 0
    assert search(store, '"audition libre"').total > 0
    assert search(store, '"libre audition"').total == 0


def test_exclusions_fields_and_filters(archive):
    store, _ = archive
    cyber = search(store, "cybersécurité -Musk", limit=50)
    assert cyber.hits and not any("Musk" in h.title for h in cyber.hits)
    titled = search(store, "title:Durov", limit=50)
    assert titled.hits and all("Durov" in h.title for h in titled.hits)
    boursorama = search(store, "Musk site:boursorama", limit=50)
    assert boursorama.total == 2 and all(h.site == "Boursorama" for h in boursorama.hits)
    assert search(store, "Musk", Filters(site="boursorama")).total == 2
    assert search(store, "Musk", Filters(language="en")).total == 0
    assert search(store, "Musk", Filters(start=date(2026, 2, 5))).total == 0
    feb3 = search(store, "Musk", Filters(start=date(2026, 2, 3), end=date(2026, 2, 3)))
    assert 0 < feb3.total < search(store, "Musk").total
    dourov = search(store, "entity:Dourov", limit=50)
    assert dourov.total >= 10 and all(h.story_id == dourov.hits[0].story_id for h in dourov.hits)


def test_snippets_and_titles_are_highlighted(archive):
    store, _ = archive
    for hit in search(store, "perquisition", limit=10).hits:
        for start, end in hit.spans:
            assert hit.snippet[start:end].lower().startswith("perquisition")
        for start, end in hit.title_spans:
            assert hit.title[start:end].lower().startswith("perquisition")
        assert hit.spans or hit.title_spans


def test_pages_follow_each_other_without_overlap(archive):
    store, _ = archive
    everything = search(store, "perquisition", limit=100)
    seen, cursor = [], None
    while True:
        page = search(store, "perquisition", limit=4, cursor=cursor)
        seen.extend(h.article_id for h in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [h.article_id for h in everything.hits]
    with pytest.raises(ValueError):
        search(store, "perquisition", cursor="not-a-cursor")


def test_queries_a_search_cannot_run_are_refused():
    for query in ("-Musk", "Musk OR -Durov", "Musk OR site:lemonde.fr"):
        with pytest.raises(QueryError):
            translate(query)


def test_cli_search(archive, monkeypatch):
    _, path = archive
    monkeypatch.setattr(cli.console, "width", 200)
    runner = CliRunner()
    found = runner.invoke(app, ["search", "perquisitionné", "--limit", "2", "--db", str(path)])
    assert found.exit_code == 0, found.output
    # More than the two shown, so the plural.
    assert " résultats\n" in found.output and "Suite : --cursor " in found.output
    bad = runner.invoke(app, ["search", "(Musk", "--db", str(path)])
    assert bad.exit_code == 2 and "il manque « ) »" in bad.output


def test_a_very_common_word_ranks_its_newest_matches(archive, monkeypatch):
    store, _ = archive
    everything = search(store, "perquisition", limit=100)
    monkeypatch.setattr("veille.search.RANK_WINDOW", 3)
    newest = search(store, "perquisition", limit=100)
    assert newest.total == everything.total  # still counted whole
    expected = sorted((h.article_id for h in everything.hits), reverse=True)[:3]
    assert sorted(h.article_id for h in newest.hits) == sorted(expected)
    assert newest.next_cursor is None


def test_the_api_and_the_search_page_use_the_store_s_back_end(archive):
    store, _ = archive
    with TestClient(create_app(store), base_url=LOCAL) as client:
        found = client.get("/api/v1/search", params={"q": "perquisitionné", "limit": 5}).json()
        assert found["total"] == search(store, "perquisition").total >= 13
        page = client.get("/search", params={"q": "perquisition", "site": "boursorama"})
        assert page.status_code == 200 and "<mark>" in page.text
        # The stories the articles belong to come first: the raid, with most of its articles.
        grouped = client.get("/api/v1/search/stories", params={"q": "perquisitionné"}).json()
        raid = grouped["items"][0]
        assert raid["title"].startswith("Cybercriminalité") and raid["matched"] >= 13
        assert sum(s["matched"] for s in grouped["items"]) == found["total"]
        page = client.get("/search", params={"q": "perquisition"}).text
        stories_block = page.split('id="search-stories"')[1].split("</section>")[0]
        assert f'href="/stories/{raid["id"]}?lang=fr"' in stories_block
        assert f"{raid['matched']} articles trouvés" in stories_block
        later = client.get("/search", params={"q": "perquisition", "cursor": "o20"}).text
        assert 'id="search-stories"' not in later
        # Ids beyond the database's integers name nothing, on either back end.
        huge = 2**40
        assert client.get(f"/api/v1/stories/{huge}").status_code == 422
        assert client.get(f"/stories/{huge}").status_code == 422
        assert client.get(f"/entities/{huge}").status_code == 422
        assert client.get("/search", params={"q": "Musk", "entity": huge}).status_code == 200


def test_reindexing_an_article_replaces_its_entry(archive):
    store, _ = archive
    counted = search(store, "perquisition").total
    article = store.articles_by_id([search(store, "perquisition").hits[0].article_id])[0]
    try:
        index_articles(store, [replace(article, text=article.text + " Zoubirouxite.")])
        assert [h.article_id for h in search(store, "zoubirouxite").hits] == [article.id]
        assert search(store, "perquisition").total == counted  # replaced, not added
    finally:
        index_articles(store, [article])
    assert search(store, "zoubirouxite").total == 0


@pytest.mark.parametrize(
    "query",
    [
        "perquisition",
        "perquisitionné -Musk",
        "title:(Grok OR Durov)",
        "cybersécurité OR (enquête AND parquet)",
        "Commission européenne -title:Grok",
        "l'audition",
    ],
)
def test_the_index_finds_what_watch_matching_finds(archive, query):
    """The index and the watch matcher (which reads every article) agree, so a search and
    a watch with the same query find the same articles on either back end."""
    store, _ = archive
    node = parse(query)
    expected = {
        a.id
        for a in store.articles()
        if matches(node, searchable([a.title], [a.text], language=a.language or "fr"))
    }
    found = {h.article_id for h in search(store, query, limit=200).hits}
    assert expected and found == expected


def test_postgres_literals_quote_what_they_hold():
    """Stems go to PostgreSQL as tsvector and tsquery literals, never through its parser."""
    from veille.search import postgres

    title, body = ["aujourd'hui", "x"], ["x", "a\\b"]
    assert postgres.document(title, body) == "'aujourd''hui':1A 'x':2A,4B 'a\\\\b':5B"
    long = ["mot"] * 300
    assert postgres.document([], long).count(",") == postgres.MAX_POSITIONS - 1
    assert postgres.expression(translate('title:perquisition -"audition libre"').match) == (
        "(('perquisit':*A | 'perqui':A | 'perquis':A | 'perquisi':A) & !('audit' <-> 'libr'))"
    )
