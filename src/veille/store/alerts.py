"""What the store keeps of alerts: one row per watch, story and threshold crossed, and when
the articles of a story were first seen (the clock alerts run on when a page gives no
time of publication)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from veille.store.base import StoreBase
from veille.store.schema import alerts, articles, utc_now


@dataclass(frozen=True)
class AlertRecord:
    id: int
    watch_id: int
    story_id: int
    kind: str  # instant, breaking
    crossed_at: datetime
    details: dict[str, Any]
    status: str  # due, sent, expired
    document: dict[str, Any] | None  # the alert as sent (JSON)
    created_at: datetime
    sent_at: datetime | None


class AlertStore(StoreBase):
    def record_alert(
        self,
        watch_id: int,
        story_id: int,
        kind: str,
        crossed_at: datetime,
        details: dict[str, Any],
    ) -> bool:
        """Note that the story crossed a threshold for the watch, as due; False when it had
        already (once per watch, story and threshold, whoever writes first)."""
        try:
            with self._write() as conn:
                found = conn.execute(
                    select(alerts.c.id).where(
                        alerts.c.watch_id == watch_id,
                        alerts.c.story_id == story_id,
                        alerts.c.kind == kind,
                    )
                ).first()
                if found is not None:
                    return False
                conn.execute(
                    alerts.insert().values(
                        watch_id=watch_id,
                        story_id=story_id,
                        kind=kind,
                        crossed_at=crossed_at,
                        details=json.dumps(details),
                        status="due",
                        created_at=utc_now(),
                    )
                )
        except IntegrityError:
            return False  # another writer recorded it between the look and the insert
        return True

    def alerts(
        self,
        watch_id: int | None = None,
        status: str | None = None,
        story_ids: list[int] | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[AlertRecord]:
        """Alerts, the latest crossed first."""
        query = select(alerts).order_by(alerts.c.crossed_at.desc(), alerts.c.id.desc())
        if watch_id is not None:
            query = query.where(alerts.c.watch_id == watch_id)
        if status is not None:
            query = query.where(alerts.c.status == status)
        if story_ids is not None:
            query = query.where(alerts.c.story_id.in_(story_ids))
        if kind is not None:
            query = query.where(alerts.c.kind == kind)
        if limit:
            query = query.limit(limit)
        with self._read() as conn:
            return [_to_alert(r) for r in conn.execute(query).mappings()]

    def finish_alert(
        self, alert_id: int, status: str, document: dict[str, Any] | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status}
        if status == "sent":
            values["sent_at"] = utc_now()
        if document is not None:
            values["document"] = json.dumps(document, ensure_ascii=False)
        with self._write() as conn:
            conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**values))

    def alerts_sent_since(self, watch_id: int, since: datetime) -> int:
        with self._read() as conn:
            return conn.execute(
                select(func.count()).where(
                    alerts.c.watch_id == watch_id,
                    alerts.c.status == "sent",
                    alerts.c.sent_at >= since,
                )
            ).scalar_one()

    def first_seen(self, article_ids: list[int]) -> dict[int, datetime]:
        """When each article was first stored."""
        found: dict[int, datetime] = {}
        with self._read() as conn:
            for start in range(0, len(article_ids), 500):
                chunk = article_ids[start : start + 500]
                rows = conn.execute(
                    select(articles.c.id, articles.c.first_seen).where(articles.c.id.in_(chunk))
                )
                found.update(dict(rows.all()))
        return found


def _to_alert(row: Any) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        watch_id=row["watch_id"],
        story_id=row["story_id"],
        kind=row["kind"],
        crossed_at=row["crossed_at"],
        details=json.loads(row["details"]),
        status=row["status"],
        document=json.loads(row["document"]) if row["document"] else None,
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )
