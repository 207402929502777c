"""Threshold advice: what a site's score thresholds would have done to the comments moderators
decided, which thresholds those decisions suggest, and applying them through the site's settings.

The sample is each comment's latest decision by a person (a moderator or an operator) in the last
N days that still stands: undone decisions are left out, and so are the rejections a ban made
(they judge the commenter, not the text). Approvals count for both scores; a rejection whose
reason is "spam" counts for the spam score, any other rejection for toxicity (the test that also
decides what the spam model learns, service.core.moderation.is_spam_reason).

A hold threshold t auto-approves a score below t: the suggestion is the highest t, in steps of
0.01, at which at most `hold_tolerance` percent of what moderators rejected would have been
auto-approved. A reject threshold t auto-rejects a score at or above t: the suggestion is the
lowest t at which at most `reject_tolerance` percent of what they approved would have been
auto-rejected.

Knows no HTTP. Viewing takes `site_ids` as service.core.moderation does (None: every site); the
callers let only operators apply.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

from service.core import sites
from service.core.moderation import MODERATOR_PREFIX, UNDO_PREFIX, is_spam_reason
from service.errors import ConflictError, ForbiddenError, UnprocessableError
from service.extensions import db
from service.models import AuditEntry, Comment, Site, utcnow
from service.schemas.advice import THRESHOLDS, AdviceApplySchema, AdviceOptionsSchema
from workers.scoring.policy import PRE_MODERATION, Policy

# The operators' log action of an applied advice (a site.update with the advice's figures).
ACTION = "site.thresholds_advice"
SCORES = ("toxicity", "spam")
# Fewer decisions than this for a score and its shares jump by several percent per comment.
MIN_APPROVED = 30
MIN_REJECTED = 10
# Suggestions are multiples of 1/STEPS (0.01), the precision people set thresholds in.
STEPS = 100
# A ban that rejects existing comments writes "ban #12: <reason>" under the banning moderator's
# name (service.core.bans): that judges the commenter, not the comment, so it is no evidence here.
BAN_REASON = re.compile(r"ban #\d+: ")
DECIDED_FROM = ("held", "approved", "rejected", "pending")
FORBIDDEN_SITE = "You don't moderate this site."
OPTIONS = ("days", "hold_tolerance", "reject_tolerance")


@dataclass(frozen=True)
class _Decision:
    """A comment's latest standing decision by a person, with the scores the worker stored."""

    approved: bool
    as_spam: bool
    decided_from: str | None
    toxicity: float | None
    spam: float | None


def _load(schema: Schema, data: Mapping) -> dict:
    try:
        return schema.load(data)
    except ValidationError as error:
        raise sites.invalid(error.messages) from None


# --- Arithmetic -------------------------------------------------------------------------------


def _allowed(tolerance: float, total: int) -> int:
    """Return how many of `total` decisions a tolerance in percent allows."""
    # The epsilon keeps e.g. 2 % of 150 at 3, which float arithmetic puts at 2.9999999999999996.
    return math.floor(tolerance * total / 100 + 1e-9)


def _grid() -> list[float]:
    return [step / STEPS for step in range(STEPS + 1)]


def suggest_hold(rejected: list[float], tolerance: float) -> float:
    """Return the highest threshold that auto-approves at most `tolerance` % of `rejected`."""
    ordered = sorted(rejected)
    allowed = _allowed(tolerance, len(ordered))
    best = 0.0
    # Auto-approved means below the threshold, so the count only grows with it: stop at the
    # first step that lets too many through.
    for threshold in _grid():
        if bisect_left(ordered, threshold) > allowed:
            break
        best = threshold
    return best


def suggest_reject(approved: list[float], tolerance: float) -> float | None:
    """Return the lowest threshold that auto-rejects at most `tolerance` % of `approved`."""
    ordered = sorted(approved)
    allowed = _allowed(tolerance, len(ordered))
    for threshold in _grid():
        if len(ordered) - bisect_left(ordered, threshold) <= allowed:
            return threshold
    return None  # more than allowed were approved at the top score itself


