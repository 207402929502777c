"""The reader widget in headless Chromium, embedded cross-origin on a page with a strict CSP.

Pages open at http://localhost:PORT and the widget comes from http://127.0.0.1:PORT, so every
API call is a real CORS request granted by the site's allowed origins.
"""

import re

import pytest

from service.extensions import db
from service.models import Comment, CommentStatus, Report

from .browser_support import (
    AXE,
    allow_origins,
    composer,
    expect,
    post_through_widget,
    record_problems,
    seed,
    widget,
    widget_comment,
)
from .helpers import POLITE, status_of

pytestmark = pytest.mark.browser

DISCARD_TEXT = "This will delete your current comment."


@pytest.fixture
def page(context):
    page = context.new_page()
    page.problems = record_problems(page)
    return page


def dialog(page):
    return page.get_by_role("alertdialog")


def active_label(page) -> str:
    """Describe the element focused inside the widget: its text, or its field's label."""
    return page.locator("#talkback").evaluate(
        """host => {
            const el = host.shadowRoot.activeElement;
            if (!el) return "";
            if (el.labels && el.labels.length) return "field:" + el.labels[0].textContent;
            return el.textContent.trim();
        }"""
    )


def draft_in_storage(page):
    return page.evaluate("JSON.parse(localStorage.getItem('talkback:draft:demo:a1'))")


# ------------------------------------------------------------------------------------- reading


def test_reads_a_threaded_paged_thread_with_tombstones_deep_replies_and_sort(server, page):
    roots = [seed("a1", f"Top comment {n}", name=f"Reader {n}").id for n in range(1, 24)]
    newest = roots[-1]
    r1 = seed("a1", "Reply depth one", name="Avi", parent_id=newest).id
    r2 = seed("a1", "Reply depth two", name="Ben", parent_id=r1).id
    r3 = seed("a1", "Reply depth three", name="Gil", parent_id=r2).id
    seed("a1", "Reply depth four", name="Dor", parent_id=r3)
    # Top comment 22 is deleted by its author but keeps a published reply: a tombstone.
    seed("a1", "Reply under a deleted comment", name="Eli", parent_id=roots[-2])
    gone = db.session.get(Comment, roots[-2])
    gone.status = CommentStatus.DELETED
    db.session.commit()

    page.goto(server.page("a1"))
    expect(page.get_by_role("heading", name="27 comments")).to_be_visible()
    top = page.locator("ol.tb-thread > li")
    expect(top).to_have_count(20)  # one page of top-level comments
    expect(top.first.locator(":scope > .tb-card .tb-body")).to_have_text("Top comment 23")
    expect(top.first.locator(".tb-author").first).to_have_text("Reader 23")

    # Replies are nested and indented.
    reply = widget_comment(page, "Reply depth one")
    parent_box = top.first.locator(":scope > .tb-card").bounding_box()
    reply_box = reply.locator(":scope > .tb-card").bounding_box()
    assert reply_box["x"] > parent_box["x"] + 10

    # Deep replies wait behind "show more replies".
    expect(page.get_by_text("Reply depth two")).to_be_visible()
    expect(page.get_by_text("Reply depth three")).to_be_hidden()
    page.get_by_role("button", name="Show 2 more replies").click()
    expect(page.get_by_text("Reply depth three")).to_be_visible()
    expect(page.get_by_text("Reply depth four")).to_be_visible()

    # The deleted comment is a tombstone that still holds its reply.
    tombstone = top.nth(1)
    expect(tombstone.locator(":scope > .tb-tombstone")).to_have_text("This comment was deleted.")
    expect(tombstone.get_by_text("Reply under a deleted comment")).to_be_visible()
    expect(tombstone.get_by_text("Top comment 22")).to_have_count(0)

    # Load more by cursor, until there is no more.
    page.get_by_role("button", name="Load more comments").click()
    expect(top).to_have_count(23)
    expect(top.last.locator(":scope > .tb-card .tb-body")).to_have_text("Top comment 1")
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()

    # Oldest first.
    page.get_by_label("Sort by").select_option("oldest")
    expect(top.first.locator(":scope > .tb-card .tb-body")).to_have_text("Top comment 1")
    expect(top).to_have_count(20)

    # Relative times with a machine-readable datetime.
    time = top.first.locator("time").first
    expect(time).to_have_text(re.compile(r"^(now|\d+ seconds? ago)$"))
    assert time.get_attribute("datetime").endswith("Z")
    assert page.problems == []


