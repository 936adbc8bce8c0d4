"""What the store keeps of understood stories: mentions per article, entities across
stories, each story's brief (summary, key facts, disagreements)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select

from veille.enrich.entities import Mention
from veille.model import (
    BriefDisagreement,
    BriefFact,
    BriefNote,
    BriefQuote,
    BriefSentence,
    EntityRecord,
    EntityUpdate,
    SourceRef,
    Story,
    StoryBrief,
    StoryEntity,
)
from veille.store.base import StoreBase
from veille.store.schema import (
    article_mentions,
    entities,
    entity_keys,
    stories,
    story_briefs,
    story_entities,
    utc_now,
)


class UnderstandingStore(StoreBase):
    # -- mentions --------------------------------------------------------------------------

    def mentions(self, article_ids: list[int]) -> dict[int, tuple[str, list[Mention], str | None]]:
        """Stored mentions by article: (hash of the text read, mentions, reason skipped)."""
        found: dict[int, tuple[str, list[Mention], str | None]] = {}
        with self._read() as conn:
            for chunk in _chunks(article_ids):
                query = select(article_mentions).where(article_mentions.c.article_id.in_(chunk))
                for row in conn.execute(query).mappings():
                    found[row["article_id"]] = (
                        row["content_hash"],
                        [Mention(**m) for m in json.loads(row["mentions"])],
                        row["skipped"],
                    )
        return found

    def save_mentions(self, rows: list[tuple[int, str, list[Mention], str | None]]) -> None:
        """(article id, hash of the text read, mentions, reason skipped) for each article."""
        now = utc_now()
        with self._write() as conn:
            for article_id, content_hash, found, skipped in rows:
                conn.execute(
                    article_mentions.delete().where(article_mentions.c.article_id == article_id)
                )
                conn.execute(
                    article_mentions.insert().values(
                        article_id=article_id,
                        content_hash=content_hash,
                        mentions=json.dumps([asdict(m) for m in found], ensure_ascii=False),
                        skipped=skipped,
                        created_at=now,
                    )
                )

    # -- briefs -----------------------------------------------------------------------------

    def brief_signature(self, story_id: int) -> str | None:
        with self._read() as conn:
            return conn.execute(
                select(story_briefs.c.signature).where(story_briefs.c.story_id == story_id)
            ).scalar()

    def save_brief(self, brief: StoryBrief, signature: str, version: int) -> None:
        data = asdict(brief)
        for key in ("story_id", "entities", "updated_at"):
            data.pop(key)
        with self._write() as conn:
            conn.execute(story_briefs.delete().where(story_briefs.c.story_id == brief.story_id))
            conn.execute(
                story_briefs.insert().values(
                    story_id=brief.story_id,
                    signature=signature,
                    version=version,
                    data=json.dumps(data, ensure_ascii=False),
                    updated_at=utc_now(),
                )
            )

    def brief_done(self, story_id: int) -> None:
        """The story's brief is up to date with its articles (written with the brief, or
        alone when its articles did not change)."""
        with self._write() as conn:
            conn.execute(
                stories.update().where(stories.c.id == story_id).values(pending_brief=False)
            )

    def summaries(self, story_ids: list[int], sentences: int = 2) -> dict[int, str]:
        """The first sentences of each story's summary, in one query for all."""
        found: dict[int, str] = {}
        with self._read() as conn:
            for chunk in _chunks(story_ids):
                rows = conn.execute(
                    select(story_briefs.c.story_id, story_briefs.c.data).where(
                        story_briefs.c.story_id.in_(chunk)
                    )
                )
                for story_id, data in rows:
                    said = json.loads(data).get("summary") or []
                    found[story_id] = " ".join(s["text"] for s in said[:sentences])
        return found

    def brief(self, story_id: int) -> StoryBrief | None:
        """The story's brief with its entities, most mentioned first (None: not understood)."""
        with self._read() as conn:
            row = (
                conn.execute(select(story_briefs).where(story_briefs.c.story_id == story_id))
                .mappings()
                .first()
            )
            if row is None:
                return None
            named = conn.execute(
                select(story_entities, entities.c.name.label("entity_name"), entities.c.kind)
                .join(entities, entities.c.id == story_entities.c.entity_id)
                .where(story_entities.c.story_id == story_id)
                .order_by(story_entities.c.mentions.desc(), entities.c.name)
            ).mappings()
            found = tuple(
                StoryEntity(
                    entity_id=r["entity_id"],
                    name=r["entity_name"],
                    kind=r["kind"],
                    aliases=tuple(json.loads(r["aliases"])),
                    mentions=r["mentions"],
                    articles=r["articles"],
                )
                for r in named
            )
        return _brief_from(story_id, json.loads(row["data"]), found, row["updated_at"])

    def stories_to_understand(self, version: int, limit: int = 1000) -> list[int]:
        """Live stories whose articles changed since they were understood, never understood
        (or failed), or understood by another version of the code."""
        query = (
            select(stories.c.id)
            .outerjoin(story_briefs, story_briefs.c.story_id == stories.c.id)
            .where(
                or_(
                    stories.c.pending_brief,
                    story_briefs.c.story_id.is_(None),
                    story_briefs.c.version != version,
                )
            )
            .where(stories.c.merged_into.is_(None), stories.c.article_count > 0)
            .order_by(stories.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def forget_understanding(self, conn: Connection, story_id: int) -> None:
        """A story merged into another: its brief and entity links go (the other's are
        computed again)."""
        conn.execute(story_briefs.delete().where(story_briefs.c.story_id == story_id))
        before = dict(
            conn.execute(
                select(story_entities.c.entity_id, story_entities.c.mentions).where(
                    story_entities.c.story_id == story_id
                )
            ).all()
        )
        conn.execute(story_entities.delete().where(story_entities.c.story_id == story_id))
        _move_totals(conn, before, {}, set())

    # -- entities ---------------------------------------------------------------------------

    def entity_candidates(self, keys: Iterable[str]) -> list[EntityRecord]:
        """Known entities found under any of the keys."""
        keys = sorted(set(keys))
        ids: set[int] = set()
        with self._read() as conn:
            for chunk in _chunks(keys):
                ids.update(
                    conn.execute(
                        select(entity_keys.c.entity_id).where(entity_keys.c.key.in_(chunk))
                    ).scalars()
                )
            return _records(conn, sorted(ids))

    def save_story_entities(self, story_id: int, updates: list[EntityUpdate]) -> None:
        """Replace the story's entities; known entities an update names become one.

        In a handful of statements whatever the number of entities, and the entities'
        totals moved by what changed (a story more or less, mentions added or taken away),
        not recounted over every story that names them: the cost stays flat as the archive
        grows. First and last seen only widen."""
        now = utc_now()
        with self._write() as conn:
            before = dict(
                conn.execute(
                    select(story_entities.c.entity_id, story_entities.c.mentions).where(
                        story_entities.c.story_id == story_id
                    )
                ).all()
            )
            conn.execute(story_entities.delete().where(story_entities.c.story_id == story_id))
            merged: set[int] = set()
            targets: list[int | None] = []
            for update in updates:
                if len(update.known) > 1:
                    merged.add(_merge_entities(conn, list(update.known)))
                targets.append(min(update.known) if update.known else None)
            fresh = [i for i, t in enumerate(targets) if t is None]
            if fresh:
                made = conn.execute(
                    entities.insert().returning(entities.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "name": updates[i].name,
                            "kind": updates[i].kind,
                            "aliases": "[]",
                            "updated_at": now,
                        }
                        for i in fresh
                    ],
                ).scalars()
                for i, entity_id in zip(fresh, made, strict=True):
                    targets[i] = entity_id
            chosen = [t for t in targets if t is not None]
            if updates:
                conn.execute(
                    entities.update()
                    .where(entities.c.id == bindparam("b_id"))
                    .values(
                        name=bindparam("b_name"),
                        kind=bindparam("b_kind"),
                        aliases=bindparam("b_aliases"),
                        updated_at=now,
                    ),
                    [
                        {
                            "b_id": target,
                            "b_name": update.name,
                            "b_kind": update.kind,
                            "b_aliases": json.dumps(list(update.aliases), ensure_ascii=False),
                        }
                        for update, target in zip(updates, chosen, strict=True)
                    ],
                )
            have: set[tuple[str, int]] = set()
            for chunk in _chunks(sorted(set(chosen))):
                have.update(
                    conn.execute(
                        select(entity_keys.c.key, entity_keys.c.entity_id).where(
                            entity_keys.c.entity_id.in_(chunk)
                        )
                    ).all()
                )
            keys = {
                (key, target)
                for update, target in zip(updates, chosen, strict=True)
                for key in update.keys
            } - have
            if keys:
                conn.execute(
                    entity_keys.insert(), [{"key": k, "entity_id": e} for k, e in sorted(keys)]
                )
            rows: dict[int, dict[str, Any]] = {}
            for update, target in zip(updates, chosen, strict=True):
                row = rows.get(target)
                if row is None:
                    rows[target] = {
                        "story_id": story_id,
                        "entity_id": target,
                        "name": update.story_name,
                        "aliases": list(update.story_aliases),
                        "mentions": update.mentions,
                        "articles": update.articles,
                        "first_seen": update.first_seen,
                        "last_seen": update.last_seen,
                    }
                else:  # two of the story's entities turned out one across stories
                    row["aliases"] = list(
                        dict.fromkeys(row["aliases"] + list(update.story_aliases))
                    )
                    row["mentions"] += update.mentions
                    row["articles"] = max(row["articles"], update.articles)
                    row["first_seen"] = _min(row["first_seen"], update.first_seen)
                    row["last_seen"] = _max(row["last_seen"], update.last_seen)
            for row in rows.values():
                row["aliases"] = json.dumps(row["aliases"], ensure_ascii=False)
            if rows:
                conn.execute(story_entities.insert(), list(rows.values()))
            _move_totals(conn, before, rows, merged)

    def entities(
        self, story_id: int | None = None, kind: str | None = None, limit: int = 50
    ) -> list[EntityRecord]:
        """Entities, most mentioned first; with `story_id`, those the story names."""
        query = select(entities.c.id).order_by(entities.c.mentions.desc(), entities.c.name)
        if story_id is not None:
            query = query.join(story_entities, story_entities.c.entity_id == entities.c.id).where(
                story_entities.c.story_id == story_id
            )
        if kind:
            query = query.where(entities.c.kind == kind.upper())
        with self._read() as conn:
            ids = list(conn.execute(query.limit(limit)).scalars())
            records = {r.id: r for r in _records(conn, ids)}
        return [records[i] for i in ids]

    def find_entities(self, name: str, keys: Iterable[str]) -> list[EntityRecord]:
        """Entities a name given by a reader points at: an id, or its lookup keys (exact
        spellings first, then a surname or an acronym)."""
        with self._read() as conn:
            if name.strip().isdigit():
                return _records(conn, [int(name)])
            ranked: list[int] = []
            for prefix in ("k:", "a:", "p:"):
                wanted = [k for k in keys if k.startswith(prefix)]
                if not wanted:
                    continue
                ids = conn.execute(
                    select(entity_keys.c.entity_id)
                    .where(entity_keys.c.key.in_(wanted))
                    .join(entities, entities.c.id == entity_keys.c.entity_id)
                    .order_by(entities.c.mentions.desc())
                ).scalars()
                ranked.extend(i for i in ids if i not in ranked)
                if ranked:
                    break
            records = {r.id: r for r in _records(conn, ranked)}
        return [records[i] for i in ranked]

    def co_occurring(self, entity_id: int, limit: int = 10) -> list[tuple[EntityRecord, int]]:
        """The entities named most often in the same stories as this one, with how often."""
        mine = story_entities.alias("mine")
        other = story_entities.alias("other")
        query = (
            select(other.c.entity_id, func.count().label("together"))
            .join(mine, mine.c.story_id == other.c.story_id)
            .where(mine.c.entity_id == entity_id, other.c.entity_id != entity_id)
            .group_by(other.c.entity_id)
            .order_by(func.count().desc(), other.c.entity_id)
            .limit(limit)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            records = {r.id: r for r in _records(conn, [row[0] for row in rows])}
        return [(records[i], n) for i, n in rows if i in records]

    def entity_stories(self, entity_id: int) -> list[tuple[Story, StoryEntity]]:
        """The stories naming an entity, oldest first, with how each names it."""
        query = (
            select(stories, story_entities, entities.c.kind)
            .join(story_entities, story_entities.c.story_id == stories.c.id)
            .join(entities, entities.c.id == story_entities.c.entity_id)
            .where(story_entities.c.entity_id == entity_id)
            .order_by(stories.c.first_seen.nulls_last(), stories.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            (
                Story(**{name: r[stories.c[name]] for name in Story.__dataclass_fields__}),
                StoryEntity(
                    entity_id=entity_id,
                    name=r[story_entities.c.name],
                    kind=r[entities.c.kind],
                    aliases=tuple(json.loads(r[story_entities.c.aliases])),
                    mentions=r[story_entities.c.mentions],
                    articles=r[story_entities.c.articles],
                ),
            )
            for r in rows
        ]


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _merge_entities(conn: Connection, ids: list[int]) -> int:
    """Fold the entities into the first (the oldest): their stories and keys move."""
    ids = sorted(ids)
    kept, absorbed = ids[0], ids[1:]
    for other in absorbed:
        for row in conn.execute(
            select(story_entities).where(story_entities.c.entity_id == other)
        ).mappings():
            mine = (
                conn.execute(
                    select(story_entities).where(
                        story_entities.c.entity_id == kept,
                        story_entities.c.story_id == row["story_id"],
                    )
                )
                .mappings()
                .first()
            )
            if mine is None:
                conn.execute(
                    story_entities.update()
                    .where(
                        story_entities.c.entity_id == other,
                        story_entities.c.story_id == row["story_id"],
                    )
                    .values(entity_id=kept)
                )
                continue
            aliases = list(dict.fromkeys(json.loads(mine["aliases"]) + json.loads(row["aliases"])))
            conn.execute(
                story_entities.update()
                .where(
                    story_entities.c.entity_id == kept,
                    story_entities.c.story_id == row["story_id"],
                )
                .values(
                    aliases=json.dumps(aliases, ensure_ascii=False),
                    mentions=mine["mentions"] + row["mentions"],
                    articles=max(mine["articles"], row["articles"]),
                    first_seen=_min(mine["first_seen"], row["first_seen"]),
                    last_seen=_max(mine["last_seen"], row["last_seen"]),
                )
            )
            conn.execute(
                story_entities.delete().where(
                    story_entities.c.entity_id == other,
                    story_entities.c.story_id == row["story_id"],
                )
            )
        have = set(
            conn.execute(select(entity_keys.c.key).where(entity_keys.c.entity_id == kept)).scalars()
        )
        moving = conn.execute(
            select(entity_keys.c.key).where(entity_keys.c.entity_id == other)
        ).scalars()
        for key in sorted(set(moving) - have):
            conn.execute(entity_keys.insert().values(key=key, entity_id=kept))
        conn.execute(entity_keys.delete().where(entity_keys.c.entity_id == other))
        conn.execute(entities.delete().where(entities.c.id == other))
    return kept


def _move_totals(
    conn: Connection,
    before: dict[int, int],
    after: dict[int, dict[str, Any]],
    recount: set[int],
) -> None:
    """Move the entities' totals by what one story's entities were and are now; entities
    that just absorbed others (`recount`) are counted again whole."""
    deltas = []
    for entity_id in sorted((set(before) | set(after)) - recount):
        row = after.get(entity_id)
        stories = (row is not None) - (entity_id in before)
        mentions = (row["mentions"] if row else 0) - before.get(entity_id, 0)
        deltas.append(
            {
                "b_id": entity_id,
                "b_stories": stories,
                "b_mentions": mentions,
                "b_first": row["first_seen"] if row else None,
                "b_last": row["last_seen"] if row else None,
            }
        )
    if deltas:
        first, last = bindparam("b_first"), bindparam("b_last")
        conn.execute(
            entities.update()
            .where(entities.c.id == bindparam("b_id"))
            .values(
                stories=entities.c.stories + bindparam("b_stories"),
                mentions=entities.c.mentions + bindparam("b_mentions"),
                first_seen=case(
                    (entities.c.first_seen.is_(None), first),
                    (first < entities.c.first_seen, first),
                    else_=entities.c.first_seen,
                ),
                last_seen=case(
                    (entities.c.last_seen.is_(None), last),
                    (last > entities.c.last_seen, last),
                    else_=entities.c.last_seen,
                ),
            ),
            deltas,
        )
        gone = [d["b_id"] for d in deltas if d["b_stories"] < 0]
        for chunk in _chunks(gone):
            orphans = list(
                conn.execute(
                    select(entities.c.id).where(entities.c.id.in_(chunk), entities.c.stories <= 0)
                ).scalars()
            )
            if orphans:
                conn.execute(entity_keys.delete().where(entity_keys.c.entity_id.in_(orphans)))
                conn.execute(entities.delete().where(entities.c.id.in_(orphans)))
    _recount(conn, recount)


def _recount(conn: Connection, ids: Iterable[int]) -> None:
    """Entities' totals from their stories; an entity no story names any more goes."""
    for entity_id in sorted(set(ids)):
        count, mentions, first, last = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(story_entities.c.mentions), 0),
                func.min(story_entities.c.first_seen),
                func.max(story_entities.c.last_seen),
            ).where(story_entities.c.entity_id == entity_id)
        ).one()
        if count == 0:
            conn.execute(entity_keys.delete().where(entity_keys.c.entity_id == entity_id))
            conn.execute(entities.delete().where(entities.c.id == entity_id))
        else:
            conn.execute(
                entities.update()
                .where(entities.c.id == entity_id)
                .values(stories=count, mentions=mentions, first_seen=first, last_seen=last)
            )


