"""Tables, as SQLAlchemy Core metadata. Alembic migrations create and evolve them."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(500), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("location", String(2000), nullable=False, unique=True),
    Column("every_seconds", Integer),
    Column("created_at", DateTime, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("canonical_url", String(2000), nullable=False, unique=True),
    Column("url", String(2000), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("published", DateTime),
    Column("author", String(500)),
    Column("site_name", String(500)),
    Column("language", String(16)),
    Column("description", Text),
    Column("content_hash", String(64), nullable=False),
    Column("raw_ref", String(2000), nullable=False),
    Column("source", String(2000), nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_articles_published", "published"),
    Index("ix_articles_site_name", "site_name"),
    Index("ix_articles_content_hash", "content_hash"),
)

# One row per distinct problem (input, stage, reason): a failure seen again bumps its
# count instead of adding rows, so re-running a batch leaves the table as it was.
ingest_log = Table(
    "ingest_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(2000), nullable=False),
    Column("ref", String(2000), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("level", String(16), nullable=False),  # "error" or "skipped"
    Column("reason", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    UniqueConstraint("ref", "stage", "reason", name="uq_ingest_log_problem"),
)
