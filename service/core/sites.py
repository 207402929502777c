"""Service layer for sites: creating, configuring, closing and staffing them.

Every change is validated with the schemas in service.schemas.sites (errors name the field,
nested ones as "policy.toxicity_hold"), written in one commit, and logged in the operators' log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.core import accounts, operator_log
from service.core.transactions import rolls_back
from service.errors import ConflictError, NotFoundError, UnprocessableError
from service.extensions import db
from service.models import Site, User, UserRole, site_moderators, utcnow
from service.schemas.sites import (
    RATE_LIMIT_KINDS,
    SCORES,
    ModeratorsSchema,
    SiteCreateSchema,
    SiteUpdateSchema,
)
from workers.scoring.policy import Policy

# Settings stored in their own column, compared and logged as a whole.
PLAIN_SETTINGS = (
    "name",
    "allowed_origins",
    "language",
    "min_comment_length",
    "max_comment_length",
    "auto_close_days",
    "edit_window_seconds",
    "sign_in",
    "dislikes_enabled",
    "queue_alert_minutes",
)
DEFAULTS = {
    "allowed_origins": [],
    "language": "en",
    "min_comment_length": 1,
    "max_comment_length": 5000,
    "auto_close_days": None,
    "edit_window_seconds": 300,
    "sign_in": "anonymous",
    "dislikes_enabled": False,
    "queue_alert_minutes": None,
}


def policy_of(stored: Mapping | None, config: Any = None) -> Policy:
    """Return the policy stored settings make; settings not stored take the configured defaults."""
    config = config or current_app.config
    return Policy.from_dict(
        stored,
        toxicity_hold=config["TOXICITY_HOLD"],
        toxicity_reject=config["TOXICITY_REJECT"],
        spam_hold=config["SPAM_HOLD"],
        spam_reject=config["SPAM_REJECT"],
    )


def site_policy(site: Site, config: Any = None) -> Policy:
    """Return a site's policy; settings it doesn't store take the configured defaults."""
    return policy_of(site.policy, config)


def validation_fields(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages into {"policy.toxicity_hold": [...]}."""
    if isinstance(messages, Mapping):
        fields: dict[str, list[str]] = {}
        for key, value in messages.items():
            # "_schema" holds errors about the object itself: they belong to its own name.
            name = prefix if key == "_schema" and prefix else f"{prefix}.{key}" if prefix else key
            for field, errors in validation_fields(value, str(name)).items():
                fields.setdefault(field, []).extend(errors)
        return fields
    errors = messages if isinstance(messages, list | tuple) else [messages]
    return {prefix or "_schema": [str(error) for error in errors]}


def invalid(messages: Any) -> UnprocessableError:
    """Return the 422 error for marshmallow's messages, naming every field."""
    fields = validation_fields(messages)
    if set(fields) == {"_schema"}:  # not an object at all (a list, a string)
        return UnprocessableError("Send the settings as a JSON object.", fields)
    return UnprocessableError(f"Please correct: {', '.join(sorted(fields))}.", fields)


def _load(schema: Schema, data: Any) -> dict:
    # Loading is idempotent (every field normalises to a form it accepts again), so input the
    # API has already parsed with the same schema passes through unchanged.
    try:
        return schema.load(data)
    except ValidationError as error:
        raise invalid(error.messages) from None


def get_site(key: str, *, lock: bool = False) -> Site:
    """Return the site with this key, or raise NotFoundError; `lock` holds its row until commit."""
    query = select(Site).where(Site.key == key)
    if lock:
        # Changes merge into the stored policy and lists: two operators editing at once must
        # not lose each other's change, so the row is read fresh under a lock (PostgreSQL).
        query = query.with_for_update().execution_options(populate_existing=True)
    site = db.session.scalar(query)
    if site is None:
        raise NotFoundError(f"There is no site '{key}'.")
    return site


