"""The console's operator pages and the cards' Ban button in headless Chromium.

An operator creates a site in the console and the widget then works on a page of the site's
origin, and not on a page of any other origin; a moderator bans a commenter from a moderation
card and an operator lifts the ban on the bans page.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, Response, render_template_string
from werkzeug.serving import make_server

from service.core import comments
from service.extensions import db
from service.models import Ban, Comment, CommentStatus, OperatorAction, Site
from service.schemas.comments import CommentSubmitSchema
from service.widget.demo import content_security_policy

from .browser_support import card, expect, open_console_at, problems, record_problems
from .helpers import POLITE, status_of

pytestmark = pytest.mark.browser

# A newsroom's article page on its own server, embedding the widget of the comment host (`api`).
ARTICLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Launch day</title></head>
<body><h1>Launch day</h1><div id="talkback"></div>
<script src="{{ api }}/embed.js" data-site="{{ site }}" data-article="launch-day" async></script>
</body></html>"""


@contextlib.contextmanager
def newsroom(api: str, site: str) -> Iterator[int]:
    """Serve the article page from a second server on 127.0.0.1; yield its port.

    The same page is then reachable from two origins, http://localhost:PORT and
    http://127.0.0.1:PORT, of which the operator allows one.
    """
    app = Flask("newsroom")

    @app.get("/")
    def article() -> Response:
        page = render_template_string(ARTICLE_PAGE, api=api, site=site)
        response = Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = content_security_policy(api)
        return response

    app.add_url_rule("/favicon.ico", "favicon", lambda: Response(status=204))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="newsroom", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def held_comment(body: str, *, name: str, ip: str, commenter: str | None = None) -> int:
    """Store a comment as the worker would have held it; return its id."""
    fields = {"author_name": name, "body": body, "commenter_key": commenter}
    data = CommentSubmitSchema().load({k: v for k, v in fields.items() if v is not None})
    comment_id = comments.submit_comment("demo", "bridge", data, comments.Client(ip=ip)).id
    record = comments.DecisionRecord(comment_id, CommentStatus.HELD, ["held for review"])
    comments.record_decision(record, CommentStatus.PENDING, actor="worker")
    return comment_id


def test_operator_creates_a_site_and_the_widget_works_from_its_origin_only(
    server, context, make_user
):
    make_user("olga", role="operator")
    with newsroom(server.api_origin, "launch") as port:
        allowed, other = f"http://localhost:{port}", f"http://127.0.0.1:{port}"

        console = open_console_at(context, server, "olga", "/console/sites")
        expect(console.get_by_role("link", name="Sites")).to_have_attribute("aria-current", "page")
        console.get_by_label("Key", exact=True).fill("launch")
        console.get_by_label("Name").fill("Launch Weekly")
        # A mistake first: the error is shown beside the field, and the input kept.
        console.get_by_label("Allowed origins").fill(f"localhost:{port}")
        console.get_by_role("button", name="Create site").click()
        origins = console.get_by_label("Allowed origins")
        expect(origins).to_have_attribute("aria-invalid", "true")
        expect(console.locator("#f-allowed-origins-error")).to_contain_text(
            "must start with http:// or https://"
        )
        expect(console.get_by_label("Key", exact=True)).to_have_value("launch")
        origins.fill(allowed)
        console.get_by_role("button", name="Create site").click()
        console.wait_for_url("**/console/sites/launch")
        expect(console.get_by_role("status")).to_contain_text("Site “Launch Weekly” (launch)")
        expect(console.get_by_label("Allowed origins")).to_have_value(allowed)
        site = db.session.scalar(db.select(Site).where(Site.key == "launch"))
        assert site.allowed_origins == [allowed]
        assert db.session.scalar(db.select(OperatorAction.actor)) == "moderator:olga"

        # The page on the allowed origin: the thread loads and a reader posts (202, granted).
        reader = context.new_page()
        reader.problems = record_problems(reader)
        reader.goto(f"{allowed}/")
        expect(reader.get_by_role("heading", name="0 comments")).to_be_visible()
        reader.get_by_role("button", name="New comment").click()
        reader.get_by_label("Name", exact=True).fill("Noa")
        reader.get_by_label("Comment", exact=True).fill(POLITE)
        with reader.expect_response(lambda r: r.request.method == "POST") as posted:
            reader.get_by_role("button", name="Post comment").click()
        assert posted.value.status == 202
        assert posted.value.headers["access-control-allow-origin"] == allowed
        expect(reader.get_by_text("Awaiting moderation", exact=True)).to_be_visible()
        db.session.expire_all()
        [stored] = db.session.scalars(db.select(Comment)).all()
        assert stored.site_id == site.id and stored.body_text == POLITE
        assert problems(reader) == []

        # The same page on another origin: no CORS grant, the request fails, the widget says so.
        stranger = context.new_page()
        stranger.problems = record_problems(stranger)
        failed: list[str] = []
        stranger.on("requestfailed", lambda request: failed.append(request.url))
        stranger.goto(f"{other}/")
        alert = stranger.get_by_role("alert")
        expect(alert).to_contain_text("Comments could not be loaded.")
        expect(stranger.get_by_role("button", name="New comment")).to_be_hidden()
        expect(stranger.get_by_text(POLITE)).to_have_count(0)
        assert any("/api/v1/sites/launch/articles/launch-day/comments" in url for url in failed)
        assert [p for p in stranger.problems if p.startswith("page error")] == []
    # Nothing went wrong on the console but the refused first attempt (a 422 page, which
    # Chromium also reports as a failed load).
    assert problems(console)
    assert all("422" in line and "/console/sites" in line for line in problems(console))


