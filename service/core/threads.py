"""The reader's read path: threaded pages of approved comments, and comment counts."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from service.core import pagination
from service.core.comments import (
    ARTICLE_ID_MAX,
    article_is_closed,
    check_article_id,
    find_site,
    is_valid_article_id,
)
from service.errors import UnprocessableError
from service.extensions import db
from service.models import Article, Comment, CommentStatus

VISIBLE = (CommentStatus.APPROVED, CommentStatus.DELETED)


def encode_cursor(created_at: datetime, comment_id: int) -> str:
    """Return an opaque cursor pointing just after this top-level comment."""
    return pagination.encode_cursor([created_at, comment_id])


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the position a cursor points at, or raise UnprocessableError naming `cursor`."""
    return pagination.decode_cursor(cursor, (datetime, pagination.ID))


def _visible_roots(article_id: int):
    """Top-level comments a reader can see: approved, or deleted but with approved replies."""
    reply = aliased(Comment)
    has_approved_reply = exists().where(
        reply.root_id == Comment.id,
        reply.id != Comment.id,
        reply.status == CommentStatus.APPROVED,
        reply.shadow.is_(False),
    )
    return select(Comment).where(
        Comment.article_id == article_id,
        Comment.parent_id.is_(None),
        Comment.shadow.is_(False),
        or_(
            Comment.status == CommentStatus.APPROVED,
            and_(Comment.status == CommentStatus.DELETED, has_approved_reply),
        ),
    )


def _node(comment: Comment, children: dict[int, list[Comment]]) -> dict | None:
    """Build a comment with its visible replies; None if nothing of it is visible."""
    replies = [
        node
        for child in children.get(comment.id, [])
        if (node := _node(child, children)) is not None
    ]
    node = {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author_name": comment.author_name,
        "title": comment.title,
        "body_html": comment.body_html,
        "created_at": comment.created_at,
        "deleted": False,
        "replies": replies,
    }
    if comment.status == CommentStatus.DELETED:
        # A tombstone stays only while it holds up visible replies, and shows nothing of its own.
        if not replies:
            return None
        node.update(author_name=None, title=None, body_html=None, deleted=True)
    return node


def get_thread(site_key: str, article_id: str, sort: str, limit: int, cursor: str | None) -> dict:
    """Return a page of an article's visible top-level comments with all their visible replies."""
    site = find_site(site_key)
    check_article_id(article_id)
    position = decode_cursor(cursor) if cursor else None
    article = db.session.scalar(
        select(Article).where(Article.site_id == site.id, Article.external_id == article_id)
    )
    article_info = {
        "id": article_id,
        "url": article.url if article else None,
        "title": article.title if article else None,
        "closed": site.is_closed or article_is_closed(site, article),
    }
    site_info = {
        "language": site.language,
        "min_comment_length": site.min_comment_length,
        "max_comment_length": site.max_comment_length,
    }
    if article is None:
        return {
            "site": site_info,
            "article": article_info,
            "count": 0,
            "comments": [],
            "next_cursor": None,
        }

    newest_first = sort == "newest"
    query = _visible_roots(article.id)
    if position:
        after_time, after_id = position
        if newest_first:
            query = query.where(
                or_(
                    Comment.created_at < after_time,
                    and_(Comment.created_at == after_time, Comment.id < after_id),
                )
            )
        else:
            query = query.where(
                or_(
                    Comment.created_at > after_time,
                    and_(Comment.created_at == after_time, Comment.id > after_id),
                )
            )
    order = (
        (Comment.created_at.desc(), Comment.id.desc())
        if newest_first
        else (Comment.created_at.asc(), Comment.id.asc())
    )
    roots = list(db.session.scalars(query.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(roots) > limit:
        roots = roots[:limit]
        next_cursor = encode_cursor(roots[-1].created_at, roots[-1].id)

    # Every visible reply of the page's threads in one query, then the tree in memory.
    children: dict[int, list[Comment]] = {}
    if roots:
        replies = db.session.scalars(
            select(Comment)
            .where(
                Comment.root_id.in_([root.id for root in roots]),
                Comment.parent_id.is_not(None),
                Comment.status.in_(VISIBLE),
                Comment.shadow.is_(False),
            )
            .order_by(Comment.created_at, Comment.id)
        )
        for reply in replies:
            children.setdefault(reply.parent_id, []).append(reply)
    comments = [node for root in roots if (node := _node(root, children)) is not None]
    return {
        "site": site_info,
        "article": article_info,
        "count": _approved_count(article.id),
        "comments": comments,
        "next_cursor": next_cursor,
    }


def _approved_count(article_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(
            Comment.article_id == article_id,
            Comment.status == CommentStatus.APPROVED,
            Comment.shadow.is_(False),
        )
    )


def parse_article_ids(articles: str) -> list[str]:
    """Split comma-separated article ids, or raise UnprocessableError naming `articles`."""
    article_ids = [a for a in dict.fromkeys(part.strip() for part in articles.split(",")) if a]
    limit = current_app.config["COUNTS_MAX_ARTICLES"]
    if not article_ids or len(article_ids) > limit:
        raise UnprocessableError(
            f"Ask for between 1 and {limit} articles at a time.",
            {"articles": [f"Give 1 to {limit} comma-separated article ids."]},
        )
    if not all(is_valid_article_id(article_id) for article_id in article_ids):
        raise UnprocessableError(
            "Some article ids are not valid.",
            {"articles": [f"Each id must be 1 to {ARTICLE_ID_MAX} printable characters."]},
        )
    return article_ids


def count_comments(site_key: str, articles: str) -> dict[str, int]:
    """Return the approved comment count of each article in a comma-separated list (0 if none)."""
    article_ids = parse_article_ids(articles)
    site = find_site(site_key)
    counts = dict.fromkeys(article_ids, 0)
    rows = db.session.execute(
        select(Article.external_id, func.count(Comment.id))
        .join(Comment, Comment.article_id == Article.id)
        .where(
            Article.site_id == site.id,
            Article.external_id.in_(article_ids),
            Comment.status == CommentStatus.APPROVED,
            Comment.shadow.is_(False),
        )
        .group_by(Article.external_id)
    )
    for external_id, count in rows:
        counts[external_id] = count
    return counts
