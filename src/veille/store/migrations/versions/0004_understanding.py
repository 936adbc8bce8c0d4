"""Entity mentions per article, entities across stories, story briefs.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_mentions",
        sa.Column("article_id", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("mentions", sa.Text, nullable=False),
        sa.Column("skipped", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "entities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("aliases", sa.Text, nullable=False),
        sa.Column("mentions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("stories", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_seen", sa.DateTime),
        sa.Column("last_seen", sa.DateTime),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "entity_keys",
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("entity_id", sa.Integer, primary_key=True),
    )
    op.create_index("ix_entity_keys_entity", "entity_keys", ["entity_id"])
    op.create_table(
        "story_entities",
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("entity_id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("aliases", sa.Text, nullable=False),
        sa.Column("mentions", sa.Integer, nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.DateTime),
        sa.Column("last_seen", sa.DateTime),
    )
    op.create_index("ix_story_entities_entity", "story_entities", ["entity_id"])
    op.create_table(
        "story_briefs",
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("story_briefs", "story_entities", "entity_keys", "entities", "article_mentions"):
        op.drop_table(table)
