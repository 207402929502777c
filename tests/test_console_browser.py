"""The moderators' console in headless Chromium: log in, work queues from the keyboard, bulk
decisions, undo, live updates from a colleague, conflicts, audit and summary pages.

Screenshots go to docs/screenshots/ only with TALKBACK_SCREENSHOTS=1 (`make screenshots`).
"""

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from service.core import moderation, reports
from service.extensions import db
from service.models import Comment, CommentStatus, Site, utcnow

from .browser_support import (
    ARTICLE_TITLE,
    ARTICLE_URL,
    card,
    decided_comment,
    expect,
    open_console,
    problems,
    wait_ready,
)
from .helpers import status_of

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SAVE_SCREENSHOTS = os.environ.get("TALKBACK_SCREENSHOTS") == "1"
INSULT = "toxicity: insult: “idiot”"
# What the worker writes for a comment it holds for a suspect word and an insult.
GIL_REASONS = (
    "toxicity 0.71 ≥ hold threshold 0.60",
    "suspect word “clowns” (listed as “clown*”)",
    INSULT,
)
EVENTS = "**/api/v1/moderation/events*"


def save(target, name: str) -> None:
    """Save a screenshot of a page or element under docs/screenshots/, only when asked to."""
    if SAVE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if hasattr(target, "goto"):
            target.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        else:
            target.screenshot(path=str(SCREENSHOTS / name))
        assert (SCREENSHOTS / name).stat().st_size > 10_000


def cards(page):
    return page.locator("li.card")


def focused_text(page) -> str:
    """The body text of the focused card ('' when focus is not on a card)."""
    return page.evaluate(
        "document.activeElement.matches('li.card') ?"
        " document.activeElement.querySelector('.card-body').textContent.trim() : ''"
    )


def count_of(page, queue: str):
    return page.locator(f'[data-count-for="{queue}"]')


# ------------------------------------------------------------------------------- the held queue


