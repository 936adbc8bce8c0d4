"""The store: SQLite by default (WAL, one file), any SQLAlchemy URL such as PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, or_, select

from veille.model import Article, Copy, Failure, Skip, Source, Story
from veille.store.schema import (
    article_copies,
    articles,
    engine_state,
    ingest_log,
    pages,
    sources,
    stories,
    story_articles,
    story_related,
    utc_now,
)
from veille.store.templates import TemplateStore
from veille.store.understanding import UnderstandingStore
from veille.store.users import UserStore
from veille.store.watches import WatchStore
from veille.when import day_bounds

_MIGRATIONS = Path(__file__).parent / "migrations"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
Outcome = Literal["new", "updated", "unchanged"]

# Fields whose change makes a stored article "updated"; bookkeeping fields do not count.
_CONTENT_FIELDS = (
    "url",
    "title",
    "text",
    "published",
    "published_time_known",
    "modified",
    "author",
    "site_name",
    "language",
    "description",
    "content_hash",
)


@dataclass(frozen=True)
class LogEntry:
    source: str
    ref: str
    stage: str
    level: str
    reason: str
    count: int
    last_seen: datetime


class Store(UnderstandingStore, WatchStore, UserStore, TemplateStore):
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()

    def _migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()

    # -- sources ---------------------------------------------------------------------

    def ensure_source(self, source: Source) -> int:
        """The id of the source at `source.location`, added if new."""
        return self.add_source(source)[0].id  # type: ignore[return-value]

    def add_source(self, source: Source) -> tuple[Source, bool]:
        """Add a source; an existing one at the same location is returned unchanged."""
        existing = self.source(source.location)
        if existing is not None:
            return existing, False
        with self.engine.begin() as conn:
            conn.execute(
                sources.insert().values(
                    name=source.name,
                    kind=source.kind,
                    location=source.location,
                    every_seconds=source.every_seconds,
                    created_at=utc_now(),
                )
            )
        found = self.source(source.location)
        assert found is not None
        return found, True

    def source(self, key: int | str) -> Source | None:
        """By id, location or name."""
        query = select(sources)
        if isinstance(key, int) or key.isdigit():
            query = query.where(sources.c.id == int(key))
        else:
            query = query.where(or_(sources.c.location == key, sources.c.name == key))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _to_source(row) if row else None

    def sources(self) -> list[Source]:
        """Failing sources first, then by name."""
        query = select(sources).order_by(sources.c.failures.desc(), sources.c.name)
        with self.engine.connect() as conn:
            return [_to_source(row) for row in conn.execute(query).mappings()]

    def remove_source(self, key: int | str) -> Source | None:
        found = self.source(key)
        if found is not None:
            with self.engine.begin() as conn:
                conn.execute(sources.delete().where(sources.c.id == found.id))
        return found

    def due_sources(
        self, now: datetime | None, kinds: tuple[str, ...] = ("feed", "sitemap")
    ) -> list[Source]:
        """Sources whose next poll time has come (all of them when `now` is None)."""
        query = select(sources).where(sources.c.kind.in_(kinds))
        if now is not None:
            query = query.where(
                or_(sources.c.next_poll_at.is_(None), sources.c.next_poll_at <= now)
            )
        query = query.order_by(sources.c.next_poll_at.nulls_first(), sources.c.id)
        with self.engine.connect() as conn:
            return [_to_source(row) for row in conn.execute(query).mappings()]

    def update_source(self, source_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sources.update().where(sources.c.id == source_id).values(**values))

    # -- pages -----------------------------------------------------------------------

    def page(self, url: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(pages).where(pages.c.url == url)).mappings().first()
        return dict(row) if row else None

    def record_page(
        self,
        url: str,
        *,
        final_url: str | None = None,
        status: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str | None = None,
        permanent: bool = False,
    ) -> None:
        values = {
            "final_url": final_url,
            "status": status,
            "etag": etag,
            "last_modified": last_modified,
            "error": error,
            "permanent": permanent,
            "fetched_at": utc_now(),
        }
        with self.engine.begin() as conn:
            updated = conn.execute(
                pages.update()
                .where(pages.c.url == url)
                .values(attempts=pages.c.attempts + 1, **values)
            )
            if updated.rowcount == 0:
                conn.execute(pages.insert().values(url=url, attempts=1, **values))

    # -- articles --------------------------------------------------------------------

    def save_article(self, article: Article) -> tuple[Outcome, int]:
        """Insert or update by canonical URL; same content twice changes nothing."""
        values = {name: getattr(article, name) for name in _CONTENT_FIELDS}
        with self.engine.begin() as conn:
            row = (
                conn.execute(
                    select(articles).where(articles.c.canonical_url == article.canonical_url)
                )
                .mappings()
                .first()
            )
            now = utc_now()
            if row is None:
                new_id = conn.execute(
                    articles.insert().values(
                        canonical_url=article.canonical_url,
                        raw_ref=article.raw_ref,
                        source=article.source,
                        first_seen=now,
                        updated_at=now,
                        **values,
                    )
                ).inserted_primary_key[0]
                return "new", new_id
            changed = {k: v for k, v in values.items() if row[k] != v}
            if not changed:
                return "unchanged", row["id"]
            conn.execute(
                articles.update()
                .where(articles.c.id == row["id"])
                .values(raw_ref=article.raw_ref, source=article.source, updated_at=now, **changed)
            )
            return "updated", row["id"]

    def articles_by_id(self, ids: list[int]) -> list[Article]:
        found: list[Article] = []
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):  # SQLite caps bound parameters
                chunk = ids[start : start + 500]
                rows = conn.execute(select(articles).where(articles.c.id.in_(chunk)))
                found.extend(_to_article(row) for row in rows.mappings())
        return found

    def ungrouped(self, ids: list[int]) -> list[int]:
        """Those of the articles not yet placed in a story."""
        placed: set[int] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                placed.update(
                    conn.execute(
                        select(story_articles.c.article_id).where(
                            story_articles.c.article_id.in_(chunk)
                        )
                    ).scalars()
                )
        return [i for i in ids if i not in placed]

    def article(self, key: int | str) -> Article | None:
        """By id, URL or canonical URL."""
        query = select(articles)
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            query = query.where(articles.c.id == int(key))
        else:
            query = query.where(or_(articles.c.url == key, articles.c.canonical_url == key))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _to_article(row) if row else None

    def articles(
        self,
        since: date | None = None,
        until: date | None = None,
        site: str | None = None,
        language: str | None = None,
        limit: int | None = None,
        zone: str | None = None,
    ) -> Iterator[Article]:
        """Latest first; `since` and `until` are days where `zone` is (Europe/Paris)."""
        query = select(articles).order_by(articles.c.published.desc().nulls_last(), articles.c.id)
        if since:
            query = query.where(articles.c.published >= day_bounds(since, zone)[0])
        if until:
            query = query.where(articles.c.published < day_bounds(until, zone)[1])
        if site:
            query = query.where(func.lower(articles.c.site_name).contains(site.lower()))
        if language:
            query = query.where(articles.c.language == language)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield _to_article(row)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in (
                    sources,
                    articles,
                    ingest_log,
                    pages,
                    stories,
                    story_articles,
                    article_copies,
                )
            }

    # -- stories ---------------------------------------------------------------------

    def load_state(self, name: str) -> bytes | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(engine_state.c.data).where(engine_state.c.name == name)
            ).scalar()

    def save_state(self, name: str, data: bytes) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                engine_state.update()
                .where(engine_state.c.name == name)
                .values(data=data, updated_at=utc_now())
            )
            if updated.rowcount == 0:
                conn.execute(
                    engine_state.insert().values(name=name, data=data, updated_at=utc_now())
                )

    def story_of(self, article_id: int) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(story_articles.c.story_id).where(story_articles.c.article_id == article_id)
            ).scalar()

    def stories_of(self, article_ids: list[int]) -> dict[int, int]:
        """The story of each article placed in one."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(story_articles.c.article_id, story_articles.c.story_id).where(
                    story_articles.c.article_id.in_(article_ids)
                )
            ).all()
        return dict(rows)

    def assign(self, article_id: int, story_id: int) -> None:
        """Put an article in a story (creating the story row if new)."""
        now = utc_now()
        with self.engine.begin() as conn:
            if conn.execute(select(stories.c.id).where(stories.c.id == story_id)).scalar() is None:
                conn.execute(stories.insert().values(id=story_id, title="", updated_at=now))
            conn.execute(story_articles.delete().where(story_articles.c.article_id == article_id))
            conn.execute(
                story_articles.insert().values(
                    article_id=article_id, story_id=story_id, added_at=now
                )
            )

    def merge_stories(self, absorbed: int, kept: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                story_articles.update()
                .where(story_articles.c.story_id == absorbed)
                .values(story_id=kept)
            )
            conn.execute(
                stories.update()
                .where(stories.c.id == absorbed)
                .values(merged_into=kept, article_count=0, updated_at=utc_now())
            )
            conn.execute(
                story_related.delete().where(
                    or_(
                        story_related.c.story_id == absorbed, story_related.c.related_id == absorbed
                    )
                )
            )
            self.forget_understanding(conn, absorbed)

    def refresh_story(self, story_id: int, title: str, representative_id: int | None) -> None:
        """Recount a story's articles, sites and dates after it changed."""
        members = (
            select(articles.c.published, articles.c.first_seen, articles.c.site_name)
            .join(story_articles, story_articles.c.article_id == articles.c.id)
            .where(story_articles.c.story_id == story_id)
            .subquery()
        )
        when = func.coalesce(members.c.published, members.c.first_seen)
        with self.engine.begin() as conn:
            count, sites, first, last = conn.execute(
                select(
                    func.count(),
                    func.count(func.distinct(members.c.site_name)),
                    func.min(when),
                    func.max(when),
                )
            ).one()
            conn.execute(
                stories.update()
                .where(stories.c.id == story_id)
                .values(
                    title=title,
                    representative_id=representative_id,
                    article_count=count,
                    source_count=sites,
                    first_seen=first,
                    last_seen=last,
                    updated_at=utc_now(),
                )
            )

    def set_related(self, story_id: int, related: list[tuple[int, float]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(story_related.delete().where(story_related.c.story_id == story_id))
            for other, score in related:
                conn.execute(
                    story_related.insert().values(story_id=story_id, related_id=other, score=score)
                )

    def related(self, story_id: int) -> list[tuple[Story, float]]:
        """Stories related either way, best first."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(story_related).where(
                        or_(
                            story_related.c.story_id == story_id,
                            story_related.c.related_id == story_id,
                        )
                    )
                )
                .mappings()
                .all()
            )
        best: dict[int, float] = {}
        for row in rows:
            other = row["related_id"] if row["story_id"] == story_id else row["story_id"]
            best[other] = max(best.get(other, 0.0), row["score"])
        found = [(self.story(other), score) for other, score in best.items()]
        return sorted(
            ((s, score) for s, score in found if s and s.merged_into is None),
            key=lambda pair: -pair[1],
        )

    def story(self, story_id: int) -> Story | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(stories).where(stories.c.id == story_id)).mappings().first()
        return _to_story(row) if row else None

    def active_stories(self, start: datetime, end: datetime) -> list[Story]:
        """Live stories with activity in [start, end), latest activity first."""
        query = (
            select(stories)
            .where(stories.c.merged_into.is_(None), stories.c.article_count > 0)
            .where(stories.c.first_seen < end, stories.c.last_seen >= start)
            .order_by(stories.c.last_seen.desc(), stories.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [_to_story(row) for row in conn.execute(query).mappings()]

    def stories(
        self, day: date | None = None, limit: int | None = None, zone: str | None = None
    ) -> list[Story]:
        """Live stories, latest activity first; with `day`, those active that day (where
        `zone` is, Europe/Paris by default)."""
        query = (
            select(stories)
            .where(stories.c.merged_into.is_(None))
            .where(stories.c.article_count > 0)
            .order_by(stories.c.last_seen.desc().nulls_last(), stories.c.id.desc())
        )
        if day is not None:
            start, end = day_bounds(day, zone)
            query = query.where(stories.c.first_seen < end, stories.c.last_seen >= start)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_to_story(row) for row in conn.execute(query).mappings()]

    def story_articles(self, story_id: int) -> list[Article]:
        query = (
            select(articles)
            .join(story_articles, story_articles.c.article_id == articles.c.id)
            .where(story_articles.c.story_id == story_id)
            .order_by(articles.c.published.nulls_last(), articles.c.id)
        )
        with self.engine.connect() as conn:
            return [_to_article(row) for row in conn.execute(query).mappings()]

    def link_copy(self, copy: Copy) -> None:
        with self.engine.begin() as conn:
            conn.execute(article_copies.delete().where(article_copies.c.copy_id == copy.copy_id))
            conn.execute(
                article_copies.insert().values(
                    copy_id=copy.copy_id,
                    original_id=copy.original_id,
                    similarity=copy.similarity,
                    reason=copy.reason,
                )
            )

    def copies(self, article_ids: list[int]) -> list[Copy]:
        """Copy links touching any of the articles, as copy or as original."""
        query = select(article_copies).where(
            or_(
                article_copies.c.copy_id.in_(article_ids),
                article_copies.c.original_id.in_(article_ids),
            )
        )
        with self.engine.connect() as conn:
            return [
                Copy(r["copy_id"], r["original_id"], r["similarity"], r["reason"])
                for r in conn.execute(query).mappings()
            ]

    # -- log -------------------------------------------------------------------------

    def log(self, problem: Failure | Skip) -> None:
        # A reason may quote the bytes it could not read: shown to people, and PostgreSQL's
        # text refuses NUL.
        problem = replace(problem, reason=_CONTROL.sub("\ufffd", problem.reason))
        stage = problem.stage if isinstance(problem, Failure) else "read"
        level = "error" if isinstance(problem, Failure) else "skipped"
        now = utc_now()
        with self.engine.begin() as conn:
            key = (
                (ingest_log.c.ref == problem.ref)
                & (ingest_log.c.stage == stage)
                & (ingest_log.c.reason == problem.reason)
            )
            updated = conn.execute(
                ingest_log.update()
                .where(key)
                .values(count=ingest_log.c.count + 1, last_seen=now, source=problem.source)
            )
            if updated.rowcount == 0:
                conn.execute(
                    ingest_log.insert().values(
                        source=problem.source,
                        ref=problem.ref,
                        stage=stage,
                        level=level,
                        reason=problem.reason,
                        count=1,
                        first_seen=now,
                        last_seen=now,
                    )
                )

    def log_entries(self, level: str | None = None, limit: int = 200) -> list[LogEntry]:
        query = select(ingest_log).order_by(ingest_log.c.last_seen.desc(), ingest_log.c.id.desc())
        if level:
            query = query.where(ingest_log.c.level == level)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [
            LogEntry(
                r["source"],
                r["ref"],
                r["stage"],
                r["level"],
                r["reason"],
                r["count"],
                r["last_seen"],
            )
            for r in rows
        ]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _to_story(row: Any) -> Story:
    return Story(**{name: row[name] for name in Story.__dataclass_fields__})


def _to_source(row: Any) -> Source:
    return Source(**{name: row[name] for name in Source.__dataclass_fields__})


def _to_article(row: Any) -> Article:
    return Article(
        **{
            name: row[name]
            for name in (
                "id",
                "url",
                "canonical_url",
                "title",
                "text",
                "content_hash",
                "raw_ref",
                "source",
                "published",
                "author",
                "site_name",
                "language",
                "description",
                "published_time_known",
                "modified",
            )
        }
    )
