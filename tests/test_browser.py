"""The web UI in a real headless Chromium (Debian's `chromium`, driven by Playwright): open
today, open the X-office story, see its facts and the disagreement, search, switch to
English, create a watch with its live preview, see why a story is there for a watch (the
words found marked, the rank broken down, the timeline). No console error (a CSP violation
is one)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import seed_day_store
from veille.model import Watch
from veille.web import create_app, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package)")
    playwright = pytest.importorskip("playwright.sync_api")
    store, _, _ = seed_day_store(tmp_path_factory.mktemp("browser"))
    store.save_watch(Watch("raid", "(X OR Musk) AND (perquisition OR perquisitionne)"))
    store.save_watch(Watch("large", "X OR Musk OR cybersécurité"))
    with serving(create_app(store)) as base, playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser, base
        browser.close()
    store.close()


@pytest.fixture
def page(server):
    browser, base = server
    context = browser.new_context(locale="fr-FR")
    tab = context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab, base, problems
    context.close()
    assert problems == []  # no script error, no blocked resource, no CSP violation


def test_click_through_the_story_search_and_english(page):
    tab, base, _ = page
    tab.goto(f"{base}/?date=2026-02-03")
    assert "3 février 2026" in tab.inner_text("h1")
    tab.click("text=Cybercriminalité : Elon Musk convoqué")
    assert "Cybercriminalité" in tab.inner_text("h1")
    body = tab.inner_text("main").lower()  # headings are shown in capitals
    assert "faits clés" in body and "20 avril" in body
    assert "désaccords entre sources" in body and "2026-02-02" in body
    # Keyboard: "/" goes to search.
    tab.keyboard.press("/")
    tab.wait_for_url("**/search**")
    tab.fill("input[name=q]", "perquisition")
    tab.press("input[name=q]", "Enter")
    tab.wait_for_selector("mark")
    assert "résultats" in tab.inner_text("main")
    tab.click("text=English")
    assert "results" in tab.inner_text("main")
    tab.goto(f"{base}/entities")
    assert tab.inner_text("h1") == "Entities"  # the choice is remembered


def test_create_a_watch_with_its_live_preview(page):
    tab, base, _ = page
    tab.goto(f"{base}/watches?lang=fr")
    tab.fill("input[name=name]", "X au tribunal")
    tab.fill("input[name=query]", "Musk perquisition")
    tab.wait_for_selector("#preview li")
    assert "Cybercriminalité" in tab.inner_text("#preview")
    tab.fill("input[name=query]", "(Musk")
    tab.wait_for_selector("#preview [role=alert]")
    tab.fill("input[name=query]", "Musk perquisition")
    tab.click("text=Enregistrer")
    tab.wait_for_url("**/watches?**")
    assert "X au tribunal" in tab.inner_text("main")


def test_the_theme_switch_and_help(page):
    tab, base, _ = page
    tab.goto(f"{base}/?date=2026-02-03")
    tab.click("#theme")
    theme = tab.evaluate("document.documentElement.dataset.theme")
    assert theme in ("dark", "light")
    tab.keyboard.press("?")
    assert tab.is_visible("#help")
    tab.keyboard.press("j")
    assert tab.locator(".story-card.current").count() == 1


def test_the_api_reference_loads_from_this_server_alone(page):
    """/docs: Swagger UI from veille's own files under the page's CSP, no console error
    (a CSP violation is one), not one request to another address."""
    tab, base, _ = page
    asked: list[str] = []
    tab.on("request", lambda request: asked.append(request.url))
    tab.goto(f"{base}/docs")
    tab.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = tab.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/watches/{watch_id}/digests/{day}" in [p.strip() for p in paths]
    tab.click(".opblock-summary-path[data-path='/api/v1/me']")
    tab.click("button.try-out__btn")
    tab.click("button.execute")
    status = ".live-responses-table tbody .response-col_status"
    tab.wait_for_selector(status)
    assert "200" in tab.inner_text(status)
    assert asked and all(url.startswith(base) or url.startswith("data:") for url in asked), [
        url for url in asked if not url.startswith(base)
    ]


def test_reading_state_from_the_keyboard(page):
    """s stars the current story, m marks it seen (or back): at once, and kept."""
    tab, base, _ = page
    tab.goto(f"{base}/?date=2026-02-03")
    tab.keyboard.press("j")
    first = tab.locator("[data-item]").first
    seen, starred = (
        first.locator(f"[data-toggle={name}]").get_attribute("aria-pressed") == "true"
        for name in ("seen", "starred")
    )
    tab.keyboard.press("s")
    first.locator(f"[data-toggle=starred][aria-pressed={str(not starred).lower()}]").wait_for()
    tab.keyboard.press("m")
    first.locator(f"[data-toggle=seen][aria-pressed={str(not seen).lower()}]").wait_for()
    assert ("seen" in (first.get_attribute("class") or "")) is not seen
    tab.reload()
    first = tab.locator("[data-item]").first
    assert (
        first.locator("[data-toggle=starred]").get_attribute("aria-pressed")
        == str(not starred).lower()
    )
    assert ("seen" in (first.get_attribute("class") or "")) is not seen


def test_a_story_explained_for_a_watch(page):
    """From today ranked for a broad watch: the off-topic items marked weak; the X story
    opened for the watch shows the words found marked in its headline and excerpts, each
    ranking signal's share of its score, why its articles are together, its timeline."""
    tab, base, _ = page
    tab.goto(f"{base}/?date=2026-02-03&watch=large")
    assert tab.locator(".story-card.weak").count() == 7
    assert tab.locator(".story-card:not(.weak)").count() == 1
    tab.click(".story-card:not(.weak) h2 a")
    tab.wait_for_selector("#why")
    marked = tab.locator("h1 mark").all_inner_texts()
    assert "Musk" in marked and "X" in marked
    assert tab.locator("#why .excerpt mark").count() >= 3
    rows = tab.locator("#why table.rank tbody tr").all_inner_texts()
    assert len(rows) == 4
    assert rows[0].startswith("pertinence") and "15 sources" in rows[1]
    assert tab.locator("#why table.rank meter").count() == 4
    assert "noms en commun" in tab.inner_text("#why")
    assert "copie de Boursorama" in tab.inner_text("ul.timeline")
    assert tab.locator("svg.timeline-chart rect").count() >= 2
    # Another watch, chosen on the page: the same story, explained for it.
    tab.select_option("#explain-for select[name=watch]", "raid")
    tab.click("#explain-for button")
    tab.wait_for_url("**watch=raid**")
    assert "perquisitionnés" in tab.locator("h1 mark").all_inner_texts()
