"""The full-text index of articles, in each database's own engine.

SQLite: an FTS5 table of French stems (stores made before this revision may already have
it: the search module used to create it). PostgreSQL: a tsvector of the same stems, with a
GIN index. Other databases have no search; `veille.search` says so when asked.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS article_search USING fts5(title, body, "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TABLE article_search (article_id INTEGER PRIMARY KEY "
            "REFERENCES articles (id) ON DELETE CASCADE, document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX article_search_document ON article_search USING gin (document)")


def downgrade() -> None:
    if op.get_bind().dialect.name in ("sqlite", "postgresql"):
        op.execute("DROP TABLE IF EXISTS article_search")
