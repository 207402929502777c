"""Live "N new comments" in headless Chromium: others' comments wait behind a button, the
reader's own is shown by its pending poll, and nothing is asked while the page is hidden."""

from __future__ import annotations

import itertools
import time

import pytest

from .browser_support import AXE, expect, post_through_widget, record_problems, seed, widget_comment
from .helpers import comments_url

pytestmark = pytest.mark.browser

OTHERS = "Another reader adds a calm note about the new timetable for the ferries."
AXE_WIDGET = """async () => {
    const result = await axe.run({include: [["#talkback"]]}, {
        runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    });
    return result.violations.map(
        v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(", ")})`);
}"""


def axe(page) -> list[str]:
    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run `make install` (needs npm)")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_WIDGET)


@pytest.fixture
def page(axe_context):
    page = axe_context.new_page()
    page.problems = record_problems(page)
    return page


def set_hidden(page, hidden: bool) -> None:
    """Emulate the tab going to the background (or back), as the browser reports it."""
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
            Object.defineProperty(document, "visibilityState", {
                configurable: true, get: () => (hidden ? "hidden" : "visible"),
            });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def test_new_comments_wait_behind_a_button_and_load_on_click(server, page, client, run_worker):
    seed("a1", "The first published comment on the harbour.", name="Dana")
    page.goto(server.page("a1", live="0.5"))
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    new_button = page.locator("#talkback .tb-live")

    # The reader's own comment, once approved, is shown by pending.js and is no "new" comment.
    post_through_widget(page)
    run_worker()
    expect(page.get_by_role("status")).to_have_text("Your comment was published.", timeout=15000)
    expect(page.get_by_role("heading", name="2 comments")).to_be_visible()
    page.wait_for_timeout(2000)  # a few live polls
    expect(new_button).to_be_hidden()

    # Another reader's comment, approved by a real worker: announced, not pushed in.
    response = client.post(comments_url(), json={"author_name": "Avi", "body": OTHERS})
    assert response.status_code == 202
    run_worker()
    expect(new_button).to_be_visible(timeout=10000)
    expect(new_button).to_have_text("Show 1 new comment")
    expect(page.get_by_role("status")).to_have_text("Show 1 new comment")
    expect(widget_comment(page, OTHERS)).to_have_count(0)
    expect(page.get_by_role("heading", name="2 comments")).to_be_visible()
    assert axe(page) == []

    new_button.click()
    theirs = widget_comment(page, OTHERS)
    expect(theirs).to_be_visible()
    expect(theirs).to_have_class("tb-comment tb-new")
    expect(theirs.locator(":scope > .tb-card")).to_be_focused()
    expect(page.get_by_role("heading", name="3 comments")).to_be_visible()
    expect(new_button).to_be_hidden()
    assert axe(page) == []
    assert page.problems == []


def test_polling_backs_off_and_pauses_while_the_page_is_hidden(server, page):
    seed("a1", "A quiet thread nobody adds to.", name="Dana")
    polls: list[float] = []
    page.on("request", lambda request: "/live" in request.url and polls.append(time.monotonic()))
    page.goto(server.page("a1", live="0.3"))
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()

    page.wait_for_function("() => true")  # let the first polls run
    deadline = time.monotonic() + 10
    while len(polls) < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(polls) >= 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    # 0.3 s, then 1.5 times longer each time nothing changed.
    assert gaps[2] > gaps[0] * 1.5, gaps

    set_hidden(page, True)
    page.wait_for_timeout(300)  # one already on its way may finish
    asked = len(polls)
    page.wait_for_timeout(3000)
    assert len(polls) == asked

    set_hidden(page, False)
    deadline = time.monotonic() + 2
    while len(polls) == asked and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(polls) > asked  # asks at once when the reader is back
    assert page.problems == []
