"""Each reader's reading state: stories seen and starred, and when their visits began, so
the home page can say what is new since the last one. A reader is a user's name, or ""
on loopback where nobody logs in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table, false, select

from veille.store.base import StoreBase
from veille.store.schema import metadata, stories, utc_now

readers = Table(
    "readers",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("visit_at", DateTime, nullable=False),  # when the current visit began
    Column("previous_visit_at", DateTime),  # when the one before ended
    Column("seen_at", DateTime, nullable=False),  # the last page asked
)

story_reads = Table(
    "story_reads",
    metadata,
    Column("reader", String(200), primary_key=True),
    Column("story_id", Integer, primary_key=True),
    Column("seen", Boolean, nullable=False, server_default=false()),
    Column("starred", Boolean, nullable=False, server_default=false()),
    Column("updated_at", DateTime, nullable=False),
)

# Pages asked closer together than this are one visit.
VISIT_GAP = timedelta(minutes=30)
# The last page asked is written down at most this often: not one write per page.
_SEEN_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class ReadState:
    story_id: int
    seen: bool = False
    starred: bool = False


class ReadingStore(StoreBase):
    def visit(self, reader: str, now: datetime | None = None) -> datetime | None:
        """Record a page asked by the reader; returns when their previous visit ended
        (None on their first)."""
        now = now or utc_now()
        with self._write() as conn:
            row = conn.execute(select(readers).where(readers.c.name == reader)).mappings().first()
            if row is None:
                conn.execute(readers.insert().values(name=reader, visit_at=now, seen_at=now))
                return None
            values: dict = {"seen_at": now}
            previous = row["previous_visit_at"]
            if now - row["seen_at"] < _SEEN_PRECISION:
                return previous
            if now - row["seen_at"] > VISIT_GAP:
                values |= {"visit_at": now, "previous_visit_at": row["seen_at"]}
                previous = row["seen_at"]
            conn.execute(readers.update().where(readers.c.name == reader).values(**values))
        return previous

    def changed_since(self, story_ids: Iterable[int], since: datetime) -> set[int]:
        """Those of the stories that veille created or changed after `since`."""
        ids = list(story_ids)
        found: set[int] = set()
        with self._read() as conn:
            for start in range(0, len(ids), 500):
                found.update(
                    conn.execute(
                        select(stories.c.id).where(
                            stories.c.id.in_(ids[start : start + 500]),
                            stories.c.updated_at > since,
                        )
                    ).scalars()
                )
        return found

    def read_states(self, reader: str, story_ids: Iterable[int]) -> dict[int, ReadState]:
        ids = list(story_ids)
        states: dict[int, ReadState] = {}
        with self._read() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    select(story_reads).where(
                        story_reads.c.reader == reader,
                        story_reads.c.story_id.in_(ids[start : start + 500]),
                    )
                ).mappings()
                for row in rows:
                    states[row["story_id"]] = ReadState(
                        row["story_id"], row["seen"], row["starred"]
                    )
        return {i: states.get(i, ReadState(i)) for i in ids}

    def mark_read(
        self,
        reader: str,
        story_ids: Iterable[int],
        seen: bool | None = None,
        starred: bool | None = None,
    ) -> None:
        """Set what is given (seen, starred) for each story; the rest is kept."""
        changes = {k: v for k, v in (("seen", seen), ("starred", starred)) if v is not None}
        now = utc_now()
        with self._write() as conn:
            for story_id in dict.fromkeys(story_ids):
                key = (story_reads.c.reader == reader) & (story_reads.c.story_id == story_id)
                done = conn.execute(
                    story_reads.update().where(key).values(updated_at=now, **changes)
                )
                if done.rowcount == 0:
                    conn.execute(
                        story_reads.insert().values(
                            reader=reader,
                            story_id=story_id,
                            seen=bool(seen),
                            starred=bool(starred),
                            updated_at=now,
                        )
                    )

    def starred(self, reader: str) -> list[int]:
        """The reader's starred stories, latest starred first."""
        query = (
            select(story_reads.c.story_id)
            .where(story_reads.c.reader == reader, story_reads.c.starred.is_(True))
            .order_by(story_reads.c.updated_at.desc(), story_reads.c.story_id.desc())
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def forget_reader(self, reader: str) -> None:
        with self._write() as conn:
            conn.execute(story_reads.delete().where(story_reads.c.reader == reader))
            conn.execute(readers.delete().where(readers.c.name == reader))
