"""Operator pages of the console: sites, bans and the operators' log.

Server-rendered forms, each with its CSRF token, that call the service layer (core.sites,
core.bans, core.operator_log). A refused change renders the form again with what was typed
and each error next to its field: the service names fields as the forms do ("allowed_origins",
"policy.toxicity_hold"). Sites and the log are for operators; bans for moderators too, limited
to their sites.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from service.console import forms
from service.core import articles, bans, exports, operator_log, sites, sso
from service.errors import NotFoundError, TalkbackError
from service.models import Ban, BanKind, BanTarget, Site, User
from service.web import auth

bp = Blueprint("console_admin", __name__, url_prefix="/console")
bp.after_request(auth.console_security_headers)

LANGUAGES = {"en": "English", "he": "Hebrew (עברית)"}
SIGN_IN_CHOICES = {
    "anonymous": "Anyone (no sign-in needed)",
    "links": "Anyone, but a comment with a link needs a signed-in reader",
    "required": "Only readers signed in with the site's login (SSO)",
}
POLICY_MODES = {
    "post": "Post-moderation: scores decide, moderators review",
    "pre": "Pre-moderation: every comment waits for a moderator",
}
RATE_LIMITS = {
    "submit": "Posting comments",
    "report": "Reporting",
    "delete": "Deleting",
    "vote": "Voting",
}
THRESHOLDS = {
    "toxicity_hold": "Toxicity: hold at",
    "toxicity_reject": "Toxicity: reject at",
    "spam_hold": "Spam: hold at",
    "spam_reject": "Spam: reject at",
}
# Graduated trust and the commenter's record: (label, hint), in the form's order.
RECORD_SETTINGS = {
    "trusted_after": (
        "Trust a commenter after (published comments)",
        "With none rejected in the record window, their comments are held only at the trusted "
        "threshold. 0: trust nobody.",
    ),
    "trusted_hold": (
        "Trusted commenters: hold at",
        "A score from 0 to 1, not below the hold thresholds above.",
    ),
    "record_days": (
        "Record window (days)",
        "How far back trust and the rejection share look at a commenter's decided comments.",
    ),
    "rejection_rate_hold": (
        "Hold at this share of rejections",
        "From 0 to 1: 0.5 holds a commenter half of whose decided comments in the window were "
        "rejected. 0: off.",
    ),
    "rejection_rate_min": (
        "…once they have (decided comments)",
        "Fewer decided comments in the window don't count.",
    ),
}
WORD_LISTS = {
    "banned_words": "Banned words (rejected)",
    "suspect_words": "Suspect words (held for a moderator)",
    "allowed_domains": "Allowed link domains (links there never count as spam)",
    "denied_domains": "Denied link domains (comments linking there are rejected)",
}
# The edit form's fields by the names the service gives errors under, for the error summary.
SITE_LABELS = {
    "name": "Name",
    "language": "Widget language",
    "allowed_origins": "Allowed origins",
    "min_comment_length": "Shortest comment",
    "max_comment_length": "Longest comment",
    "auto_close_days": "Close articles after",
    "edit_window_seconds": "Edit window",
    "sign_in": "Who may comment",
    "dislikes_enabled": "Readers may dislike comments",
    "queue_alert_minutes": "Queue alert after",
    "policy.mode": "Mode",
    **{f"policy.{name}": label for name, label in THRESHOLDS.items()},
    "policy.new_commenter_holds": "Hold a new commenter's first comments",
    "policy.velocity_limit": "Velocity limit",
    "policy.hold_links": "Hold comments with links",
    **{f"policy.{name}": label for name, (label, _) in RECORD_SETTINGS.items()},
    **{f"policy.{name}": label.split(" (")[0] for name, label in WORD_LISTS.items()},
    **{f"rate_limits.{name}": f"Rate limit: {label}" for name, label in RATE_LIMITS.items()},
    "moderators": "Moderators",
    "article": "Pre-moderate an article",
}
TARGETS = {
    BanTarget.COMMENTER_KEY.value: "Commenter key",
    BanTarget.EMAIL.value: "Email address",
    BanTarget.IP.value: "IP address",
    BanTarget.NETWORK.value: "IP network (/24 or /48)",
    BanTarget.EMAIL_DOMAIN.value: "Email domain",
    BanTarget.SSO_ID.value: "SSO id (the publisher's user id; one site)",
}
KINDS = {
    BanKind.HARD.value: "Hard: refuse their comments, with a message",
    BanKind.SHADOW.value: "Shadow: accept their comments, show them to nobody else",
    BanKind.HOLD.value: "Hold: accept their comments, and hold every one for a moderator "
    "(they are never told)",
}
# The log's filter: prefixes of the action names (service.core.operator_log).
ACTION_KINDS = {
    "site.": "Sites",
    "article.": "Articles",
    "ban.": "Bans",
    "privacy.": "Privacy",
    "edit.": "Edits",
}
ALL_SITES = forms.ALL_SITES
LOG_LIMIT = 200
FIX_FIELDS = "Nothing was saved. Please correct the fields marked below."


def _error_map(fields: dict) -> dict[str, list[str]]:
    """Flatten a service error's fields ({"policy": {"x": [..]}} → "policy.x") and drop list
    indexes ("allowed_origins.2" → "allowed_origins"), so each names one input of the form."""
    flat: dict[str, list[str]] = {}

    def add(name: str, messages) -> None:
        if isinstance(messages, dict):
            for key, value in messages.items():
                add(f"{name}.{key}" if name else str(key), value)
            return
        parts = [part for part in name.replace("[", ".").replace("]", "").split(".") if part]
        # "_schema" is marshmallow's name for errors about the whole form.
        name = ".".join(part for part in parts if not part.isdigit() and part != "_schema")
        items = messages if isinstance(messages, list | tuple) else [messages]
        flat.setdefault(name, []).extend(str(item) for item in items)

    add("", fields or {})
    return flat


# --- Sites ------------------------------------------------------------------------------------


def _site_form_values(site: Site) -> dict:
    """Return a site's settings as the edit form's input values (the effective policy)."""
    settings = sites.site_dict(site)
    policy = settings["effective_policy"]
    values = {
        "name": site.name,
        "language": site.language,
        "allowed_origins": "\n".join(settings["allowed_origins"]),
        "min_comment_length": site.min_comment_length,
        "max_comment_length": site.max_comment_length,
        "auto_close_days": "" if site.auto_close_days is None else site.auto_close_days,
        "edit_window_seconds": site.edit_window_seconds,
        "sign_in": site.sign_in,
        "dislikes_enabled": site.dislikes_enabled,
        "queue_alert_minutes": "" if site.queue_alert_minutes is None else site.queue_alert_minutes,
        "moderators": settings["moderators"],
    }
    for name, value in policy.items():
        is_list = isinstance(value, list | tuple)
        values[f"policy.{name}"] = "\n".join(value) if is_list else value
    for name in RATE_LIMITS:
        values[f"rate_limits.{name}"] = settings["rate_limits"].get(name, "")
    return values


def _find_site(key: str) -> Site:
    """Return the site, or answer 404."""
    try:
        return sites.get_site(key)
    except NotFoundError:
        abort(404)


def _rate_defaults() -> dict[str, str]:
    """Return the configured rate limits, shown where a site has none of its own."""
    from flask import current_app

    return {name: current_app.config[f"RATE_LIMIT_{name.upper()}"] for name in RATE_LIMITS}


def _sites_page(status: int = 200, *, new: dict | None = None, errors: dict | None = None):
    listed = sites.list_sites(include_closed=True)
    page = render_template(
        "console/sites.html",
        sites=listed,
        moderators=sites.moderator_names(site.id for site in listed),
        new=new or {},
        errors=errors or {},
    )
    return page, status


@bp.get("/sites")
@auth.operator_required
def site_list():
    """List every site, with a form to create one."""
    return _sites_page()


@bp.post("/sites")
@auth.operator_required
def site_create():
    """Create a site from the short form; its other settings are edited on its own page."""
    form = forms.SiteCreateForm(formdata=request.form)
    try:
        site = sites.create_site(form.settings(), actor=auth.current_actor())
    except TalkbackError as error:
        return _sites_page(422, new=form.typed(), errors=_site_errors(error))
    flash(f"Site “{site.name}” ({site.key}) created. Set its moderation policy below.", "notice")
    return redirect(url_for("console_admin.site_edit", key=site.key))


def _site_errors(error: TalkbackError) -> dict[str, list[str]]:
    errors = _error_map(error.fields)
    if not errors:
        errors[""] = [error.message]
    return errors


def _edit_page(
    site: Site,
    values: dict,
    errors: dict | None = None,
    status: int = 200,
    premoderate: str = "",
    new_secret: tuple[str, str] | None = None,
):
    page = render_template(
        "console/site_edit.html",
        site=site,
        values=values,
        errors=errors or {},
        premoderated=articles.premoderated_articles(site.key, site_ids=None),
        premoderate=premoderate,
        record_settings=RECORD_SETTINGS,
        accounts=sites.moderator_accounts(),
        languages=LANGUAGES,
        sign_in_policies=SIGN_IN_CHOICES,
        sso_keys=sso.list_keys(site.key),
        new_secret=new_secret,
        modes=POLICY_MODES,
        rate_limits=RATE_LIMITS,
        rate_defaults=_rate_defaults(),
        thresholds=THRESHOLDS,
        word_lists=WORD_LISTS,
        fix_fields=FIX_FIELDS,
        labels=SITE_LABELS,
    )
    return page, status


@bp.get("/sites/<key>")
@auth.operator_required
def site_edit(key: str):
    """Show every setting of a site in one form."""
    site = _find_site(key)
    return _edit_page(site, _site_form_values(site))


@bp.post("/sites/<key>")
@auth.operator_required
def site_update(key: str):
    """Save the site's settings and its moderators; on errors show the form again."""
    site = _find_site(key)
    form = forms.SiteEditForm(formdata=request.form)
    if not form.validate():
        return _edit_page(site, form.raw_values(), form.field_errors(), 422)
    data = form.settings(sites.site_dict(site)["effective_policy"])
    try:
        sites.update_site(key, data, actor=auth.current_actor())
        # set_moderators logs and commits only when the list changed.
        sites.set_moderators(key, form.moderator_names(), actor=auth.current_actor())
    except TalkbackError as error:
        return _edit_page(_find_site(key), form.raw_values(), _site_errors(error), 422)
    flash("Settings saved.", "notice")
    return redirect(url_for("console_admin.site_edit", key=key))


