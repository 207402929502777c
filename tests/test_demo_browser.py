"""The demo page in headless Chromium: post via the form, moderate, see it, no CSP errors."""

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service.extensions import db

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "demo-page.png"
FAVICON = "/favicon.ico"
COMMENT = "Walked across at dawn with half the neighbourhood. Worth the two-year wait!"


@pytest.fixture
def live_server(app_factory, app, site):
    """Serve the app over real HTTP on 127.0.0.1 in a background thread; yield its base URL."""
    server_app = app_factory(SERVER_NAME=None)  # answer to whatever host the browser uses
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with server_app.app_context():
            db.engine.dispose()
        redis = server_app.extensions.get("talkback_redis")
        if redis is not None:
            redis.close()


@pytest.fixture
def browser_page(chromium):
    """Yield (page, problems): a Chromium page recording console errors and failed loads."""
    problems: list[str] = []

    context = chromium.new_context(viewport={"width": 1000, "height": 800})
    try:
        page = context.new_page()
        # CSP violations are reported as console errors ("Refused to load/apply/execute ...").
        page.on(
            "console",
            lambda message: (
                message.type in ("error", "warning")
                and problems.append(
                    f"console {message.type}: {message.text} ({message.location.get('url')})"
                )
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "requestfailed",
            lambda request: problems.append(f"request failed: {request.url}"),
        )
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and problems.append(f"HTTP {response.status}: {response.url}")
            ),
        )
        yield page, problems
    finally:
        context.close()


def test_reader_posts_through_the_form_and_sees_the_comment_once_approved(
    live_server, browser_page, run_worker
):
    from playwright.sync_api import expect

    page, problems = browser_page
    page.goto(f"{live_server}/demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour bridge reopens")
    expect(page.get_by_text("No talkbacks yet.")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Comment", exact=True).fill(COMMENT)
    page.get_by_role("button", name="Post comment").click()

    flash = page.get_by_role("status")
    expect(flash).to_contain_text("awaiting moderation")
    expect(flash).to_have_class("flash success")
    assert page.url.endswith("/demo#comment-form")
    expect(page.locator("ol.thread")).to_have_count(0)  # not shown before moderation

    run_worker()
    page.reload()
    comment = page.locator("ol.thread > li.comment")
    expect(comment).to_have_count(1)
    expect(comment.locator(".author")).to_have_text("Noa")
    expect(comment.locator(".body")).to_have_text(COMMENT)
    expect(page.get_by_role("heading", name="Talkbacks (1)")).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)  # the flash was shown once

    # The stylesheet applied (allowed by style-src 'self'): the form is not unstyled.
    assert page.evaluate("document.styleSheets.length") == 1

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000

    # No CSP violation, script error or failed load (the favicon has its own test below).
    assert [problem for problem in problems if FAVICON not in problem] == []


def test_form_errors_show_in_the_page_without_storing_anything(live_server, browser_page):
    from playwright.sync_api import expect

    page, problems = browser_page
    page.goto(f"{live_server}/demo")
    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Comment", exact=True).fill("<img src=x>")  # nothing left once cleaned
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_contain_text("no text once markup is removed")
    expect(page.get_by_role("status")).to_have_class("flash error")
    expect(page.get_by_text("No talkbacks yet.")).to_be_visible()
    assert [problem for problem in problems if FAVICON not in problem] == []


def test_every_resource_the_page_loads_exists(live_server, browser_page):
    # Browsers ask for /favicon.ico on their own; a 404 there is a console error on every visit.
    page, problems = browser_page
    page.goto(f"{live_server}/demo", wait_until="networkidle")
    assert problems == []
