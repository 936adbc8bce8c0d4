"""The log of problems: one row per distinct (input, stage, reason), counted."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from veille.model import Failure, Skip
from veille.store.base import StoreBase
from veille.store.schema import ingest_log, utc_now

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class LogEntry:
    source: str
    ref: str
    stage: str
    level: str
    reason: str
    count: int
    last_seen: datetime


class LogStore(StoreBase):
    def log(self, problem: Failure | Skip) -> None:
        # A reason may quote the bytes it could not read: shown to people, and PostgreSQL's
        # text refuses NUL.
        problem = replace(problem, reason=_CONTROL.sub("\ufffd", problem.reason))
        stage = problem.stage if isinstance(problem, Failure) else "read"
        level = "error" if isinstance(problem, Failure) else "skipped"
        now = utc_now()
        with self._write() as conn:
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
        with self._read() as conn:
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
