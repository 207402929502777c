"""Logging in to the console in headless Chromium: the login form, the account page with its
API tokens, logging out; under the console's strict CSP, with no console errors."""

import pytest

from service.models import User

from .browser_support import record_problems
from .helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def page(context):
    page = context.new_page()
    page.problems = record_problems(page)
    return page


@pytest.fixture
def alice(make_user, site) -> User:
    return make_user("alice", sites=[site])


def log_in(page, password: str = DEFAULT_PASSWORD) -> None:
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_log_in_create_and_revoke_a_token_and_log_out(server, context, page, alice):
    origin = server.page_origin
    page.goto(f"{origin}/console/account")
    # Not logged in: the login form, which brings us back to the account page afterwards.
    expect(page.get_by_role("heading", name="Log in to the moderator console")).to_be_visible()
    assert "next=/console/account" in page.url
    log_in(page)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert page.url == f"{origin}/console/account"
    expect(page.get_by_role("navigation", name="Console")).to_contain_text("Queues")
    expect(page.locator(".facts")).to_contain_text("demo")

    cookie = next(c for c in context.cookies() if c["name"] == "talkback_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_label("Name").fill("triage script")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_contain_text("shown only once")
    token = page.locator("#new-token-value").input_value()
    assert token.startswith("tb_")
    headers = {"Authorization": f"Bearer {token}"}
    api = f"{origin}/api/v1/moderation/events"
    assert context.request.get(api, headers=headers).status == 200

    page.goto(f"{origin}/console/account")  # the page again: the token is not shown again
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.locator("table.tokens")).to_contain_text("triage script")
    page.get_by_role("button", name="Revoke token triage script").click()
    expect(page.get_by_role("status")).to_have_text("Token revoked.")
    expect(page.locator("tr.revoked")).to_contain_text("revoked")
    assert context.request.get(api, headers=headers).status == 401

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto(f"{origin}/console/account")
    expect(page.get_by_role("heading", name="Log in to the moderator console")).to_be_visible()
    assert page.problems == []


def test_a_wrong_password_is_explained(server, page, alice):
    page.goto(f"{server.page_origin}/console/login")
    log_in(page, "not my password")
    expect(page.get_by_role("alert")).to_have_text(
        "That username and password don't match an account. Check both and try again."
    )
    expect(page.get_by_label("Username")).to_have_value("alice")
    expect(page.get_by_label("Password")).to_be_focused()
    assert page.problems == []
