"""Raw inputs already read: an unchanged file, record or page is known before extraction.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raw_inputs",
        sa.Column("ref", sa.String(2000), primary_key=True),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("read_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("raw_inputs")
