"""What the store keeps of each site's template (veille.extract.template): the pages it
learned, and on how many of them each block fingerprint was seen."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from sqlalchemy import Connection, delete, select

from veille.extract.template import PageBlocks, SiteTemplate
from veille.store.base import StoreBase
from veille.store.schema import site_templates, template_blocks, template_pages, utc_now

_CHUNK = 500  # SQLite caps bound parameters
# A block seen on one page only is forgotten once the site has learned this many pages
# since: it was that page's own text.
FORGET_AFTER = 300


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _learned(conn: Connection, site: str, pages: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(set(pages))):
        query = select(template_pages.c.page).where(
            template_pages.c.site == site, template_pages.c.page.in_(chunk)
        )
        found.update(conn.execute(query).scalars())
    return found


class TemplateStore(StoreBase):
    def learned_pages(self, site: str, pages: Iterable[str]) -> set[str]:
        """Those of the pages (keys) the site's template has learned already."""
        with self._read() as conn:
            return _learned(conn, site, pages)

    def site_template(self, site: str, blocks: Iterable[str]) -> SiteTemplate:
        """The site's template, as far as these blocks are concerned."""
        counts: dict[str, int] = {}
        with self._read() as conn:
            pages = conn.execute(
                select(site_templates.c.pages).where(site_templates.c.site == site)
            ).scalar()
            for chunk in _chunks(sorted(set(blocks))):
                rows = conn.execute(
                    select(template_blocks.c.block, template_blocks.c.pages).where(
                        template_blocks.c.site == site, template_blocks.c.block.in_(chunk)
                    )
                )
                counts.update({block: seen for block, seen in rows})
        return SiteTemplate(pages or 0, MappingProxyType(counts))

    def learn_pages(self, site: str, pages: list[PageBlocks]) -> None:
        """Count new pages of a site into its template, in one transaction; a page learned
        before is not counted again."""
        with self._write() as conn:
            known = _learned(conn, site, (p.page for p in pages))
            fresh: dict[str, PageBlocks] = {}
            for page in pages:
                if page.page not in known:
                    fresh.setdefault(page.page, page)
            if not fresh:
                return
            total = self._site_pages(conn, site)
            counts: dict[str, tuple[int, int]] = {}  # block -> (new sightings, last page)
            for number, page in enumerate(fresh.values(), total + 1):
                for block in page.blocks:
                    seen, _ = counts.get(block, (0, number))
                    counts[block] = (seen + 1, number)
            self._add_counts(conn, site, counts)
            conn.execute(template_pages.insert(), [{"site": site, "page": key} for key in fresh])
            pages_now = total + len(fresh)
            conn.execute(
                site_templates.update()
                .where(site_templates.c.site == site)
                .values(pages=pages_now, updated_at=utc_now())
            )
            conn.execute(
                delete(template_blocks).where(
                    template_blocks.c.site == site,
                    template_blocks.c.pages <= 1,
                    template_blocks.c.last_page < pages_now - FORGET_AFTER,
                )
            )

    @staticmethod
    def _site_pages(conn: Connection, site: str) -> int:
        pages = conn.execute(
            select(site_templates.c.pages).where(site_templates.c.site == site)
        ).scalar()
        if pages is None:
            conn.execute(site_templates.insert().values(site=site, pages=0, updated_at=utc_now()))
            return 0
        return pages

    @staticmethod
    def _add_counts(conn: Connection, site: str, counts: dict[str, tuple[int, int]]) -> None:
        existing: dict[str, int] = {}
        for chunk in _chunks(sorted(counts)):
            rows = conn.execute(
                select(template_blocks.c.block, template_blocks.c.pages).where(
                    template_blocks.c.site == site, template_blocks.c.block.in_(chunk)
                )
            )
            existing.update({block: seen for block, seen in rows})
        for block, (seen, last) in counts.items():
            if block in existing:
                conn.execute(
                    template_blocks.update()
                    .where(template_blocks.c.site == site, template_blocks.c.block == block)
                    .values(pages=existing[block] + seen, last_page=last)
                )
        added = [
            {"site": site, "block": block, "pages": seen, "last_page": last}
            for block, (seen, last) in counts.items()
            if block not in existing
        ]
        if added:
            conn.execute(template_blocks.insert(), added)