def test_moderator_bans_a_commenter_from_a_card_and_an_operator_lifts_it(
    server, context, chromium, make_user
):
    make_user("mia", sites=["demo"])
    make_user("olga", role="operator")
    troll = {"name": "Troll", "ip": "203.0.113.7", "commenter": "troll-key-0001"}
    first = held_comment("Buy cheap watches at my shop.", **troll)
    second = held_comment("Cheap watches, again and again.", **troll)
    fine = held_comment("The bridge toll is too high for vans.", name="Dana", ip="198.51.100.4")
    shadow = held_comment("Nobody else can see this one.", name="Shade", ip="192.0.2.55")
    db.session.get(Comment, shadow).shadow = True
    db.session.commit()

    page = open_console_at(context, server, "mia", "/console/queue/held")
    expect(page.locator("#queue-app[data-ready]")).to_have_count(1)
    expect(page.locator("li.card")).to_have_count(4)
    # A comment sent under a shadow ban is marked for moderators.
    expect(card(page, "Nobody else can see").get_by_text("Shadow-banned")).to_be_visible()
    expect(card(page, "Buy cheap watches").get_by_text("Shadow-banned")).to_have_count(0)

    # The dialog is a real, labelled dialog; Escape closes it and focus returns to the button.
    ban_button = card(page, "Buy cheap watches").get_by_role("button", name="Ban")
    ban_button.click()
    dialog = page.get_by_role("dialog", name="Ban Troll")
    expect(dialog).to_be_visible()
    # Only the targets this comment carries: a commenter key and an address, no email.
    expect(dialog.get_by_label("The commenter (their browser's commenter key)")).to_be_checked()
    expect(dialog.get_by_label("Their IP address")).to_be_visible()
    expect(dialog.get_by_label("Their email address")).to_be_hidden()
    expect(dialog.get_by_label("Their email domain")).to_be_hidden()
    # A moderator bans on this site only.
    expect(dialog.get_by_label("Where").locator("option")).to_have_text(["This site (demo)"])
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(ban_button).to_be_focused()
    assert db.session.scalar(db.select(db.func.count()).select_from(Ban)) == 0

    # The keyboard opens it too (b), on the focused card; the reason is required.
    card(page, "Buy cheap watches").click(position={"x": 5, "y": 5})
    page.keyboard.press("b")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Add ban").click()
    expect(dialog.get_by_text("Say why")).to_be_visible()
    expect(dialog.get_by_label("Reason (for moderators)")).to_be_focused()
    dialog.get_by_label("Reason (for moderators)").fill("Watch spam in every thread")
    dialog.get_by_label("Public reason (optional, shown to them)").fill("Advertising")
    dialog.get_by_label("Reject their existing comments").check()
    dialog.get_by_role("button", name="Add ban").click()

    # Both of the troll's cards leave the queue as rejected; the others stay.
    expect(dialog).to_be_hidden()
    expect(page.locator("li.card")).to_have_count(2)
    expect(card(page, "bridge toll")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "Banned the commenter of Troll on demo. 2 comments rejected."
    )
    expect(page.locator('[data-count-for="held"]')).to_have_text("2")
    assert [status_of(first), status_of(second), status_of(fine)] == [
        "rejected",
        "rejected",
        "held",
    ]
    db.session.expire_all()
    [ban] = db.session.scalars(db.select(Ban)).all()
    assert (ban.target_type.value, ban.target_value, ban.kind.value) == (
        "commenter_key",
        "troll-key-0001",
        "hard",
    )
    assert ban.created_by == "moderator:mia" and ban.rejected_count == 2
    assert ban.public_reason == "Advertising"

    # Banning the next card's author without rejecting: the card stays, marked Banned.
    dana = card(page, "bridge toll")
    dana.get_by_role("button", name="Ban").click()
    dialog = page.get_by_role("dialog", name="Ban Dana")
    dialog.get_by_label("Shadow: accept their comments, show them to nobody else").check()
    dialog.get_by_label("Their IP address").check()
    dialog.get_by_label("Reason (for moderators)").fill("Testing the waters")
    dialog.get_by_role("button", name="Add ban").click()
    expect(dialog).to_be_hidden()
    expect(dana.locator(".card-meta").get_by_text("Banned", exact=True)).to_be_visible()
    assert problems(page) == []

    # The bans page lists both; an operator (in another browser) lifts the first, confirming.
    olga = chromium.new_context()
    try:
        lift_as_operator(olga, server, ban, first)
    finally:
        olga.close()


