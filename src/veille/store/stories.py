"""Stories: their articles, copies, related stories; and the grouping stage's writes, one
chunk of work at a time."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from veille.model import Article, Copy, Story
from veille.store.articles import to_article
from veille.store.base import StoreBase
from veille.store.schema import (
    article_copies,
    articles,
    stories,
    story_articles,
    story_related,
    utc_now,
)
from veille.when import day_bounds


@dataclass(frozen=True)
class StoryView:
    """What grouping knows of a story it changed: its most representative article and the
    stories related to it."""

    representative: int
    related: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Grouping:
    """One chunk of the grouping stage's work, written in one transaction.

    Every article of `placed` is put in its story (all the articles of every story that
    changed: a story merged away is left empty, and marked merged into the story most of
    its articles went to). `copies` replace the copy links of the articles in `recopied`
    and of their own copies."""

    placed: dict[int, int]
    recopied: tuple[int, ...] = ()
    copies: tuple[Copy, ...] = ()
    views: dict[int, StoryView] | None = None


class StoryStore(StoreBase):
    # -- grouping's writes -----------------------------------------------------------------

    def apply_grouping(self, work: Grouping) -> set[int]:
        """Write one chunk of grouping; returns the live stories it changed. A story left
        without articles is marked as merged into the story most of them went to."""
        with self._write() as conn:
            went: dict[int, Counter[int]] = defaultdict(Counter)
            before = _stories_of(conn, list(work.placed))
            now = utc_now()
            inserts = []
            for article_id, story_id in work.placed.items():
                old = before.get(article_id)
                if old == story_id:
                    continue
                if old is None:
                    inserts.append(
                        {"article_id": article_id, "story_id": story_id, "added_at": now}
                    )
                else:
                    conn.execute(
                        story_articles.update()
                        .where(story_articles.c.article_id == article_id)
                        .values(story_id=story_id)
                    )
                    went[old][story_id] += 1
            if inserts:
                conn.execute(story_articles.insert(), inserts)
            if work.recopied:
                for chunk in _chunks(list(work.recopied)):
                    conn.execute(article_copies.delete().where(article_copies.c.copy_id.in_(chunk)))
            links = {c.copy_id: c for c in work.copies}
            if links:
                for chunk in _chunks(list(links)):
                    conn.execute(article_copies.delete().where(article_copies.c.copy_id.in_(chunk)))
                conn.execute(
                    article_copies.insert(),
                    [
                        {
                            "copy_id": c.copy_id,
                            "original_id": c.original_id,
                            "similarity": c.similarity,
                            "reason": c.reason,
                        }
                        for c in links.values()
                    ],
                )
            touched = set(work.placed.values()) | set(went) | set(work.views or {})
            touched |= {k for c in went.values() for k in c}
            return self._refresh(conn, touched, went, work.views or {})

    def _refresh(
        self,
        conn: Connection,
        story_ids: Iterable[int],
        went: dict[int, Counter[int]],
        views: dict[int, StoryView],
    ) -> set[int]:
        live: set[int] = set()
        now = utc_now()
        for story_id in sorted(story_ids):
            members = (
                select(
                    articles.c.id,
                    articles.c.title,
                    articles.c.published,
                    articles.c.first_seen,
                    articles.c.site_name,
                )
                .join(story_articles, story_articles.c.article_id == articles.c.id)
                .where(story_articles.c.story_id == story_id)
                .subquery()
            )
            when = func.coalesce(members.c.published, members.c.first_seen)
            count, sites, first, last, earliest = conn.execute(
                select(
                    func.count(),
                    func.count(func.distinct(members.c.site_name)),
                    func.min(when),
                    func.max(when),
                    func.min(members.c.id),
                )
            ).one()
            exists = conn.execute(select(stories.c.id).where(stories.c.id == story_id)).first()
            if not exists:
                if not count:
                    continue
                conn.execute(stories.insert().values(id=story_id, title="", updated_at=now))
            view = views.get(story_id)
            if not count:
                conn.execute(
                    story_related.delete().where(
                        or_(
                            story_related.c.story_id == story_id,
                            story_related.c.related_id == story_id,
                        )
                    )
                )
                into = went.get(story_id, Counter()).most_common(1)
                conn.execute(
                    stories.update()
                    .where(stories.c.id == story_id)
                    .values(
                        merged_into=into[0][0] if into else None,
                        article_count=0,
                        source_count=0,
                        pending_brief=False,
                        updated_at=now,
                    )
                )
                self.forget_understanding(conn, story_id)  # type: ignore[attr-defined]
                continue
            representative = view.representative if view else None
            title = None
            if representative is not None:
                title = conn.execute(
                    select(members.c.title).where(members.c.id == representative)
                ).scalar()
            if title is None:  # not told, or no longer a member: the earliest article
                representative = earliest
                title = conn.execute(
                    select(articles.c.title).where(articles.c.id == earliest)
                ).scalar()
            conn.execute(
                stories.update()
                .where(stories.c.id == story_id)
                .values(
                    title=title or "",
                    representative_id=representative,
                    article_count=count,
                    source_count=sites,
                    first_seen=first,
                    last_seen=last,
                    merged_into=None,
                    pending_brief=True,
                    updated_at=now,
                )
            )
            if view is not None:  # what grouping saw replaces what it saw before
                conn.execute(story_related.delete().where(story_related.c.story_id == story_id))
            if view and view.related:
                conn.execute(
                    story_related.insert(),
                    [
                        {"story_id": story_id, "related_id": other, "score": score}
                        for other, score in view.related
                    ],
                )
            live.add(story_id)
        return live

    # -- reads -----------------------------------------------------------------------------

    def story_of(self, article_id: int) -> int | None:
        with self._read() as conn:
            return conn.execute(
                select(story_articles.c.story_id).where(story_articles.c.article_id == article_id)
            ).scalar()

    def stories_of(self, article_ids: list[int]) -> dict[int, int]:
        """The story of each article placed in one."""
        with self._read() as conn:
            return _stories_of(conn, article_ids)

    def related(self, story_id: int) -> list[tuple[Story, float]]:
        """Stories related either way, best first."""
        with self._read() as conn:
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
            ((s, score) for s, score in found if s and s.merged_into is None and s.article_count),
            key=lambda pair: -pair[1],
        )

    def story(self, story_id: int) -> Story | None:
        with self._read() as conn:
            row = conn.execute(select(stories).where(stories.c.id == story_id)).mappings().first()
        return to_story(row) if row else None

    def active_stories(self, start: datetime, end: datetime) -> list[Story]:
        """Live stories with activity in [start, end), latest activity first."""
        query = (
            select(stories)
            .where(stories.c.merged_into.is_(None), stories.c.article_count > 0)
            .where(stories.c.first_seen < end, stories.c.last_seen >= start)
            .order_by(stories.c.last_seen.desc(), stories.c.id.desc())
        )
        with self._read() as conn:
            return [to_story(row) for row in conn.execute(query).mappings()]

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
        with self._read() as conn:
            return [to_story(row) for row in conn.execute(query).mappings()]

    def story_articles(self, story_id: int) -> list[Article]:
        query = (
            select(articles)
            .join(story_articles, story_articles.c.article_id == articles.c.id)
            .where(story_articles.c.story_id == story_id)
            .order_by(articles.c.published.nulls_last(), articles.c.id)
        )
        with self._read() as conn:
            return [to_article(row) for row in conn.execute(query).mappings()]

    def copies(self, article_ids: list[int]) -> list[Copy]:
        """Copy links touching any of the articles, as copy or as original."""
        found: list[Copy] = []
        with self._read() as conn:
            for chunk in _chunks(article_ids):
                query = select(article_copies).where(
                    or_(
                        article_copies.c.copy_id.in_(chunk),
                        article_copies.c.original_id.in_(chunk),
                    )
                )
                found.extend(
                    Copy(r["copy_id"], r["original_id"], r["similarity"], r["reason"])
                    for r in conn.execute(query).mappings()
                )
        return list(dict.fromkeys(found))


def _stories_of(conn: Connection, article_ids: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks(article_ids):
        rows = conn.execute(
            select(story_articles.c.article_id, story_articles.c.story_id).where(
                story_articles.c.article_id.in_(chunk)
            )
        ).all()
        found.update(dict(rows))
    return found


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def to_story(row: Any) -> Story:
    return Story(**{name: row[name] for name in Story.__dataclass_fields__})
