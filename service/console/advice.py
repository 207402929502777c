"""The console's threshold advice page: a site's advice in words, and applying it in one click.

Operators and the site's moderators read it; only operators apply it (a plain form with its CSRF
token, no JavaScript). The page's options are a GET form, so a view of the advice is a link.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from service.console import forms
from service.core import advice, sites
from service.errors import ConflictError, NotFoundError, TalkbackError
from service.models import Site
from service.schemas.advice import DEFAULT_DAYS, DEFAULT_HOLD_TOLERANCE, DEFAULT_REJECT_TOLERANCE
from service.web import auth

bp = Blueprint("console_advice", __name__, url_prefix="/console")
bp.after_request(auth.console_security_headers)

LABELS = {
    "toxicity_hold": "Toxicity: hold at",
    "toxicity_reject": "Toxicity: reject at",
    "spam_hold": "Spam: hold at",
    "spam_reject": "Spam: reject at",
}
OPTION_LABELS = {
    "days": "Days",
    "hold_tolerance": "Rejected let through (%)",
    "reject_tolerance": "Approved rejected (%)",
    "thresholds": "Thresholds to change",
    "fingerprint": "Advice",
}
FIX_OPTIONS = "Please correct the options marked below."
NOT_APPLIED = "Nothing was applied."
DEFAULTS = {
    "days": DEFAULT_DAYS,
    "hold_tolerance": DEFAULT_HOLD_TOLERANCE,
    "reject_tolerance": DEFAULT_REJECT_TOLERANCE,
}


def _site_for(key: str) -> Site:
    """Return the site, or answer 404."""
    try:
        return sites.get_site(key)
    except NotFoundError:
        abort(404)


def _not_yours():
    page = render_template(
        "console/error.html",
        title="Not your site",
        message="You don't moderate this site, so you can't see its threshold advice.",
    )
    return page, 403


def _options(source) -> dict[str, str]:
    """Return the page's options as typed (query or form), defaults where none was given."""
    return forms.AdviceOptionsForm(source).options(DEFAULTS)


def _page(
    site: Site,
    options: dict,
    status: int = 200,
    errors: dict | None = None,
    headline: str = FIX_OPTIONS,
):
    """Render the advice (computed now) with the options; errors go above it."""
    user = auth.current_user()
    errors = dict(errors or {})
    computed = None
    try:
        computed = advice.threshold_advice(site.key, options, site_ids=user.site_ids())
    except TalkbackError as error:
        for name, messages in (error.fields or {"": [error.message]}).items():
            errors.setdefault(name, []).extend(messages)
        status = 422
    page = render_template(
        "console/advice.html",
        site=site,
        user=user,
        advice=computed,
        options=options,
        errors=errors,
        labels=LABELS,
        option_labels=OPTION_LABELS,
        headline=headline,
        number=advice.number,
    )
    return page, status


@bp.get("/sites/<key>/advice")
@auth.login_required
def advice_page(key: str):
    """Show a site's threshold advice: the moderators' decisions, each threshold now and advised."""
    site = _site_for(key)
    if not auth.current_user().can_moderate(site.id):
        return _not_yours()
    return _page(site, _options(request.args))


@bp.post("/sites/<key>/advice")
@auth.operator_required
def advice_apply(key: str):
    """Apply the advice the operator read (its fingerprint), or show the new one if it changed."""
    site = _site_for(key)
    options = _options(request.form)
    form = forms.AdviceApplyForm(formdata=request.form)
    if not form.validate():
        return _page(site, options, 422, form.field_errors(), NOT_APPLIED)
    data = {**options, "thresholds": form.thresholds.data, "fingerprint": form.fingerprint.data}
    try:
        result = advice.apply_advice(key, data, actor=auth.current_actor())
    except ConflictError as error:
        # Show the advice as it is now, with what changed, instead of applying a stale one.
        return _page(site, options, 409, {"": [error.message]}, NOT_APPLIED)
    except TalkbackError as error:
        fields = {name: messages for name, messages in error.fields.items() if name != "_schema"}
        return _page(site, options, error.status, fields or {"": [error.message]}, NOT_APPLIED)
    if result["applied"]:
        changed = ", ".join(
            f"{name.replace('_', ' ')} {advice.number(change['from'])} → "
            f"{advice.number(change['to'])}"
            for name, change in result["applied"].items()
        )
        flash(f"Applied: {changed}. The operators' log has the advice's figures.", "notice")
    else:
        flash("Nothing to change: the thresholds already match the advice.", "notice")
    return redirect(url_for("console_advice.advice_page", key=key, **options))