def wait_for_statuses(ids, expected, seconds: float = 10) -> None:
    """Wait until the comments' stored statuses are as expected.

    The console updates the page as soon as a decision is sent; the server's commit may land a
    moment later, so the database is polled rather than read once.
    """
    deadline = time.monotonic() + seconds
    while True:
        actual = [status_of(comment_id) for comment_id in ids]
        if actual == list(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert actual == list(expected)


def wait_for_status(comment_id, expected: str) -> None:
    """Wait until one comment's stored status is as expected."""
    wait_for_statuses([comment_id], [expected])


def test_moderator_works_the_held_queue_from_the_keyboard(server, context, make_user):
    parent = decided_comment(
        "The toll is fair for trucks.", name="Avi", status=CommentStatus.APPROVED
    )
    decided_comment(
        "Only an idiot would pay this toll. The council are clowns.",
        name="Gil",
        reasons=GIL_REASONS,
        toxicity=0.71,
    )
    decided_comment(
        "Agreed, and the cycle lane is late.",
        name="Dana",
        parent_id=parent,
        commenter="dana-key-0001",
    )
    third = decided_comment("Third comment in the queue.", name="Eli")
    decided_comment("Fourth comment in the queue.", name="Fay")
    # Dana's history: one approved, one rejected earlier comment.
    decided_comment(
        "Earlier approved words.",
        name="Dana",
        status=CommentStatus.APPROVED,
        commenter="dana-key-0001",
    )
    decided_comment(
        "Earlier rejected words.",
        name="Dana",
        status=CommentStatus.REJECTED,
        commenter="dana-key-0001",
    )
    make_user("mia", sites=["demo"])

    page = open_console(context, server, "mia")
    assert page.url.endswith("/console/queue/held")
    wait_ready(page)
    expect(cards(page)).to_have_count(4)
    expect(count_of(page, "held")).to_have_text("4")
    expect(count_of(page, "approved")).to_have_text("2")
    expect(page.get_by_role("link", name="Held 4")).to_have_attribute("aria-current", "page")

    # The card: context, author, scores, every reason, the matched word highlighted.
    first = card(page, "Only an idiot")
    expect(first.locator(".card-author")).to_have_text("Gil")
    expect(first.get_by_role("link", name=ARTICLE_TITLE)).to_have_attribute("href", ARTICLE_URL)
    expect(first.locator(".card-body mark")).to_have_text(["idiot", "clowns"])
    expect(first.locator(".card-reasons li")).to_have_text(list(GIL_REASONS))
    # The word list's pattern (clown*) is not text of the comment: only the quoted match is marked.
    expect(first.locator(".card-reasons mark")).to_have_text(["clowns", "idiot"])
    expect(first.locator(".card-meta")).to_contain_text("Toxicity 0.71")
    reply = card(page, "Agreed, and the cycle lane")
    expect(reply.locator(".card-parent")).to_contain_text("In reply to Avi:")
    expect(reply.locator(".card-parent")).to_contain_text("The toll is fair for trucks.")
    expect(reply.locator(".card-history")).to_contain_text("1 approved, 1 rejected")
    expect(reply.locator(".card-recent li")).to_have_count(2)
    save(page, "console-queue.png")
    save(first, "console-card.png")

    # The first card has focus; j and k move it.
    page.evaluate("window.notReloaded = true")
    assert focused_text(page) == "Only an idiot would pay this toll. The council are clowns."
    page.keyboard.press("j")
    assert focused_text(page) == "Agreed, and the cycle lane is late."
    page.keyboard.press("k")
    assert focused_text(page) == "Only an idiot would pay this toll. The council are clowns."

    # a approves; focus moves to the next card and the decision is announced.
    page.keyboard.press("a")
    expect(cards(page)).to_have_count(3)
    expect(page.get_by_role("status")).to_contain_text("Approved the comment by Gil.")
    assert focused_text(page) == "Agreed, and the cycle lane is late."
    expect(count_of(page, "held")).to_have_text("3")

    # r rejects; u brings it back for a few seconds, focused again.
    page.keyboard.press("r")
    expect(cards(page)).to_have_count(2)
    assert focused_text(page) == "Third comment in the queue."
    expect(page.get_by_role("button", name="Undo")).to_contain_text("s)")
    db.session.expire_all()
    reply_id = db.session.scalar(db.select(Comment.id).where(Comment.parent_id == parent))
    wait_for_status(reply_id, "rejected")
    page.keyboard.press("u")
    expect(cards(page)).to_have_count(3)
    expect(page.get_by_role("status")).to_contain_text("Undone")
    expect(page.get_by_role("button", name="Undo")).to_be_hidden()
    assert focused_text(page) == "Agreed, and the cycle lane is late."
    wait_for_status(reply_id, "held")

    # ? opens the help dialog; Escape closes it and focus returns to the card.
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Undo the last decision")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    assert focused_text(page) == "Agreed, and the cycle lane is late."

    page.keyboard.press("j")
    page.keyboard.press("s")  # reject as spam
    expect(cards(page)).to_have_count(2)
    wait_for_status(third, "rejected")
    assert page.evaluate("window.notReloaded") is True
    assert problems(page) == []


def test_bulk_reject_with_x_and_shift_click_then_undo(server, context, make_user):
    ids = [decided_comment(f"Bulk candidate number {n}.", name=f"Bot {n}") for n in range(1, 6)]
    make_user("mia", sites=["demo"])
    page = open_console(context, server, "mia")
    wait_ready(page)
    expect(cards(page)).to_have_count(5)

    # x toggles the focused card; shift-click selects a range of checkboxes.
    page.keyboard.press("x")
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    page.keyboard.press("x")
    expect(page.locator("[data-toolbar]")).to_be_hidden()
    checkboxes = page.get_by_role("checkbox")
    checkboxes.nth(1).click()
    checkboxes.nth(3).click(modifiers=["Shift"])
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")
    expect(cards(page).nth(2)).to_have_class("card is-selected")

    page.get_by_role("button", name="Reject selected").click()
    expect(cards(page)).to_have_count(2)
    expect(page.get_by_role("status")).to_contain_text("Rejected 3 comments.")
    wait_for_statuses(ids, ["held", "rejected", "rejected", "rejected", "held"])
    expect(page.locator("[data-toolbar]")).to_be_hidden()
    expect(count_of(page, "rejected")).to_have_text("3")

    page.get_by_role("button", name="Undo").click()
    expect(cards(page)).to_have_count(5)
    expect(cards(page).locator(".card-body")).to_have_text(
        [f"Bulk candidate number {n}." for n in range(1, 6)]
    )
    wait_for_statuses(ids, ["held"] * 5)
    expect(count_of(page, "held")).to_have_text("5")
    assert problems(page) == []


# ---------------------------------------------------------------------- colleagues, conflicts


def test_colleagues_decision_disappears_live_and_a_stale_decision_conflicts(
    server, context, chromium, make_user
):
    first = decided_comment("First of three.", name="Ann")
    second = decided_comment("Second of three.", name="Ben")
    decided_comment("Third of three.", name="Cy")
    make_user("mia", sites=["demo"])
    make_user("noa", sites=["demo"])
    mia = open_console(context, server, "mia")
    other = chromium.new_context(viewport={"width": 1000, "height": 900})
    try:
        noa = open_console(other, server, "noa")
        wait_ready(mia)
        wait_ready(noa)
        expect(cards(mia)).to_have_count(3)

        # Noa approves the first card: it leaves Mia's screen without a reload.
        noa.keyboard.press("a")
        expect(cards(noa)).to_have_count(2)
        expect(card(mia, "First of three.")).to_have_count(0, timeout=10_000)
        expect(mia.get_by_role("status")).to_contain_text("approved by noa")
        expect(count_of(mia, "held")).to_have_text("2")
        assert focused_text(mia) == "Second of three."
        wait_for_status(first, "approved")

        # A new comment appears on both screens by itself.
        decided_comment("A late arrival.", name="Dov")
        expect(card(mia, "A late arrival.")).to_have_count(1, timeout=10_000)
        expect(count_of(mia, "held")).to_have_text("3")

        # Mia's page stops hearing about events (as if the poll hadn't come yet) ...
        mia.route(EVENTS, lambda route: route.fulfill(json={"events": [], "last": 10**6}))
        mia.wait_for_timeout(300)
        noa.keyboard.press("r")  # ... while Noa rejects the second card.
        expect(cards(noa)).to_have_count(2)
        wait_for_status(second, "rejected")
        expect(card(mia, "Second of three.")).to_have_count(1)
        mia.keyboard.press("a")
        expect(mia.get_by_role("alert")).to_have_text(
            "Another moderator already rejected this comment."
        )
        expect(card(mia, "Second of three.")).to_have_count(0)
        wait_for_status(second, "rejected")
        assert focused_text(mia) == "Third of three."
        assert [p for p in problems(mia) if "409" not in p] == []
        assert problems(noa) == []
    finally:
        other.close()


# ------------------------------------------------------------------ tabs, sites, post-moderation


def test_tabs_site_filter_reported_and_removing_an_approved_comment(server, context, make_user):
    db.session.add(Site(key="other", name="Other Times"))
    db.session.commit()
    decided_comment("Held on demo, one.", name="Ann")
    decided_comment("Held on demo, two.", name="Ben")
    decided_comment("Held on the other site.", name="Cy", site="other")
    published = decided_comment("A published comment.", name="Dee", status=CommentStatus.APPROVED)
    for key, reason in (("reader-key-0001", "abusive"), ("reader-key-0002", "spam")):
        note = "Rude to the reporter." if reason == "abusive" else None
        reports.report_comment(
            published, {"reason": reason, "note": note, "commenter_key": key}, None
        )
    make_user("root", role="operator")
    make_user("mia", sites=["demo"])

    page = open_console(context, server, "root")
    wait_ready(page)
    expect(cards(page)).to_have_count(3)
    expect(count_of(page, "held")).to_have_text("3")
    expect(count_of(page, "reported")).to_have_text("1")

    # Filter by site: a GET form, so the filtered view is a link.
    page.get_by_label("Site").select_option("other")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**site=other**")
    wait_ready(page)
    expect(cards(page)).to_have_count(1)
    expect(cards(page).locator(".card-site")).to_have_text("other")
    expect(count_of(page, "held")).to_have_text("1")
    expect(count_of(page, "reported")).to_have_text("0")

    # The reported queue shows how many readers reported it, why, and their notes.
    page.get_by_label("Site").select_option("")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name="Reported 1").click()
    wait_ready(page)
    reported = card(page, "A published comment.")
    expect(reported.locator(".card-reports")).to_contain_text("Reported 2 times: abusive 1, spam 1")
    expect(reported.locator(".card-report-notes li")).to_have_text(["Rude to the reporter."])

    # Post-moderation: an approved comment is removed later from the approved queue.
    page.get_by_role("link", name="Approved").click()
    wait_ready(page)
    removed = card(page, "A published comment.")
    expect(removed.get_by_role("button", name="Approve")).to_have_count(0)
    removed.get_by_role("button", name="Remove").click()
    expect(removed).to_have_count(0)
    wait_for_status(published, "rejected")
    assert problems(page) == []

    # A moderator of demo only is offered demo only, and sees no other site's comments.
    moderator = context.browser.new_context()
    try:
        mia = open_console(moderator, server, "mia")
        wait_ready(mia)
        expect(mia.get_by_label("Site").locator("option")).to_have_text(
            ["All my sites", "Demo Daily (demo)"]
        )
        expect(cards(mia)).to_have_count(2)
    finally:
        moderator.close()