def list_sites(include_closed: bool = True) -> list[Site]:
    """Return the sites by key, closed ones too unless told otherwise."""
    query = select(Site).order_by(Site.key)
    if not include_closed:
        query = query.where(Site.closed_at.is_(None))
    return list(db.session.scalars(query))


def sites_for(site_ids: Iterable[int] | None) -> list[Site]:
    """Return the sites with these ids (every site for None, an operator's), by key."""
    query = select(Site).order_by(Site.key)
    if site_ids is not None:
        query = query.where(Site.id.in_(list(site_ids) or [-1]))
    return list(db.session.scalars(query))


def moderator_accounts() -> list[User]:
    """Return the accounts that can be assigned to sites: moderators, by username."""
    return list(
        db.session.scalars(
            select(User).where(User.role == UserRole.MODERATOR).order_by(User.username)
        )
    )


def colleague_names(site_ids: Iterable[int] | None) -> list[str]:
    """Return the usernames sharing a site with these ids, and the operators (all for None)."""
    query = select(User.username).order_by(User.username)
    if site_ids is not None:
        shares_a_site = select(site_moderators.c.user_id).where(
            site_moderators.c.site_id.in_(list(site_ids) or [-1])
        )
        query = query.where(User.id.in_(shares_a_site) | (User.role == UserRole.OPERATOR))
    return list(db.session.scalars(query))


def moderator_names(site_ids: Iterable[int]) -> dict[int, list[str]]:
    """Return the usernames of each site's moderators, sorted, in one query."""
    ids = list(site_ids)
    names: dict[int, list[str]] = {site_id: [] for site_id in ids}
    if not ids:
        return names
    rows = db.session.execute(
        select(site_moderators.c.site_id, User.username)
        .join(User, User.id == site_moderators.c.user_id)
        .where(site_moderators.c.site_id.in_(ids))
        .order_by(User.username)
    )
    for site_id, username in rows:
        names[site_id].append(username)
    return names


def effective_rate_limits(site: Site) -> dict[str, str]:
    """Return the submit, report, delete and vote limits that apply: own or the default."""
    own = site.rate_limits or {}
    return {
        kind: own.get(kind) or current_app.config[f"RATE_LIMIT_{kind.upper()}"]
        for kind in RATE_LIMIT_KINDS
    }


def site_dict(site: Site, moderators: list[str] | None = None) -> dict:
    """Return a site with every setting, its effective policy and limits, as JSON-ready data."""
    if moderators is None:
        moderators = moderator_names([site.id])[site.id]
    return {
        "key": site.key,
        "name": site.name,
        "allowed_origins": list(site.allowed_origins or []),
        "language": site.language,
        "min_comment_length": site.min_comment_length,
        "max_comment_length": site.max_comment_length,
        "auto_close_days": site.auto_close_days,
        "edit_window_seconds": site.edit_window_seconds,
        "sign_in": site.sign_in,
        "dislikes_enabled": site.dislikes_enabled,
        "queue_alert_minutes": site.queue_alert_minutes,
        "rate_limits": dict(site.rate_limits or {}),
        "effective_rate_limits": effective_rate_limits(site),
        "policy": dict(site.policy or {}),
        # The same policy the worker builds (config defaults under the site's own settings).
        "effective_policy": site_policy(site).to_dict(),
        "moderators": moderators,
        "closed": site.is_closed,
        "closed_at": site.closed_at,
        "created_at": site.created_at,
    }


def site_dicts(sites: list[Site]) -> list[dict]:
    """Return site_dict of several sites with one query for their moderators."""
    names = moderator_names(site.id for site in sites)
    return [site_dict(site, names[site.id]) for site in sites]


