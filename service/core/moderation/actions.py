"""Moderators' decisions: approve or reject one comment or many, and undo within the window."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from service.core import readcache
from service.core.decisions import DecisionRecord
from service.core.learning import learn
from service.core.moderation.scope import FORBIDDEN_SITE, MODERATOR_PREFIX, UNDO_PREFIX, comment_for
from service.errors import ConflictError, ForbiddenError, NotFoundError
from service.extensions import db
from service.models import MAX_ID, AuditEntry, Comment, CommentStatus, utcnow

ACTIONS = {"approve": CommentStatus.APPROVED, "reject": CommentStatus.REJECTED}


class StaleDecisionError(ConflictError):
    """The comment is no longer in the status the moderator saw; says what it is now."""

    def __init__(self, message: str, current: dict):
        super().__init__(message)
        self.current = current


def _audit_reason(reason: str | None, note: str | None) -> str:
    """The audit entry's reason: the moderator's reason on the first line, the note after it."""
    # The first line is what undo reads back to tell whether the decision taught the model spam,
    # so a note alone is labelled and can never read as a reason.
    if reason and note:
        return f"{reason}\n{note}"
    if note:
        return f"note: {note}"
    return reason or ""


def is_spam_reason(audit_reason: str | None) -> bool:
    """Tell whether a decision's audit reason says spam (its first line is "spam")."""
    return (audit_reason or "").split("\n", 1)[0].strip().casefold() == "spam"


def _latest_entry(comment_id: int) -> AuditEntry | None:
    """The comment's latest audit entry, if any."""
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.comment_id == comment_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def _stale(comment: Comment) -> StaleDecisionError:
    """The 409 for a comment that moved on, saying who moved it where."""
    latest = _latest_entry(comment.id)
    decided_by = latest.actor if latest else None
    status = comment.status.value
    if status == CommentStatus.DELETED:
        message = "The author deleted this comment."
    elif decided_by and decided_by.startswith(MODERATOR_PREFIX):
        if status in (CommentStatus.APPROVED, CommentStatus.REJECTED):
            message = f"Another moderator already {status} this comment."
        else:
            message = f"Another moderator put this comment back to {status}."
    else:
        message = f"This comment is {status} now."
    return StaleDecisionError(message, {"status": status, "decided_by": decided_by})


def _undo_seconds() -> float:
    """How long a moderator may undo a decision (UNDO_SECONDS)."""
    return float(current_app.config["UNDO_SECONDS"])


def _record_decisions(records: list[DecisionRecord], expected: CommentStatus, *, actor: str):
    """Call record_decisions as service.core.moderation exports it, so patching it there works."""
    # Looked up at call time through the package (tests replace it there to stage a race), as
    # when the moderation service was a single module.
    from service.core import moderation

    return moderation.record_decisions(records, expected, actor=actor)


def _apply_decision(
    comment: Comment,
    action: str,
    expected_status: str,
    actor: str,
    reason: str | None,
    note: str | None,
) -> dict:
    """Decide one loaded comment inside the caller's transaction; raise 409 if it moved."""
    target = ACTIONS[action]
    if comment.status == CommentStatus.DELETED or comment.status.value != expected_status:
        raise _stale(comment)
    if target == CommentStatus.REJECTED and comment.status == CommentStatus.REJECTED:
        latest = _latest_entry(comment.id)
        raise StaleDecisionError(
            "This comment is already rejected.",
            {"status": "rejected", "decided_by": latest.actor if latest else None},
        )
    previous = comment.status
    record = DecisionRecord(
        comment_id=comment.id,
        status=target,
        # The automatic reasons stay on the comment; the moderator's go to the audit log.
        reasons=list(comment.reasons or []),
        audit_reason=_audit_reason(reason, note),
    )
    # One conditional UPDATE (status = expected) and its audit row: of two moderators deciding
    # at once, only one matches the row; the other gets a 409.
    (applied,) = _record_decisions([record], previous, actor=actor)
    db.session.expire(comment)
    if not applied:
        raise _stale(comment)
    if target == CommentStatus.APPROVED:
        learn(comment.site_id, comment.body_text, is_spam=False, commit=False)
    elif is_spam_reason(reason):
        learn(comment.site_id, comment.body_text, is_spam=True, commit=False)
    # Nothing else to invalidate: the public read path has no server-side cache (its ETag is
    # computed from the content), so the next read shows the decision.
    return {
        "id": comment.id,
        "status": target.value,
        "previous_status": previous.value,
        "undo_until": utcnow() + timedelta(seconds=_undo_seconds()),
    }


