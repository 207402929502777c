"""The moderators' console: queues worked from the keyboard, the audit log and the summary.

Queue pages are a shell that console.js fills from the JSON moderation API, so a decision never
reloads the page. The audit and summary pages are rendered here from the service layer: they are
read-only reports whose filters are plain GET forms, so a filtered view is a link an operator can
share or bookmark, and they work without JavaScript.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for

from service.core import moderation, sites
from service.errors import TalkbackError
from service.models import Site
from service.web import auth

bp = Blueprint("console", __name__, url_prefix="/console")
bp.after_request(auth.console_security_headers)

QUEUES = ("held", "reported", "pending", "approved", "rejected")
QUEUE_LABELS = {
    "held": "Held",
    "reported": "Reported",
    "pending": "Pending",
    "approved": "Approved",
    "rejected": "Rejected",
}
SORTS = {"oldest": "Oldest first", "newest": "Newest first", "riskiest": "Riskiest first"}
AUDIT_PAGE_SIZE = 50


def sites_of(user) -> list[Site]:
    """Return the sites the user moderates (every site for an operator), by key."""
    return sites.sites_for(user.site_ids())


def _as_datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@bp.app_template_filter("console_iso")
def _console_iso(value) -> str:
    """Format a stored (naive UTC) or ISO time for a datetime attribute."""
    moment = _as_datetime(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else str(value)


@bp.app_template_filter("console_when")
def _console_when(value) -> str:
    """Format a time for people: date and minutes, UTC."""
    moment = _as_datetime(value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else str(value)


def _site_filter(user_sites: list[Site]) -> str | None:
    """Return ?site= when it names one of the user's sites; anything else shows all of them."""
    key = request.args.get("site") or None
    return key if key in {site.key for site in user_sites} else None


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _period() -> tuple[date | None, date | None, datetime | None, datetime | None]:
    """Return the form's since/until dates and the UTC datetimes they cover (until inclusive)."""
    since, until = _date_arg("since"), _date_arg("until")
    since_at = datetime.combine(since, time.min) if since else None
    until_at = datetime.combine(until + timedelta(days=1), time.min) if until else None
    return since, until, since_at, until_at


@bp.get("/")
@auth.login_required
def index():
    """Send moderators to the held queue, where the comments waiting for a person are."""
    return redirect(url_for("console.queue", queue="held"))


@bp.get("/queue/<queue>")
@auth.login_required
def queue(queue: str):
    """Show a queue's shell; console.js loads and works its cards through the moderation API."""
    if queue not in QUEUES:
        abort(404)
    user = auth.current_user()
    user_sites = sites_of(user)
    sort = request.args.get("sort")
    return render_template(
        "console/queue.html",
        user=user,
        queue=queue,
        queues=QUEUES,
        labels=QUEUE_LABELS,
        sites=user_sites,
        site=_site_filter(user_sites),
        sorts=SORTS,
        sort=sort if sort in SORTS else "oldest",
    )


@bp.get("/audit")
@auth.login_required
def audit():
    """List decisions, filtered by moderator, site and date, newest first."""
    user = auth.current_user()
    user_sites = sites_of(user)
    site = _site_filter(user_sites)
    since, until, since_at, until_at = _period()
    moderator = (request.args.get("moderator") or "").strip() or None
    error = None
    try:
        page = moderation.audit(
            user.site_ids(),
            moderator=moderator,
            site=site,
            period=moderation.Period(since_at, until_at),
            limit=AUDIT_PAGE_SIZE,
            cursor=request.args.get("cursor") or None,
        )
    except TalkbackError as exc:
        error, page = exc.message, {"entries": [], "next_cursor": None}
    return render_template(
        "console/audit.html",
        user=user,
        sites=user_sites,
        site=site,
        moderator=moderator or "",
        moderators=sites.colleague_names(user.site_ids()),
        since=since,
        until=until,
        page=page,
        error=error,
    )


@bp.get("/summary")
@auth.login_required
def summary():
    """Count each moderator's decisions and how often they overturned automatic ones, and why."""
    user = auth.current_user()
    user_sites = sites_of(user)
    site = _site_filter(user_sites)
    since, until, since_at, until_at = _period()
    period = moderation.Period(since_at, until_at)
    report = moderation.summary(user.site_ids(), site=site, period=period)
    return render_template(
        "console/summary.html",
        user=user,
        sites=user_sites,
        site=site,
        since=since,
        until=until,
        report=report,
    )
