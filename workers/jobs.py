"""RQ jobs: thin plumbing that loads a comment by id, scores it, decides and records."""

import logging
from functools import cache

from flask import Flask, current_app, has_app_context

from service.comments import load_pending
from service.models import CommentStatus

from .moderation import assess, record_assessment

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

    `request_info` (IP address, user agent, referrer) is passed only when an external scorer
    needs it; it lives in the job, never in the database.
    """
    app = _app()
    with app.app_context():
        comment = load_pending(comment_id)
        if comment is None:
            return "skipped: not pending"
        assessment = assess(comment, request_info=request_info)
        if not record_assessment(comment_id, CommentStatus.PENDING, assessment, actor="worker"):
            return "skipped: decided elsewhere"
        decision = assessment.decision
        log.info("comment %s %s: %s", comment_id, decision.status, "; ".join(decision.reasons))
        return decision.status