def _merged(stored: Mapping | None, changes: Mapping) -> dict:
    """Merge changed settings into stored ones; None removes a setting (back to its default)."""
    merged = dict(stored or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _check_lengths(values: dict, minimum: int, maximum: int) -> None:
    if minimum > maximum:
        field = "min_comment_length" if "min_comment_length" in values else "max_comment_length"
        message = f"The minimum length ({minimum}) must not be above the maximum ({maximum})."
        raise UnprocessableError(message, {field: [message]})


def _check_thresholds(changes: Mapping, policy: dict) -> None:
    """Refuse a hold threshold above its reject threshold, naming the setting that was given."""
    effective = policy_of(policy)
    for score in SCORES:
        hold_key, reject_key = f"{score}_hold", f"{score}_reject"
        if hold_key not in changes and reject_key not in changes:
            continue
        hold, reject = getattr(effective, hold_key), getattr(effective, reject_key)
        if hold > reject:
            field = f"policy.{hold_key if hold_key in changes else reject_key}"
            message = (
                f"The {score} hold threshold ({hold:g}) must not be above its reject "
                f"threshold ({reject:g})."
            )
            raise UnprocessableError(message, {field: [message]})
    _check_trusted_hold(changes, effective)


def _check_trusted_hold(changes: Mapping, effective: Policy) -> None:
    """Refuse a trusted commenters' hold threshold below a hold threshold: trust may only
    loosen the holds. Checked when it is given, or while trust is on and a threshold changes."""
    watched = {"trusted_hold", "trusted_after", *(f"{score}_hold" for score in SCORES)}
    if not watched & set(changes):
        return
    if "trusted_hold" not in changes and effective.trusted_after <= 0:
        return  # trust is off: its threshold is checked when trust is turned on
    for score in SCORES:
        hold_key = f"{score}_hold"
        hold = getattr(effective, hold_key)
        if effective.trusted_hold < hold:
            given = "trusted_hold" in changes or hold_key not in changes
            field = "policy.trusted_hold" if given else f"policy.{hold_key}"
            message = (
                f"The trusted commenters' hold threshold ({effective.trusted_hold:g}) must not "
                f"be below the {score} hold threshold ({hold:g})."
            )
            raise UnprocessableError(message, {field: [message]})


def _apply(site: Site, values: dict) -> dict[str, dict]:
    """Check loaded settings against the site's current ones, then set them.

    Returns the changes as {field: {"from": old, "to": new}}, nested settings as "policy.mode".
    Nothing is assigned until every check has passed, so a refused change leaves the row as it was.
    """
    current = {name: getattr(site, name) for name in PLAIN_SETTINGS}
    new = {**current, **{name: values[name] for name in PLAIN_SETTINGS if name in values}}
    _check_lengths(values, new["min_comment_length"], new["max_comment_length"])
    policy = _merged(site.policy, values.get("policy", {}))
    _check_thresholds(values.get("policy", {}), policy)
    rate_limits = _merged(site.rate_limits, values.get("rate_limits", {}))

    changes = {
        name: {"from": current[name], "to": new[name]}
        for name in PLAIN_SETTINGS
        if new[name] != current[name]
    }
    for prefix, old, updated in (
        ("policy", site.policy or {}, policy),
        ("rate_limits", site.rate_limits or {}, rate_limits),
    ):
        for key in sorted(set(old) | set(updated)):
            if old.get(key) != updated.get(key):
                changes[f"{prefix}.{key}"] = {"from": old.get(key), "to": updated.get(key)}

    for name in PLAIN_SETTINGS:
        if new[name] != current[name]:
            setattr(site, name, new[name])
    # New objects, not in-place edits: the JSON columns only notice assignment.
    if policy != (site.policy or {}):
        site.policy = policy
    if rate_limits != (site.rate_limits or {}):
        site.rate_limits = rate_limits
    return changes


def _commit_site(site: Site) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # Two operators creating the same key at once: the unique constraint decides.
        db.session.rollback()
        raise _duplicate(site.key) from None


def _duplicate(key: str) -> ConflictError:
    return ConflictError(
        f"Site '{key}' already exists.", {"key": [f"The key '{key}' is taken; choose another."]}
    )


@rolls_back
def create_site(data: Mapping, *, actor: str) -> Site:
    """Create a site from its key and any settings (defaults for the rest), and log it."""
    values = _load(SiteCreateSchema(), data)
    key = values["key"]
    if db.session.scalar(select(Site.id).where(Site.key == key)) is not None:
        raise _duplicate(key)
    site = Site(key=key, name=key, policy={}, rate_limits={}, **DEFAULTS)
    changes = _apply(site, values)
    db.session.add(site)
    details = {"name": site.name, **{field: change["to"] for field, change in changes.items()}}
    operator_log.record_action(actor, "site.create", key, details)
    _commit_site(site)
    return site


@rolls_back
def update_site(
    key: str,
    data: Mapping,
    *,
    actor: str,
    action: str = "site.update",
    details: Mapping | None = None,
) -> Site:
    """Change some of a site's settings (the policy and rate limits are merged), and log it."""
    values = _load(SiteUpdateSchema(), data)
    site = get_site(key, lock=True)
    changes = _apply(site, values)
    if changes:
        # `details` lets a caller say why (threshold advice logs its figures beside the changes).
        operator_log.record_action(actor, action, key, {**changes, **(details or {})})
        db.session.commit()
    return site


@rolls_back
def close_site(key: str, *, actor: str) -> Site:
    """Close a site: it takes no new comments, and its threads stay readable."""
    site = get_site(key, lock=True)
    if site.is_closed:
        raise ConflictError(f"Site '{key}' is already closed (since {site.closed_at:%Y-%m-%d}).")
    site.closed_at = utcnow()
    operator_log.record_action(
        actor, "site.close", key, {"closed_at": {"from": None, "to": site.closed_at.isoformat()}}
    )
    db.session.commit()
    return site


@rolls_back
def reopen_site(key: str, *, actor: str) -> Site:
    """Reopen a closed site: it takes comments again."""
    site = get_site(key, lock=True)
    if not site.is_closed:
        raise ConflictError(f"Site '{key}' is not closed.")
    operator_log.record_action(
        actor, "site.reopen", key, {"closed_at": {"from": site.closed_at.isoformat(), "to": None}}
    )
    site.closed_at = None
    db.session.commit()
    return site


@rolls_back
def set_moderators(key: str, usernames: Iterable[str], *, actor: str) -> Site:
    """Replace the moderators of a site with these accounts (operators need no assignment)."""
    names = _load(ModeratorsSchema(), {"moderators": list(usernames)})["moderators"]
    site = get_site(key, lock=True)
    wanted: dict[str, User] = {}
    unknown, operators = [], []
    for name in dict.fromkeys(accounts.normalize_username(name) for name in names):
        user = accounts.find_user(name)
        if user is None:
            unknown.append(name)
        elif user.is_operator:
            operators.append(name)
        else:
            wanted[user.username] = user
    if unknown:
        message = f"There is no account {', '.join(repr(name) for name in unknown)}."
        raise UnprocessableError(message, {"moderators": [message]})
    if operators:
        listed = ", ".join(repr(name) for name in operators)
        message = (
            f"{listed} {'is an operator' if len(operators) == 1 else 'are operators'}: operators "
            "see every site already, so they aren't assigned to sites."
        )
        raise UnprocessableError(message, {"moderators": [message]})

    current = moderator_names([site.id])[site.id]
    if sorted(wanted) == current:
        return site
    for name in current:
        if name not in wanted:
            user = accounts.get_user(name)
            user.sites = [other for other in user.sites if other.id != site.id]
    for name, user in wanted.items():
        if name not in current:
            user.sites = [*user.sites, site]
    operator_log.record_action(
        actor, "site.moderators", key, {"moderators": {"from": current, "to": sorted(wanted)}}
    )
    db.session.commit()
    return site
