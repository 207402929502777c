"""Assess a comment: gather its context (site policy, recent activity, learned model, external
scorers, the commenter's record and hold bans, the article's pre-moderation), score it with the
pure scoring code and decide. Shared by the RQ job and re-scoring."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select, tuple_

from service.core.bans import hold_bans_matching, hold_reason
from service.core.comments import DecisionRecord
from service.core.learning import site_counts
from service.core.metrics import SCORING_SECONDS
from service.core.queues import redis_connection
from service.core.sites import site_policy
from service.extensions import db
from service.models import Article, Comment, CommentStatus, Site, utcnow
from workers.activity import Activity, Posting, record_and_count
from workers.external import ExternalRequest, run_external_scorers, scorers_from_config
from workers.scoring import (
    Decision,
    Policy,
    Scores,
    ScoringContext,
    decide,
    score_comment,
    semantic,
)
from workers.scoring.learned import comment_features
from workers.scoring.normalize import normalize
from workers.scoring.policy import CommenterRecord


@dataclass(frozen=True)
class Assessment:
    """A comment's scores and the decision its site's policy makes of them."""

    scores: Scores
    decision: Decision


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
                    network_hash=comment.network_hash,
                )
                for comment, text in zip(comments, normalized, strict=True)
            ],
            duplicate_window=config["DUPLICATE_WINDOW_SECONDS"],
            velocity_window=config["VELOCITY_WINDOW_SECONDS"],
        )
    records = commenter_records(comments, policies)
    started = time.perf_counter()
    # One model call for the whole batch: the encoder is far cheaper per comment in a batch.
    readings = semantic.read([text.readable() for text in normalized], config["MODEL_THREADS"])
    assessments = []
    for comment, text, activity, record, reading in zip(
        comments, normalized, activities, records, readings, strict=True
    ):
        policy = policies[comment.site_id]
        context = ScoringContext(
            near_duplicates=activity.near_duplicates,
            duplicate_window_seconds=config["DUPLICATE_WINDOW_SECONDS"],
            commenter_recent=activity.commenter_recent,
            ip_recent=activity.ip_recent,
            ip_usual=activity.ip_usual,
            network_recent=activity.network_recent,
            network_usual=activity.network_usual,
            velocity_window_seconds=config["VELOCITY_WINDOW_SECONDS"],
            learned=learned[comment.site_id],
            external=tuple(_external_verdicts(comment, sites[comment.site_id], request_info)),
            signed_in=comment.sso_id is not None,
            sso_id=comment.sso_id,
        )
        scores = score_comment(comment.body_text, context, policy, normalized=text, reading=reading)
        assessments.append(Assessment(scores, decide(scores, policy, record)))
    share = (time.perf_counter() - started) / len(comments)
    for _ in comments:
        SCORING_SECONDS.observe(share)
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


def commenter_records(
    comments: Sequence[Comment], policies: dict[int, Policy]
) -> list[CommenterRecord]:
    """Return each comment's record: its commenter's history on the site, the hold bans on
    them, and whether its article is pre-moderated.

    A fixed number of queries for the whole batch (at most three), never one per comment.
    """
    ids = [comment.id for comment in comments]
    premoderated = set(
        db.session.scalars(
            select(Article.id).where(
                Article.id.in_({comment.article_id for comment in comments}),
                Article.premoderated.is_(True),
            )
        )
    )
    holds = hold_bans_matching(comments)
    history = _histories(comments, policies, ids)
    records = []
    for comment in comments:
        approved, decided, rejected = history.get(
            (comment.site_id, comment.commenter_key), (0, 0, 0)
        )
        records.append(
            CommenterRecord(
                # The commenter key is the identity today; no key, no record.
                identity=comment.commenter_key or None,
                approved=approved,
                decided_recent=decided,
                rejected_recent=rejected,
                always_hold=tuple(hold_reason(ban) for ban in holds.get(comment.id, ())),
                article_premoderated=comment.article_id in premoderated,
            )
        )
    return records


def _uses_records(policy: Policy) -> bool:
    return (
        policy.new_commenter_holds > 0 or policy.trusted_after > 0 or policy.rejection_rate_hold > 0
    )


def _histories(
    comments: Sequence[Comment], policies: dict[int, Policy], ids: list[int]
) -> dict[tuple[int, str], tuple[int, int, int]]:
    """Per (site, commenter key): published comments over all time, and decided and rejected
    ones in the site's record window, in one query (the comments being decided left out)."""
    pairs = sorted(
        {
            (comment.site_id, comment.commenter_key)
            for comment in comments
            if comment.commenter_key and _uses_records(policies[comment.site_id])
        }
    )
    if not pairs:
        return {}
    now = utcnow()
    # Each site has its own window, so the cut-off is chosen per row.
    cutoff = case(
        *(
            (Comment.site_id == site_id, now - timedelta(days=policies[site_id].record_days))
            for site_id in sorted({site_id for site_id, _ in pairs})
        )
    )
    recent = Comment.decided_at >= cutoff
    rows = db.session.execute(
        select(
            Comment.site_id,
            Comment.commenter_key,
            func.sum(case((Comment.status == CommentStatus.APPROVED, 1), else_=0)),
            func.sum(case((recent, 1), else_=0)),
            func.sum(case((and_(recent, Comment.status == CommentStatus.REJECTED), 1), else_=0)),
        )
        .where(
            tuple_(Comment.site_id, Comment.commenter_key).in_(pairs),
            Comment.status.in_([CommentStatus.APPROVED, CommentStatus.REJECTED]),
            Comment.id.not_in(ids),
        )
        .group_by(Comment.site_id, Comment.commenter_key)
    )
    return {
        (site_id, key): (int(approved or 0), int(decided or 0), int(rejected or 0))
        for site_id, key, approved, decided, rejected in rows
    }


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
