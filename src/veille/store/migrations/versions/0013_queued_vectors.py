"""A queued article's sentence vector, computed before grouping by `veille reprocess`'s
executors and handed to the grouping through the queue.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("group_queue") as batch:
        batch.add_column(sa.Column("vector_key", sa.String(40)))
        batch.add_column(sa.Column("vector", sa.LargeBinary))


def downgrade() -> None:
    with op.batch_alter_table("group_queue") as batch:
        batch.drop_column("vector")
        batch.drop_column("vector_key")
