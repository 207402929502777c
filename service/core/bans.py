"""Bans and suspensions: who may not comment (hard), is quietly hidden (shadow) or always held for
a moderator (hold, a watchlist), and where."""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, true, tuple_

from service.core import operator_log, webhooks
from service.core.decisions import DecisionRecord, record_decisions
from service.core.hashing import (
    NETWORK_PREFIX,
    canonical_ip,
    email_domain,
    hash_email,
    hash_email_domain,
    hash_ip,
    hash_network,
    mask_email,
    network_of,
    normalize_email,
)
from service.core.transactions import rolls_back
from service.errors import (
    BannedError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnprocessableError,
)
from service.extensions import db
from service.models import MAX_ID, Ban, BanKind, BanTarget, Comment, CommentStatus, Site, utcnow
from service.schemas.comments import COMMENTER_KEY


@dataclass(frozen=True)
class Identity:
    """What a submission tells about its author, already hashed (commenter key as given)."""

    commenter_key: str | None = None
    email_hash: str | None = None
    email_domain_hash: str | None = None
    ip_hash: str | None = None
    network_hash: str | None = None
    # A signed-in reader's publisher id (service.core.sso).
    sso_id: str | None = None

    def targets(self) -> list[tuple[str, str]]:
        """Return the (target type, value) pairs a ban could match this identity on."""
        pairs = [
            (BanTarget.SSO_ID, self.sso_id),
            (BanTarget.COMMENTER_KEY, self.commenter_key),
            (BanTarget.EMAIL, self.email_hash),
            (BanTarget.EMAIL_DOMAIN, self.email_domain_hash),
            (BanTarget.IP, self.ip_hash),
            (BanTarget.NETWORK, self.network_hash),
        ]
        return [(target.value, value) for target, value in pairs if value]


def identity_of(commenter_key: str | None, email: str | None, ip: str | None) -> Identity:
    """Hash a submitter's details the way comments and bans store them."""
    network = network_of(ip) if ip else None
    return Identity(
        commenter_key=commenter_key,
        email_hash=hash_email(email) if email else None,
        email_domain_hash=hash_email_domain(email) if email else None,
        ip_hash=hash_ip(ip) if ip else None,
        network_hash=hash_network(network) if network else None,
    )


def submission_ban_columns(site_id: ColumnElement) -> list:
    """Return the ban check of a submission as two SQL columns, to be selected with its site:
    the oldest hard ban in force that matches the submitter (NULL if none), and whether a shadow
    ban does. Bans on the site (`site_id`, the site's id column) and on all sites count; hold
    bans don't matter here (the worker holds their comments: hold_bans_matching).

    The statement takes its values from submission_ban_params, so it can be built once and
    reused (building one costs more than running it).
    """
    in_force = and_(
        tuple_(Ban.target_type, Ban.target_value).in_(bindparam("ban_targets", expanding=True)),
        or_(Ban.site_id == site_id, Ban.site_id.is_(None)),
        _active_clause(bindparam("ban_now")),
    )
    hard = select(Ban.id).where(in_force, Ban.kind == BanKind.HARD).order_by(Ban.id).limit(1)
    shadow = exists().where(in_force, Ban.kind == BanKind.SHADOW)
    return [hard.scalar_subquery().label("hard_ban_id"), shadow.label("shadow_banned")]


def submission_ban_params(identity: Identity) -> dict:
    """Return the values the columns of submission_ban_columns check for this submitter."""
    return {"ban_targets": identity.targets(), "ban_now": utcnow()}


def enforce_bans(hard_ban_id: int | None, shadow_banned: bool) -> bool:
    """Raise BannedError if the ban check found a hard ban; return whether it found a shadow ban.

    Run before anything is written, so a hard-banned submission leaves no trace.
    """
    if hard_ban_id is not None:
        raise BannedError(banned_message(db.session.get(Ban, hard_ban_id)))
    return bool(shadow_banned)


def _comment_pairs(comment: Comment) -> list[tuple[str, str]]:
    """Return the (target type, value) pairs a ban could match this stored comment on."""
    return [
        (target.value, value)
        for target, (column, _) in COMMENT_COLUMNS.items()
        if (value := getattr(comment, column.key))
    ]