def percent(share: float) -> str:
    """Format a share (0..1) as a percentage a person reads: "91 %", "0.4 %", "100 %"."""
    value = share * 100
    if value in (0, 100) or 1 <= value <= 99:
        return f"{value:.0f} %"
    # Never round a few to "0 %" or nearly all to "100 %".
    shown = max(value, 0.1) if value < 1 else min(value, 99.9)
    return f"{shown:.1f} %"


def number(value: float) -> str:
    """Format a threshold: two decimals, or as many as it has."""
    return f"{value:.2f}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:g}"


def outcome(
    kind: str, at: float, approved: list[float], rejected: list[float], spam: bool = False
) -> dict:
    """Say what threshold `at` would have done to sorted approved and rejected scores."""
    if kind == "hold":  # auto-approved: below the threshold
        approved_count, rejected_count = bisect_left(approved, at), bisect_left(rejected, at)
        effect = "auto-approved"
    else:  # auto-rejected: at or above it
        approved_count = len(approved) - bisect_left(approved, at)
        rejected_count = len(rejected) - bisect_left(rejected, at)
        effect = "auto-rejected"
    approved_share = approved_count / len(approved)
    rejected_share = rejected_count / len(rejected)
    return {
        "at": at,
        "approved": {"count": approved_count, "share": round(approved_share, 4)},
        "rejected": {"count": rejected_count, "share": round(rejected_share, 4)},
        "text": f"at {number(at)}, {percent(approved_share)} of what moderators approved would "
        f"have been {effect} and {percent(rejected_share)} of what they "
        f"{'rejected as spam' if spam else 'rejected'}",
    }


# --- The sample -------------------------------------------------------------------------------


def _decisions(site_id: int, since: datetime, until: datetime) -> list[_Decision]:
    """Return each of the site's comments' latest standing decision by a person in the window."""
    by_person = AuditEntry.actor.like(f"{MODERATOR_PREFIX}%")
    touched = (
        select(AuditEntry.comment_id)
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(
            Comment.site_id == site_id,
            by_person,
            AuditEntry.created_at >= since,
            AuditEntry.created_at <= until,
        )
    )
    # Each entry with the one after it in the comment's log: an undo always follows the decision
    # it takes back (only the latest decision can be undone).
    logs = (
        select(
            AuditEntry.id,
            AuditEntry.comment_id,
            AuditEntry.actor,
            AuditEntry.from_status,
            AuditEntry.to_status,
            AuditEntry.reason,
            AuditEntry.created_at,
            func.lead(AuditEntry.reason)
            .over(partition_by=AuditEntry.comment_id, order_by=AuditEntry.id)
            .label("after_reason"),
        )
        .where(AuditEntry.comment_id.in_(touched))
        .subquery()
    )
    rows = db.session.execute(
        select(
            logs.c.comment_id,
            logs.c.from_status,
            logs.c.to_status,
            logs.c.reason,
            logs.c.after_reason,
            Comment.toxicity_score,
            Comment.spam_score,
        )
        .join(Comment, Comment.id == logs.c.comment_id)
        .where(
            logs.c.actor.like(f"{MODERATOR_PREFIX}%"),
            logs.c.to_status.in_(("approved", "rejected")),
            logs.c.created_at >= since,
            logs.c.created_at <= until,
        )
        .order_by(logs.c.id)
    )
    latest: dict[int, _Decision] = {}
    for row in rows:
        reason = row.reason or ""
        if reason.startswith(UNDO_PREFIX) or (row.after_reason or "").startswith(UNDO_PREFIX):
            continue
        rejected = row.to_status == "rejected"
        if rejected and BAN_REASON.match(reason):
            continue
        # Later rows win: a colleague's later decision on the same comment is the one that stands.
        latest[row.comment_id] = _Decision(
            approved=not rejected,
            as_spam=rejected and is_spam_reason(reason),
            decided_from=row.from_status,
            toxicity=row.toxicity_score,
            spam=row.spam_score,
        )
    return list(latest.values())


