"""Stories: their articles, copies, related stories; and the grouping stage's writes, one
chunk of work at a time."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

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
        """Recount the stories, in a few statements whatever their number."""
        ids = sorted(set(story_ids))
        when = func.coalesce(articles.c.published, articles.c.first_seen)
        counted: dict[int, tuple[Any, ...]] = {}
        existing: set[int] = set()
        for chunk in _chunks(ids):
            rows = conn.execute(
                select(
                    story_articles.c.story_id,
                    func.count(),
                    func.count(func.distinct(articles.c.site_name)),
                    func.min(when),
                    func.max(when),
                    func.min(articles.c.id),
                )
                .join(articles, articles.c.id == story_articles.c.article_id)
                .where(story_articles.c.story_id.in_(chunk))
                .group_by(story_articles.c.story_id)
            ).all()
            counted.update((row[0], tuple(row[1:])) for row in rows)
            existing.update(
                conn.execute(select(stories.c.id).where(stories.c.id.in_(chunk))).scalars()
            )
        live = [sid for sid in ids if sid in counted]
        dead = [sid for sid in ids if sid not in counted and sid in existing]
        # The representative grouping chose, if it is still a member; else the earliest.
        wanted = {sid: views[sid].representative for sid in live if sid in views}
        placed = _stories_of(conn, list(wanted.values()))
        representative = {
            sid: rep if placed.get(rep) == sid else counted[sid][4] for sid, rep in wanted.items()
        }
        for sid in live:
            representative.setdefault(sid, counted[sid][4])
        titles: dict[int, str] = {}
        for chunk in _chunks(sorted(set(representative.values()))):
            titles.update(
                conn.execute(
                    select(articles.c.id, articles.c.title).where(articles.c.id.in_(chunk))
                ).all()
            )
        for sid in live:
            if not titles.get(representative[sid]):
                titles[representative[sid]] = _untitled(conn, sid, representative[sid])
        now = utc_now()
        new = [{"id": sid, "title": "", "updated_at": now} for sid in live if sid not in existing]
        if new:
            conn.execute(stories.insert(), new)
        if live:
            conn.execute(
                stories.update()
                .where(stories.c.id == bindparam("b_id"))
                .values(
                    title=bindparam("b_title"),
                    representative_id=bindparam("b_rep"),
                    article_count=bindparam("b_count"),
                    source_count=bindparam("b_sites"),
                    first_seen=bindparam("b_first"),
                    last_seen=bindparam("b_last"),
                    merged_into=None,
                    pending_brief=True,
                    updated_at=now,
                ),
                [
                    {
                        "b_id": sid,
                        "b_title": titles.get(representative[sid]) or "",
                        "b_rep": representative[sid],
                        "b_count": counted[sid][0],
                        "b_sites": counted[sid][1],
                        "b_first": counted[sid][2],
                        "b_last": counted[sid][3],
                    }
                    for sid in live
                ],
            )
        # What grouping saw of a story's related stories replaces what it saw before.
        seen = [sid for sid in live if sid in views]
        for chunk in _chunks(seen):
            conn.execute(story_related.delete().where(story_related.c.story_id.in_(chunk)))
        related = [
            {"story_id": sid, "related_id": other, "score": score}
            for sid in seen
            for other, score in views[sid].related
        ]
        if related:
            conn.execute(story_related.insert(), related)
        for sid in dead:
            into = went.get(sid, Counter()).most_common(1)
            conn.execute(
                stories.update()
                .where(stories.c.id == sid)
                .values(
                    merged_into=into[0][0] if into else None,
                    article_count=0,
                    source_count=0,
                    pending_brief=False,
                    updated_at=now,
                )
            )
            conn.execute(
                story_related.delete().where(
                    or_(story_related.c.story_id == sid, story_related.c.related_id == sid)
                )
            )
            self.forget_understanding(conn, sid)  # type: ignore[attr-defined]
        return set(live)

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

    def story_outlets(
        self, story_ids: list[int]
    ) -> dict[int, list[tuple[str | None, str, datetime | None, bool]]]:
        """For each story, its articles' (site name, URL, publication time, whether its time
        of day is known) in the order of `story_articles`, in one query for all: a page of
        story cards needs no text."""
        found: dict[int, list[tuple[str | None, str, datetime | None, bool]]] = defaultdict(list)
        with self._read() as conn:
            for chunk in _chunks(story_ids):
                rows = conn.execute(
                    select(
                        story_articles.c.story_id,
                        articles.c.site_name,
                        articles.c.url,
                        articles.c.published,
                        articles.c.published_time_known,
                    )
                    .join(story_articles, story_articles.c.article_id == articles.c.id)
                    .where(story_articles.c.story_id.in_(chunk))
                    .order_by(articles.c.published.nulls_last(), articles.c.id)
                )
                for story_id, site, url, published, known in rows:
                    found[story_id].append((site, url, published, known))
        return found

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


def _untitled(conn: Connection, story_id: int, representative: int) -> str:
    """A title for a story whose representative article has none: another member's, else
    the representative's first words."""
    other = conn.execute(
        select(articles.c.title)
        .join(story_articles, story_articles.c.article_id == articles.c.id)
        .where(story_articles.c.story_id == story_id, articles.c.title != "")
        .order_by(articles.c.id)
        .limit(1)
    ).scalar()
    if other:
        return other
    text = conn.execute(select(articles.c.text).where(articles.c.id == representative)).scalar()
    words = (text or "").split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")


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