# ------------------------------------------------------------------------- audit and summary


def test_audit_filters_and_summary_of_overturned_automatic_decisions(server, context, make_user):
    db.session.add(Site(key="other", name="Other Times"))
    db.session.commit()
    make_user("root", role="operator")
    make_user("mia", sites=["demo", "other"])
    make_user("noa", sites=["demo"])
    wrongly_rejected = decided_comment(
        "Not toxic at all, just blunt.",
        status=CommentStatus.REJECTED,
        reasons=("toxicity 0.93 ≥ reject threshold 0.90", INSULT),
    )
    held_demo = decided_comment("Held and approved by Noa.")
    held_other = decided_comment("Held on the other site.", site="other")
    moderation.decide(wrongly_rejected, "approve", "rejected", "moderator:mia")
    moderation.decide(held_demo, "approve", "held", "moderator:noa")
    moderation.decide(held_other, "reject", "held", "moderator:mia", reason="spam")

    page = open_console(context, server, "root", "/console/audit")
    response = page.goto(server.page_origin + "/console/audit")
    headers = response.headers
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    rows = page.locator("table.audit-table tbody tr")
    # Three moderator decisions and six worker decisions (every seeded comment).
    expect(rows).to_have_count(9)
    save(page, "console-audit.png")

    page.get_by_label("Moderator").select_option("mia")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("moderator:mia")
    expect(rows.first).to_contain_text("spam")
    page.get_by_label("Site").select_option("other")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("held → rejected")
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    page.get_by_label("From").fill(tomorrow)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No decisions match these filters.")).to_be_visible()

    page.get_by_role("link", name="Summary").click()
    table = page.locator("table.summary-table")
    mia = table.locator("tr", has=page.get_by_role("rowheader", name="moderator:mia"))
    expect(mia.locator("td")).to_have_text(["1", "1", "0", "1", "toxicity ≥ reject threshold: 1"])
    noa = table.locator("tr", has=page.get_by_role("rowheader", name="moderator:noa"))
    expect(noa.locator("td")).to_have_text(["1", "0", "0", "0", "—"])
    expect(page.locator('[data-automatic="rejected"]')).to_have_text("1")
    expect(page.locator('[data-automatic="held"]')).to_have_text("2")
    assert problems(page) == []


def test_console_pages_need_a_login_and_forbid_framing(server, context):
    page = context.new_page()
    for path in ("/console/", "/console/queue/held", "/console/audit", "/console/summary"):
        response = page.goto(server.page_origin + path)
        assert "/console/login" in page.url, path
        assert response.headers["x-frame-options"] == "DENY"
    response = page.request.get(
        server.page_origin + "/api/v1/moderation/queues/held", max_redirects=0
    )
    assert response.status == 401
    assert json.loads(response.text())["error"]["code"] == "unauthorized"
