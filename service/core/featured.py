"""Editors' picks: moderators feature (pin) published comments; threads show them on top.

A pick is two columns of the comment (featured_at, featured_by). Only an approved comment that
is not shadowed can be featured; a decision that moves it away from approved (and its author's
delete) clears the pick, and the thread only ever lists approved, visible picks.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from service.core import operator_log, readcache
from service.core.moderation.scope import comment_for
from service.errors import ConflictError
from service.extensions import db
from service.models import Comment, CommentStatus, utcnow

# At most this many picks are listed above a thread, newest pick first.
MAX_PICKS = 10


def _set(comment: Comment, featured: bool, actor: str) -> None:
    # updated_at stays: undo compares it with its decision's stamp.
    values = (
        {"featured_at": utcnow(), "featured_by": actor}
        if featured
        else {
            "featured_at": None,
            "featured_by": None,
        }
    )
    table = Comment.__table__
    values["updated_at"] = table.c.updated_at  # as it was, or Core would apply its onupdate
    db.session.execute(update(table).where(table.c.id == comment.id).values(**values))
    readcache.touch_comments(db.session, [comment.id])
    operator_log.record_action(
        actor, "comment.feature" if featured else "comment.unfeature", f"comment:{comment.id}"
    )
    db.session.commit()
    db.session.expire(comment)


def feature(comment_id: int, *, actor: str, site_ids: set[int] | None = None) -> Comment:
    """Make a published comment an editors' pick (again: its pick moves to the top); logged."""
    comment = comment_for(comment_id, site_ids)
    if comment.status != CommentStatus.APPROVED or comment.shadow:
        raise ConflictError(
            "Only a published comment can be featured "
            f"(this one is {'shadowed' if comment.shadow else comment.status.value})."
        )
    _set(comment, True, actor)
    return comment


def unfeature(comment_id: int, *, actor: str, site_ids: set[int] | None = None) -> Comment:
    """Take a comment off the editors' picks (nothing to do if it is not one); logged."""
    comment = comment_for(comment_id, site_ids)
    if comment.featured_at is not None:
        _set(comment, False, actor)
    return comment


def feature_dict(comment: Comment) -> dict:
    """Return a comment's pick state as JSON-ready data."""
    return {
        "id": comment.id,
        "featured": comment.featured_at is not None,
        "featured_at": comment.featured_at,
        "featured_by": comment.featured_by,
    }


def picks_statement():
    """The ids of an article's editors' picks (bind `article_pk`), newest pick first."""
    return (
        select(Comment.id)
        .where(
            Comment.article_id == bindparam("article_pk"),
            Comment.featured_at.is_not(None),
            Comment.status == CommentStatus.APPROVED,
            Comment.shadow.is_(False),
        )
        .order_by(Comment.featured_at.desc(), Comment.id.desc())
        .limit(MAX_PICKS)
    )
