"""Web sources: poll state and health per source, fetch state per page.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SOURCE_COLUMNS = (
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("interval_seconds", sa.Integer),
    sa.Column("next_poll_at", sa.DateTime),
    sa.Column("last_polled_at", sa.DateTime),
    sa.Column("last_success_at", sa.DateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("last_status", sa.Integer),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("items_seen", sa.Integer, nullable=False, server_default="0"),
)


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for column in _SOURCE_COLUMNS:
            batch.add_column(column)
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False, unique=True),
        sa.Column("final_url", sa.String(2000)),
        sa.Column("status", sa.Integer),
        sa.Column("etag", sa.String(500)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("error", sa.Text),
        sa.Column("permanent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fetched_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pages")
    with op.batch_alter_table("sources") as batch:
        for column in reversed(_SOURCE_COLUMNS):
            batch.drop_column(column.name)