@bp.post("/sites/<key>/sso-keys")
@auth.operator_required
def site_sso_key_add(key: str):
    """Add a sign-in key; an HS256 secret is shown on the page this once (never flashed)."""
    site = _find_site(key)
    form = request.form
    try:
        added, secret = sso.add_key(
            key,
            form.get("algorithm", ""),
            actor=auth.current_actor(),
            kid=form.get("kid", "").strip() or None,
            secret=None,
            public_key=form.get("public_key", "").strip() or None,
        )
    except TalkbackError as error:
        errors = {f"sso.{name}": messages for name, messages in error.fields.items()}
        return _edit_page(site, _site_form_values(site), errors or {"": [error.message]}, 422)
    if secret is None:
        flash(f"Sign-in key “{added.kid}” ({added.algorithm}) added.", "notice")
        return redirect(url_for("console_admin.site_edit", key=key))
    return _edit_page(site, _site_form_values(site), new_secret=(added.kid, secret))


@bp.post("/sites/<key>/sso-keys/<kid>/retire")
@auth.operator_required
def site_sso_key_retire(key: str, kid: str):
    """Retire a sign-in key: tokens it signed are refused from now on."""
    _find_site(key)
    try:
        sso.retire_key(key, kid, actor=auth.current_actor())
    except NotFoundError:
        abort(404)
    flash(f"Sign-in key “{kid}” retired.", "notice")
    return redirect(url_for("console_admin.site_edit", key=key))


