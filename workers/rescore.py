"""Re-score held comments after a site's policy or word lists change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.core.comments import record_decision
from service.extensions import db
from service.models import Comment, CommentStatus

from .moderation import assess, decision_record


def held_comment_ids(site_id: int, since: datetime | None = None) -> list[int]:
    """Return the ids of a site's held comments, oldest first."""
    query = select(Comment.id).where(
        Comment.site_id == site_id, Comment.status == CommentStatus.HELD
    )
    if since is not None:
        query = query.where(Comment.created_at >= since)
    return list(db.session.scalars(query.order_by(Comment.created_at, Comment.id)))


def rescore_comment(comment_id: int) -> str:
    """Score a held comment again and apply the new decision; return what happened."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status != CommentStatus.HELD:
        return "skipped (no longer held)"
    # Activity was recorded when it was first scored; counting it again would inflate it.
    assessment = assess(comment, record_activity=False)
    scores, decision = assessment.scores, assessment.decision
    if decision.status == CommentStatus.HELD.value:
        comment.reasons = list(decision.reasons)
        comment.toxicity_score, comment.spam_score = scores.toxicity, scores.spam
        db.session.commit()
        return "still held"
    record = decision_record(comment_id, assessment)
    applied = record_decision(record, CommentStatus.HELD, actor="rescore")
    return decision.status if applied else "skipped (decided meanwhile)"
