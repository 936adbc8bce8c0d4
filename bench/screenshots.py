"""Screenshots of every page on the seed day, for a person to look at: French and English,
light and dark, desktop and phone. Written to `bench/screenshots/` (not committed).

The seed day goes through the real pipeline into a fresh store, `veille`'s web app runs on
127.0.0.1, and Debian's Chromium (driven by Playwright) visits each page.

    python bench/screenshots.py
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from veille.config import Settings
from veille.model import Watch
from veille.pipeline import ingest
from veille.store import Store
from veille.web import create_app

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
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
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
        with sync_playwright() as driver:
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
        server.should_exit = True
        thread.join(timeout=5)
        store.close()
    print(f"{shots} screenshots in {OUT}")


if __name__ == "__main__":
    main()
