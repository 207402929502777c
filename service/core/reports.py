"""Readers' reports of published comments (moderators see them in the moderation queues)."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from service.core.hashing import hash_ip
from service.core.webhooks import emit, report_data
from service.errors import NotFoundError
from service.extensions import db
from service.models import MAX_ID, Comment, CommentStatus, Report, ReportReason


def report_comment(comment_id: int, data: dict, ip: str | None) -> None:
    """Store a reader's report of a published comment; a repeat by the same reader (commenter
    key, or without one the address hash) is kept once."""
    comment = db.session.get(Comment, comment_id) if 1 <= comment_id <= MAX_ID else None
    # Held, pending, rejected and shadow comments answer like missing ones: readers never learn
    # of them.
    if comment is None or comment.status != CommentStatus.APPROVED or comment.shadow:
        raise NotFoundError("There is no such comment.")
    reporter_key = data["commenter_key"]
    ip_hash = hash_ip(ip) if ip else None
    if _already_reported(comment.id, reporter_key, ip_hash):
        return
    report = Report(
        comment_id=comment.id,
        site_id=comment.site_id,
        reason=ReportReason(data["reason"]),
        note=data["note"] or None,
        reporter_key=reporter_key,
        ip_hash=ip_hash,
    )
    try:
        db.session.add(report)
        db.session.flush()
        emit("report.created", [report.site_id], lambda _key: report_data(report))
        db.session.commit()
    except IntegrityError:
        # The same reader's report arrived twice at once; the other one was stored.
        db.session.rollback()
        if not _already_reported(comment_id, reporter_key, ip_hash):
            raise


def _already_reported(comment_id: int, reporter_key: str | None, ip_hash: str | None) -> bool:
    """Whether this reader reported the comment before: by key, else by address hash."""
    if reporter_key is not None:
        same_reader = Report.reporter_key == reporter_key
    elif ip_hash is not None:
        same_reader = and_(Report.reporter_key.is_(None), Report.ip_hash == ip_hash)
    else:
        return False
    return (
        db.session.scalar(select(Report.id).where(Report.comment_id == comment_id, same_reader))
        is not None
    )
