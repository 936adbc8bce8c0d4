"""Server-side sessions, API tokens with a scope, and each reader's reading state.

Sessions live in the store, so logging out, changing a password or removing a user ends
them. A user's API token moves to `api_tokens` with the `write` scope it had in effect;
`users.token_hash` goes.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Read the tokens before users is rebuilt without them (SQLite rebuilds the table, and
    # a table referencing it would lose its rows to the cascade).
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("token_hash", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    existing = op.get_bind().execute(sa.select(users)).mappings().all()
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_hash")
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime),
    )
    tokens = sa.table(
        "api_tokens",
        sa.column("user_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("token_hash", sa.String),
        sa.column("scope", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    for row in existing:
        op.get_bind().execute(
            tokens.insert().values(
                user_id=row["id"],
                name="default",
                token_hash=row["token_hash"],
                scope="write",
                created_at=row["created_at"],
            )
        )
    op.create_table(
        "readers",
        sa.Column("name", sa.String(200), primary_key=True),  # a user's name; "" on loopback
        sa.Column("visit_at", sa.DateTime, nullable=False),  # the current visit began
        sa.Column("previous_visit_at", sa.DateTime),
        sa.Column("seen_at", sa.DateTime, nullable=False),  # the last page asked
    )
    op.create_table(
        "story_reads",
        sa.Column("reader", sa.String(200), primary_key=True),
        sa.Column("story_id", sa.Integer, primary_key=True),
        sa.Column("seen", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("starred", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("story_reads")
    op.drop_table("readers")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64)))
    op.drop_table("api_tokens")
    op.drop_table("sessions")