@bp.post("/sites/<key>/premoderation")
@auth.operator_required
def site_premoderation(key: str):
    """Switch an article's pre-moderation from the site's page; on errors show the page again."""
    site = _find_site(key)
    form = forms.PremoderationForm(formdata=request.form)
    article_id, switch_on = form.article.data, form.premoderated.data
    try:
        articles.set_premoderated(
            key, article_id, switch_on, actor=auth.current_actor(), site_ids=None
        )
    except TalkbackError as error:
        errors = _site_errors(error)
        return _edit_page(site, _site_form_values(site), errors, 422, premoderate=article_id)
    if switch_on:
        flash(
            f"Article “{article_id}” is pre-moderated: its new comments wait for a moderator.",
            "notice",
        )
    else:
        flash(f"Article “{article_id}” is no longer pre-moderated.", "notice")
    return redirect(url_for("console_admin.site_edit", key=key, _anchor="premoderated-heading"))


@bp.post("/sites/<key>/close")
@auth.operator_required
def site_close(key: str):
    """Close a site: its threads stay readable (and reportable), it takes no new comments."""
    _find_site(key)
    try:
        sites.close_site(key, actor=auth.current_actor())
    except TalkbackError as error:
        flash(error.message, "error")
    else:
        flash("The site is closed: its threads stay readable, new comments are refused.", "notice")
    return redirect(url_for("console_admin.site_edit", key=key))


@bp.post("/sites/<key>/reopen")
@auth.operator_required
def site_reopen(key: str):
    """Reopen a closed site."""
    _find_site(key)
    try:
        sites.reopen_site(key, actor=auth.current_actor())
    except TalkbackError as error:
        flash(error.message, "error")
    else:
        flash("The site is open again.", "notice")
    return redirect(url_for("console_admin.site_edit", key=key))


