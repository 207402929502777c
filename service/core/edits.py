"""Authors' edits of their comments within the site's edit window, and their moderation.

An edit of a comment nobody sees yet (pending or held) replaces its text in place and sends it
back to automatic moderation: a decision scored on the old text is refused by its text guard
(DecisionRecord.text_hash). An edit of a published comment becomes a revision
(CommentRevision), scored by the same pure scoring through RQ (workers/edits.py) while readers
keep the approved text; an approved revision replaces the text and sets `edited_at`. One
revision waits at a time: a newer edit supersedes it. The sweeper re-enqueues revisions whose
job was lost, like pending comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from service.core import operator_log, webhooks
from service.core.comments import (
    _optional_text,
    article_is_closed,
    checked_body,
    get_own_comment,
)
from service.core.hashing import text_fingerprint
from service.core.queues import enqueue_moderation, enqueue_revision
from service.core.sso import Reader
from service.errors import ConflictError, NotFoundError
from service.extensions import db
from service.models import (
    MAX_ID,
    AuditEntry,
    Comment,
    CommentRevision,
    CommentStatus,
    RevisionStatus,
    Site,
    utcnow,
)

# The audit actor prefix of moderators' and operators' accounts (service.core.moderation.scope).
MODERATOR_PREFIX = "moderator:"
WINDOW_PASSED = "The time to edit this comment has passed."
EDITING_OFF = "Editing comments is turned off on this site."
UNDECIDED = (RevisionStatus.PENDING, RevisionStatus.HELD)


@dataclass(frozen=True)
class Edited:
    """The answer to an edit: the comment's status and, for a published one, its edit's."""

    id: int
    status: str
    edit_status: str | None
    editable_until: datetime


def editable_until(comment: Comment, site: Site) -> datetime | None:
    """Return when the comment stops being editable (None: editing is off on its site)."""
    if site.edit_window_seconds <= 0:
        return None
    return comment.created_at + timedelta(seconds=site.edit_window_seconds)


def edit_comment(
    comment_id: int, token: str | None, data: dict, reader: Reader | None = None
) -> Edited:
    """Edit a comment for the holder of its delete token or its signed-in author, within the
    site's edit window.

    Authorization is get_own_comment's, the same for reading, deleting and editing.
    """
    comment = get_own_comment(comment_id, token, reader)
    site = db.session.get(Site, comment.site_id)
    until = editable_until(comment, site)
    if until is None:
        raise ConflictError(EDITING_OFF)
    if utcnow() >= until:
        raise ConflictError(WINDOW_PASSED)
    if site.is_closed or article_is_closed(site, comment.article):
        raise ConflictError("Comments on this article are closed.")
    if comment.status == CommentStatus.DELETED:
        raise ConflictError("This comment was deleted.")
    if comment.status == CommentStatus.REJECTED:
        raise ConflictError("This comment was not published, so it can't be edited.")
    # The site's rules for new text, its sign-in policy included (a link added by an edit).
    body = checked_body(site, data["body"], reader)
    title = _optional_text(data.get("title"), 120)
    if comment.status == CommentStatus.APPROVED:
        return _propose(comment, until, title, body)
    return _replace_undecided(comment, until, title, body)


def _replace_undecided(comment: Comment, until, title: str | None, body) -> Edited:
    """Replace the text of a comment nobody sees yet and send it back to the worker."""
    previous = comment.status
    comment.title, comment.body_html, comment.body_text = title, body.html, body.text
    comment.text_hash = text_fingerprint(body.text)
    comment.status = CommentStatus.PENDING
    comment.reasons = []
    db.session.add(
        AuditEntry(
            comment_id=comment.id,
            actor="author",
            from_status=previous.value,
            to_status=CommentStatus.PENDING.value,
            reason="edited by its author before its decision",
        )
    )
    db.session.commit()
    # A pending comment's job (waiting, or running on the old text and then refused by the
    # text guard) is left alone: the sweeper re-enqueues it if it ends without a decision.
    if previous == CommentStatus.HELD:
        enqueue_moderation(comment.id, replace=True)
    return Edited(comment.id, CommentStatus.PENDING.value, None, until)


def _propose(comment: Comment, until, title: str | None, body) -> Edited:
    """Store an edit of a published comment as a pending revision and queue it."""
    now = utcnow()
    revisions = list(
        db.session.scalars(select(CommentRevision).where(CommentRevision.comment_id == comment.id))
    )
    for waiting in revisions:
        if waiting.status in UNDECIDED:
            waiting.status = RevisionStatus.SUPERSEDED
            waiting.decided_at, waiting.decided_by = now, "author"
    if not any(revision.original for revision in revisions):
        # The first edit keeps the original text, so the history shows every version.
        db.session.add(
            CommentRevision(
                comment_id=comment.id,
                site_id=comment.site_id,
                original=True,
                title=comment.title,
                body_html=comment.body_html,
                body_text=comment.body_text,
                text_hash=comment.text_hash,
                status=RevisionStatus.APPROVED,
                toxicity_score=comment.toxicity_score,
                spam_score=comment.spam_score,
                reasons=list(comment.reasons or []),
                created_at=comment.created_at,
                decided_at=comment.decided_at,
            )
        )
    revision = CommentRevision(
        comment_id=comment.id,
        site_id=comment.site_id,
        title=title,
        body_html=body.html,
        body_text=body.text,
        text_hash=text_fingerprint(body.text),
        status=RevisionStatus.PENDING,
        reasons=[],
        created_at=now,
    )
    db.session.add(revision)
    db.session.flush()
    revision_id = revision.id
    # The revision row is the record of the edit (who: the author; when; what). No AuditEntry:
    # that log is of status changes, which queues, summaries and advice count as decisions.
    # The database is the outbox: committed first, so a Redis outage loses no edit.
    db.session.commit()
    enqueue_revision(revision_id)
    return Edited(comment.id, comment.status.value, RevisionStatus.PENDING.value, until)


def latest_edit(comment_id: int) -> CommentRevision | None:
    """Return the author's latest edit of a published comment (not the kept original)."""
    return db.session.scalar(
        select(CommentRevision)
        .where(CommentRevision.comment_id == comment_id, CommentRevision.original.is_(False))
        .order_by(CommentRevision.id.desc())
        .limit(1)
    )


