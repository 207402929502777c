"""The console's edits page: authors' edits held for a moderator, each beside the comment's
published text, decided with plain forms; and a comment's history (original and every edit)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from service.console.queue import sites_of
from service.core.moderation import edits
from service.errors import TalkbackError
from service.web import auth

bp = Blueprint("console_edits", __name__, url_prefix="/console")
bp.after_request(auth.console_security_headers)

EDITS_PAGE_SIZE = 50


@bp.get("/edits")
@auth.login_required
def edit_list():
    """List held edits (oldest first) on the moderator's sites, the current and proposed text."""
    user = auth.current_user()
    user_sites = sites_of(user)
    keys = {site.key for site in user_sites}
    site = request.args.get("site") or None
    site = site if site in keys else None
    page = edits.list_edits(user.site_ids(), site=site, limit=EDITS_PAGE_SIZE)
    return render_template(
        "console/edits.html", user=user, sites=user_sites, site=site, edits=page["edits"]
    )


@bp.post("/edits/<int:revision_id>/decision")
@auth.login_required
def edit_decision(revision_id: int):
    """Approve or reject an edit; its author reads the reason given on a rejection."""
    user = auth.current_user()
    action = request.form.get("action")
    if action not in edits.EDIT_ACTIONS:
        flash("Choose approve or reject.", "error")
        return redirect(url_for("console_edits.edit_list"))
    reason = (request.form.get("reason") or "").strip()[:200] or None
    try:
        decided = edits.decide_edit(
            revision_id,
            action,
            actor=auth.current_actor(),
            site_ids=user.site_ids(),
            reason=reason,
        )
    except TalkbackError as error:
        flash(error.message, "error")
    else:
        flash(f"Edit #{decided['id']} {decided['status']}.", "notice")
    return redirect(url_for("console_edits.edit_list", site=request.args.get("site") or None))


@bp.get("/comments/<int:comment_id>/history")
@auth.login_required
def history(comment_id: int):
    """Show a comment's original text and every edit with its decision."""
    user = auth.current_user()
    found = edits.comment_history(comment_id, user.site_ids())
    return render_template("console/history.html", user=user, history=found)
