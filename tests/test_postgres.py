"""A PostgreSQL store: values SQLite takes and PostgreSQL refuses (NUL bytes, text over a
column's length) are cleaned or recorded as that input's failure, and the batch goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import postgres_database
from veille.config import Settings
from veille.model import Failure
from veille.pipeline import ingest
from veille.store import Store


@pytest.fixture
def pg_store():
    with postgres_database() as url:
        store = Store(url)
        yield store
        store.close()


def _record(n: int, **fields: str) -> dict[str, str]:
    text = f"Le texte numéro {n} est assez long pour être lu comme un article de presse. " * 3
    return {"url": f"https://example.org/{n}", "title": f"Titre {n}", "text": text} | fields


def test_control_bytes_are_cleaned_and_a_refused_value_fails_alone(pg_store, tmp_path):
    lines = [
        _record(1, title="Titre\u0000 avec un octet nul", author="Jeanne\u0000 Dupont"),
        _record(2, author="A" * 600),  # over the column's 500 characters
        _record(3, site="Le\u0001 Site"),
    ]
    (tmp_path / "batch.jsonl").write_text("\n".join(json.dumps(line) for line in lines), "utf-8")
    report = ingest([tmp_path], pg_store, Settings())
    assert report.new == 2 and len(report.failed) == 1
    (failed,) = report.failed
    assert failed.stage == "store" and failed.ref.endswith("batch.jsonl#line=2")
    assert failed.reason.startswith("la base de données l'a refusé :")
    stored = {a.url: a for a in pg_store.articles()}
    assert stored["https://example.org/1"].title == "Titre avec un octet nul"
    assert stored["https://example.org/1"].author == "Jeanne Dupont"
    assert stored["https://example.org/3"].site_name == "Le Site"
    assert [e.stage for e in pg_store.log_entries()] == ["store"]


def test_a_reason_quoting_binary_is_kept_readable(pg_store):
    pg_store.log(Failure("crawl.warc.gz", "crawl.warc.gz@1", "read", "first line: \x1f\x8b\x00x"))
    (entry,) = pg_store.log_entries()
    assert entry.reason == "first line: \ufffd\ufffd\ufffdx"


def test_accounts_sessions_tokens_and_reading_state(pg_store, tmp_path):
    """The tables of issue 17 on PostgreSQL: a session ends with a new password, a removed
    user takes their tokens, reading state is per reader."""
    from datetime import timedelta

    from veille.cluster.stage import group
    from veille.model import Article
    from veille.operations import accounts, reading
    from veille.store.schema import utc_now

    _, secret = accounts.add_user(pg_store, "ana", "correct horse battery")
    session = accounts.log_in(pg_store, "ana", "correct horse battery")
    assert accounts.authenticate(pg_store, session, None).user == "ana"
    assert accounts.authenticate(pg_store, None, secret).scope == "write"
    accounts.change_password(pg_store, "ana", "another horse battery")
    assert accounts.authenticate(pg_store, session, None) is None
    assert accounts.authenticate(pg_store, None, secret) is not None
    pg_store.save_article(
        Article(
            url="https://example.org/a",
            canonical_url="https://example.org/a",
            title="Titre",
            text="Un texte assez long pour un article. " * 5,
            content_hash="h",
            raw_ref="r",
            source="test",
        )
    )
    (story,) = group(pg_store).stories
    reading.mark(pg_store, "ana", [story], starred=True)
    assert reading.read_states(pg_store, "ana", [story])[story].starred
    assert not reading.read_states(pg_store, "", [story])[story].starred
    assert pg_store.visit("ana") is None
    assert pg_store.changed_since([story], utc_now() - timedelta(hours=1)) == {story}
    accounts.remove_user(pg_store, "ana")
    assert accounts.authenticate(pg_store, None, secret) is None and pg_store.users() == []


def test_publication_times_and_the_site_template_on_postgresql(pg_store):
    outlet = Path(__file__).parent / "data" / "furniture" / "www.lecourrier-vexin.example"
    report = ingest([outlet], pg_store, Settings())
    assert report.new == 3 and not report.failed
    stored = list(pg_store.articles())
    assert all(a.published_time_known for a in stored)
    assert {a.published.hour for a in stored} == {7, 5, 16}  # 08:12, 06:30, 17:45 in Paris
    assert all("Offre de bienvenue" not in a.text for a in stored)
    again = ingest([outlet], pg_store, Settings())
    assert again.unchanged == 3
    template = pg_store.site_template("lecourrier-vexin.example", [])
    assert template.pages == 3
