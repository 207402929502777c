"""The audit trail as moderators read it: events to poll, audit pages, and the summary."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from service.core import pagination
from service.core.moderation.scope import (
    MODERATOR_PREFIX,
    UNDO_PREFIX,
    in_scope,
    moderator_actor,
    narrow_scope,
)
from service.extensions import db
from service.models import AuditEntry, Comment, Site

# Audit actors whose decisions are automatic (the worker, and re-scoring after a policy change).
AUTOMATIC_ACTORS = ("worker", "rescore")
EVENTS_MAX = 200
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?%?")


def _encode_id_cursor(entry_id: int) -> str:
    """Return the cursor just after an audit entry (pages run newest first)."""
    return pagination.encode_cursor(["audit", entry_id])


def _decode_id_cursor(cursor: str) -> int:
    """Return the audit entry id of a cursor, or raise 422 naming `cursor`."""
    _, entry_id = pagination.decode_cursor(cursor, ("audit", pagination.ID))
    return entry_id


def events(after: int | None, site_ids: set[int] | None, site: str | None = None) -> dict:
    """Status changes after an audit id (at most 200), for consoles polling for colleagues' work."""
    scope = narrow_scope(site_ids, site)
    if after is None:
        # The starting point: nothing yet, just where to start from.
        query = select(func.max(AuditEntry.id))
        if scope is not None:
            query = query.join(Comment, Comment.id == AuditEntry.comment_id).where(
                in_scope(Comment.site_id, scope)
            )
        return {"events": [], "last": db.session.scalar(query) or 0}
    rows = db.session.execute(
        select(AuditEntry)
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(AuditEntry.id > after, in_scope(Comment.site_id, scope))
        .order_by(AuditEntry.id)
        .limit(EVENTS_MAX)
    ).scalars()
    found = [
        {
            "id": entry.id,
            "comment_id": entry.comment_id,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            "actor": entry.actor,
            "at": entry.created_at,
        }
        for entry in rows
    ]
    return {"events": found, "last": found[-1]["id"] if found else after}


@dataclass(frozen=True)
class Period:
    """An optional time window: since (inclusive) and until (exclusive), naive UTC."""

    since: datetime | None = None
    until: datetime | None = None

    def clauses(self, column) -> list:
        """WHERE clauses keeping `column` inside the window."""
        found = []
        if self.since is not None:
            found.append(column >= self.since)
        if self.until is not None:
            found.append(column < self.until)
        return found


def audit(
    site_ids: set[int] | None,
    moderator: str | None = None,
    site: str | None = None,
    period: Period | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict:
    """Return audit entries newest first, only of the caller's sites, filtered and paged."""
    scope = narrow_scope(site_ids, site)
    period = period or Period()
    query = (
        select(AuditEntry, Site.key)
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .join(Site, Site.id == Comment.site_id)
        .where(in_scope(Comment.site_id, scope), *period.clauses(AuditEntry.created_at))
    )
    if moderator is not None:
        query = query.where(AuditEntry.actor == moderator_actor(moderator.lower()))
    if cursor:
        query = query.where(AuditEntry.id < _decode_id_cursor(cursor))
    rows = db.session.execute(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_id_cursor(rows[-1][0].id)
    entries = [
        {
            "id": entry.id,
            "at": entry.created_at,
            "actor": entry.actor,
            "comment_id": entry.comment_id,
            "site": site_key,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            "reason": entry.reason or None,
        }
        for entry, site_key in rows
    ]
    return {"entries": entries, "next_cursor": next_cursor}


def reason_kind(audit_reason: str | None) -> str:
    """The first automatic reason with its numbers taken out, to group overturns by."""
    first = (audit_reason or "").split("; ", 1)[0]
    return " ".join(NUMBER.sub("", first).split()) or "(no reason recorded)"


def summary(site_ids: set[int] | None, site: str | None = None, period: Period | None = None):
    """Per moderator: decisions, undos and overturned automatic decisions; automatic totals."""
    scope = narrow_scope(site_ids, site)
    period = period or Period()
    in_period = period.clauses(AuditEntry.created_at)
    in_sites = in_scope(Comment.site_id, scope)

    automatic = dict.fromkeys(("approved", "held", "rejected"), 0)
    for status, count in db.session.execute(
        select(AuditEntry.to_status, func.count())
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(AuditEntry.actor.in_(AUTOMATIC_ACTORS), in_sites, *in_period)
        .group_by(AuditEntry.to_status)
    ):
        if status in automatic:
            automatic[status] = count

    # Each moderator entry in the period with its neighbours in the comment's log: the entry
    # before it (the decision it changed) and after it (an undo that took it back).
    window = {"partition_by": AuditEntry.comment_id, "order_by": AuditEntry.id}
    touched = (
        select(AuditEntry.comment_id)
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(AuditEntry.actor.like(f"{MODERATOR_PREFIX}%"), in_sites, *in_period)
    )
    logs = (
        select(
            AuditEntry.id,
            AuditEntry.actor,
            AuditEntry.from_status,
            AuditEntry.to_status,
            AuditEntry.reason,
            AuditEntry.created_at,
            func.lag(AuditEntry.actor).over(**window).label("before_actor"),
            func.lag(AuditEntry.to_status).over(**window).label("before_status"),
            func.lag(AuditEntry.reason).over(**window).label("before_reason"),
            func.lead(AuditEntry.reason).over(**window).label("after_reason"),
        )
        .where(AuditEntry.comment_id.in_(touched))
        .subquery()
    )
    entry_period = period.clauses(logs.c.created_at)
    rows = db.session.execute(
        select(logs)
        .where(logs.c.actor.like(f"{MODERATOR_PREFIX}%"), *entry_period)
        .order_by(logs.c.id)
    ).all()

    moderators: dict[str, dict] = {}
    for row in rows:
        stats = moderators.setdefault(
            row.actor,
            {
                "actor": row.actor,
                "approved": 0,
                "rejected": 0,
                "undone": 0,
                "overturned": 0,
                "overturned_by_reason": Counter(),
            },
        )
        if (row.reason or "").startswith(UNDO_PREFIX):
            stats["undone"] += 1
            continue
        if (row.after_reason or "").startswith(UNDO_PREFIX):
            continue  # taken back: neither a decision nor an overturn
        if row.to_status in ("approved", "rejected"):
            stats[row.to_status] += 1
        # An overturn changes a worker's final decision (approved or rejected) to the other one;
        # held is the worker asking a person, so deciding it overturns nothing.
        if (
            row.before_actor in AUTOMATIC_ACTORS
            and row.before_status in ("approved", "rejected")
            and row.to_status in ("approved", "rejected")
            and row.to_status != row.before_status
        ):
            stats["overturned"] += 1
            stats["overturned_by_reason"][reason_kind(row.before_reason)] += 1
    for stats in moderators.values():
        stats["overturned_by_reason"] = dict(stats["overturned_by_reason"].most_common())
    return {
        "moderators": sorted(moderators.values(), key=lambda stats: stats["actor"]),
        "automatic": automatic,
    }