def lift_as_operator(context, server, ban: Ban, comment_id: int) -> None:
    """Lift the ban on the bans page as the operator olga, then check the operators' log."""
    admin = open_console_at(context, server, "olga", "/console/bans")
    row = admin.locator(f'tr[data-ban="{ban.id}"]')
    expect(row).to_contain_text(f"commenter of comment #{comment_id}")
    expect(row).to_contain_text("Watch spam in every thread")
    expect(admin.locator("tr[data-ban]")).to_have_count(2)
    expect(admin.get_by_text("IP of comment")).to_be_visible()
    questions: list[str] = []

    def confirm(prompt) -> None:
        questions.append(prompt.message)
        prompt.accept()

    admin.once("dialog", confirm)
    row.get_by_role("button", name=f"Lift ban #{ban.id}").click()
    expect(admin.get_by_role("status")).to_contain_text(f"Ban #{ban.id} on ")
    assert questions == [
        f"Lift ban #{ban.id} on commenter of comment #{comment_id}? "
        "They will be able to comment again."
    ]
    expect(admin.locator(f'tr[data-ban="{ban.id}"]')).to_have_count(0)
    db.session.expire_all()
    assert db.session.get(Ban, ban.id).lifted_by == "moderator:olga"
    admin.get_by_label("Show lifted and expired bans").check()
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator(f'tr[data-ban="{ban.id}"]')).to_contain_text("lifted by olga")

    # The operators' log has every step.
    admin.get_by_role("link", name="Log").click()
    expect(admin.locator("tr[data-action]")).to_have_count(3)
    expect(admin.locator('tr[data-action="ban.lift"]')).to_contain_text("moderator:olga")
    assert problems(admin) == []
