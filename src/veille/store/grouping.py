"""What the grouping stage keeps: the queue of articles to (re)group, its state after the
last article it placed, and checkpoints of that state at day boundaries to rewind to when
an article arrives out of order."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from veille.model import Article
from veille.store.articles import to_article
from veille.store.base import StoreBase
from veille.store.schema import (
    articles,
    cluster_checkpoints,
    engine_state,
    group_queue,
    utc_now,
)

GROUP_STATE = "group"


class GroupingStore(StoreBase):
    def load_state(self, name: str) -> bytes | None:
        with self._read() as conn:
            return conn.execute(
                select(engine_state.c.data).where(engine_state.c.name == name)
            ).scalar()

    def save_state(self, name: str, data: bytes) -> None:
        with self._write() as conn:
            updated = conn.execute(
                engine_state.update()
                .where(engine_state.c.name == name)
                .values(data=data, updated_at=utc_now())
            )
            if updated.rowcount == 0:
                conn.execute(
                    engine_state.insert().values(name=name, data=data, updated_at=utc_now())
                )

    # -- the queue -------------------------------------------------------------------------

    def queue_start(self) -> str | None:
        """The earliest point in the processing order that queued work touches."""
        with self._read() as conn:
            return conn.execute(select(func.min(group_queue.c.since))).scalar()

    def queue_end(self) -> str | None:
        """The key of the last queued article in the processing order."""
        query = select(func.max(articles.c.sort_key)).join(
            group_queue, group_queue.c.article_id == articles.c.id
        )
        with self._read() as conn:
            return conn.execute(query).scalar()

    def queued(self, limit: int) -> list[tuple[str, Article]]:
        """The next queued articles in processing order, with their keys."""
        query = (
            select(articles)
            .join(group_queue, group_queue.c.article_id == articles.c.id)
            .order_by(articles.c.sort_key)
            .limit(limit)
        )
        with self._read() as conn:
            return [(row["sort_key"], to_article(row)) for row in conn.execute(query).mappings()]

    def keep_vectors(self, rows: list[tuple[int, str, bytes]]) -> None:
        """(article id, vector key, vector) for queued articles, for their grouping."""
        with self._write() as conn:
            for article_id, key, vector in rows:
                conn.execute(
                    group_queue.update()
                    .where(group_queue.c.article_id == article_id)
                    .values(vector_key=key, vector=vector)
                )

    def queued_vectors(self, article_ids: list[int]) -> dict[int, tuple[str, bytes]]:
        """The vectors kept for these queued articles: (vector key, vector) by article."""
        found: dict[int, tuple[str, bytes]] = {}
        with self._read() as conn:
            for start in range(0, len(article_ids), 500):
                query = select(
                    group_queue.c.article_id, group_queue.c.vector_key, group_queue.c.vector
                ).where(
                    group_queue.c.article_id.in_(article_ids[start : start + 500]),
                    group_queue.c.vector.is_not(None),
                )
                found.update((row[0], (row[1], row[2])) for row in conn.execute(query))
        return found

    def dequeue(self, article_ids: list[int]) -> None:
        with self._write() as conn:
            for start in range(0, len(article_ids), 500):
                chunk = article_ids[start : start + 500]
                conn.execute(group_queue.delete().where(group_queue.c.article_id.in_(chunk)))

    def queue_size(self) -> int:
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(group_queue)).scalar() or 0

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoint(self, day: str) -> tuple[str, bytes] | None:
        """The latest checkpoint taken at the start of `day` or before."""
        query = (
            select(cluster_checkpoints.c.day, cluster_checkpoints.c.data)
            .where(cluster_checkpoints.c.day <= day)
            .order_by(cluster_checkpoints.c.day.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return (row[0], row[1]) if row else None

    def save_checkpoint(self, day: str, data: bytes) -> None:
        """The state at the start of `day` (every article before it placed and settled);
        older checkpoints are thinned out as time passes."""
        with self._write() as conn:
            conn.execute(cluster_checkpoints.delete().where(cluster_checkpoints.c.day == day))
            conn.execute(
                cluster_checkpoints.insert().values(day=day, data=data, created_at=utc_now())
            )
            days = list(conn.execute(select(cluster_checkpoints.c.day)).scalars())
            drop = thin(days, day)
            if drop:
                conn.execute(
                    cluster_checkpoints.delete().where(cluster_checkpoints.c.day.in_(drop))
                )

    def rewind(self, day: str | None) -> None:
        """Requeue every article from the start of `day` on (all of them when None) and drop
        the checkpoints after it: they are built again, in order."""
        with self._write() as conn:
            selected = select(articles.c.id, articles.c.sort_key).where(
                ~articles.c.id.in_(select(group_queue.c.article_id))
            )
            if day is not None:
                selected = selected.where(articles.c.sort_key >= day)
                conn.execute(cluster_checkpoints.delete().where(cluster_checkpoints.c.day > day))
            else:
                conn.execute(cluster_checkpoints.delete())
            rows = [{"article_id": i, "since": key} for i, key in conn.execute(selected).all()]
            for start in range(0, len(rows), 1000):
                conn.execute(group_queue.insert(), rows[start : start + 1000])


def thin(days: list[str], newest: str) -> list[str]:
    """Checkpoints to drop: every day of the last four weeks is kept, then the first of
    each week for a year, then the first of each month. A rewind to an older day starts
    from the checkpoint before it, so this bounds storage, not correctness."""
    end = date.fromisoformat(newest)
    keep: set[str] = set()
    weeks: dict[tuple[int, int], str] = {}
    months: dict[tuple[int, int], str] = {}
    for day in sorted(days):
        when = date.fromisoformat(day)
        if when > end - timedelta(days=28):
            keep.add(day)
        elif when > end - timedelta(days=365):
            weeks.setdefault(tuple(when.isocalendar())[:2], day)
        else:
            months.setdefault((when.year, when.month), day)
    keep.update(weeks.values(), months.values())
    return [d for d in days if d not in keep]
