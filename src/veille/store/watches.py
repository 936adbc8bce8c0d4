"""What the store keeps of watches: the watches, the stories their digests carried, and
each delivery's state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from veille.model import Watch
from veille.store.base import StoreBase
from veille.store.schema import alerts, deliveries, digest_entries, utc_now, watches


@dataclass(frozen=True)
class Delivery:
    id: int
    watch_id: int
    digest_key: str
    target: str
    status: str  # pending, sent, failed
    attempts: int
    error: str | None
    payload: bytes | None
    updated_at: datetime


@dataclass(frozen=True)
class Carried:
    """A story as the last digest of a watch carried it."""

    story_id: int
    digest_key: str
    sources: int
    articles: int
    sent_at: datetime


class WatchStore(StoreBase):
    def save_watch(self, watch: Watch) -> tuple[Watch, bool]:
        """Add the watch, or update the one of that name; returns it and whether it is new."""
        now = utc_now()
        values = {
            "query": watch.query,
            "languages": json.dumps(list(watch.languages)),
            "sites": json.dumps(list(watch.sites)),
            "schedule": watch.schedule,
            "targets": json.dumps(list(watch.targets)),
            "updated_at": now,
            "alerts": json.dumps(list(watch.alerts)),
            "quiet_hours": watch.quiet_hours,
            "max_alerts": watch.max_alerts,
            "relevance_floor": watch.relevance_floor,
        }
        with self._write() as conn:
            row = conn.execute(
                select(watches.c.id, watches.c.alerts, watches.c.alerts_since).where(
                    watches.c.name == watch.name
                )
            ).first()
            found = row.id if row else None
            # Alerts are for what happens after they were asked for: a watch switching them
            # on does not alert on the stories it already knew.
            had = bool(json.loads(row.alerts)) if row else False
            if watch.alerts and not had:
                values["alerts_since"] = now
            elif not watch.alerts:
                values["alerts_since"] = None
            if found is None:
                conn.execute(watches.insert().values(name=watch.name, created_at=now, **values))
            else:
                conn.execute(watches.update().where(watches.c.id == found).values(**values))
        saved = self.watch(watch.name)
        assert saved is not None
        return saved, found is None

    def watch(self, key: int | str) -> Watch | None:
        # ASCII digits are an id ("¹" passes isdigit() and is no number int() reads); an id
        # beyond SQLite's integers names nothing.
        numeric = isinstance(key, int) or (str(key).isascii() and str(key).isdigit())
        column = watches.c.id if numeric else watches.c.name
        value = int(key) if numeric else key
        if numeric and not 0 < int(key) < 2**63:
            return None
        with self._read() as conn:
            row = conn.execute(select(watches).where(column == value)).mappings().first()
        return _to_watch(row) if row else None

    def watches(self) -> list[Watch]:
        with self._read() as conn:
            rows = conn.execute(select(watches).order_by(watches.c.name)).mappings().all()
        return [_to_watch(r) for r in rows]

    def remove_watch(self, key: int | str) -> Watch | None:
        watch = self.watch(key)
        if watch is None:
            return None
        with self._write() as conn:
            conn.execute(watches.delete().where(watches.c.id == watch.id))
            conn.execute(digest_entries.delete().where(digest_entries.c.watch_id == watch.id))
            conn.execute(deliveries.delete().where(deliveries.c.watch_id == watch.id))
            conn.execute(alerts.delete().where(alerts.c.watch_id == watch.id))
        return watch

    # -- what digests carried --------------------------------------------------------------

    def carried(self, watch_id: int, story_ids: list[int]) -> dict[int, Carried]:
        with self._read() as conn:
            rows = conn.execute(
                select(digest_entries).where(
                    digest_entries.c.watch_id == watch_id,
                    digest_entries.c.story_id.in_(story_ids),
                )
            ).mappings()
            return {
                r["story_id"]: Carried(
                    r["story_id"], r["digest_key"], r["sources"], r["articles"], r["sent_at"]
                )
                for r in rows
            }

    def mark_carried(
        self, watch_id: int, digest_key: str, stories: list[tuple[int, int, int]]
    ) -> None:
        """(story, sources, articles) that the digest `digest_key` carried."""
        now = utc_now()
        with self._write() as conn:
            for story_id, sources, articles in stories:
                conn.execute(
                    digest_entries.delete().where(
                        digest_entries.c.watch_id == watch_id,
                        digest_entries.c.story_id == story_id,
                    )
                )
                conn.execute(
                    digest_entries.insert().values(
                        watch_id=watch_id,
                        story_id=story_id,
                        digest_key=digest_key,
                        sources=sources,
                        articles=articles,
                        sent_at=now,
                    )
                )

    # -- deliveries ------------------------------------------------------------------------

    def delivery(self, watch_id: int, digest_key: str, target: str) -> Delivery | None:
        with self._read() as conn:
            row = (
                conn.execute(
                    select(deliveries).where(
                        deliveries.c.watch_id == watch_id,
                        deliveries.c.digest_key == digest_key,
                        deliveries.c.target == target,
                    )
                )
                .mappings()
                .first()
            )
        return _to_delivery(row) if row else None

    def begin_delivery(
        self, watch_id: int, digest_key: str, target: str, payload: bytes
    ) -> Delivery:
        """The delivery of this digest to this target, recorded as pending with what will
        be sent, unless it exists already (then it is returned as it is)."""
        found = self.delivery(watch_id, digest_key, target)
        if found is not None:
            return found
        now = utc_now()
        with self._write() as conn:
            conn.execute(
                deliveries.insert().values(
                    watch_id=watch_id,
                    digest_key=digest_key,
                    target=target,
                    status="pending",
                    attempts=0,
                    payload=payload,
                    created_at=now,
                    updated_at=now,
                )
            )
        found = self.delivery(watch_id, digest_key, target)
        assert found is not None
        return found

    def finish_delivery(
        self, delivery_id: int, status: str, attempts: int, error: str | None
    ) -> None:
        with self._write() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(status=status, attempts=attempts, error=error, updated_at=utc_now())
            )

    def deliveries(
        self, watch_id: int | None = None, status: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        query = select(deliveries).order_by(deliveries.c.updated_at.desc(), deliveries.c.id.desc())
        if watch_id is not None:
            query = query.where(deliveries.c.watch_id == watch_id)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        with self._read() as conn:
            return [_to_delivery(r) for r in conn.execute(query.limit(limit)).mappings()]


def _to_watch(row: Any) -> Watch:
    return Watch(
        name=row["name"],
        query=row["query"],
        languages=tuple(json.loads(row["languages"])),
        sites=tuple(json.loads(row["sites"])),
        schedule=row["schedule"],
        targets=tuple(json.loads(row["targets"])),
        id=row["id"],
        alerts=tuple(json.loads(row["alerts"] or "[]")),
        quiet_hours=row["quiet_hours"],
        max_alerts=row["max_alerts"],
        relevance_floor=row["relevance_floor"],
        alerts_since=row["alerts_since"],
    )


def _to_delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        watch_id=row["watch_id"],
        digest_key=row["digest_key"],
        target=row["target"],
        status=row["status"],
        attempts=row["attempts"],
        error=row["error"],
        payload=row["payload"],
        updated_at=row["updated_at"],
    )