def hold_bans_matching(comments: Sequence[Comment]) -> dict[int, list[Ban]]:
    """Return, by comment id, the hold bans in force that cover each comment: one query for
    the whole batch, whatever its size."""
    pairs = {comment.id: _comment_pairs(comment) for comment in comments}
    wanted = sorted({pair for found in pairs.values() for pair in found})
    if not wanted:
        return {}
    site_ids = sorted({comment.site_id for comment in comments})
    by_pair: dict[tuple[str, str], list[Ban]] = defaultdict(list)
    for ban in db.session.scalars(
        select(Ban).where(
            Ban.kind == BanKind.HOLD,
            tuple_(Ban.target_type, Ban.target_value).in_(wanted),
            or_(Ban.site_id.in_(site_ids), Ban.site_id.is_(None)),
            _active_clause(utcnow()),
        )
    ):
        by_pair[(ban.target_type.value, ban.target_value)].append(ban)
    matched = {}
    for comment in comments:
        found = {
            ban.id: ban
            for pair in pairs[comment.id]
            for ban in by_pair.get(pair, ())
            if ban.site_id in (None, comment.site_id)
        }
        if found:
            matched[comment.id] = [found[ban_id] for ban_id in sorted(found)]
    return matched


def hold_reason(ban: Ban) -> str:
    """Name a hold ban and what it matches, as the comment's reasons show it to moderators:
    "hold #12 on commenter key k-123", "hold #13 on email j…@gmail.com"."""
    if ban.target_type == BanTarget.COMMENTER_KEY:
        # The key is no secret from moderators (cards show it); a one-click ban's label isn't it.
        return f"hold #{ban.id} on commenter key {ban.target_value}"
    if ban.target_type == BanTarget.SSO_ID:
        return f"hold #{ban.id} on SSO id {ban.target_value}"
    _, noun = COMMENT_COLUMNS[ban.target_type]
    label = ban.target_label
    # A one-click ban's label already names its target ("IP of comment #5").
    about = label if label.startswith(f"{noun} of comment #") else f"{noun} {label}"
    return f"hold #{ban.id} on {about}"


def banned_message(ban: Ban) -> str:
    """Return what the widget tells a hard-banned reader: until when, and the public reason."""
    message = "You can't post comments here"
    if ban.expires_at is not None:
        message += f" until {ban.expires_at:%Y-%m-%d %H:%M} UTC"
    message += "."
    if ban.public_reason:
        message += f" Reason: {ban.public_reason}"
    return message


# --- Adding, lifting and listing bans ---------------------------------------------------------

REASON_MAX = 2000
PUBLIC_REASON_MAX = 300
VALUE_MAX = 320
# A comment's stored data for each target, and how a one-click ban's label names it.
COMMENT_COLUMNS = {
    BanTarget.COMMENTER_KEY: (Comment.commenter_key, "commenter"),
    BanTarget.EMAIL: (Comment.email_hash, "email"),
    BanTarget.IP: (Comment.ip_hash, "IP"),
    BanTarget.NETWORK: (Comment.network_hash, "network"),
    BanTarget.EMAIL_DOMAIN: (Comment.email_domain_hash, "email domain"),
    BanTarget.SSO_ID: (Comment.sso_id, "SSO id"),
}
MISSING_ON_COMMENT = {
    BanTarget.COMMENTER_KEY: "was sent without a commenter key",
    BanTarget.EMAIL: "was sent without an email address",
    BanTarget.IP: "has no IP address on record (none was known, or it has been purged)",
    BanTarget.NETWORK: "has no network on record (no IP address was known, or it has been purged)",
    BanTarget.EMAIL_DOMAIN: "was sent without an email address",
    BanTarget.SSO_ID: "was not sent by a signed-in reader",
}
# Statuses a ban's "reject existing" option takes down (pending ones too: the worker's
# conditional update then finds nothing left to decide).
REJECTABLE = (CommentStatus.PENDING, CommentStatus.HELD, CommentStatus.APPROVED)
FORBIDDEN_SITE = "You don't moderate this site."
HOLD_IS_SILENT = (
    "A hold ban is never shown to the commenter (their comments just wait for a moderator); "
    "leave the public reason empty."
)
OPERATORS_ONLY_ALL = "Only operators can ban on all sites; choose one of your sites."
SCOPE_HELP = 'Give the site\'s key, or "all": true to ban on every site.'
UNTIL_HELP = (
    "Give an ISO 8601 date (2030-07-01: banned through that day, UTC) or a date and time "
    "(2030-07-01T18:00:00Z; without an offset it is UTC)."
)
NETWORK_HELP = (
    "Network bans cover a /24 of IPv4 (203.0.113.0/24) or a /48 of IPv6 (2001:db8:1::/48), "
    "the block one subscriber usually holds; give such a network or one address in it."
)
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
DOMAIN_ONLY = re.compile(r"@?[^@\s]+")


