"""The console's Webhooks page of a site (operators): endpoints, the delivery log, resends.

Server-rendered forms with CSRF tokens calling service.core.webhooks; a new or rotated secret is
shown on the page once (never flashed, never stored in clear).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from service.core import sites, webhooks
from service.errors import NotFoundError, TalkbackError
from service.web import auth

bp = Blueprint("console_webhooks", __name__, url_prefix="/console")
bp.after_request(auth.console_security_headers)

LOG_LIMIT = 50
EVENT_HINTS = {
    "comment.published": "a comment is approved",
    "comment.rejected": "a comment is rejected",
    "comment.deleted": "its author deletes a published comment",
    "comment.edited": "an approved edit replaces a published comment's text",
    "report.created": "a reader reports a comment",
    "ban.created": "a ban is added",
}
LABELS = {"url": "URL", "events": "Events"}


def _site(key: str):
    try:
        return sites.get_site(key)
    except NotFoundError:
        abort(404)


def _page(key: str, *, status: int = 200, errors=None, form=None, new_secret=None):
    site = _site(key)
    endpoints = webhooks.list_endpoints(key)
    page = render_template(
        "console/webhooks.html",
        site=site,
        endpoints=[webhooks.endpoint_dict(e) for e in endpoints],
        deliveries=[
            webhooks.delivery_dict(d) for d in webhooks.list_deliveries(key, limit=LOG_LIMIT)
        ],
        events=EVENT_HINTS,
        errors=errors or {},
        form=form or {"url": "", "events": list(webhooks.EVENTS), "allow_private": False},
        new_secret=new_secret,
        labels=LABELS,
    )
    return page, status


@bp.get("/sites/<key>/webhooks")
@auth.operator_required
def webhook_page(key: str):
    """Show a site's endpoints and its latest deliveries."""
    return _page(key)


@bp.post("/sites/<key>/webhooks")
@auth.operator_required
def webhook_add(key: str):
    """Register an endpoint; its secret is shown on the page this once."""
    _site(key)
    form = {
        "url": request.form.get("url", "").strip(),
        "events": request.form.getlist("events"),
        "allow_private": request.form.get("allow_private") == "1",
    }
    try:
        endpoint, secret = webhooks.create_endpoint(
            key,
            form["url"],
            form["events"],
            actor=auth.current_actor(),
            allow_private=form["allow_private"],
        )
    except TalkbackError as error:
        return _page(key, status=422, errors=error.fields or {"": [error.message]}, form=form)
    return _page(key, new_secret=(endpoint.id, secret))


@bp.post("/sites/<key>/webhooks/<int:webhook_id>/rotate")
@auth.operator_required
def webhook_rotate(key: str, webhook_id: int):
    """Give an endpoint a new secret (shown once); the old one also signs for a day."""
    _site(key)
    try:
        endpoint, secret = webhooks.rotate_secret(key, webhook_id, actor=auth.current_actor())
    except NotFoundError:
        abort(404)
    return _page(key, new_secret=(endpoint.id, secret))


@bp.post("/sites/<key>/webhooks/<int:webhook_id>/active")
@auth.operator_required
def webhook_active(key: str, webhook_id: int):
    """Pause or resume an endpoint."""
    _site(key)
    active = request.form.get("active") == "1"
    try:
        webhooks.update_endpoint(key, webhook_id, actor=auth.current_actor(), active=active)
    except NotFoundError:
        abort(404)
    flash(f"Webhook {webhook_id} {'resumed' if active else 'paused'}.", "notice")
    return redirect(url_for("console_webhooks.webhook_page", key=key))


@bp.post("/sites/<key>/webhooks/<int:webhook_id>/delete")
@auth.operator_required
def webhook_delete(key: str, webhook_id: int):
    """Remove an endpoint and its delivery log."""
    _site(key)
    try:
        webhooks.delete_endpoint(key, webhook_id, actor=auth.current_actor())
    except NotFoundError:
        abort(404)
    flash(f"Webhook {webhook_id} removed.", "notice")
    return redirect(url_for("console_webhooks.webhook_page", key=key))


@bp.post("/sites/<key>/webhook-deliveries/<int:delivery_id>/resend")
@auth.operator_required
def delivery_resend(key: str, delivery_id: int):
    """Send a delivery's event again, as a new delivery."""
    _site(key)
    try:
        copy = webhooks.resend(key, delivery_id, actor=auth.current_actor())
    except NotFoundError:
        abort(404)
    flash(f"Delivery {delivery_id} queued again as delivery {copy.id}.", "notice")
    return redirect(url_for("console_webhooks.webhook_page", key=key))
