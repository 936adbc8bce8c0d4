"""Durable grouping: articles queued for grouping in the transaction that stores them, a
processing order independent of arrival (`sort_key`), day checkpoints of the grouping
state, feed-only articles marked `partial`, stories flagged for understanding.

Story ids become the id of the article that started the story, so existing stories are
built again: story-derived tables are emptied (articles, sources, watches, deliveries and
entity mentions are kept) and every article is queued; the next `ingest` or `run` groups
and understands them. A story already carried by a digest may be carried once more.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from veille.model import order_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(
            sa.Column("partial", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("sort_key", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("stories") as batch:
        batch.add_column(
            sa.Column("pending_brief", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "group_queue",
        sa.Column("article_id", sa.Integer, primary_key=True),
        sa.Column("since", sa.String(64), nullable=False),
    )
    op.create_table(
        "cluster_checkpoints",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    bind = op.get_bind()
    table = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("published", sa.DateTime),
        sa.column("first_seen", sa.DateTime),
        sa.column("canonical_url", sa.String),
    )
    keys = [
        {"i": i, "k": order_key(published, first_seen, url)}
        for i, published, first_seen, url in bind.execute(sa.select(table)).all()
    ]
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        bind.execute(sa.text("UPDATE articles SET sort_key = :k WHERE id = :i"), chunk)
        bind.execute(sa.text("INSERT INTO group_queue (article_id, since) VALUES (:i, :k)"), chunk)
    op.create_index("ix_articles_sort_key", "articles", ["sort_key"])
    for name in (
        "story_articles",
        "story_related",
        "article_copies",
        "story_briefs",
        "story_entities",
        "entity_keys",
        "entities",
        "digest_entries",
        "stories",
    ):
        op.execute(f"DELETE FROM {name}")
    op.execute("DELETE FROM engine_state WHERE name IN ('dedup', 'cluster')")


def downgrade() -> None:
    op.drop_table("cluster_checkpoints")
    op.drop_table("group_queue")
    op.drop_index("ix_articles_sort_key", "articles")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("pending_brief")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("sort_key")
        batch.drop_column("partial")
