"""Assess a comment: gather its context (site policy, recent activity, learned model, external
scorers), score it with the pure scoring code and decide. Shared by the RQ job and re-scoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from service.comments import record_decision
from service.extensions import db
from service.learning import site_counts
from service.models import Article, Comment, CommentStatus, Site
from service.queues import redis_connection
from workers.activity import Activity, record_and_count
from workers.external import ExternalRequest, run_external_scorers, scorers_from_config
from workers.scoring import Decision, Policy, Scores, ScoringContext, decide, score_comment
from workers.scoring.learned import comment_features
from workers.scoring.normalize import normalize


@dataclass(frozen=True)
class Assessment:
    """A comment's scores and the decision its site's policy makes of them."""

    scores: Scores
    decision: Decision


def site_policy(site: Site, config: Any = None) -> Policy:
    """Return a site's policy; settings it doesn't store take the configured defaults."""
    config = config or current_app.config
    return Policy.from_dict(
        site.policy,
        toxicity_hold=config["TOXICITY_HOLD"],
        toxicity_reject=config["TOXICITY_REJECT"],
        spam_hold=config["SPAM_HOLD"],
        spam_reject=config["SPAM_REJECT"],
    )


def external_scorers() -> list:
    """Return the app's external scorers (none unless configured), built once per app."""
    scorers = current_app.extensions.get("talkback_scorers")
    if scorers is None:
        scorers = scorers_from_config(current_app.config)
        current_app.extensions["talkback_scorers"] = scorers
    return scorers


def assess(
    comment: Comment, *, request_info: dict | None = None, record_activity: bool = True
) -> Assessment:
    """Score and decide a comment under its site's policy."""
    config = current_app.config
    site = db.session.get(Site, comment.site_id)
    policy = site_policy(site, config)
    normalized = normalize(comment.body_text)
    activity = Activity()
    if record_activity:
        activity = record_and_count(
            redis_connection(),
            site_id=comment.site_id,
            comment_id=comment.id,
            posted_at=comment.created_at.timestamp(),
            text=normalized,
            commenter_key=comment.commenter_key,
            ip_hash=comment.ip_hash,
            duplicate_window=config["DUPLICATE_WINDOW_SECONDS"],
            velocity_window=config["VELOCITY_WINDOW_SECONDS"],
        )
    context = ScoringContext(
        near_duplicates=activity.near_duplicates,
        duplicate_window_seconds=config["DUPLICATE_WINDOW_SECONDS"],
        commenter_recent=activity.commenter_recent,
        ip_recent=activity.ip_recent,
        velocity_window_seconds=config["VELOCITY_WINDOW_SECONDS"],
        learned=site_counts(comment.site_id, comment_features(comment.body_text, normalized)),
        external=tuple(_external_verdicts(comment, site, request_info)),
    )
    scores = score_comment(comment.body_text, context, policy)
    prior = _published_before(comment) if policy.new_commenter_holds > 0 else None
    return Assessment(scores, decide(scores, policy, prior_comments=prior))


def record_assessment(
    comment_id: int, expected: CommentStatus, assessment: Assessment, actor: str
) -> bool:
    """Record an assessment's decision, scores and reasons, if the comment is still `expected`."""
    return record_decision(
        comment_id,
        expected,
        CommentStatus(assessment.decision.status),
        actor=actor,
        reasons=list(assessment.decision.reasons),
        toxicity=assessment.scores.toxicity,
        spam=assessment.scores.spam,
    )


def _published_before(comment: Comment) -> int | None:
    """Count the commenter's comments the site published before (None without a key)."""
    if not comment.commenter_key:
        return None
    return db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(
            Comment.site_id == comment.site_id,
            Comment.commenter_key == comment.commenter_key,
            Comment.status == CommentStatus.APPROVED,
            Comment.id != comment.id,
        )
    )


def _external_verdicts(comment: Comment, site: Site, request_info: dict | None) -> list:
    scorers = external_scorers()
    if not scorers:
        return []
    request_info = request_info or {}
    article = db.session.get(Article, comment.article_id)
    request = ExternalRequest(
        text=comment.body_text,
        author_name=comment.author_name,
        author_email=None,
        ip=request_info.get("ip"),
        user_agent=request_info.get("user_agent"),
        referrer=request_info.get("referrer"),
        permalink=article.url if article else None,
        site_url=current_app.config.get("AKISMET_SITE_URL") or "",
        lang=None,
    )
    return run_external_scorers(scorers, request)
