"""Recording decisions: a comment's conditional move to a new status, with its audit entry.

Shared by the worker's automatic decisions, re-scoring, bans and the moderators' decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, update

from service.core import mail, readcache, webhooks
from service.extensions import db
from service.models import AuditEntry, Comment, CommentStatus, utcnow


@dataclass(frozen=True)
class DecisionRecord:
    """A decision to record: a comment's new status, its reasons, and the scores if any."""

    comment_id: int
    status: CommentStatus
    reasons: list[str]
    toxicity: float | None = None
    spam: float | None = None
    # A moderator's own words for the audit entry; the comment keeps the automatic reasons.
    audit_reason: str | None = None
    # The text the decision was made on (its text_hash): the author may have edited the
    # comment while it was scored, and a decision on the old text must not apply to the new.
    text_hash: str | None = None


def record_decisions(
    records: list[DecisionRecord], expected: CommentStatus, *, actor: str
) -> list[bool]:
    """Move comments from `expected` to their new status once, each with an audit entry.

    Returns, per record, whether it applied (False: the comment had moved already). The caller
    commits, so a batch of decisions costs one transaction.
    """
    comments, now = Comment.__table__, utcnow()
    connection = db.session.connection()
    applied = []
    for record in records:
        values = {
            "status": record.status,
            "reasons": record.reasons,
            "decided_at": now,
            "updated_at": now,
        }
        if record.status != CommentStatus.APPROVED:
            # A rejected (or re-held) comment is no editors' pick any more.
            values["featured_at"] = values["featured_by"] = None
        if record.toxicity is not None:
            values["toxicity_score"] = record.toxicity
        if record.spam is not None:
            values["spam_score"] = record.spam
        # A conditional update is the lock: of two deliveries of one job only one matches a row.
        statement = update(comments).where(
            comments.c.id == record.comment_id, comments.c.status == expected
        )
        if record.text_hash is not None:
            statement = statement.where(comments.c.text_hash == record.text_hash)
        result = connection.execute(statement.values(**values))
        applied.append(result.rowcount == 1)
    entries = [
        {
            "comment_id": record.comment_id,
            "actor": actor,
            "from_status": expected.value,
            "to_status": record.status.value,
            "reason": record.audit_reason
            if record.audit_reason is not None
            else "; ".join(record.reasons),
            "created_at": now,
        }
        for record, done in zip(records, applied, strict=True)
        if done
    ]
    if entries:
        connection.execute(insert(AuditEntry.__table__), entries)
        # Readers' pages of these articles change once the caller commits.
        readcache.touch_comments(db.session, [entry["comment_id"] for entry in entries])
        # Webhooks' outbox rows go in the same transaction as the decisions.
        webhooks.emit_decided_comments(
            [
                (record.comment_id, expected, record.status)
                for record, done in zip(records, applied, strict=True)
                if done
            ]
        )
        # Notification mail goes into the outbox in this transaction, out after its commit.
        mail.note_decisions([entry["comment_id"] for entry in entries], actor=actor)
    return applied


def record_decision(record: DecisionRecord, expected: CommentStatus, *, actor: str) -> bool:
    """Record one decision and commit; return False if the comment had moved already."""
    applied = record_decisions([record], expected, actor=actor)[0]
    db.session.commit()
    return applied
