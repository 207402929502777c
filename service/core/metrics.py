"""Prometheus metrics the service and the workers record, and the gauges read at scrape time.

Counters and histograms live in prometheus-client's default registry; under gunicorn, or with
workers in other processes, set PROMETHEUS_MULTIPROC_DIR (one shared, empty folder for every
process of a deployment) and the scrape adds up all processes' files.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from service.core.queues import moderation_queue
from service.extensions import db
from service.models import Comment, CommentStatus, utcnow

# Latency buckets for HTTP requests and scoring, in seconds: most answers take milliseconds.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# From a comment's submission to its automatic decision: the queue can back up for minutes.
DECISION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)

REQUEST_SECONDS = Histogram(
    "talkback_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint, method and status class.",
    ["endpoint", "method", "status"],
    buckets=FAST_BUCKETS,
)
DECISIONS = Counter(
    "talkback_decisions",
    "Automatic moderation decisions, by outcome and the kind of reason that decided it.",
    ["outcome", "reason_kind"],
)
SUBMIT_TO_DECISION_SECONDS = Histogram(
    "talkback_submit_to_decision_seconds",
    "From a comment's submission to its automatic decision.",
    buckets=DECISION_BUCKETS,
)
SCORING_SECONDS = Histogram(
    "talkback_scoring_seconds",
    "Time to score one comment (its share of a batch: model, signals and decision).",
    buckets=FAST_BUCKETS,
)
READ_CACHE = Counter(
    "talkback_read_cache",
    "Read cache lookups: thread pages, comment counts and sites' request settings, by result.",
    ["kind", "result"],
)

# The deciding reason's kind, from how it starts: a bounded label, never a quoted word or key.
REASON_KINDS = (
    ("the site pre-moderates", "site pre-moderation"),
    ("the article is pre-moderated", "article pre-moderation"),
    ("always held", "hold ban"),
    ("trusted commenter", "trusted commenter"),
    ("not trusted", "trust ended"),
    ("new commenter", "new commenter"),
    ("held: ", "rejection rate"),
    ("banned word", "banned word"),
    ("suspect word", "suspect word"),
    ("has a link", "links held"),
    ("toxicity", "toxicity"),
    ("spam", "spam"),
)


def reason_kind(reasons: list[str] | tuple[str, ...]) -> str:
    """Return the kind of a decision's deciding (first) reason, for the decisions metric."""
    first = reasons[0] if reasons else ""
    for prefix, kind in REASON_KINDS:
        if first.startswith(prefix):
            return kind
    return "other"


def observe_decision(outcome: str, reasons, submitted_at) -> None:
    """Count an automatic decision and how long its comment waited for it."""
    DECISIONS.labels(outcome=outcome, reason_kind=reason_kind(reasons)).inc()
    SUBMIT_TO_DECISION_SECONDS.observe(max(0.0, (utcnow() - submitted_at).total_seconds()))


class BacklogCollector:
    """Gauges read when scraped: the moderation queue's depth and the oldest pending comment."""

    def collect(self):
        """Yield the backlog gauges (a family is left out while its store is unreachable)."""
        try:
            depth = moderation_queue().count
        except RedisError:
            depth = None
        if depth is not None:
            yield GaugeMetricFamily(
                "talkback_queue_depth", "Moderation jobs waiting in the queue.", value=depth
            )
        try:
            oldest = db.session.scalar(
                select(func.min(Comment.created_at)).where(Comment.status == CommentStatus.PENDING)
            )
        except SQLAlchemyError:
            db.session.rollback()
            return
        age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0
        yield GaugeMetricFamily(
            "talkback_oldest_pending_seconds",
            "Age of the oldest comment still waiting for its automatic decision (0: none).",
            value=age,
        )
