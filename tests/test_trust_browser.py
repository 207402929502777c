"""Pre-moderating a hot story from the moderators' console in headless Chromium: the toggle on a
card's article line switches the article, by mouse or keyboard, and every card of that article
follows."""

import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import Article, OperatorAction

from .browser_support import card, decided_comment, expect, open_console, problems, wait_ready

pytestmark = pytest.mark.browser


def premoderated() -> bool:
    db.session.expire_all()
    return db.session.scalar(select(Article.premoderated).where(Article.external_id == "bridge"))


def test_a_moderator_pre_moderates_an_article_from_its_card(server, context, make_user):
    decided_comment("The first held remark about the bridge.", name="Gil")
    decided_comment("The second held remark about the bridge.", name="Eli")
    make_user("mia", sites=["demo"])

    page = open_console(context, server, "mia")
    wait_ready(page)
    first = card(page, "The first held").get_by_role("button", name="Pre-moderate article")
    second = card(page, "The second held").get_by_role("button", name="Pre-moderate article")
    expect(first).to_have_attribute("aria-pressed", "false")

    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(second).to_have_attribute("aria-pressed", "true")
    announcement = page.locator("[data-announce]")
    expect(announcement).to_contain_text("is pre-moderated: every new comment on it waits")
    assert premoderated() is True

    # From the keyboard, on the other card: Enter on the focused toggle switches it off.
    second.focus()
    page.keyboard.press("Enter")
    expect(second).to_have_attribute("aria-pressed", "false")
    expect(first).to_have_attribute("aria-pressed", "false")
    expect(announcement).to_contain_text("is no longer pre-moderated")
    assert premoderated() is False
    # The toggle decided nothing: both cards are still in the queue.
    expect(page.locator("li.card")).to_have_count(2)
    actions = db.session.scalars(select(OperatorAction.action).order_by(OperatorAction.id))
    assert list(actions) == ["article.premoderate", "article.unpremoderate"]
    assert problems(page) == []
