"""Watches, the stories their digests carried, and deliveries.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("languages", sa.Text, nullable=False),
        sa.Column("sites", sa.Text, nullable=False),
        sa.Column("schedule", sa.String(100)),
        sa.Column("targets", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "digest_entries",
        sa.Column("watch_id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("digest_key", sa.String(100), nullable=False),
        sa.Column("sources", sa.Integer, nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("watch_id", sa.Integer, nullable=False, index=True),
        sa.Column("digest_key", sa.String(100), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("payload", sa.LargeBinary),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("watch_id", "digest_key", "target", name="uq_delivery"),
    )


def downgrade() -> None:
    for table in ("deliveries", "digest_entries", "watches"):
        op.drop_table(table)