def parse_until(text: str) -> datetime:
    """Parse an ISO date (the ban lasts through that day, UTC) or date and time; naive UTC."""
    text = text.strip()
    try:
        if DATE_ONLY.fullmatch(text):
            # "Until 1 July" means 1 July is the last day of the ban.
            return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time())
        return naive_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise ValueError(UNTIL_HELP) from None


def naive_utc(moment: datetime) -> datetime:
    """Return a datetime as naive UTC (how bans store it); a naive one is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@dataclass(frozen=True)
class _Target:
    """What a ban stores to match on, and what operators see instead of personal data."""

    value: str
    label: str


def _invalid_value(message: str) -> UnprocessableError:
    return UnprocessableError(message, {"value": [message]})


def _valid_email(value: str) -> str:
    """Return an email address normalised the way the submit schema does, or raise 422."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise _invalid_value(f"Not a valid email address: {error}") from None


def _mask_ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Return an address with its host part hidden: 203.0.113.x, or 2001:db8:1::…."""
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + ".x"
    hextets = address.exploded.split(":")[:3]
    return ":".join(format(int(hextet, 16), "x") for hextet in hextets) + "::…"


def _parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(canonical_ip(value))
    except ValueError:
        raise _invalid_value(
            f"'{value[:60]}' is not an IP address (e.g. 203.0.113.7 or 2001:db8::7)."
        ) from None


def _network(value: str) -> str:
    """Return the /24 or /48 network a CIDR (or a plain address) names, as network_of writes it."""
    if "/" not in value:
        return network_of(str(_parse_address(value)))
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise _invalid_value(f"'{value[:60]}' is not a network. {NETWORK_HELP}") from None
    if network.prefixlen != NETWORK_PREFIX[network.version]:
        raise _invalid_value(f"A /{network.prefixlen} can't be banned. {NETWORK_HELP}")
    return str(network)


def _domain(value: str) -> str:
    """Return the normalized domain of "example.com", "@example.com" or "joe@example.com"."""
    if "@" in value.lstrip("@"):
        return email_domain(_valid_email(value))
    if not DOMAIN_ONLY.fullmatch(value):
        raise _invalid_value(f"'{value[:60]}' is not a domain (e.g. example.com).")
    # Checked as the domain of an address, so it is normalized exactly as submitted emails are.
    try:
        checked = validate_email(f"postmaster@{value.lstrip('@')}", check_deliverability=False)
    except EmailNotValidError:
        raise _invalid_value(f"'{value[:60]}' is not a domain (e.g. example.com).") from None
    return email_domain(checked.domain)


def _target_from_value(target: BanTarget, value: str) -> _Target:
    """Hash and label a value an operator typed, or raise 422 naming `value`."""
    value = value.strip()
    if not value:
        raise _invalid_value("Give the value to ban.")
    if len(value) > VALUE_MAX:
        raise _invalid_value(f"Keep the value to {VALUE_MAX} characters or fewer.")
    if target == BanTarget.COMMENTER_KEY:
        if not COMMENTER_KEY.regex.fullmatch(value):
            raise _invalid_value(f"Not a commenter key: {COMMENTER_KEY.error}")
        return _Target(value, value)
    if target == BanTarget.SSO_ID:
        if len(value) > 64 or not value.isprintable():
            raise _invalid_value(
                "Not an SSO id: at most 64 printable characters (the token's sub)."
            )
        return _Target(value, value)
    if target == BanTarget.EMAIL:
        address = normalize_email(_valid_email(value))
        return _Target(hash_email(address), mask_email(address)[:200])
    if target == BanTarget.IP:
        address = _parse_address(value)
        return _Target(hash_ip(str(address)), _mask_ip(address))
    if target == BanTarget.NETWORK:
        network = _network(value)
        return _Target(hash_network(network), network)
    domain = _domain(value)
    return _Target(hash_email_domain(domain), domain[:200])


def stored_targets(comment: Comment) -> list[str]:
    """Return what a ban by this comment can match on: the targets whose data it stored."""
    return [
        target.value
        for target, (column, _) in COMMENT_COLUMNS.items()
        if getattr(comment, column.key)
    ]


def _target_from_comment(target: BanTarget, comment: Comment) -> _Target:
    """Take a comment's stored (hashed) data for the target, or raise 422 naming `target`."""
    column, noun = COMMENT_COLUMNS[target]
    value = getattr(comment, column.key)
    if not value:
        message = f"Comment #{comment.id} {MISSING_ON_COMMENT[target]}; choose another target."
        raise UnprocessableError(message, {"target": [message]})
    return _Target(value, f"{noun} of comment #{comment.id}")