@bp.get("/sites/<key>/export")
@auth.operator_required
def site_export(key: str):
    """Download every article and comment of a site as JSON Lines, streamed as it is read."""
    site = _find_site(key)
    lines = exports.export_lines(site.key, actor=auth.current_actor())
    filename = f"talkback-{site.key}-{date.today().isoformat()}.jsonl"
    return Response(
        stream_with_context(lines),
        mimetype="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- Bans -------------------------------------------------------------------------------------


def _can_lift(user: User, ban: Ban) -> bool:
    """Say whether the user may lift the ban: operators any, moderators their sites' ones."""
    site_ids = user.site_ids()
    return site_ids is None or (ban.site_id is not None and ban.site_id in site_ids)


def _bans_page(status: int = 200, *, form: dict | None = None, errors: dict | None = None):
    user = auth.current_user()
    user_sites = sites.sites_for(user.site_ids())
    filters = forms.BanListFilterForm(request.args)
    site = filters.site.data or None
    if site not in {item.key for item in user_sites}:
        site = None
    show_all = filters.show.data == "all"
    listed = bans.list_bans(
        site_ids=user.site_ids(), site_key=site, active=None if show_all else True
    )
    page = render_template(
        "console/bans.html",
        user=user,
        sites=user_sites,
        site=site,
        show_all=show_all,
        bans=listed,
        state=bans.ban_state,
        can_lift=lambda ban: _can_lift(user, ban),
        targets=TARGETS,
        kinds=KINDS,
        all_sites=ALL_SITES,
        form=form or {"kind": BanKind.HARD.value, "target": BanTarget.COMMENTER_KEY.value},
        errors=errors or {},
        fix_fields=FIX_FIELDS,
        today=date.today().isoformat(),
    )
    return page, status


@bp.get("/bans")
@auth.login_required
def ban_list():
    """List the bans on the user's sites (active ones unless asked), with a form to add one."""
    return _bans_page()


@bp.post("/bans")
@auth.login_required
def ban_add():
    """Add a ban from the form; on errors show the form again with what was typed."""
    user = auth.current_user()
    form = forms.BanForm(formdata=request.form, is_operator=user.is_operator)
    if not form.validate():
        return _bans_page(422, form=form.typed(), errors=form.field_errors())
    try:
        ban, created = bans.add_ban(
            actor=auth.current_actor(),
            site_ids=user.site_ids(),
            site_key=form.site_key(),
            target=form.target.data,
            value=form.value.data,
            kind=form.kind.data,
            until=form.until_at,
            reason=form.reason.data,
            public_reason=form.public_reason.data or None,
            reject_existing=form.reject_existing.data,
        )
    except TalkbackError as error:
        errors = _error_map(error.fields)
        for name in ("site", "all"):  # the form's one field for both is "scope"
            if name in errors:
                errors.setdefault("scope", []).extend(errors.pop(name))
        if not errors:
            errors[""] = [error.message]
        return _bans_page(422, form=form.typed(), errors=errors)
    message = (
        f"Ban #{ban.id} added: {ban.target_label}."
        if created
        else f"Ban #{ban.id} is already in force: {ban.target_label}. Nothing was added."
    )
    if form.reject_existing.data:
        message += f" {ban.rejected_count} existing comment(s) rejected."
    flash(message, "notice")
    return redirect(url_for("console_admin.ban_list"))


@bp.post("/bans/<int:ban_id>/lift")
@auth.login_required
def ban_lift(ban_id: int):
    """Lift a ban now; the list says so."""
    user = auth.current_user()
    form = forms.BanLiftForm(formdata=request.form)
    try:
        ban = bans.lift_ban(ban_id, actor=auth.current_actor(), site_ids=user.site_ids())
    except TalkbackError as error:
        flash(error.message, "error")
    else:
        flash(f"Ban #{ban.id} on {ban.target_label} lifted.", "notice")
    return redirect(url_for("console_admin.ban_list", **form.filters()))


# --- The operators' log -----------------------------------------------------------------------


@bp.get("/log")
@auth.operator_required
def action_log():
    """List the operators' log, newest first, by kind of action and by actor."""
    filters = forms.LogFilterForm(request.args)
    kind, actor = filters.action.data, filters.actor.data
    entries = operator_log.list_actions(
        action_prefix=kind or None, actor=actor or None, limit=LOG_LIMIT
    )
    actors = operator_log.list_actors()
    return render_template(
        "console/actions.html",
        entries=entries,
        kinds=ACTION_KINDS,
        kind=kind,
        actor=actor,
        actors=actors,
        limit=LOG_LIMIT,
    )
