"""An author edits their published comment in the widget (real Chromium, real RQ worker): the
edit awaits moderation while the old text stays, then shows "(edited)" once approved."""

import pytest

from .browser_support import (
    AXE,
    AXE_RULES,
    expect,
    post_through_widget,
    record_problems,
    widget_comment,
)
from .helpers import POLITE

pytestmark = pytest.mark.browser

# The widget only: the test host page around it is not the widget's to fix.
AXE_WIDGET = """async (rules) => {
    const result = await axe.run({include: [["#talkback"]]}, {runOnly: rules});
    return result.violations.map(
        v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(", ")})`);
}"""
NEW_TEXT = "Update: the restoration finished this morning, thanks to the crews for the work."


def test_an_author_edits_within_the_window_and_sees_edited_after_approval(
    server, axe_context, context, run_worker
):
    # axe_context bypasses the page's CSP (axe is an injected script); the widget itself runs
    # under the strict CSP in the second reader's page below.
    page = axe_context.new_page()
    page.problems = record_problems(page)
    page.goto(server.page("a1"))
    post_through_widget(page)
    run_worker()
    mine = widget_comment(page, POLITE)
    expect(mine.get_by_role("button", name="Edit")).to_be_visible(timeout=15000)

    mine.get_by_role("button", name="Edit").click()
    form = page.get_by_role("form", name="Edit your comment")
    expect(form).to_be_visible()
    body = form.get_by_label("Comment", exact=True)
    expect(body).to_be_focused()
    expect(body).to_have_value(POLITE)
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(AXE_WIDGET, AXE_RULES) == []

    body.fill(NEW_TEXT)
    form.get_by_role("button", name="Save edit").click()
    expect(form).to_have_count(0)
    note = mine.get_by_text("Your edit is awaiting moderation.")
    expect(note).to_be_visible()
    # The published text stays until the edit is approved.
    expect(mine.locator(":scope > .tb-card .tb-body")).to_have_text(POLITE)
    assert page.evaluate(AXE_WIDGET, AXE_RULES) == []

    run_worker()
    edited = widget_comment(page, NEW_TEXT)
    expect(edited.get_by_text("(edited)")).to_be_visible(timeout=15000)
    expect(page.get_by_role("status")).to_have_text("Your edit was published.")
    expect(edited.get_by_text("Your edit is awaiting moderation.")).to_have_count(0)

    # Another reader (under the page's strict CSP) sees the new text, marked edited, no Edit.
    reader = context.new_page()
    reader.problems = record_problems(reader)
    reader.goto(server.page("a1"))
    theirs = widget_comment(reader, NEW_TEXT)
    expect(theirs.get_by_text("(edited)")).to_be_visible()
    expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)
    assert page.problems == [] and reader.problems == []


def test_the_edit_form_says_when_the_window_has_passed(server, context, run_worker):
    from datetime import timedelta

    from service.extensions import db
    from service.models import Comment

    page = context.new_page()
    page.goto(server.page("a1"))
    post_through_widget(page)
    run_worker()
    mine = widget_comment(page, POLITE)
    mine.get_by_role("button", name="Edit").click(timeout=15000)
    # The window closes while the form is open: the server refuses, and the form says why.
    comment = db.session.scalar(db.select(Comment))
    comment.created_at -= timedelta(seconds=301)
    db.session.commit()
    form = page.get_by_role("form", name="Edit your comment")
    form.get_by_label("Comment", exact=True).fill(NEW_TEXT)
    form.get_by_role("button", name="Save edit").click()
    expect(form.get_by_role("alert")).to_have_text("The time to edit this comment has passed.")
    expect(mine.locator(":scope > .tb-card .tb-body")).to_have_text(POLITE)


def test_the_console_edits_page_and_history_pass_axe(server, axe_context, make_user, site):
    from service.core import edits as editing
    from service.core.edits import RevisionDecision, record_revision_decision
    from service.models import RevisionStatus

    from .browser_support import open_console_at, seed, violations

    published = seed("a1", POLITE, name="Dana")
    made = editing.edit_comment(published.id, published.delete_token, {"body": NEW_TEXT})
    assert made.edit_status == "pending"
    revision = editing.latest_edit(published.id)
    held = RevisionDecision(revision.id, RevisionStatus.HELD, ["suspect word: maybe"], "worker")
    assert record_revision_decision(held, (RevisionStatus.PENDING,))
    make_user("mia", "moderator", sites=[site])
    page = open_console_at(axe_context, server, "mia", "/console/edits")
    expect(page.get_by_role("button", name=f"Approve edit #{revision.id}")).to_be_visible()
    assert violations(page) == []
    page.get_by_role("link", name=f"History of comment #{published.id}").click()
    expect(page.get_by_role("heading", name=f"History of comment #{published.id}")).to_be_visible()
    assert violations(page) == []
