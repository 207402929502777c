"""Moderators and authors' edits: the held edits of published comments, deciding them, and a
comment's whole history (its original text and every edit with its decision)."""

from __future__ import annotations

from sqlalchemy import select

from service.core.edits import RevisionDecision, record_revision_decision, revision_or_404
from service.core.moderation.scope import FORBIDDEN_SITE, comment_for, in_scope, narrow_scope
from service.errors import ConflictError, ForbiddenError
from service.extensions import db
from service.models import Article, Comment, CommentRevision, RevisionStatus, Site

EDIT_STATUSES = ("held", "pending", "approved", "rejected", "superseded")
EDIT_ACTIONS = {"approve": RevisionStatus.APPROVED, "reject": RevisionStatus.REJECTED}
DECIDABLE_EDITS = (RevisionStatus.PENDING, RevisionStatus.HELD)


def _text(title: str | None, body_html: str) -> dict:
    return {"title": title, "body_html": body_html}


def revision_dict(revision: CommentRevision) -> dict:
    """Return a revision as moderators see it in a comment's history."""
    return {
        "id": revision.id,
        "original": revision.original,
        "status": revision.status.value,
        "title": revision.title,
        "body_html": revision.body_html,
        "toxicity": revision.toxicity_score,
        "spam": revision.spam_score,
        "reasons": list(revision.reasons or []),
        "created_at": revision.created_at,
        "decided_at": revision.decided_at,
        "decided_by": revision.decided_by,
    }


def list_edits(
    site_ids: set[int] | None, *, site: str | None = None, status: str = "held", limit: int = 50
) -> dict:
    """List edits in a status (held by default), oldest first, each with the comment's current
    text beside the proposed one, and how many are held in the caller's scope."""
    scope = narrow_scope(site_ids, site)
    rows = db.session.execute(
        select(CommentRevision, Comment, Site.key, Article.external_id)
        .join(Comment, Comment.id == CommentRevision.comment_id)
        .join(Site, Site.id == CommentRevision.site_id)
        .join(Article, Article.id == Comment.article_id)
        .where(
            CommentRevision.status == RevisionStatus(status),
            CommentRevision.original.is_(False),
            in_scope(CommentRevision.site_id, scope),
        )
        .order_by(CommentRevision.created_at, CommentRevision.id)
        .limit(limit)
    ).all()
    return {
        "edits": [
            {
                **revision_dict(revision),
                "comment_id": comment.id,
                "comment_status": comment.status.value,
                "site": site_key,
                "article": article_id,
                "author_name": comment.author_name,
                "current": _text(comment.title, comment.body_html),
            }
            for revision, comment, site_key, article_id in rows
        ]
    }


def comment_history(comment_id: int, site_ids: set[int] | None) -> dict:
    """Return a comment's texts in order: the original, then every edit with its decision."""
    comment = comment_for(comment_id, site_ids)
    revisions = list(
        db.session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment.id)
            .order_by(CommentRevision.original.desc(), CommentRevision.id)
        )
    )
    history = [revision_dict(revision) for revision in revisions]
    if not revisions:
        # Never edited: the history is the comment's own text.
        history = [
            {
                "id": None,
                "original": True,
                "status": comment.status.value,
                "title": comment.title,
                "body_html": comment.body_html,
                "toxicity": comment.toxicity_score,
                "spam": comment.spam_score,
                "reasons": list(comment.reasons or []),
                "created_at": comment.created_at,
                "decided_at": comment.decided_at,
                "decided_by": None,
            }
        ]
    return {
        "comment_id": comment.id,
        "status": comment.status.value,
        "edited_at": comment.edited_at,
        "current": _text(comment.title, comment.body_html),
        "revisions": history,
    }


def decide_edit(
    revision_id: int,
    action: str,
    *,
    actor: str,
    site_ids: set[int] | None,
    reason: str | None = None,
    note: str | None = None,
) -> dict:
    """Approve or reject a pending or held edit; the reason is shown to its author.

    Raises ConflictError when the edit was decided meanwhile (or superseded by a newer one).
    """
    revision = revision_or_404(revision_id)
    if site_ids is not None and revision.site_id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE)
    status = EDIT_ACTIONS[action]
    audit_reason = "\n".join(part for part in (reason, note and f"note: {note}") if part)
    applied = record_revision_decision(
        RevisionDecision(
            revision.id,
            status,
            [reason] if reason else [],
            actor=actor,
            audit_reason=audit_reason or None,
        ),
        DECIDABLE_EDITS,
    )
    if not applied:
        raise ConflictError("This edit was already decided, or a newer edit replaced it.")
    return revision_dict(db.session.get(CommentRevision, revision_id))
