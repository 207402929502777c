"""RQ jobs: thin plumbing that loads a comment by id, scores it, decides and records."""

import logging
from functools import cache

from flask import Flask, current_app, has_app_context

from service.comments import count_recent_duplicates, load_pending, record_decision
from service.models import CommentStatus

from .scoring import ScoringContext, Thresholds, decide, score_comment

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


def thresholds_from_config(config) -> Thresholds:
    """Return the default moderation thresholds from the app's settings."""
    return Thresholds(
        toxicity_hold=config["TOXICITY_HOLD"],
        toxicity_reject=config["TOXICITY_REJECT"],
        spam_hold=config["SPAM_HOLD"],
        spam_reject=config["SPAM_REJECT"],
    )


def moderate(comment_id: int) -> str:
    """Score a pending comment and record the automatic decision, once."""
    app = _app()
    with app.app_context():
        comment = load_pending(comment_id)
        if comment is None:
            return "skipped: not pending"
        scores = score_comment(
            comment.body_text, ScoringContext(recent_duplicates=count_recent_duplicates(comment))
        )
        decision = decide(scores, thresholds_from_config(app.config))
        applied = record_decision(
            comment_id,
            CommentStatus.PENDING,
            CommentStatus(decision.status),
            actor="worker",
            reasons=list(decision.reasons),
            toxicity=scores.toxicity,
            spam=scores.spam,
        )
        if not applied:
            return "skipped: decided elsewhere"
        log.info("comment %s %s: %s", comment_id, decision.status, "; ".join(decision.reasons))
        return decision.status