def _scores_of(decisions: list[_Decision], score: str) -> tuple[list[float], list[float]]:
    """Return the sorted scores of what moderators approved and rejected, for one score."""
    approved, rejected = [], []
    for decision in decisions:
        value = getattr(decision, score)
        if value is None:
            continue  # decided before it was scored
        if decision.approved:
            approved.append(value)
        elif decision.as_spam == (score == "spam"):
            rejected.append(value)
    return sorted(approved), sorted(rejected)


# --- Advice -----------------------------------------------------------------------------------


def _score_advice(
    score: str, approved: list[float], rejected: list[float], policy: Policy, options: dict
) -> dict:
    """Advise one score's hold and reject thresholds, or say why not."""
    spam = score == "spam"
    rejected_words = "rejected as spam" if spam else "rejected"
    hold_name, reject_name = f"{score}_hold", f"{score}_reject"
    current = {hold_name: getattr(policy, hold_name), reject_name: getattr(policy, reject_name)}
    days = options["days"]
    counted = f"{len(approved)} approved, {len(rejected)} {rejected_words} in {days} days"
    if len(approved) < MIN_APPROVED or len(rejected) < MIN_REJECTED:
        return {
            "score": score,
            "approved": len(approved),
            "rejected": len(rejected),
            "enough": False,
            "message": f"not enough decisions yet: {counted} (advice needs at least "
            f"{MIN_APPROVED} approved and {MIN_REJECTED} {rejected_words})",
            "thresholds": [
                {
                    "name": name,
                    "kind": name.rsplit("_", 1)[1],
                    "current": value,
                    "suggested": None,
                    "change": False,
                    "at_current": None,
                    "at_suggested": None,
                    "note": "",
                }
                for name, value in current.items()
            ],
        }

    hold = suggest_hold(rejected, options["hold_tolerance"])
    reject = suggest_reject(approved, options["reject_tolerance"])
    hold_tolerance = f"{options['hold_tolerance']:g} %"
    reject_tolerance = f"{options['reject_tolerance']:g} %"
    notes = {
        hold_name: f"the highest hold threshold at which at most {hold_tolerance} of what "
        f"moderators {rejected_words} would have been auto-approved",
        reject_name: f"the lowest reject threshold at which at most {reject_tolerance} of what "
        "moderators approved would have been auto-rejected",
    }
    message = counted
    if reject is None:
        notes[reject_name] = (
            f"no reject threshold auto-rejects at most {reject_tolerance} of what moderators "
            f"approved: keep {number(current[reject_name])}"
        )
        # The hold threshold must stay at or below the reject threshold that stays.
        if hold > current[reject_name]:
            notes[hold_name] = (
                f"lowered from {number(hold)} to the reject threshold that stays; at most "
                f"{hold_tolerance} of what moderators {rejected_words} would still have been "
                "auto-approved"
            )
            hold = current[reject_name]
    elif hold > reject:
        # Swapping keeps both promises (a lower hold lets fewer rejections through, a higher
        # reject refuses fewer approvals) and holds the comments between them for a person.
        notes = {
            hold_name: f"lowered from {number(hold)} because the two suggestions crossed; at "
            f"most {hold_tolerance} of what moderators {rejected_words} would still have been "
            "auto-approved",
            reject_name: f"raised from {number(reject)} because the two suggestions crossed; at "
            f"most {reject_tolerance} of what moderators approved would still have been "
            "auto-rejected",
        }
        hold, reject = reject, hold
        message += (
            f"; moderators' approvals and rejections barely overlap on {score}, so the two "
            f"suggestions crossed and were swapped: comments from {number(hold)} to "
            f"{number(reject)}, where the decisions tell little, wait for a moderator"
        )
    suggested = {hold_name: hold, reject_name: reject}
    thresholds = []
    for name, value in current.items():
        kind = name.rsplit("_", 1)[1]
        proposal = suggested[name]
        thresholds.append(
            {
                "name": name,
                "kind": kind,
                "current": value,
                "suggested": proposal,
                "change": proposal is not None and proposal != value,
                "at_current": outcome(kind, value, approved, rejected, spam),
                "at_suggested": None
                if proposal is None
                else outcome(kind, proposal, approved, rejected, spam),
                "note": notes[name],
            }
        )
    return {
        "score": score,
        "approved": len(approved),
        "rejected": len(rejected),
        "enough": True,
        "message": message,
        "thresholds": thresholds,
    }


