"""The demo pages in headless Chromium: the widget embedded cross-origin, as `make run` serves it.

Screenshots go to docs/screenshots/ only with TALKBACK_SCREENSHOTS=1 (`make screenshots`), so
ordinary test runs never change tracked files.
"""

import os
from pathlib import Path

import pytest

from service.widget.demo import STORIES

from .browser_support import record_problems, seed
from .helpers import POLITE

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SAVE_SCREENSHOTS = os.environ.get("TALKBACK_SCREENSHOTS") == "1"
SIZES = {"desktop": (1280, 900), "mobile": (390, 844)}
EN, HE = STORIES["en"].article, STORIES["he"].article


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def save(page, name: str) -> None:
    """Save a full-page screenshot under docs/screenshots/, only when asked to."""
    if SAVE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        assert (SCREENSHOTS / name).stat().st_size > 10_000


def seed_conversation() -> None:
    first = seed(
        EN,
        "Walked across at dawn with half the neighbourhood. Worth the two-year wait!",
        name="Noa Peretz",
        title="Finally",
    ).id
    seed(
        EN, "Same here, the view from the middle is better than ever.", name="Avi", parent_id=first
    )
    seed(
        EN,
        "84 million and the toll for trucks still isn't explained. Who pays for the overrun?",
        name="Marcus Webb",
    )
    reply = seed(HE, "סוף סוף! חיכינו לזה שנה שלמה.", name="מיכל").id
    seed(HE, "מסכים, אבל הרכבות עדיין צפופות מדי בבוקר.", name="דני", parent_id=reply)


def test_reader_posts_on_the_demo_page_and_sees_it_once_approved(server, context, run_worker):
    page = context.new_page()
    problems = record_problems(page)
    page.goto(f"{server.page_origin}/demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour bridge reopens")
    # The widget came from the other origin and talks to it.
    assert (
        page.locator("script[src$='/embed.js']").get_attribute("src").startswith(server.api_origin)
    )
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()

    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Comment", exact=True).fill(POLITE)
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Awaiting moderation", exact=True)).to_be_visible()

    run_worker()
    expect(page.get_by_text("Awaiting moderation", exact=True)).to_have_count(0, timeout=15000)
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    page.reload()
    expect(page.locator("#talkback .tb-body")).to_have_text(POLITE)
    save(page, "demo-page.png")
    # No CSP violation, script error or failed load on the way.
    assert problems == []


@pytest.mark.parametrize("lang", ["en", "he"])
@pytest.mark.parametrize("size", SIZES)
def test_demo_pages_at_desktop_and_phone_widths(server, chromium, lang, size):
    seed_conversation()
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        problems = record_problems(page)
        page.goto(f"{server.page_origin}/demo" + ("/he" if lang == "he" else ""))
        heading = "3 comments" if lang == "en" else "2 תגובות"
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        root = page.locator("#talkback section.tb")
        expect(root).to_have_attribute("dir", "rtl" if lang == "he" else "ltr")
        # Nothing sticks out sideways, even on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        save(page, f"widget-{lang}-{size}.png")
        assert problems == []
    finally:
        context.close()


def test_widget_fits_a_320px_screen_with_the_composer_open(server, chromium):
    seed_conversation()
    context = chromium.new_context(viewport={"width": 320, "height": 700})
    try:
        page = context.new_page()
        page.goto(f"{server.page_origin}/demo")
        page.get_by_role("button", name="Reply").first.click()
        expect(page.get_by_label("Comment", exact=True)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_list_page_shows_counts_from_count_js(server, context):
    seed_conversation()
    page = context.new_page()
    problems = record_problems(page)
    page.goto(f"{server.page_origin}/demo/list")
    expect(page.locator(f'[data-talkback-count="{EN}"]')).to_have_text("3")
    expect(page.locator(f'[data-talkback-count="{HE}"]')).to_have_text("2")
    expect(page.locator('[data-talkback-count="council-budget-vote"]')).to_have_text("0")
    assert problems == []


def test_every_resource_the_page_loads_exists(server, context):
    # Browsers ask for /favicon.ico on their own; a 404 there is a console error on every visit.
    page = context.new_page()
    problems = record_problems(page)
    page.goto(f"{server.page_origin}/demo", wait_until="networkidle")
    assert problems == []
