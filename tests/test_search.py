"""Full-text search of the archive: French stems, the watch language, filters, pages."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from tests.conftest import seed_day_store
from veille import cli
from veille.cli import app
from veille.search import Filters, search, translate
from veille.watch import QueryError


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    store, path, _ = seed_day_store(tmp_path_factory.mktemp("search"))
    yield store, path
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