def test_empty_thread_invites_the_first_comment(server, page):
    page.goto(server.page("nothing-yet"))
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    expect(page.get_by_text("No comments yet. Be the first to comment.")).to_be_visible()
    assert page.problems == []


# ------------------------------------------------------------------- writing and moderation


def test_posted_comment_awaits_moderation_then_appears_for_everyone_without_reload(
    server, page, context, chromium, run_worker
):
    page.goto(server.page("a1"))
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    page.get_by_role("button", name="New comment").click()
    # The composer opens with focus on its first field; fields are labelled.
    assert active_label(page) == "field:Name"
    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Email (optional, never shown)").fill("noa@example.com")
    page.get_by_label("Title (optional)").fill("Finally")
    page.get_by_label("Comment", exact=True).fill(POLITE)
    page.get_by_role("button", name="Post comment").click()

    mine = widget_comment(page, POLITE)
    expect(mine.get_by_text("Awaiting moderation")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Thanks! Your comment is awaiting moderation.")
    expect(composer(page)).to_have_count(0)
    [stored] = db.session.scalars(db.select(Comment)).all()
    assert stored.status == CommentStatus.PENDING
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", stored.commenter_key)
    assert stored.title == "Finally"
    own = page.evaluate("JSON.parse(localStorage.getItem('talkback:own:demo'))")
    assert own[str(stored.id)]["token"]

    # Nobody else sees it yet.
    other = chromium.new_context()
    try:
        reader = other.new_page()
        reader.goto(server.page("a1"))
        expect(reader.get_by_role("heading", name="0 comments")).to_be_visible()

        run_worker()
        assert status_of(stored.id) == "approved"

        # The author's page notices by polling, without a reload.
        expect(mine.get_by_text("Awaiting moderation")).to_have_count(0, timeout=15000)
        expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text("Your comment was published.")
        expect(mine.get_by_role("button", name="Delete")).to_be_visible()
        expect(mine.get_by_role("heading", name="Finally")).to_be_visible()

        # A second reader sees it like any other comment (no Delete: it isn't theirs).
        reader.reload()
        theirs = widget_comment(reader, POLITE)
        expect(theirs.locator(".tb-author")).to_have_text("Noa")
        expect(theirs.get_by_role("button", name="Report")).to_be_visible()
        expect(theirs.get_by_role("button", name="Delete")).to_have_count(0)
        expect(reader.get_by_role("heading", name="1 comment")).to_be_visible()
    finally:
        other.close()

    # Name and email are remembered for the next comment.
    page.get_by_role("button", name="New comment").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Noa")
    expect(page.get_by_label("Email (optional, never shown)")).to_have_value("noa@example.com")
    assert active_label(page) == "field:Comment"  # the first field still to fill
    assert page.problems == []


def test_rejected_comment_tells_its_author_it_was_not_published(server, page, run_worker):
    page.goto(server.page("a1"))
    post_through_widget(page, body="you are a worthless idiot and everyone knows it")
    run_worker()
    notice = page.locator(".tb-rejected")
    expect(notice).to_contain_text("Your comment was not published", timeout=15000)
    expect(page.get_by_role("status")).to_contain_text("Your comment was not published")
    assert page.evaluate("localStorage.getItem('talkback:own:demo')") == "{}"
    assert page.problems == []


def test_reply_is_posted_under_its_parent(server, page):
    parent = seed("a1", "What about the toll?", name="Dana").id
    page.goto(server.page("a1"))
    widget_comment(page, "What about the toll?").get_by_role("button", name="Reply").click()
    form = widget_comment(page, "What about the toll?").locator("form.tb-composer")
    expect(form.get_by_text("Replying to Dana")).to_be_visible()
    form.get_by_label("Name", exact=True).fill("Noa")
    form.get_by_label("Comment", exact=True).fill("Heavy vehicles only, as far as I know.")
    form.get_by_role("button", name="Post comment").click()
    reply = widget_comment(page, "What about the toll?").locator(
        ".tb-replies li.tb-pending, .tb-replies"
    )
    expect(reply.get_by_text("Awaiting moderation")).to_be_visible()
    stored = db.session.scalars(db.select(Comment).where(Comment.parent_id == parent)).one()
    assert stored.body_text == "Heavy vehicles only, as far as I know."


def test_client_checks_and_server_errors_show_next_to_their_fields(server, page):
    page.goto(server.page("a1"))
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Email (optional, never shown)").fill("not-an-email")
    page.get_by_role("button", name="Post comment").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Required.")
    expect(page.get_by_label("Comment", exact=True)).to_have_accessible_description("Required.")
    expect(page.get_by_label("Email (optional, never shown)")).to_have_accessible_description(
        "Enter a valid email address, or leave it empty."
    )
    assert active_label(page) == "field:Name"  # focus goes to the first field to fix
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0

    # The server's 422 (markup only, nothing left) lands next to the body field.
    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Email (optional, never shown)").fill("")
    page.get_by_label("Comment", exact=True).fill("<img src=x>")
    page.get_by_role("button", name="Post comment").click()
    body = page.get_by_label("Comment", exact=True)
    expect(body).to_have_accessible_description("Write some text; markup alone is not a comment.")
    expect(composer(page).locator(".tb-form-error")).to_have_text(
        "The comment has no text once markup is removed."
    )
    expect(body).to_have_value("<img src=x>")  # the text is kept


def test_network_failure_and_rate_limit_keep_the_text_and_say_what_to_do(server, page):
    page.goto(server.page("a1"))
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Comment", exact=True).fill("Kept through any failure")
    post = "**/api/v1/sites/demo/articles/a1/comments"

    page.route(
        post, lambda route: route.abort() if route.request.method == "POST" else route.fallback()
    )
    page.get_by_role("button", name="Post comment").click()
    expect(composer(page).locator(".tb-form-error")).to_contain_text(
        "The comment server could not be reached. Your text is kept"
    )
    page.unroute(post)

    page.route(
        post,
        lambda route: (
            route.fulfill(
                status=429,
                headers={
                    "Access-Control-Allow-Origin": server.page_origin,
                    "Access-Control-Expose-Headers": "Retry-After",
                    "Retry-After": "42",
                    "Content-Type": "application/json",
                },
                body='{"error": {"code": "rate_limited", "message": "Slow down.", "fields": {}}}',
            )
            if route.request.method == "POST"
            else route.fallback()
        ),
    )
    page.get_by_role("button", name="Post comment").click()
    expect(composer(page).locator(".tb-form-error")).to_have_text(
        "You are posting too fast. Your text is kept; try again in 42 seconds."
    )
    expect(page.get_by_label("Comment", exact=True)).to_have_value("Kept through any failure")


# ------------------------------------------------------------------------------ the draft flow


def test_new_comment_over_a_reply_draft_asks_cancel_keeps_and_confirm_discards(server, page):
    seed("a1", "Parent comment", name="Dana")
    page.goto(server.page("a1"))
    parent = widget_comment(page, "Parent comment")
    parent.get_by_role("button", name="Reply").click()
    reply_form = parent.locator("form.tb-composer")
    reply_form.get_by_label("Comment", exact=True).fill("My reply draft")
    assert draft_in_storage(page)["body"] == "My reply draft"

    new_button = page.get_by_role("button", name="New comment")
    # Cancel with Escape: everything stays as it was, focus returns to the button.
    new_button.click()
    expect(dialog(page)).to_be_visible()
    expect(dialog(page)).to_contain_text(DISCARD_TEXT)
    assert active_label(page) == "Keep writing"
    page.keyboard.press("Tab")  # focus is trapped in the dialog
    assert active_label(page) == "Delete comment"
    page.keyboard.press("Tab")
    assert active_label(page) == "Keep writing"
    page.keyboard.press("Escape")
    expect(dialog(page)).to_be_hidden()
    assert active_label(page) == "New comment"
    expect(reply_form.get_by_label("Comment", exact=True)).to_have_value("My reply draft")
    expect(composer(page)).to_have_count(1)

    # Cancel with the button: the same.
    new_button.click()
    dialog(page).get_by_role("button", name="Keep writing").click()
    expect(reply_form.get_by_label("Comment", exact=True)).to_have_value("My reply draft")
    assert draft_in_storage(page)["body"] == "My reply draft"

    # Confirm: the draft is gone and the new composer opens at the top, empty.
    new_button.click()
    dialog(page).get_by_role("button", name="Delete comment").click()
    expect(parent.locator("form.tb-composer")).to_have_count(0)
    top_form = page.locator(".tb-top-slot form.tb-composer")
    expect(top_form).to_have_count(1)
    expect(top_form.get_by_label("Comment", exact=True)).to_have_value("")
    assert draft_in_storage(page) is None
    assert active_label(page) == "field:Name"
    assert page.problems == []


def test_reply_over_a_new_comment_draft_asks_cancel_keeps_and_confirm_discards(server, page):
    seed("a1", "First parent", name="Dana")
    seed("a1", "Second parent", name="Gil")
    page.goto(server.page("a1"))
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Title (optional)").fill("Just a title counts as text")

    first = widget_comment(page, "First parent")
    first.get_by_role("button", name="Reply").click()
    expect(dialog(page)).to_contain_text(DISCARD_TEXT)
    dialog(page).get_by_role("button", name="Keep writing").click()
    expect(page.locator(".tb-top-slot form.tb-composer")).to_have_count(1)
    expect(first.locator("form.tb-composer")).to_have_count(0)
    assert active_label(page) == "Reply"

    first.get_by_role("button", name="Reply").click()
    dialog(page).get_by_role("button", name="Delete comment").click()
    expect(page.locator(".tb-top-slot form.tb-composer")).to_have_count(0)
    expect(first.locator("form.tb-composer")).to_have_count(1)
    expect(first.get_by_label("Title (optional)")).to_have_value("")

    # Reply on another comment while this reply has text: asks too.
    first.get_by_label("Comment", exact=True).fill("Reply to the first")
    second = widget_comment(page, "Second parent")
    second.get_by_role("button", name="Reply").click()
    dialog(page).get_by_role("button", name="Keep writing").click()
    expect(first.get_by_label("Comment", exact=True)).to_have_value("Reply to the first")
    second.get_by_role("button", name="Reply").click()
    dialog(page).get_by_role("button", name="Delete comment").click()
    expect(second.locator("form.tb-composer")).to_have_count(1)
    expect(composer(page)).to_have_count(1)


def test_draft_survives_a_reload_and_closing_with_text_asks(server, page):
    seed("a1", "Parent comment", name="Dana")
    page.goto(server.page("a1"))
    parent = widget_comment(page, "Parent comment")
    parent.get_by_role("button", name="Reply").click()
    parent.get_by_label("Name", exact=True).fill("Noa")
    parent.get_by_label("Comment", exact=True).fill("Half-written reply")

    page.reload()
    form = widget_comment(page, "Parent comment").locator("form.tb-composer")
    expect(form.get_by_label("Comment", exact=True)).to_have_value("Half-written reply")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Noa")

    # Closing with text asks; cancel keeps it open.
    form.get_by_role("button", name="Cancel").click()
    expect(dialog(page)).to_contain_text(DISCARD_TEXT)
    dialog(page).get_by_role("button", name="Keep writing").click()
    expect(form).to_be_visible()
    assert active_label(page) == "Cancel"
    form.get_by_role("button", name="Cancel").click()
    dialog(page).get_by_role("button", name="Delete comment").click()
    expect(composer(page)).to_have_count(0)
    assert draft_in_storage(page) is None

    page.reload()
    expect(widget_comment(page, "Parent comment")).to_be_visible()
    expect(composer(page)).to_have_count(0)


def test_empty_drafts_never_ask(server, page):
    seed("a1", "Parent comment", name="Dana")
    page.goto(server.page("a1"))
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Name", exact=True).fill("Only a name is not a draft")
    widget_comment(page, "Parent comment").get_by_role("button", name="Reply").click()
    expect(widget_comment(page, "Parent comment").locator("form.tb-composer")).to_have_count(1)
    expect(page.locator(".tb-top-slot form.tb-composer")).to_have_count(0)
    page.get_by_role("button", name="New comment").click()
    expect(page.locator(".tb-top-slot form.tb-composer")).to_have_count(1)
    composer(page).get_by_role("button", name="Cancel").click()
    expect(composer(page)).to_have_count(0)
    expect(dialog(page)).to_be_hidden()
    assert draft_in_storage(page) is None


def test_the_draft_is_shared_across_tabs(server, page, context):
    page.goto(server.page("a1"))
    other = context.new_page()
    other.goto(server.page("a1"))
    expect(other.get_by_role("heading", name="0 comments")).to_be_visible()
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Comment", exact=True).fill("Typed in the first tab")
    expect(other.get_by_label("Comment", exact=True)).to_have_value("Typed in the first tab")
    composer(page).get_by_role("button", name="Cancel").click()
    dialog(page).get_by_role("button", name="Delete comment").click()
    expect(composer(other)).to_have_count(0)


# ------------------------------------------------------------------------ delete and report


def test_author_deletes_their_comment_after_confirming(server, page, run_worker):
    page.goto(server.page("a1"))
    post_through_widget(page)
    run_worker()
    mine = widget_comment(page, POLITE)
    expect(mine.get_by_text("Awaiting moderation")).to_have_count(0, timeout=15000)
    page.reload()
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()

    mine.get_by_role("button", name="Delete").click()
    expect(dialog(page)).to_contain_text("Delete your comment?")
    dialog(page).get_by_role("button", name="Cancel").click()
    expect(mine).to_be_visible()
    assert active_label(page) == "Delete"

    mine.get_by_role("button", name="Delete").click()
    dialog(page).get_by_role("button", name="Delete", exact=True).click()
    expect(mine).to_have_count(0)
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your comment was deleted.")
    assert db.session.scalars(db.select(Comment.status)).one() == CommentStatus.DELETED
    assert page.evaluate("localStorage.getItem('talkback:own:demo')") == "{}"
    page.reload()
    expect(page.get_by_text("No comments yet.")).to_be_visible()
    assert page.problems == []


def test_reader_reports_a_comment(server, page):
    target = seed("a1", "Buy cheap watches now", name="Spammer").id
    page.goto(server.page("a1"))
    spam = widget_comment(page, "Buy cheap watches now")
    spam.get_by_role("button", name="Report").click()
    form = spam.locator("form.tb-report")
    expect(form.get_by_role("group", name="Why are you reporting this comment?")).to_be_visible()

    # "Other" needs a note.
    form.get_by_label("Other").check()
    form.get_by_role("button", name="Send report").click()
    expect(form.get_by_label("Tell us more")).to_have_accessible_description(
        "Tell us what is wrong (required for “Other”)."
    )
    form.get_by_label("Spam").check()
    form.get_by_label("Tell us more").fill("Same link on every story")
    form.get_by_role("button", name="Send report").click()
    expect(spam.get_by_text("Thanks. A moderator will look at this comment.")).to_be_visible()
    expect(spam.get_by_role("button", name="Report")).to_have_count(0)
    report = db.session.scalars(db.select(Report)).one()
    assert (report.comment_id, report.reason.value, report.note) == (
        target,
        "spam",
        "Same link on every story",
    )
    assert report.reporter_key
    assert page.problems == []


# ---------------------------------------------------------------------- languages and access


def test_hebrew_page_renders_right_to_left_with_hebrew_strings(server, page):
    parent = seed("a1", "תגובה ראשונה", name="דנה").id
    seed("a1", "תשובה", name="נועה", parent_id=parent)
    page.goto(server.page("a1", lang="he"))
    root = widget(page)
    expect(page.get_by_role("heading", name="2 תגובות")).to_be_visible()
    expect(root).to_have_attribute("dir", "rtl")
    expect(root).to_have_attribute("lang", "he")
    expect(page.get_by_role("button", name="תגובה חדשה")).to_be_visible()
    expect(page.get_by_label("מיון לפי")).to_be_visible()
    # Replies are indented from the right.
    top = widget_comment(page, "תגובה ראשונה").locator(":scope > .tb-card").bounding_box()
    reply = widget_comment(page, "תשובה").locator(":scope > .tb-card").bounding_box()
    assert reply["x"] + reply["width"] < top["x"] + top["width"] - 10
    # User text decides its own direction.
    expect(widget_comment(page, "תשובה").locator(".tb-author")).to_have_attribute("dir", "auto")
    expect(widget_comment(page, "תשובה").locator(".tb-body")).to_have_attribute("dir", "auto")

    page.get_by_role("button", name="תגובה חדשה").click()
    expect(page.get_by_label("שם", exact=True)).to_be_focused()
    page.get_by_label("תגובה", exact=True).fill("טיוטה")
    widget_comment(page, "תגובה ראשונה").locator(":scope > .tb-card").get_by_role(
        "button", name="הגב"
    ).click()
    expect(dialog(page)).to_contain_text("פעולה זו תמחק את התגובה הנוכחית שלכם.")
    page.keyboard.press("Escape")
    assert page.problems == []


def test_keyboard_only_reader_can_post(server, page):
    page.goto(server.page("a1"))
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    page.keyboard.press("Tab")  # the first focusable thing on the page is the widget's button
    assert active_label(page) == "New comment"
    page.keyboard.press("Enter")
    assert active_label(page) == "field:Name"
    page.keyboard.type("Keyboard Kim")
    page.keyboard.press("Tab")  # email
    page.keyboard.press("Tab")  # title
    page.keyboard.press("Tab")
    assert active_label(page) == "field:Comment"
    page.keyboard.type(POLITE)
    page.keyboard.press("Tab")
    assert active_label(page) == "Post comment"
    page.keyboard.press("Enter")
    expect(widget_comment(page, POLITE).get_by_text("Awaiting moderation")).to_be_visible()
    # Focus moved to the new comment, so the reader knows where it is.
    assert page.locator("#talkback").evaluate(
        "host => host.shadowRoot.activeElement.classList.contains('tb-card')"
    )


def test_axe_finds_no_accessibility_violations_in_the_widget(server, chromium):
    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run `make install` (needs npm)")
    parent = seed("a1", "A published comment", name="Dana", title="A title").id
    seed("a1", "A reply", name="Noa", parent_id=parent)
    # axe is injected as a script, which the page's CSP would (rightly) refuse.
    context = chromium.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(server.page("a1"))
        expect(page.get_by_role("heading", name="2 comments")).to_be_visible()
        page.add_script_tag(path=str(AXE))
        run = """async () => {
            const result = await axe.run({include: [["#talkback"]]}, {
                runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
            });
            return result.violations.map(
                v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(", ")})`);
        }"""
        assert page.evaluate(run) == []
        # With the composer (after a failed submit) and a report form open.
        page.get_by_role("button", name="New comment").click()
        page.get_by_role("button", name="Post comment").click()
        widget_comment(page, "A reply").get_by_role("button", name="Report").click()
        assert page.evaluate(run) == []
        # With the confirm dialog open.
        page.get_by_role("button", name="Reply").first.click()
        page.get_by_role("button", name="New comment").click()
        composer(page).get_by_label("Comment", exact=True).fill("Text")
        widget_comment(page, "A reply").get_by_role("button", name="Reply").click()
        expect(dialog(page)).to_be_visible()
        assert page.evaluate(run) == []
    finally:
        context.close()


def test_widget_on_an_origin_the_site_does_not_allow_says_so_readably(server, page, site):
    allow_origins(site, "https://news.example")
    seed("a1", "Not for this page")
    page.goto(server.page("a1"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Comments could not be loaded.")
    expect(alert.get_by_role("button", name="Try again")).to_be_visible()
    expect(page.get_by_text("Not for this page")).to_have_count(0)
    expect(page.get_by_role("button", name="New comment")).to_be_hidden()
    # The browser reports the refused CORS request; the widget itself throws nothing.
    assert [p for p in page.problems if p.startswith("page error")] == []


# ------------------------------------------------------------------------------- counts


def test_count_script_fills_counts_with_one_request(server, page):
    for number in range(3):
        seed("s1", f"Comment {number} on s1")
    seed("s3", "One on s3")
    seed("s3", "Held back", approve=False)  # not counted: not published
    requests = []
    page.on("request", lambda r: "/counts" in r.url and requests.append(r.url))
    page.goto(server.list_page(5))
    counts = page.locator("[data-talkback-count]")
    expect(counts.nth(1)).to_have_text("3")
    expect(counts.nth(3)).to_have_text("1")
    expect(counts.nth(0)).to_have_text("0")
    assert len(requests) == 1
    assert page.problems == []


def test_count_script_asks_for_at_most_100_articles_at_a_time(server, page):
    seed("s149", "The last one")
    requests = []
    page.on("request", lambda r: "/counts" in r.url and requests.append(r.url))
    page.goto(server.list_page(150))
    expect(page.locator('[data-talkback-count="s149"]')).to_have_text("1")
    expect(page.locator('[data-talkback-count="s0"]')).to_have_text("0")
    assert len(requests) == 2
    assert page.problems == []
