"""Readers' reports of published comments, and the moderators' queue of reported comments."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from .comments import find_site
from .errors import NotFoundError
from .extensions import db
from .hashing import hash_ip
from .models import MAX_ID, Article, Comment, CommentStatus, Report, ReportReason, Site
from .threads import decode_cursor, encode_cursor


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


def reported_queue(site_key: str | None, limit: int, cursor: str | None) -> dict:
    """Return a page of reported comments (not deleted ones), most recently reported first."""
    site = find_site(site_key) if site_key is not None else None
    position = decode_cursor(cursor) if cursor else None
    last_reported = func.max(Report.created_at).label("last_reported_at")
    query = (
        select(Report.comment_id, last_reported, func.count(Report.id).label("report_count"))
        .join(Comment, Comment.id == Report.comment_id)
        .where(Comment.status != CommentStatus.DELETED)
        .group_by(Report.comment_id)
    )
    if site is not None:
        query = query.where(Report.site_id == site.id)
    if position:
        after_time, after_id = position
        query = query.having(
            or_(
                func.max(Report.created_at) < after_time,
                and_(func.max(Report.created_at) == after_time, Report.comment_id < after_id),
            )
        )
    rows = db.session.execute(
        query.order_by(last_reported.desc(), Report.comment_id.desc()).limit(limit + 1)
    ).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].last_reported_at, rows[-1].comment_id)
    if not rows:
        return {"comments": [], "next_cursor": None}

    ids = [row.comment_id for row in rows]
    comments = {
        comment.id: (comment, article_id, key)
        for comment, article_id, key in db.session.execute(
            select(Comment, Article.external_id, Site.key)
            .join(Article, Article.id == Comment.article_id)
            .join(Site, Site.id == Comment.site_id)
            .where(Comment.id.in_(ids))
        )
    }
    reasons: dict[int, Counter] = {comment_id: Counter() for comment_id in ids}
    notes: dict[int, list[dict]] = {comment_id: [] for comment_id in ids}
    for report in db.session.scalars(
        select(Report)
        .where(Report.comment_id.in_(ids))
        .order_by(Report.created_at.desc(), Report.id.desc())
    ):
        reasons[report.comment_id][report.reason.value] += 1
        if report.note:
            note = {"reason": report.reason.value, "note": report.note}
            notes[report.comment_id].append({**note, "reported_at": report.created_at})
    page = []
    for row in rows:
        comment, article_id, key = comments[row.comment_id]
        page.append(
            {
                "id": comment.id,
                "site": key,
                "article": article_id,
                "author_name": comment.author_name,
                "title": comment.title,
                "body_html": comment.body_html,
                "status": comment.status.value,
                "report_count": row.report_count,
                "reasons": {
                    reason.value: reasons[comment.id][reason.value] for reason in ReportReason
                },
                "notes": notes[comment.id],
                "last_reported_at": row.last_reported_at,
            }
        )
    return {"comments": page, "next_cursor": next_cursor}
