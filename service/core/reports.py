"""Readers' reports of published comments (moderators see them in the moderation queues)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.core.hashing import hash_ip
from service.errors import NotFoundError
from service.extensions import db
from service.models import MAX_ID, Comment, CommentStatus, Report, ReportReason


def report_comment(comment_id: int, data: dict, ip: str | None) -> None:
    """Store a reader's report of a published comment; a repeat by the same reader is kept once."""
    comment = db.session.get(Comment, comment_id) if 1 <= comment_id <= MAX_ID else None
    # Held, pending, rejected and shadow comments answer like missing ones: readers never learn
    # of them.
    if comment is None or comment.status != CommentStatus.APPROVED or comment.shadow:
        raise NotFoundError("There is no such comment.")
    reporter_key = data["commenter_key"]
    if reporter_key is not None and _already_reported(comment.id, reporter_key):
        return
    report = Report(
        comment_id=comment.id,
        site_id=comment.site_id,
        reason=ReportReason(data["reason"]),
        note=data["note"] or None,
        reporter_key=reporter_key,
        ip_hash=hash_ip(ip) if ip else None,
    )
    try:
        db.session.add(report)
        db.session.commit()
    except IntegrityError:
        # The same reader's report arrived twice at once; the other one was stored.
        db.session.rollback()
        if reporter_key is None or not _already_reported(comment_id, reporter_key):
            raise


def _already_reported(comment_id: int, reporter_key: str) -> bool:
    return (
        db.session.scalar(
            select(Report.id).where(
                Report.comment_id == comment_id, Report.reporter_key == reporter_key
            )
        )
        is not None
    )
