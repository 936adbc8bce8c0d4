"""Pages: one row per article page asked for (by canonical URL), so each is fetched once
and a page that failed for good is not asked again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from veille.store.base import StoreBase
from veille.store.schema import pages, utc_now


class PageStore(StoreBase):
    def page(self, url: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(pages).where(pages.c.url == url)).mappings().first()
        return dict(row) if row else None

    def record_page(
        self,
        url: str,
        *,
        final_url: str | None = None,
        status: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str | None = None,
        permanent: bool = False,
        asked: bool = True,
    ) -> None:
        """Call it in the transaction that stores what the page gave (its article, or the
        feed's snippet), so a page is never "fetched" without it. A page not `asked` (held
        back) keeps its count of attempts."""
        values = {
            "final_url": final_url,
            "status": status,
            "etag": etag,
            "last_modified": last_modified,
            "error": error,
            "permanent": permanent,
            "fetched_at": utc_now(),
        }
        with self._write() as conn:
            updated = conn.execute(
                pages.update()
                .where(pages.c.url == url)
                .values(attempts=pages.c.attempts + int(asked), **values)
            )
            if updated.rowcount == 0:
                conn.execute(pages.insert().values(url=url, attempts=int(asked), **values))
