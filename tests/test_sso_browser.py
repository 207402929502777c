"""Sign-in with the publisher's login in the reader widget, in headless Chromium (cross-origin,
strict CSP): data-sso-token, window.Talkback.login/logout, the login-required event, badges."""

import secrets
import time

import jwt
import pytest

from service.core import sso
from service.extensions import db
from service.models import Comment, Site

from .browser_support import AXE, composer, expect, record_problems, seed, widget_comment
from .helpers import POLITE

pytestmark = pytest.mark.browser

SECRET = "browser-secret-" + "q" * 40
LISTEN = """() => {
    window.loginEvents = [];
    document.addEventListener("talkback:login-required", (event) => {
        window.loginEvents.push(event.detail.reason);
    });
}"""


def token(sub: str = "u-42", name: str = "Noa Levi", badges=("subscriber",)) -> str:
    now = int(time.time())
    claims = {
        "sub": sub,
        "name": name,
        "badges": list(badges),
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "k1"})


@pytest.fixture
def keyed(server):
    sso.add_key("demo", "HS256", actor="test", kid="k1", secret=SECRET)
    return server


@pytest.fixture
def page(context):
    page = context.new_page()
    page.problems = record_problems(page)
    return page


def test_a_signed_token_posts_as_that_reader_with_badges_and_no_name_field(keyed, page):
    seed("a1", "An earlier comment", name="Dana")
    page.goto(keyed.page("a1", sso_token=token()))
    expect(widget_comment(page, "An earlier comment")).to_be_visible()
    page.get_by_role("button", name="New comment").click()
    expect(composer(page).get_by_text("Commenting as")).to_be_visible()
    expect(composer(page).get_by_text("Noa Levi")).to_be_visible()
    expect(composer(page).locator(".tb-reader-badge", has_text="subscriber")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)
    expect(page.get_by_label("Email (optional, never shown)")).to_have_count(0)
    page.get_by_label("Comment", exact=True).fill(POLITE)
    page.get_by_role("button", name="Post comment").click()
    mine = widget_comment(page, POLITE)
    expect(mine.get_by_text("Awaiting moderation")).to_be_visible()
    expect(mine.locator(".tb-author")).to_have_text("Noa Levi")
    expect(mine.locator(".tb-reader-badge")).to_have_text("subscriber")
    db.session.remove()
    stored = db.session.query(Comment).filter_by(body_text=POLITE).one()
    assert stored.sso_id == "u-42" and stored.badges == ["subscriber"]
    assert page.problems == []


def test_published_comments_show_their_authors_badges(keyed, page):
    seed("a1", "From staff", name="Ed")
    db.session.query(Comment).update({"sso_id": "u-1", "badges": ["staff"]})
    db.session.commit()
    page.goto(keyed.page("a1"))
    expect(widget_comment(page, "From staff").locator(".tb-reader-badge")).to_have_text("staff")


def test_login_required_fires_when_the_site_requires_sign_in(keyed, page):
    db.session.query(Site).filter_by(key="demo").update({"sign_in": "required"})
    db.session.commit()
    page.goto(keyed.page("a1"))
    page.evaluate(LISTEN)
    expect(page.get_by_role("button", name="New comment")).to_be_visible()
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    page.get_by_role("button", name="New comment").click()
    assert page.evaluate("window.loginEvents") == ["sign_in_required"]
    # Posting anyway: the API refuses with 401 sign_in_required; the text is kept.
    page.get_by_label("Name", exact=True).fill("Dana")
    page.get_by_label("Comment", exact=True).fill(POLITE)
    page.get_by_role("button", name="Post comment").click()
    expect(composer(page).get_by_text("Please sign in to post this comment")).to_be_visible()
    assert page.evaluate("window.loginEvents") == ["sign_in_required", "sign_in_required"]
    # The page signs the reader in: the composer turns into "Commenting as", the text stays.
    assert page.evaluate("(t) => window.Talkback.login(t)", token(name="Lia")) is True
    expect(composer(page).get_by_text("Lia")).to_be_visible()
    expect(page.get_by_label("Comment", exact=True)).to_have_value(POLITE)
    page.get_by_role("button", name="Post comment").click()
    expect(widget_comment(page, POLITE).get_by_text("Awaiting moderation")).to_be_visible()


def test_login_and_logout_from_the_page(keyed, page):
    page.goto(keyed.page("a1"))
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    assert page.evaluate("Object.keys(window.Talkback).sort()") == ["login", "logout"]
    page.get_by_role("button", name="New comment").click()
    expect(page.get_by_label("Name", exact=True)).to_be_visible()
    assert page.evaluate("(t) => window.Talkback.login(t)", token()) is True
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)
    expect(composer(page).get_by_text("Commenting as")).to_be_visible()
    stored = page.evaluate("sessionStorage.getItem('talkback:sso:demo')")
    assert '"session"' in stored
    # A token already used is refused (replay), and the reader stays signed in.
    used = page.evaluate("JSON.parse(sessionStorage.getItem('talkback:sso:demo')).token")
    assert page.evaluate("(t) => window.Talkback.login(t)", used) is False
    expect(composer(page).get_by_text("Commenting as")).to_be_visible()
    page.evaluate("() => window.Talkback.logout()")
    expect(page.get_by_label("Name", exact=True)).to_be_visible()
    expect(composer(page).get_by_text("Commenting as")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('talkback:sso:demo')") is None
    # A reload keeps a live session without a new token.
    assert page.evaluate("(t) => window.Talkback.login(t)", token(name="Back")) is True
    page.reload()
    page.get_by_role("button", name="New comment").click()
    expect(composer(page).get_by_text("Back")).to_be_visible()


def test_axe_finds_no_violations_when_signed_in(keyed, chromium):
    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run `make install` (needs npm)")
    seed("a1", "From staff", name="Ed")
    db.session.query(Comment).update({"sso_id": "u-1", "badges": ["staff", "subscriber"]})
    db.session.commit()
    context = chromium.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(keyed.page("a1", sso_token=token()))
        expect(widget_comment(page, "From staff")).to_be_visible()
        page.get_by_role("button", name="New comment").click()
        expect(composer(page).get_by_text("Commenting as")).to_be_visible()
        page.add_script_tag(path=str(AXE))
        run = """async () => {
            const result = await axe.run({include: [["#talkback"]]}, {
                runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
            });
            return result.violations.map(
                v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(", ")})`);
        }"""
        assert page.evaluate(run) == []
    finally:
        context.close()