def _records(conn: Connection, ids: list[int]) -> list[EntityRecord]:
    found: list[EntityRecord] = []
    for chunk in _chunks(ids):
        for r in conn.execute(select(entities).where(entities.c.id.in_(chunk))).mappings():
            found.append(
                EntityRecord(
                    id=r["id"],
                    name=r["name"],
                    kind=r["kind"],
                    aliases=tuple(json.loads(r["aliases"])),
                    mentions=r["mentions"],
                    stories=r["stories"],
                    first_seen=r["first_seen"],
                    last_seen=r["last_seen"],
                )
            )
    return sorted(found, key=lambda e: e.id)


def _ref(data: dict[str, Any] | None) -> SourceRef | None:
    return SourceRef(**data) if data else None


def _brief_from(
    story_id: int, data: dict[str, Any], found: tuple[StoryEntity, ...], updated: datetime
) -> StoryBrief:
    return StoryBrief(
        story_id=story_id,
        summary=tuple(
            BriefSentence(s["text"], _ref(s["source"]), tuple(SourceRef(**a) for a in s["also"]))
            for s in data["summary"]
        ),
        method=data["method"],
        summary_error=data["summary_error"],
        facts=tuple(
            BriefFact(
                f["text"],
                tuple(f["kinds"]),
                tuple(SourceRef(**s) for s in f["sources"]),
                f["independent"],
            )
            for f in data["facts"]
        ),
        disagreements=tuple(
            BriefDisagreement(
                d["slot"],
                d["word"],
                tuple((value, tuple(SourceRef(**s) for s in refs)) for value, refs in d["values"]),
                tuple(BriefNote(**n) for n in d["notes"]),
            )
            for d in data["disagreements"]
        ),
        entities=found,
        skipped=tuple((a, reason) for a, reason in data["skipped"]),
        updated_at=updated,
        quotes=tuple(
            BriefQuote(
                q["text"], q["speaker"], q["entity"], tuple(SourceRef(**s) for s in q["sources"])
            )
            for q in data.get("quotes", [])  # briefs stored before quotes were found
        ),
    )
