"""Sources, articles and the ingest log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("location", sa.String(2000), nullable=False, unique=True),
        sa.Column("every_seconds", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("canonical_url", sa.String(2000), nullable=False, unique=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("published", sa.DateTime),
        sa.Column("author", sa.String(500)),
        sa.Column("site_name", sa.String(500)),
        sa.Column("language", sa.String(16)),
        sa.Column("description", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("raw_ref", sa.String(2000), nullable=False),
        sa.Column("source", sa.String(2000), nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_articles_published", "articles", ["published"])
    op.create_index("ix_articles_site_name", "articles", ["site_name"])
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
    op.create_table(
        "ingest_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(2000), nullable=False),
        sa.Column("ref", sa.String(2000), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
        sa.UniqueConstraint("ref", "stage", "reason", name="uq_ingest_log_problem"),
    )


def downgrade() -> None:
    op.drop_table("ingest_log")
    op.drop_table("articles")
    op.drop_table("sources")