def own_comment(comment_id: int, token: str | None, reader: Reader | None = None) -> Comment:
    """Return a comment to the holder of its delete token or its signed-in author, with
    `editable_until` and `edit` (its latest edit, or None) set on it for the author's view."""
    comment = get_own_comment(comment_id, token, reader)
    comment.editable_until = editable_until(comment, db.session.get(Site, comment.site_id))
    comment.edit = latest_edit(comment.id)
    return comment


def load_revision(revision_id: int) -> CommentRevision | None:
    """Return a revision still waiting for its automatic decision, or None."""
    revision = db.session.get(CommentRevision, revision_id) if 1 <= revision_id <= MAX_ID else None
    return revision if revision and revision.status == RevisionStatus.PENDING else None


def scoring_copy(revision: CommentRevision) -> Comment:
    """Return an unsaved comment with the revision's text and its comment's identity, for the
    same scoring as a new comment."""
    comment = db.session.get(Comment, revision.comment_id)
    columns = [column.key for column in Comment.__table__.columns]
    copy = Comment(**{name: getattr(comment, name) for name in columns})
    copy.title, copy.body_html, copy.body_text = (
        revision.title,
        revision.body_html,
        revision.body_text,
    )
    copy.text_hash = revision.text_hash
    return copy


@dataclass(frozen=True)
class RevisionDecision:
    """A decision on a revision: its new status, reasons, scores and who made it."""

    revision_id: int
    status: RevisionStatus
    reasons: list[str]
    actor: str
    toxicity: float | None = None
    spam: float | None = None
    # A moderator's words for the audit entry (the public reason goes in `reasons`).
    audit_reason: str | None = None


def record_revision_decision(
    decision: RevisionDecision, expected: tuple[RevisionStatus, ...]
) -> bool:
    """Move a revision from an expected status once, apply an approval to its comment, audit it.

    The conditional update is the lock: of two deliveries of one job only one applies. Commits.
    """
    now = utcnow()
    revisions = CommentRevision.__table__
    values = {
        "status": decision.status,
        "reasons": decision.reasons,
        "decided_at": now,
        "decided_by": decision.actor,
    }
    if decision.toxicity is not None:
        values["toxicity_score"] = decision.toxicity
    if decision.spam is not None:
        values["spam_score"] = decision.spam
    result = db.session.execute(
        update(revisions)
        .where(revisions.c.id == decision.revision_id, revisions.c.status.in_(expected))
        .values(**values)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    revision = db.session.get(CommentRevision, decision.revision_id)
    db.session.refresh(revision)
    comment = db.session.get(Comment, revision.comment_id)
    # Only a comment still published takes the edit (one deleted or removed meanwhile not).
    if decision.status == RevisionStatus.APPROVED and comment.status == CommentStatus.APPROVED:
        comment.title, comment.body_html = revision.title, revision.body_html
        comment.body_text, comment.text_hash = revision.body_text, revision.text_hash
        comment.edited_at = now
        # The ORM update marks the comment's article changed: its cached pages are bumped.
        webhooks.emit_comment("comment.edited", comment)
    if decision.actor.startswith(MODERATOR_PREFIX):
        # A moderator's decision goes in the operators' log too; the worker's is in the row.
        operator_log.record_action(
            decision.actor,
            f"edit.{decision.status.value}",
            f"comment {comment.id}",
            {"edit": revision.id, "reason": decision.audit_reason},
        )
    db.session.commit()
    return True


def stale_pending_revision_ids(older_than_seconds: float, limit: int = 500) -> list[int]:
    """Return ids of revisions pending for longer than the given age, oldest first."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    return list(
        db.session.scalars(
            select(CommentRevision.id)
            .where(
                CommentRevision.status == RevisionStatus.PENDING,
                CommentRevision.created_at <= cutoff,
            )
            .order_by(CommentRevision.created_at)
            .limit(limit)
        )
    )


def revision_or_404(revision_id: int) -> CommentRevision:
    """Return a revision by id or raise NotFoundError."""
    revision = db.session.get(CommentRevision, revision_id) if 1 <= revision_id <= MAX_ID else None
    if revision is None or revision.original:
        raise NotFoundError("There is no such edit.")
    return revision