def decide(
    comment_id: int,
    action: str,
    expected_status: str,
    actor: str,
    reason: str | None = None,
    note: str | None = None,
    site_ids: set[int] | None = None,
) -> dict:
    """Approve or reject a comment if it is still in `expected_status`; 404, 403 or 409 if not."""
    comment = comment_for(comment_id, site_ids)
    try:
        result = _apply_decision(comment, action, expected_status, actor, reason, note)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def decide_many(
    action: str,
    items: list[dict],
    actor: str,
    reason: str | None = None,
    note: str | None = None,
    site_ids: set[int] | None = None,
) -> list[dict]:
    """Apply one decision to many comments, each on its own; report each one's outcome."""
    wanted = [item["id"] for item in items if 1 <= item["id"] <= MAX_ID]
    comments = {
        comment.id: comment
        for comment in db.session.scalars(select(Comment).where(Comment.id.in_(wanted)))
    }
    results = []
    for item in items:
        comment = comments.get(item["id"])
        try:
            if comment is None:
                raise NotFoundError("There is no such comment.")
            if site_ids is not None and comment.site_id not in site_ids:
                raise ForbiddenError(FORBIDDEN_SITE)
            # A savepoint each, so one item's failure never undoes another's decision.
            with db.session.begin_nested():
                outcome = _apply_decision(
                    comment, action, item["expected_status"], actor, reason, note
                )
            results.append({"id": item["id"], "status": outcome["status"], "error": None})
        except (NotFoundError, ForbiddenError, ConflictError) as error:
            results.append({"id": item["id"], "status": None, "error": _item_error(error, comment)})
    db.session.commit()
    return results


def _item_error(error, comment: Comment | None) -> dict:
    """One bulk item's error as the response reports it."""
    detail = {"code": error.code, "message": error.message}
    if isinstance(error, StaleDecisionError):
        detail["current"] = error.current
    return detail


def _decided_at_before(entries: list[AuditEntry]) -> datetime | None:
    """Replay a comment's audit log to find its decided_at before the latest decision."""
    decided, history = None, []
    for entry in entries:
        if (entry.reason or "").startswith(UNDO_PREFIX):
            decided = history.pop() if history else None
        elif entry.actor != "author" and entry.to_status != CommentStatus.PENDING:
            history.append(decided)
            decided = entry.created_at
    return history[-1] if history else None


def undo(comment_id: int, actor: str, site_ids: set[int] | None = None) -> dict:
    """Take back the caller's own latest decision on a comment, within the undo window."""
    comment = comment_for(comment_id, site_ids)
    entries = list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.comment_id == comment.id).order_by(AuditEntry.id)
        )
    )
    latest = entries[-1] if entries else None
    if (
        latest is None
        or not latest.actor.startswith(MODERATOR_PREFIX)
        or (latest.reason or "").startswith(UNDO_PREFIX)
    ):
        raise ConflictError("There is no moderator's decision on this comment to undo.")
    if latest.actor != actor:
        raise ConflictError("Only the moderator who made the latest decision can undo it.")
    window = _undo_seconds()
    now = utcnow()
    if now - latest.created_at > timedelta(seconds=window):
        raise ConflictError(f"A decision can only be undone within {window:g} seconds.")
    restored = _decided_at_before(entries)
    comments = Comment.__table__
    # Conditional, like a decision: the comment must be exactly as the decision left it
    # (updated_at is the decision's own stamp), so a colleague's later change is never undone.
    result = db.session.connection().execute(
        update(comments)
        .where(
            comments.c.id == comment.id,
            comments.c.status == CommentStatus(latest.to_status),
            comments.c.updated_at == latest.created_at,
        )
        .values(status=CommentStatus(latest.from_status), decided_at=restored, updated_at=now)
    )
    if latest.from_status != CommentStatus.APPROVED and result.rowcount == 1:
        # An approval taken back takes its editors' pick with it.
        db.session.execute(
            update(comments)
            .where(comments.c.id == comment.id)
            .values(featured_at=None, featured_by=None)
        )
    if result.rowcount != 1:
        db.session.rollback()
        raise ConflictError("The comment changed after your decision, so it can't be undone.")
    readcache.touch_comments(db.session, [comment.id])
    db.session.add(
        AuditEntry(
            comment_id=comment.id,
            actor=actor,
            from_status=latest.to_status,
            to_status=latest.from_status,
            reason=f"{UNDO_PREFIX}{latest.id}",
            created_at=now,
        )
    )
    # Take back what the decision taught the spam model.
    if latest.to_status == CommentStatus.APPROVED:
        learn(comment.site_id, comment.body_text, is_spam=False, weight=-1, commit=False)
    elif latest.to_status == CommentStatus.REJECTED and is_spam_reason(latest.reason):
        learn(comment.site_id, comment.body_text, is_spam=True, weight=-1, commit=False)
    db.session.commit()
    return {"id": comment.id, "status": latest.from_status}