def _caveats(policy: Policy, decided_from: dict[str, int], total: int) -> list[str]:
    """Say what the figures can't tell, in words a moderator reads."""
    if policy.mode == PRE_MODERATION:
        sample = (
            "The site pre-moderates, so moderators decided every comment and the sample is not "
            "limited to held ones; but thresholds publish or reject nothing until the site "
            "moves to post-moderation."
        )
    else:
        sample = (
            "Moderators mostly decide what the policy holds (as it is now: toxicity from "
            f"{number(policy.toxicity_hold)} to {number(policy.toxicity_reject)}, spam from "
            f"{number(policy.spam_hold)} to {number(policy.spam_reject)}) and what readers "
            f"report: of these {total} decisions, {decided_from['held']} were on held comments, "
            f"{decided_from['approved']} on published ones and {decided_from['rejected']} on "
            "rejected ones. Comments the worker published or rejected that nobody looked at "
            "again are not in the sample, so the figures describe the comments moderators saw, "
            "not all comments; below the hold thresholds and above the reject thresholds they "
            "rest on few decisions."
        )
    return [
        sample,
        "Each score is judged alone: word lists, links, new commenters and the other score "
        "hold or reject comments too.",
        "Approvals count for both scores; rejections with the reason “spam” count for the spam "
        "score, every other rejection (abusive, off-topic, …) for toxicity.",
        "Change thresholds in small steps, then watch the held queue and the overturns on the "
        "Summary page.",
    ]


def _fingerprint(key: str, options: dict, changes: dict) -> str:
    """Return a short digest of what applying this advice would do, to detect a changed advice."""
    payload = json.dumps({"site": key, **options, "changes": changes}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _advise(site: Site, options: dict, now: datetime) -> dict:
    policy = sites.site_policy(site)
    since = now - timedelta(days=options["days"])
    decisions = _decisions(site.id, since, now)
    decided_from = dict.fromkeys(DECIDED_FROM, 0)
    decided_from.update(Counter(d.decided_from for d in decisions if d.decided_from))
    scores = [
        _score_advice(score, *_scores_of(decisions, score), policy, options) for score in SCORES
    ]
    changes = {
        item["name"]: {"from": item["current"], "to": item["suggested"]}
        for entry in scores
        for item in entry["thresholds"]
        if item["change"]
    }
    return {
        "site": site.key,
        "days": options["days"],
        "since": since,
        "computed_at": now,
        "hold_tolerance": options["hold_tolerance"],
        "reject_tolerance": options["reject_tolerance"],
        "min_approved": MIN_APPROVED,
        "min_rejected": MIN_REJECTED,
        "mode": policy.mode,
        "sample": {
            "approved": sum(d.approved for d in decisions),
            "rejected": sum(not d.approved for d in decisions),
            "rejected_as_spam": sum(d.as_spam for d in decisions),
            "decided_from": decided_from,
        },
        "scores": scores,
        "changes": changes,
        "fingerprint": _fingerprint(site.key, options, changes),
        "caveats": _caveats(policy, decided_from, len(decisions)),
    }


def threshold_advice(
    key: str,
    options: Mapping[str, Any] | None = None,
    *,
    site_ids: set[int] | None = None,
    now: datetime | None = None,
) -> dict:
    """Compute a site's threshold advice from its moderators' decisions of the last N days."""
    values = _load(AdviceOptionsSchema(), options or {})
    site = sites.get_site(key)
    if site_ids is not None and site.id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE)
    return _advise(site, {name: values[name] for name in OPTIONS}, now or utcnow())


