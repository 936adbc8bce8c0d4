"""Articles, by canonical URL: stored, updated only by something at least as good, and
queued for grouping in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Literal

from sqlalchemy import func, or_, select

from veille.model import Article, order_key
from veille.store.base import StoreBase
from veille.store.schema import (
    article_copies,
    articles,
    group_queue,
    ingest_log,
    pages,
    raw_inputs,
    sources,
    stories,
    story_articles,
    utc_now,
)
from veille.when import day_bounds, local_day

# "kept": a poorer version (a feed's snippet, a text cut to a fraction) left the stored
# article as it was.
Outcome = Literal["new", "updated", "unchanged", "kept"]

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
# Fields an update may not blank: a later reading without a date or an author keeps them.
_KEPT_WHEN_MISSING = ("published", "modified", "author", "site_name", "language", "description")
# A new full text shorter than this share of the stored one is taken for a failed reading
# (a paywall, an error page served with 200, a consent wall), not an edit.
_SHRUNK = 0.4
# Changes that move an article in its story: it is grouped again.
_GROUPING_FIELDS = ("title", "text", "published", "site_name", "language")


class ArticleStore(StoreBase):
    def save_article(self, article: Article) -> tuple[Outcome, int]:
        """Insert or update by canonical URL; same content twice changes nothing.

        A partial article (what a feed said of a page it could not fetch) only fills an
        article that has nothing better; an update never blanks a field the stored article
        had, nor replaces a full text with a fraction of it. A new or moved article is
        queued for grouping in the same transaction."""
        values = {name: getattr(article, name) for name in _CONTENT_FIELDS}
        with self._write() as conn:
            row = (
                conn.execute(
                    select(articles).where(articles.c.canonical_url == article.canonical_url)
                )
                .mappings()
                .first()
            )
            now = utc_now()
            if row is None:
                key = order_key(
                    article.published, now, article.canonical_url, article.published_time_known
                )
                new_id = conn.execute(
                    articles.insert().values(
                        canonical_url=article.canonical_url,
                        raw_ref=article.raw_ref,
                        source=article.source,
                        first_seen=now,
                        updated_at=now,
                        partial=article.partial,
                        sort_key=key,
                        **values,
                    )
                ).inserted_primary_key[0]
                _queue(conn, new_id, key)
                return "new", new_id
            if poorer(article, row):
                return "kept", row["id"]
            for name in _KEPT_WHEN_MISSING:
                if values[name] in (None, "") and row[name] not in (None, ""):
                    values[name] = row[name]
            if values["published"] == row["published"] or _same_day_less_precise(values, row):
                # The stored time of day stays when the new reading only gives its day.
                values["published"] = row["published"]
                values["published_time_known"] |= row["published_time_known"]
            changed = {k: v for k, v in values.items() if row[k] != v}
            if not changed and row["partial"] == article.partial:
                return "unchanged", row["id"]
            key = order_key(
                values["published"],
                row["first_seen"],
                article.canonical_url,
                values["published_time_known"],
            )
            conn.execute(
                articles.update()
                .where(articles.c.id == row["id"])
                .values(
                    raw_ref=article.raw_ref,
                    source=article.source,
                    updated_at=now,
                    partial=article.partial,
                    sort_key=key,
                    **changed,
                )
            )
            if any(name in changed for name in _GROUPING_FIELDS):
                _queue(conn, row["id"], min(key, row["sort_key"]))
            return "updated", row["id"]

    def raw_digests(self, refs: list[str]) -> dict[str, str]:
        """The digest each of these raw inputs had when last read."""
        found: dict[str, str] = {}
        with self._read() as conn:
            for start in range(0, len(refs), 500):
                chunk = refs[start : start + 500]
                found.update(
                    conn.execute(
                        select(raw_inputs.c.ref, raw_inputs.c.digest).where(
                            raw_inputs.c.ref.in_(chunk)
                        )
                    ).all()
                )
        return found

    def read_raw(self, ref: str, digest: str) -> None:
        """Note a raw input as read (in the transaction that stores what it gave)."""
        with self._write() as conn:
            updated = conn.execute(
                raw_inputs.update()
                .where(raw_inputs.c.ref == ref)
                .values(digest=digest, read_at=utc_now())
            )
            if updated.rowcount == 0:
                conn.execute(raw_inputs.insert().values(ref=ref, digest=digest, read_at=utc_now()))

    def articles_by_id(self, ids: list[int]) -> list[Article]:
        found: list[Article] = []
        with self._read() as conn:
            for start in range(0, len(ids), 500):  # SQLite caps bound parameters
                chunk = ids[start : start + 500]
                rows = conn.execute(select(articles).where(articles.c.id.in_(chunk)))
                found.extend(to_article(row) for row in rows.mappings())
        return found

    def article(self, key: int | str) -> Article | None:
        """By id, URL or canonical URL."""
        query = select(articles)
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            query = query.where(articles.c.id == int(key))
        else:
            query = query.where(or_(articles.c.url == key, articles.c.canonical_url == key))
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        return to_article(row) if row else None

    def has_full_article(self, canonical_url: str) -> bool:
        """Whether a page's article is stored whole (not only as a feed's snippet)."""
        query = select(articles.c.id).where(
            articles.c.canonical_url == canonical_url, articles.c.partial.is_(False)
        )
        with self._read() as conn:
            return conn.execute(query).first() is not None

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
        with self._read() as conn:
            for row in conn.execute(query).mappings():
                yield to_article(row)

    def counts(self) -> dict[str, int]:
        with self._read() as conn:
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


def poorer(article: Article, row: Any) -> bool:
    """Whether `article` would replace the stored `row` with less: a snippet over a page,
    or a text cut to a fraction of the stored one."""
    if row["partial"]:
        return False
    if article.partial:
        return True
    stored, new = len(row["text"].split()), len(article.text.split())
    return stored >= 50 and new < _SHRUNK * stored


def _queue(conn: Any, article_id: int, since: str) -> None:
    """Queue an article for grouping, from the earliest point in the processing order its
    change touches."""
    found = conn.execute(
        select(group_queue.c.since).where(group_queue.c.article_id == article_id)
    ).scalar()
    if found is None:
        conn.execute(group_queue.insert().values(article_id=article_id, since=since))
    elif since < found:
        conn.execute(
            group_queue.update().where(group_queue.c.article_id == article_id).values(since=since)
        )


def to_article(row: Any) -> Article:
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
                "partial",
                "published_time_known",
                "modified",
            )
        }
    )


def _same_day_less_precise(values: dict[str, Any], row: Any) -> bool:
    """Whether the new reading states only the day the stored time of day falls on."""
    new, old = values["published"], row["published"]
    if new is None or old is None or values["published_time_known"]:
        return False
    return row["published_time_known"] and local_day(old, True) == new.date()
