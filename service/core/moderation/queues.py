"""The review queues: counts, and pages of cards in a sort with keyset cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from service.core import pagination
from service.core.moderation.cards import build_cards, open_reports
from service.core.moderation.scope import in_scope, narrow_scope
from service.errors import NotFoundError, UnprocessableError
from service.extensions import db
from service.models import Article, Comment, CommentStatus, Report, Site

QUEUES = ("held", "reported", "pending", "approved", "rejected")
SORTS = ("oldest", "newest", "riskiest")
# What an invalid queue cursor tells the caller to do.
SAME_SORT = "Use the next_cursor of a previous page, unchanged, with the same sort."
# The statuses that are queues of their own (reported is a view of approved comments).
DECIDABLE = (
    CommentStatus.HELD,
    CommentStatus.PENDING,
    CommentStatus.APPROVED,
    CommentStatus.REJECTED,
)


def _encode_cursor(sort: str, key, comment_id: int) -> str:
    """Return the cursor just after a row of a queue page in this sort."""
    return pagination.encode_cursor([sort, key, comment_id])


def _decode_cursor(cursor: str, sort: str, key_type: type) -> tuple:
    """Return (key, id) of a cursor made for this sort, or raise 422 naming `cursor`."""
    _, key, comment_id = pagination.decode_cursor(
        cursor, (sort, key_type, pagination.ID), hint=SAME_SORT
    )
    return key, comment_id


def _after(key_column, id_column, key, comment_id: int, descending: bool):
    """Keyset condition: rows after (key, id) in the page order."""
    if descending:
        return or_(key_column < key, and_(key_column == key, id_column < comment_id))
    return or_(key_column > key, and_(key_column == key, id_column > comment_id))


def _risk():
    """max(toxicity, spam), unknown scores counting as 0 (portable: no GREATEST in SQLite)."""
    toxicity = func.coalesce(Comment.toxicity_score, 0.0)
    spam = func.coalesce(Comment.spam_score, 0.0)
    return case((toxicity >= spam, toxicity), else_=spam)


def _reported_subquery(scope: set[int] | None):
    """Published comments with open reports, and when they were last reported."""
    return (
        select(Report.comment_id, func.max(Report.created_at).label("last_reported"))
        .join(Comment, Comment.id == Report.comment_id)
        .where(
            Comment.status == CommentStatus.APPROVED,
            open_reports(),
            in_scope(Report.site_id, scope),
        )
        .group_by(Report.comment_id)
        .subquery()
    )


def _filters(scope, article_id: int | None, commenter: str | None) -> list:
    """WHERE clauses of the scope and the optional article and commenter filters."""
    conditions = [in_scope(Comment.site_id, scope)]
    if article_id is not None:
        conditions.append(Comment.article_id == article_id)
    if commenter is not None:
        conditions.append(Comment.commenter_key == commenter)
    return conditions


def queue_counts(scope, article_id: int | None = None, commenter: str | None = None) -> dict:
    """Count every queue under the same filters, in two queries."""
    counts = dict.fromkeys(QUEUES, 0)
    conditions = _filters(scope, article_id, commenter)
    rows = db.session.execute(
        select(Comment.status, func.count())
        .where(
            Comment.status.in_(DECIDABLE),
            *conditions,
        )
        .group_by(Comment.status)
    )
    for status, count in rows:
        counts[CommentStatus(status).value] = count
    reported = _reported_subquery(scope)
    counts["reported"] = db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .join(reported, reported.c.comment_id == Comment.id)
        .where(*conditions)
    )
    return counts


def list_queue(
    queue: str,
    site_ids: set[int] | None,
    site: str | None = None,
    article: str | None = None,
    commenter: str | None = None,
    sort: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict:
    """Return a page of a queue as cards, with every queue's count under the same filters."""
    if queue not in QUEUES:
        raise NotFoundError(f"There is no queue '{queue}'; the queues are {', '.join(QUEUES)}.")
    scope = narrow_scope(site_ids, site)
    article_id = None
    if article is not None:
        if site is None:
            raise UnprocessableError(
                "Say which site the article is on.", {"site": ["Required with article."]}
            )
        (site_id,) = scope
        article_id = db.session.scalar(
            select(Article.id).where(Article.site_id == site_id, Article.external_id == article)
        )
        if article_id is None:
            raise NotFoundError(f"There is no article '{article}' on this site.")
    # Work queues read oldest first (fair to the waiting authors); the rest newest first.
    sort = sort or ("oldest" if queue in ("held", "pending") else "newest")

    query = (
        select(Comment, Article, Site.key)
        .join(Article, Article.id == Comment.article_id)
        .join(Site, Site.id == Comment.site_id)
        .where(*_filters(scope, article_id, commenter))
    )
    if queue == "reported":
        reported = _reported_subquery(scope)
        query = query.join(reported, reported.c.comment_id == Comment.id)
        time_key = reported.c.last_reported
    else:
        query = query.where(Comment.status == CommentStatus(queue))
        time_key = Comment.created_at
    key, key_type = (_risk(), float) if sort == "riskiest" else (time_key, datetime)
    descending = sort != "oldest"
    query = query.add_columns(key.label("sort_key"))
    if cursor:
        after_key, after_id = _decode_cursor(cursor, sort, key_type)
        query = query.where(_after(key, Comment.id, after_key, after_id, descending))
    order = (key.desc(), Comment.id.desc()) if descending else (key.asc(), Comment.id.asc())
    rows = db.session.execute(query.order_by(*order).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(sort, rows[-1].sort_key, rows[-1][0].id)
    return {
        "queue": queue,
        "counts": queue_counts(scope, article_id, commenter),
        "comments": build_cards([(row[0], row[1], row[2]) for row in rows], site_ids),
        "next_cursor": next_cursor,
    }