def _find_comment(comment_id: int, site_ids: set[int] | None) -> Comment:
    """Return a comment the caller may moderate, or raise 404 / 403 naming `comment_id`."""
    comment = db.session.get(Comment, comment_id) if 1 <= comment_id <= MAX_ID else None
    if comment is None:
        raise NotFoundError("There is no such comment.", {"comment_id": ["No such comment."]})
    if site_ids is not None and comment.site_id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE, {"comment_id": [FORBIDDEN_SITE]})
    return comment


def resolve_scope(
    site_key: str | None, all_sites: bool, comment_id: int | None, site_ids: set[int] | None
) -> str | None:
    """Return the site key a requested ban covers (None: all sites) from the API's options: a
    site, all sites (operators only), or neither for a one-click ban (the comment's site)."""
    if all_sites:
        if site_ids is not None:
            raise ForbiddenError(OPERATORS_ONLY_ALL, {"all": [OPERATORS_ONLY_ALL]})
        return None
    if site_key is not None:
        return site_key
    if comment_id is None:
        raise UnprocessableError(SCOPE_HELP, {"site": [SCOPE_HELP]})
    return db.session.get(Site, _find_comment(comment_id, site_ids).site_id).key


def _ban_site(site_key: str | None, site_ids: set[int] | None) -> Site | None:
    """Return the site a new ban covers (None: all sites), if the caller may ban there."""
    if site_key is None:
        if site_ids is not None:
            raise ForbiddenError(OPERATORS_ONLY_ALL, {"all": [OPERATORS_ONLY_ALL]})
        return None
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        message = f"There is no site '{site_key[:64]}'."
        raise UnprocessableError(message, {"site": [message]})
    if site_ids is not None and site.id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE, {"site": [FORBIDDEN_SITE]})
    return site


def _check_words(reason: str, public_reason: str | None, until: datetime | None) -> dict:
    """Return field errors of the ban's reason, public reason and end."""
    errors: dict[str, list[str]] = {}
    if not reason or not reason.strip():
        errors["reason"] = ["Say why (moderators and operators see it; the commenter doesn't)."]
    elif len(reason.strip()) > REASON_MAX:
        errors["reason"] = [f"Keep the reason to {REASON_MAX} characters or fewer."]
    if public_reason is not None and len(public_reason.strip()) > PUBLIC_REASON_MAX:
        errors["public_reason"] = [f"Keep it to {PUBLIC_REASON_MAX} characters or fewer."]
    if until is not None and naive_utc(until) <= utcnow():
        errors["until"] = ["Must be in the future (leave it out for a permanent ban)."]
    return errors


def _target_type(target: str) -> BanTarget:
    try:
        return BanTarget(target)
    except ValueError:
        message = "Must be one of: " + ", ".join(member.value for member in BanTarget) + "."
        raise UnprocessableError("Unknown ban target.", {"target": [message]}) from None


@rolls_back
class AddedBan(NamedTuple):
    """The ban asked for, and whether it is new (False: an identical one was in force)."""

    ban: Ban
    created: bool


