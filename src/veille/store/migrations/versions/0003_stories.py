"""Stories, their articles, related stories, syndicated copies, and grouping state.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("first_seen", sa.DateTime),
        sa.Column("last_seen", sa.DateTime),
        sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("representative_id", sa.Integer),
        sa.Column("merged_into", sa.Integer),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_stories_last_seen", "stories", ["last_seen"])
    op.create_table(
        "story_articles",
        sa.Column("article_id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Integer, nullable=False, index=True),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "story_related",
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("related_id", sa.Integer, primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
    )
    op.create_table(
        "article_copies",
        sa.Column("copy_id", sa.Integer, primary_key=True),
        sa.Column("original_id", sa.Integer, nullable=False, index=True),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
    )
    op.create_table(
        "engine_state",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("engine_state", "article_copies", "story_related", "story_articles", "stories"):
        op.drop_table(table)
