"""Tables, as SQLAlchemy Core metadata. Alembic migrations create and evolve them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from veille import clock

metadata = MetaData()


def utc_now() -> datetime:
    """Times are stored naive, in UTC (`veille.clock`)."""
    return clock.now()


sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(500), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("location", String(2000), nullable=False, unique=True),
    Column("every_seconds", Integer),
    Column("created_at", DateTime, nullable=False),
    # Poll state: conditional GET validators and the adaptive schedule.
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("interval_seconds", Integer),
    Column("next_poll_at", DateTime),
    # Health, shown failing-first by `veille source list`.
    Column("last_polled_at", DateTime),
    Column("last_success_at", DateTime),
    Column("last_error", Text),
    Column("last_status", Integer),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("items_seen", Integer, nullable=False, server_default="0"),
)

# One row per article page ever fetched (by canonical URL): a page is fetched once, and a
# page that failed for good is not asked again.
pages = Table(
    "pages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2000), nullable=False, unique=True),
    Column("final_url", String(2000)),
    Column("status", Integer),
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("error", Text),
    Column("permanent", Boolean, nullable=False, server_default=false()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("fetched_at", DateTime, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("canonical_url", String(2000), nullable=False, unique=True),
    Column("url", String(2000), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("published", DateTime),  # naive UTC; a day alone at 00:00
    Column("published_time_known", Boolean, nullable=False, server_default=false()),
    Column("modified", DateTime),
    Column("author", String(500)),
    Column("site_name", String(500)),
    Column("language", String(16)),
    Column("description", Text),
    Column("content_hash", String(64), nullable=False),
    Column("raw_ref", String(2000), nullable=False),
    Column("source", String(2000), nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # Only what a feed said of the page: any full reading replaces it, never the reverse.
    Column("partial", Boolean, nullable=False, server_default=false()),
    # Its place in the order stories are built in (`model.order_key`).
    Column("sort_key", String(64), nullable=False),
    Index("ix_articles_published", "published"),
    Index("ix_articles_sort_key", "sort_key"),
    Index("ix_articles_site_name", "site_name"),
    Index("ix_articles_content_hash", "content_hash"),
)

# Per-site template memory (veille.extract.template): pages learned per site, and on how
# many of them each block fingerprint was seen (`last_page`: the site's page count when it
# was last seen, so blocks seen once long ago can be forgotten).
site_templates = Table(
    "site_templates",
    metadata,
    Column("site", String(500), primary_key=True),
    Column("pages", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime, nullable=False),
)

template_blocks = Table(
    "template_blocks",
    metadata,
    Column("site", String(500), primary_key=True),
    Column("block", String(16), primary_key=True),
    Column("pages", Integer, nullable=False),
    Column("last_page", Integer, nullable=False),
)

# Pages already learned, so a page read twice counts once.
template_pages = Table(
    "template_pages",
    metadata,
    Column("site", String(500), primary_key=True),
    Column("page", String(16), primary_key=True),
)

# Each raw input read (a file, a record of a JSONL file or an archive, a page) with a digest
# of its bytes and of the extraction code: re-reading it unchanged skips extraction.
raw_inputs = Table(
    "raw_inputs",
    metadata,
    Column("ref", String(2000), primary_key=True),
    Column("digest", String(32), nullable=False),
    Column("read_at", DateTime, nullable=False),
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

# Stories: a story's id is the id of the article that started it, so a story built again
# from the same articles (after a rewind, in another run) keeps its id.
stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
    Column("article_count", Integer, nullable=False, server_default="0"),
    Column("source_count", Integer, nullable=False, server_default="0"),
    Column("representative_id", Integer),
    Column("merged_into", Integer),  # set when the story was folded into another
    Column("updated_at", DateTime, nullable=False),
    # Its articles changed since it was last understood (set with the change, cleared with
    # the new brief).
    Column("pending_brief", Boolean, nullable=False, server_default=false()),
    Index("ix_stories_last_seen", "last_seen"),
)

# Articles waiting to be placed in a story (new, changed, or behind an article that came
# out of order), with the earliest point in the processing order their change touches.
group_queue = Table(
    "group_queue",
    metadata,
    Column("article_id", Integer, primary_key=True),
    Column("since", String(64), nullable=False),
    # The article's sentence vector when it was computed before grouping (by `veille
    # reprocess`'s executors), under the key of the encoder and text it was computed from;
    # it goes with the queue row once the article is placed.
    Column("vector_key", String(40)),
    Column("vector", LargeBinary),
)

# The grouping state at the start of a day (YYYY-MM-DD): what a rewind restarts from.
cluster_checkpoints = Table(
    "cluster_checkpoints",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

story_articles = Table(
    "story_articles",
    metadata,
    Column("article_id", Integer, primary_key=True),
    Column("story_id", Integer, nullable=False, index=True),
    Column("added_at", DateTime, nullable=False),
)

story_related = Table(
    "story_related",
    metadata,
    Column("story_id", Integer, primary_key=True),
    Column("related_id", Integer, primary_key=True),
    Column("score", Float, nullable=False),
)

# A syndicated copy points at the first copy seen: "also published by".
article_copies = Table(
    "article_copies",
    metadata,
    Column("copy_id", Integer, primary_key=True),
    Column("original_id", Integer, nullable=False, index=True),
    Column("similarity", Float, nullable=False),
    Column("reason", String(200), nullable=False),
)

# Serialised state of the incremental stages (near-duplicate index, clusterer).
engine_state = Table(
    "engine_state",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Entity mentions found in each article (spaCy is the slow part: found once per text).
article_mentions = Table(
    "article_mentions",
    metadata,
    Column("article_id", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False),  # of the text they were found in
    Column("mentions", Text, nullable=False),  # JSON list of Mention fields
    Column("skipped", Text),  # why none could be found (no model for the language)
    Column("created_at", DateTime, nullable=False),
)

# People, organisations and places across stories, spellings merged.
entities = Table(
    "entities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(500), nullable=False),
    Column("kind", String(8), nullable=False),  # PER, ORG, LOC
    Column("aliases", Text, nullable=False),  # JSON list, the name first
    Column("mentions", Integer, nullable=False, server_default="0"),
    Column("stories", Integer, nullable=False, server_default="0"),
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
    Column("updated_at", DateTime, nullable=False),
)

# Keys an entity is found again by from another story (see enrich.entities.lookup_keys).
entity_keys = Table(
    "entity_keys",
    metadata,
    Column("key", String(500), primary_key=True),
    Column("entity_id", Integer, primary_key=True),
    Index("ix_entity_keys_entity", "entity_id"),
)

story_entities = Table(
    "story_entities",
    metadata,
    Column("story_id", Integer, primary_key=True),
    Column("entity_id", Integer, primary_key=True),
    Column("name", String(500), nullable=False),  # as this story names it
    Column("aliases", Text, nullable=False),  # JSON list: the spellings this story uses
    Column("mentions", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
    Index("ix_story_entities_entity", "entity_id"),
)

# A story's summary, key facts and disagreements (JSON), and the signature of the articles
# they were drawn from: a story whose articles did not change is not understood again.
story_briefs = Table(
    "story_briefs",
    metadata,
    Column("story_id", Integer, primary_key=True),
    Column("signature", String(64), nullable=False),
    Column("version", Integer, nullable=False),  # of the code that understood it
    Column("data", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# What a reader follows: a query, filters, a schedule, where digests go.
watches = Table(
    "watches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("query", Text, nullable=False),
    Column("languages", Text, nullable=False),  # JSON list, empty: any
    Column("sites", Text, nullable=False),  # JSON list, empty: any
    Column("schedule", String(100)),  # "daily 07:00", "hourly", ... (None: on demand)
    Column("targets", Text, nullable=False),  # JSON list of delivery targets
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("alerts", Text, nullable=False, server_default="[]"),  # JSON: instant, breaking
    Column("quiet_hours", String(20)),  # "22:00-07:00", local time
    Column("max_alerts", Integer),  # per hour (None: the config's)
    Column("relevance_floor", Float),  # None: the config's
    Column("alerts_since", DateTime),  # when alerts were switched on
)

# Each story a digest carried, with its size then: shown again only when it grew.
digest_entries = Table(
    "digest_entries",
    metadata,
    Column("watch_id", Integer, primary_key=True),
    Column("story_id", Integer, primary_key=True),
    Column("digest_key", String(100), nullable=False),  # the digest that last carried it
    Column("sources", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("sent_at", DateTime, nullable=False),
)

# One row per digest and target: pending before sending, sent or failed after, so a crash
# between rendering and sending sends once on the next run, and never twice.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("watch_id", Integer, nullable=False, index=True),
    Column("digest_key", String(100), nullable=False),
    Column("target", String(2000), nullable=False),
    Column("status", String(16), nullable=False),  # pending, sent, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("payload", LargeBinary),  # what was rendered, sent as is when resumed
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("watch_id", "digest_key", "target", name="uq_delivery"),
)

# One row per watch, story and threshold crossed (instant: a new story matched; breaking:
# its sources surged), written before anything is sent: due, then sent, or expired when
# quiet hours or the rate cap held it too long. Each target's sending is a `deliveries`
# row keyed "alert:KIND:STORY".
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("watch_id", Integer, nullable=False, index=True),
    Column("story_id", Integer, nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # instant, breaking
    Column("crossed_at", DateTime, nullable=False),  # when the story crossed the threshold
    Column("details", Text, nullable=False),  # JSON: the counts that made it cross
    Column("status", String(16), nullable=False),  # due, sent, expired
    Column("document", Text),  # JSON of the alert as sent
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    UniqueConstraint("watch_id", "story_id", "kind", name="uq_alert"),
)

# People who may use the web UI and API when it listens beyond loopback.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", String(500), nullable=False),  # argon2id
    Column("created_at", DateTime, nullable=False),
)