def add_ban(
    *,
    actor: str,
    site_ids: set[int] | None,
    site_key: str | None,
    target: str,
    value: str | None = None,
    comment_id: int | None = None,
    kind: str = "hard",
    until: datetime | None = None,
    reason: str,
    public_reason: str | None = None,
    reject_existing: bool = False,
) -> AddedBan:
    """Ban a commenter on one site (or all, for operators), optionally rejecting their comments.

    The target is a typed value, or a comment's stored data (the one-click ban of a moderation
    card). The ban, any rejections and the operators' log entry are committed together. An
    identical ban already in force (same scope, target, kind and end) is returned instead.
    """
    target_type = _target_type(target)
    try:
        ban_kind = BanKind(kind)
    except ValueError:
        raise UnprocessableError(
            "Unknown kind of ban.", {"kind": ["Must be hard, shadow or hold."]}
        ) from None
    if (value is None) == (comment_id is None):
        message = "Give either a value or a comment_id, not both or neither."
        raise UnprocessableError(message, {"value": [message], "comment_id": [message]})
    errors = _check_words(reason, public_reason, until)
    if ban_kind == BanKind.HOLD and (public_reason or "").strip():
        # A watchlist is never revealed to the people on it, so there is nothing to show them.
        errors["public_reason"] = [HOLD_IS_SILENT]
    if errors:
        raise UnprocessableError(f"Please correct: {', '.join(sorted(errors))}.", errors)

    if comment_id is not None:
        comment = _find_comment(comment_id, site_ids)
        # A moderator can't ban on all sites: their one-click ban covers the comment's site
        # (as does anyone's SSO id ban: a publisher's ids mean something on its site only).
        if site_key is None and (site_ids is not None or target_type == BanTarget.SSO_ID):
            site_key = db.session.get(Site, comment.site_id).key
        found = _target_from_comment(target_type, comment)
    else:
        found = _target_from_value(target_type, value)
    if target_type == BanTarget.SSO_ID and site_key is None:
        message = "An SSO id belongs to one site's login: choose the site."
        raise UnprocessableError(message, {"site": [message]})
    site = _ban_site(site_key, site_ids)
    expires_at = naive_utc(until) if until is not None else None
    existing = _identical_active_ban(
        site.id if site else None, target_type, found.value, ban_kind, expires_at
    )
    if existing is not None:
        # Adding the same ban twice (a double click, a retried request) changes nothing.
        if reject_existing:
            _reject_again(existing, actor)
        return AddedBan(existing, created=False)

    ban = Ban(
        site_id=site.id if site else None,
        target_type=target_type,
        target_value=found.value,
        target_label=found.label,
        kind=ban_kind,
        reason=reason.strip(),
        public_reason=(public_reason or "").strip() or None,
        expires_at=expires_at,
        created_by=actor,
        created_at=utcnow(),
        rejected_count=0,
    )
    try:
        db.session.add(ban)
        db.session.flush()
        if reject_existing:
            ban.rejected_count = _reject_existing(ban, actor)
        operator_log.record_action(
            actor,
            "ban.add",
            f"ban {ban.id}",
            {
                "target": target_type.value,
                "label": ban.target_label,
                "comment_id": comment_id,
                "site": site.key if site else "all",
                "kind": ban_kind.value,
                "until": ban.expires_at.isoformat() if ban.expires_at else None,
                "reject_existing": reject_existing,
                "rejected_count": ban.rejected_count,
                "reason": ban.reason,
                "public_reason": ban.public_reason,
            },
        )
        # A ban on all sites is told to every site's endpoints.
        webhooks.emit(
            "ban.created",
            [site.id] if site else None,
            lambda _key: webhooks.ban_data(ban, site.key if site else None),
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return AddedBan(ban, created=True)


def _identical_active_ban(
    site_id: int | None,
    target_type: BanTarget,
    value: str,
    kind: BanKind,
    expires_at: datetime | None,
) -> Ban | None:
    """The ban in force with the same scope, target, kind and end, if there is one."""
    return db.session.scalar(
        select(Ban)
        .where(
            Ban.site_id.is_(None) if site_id is None else Ban.site_id == site_id,
            Ban.target_type == target_type,
            Ban.target_value == value,
            Ban.kind == kind,
            Ban.expires_at.is_(None) if expires_at is None else Ban.expires_at == expires_at,
            _active_clause(utcnow()),
        )
        .order_by(Ban.id)
        .limit(1)
    )


def _reject_again(ban: Ban, actor: str) -> None:
    """Reject the comments an existing ban covers (asked for again with reject_existing)."""
    try:
        rejected = _reject_existing(ban, actor)
        ban.rejected_count += rejected
        operator_log.record_action(
            actor, "ban.reject_existing", f"ban {ban.id}", {"rejected_count": rejected}
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _reject_existing(ban: Ban, actor: str) -> int:
    """Reject the target's pending, held and approved comments in the ban's scope; count them."""
    column, _ = COMMENT_COLUMNS[ban.target_type]
    rows = db.session.execute(
        select(Comment.id, Comment.status, Comment.reasons).where(
            column == ban.target_value,
            Comment.status.in_(REJECTABLE),
            true() if ban.site_id is None else Comment.site_id == ban.site_id,
        )
    )
    by_status: dict[CommentStatus, list] = defaultdict(list)
    why = f"ban #{ban.id}: {ban.reason}"
    for comment_id, status, reasons in rows:
        # As with a moderator's decision, the comment keeps its automatic reasons (its author
        # can read them); the ban's reason, for moderators only, goes to the audit log.
        by_status[status].append(
            DecisionRecord(
                comment_id=comment_id,
                status=CommentStatus.REJECTED,
                reasons=list(reasons or []),
                audit_reason=why,
            )
        )
    rejected = 0
    for status, records in by_status.items():
        rejected += sum(record_decisions(records, status, actor=actor))
    return rejected


def _visible_ban(ban_id: int, site_ids: set[int] | None) -> Ban:
    """Return a ban the caller may see, or raise 404 (unknown) / 403 (another site's)."""
    ban = db.session.get(Ban, ban_id) if 1 <= ban_id <= MAX_ID else None
    if ban is None:
        raise NotFoundError("There is no such ban.")
    if site_ids is not None and ban.site_id is not None and ban.site_id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE)
    return ban


def get_ban(ban_id: int, *, site_ids: set[int] | None) -> Ban:
    """Return one ban: moderators see their sites' bans and the all-site ones."""
    return _visible_ban(ban_id, site_ids)


@rolls_back
def lift_ban(ban_id: int, *, actor: str, site_ids: set[int] | None) -> Ban:
    """Lift a ban (an expired one too, for the record); 409 if it was lifted already."""
    ban = _visible_ban(ban_id, site_ids)
    if ban.site_id is None and site_ids is not None:
        raise ForbiddenError("Only operators can lift a ban on all sites.")
    if ban.lifted_at is not None:
        raise ConflictError(
            f"Ban #{ban.id} was already lifted by {ban.lifted_by} "
            f"on {ban.lifted_at:%Y-%m-%d %H:%M} UTC."
        )
    now = utcnow()
    expired = not ban.is_active(now)
    ban.lifted_at = now
    ban.lifted_by = actor
    operator_log.record_action(
        actor,
        "ban.lift",
        f"ban {ban.id}",
        {
            "target": ban.target_type.value,
            "label": ban.target_label,
            "site": ban.site.key if ban.site else "all",
            "kind": ban.kind.value,
            "had_expired": expired,
        },
    )
    db.session.commit()
    return ban


def _active_clause(now: datetime):
    return and_(Ban.lifted_at.is_(None), or_(Ban.expires_at.is_(None), Ban.expires_at > now))


def list_bans(
    *,
    site_ids: set[int] | None,
    site_key: str | None = None,
    active: bool | None = True,
    target: str | None = None,
    limit: int = 200,
) -> list[Ban]:
    """Return bans newest first: those applying on the caller's sites (or on `site_key`), which
    include the all-site bans; `active` None lists every state."""
    query = select(Ban)
    if site_key is not None:
        site = db.session.scalar(select(Site).where(Site.key == site_key))
        if site is None:
            raise NotFoundError(f"There is no site '{site_key[:64]}'.", {"site": ["No such site."]})
        if site_ids is not None and site.id not in site_ids:
            raise ForbiddenError(FORBIDDEN_SITE, {"site": [FORBIDDEN_SITE]})
        query = query.where(or_(Ban.site_id == site.id, Ban.site_id.is_(None)))
    elif site_ids is not None:
        query = query.where(or_(Ban.site_id.in_(sorted(site_ids)), Ban.site_id.is_(None)))
    now = utcnow()
    if active is True:
        query = query.where(_active_clause(now))
    elif active is False:
        query = query.where(~_active_clause(now))
    if target is not None:
        query = query.where(Ban.target_type == _target_type(target))
    query = query.order_by(Ban.created_at.desc(), Ban.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def ban_state(ban: Ban, now: datetime | None = None) -> str:
    """Return "active", "expired" or "lifted"."""
    if ban.lifted_at is not None:
        return "lifted"
    return "active" if ban.is_active(now) else "expired"


def ban_dict(ban: Ban) -> dict:
    """Return a ban as JSON-ready data (no personal data in clear: the label is masked)."""
    state = ban_state(ban)
    return {
        "id": ban.id,
        "site": ban.site.key if ban.site else None,
        "target": ban.target_type.value,
        "label": ban.target_label,
        "kind": ban.kind.value,
        "reason": ban.reason,
        "public_reason": ban.public_reason,
        "until": ban.expires_at,
        "created_by": ban.created_by,
        "created_at": ban.created_at,
        "lifted_at": ban.lifted_at,
        "lifted_by": ban.lifted_by,
        "rejected_count": ban.rejected_count,
        "active": state == "active",
        "state": state,
    }
