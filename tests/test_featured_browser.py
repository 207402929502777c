"""Editors' picks in headless Chromium: the reader's widget and the moderator's console."""

from __future__ import annotations

import pytest

from service.core import featured

from .browser_support import (
    expect,
    record_problems,
    seed,
    widget,
    widget_comment,
)
from .test_live_browser import axe

pytestmark = pytest.mark.browser

PICKED = "A careful account of the bridge's history, worth reading first."
OTHER = "A plain comment further down the thread."
# The widget's strings use a typographic apostrophe (U+2019).
PICKS, PICK = "Editors\u2019 picks", "Editor\u2019s pick"


@pytest.fixture
def page(axe_context):
    page = axe_context.new_page()
    page.problems = record_problems(page)
    return page


def test_the_featured_comment_shows_on_top_with_its_label(server, page):
    picked = seed("a1", PICKED, name="Dana", title="History").id
    seed("a1", OTHER, name="Noa")
    featured.feature(picked, actor="moderator:mia")
    page.goto(server.page("a1"))
    picks = widget(page).get_by_role("region", name=PICKS)
    expect(picks).to_be_visible()
    expect(picks.locator(".tb-body")).to_have_text(PICKED)
    expect(picks.get_by_role("heading", name="History")).to_be_visible()
    # Above the thread, and marked in place.
    assert page.locator("#talkback").evaluate(
        """host => {
            const root = host.shadowRoot;
            const picks = root.querySelector(".tb-picks");
            const thread = root.querySelector(".tb-thread:not(.tb-picks *)");
            return !!(picks.compareDocumentPosition(thread) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    expect(widget_comment(page, PICKED).locator(".tb-pick")).to_have_text(PICK)
    expect(widget_comment(page, OTHER).locator(".tb-pick")).to_have_count(0)
    assert axe(page) == []
    assert page.problems == []


def test_hebrew_labels(server, page):
    picked = seed("a1", PICKED, name="Dana").id
    featured.feature(picked, actor="moderator:mia")
    page.goto(server.page("a1", lang="he"))
    expect(widget(page).get_by_role("region", name="בחירות העורכים")).to_be_visible()
    expect(widget_comment(page, PICKED).locator(".tb-pick")).to_have_text("בחירת העורכים")
    assert axe(page) == []


def test_no_picks_no_section(server, page):
    seed("a1", OTHER, name="Noa")
    page.goto(server.page("a1"))
    expect(widget_comment(page, OTHER)).to_be_visible()
    expect(page.locator("#talkback .tb-picks")).to_be_hidden()


def test_a_moderator_features_from_the_console_by_button_and_key(server, axe_context, make_user):
    from service.models import CommentStatus

    from .browser_support import card, decided_comment, open_console_at, violations, wait_ready

    first = decided_comment(PICKED, name="Dana", status=CommentStatus.APPROVED)
    decided_comment(OTHER, name="Noa", status=CommentStatus.APPROVED)
    decided_comment("Still held for a moderator.", name="Gil")
    make_user("mia", sites=["demo"])
    page = open_console_at(axe_context, server, "mia", "/console/queue/approved")
    wait_ready(page)

    picked = card(page, PICKED)
    button = picked.get_by_role("button", name="Feature")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(picked.locator("[data-featured-marker]")).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(picked.locator("[data-featured-marker]")).to_have_text("Editors' pick")
    expect(page.locator("[data-announce]")).to_contain_text("is an editors' pick")
    assert violations(page) == []

    # f on the focused card, twice: on, then off again.
    other = card(page, OTHER)
    other.click()
    page.keyboard.press("f")
    expect(other.get_by_role("button", name="Feature")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("f")
    expect(other.get_by_role("button", name="Feature")).to_have_attribute("aria-pressed", "false")

    # The reader's thread has the pick on top (the read cache was told).
    from service.core import threads

    page_json = threads.thread_page("demo", "bridge", "newest", 20, None).body.decode()
    assert f'"featured":[{{"id":{first},' in page_json
    # Held comments have no Feature button.
    page.get_by_role("link", name="Held 1").click()
    wait_ready(page)
    expect(page.get_by_role("button", name="Feature")).to_have_count(0)
    assert violations(page) == []
    assert [p for p in page.problems if not p.endswith("/favicon.svg")] == []
