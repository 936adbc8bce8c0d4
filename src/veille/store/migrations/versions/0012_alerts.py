"""Alerts as stories happen: a watch's alert settings (instant, breaking, quiet hours, a
rate cap) and relevance floor, and one row per story and threshold crossed, kept before
anything is sent.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("alerts", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("quiet_hours", sa.String(20)))
        batch.add_column(sa.Column("max_alerts", sa.Integer))
        batch.add_column(sa.Column("relevance_floor", sa.Float))
        batch.add_column(sa.Column("alerts_since", sa.DateTime))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("watch_id", sa.Integer, nullable=False, index=True),
        sa.Column("story_id", sa.Integer, nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("crossed_at", sa.DateTime, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("document", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.UniqueConstraint("watch_id", "story_id", "kind", name="uq_alert"),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    with op.batch_alter_table("watches") as batch:
        for column in ("alerts_since", "relevance_floor", "max_alerts", "quiet_hours", "alerts"):
            batch.drop_column(column)
