"""RQ jobs: thin plumbing that loads comments by id, scores them, decides and records."""

import dataclasses
import logging
from functools import cache

from flask import Flask, current_app, has_app_context

from service.core.comments import load_pending, record_decisions
from service.core.metrics import observe_decision
from service.core.queues import claim_waiting_moderation, enqueue_moderation
from service.extensions import db
from service.models import CommentStatus

from .moderation import assess_many, decision_record, external_scorers

log = logging.getLogger(__name__)


@cache
def _standalone_app() -> Flask:
    # A plain `rq worker` has no Flask app; build one from the environment, once per process.
    from service import create_app

    return create_app()


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()
    return _standalone_app()


def moderate(comment_id: int, request_info: dict | None = None) -> str:
    """Score a pending comment and record the automatic decision, once.

    When a backlog waits behind it, the job also claims up to MODERATION_BATCH_SIZE - 1 waiting
    jobs and moderates their comments in the same round trips: per-comment database, Redis and
    RQ costs would otherwise dominate. `request_info` (IP address, user agent, referrer) is
    passed only when an external scorer needs it; it lives in the job, never in the database,
    and such jobs are never batched.
    """
    app = _app()
    with app.app_context():
        claimed = []
        if request_info is None and not external_scorers():
            claimed = claim_waiting_moderation(app.config["MODERATION_BATCH_SIZE"] - 1)
        try:
            outcomes = _moderate_batch([comment_id, *claimed], request_info)
        except Exception:
            if not claimed:
                raise
            # Whatever went wrong fails this comment's job alone: the claimed comments get
            # their own jobs back, so one bad comment can't hold up the others.
            db.session.rollback()
            log.exception(
                "batch of %d failed; moderating comment %s alone", 1 + len(claimed), comment_id
            )
            for other in claimed:
                enqueue_moderation(other, replace=True)
            outcomes = _moderate_batch([comment_id], request_info)
        if claimed:
            log.info(
                "comment %s moderated with %d claimed from the queue", comment_id, len(claimed)
            )
        return outcomes.get(comment_id, "skipped: not pending")


def _moderate_batch(comment_ids: list[int], request_info: dict | None) -> dict[int, str]:
    """Moderate the still-pending comments among these in one transaction; return outcomes."""
    comments = load_pending(comment_ids)
    if not comments:
        return {}
    assessments = assess_many(comments, request_info=request_info)
    applied = record_decisions(
        # Guarded by the scored text: an author's edit meanwhile makes the decision stale.
        [
            dataclasses.replace(decision_record(c.id, a), text_hash=c.text_hash)
            for c, a in zip(comments, assessments, strict=True)
        ],
        CommentStatus.PENDING,
        actor="worker",
    )
    db.session.commit()
    outcomes = {}
    for comment, assessment, done in zip(comments, assessments, applied, strict=True):
        decision = assessment.decision
        if done:
            observe_decision(decision.status, decision.reasons, comment.created_at)
            outcomes[comment.id] = decision.status
            log.info("comment %s %s: %s", comment.id, decision.status, "; ".join(decision.reasons))
        else:
            outcomes[comment.id] = "skipped: decided elsewhere"
    return outcomes
