"""Banned readers in headless Chromium. A hard-banned one is told why and keeps their text; a
shadow-banned one sees their comment as published, with the count that goes with it, while
another reader's browser, the thread and the count widget never do."""

import pytest

from service.core.hashing import hash_ip
from service.extensions import db
from service.models import Ban, BanKind, BanTarget, Comment

from .browser_support import (
    composer,
    expect,
    post_through_widget,
    record_problems,
    seed,
    widget,
    widget_comment,
)

pytestmark = pytest.mark.browser

SHADOWED = "A shadow-banned reader's perfectly polite remark about the timeline."


@pytest.fixture
def page(context):
    return context.new_page()


def ban_local_readers(site, kind: BanKind, public_reason: str | None = None) -> None:
    """Ban 127.0.0.1, the address every test browser posts from, on the demo site."""
    db.session.add(
        Ban(
            site_id=site.id,
            target_type=BanTarget.IP,
            target_value=hash_ip("127.0.0.1"),
            target_label="127.0.0.x",
            kind=kind,
            reason="test: persistent troll",
            public_reason=public_reason,
            created_by="test",
        )
    )
    db.session.commit()


def test_a_hard_banned_reader_is_told_why_and_keeps_their_text(server, page, site):
    ban_local_readers(site, BanKind.HARD, public_reason="Repeated personal attacks.")
    page.goto(server.page("a1"))
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Name", exact=True).fill("Banned")
    page.get_by_label("Comment", exact=True).fill(SHADOWED)
    page.get_by_role("button", name="Post comment").click()
    alert = composer(page).get_by_text("You can't post comments here. Reason: Repeated personal")
    expect(alert).to_be_visible()
    expect(page.get_by_label("Comment", exact=True)).to_have_value(SHADOWED)
    assert db.session.query(Comment).count() == 0


def test_a_shadow_banned_author_sees_their_comment_and_nobody_else_does(
    server, chromium, site, run_worker
):
    seed("s1", "An ordinary published comment.", name="Other")
    ban_local_readers(site, BanKind.SHADOW)

    author = chromium.new_context()
    reader = chromium.new_context()
    try:
        page = author.new_page()
        problems = record_problems(page)
        page.goto(server.page("s1"))
        expect(widget(page).get_by_role("heading", name="1 comment")).to_be_visible()
        post_through_widget(page, name="Shadow", body=SHADOWED)
        shadow = db.session.query(Comment).filter_by(author_name="Shadow").one()
        assert shadow.shadow is True

        run_worker()
        # The widget's poll tells the author it was published, as for anyone.
        expect(widget_comment(page, SHADOWED).get_by_text("Awaiting moderation")).to_have_count(0)
        expect(widget(page).get_by_role("heading", name="2 comments")).to_be_visible()

        # After a reload the thread leaves it out, and the widget puts it back for its author.
        # (Once the network is idle, so the reload cuts no request short, e.g. the favicon's.)
        page.wait_for_load_state("networkidle")
        page.reload()
        expect(widget_comment(page, SHADOWED)).to_be_visible()
        expect(widget_comment(page, SHADOWED).get_by_text("Awaiting moderation")).to_have_count(0)
        expect(widget(page).get_by_role("heading", name="2 comments")).to_be_visible()
        assert problems == []

        other = reader.new_page()
        other_problems = record_problems(other)
        other.goto(server.page("s1"))
        expect(widget_comment(other, "An ordinary published comment.")).to_be_visible()
        expect(widget(other).get_by_role("heading", name="1 comment")).to_be_visible()
        expect(widget_comment(other, SHADOWED)).to_have_count(0)

        listing = reader.new_page()
        listing_problems = record_problems(listing)
        listing.goto(server.list_page(2))
        expect(listing.locator('[data-talkback-count="s1"]')).to_have_text("1")
        assert other_problems == []
        assert listing_problems == []
    finally:
        author.close()
        reader.close()
