"""axe-core over every console page, the moderators' and the operators', in headless Chromium:
labels, roles, contrast and landmarks, with the queue's Ban and help dialogs open too."""

from __future__ import annotations

import pytest

from .browser_support import expect, open_console_at, seed, violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "path",
    [
        "/console/sites",
        "/console/sites/demo",
        "/console/sites/demo/advice",
        "/console/bans",
        "/console/log",
        "/console/audit",
        "/console/summary",
        "/console/account",
    ],
)
def test_operator_pages_pass_axe(server, axe_context, make_user, path):
    make_user("olga", "operator")
    page = open_console_at(axe_context, server, "olga", path)
    assert violations(page) == []


def test_the_queue_passes_axe_with_its_dialogs_open(server, axe_context, make_user, site):
    make_user("mia", "moderator", sites=[site])
    seed("a1", "A comment waiting for a moderator.", name="Dana", approve=False)
    page = open_console_at(axe_context, server, "mia", "/console/queue/pending")
    expect(page.get_by_text("A comment waiting for a moderator.")).to_be_visible()
    assert violations(page) == []
    page.get_by_role("button", name="Ban").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert violations(page) == []
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert violations(page) == []


def test_the_login_page_passes_axe(server, axe_context):
    page = axe_context.new_page()
    page.goto(server.page_origin + "/console/login")
    assert violations(page) == []
