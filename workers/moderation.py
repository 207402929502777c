"""Assess a comment: gather its context (site policy, recent activity, learned model, external
scorers), score it with the pure scoring code and decide. Shared by the RQ job and re-scoring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from service.comments import DecisionRecord
from service.extensions import db
from service.learning import site_counts
from service.models import Article, Comment, CommentStatus, Site
from service.queues import redis_connection
from workers.activity import Activity, Posting, record_and_count
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
    return assess_many([comment], request_info=request_info, record_activity=record_activity)[0]


def assess_many(
    comments: Sequence[Comment],
    *,
    request_info: dict | None = None,
    record_activity: bool = True,
) -> list[Assessment]:
    """Score and decide comments under their sites' policies, with one round trip per store."""
    config = current_app.config
    sites = {
        site.id: site
        for site in db.session.scalars(
            select(Site).where(Site.id.in_({comment.site_id for comment in comments}))
        )
    }
    policies = {site_id: site_policy(site, config) for site_id, site in sites.items()}
    normalized = [normalize(comment.body_text) for comment in comments]
    feature_lists = [
        comment_features(comment.body_text, text)
        for comment, text in zip(comments, normalized, strict=True)
    ]
    learned = {
        site_id: site_counts(
            site_id,
            {
                feature
                for comment, feature_list in zip(comments, feature_lists, strict=True)
                if comment.site_id == site_id
                for feature in feature_list
            },
        )
        for site_id in sites
    }
    activities = [Activity() for _ in comments]
    if record_activity:
        activities = record_and_count(
            redis_connection(),
            [
                Posting(
                    site_id=comment.site_id,
                    comment_id=comment.id,
                    posted_at=comment.created_at.timestamp(),
                    text=text,
                    commenter_key=comment.commenter_key,
                    ip_hash=comment.ip_hash,
                )
                for comment, text in zip(comments, normalized, strict=True)
            ],
            duplicate_window=config["DUPLICATE_WINDOW_SECONDS"],
            velocity_window=config["VELOCITY_WINDOW_SECONDS"],
        )
    assessments = []
    for comment, text, activity in zip(comments, normalized, activities, strict=True):
        policy = policies[comment.site_id]
        context = ScoringContext(
            near_duplicates=activity.near_duplicates,
            duplicate_window_seconds=config["DUPLICATE_WINDOW_SECONDS"],
            commenter_recent=activity.commenter_recent,
            ip_recent=activity.ip_recent,
            velocity_window_seconds=config["VELOCITY_WINDOW_SECONDS"],
            learned=learned[comment.site_id],
            external=tuple(_external_verdicts(comment, sites[comment.site_id], request_info)),
        )
        scores = score_comment(comment.body_text, context, policy, normalized=text)
        prior = _published_before(comment) if policy.new_commenter_holds > 0 else None
        assessments.append(Assessment(scores, decide(scores, policy, prior_comments=prior)))
    return assessments


def decision_record(comment_id: int, assessment: Assessment) -> DecisionRecord:
    """Return the decision, scores and reasons of an assessment, ready to record."""
    return DecisionRecord(
        comment_id,
        CommentStatus(assessment.decision.status),
        list(assessment.decision.reasons),
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
