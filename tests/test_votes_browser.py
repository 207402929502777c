"""Likes, dislikes and "Top" in the reader widget, in headless Chromium (cross-origin, CSP)."""

import pytest
from sqlalchemy import update

from service.core import votes
from service.extensions import db
from service.models import Comment, Site

from .browser_support import AXE, expect, record_problems, seed, widget_comment

pytestmark = pytest.mark.browser

AXE_RUN = """async () => {
    const result = await axe.run({include: [["#talkback"]]}, {
        runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    });
    return result.violations.map(
        v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(", ")})`);
}"""


@pytest.fixture
def page(context):
    page = context.new_page()
    page.problems = record_problems(page)
    return page


def likes_of(comment_id: int) -> tuple[int, int]:
    db.session.expire_all()
    comment = db.session.get(Comment, comment_id)
    return comment.likes, comment.dislikes


def test_a_reader_likes_and_unlikes_and_the_widget_remembers(server, page):
    target = seed("a1", "A comment worth liking", name="Dana").id
    page.goto(server.page("a1"))
    card = widget_comment(page, "A comment worth liking")
    like = card.get_by_role("button", name="Like 0", exact=True)
    expect(like).to_have_attribute("aria-pressed", "false")
    # Dislikes are off on this site: no such button.
    expect(card.get_by_role("button", name="Dislike", exact=False)).to_have_count(0)

    like.click()
    liked = card.get_by_role("button", name="Like 1", exact=True)
    expect(liked).to_have_attribute("aria-pressed", "true")
    expect(liked.locator(".tb-count")).to_have_text("1")
    page.wait_for_function("() => localStorage.getItem('talkback:votes:demo') !== null")
    assert likes_of(target) == (1, 0)

    # After a reload the shared page may still be cached without the vote: the widget shows it.
    page.reload()
    liked = widget_comment(page, "A comment worth liking").get_by_role(
        "button", name="Like 1", exact=True
    )
    expect(liked).to_have_attribute("aria-pressed", "true")

    # Clicking again takes the vote back, and that is remembered too.
    liked.click()
    like = widget_comment(page, "A comment worth liking").get_by_role(
        "button", name="Like 0", exact=True
    )
    expect(like).to_have_attribute("aria-pressed", "false")
    page.wait_for_function(
        f"() => JSON.parse(localStorage.getItem('talkback:votes:demo'))['{target}'].v === null"
    )
    assert likes_of(target) == (0, 0)
    page.reload()
    expect(
        widget_comment(page, "A comment worth liking").get_by_role(
            "button", name="Like 0", exact=True
        )
    ).to_have_attribute("aria-pressed", "false")
    assert page.problems == []


def test_top_sort_dislikes_and_axe_on_the_new_state(app, server, chromium, site):
    app.config["RANK_EPOCH_SECONDS"] = 0  # each seeded vote re-ranks (default: every 5 min)
    db.session.execute(update(Site).where(Site.id == site.id).values(dislikes_enabled=True))
    db.session.commit()
    quiet = seed("a1", "A quiet comment", name="Quiet").id
    loved = seed("a1", "A much loved comment", name="Loved").id
    split = seed("a1", "A divisive comment", name="Split").id
    # Readers voted elsewhere (the service layer, as the API does).
    for n in range(6):
        votes.cast_vote(loved, f"key:loved-{n:04d}", "like", f"10.4.0.{n}")
    for n in range(4):
        votes.cast_vote(split, f"key:split-{n:04d}", "like" if n % 2 else "dislike", f"10.5.0.{n}")

    context = chromium.new_context(bypass_csp=True)  # axe is injected as a script
    try:
        page = context.new_page()
        page.problems = record_problems(page)
        page.goto(server.page("a1"))
        expect(page.get_by_role("heading", name="3 comments")).to_be_visible()
        bodies = page.locator("#talkback .tb-thread > li > .tb-card .tb-body")
        expect(bodies).to_have_text(
            ["A divisive comment", "A much loved comment", "A quiet comment"]
        )

        page.get_by_label("Sort by").select_option(label="Top comments")
        expect(bodies).to_have_text(
            ["A much loved comment", "A divisive comment", "A quiet comment"]
        )
        card = widget_comment(page, "A divisive comment")
        expect(card.get_by_role("button", name="Like 2", exact=True)).to_be_visible()
        dislike = card.get_by_role("button", name="Dislike 2", exact=True)
        dislike.click()
        expect(card.get_by_role("button", name="Dislike 3", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        # Changing a dislike into a like moves the vote.
        card.get_by_role("button", name="Like 2", exact=True).click()
        expect(card.get_by_role("button", name="Like 3", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(card.get_by_role("button", name="Dislike 2", exact=True)).to_have_attribute(
            "aria-pressed", "false"
        )
        page.wait_for_function(
            "() => (JSON.parse(localStorage.getItem('talkback:votes:demo')) || {})"
            f"['{split}']?.v === 'like'"
        )
        assert likes_of(split) == (3, 2)
        assert likes_of(quiet) == (0, 0)
        if AXE.exists():
            page.add_script_tag(path=str(AXE))
            assert page.evaluate(AXE_RUN) == []
        assert page.problems == []
    finally:
        context.close()


def test_load_more_after_the_ranking_moved_on_starts_again(app, server, page):
    app.config["RANK_EPOCH_SECONDS"] = 0  # each vote below starts a ranking epoch
    made = [seed("a1", f"Comment number {n}").id for n in range(3)]
    page.goto(server.page("a1", limit=2))
    page.get_by_label("Sort by").select_option(label="Top comments")
    bodies = page.locator("#talkback .tb-thread > li > .tb-card .tb-body")
    # No votes yet: every score is 0, ties by id (older first).
    expect(bodies).to_have_text(["Comment number 0", "Comment number 1"])
    # Two epochs pass while the reader reads: their cursor's scores are gone.
    votes.cast_vote(made[2], "key:voter-0001", "like", "10.6.0.1")
    votes.cast_vote(made[1], "key:voter-0002", "like", "10.6.0.2")
    page.get_by_role("button", name="Load more comments").click()
    expect(page.get_by_role("status")).to_have_text(
        "The ranking has changed: here are the top comments now."
    )
    expect(bodies).to_have_text(["Comment number 1", "Comment number 2"])
    assert [p for p in page.problems if "422" not in p] == []