def suggestions(advice: dict) -> dict[str, dict]:
    """Return the advice's thresholds that have a suggestion, by name."""
    return {
        item["name"]: item
        for entry in advice["scores"]
        for item in entry["thresholds"]
        if item["suggested"] is not None
    }


def _log_details(advice: dict, names: list[str]) -> dict:
    """The advice's figures for the operators' log, beside the changed settings."""
    suggested = suggestions(advice)
    details: dict[str, Any] = {
        "advice": {
            "days": advice["days"],
            "since": advice["since"].isoformat(),
            "hold_tolerance": advice["hold_tolerance"],
            "reject_tolerance": advice["reject_tolerance"],
            "sample": {
                name: advice["sample"][name]
                for name in ("approved", "rejected", "rejected_as_spam")
            },
            "fingerprint": advice["fingerprint"],
            "thresholds": {
                name: {
                    "from": suggested[name]["current"],
                    "to": suggested[name]["suggested"],
                    "approved": suggested[name]["at_suggested"]["approved"],
                    "rejected": suggested[name]["at_suggested"]["rejected"],
                }
                for name in names
            },
        }
    }
    # The same figures in words, which the console's log shows as they are.
    for name in names:
        details[f"advice.{name}"] = suggested[name]["at_suggested"]["text"]
    return details


def _in_force(site: Site) -> dict[str, float]:
    policy = sites.site_policy(site)
    return {name: getattr(policy, name) for name in THRESHOLDS}


def apply_advice(
    key: str, data: Mapping[str, Any] | None = None, *, actor: str, now: datetime | None = None
) -> dict:
    """Apply a site's threshold advice as computed now, through update_site, and log its figures.

    With `fingerprint` (the advice's as the caller read it) a different advice now is refused
    with a 409 and nothing changes; without it, the advice of this moment is applied.
    """
    values = _load(AdviceApplySchema(), data or {})
    # Locked before computing: the advice compares with the thresholds in force, which must not
    # move between reading and writing them (another operator saving the site's page).
    site = sites.get_site(key, lock=True)
    advice = _advise(site, {name: values[name] for name in OPTIONS}, now or utcnow())
    if values["fingerprint"] is not None and values["fingerprint"] != advice["fingerprint"]:
        db.session.rollback()
        message = (
            "The advice has changed since you read it (new decisions, or someone changed the "
            "thresholds). Read it again before applying it."
        )
        raise ConflictError(message, {"fingerprint": [message]})
    available = suggestions(advice)
    wanted = list(dict.fromkeys(values["thresholds"] or available))
    missing = [name for name in wanted if name not in available]
    if missing:
        db.session.rollback()
        why = {}
        for entry in advice["scores"]:
            for item in entry["thresholds"]:
                if item["name"] in missing:
                    why[item["name"]] = item["note"] if entry["enough"] else entry["message"]
        problems = [f"There is no suggestion for {name}: {why[name]}." for name in missing]
        raise UnprocessableError(" ".join(problems), {"thresholds": problems})
    names = [name for name in wanted if name in advice["changes"]]
    if not names:
        in_force = _in_force(site)
        db.session.rollback()  # nothing to write: end the transaction and its lock
        return {"applied": {}, "thresholds": in_force, "advice": advice}
    policy = {name: advice["changes"][name]["to"] for name in names}
    try:
        site = sites.update_site(
            key,
            {"policy": policy},
            actor=actor,
            action=ACTION,
            details=_log_details(advice, names),
        )
    except UnprocessableError as error:
        # The site's own checks, e.g. one threshold of a score applied alone crossing the other
        # one as it stays: said under `thresholds`, the one field the caller gave.
        db.session.rollback()
        problems = [message for messages in error.fields.values() for message in messages]
        message = " ".join(problems or [error.message]) + " Nothing was applied."
        raise UnprocessableError(message, {"thresholds": [message]}) from None
    return {
        "applied": {name: advice["changes"][name] for name in names},
        "thresholds": _in_force(site),
        "advice": advice,
    }
