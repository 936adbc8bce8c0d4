"""Screenshots of every page on the seed day, for a person to look at: French and English,
light and dark, desktop and phone. Written to `bench/screenshots/` (not committed).

The seed day goes through the real pipeline into a fresh store, `veille`'s web app runs on
127.0.0.1, and Debian's Chromium (driven by Playwright) visits each page.

    python bench/screenshots.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from veille.config import Settings
from veille.model import Watch
from veille.pipeline import ingest
from veille.store import Store
from veille.web import create_app, serving

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "screenshots"
SEED_DAY = REPO.parent / "shared" / "fixtures" / "seed-day" / "pages"


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no chromium: apt-get install chromium")
    if not SEED_DAY.is_dir():
        sys.exit(f"{SEED_DAY} is absent (../shared beside the repository)")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'veille.db'}")
        ingest([SEED_DAY], store, Settings())
        store.save_watch(Watch("X", "(X OR Musk) AND (perquisition OR perquisitionne)"))
        raid = max(store.stories(), key=lambda s: s.article_count).id
        musk = next(e.id for e in store.entities(limit=500) if e.name == "Elon Musk")
        pages = {
            "today": "/?date=2026-02-03",
            "today-watch": "/?date=2026-02-03&watch=X",
            "story": f"/stories/{raid}",
            "search": "/search?q=perquisitionn%C3%A9",
            "entities": "/entities",
            "entity": f"/entities/{musk}",
            "watches": "/watches",
            "sources": "/sources",
        }
        shots = 0
        with serving(create_app(store)) as base, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for device, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
                for scheme in ("light", "dark"):
                    for lang in ("fr", "en"):
                        context = browser.new_context(
                            viewport={"width": viewport[0], "height": viewport[1]},
                            color_scheme=scheme,
                        )
                        page = context.new_page()
                        for name, path in pages.items():
                            joiner = "&" if "?" in path else "?"
                            page.goto(f"{base}{path}{joiner}lang={lang}")
                            page.wait_for_load_state("networkidle")
                            target = OUT / f"{name}-{lang}-{scheme}-{device}.png"
                            page.screenshot(path=str(target), full_page=True)
                            shots += 1
                        context.close()
            browser.close()
        store.close()
    print(f"{shots} screenshots in {OUT}")


if __name__ == "__main__":
    main()
