"""Publication times to the minute, modification times, and the per-site template memory.

`articles.published` stays naive UTC; `published_time_known` says whether its time of day
was stated (a day alone is kept at 00:00 and never shown as a time). Rows stored before
keep false: they were stored at midnight, or at the publisher's wall-clock time.
`site_templates` / `template_blocks` / `template_pages`: per site, the pages learned and on
how many of them each block fingerprint was seen (see veille.extract.template).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(
            sa.Column("published_time_known", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("modified", sa.DateTime))
    op.create_table(
        "site_templates",
        sa.Column("site", sa.String(500), primary_key=True),
        sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "template_blocks",
        sa.Column("site", sa.String(500), primary_key=True),
        sa.Column("block", sa.String(16), primary_key=True),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("last_page", sa.Integer, nullable=False),
    )
    op.create_table(
        "template_pages",
        sa.Column("site", sa.String(500), primary_key=True),
        sa.Column("page", sa.String(16), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("template_pages")
    op.drop_table("template_blocks")
    op.drop_table("site_templates")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("modified")
        batch.drop_column("published_time_known")
