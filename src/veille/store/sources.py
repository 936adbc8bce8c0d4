"""Sources: feeds, sitemaps and folders followed, with their poll state and health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from veille.model import Source
from veille.store.base import StoreBase
from veille.store.schema import sources, utc_now


class SourceStore(StoreBase):
    def ensure_source(self, source: Source) -> int:
        """The id of the source at `source.location`, added if new."""
        return self.add_source(source)[0].id  # type: ignore[return-value]

    def add_source(self, source: Source) -> tuple[Source, bool]:
        """Add a source; an existing one at the same location is returned unchanged."""
        with self._write() as conn:
            existing = self.source(source.location)
            if existing is not None:
                return existing, False
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
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        return _to_source(row) if row else None

    def sources(self) -> list[Source]:
        """Failing sources first, then by name."""
        query = select(sources).order_by(sources.c.failures.desc(), sources.c.name)
        with self._read() as conn:
            return [_to_source(row) for row in conn.execute(query).mappings()]

    def remove_source(self, key: int | str) -> Source | None:
        with self._write() as conn:
            found = self.source(key)
            if found is not None:
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
        with self._read() as conn:
            return [_to_source(row) for row in conn.execute(query).mappings()]

    def update_source(self, source_id: int, **values: Any) -> None:
        with self._write() as conn:
            conn.execute(sources.update().where(sources.c.id == source_id).values(**values))


def _to_source(row: Any) -> Source:
    return Source(**{name: row[name] for name in Source.__dataclass_fields__})
