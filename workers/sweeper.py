"""The outbox sweeper: re-enqueue comments and authors' edits whose moderation job was lost,
queue webhook deliveries that are due (retries, or jobs lost with Redis); now and then, purge IP
hashes past their retention period."""

import logging
import time

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from service.core import mail
from service.core.comments import stale_pending_ids
from service.core.edits import stale_pending_revision_ids
from service.core.privacy import purge_ip_hashes
from service.core.queues import (
    enqueue_moderation,
    enqueue_revision,
    moderation_job_is_alive,
    revision_job_is_alive,
)
from service.core.webhooks import sweep_deliveries
from service.extensions import db

log = logging.getLogger(__name__)

# The retention purge runs at most this often: hashes expire by the day, so hourly is plenty.
PURGE_INTERVAL_SECONDS = 3600


def sweep_once() -> int:
    """Re-enqueue stale pending comments and edits that have no live job; return how many."""
    after = current_app.config["SWEEP_AFTER_SECONDS"]
    comments, redis_ok = _requeue(
        stale_pending_ids(after), moderation_job_is_alive, enqueue_moderation, "comment"
    )
    if not redis_ok:
        return comments
    edits, _ = _requeue(
        stale_pending_revision_ids(after), revision_job_is_alive, enqueue_revision, "edit"
    )
    return comments + edits


def sweep_webhooks() -> int | None:
    """Queue the delivery job of every endpoint whose oldest waiting delivery is due; return
    how many (None when Redis failed: the deliveries stay in the database for the next sweep)."""
    return sweep_deliveries(current_app.config["SWEEP_INTERVAL_SECONDS"])


def _requeue(ids: list[int], is_alive, enqueue, what: str) -> tuple[int, bool]:
    """Re-enqueue those of the ids whose job is lost; return how many, and False when Redis
    failed on the way (the rest wait for the next sweep)."""
    requeued = 0
    for item_id in ids:
        try:
            if is_alive(item_id):
                continue
        except RedisError as error:
            log.warning("sweeper: redis unreachable, will retry: %s", error)
            return requeued, False
        if not enqueue(item_id, replace=True):
            return requeued, False
        requeued += 1
    if requeued:
        log.info("sweeper: re-enqueued %d pending %s(s)", requeued, what)
    return requeued, True


def purge_if_due(last_run: float | None, now: float | None = None) -> float | None:
    """Purge expired IP hashes unless that was done less than an hour ago; return when the
    purge last ran (time.monotonic())."""
    now = time.monotonic() if now is None else now
    if last_run is not None and now - last_run < PURGE_INTERVAL_SECONDS:
        return last_run
    try:
        counts = purge_ip_hashes(actor="sweeper")
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("sweeper: purging IP hashes failed, will retry: %s", error)
        return last_run
    if any(counts.values()):
        log.info(
            "sweeper: purged expired IP hashes from %d comment(s) and %d report(s)",
            counts["comments"],
            counts["reports"],
        )
    return now


# Digests and queue alerts are gathered at most this often.
MAIL_GATHER_INTERVAL_SECONDS = 60


def sweep_mail(last_gather: float | None, now: float | None = None) -> float | None:
    """Queue the mail job when outbox rows are due (retries, a lost job, the end of an undo
    window), and now and then gather digests and queue alerts; return when they were last
    gathered (time.monotonic())."""
    if not mail.enabled():
        return last_gather
    now = time.monotonic() if now is None else now
    try:
        if last_gather is None or now - last_gather >= MAIL_GATHER_INTERVAL_SECONDS:
            mail.gather_digests()
            mail.queue_alerts()
            last_gather = now
        if mail.housekeeping():
            mail.enqueue_delivery()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("sweeper: mail outbox unreachable, will retry: %s", str(error)[:200])
    return last_gather


def run_sweeper(interval: float, should_stop=lambda: False) -> None:
    """Sweep every `interval` seconds until `should_stop()` is true."""
    last_purge = last_gather = None
    while not should_stop():
        try:
            sweep_once()
            sweep_webhooks()
        except SQLAlchemyError as error:
            # The database is down or restarting: keep the process (the session is discarded
            # below), try again next interval.
            log.warning("sweeper: database unreachable, will retry: %s", str(error)[:200])
        last_purge = purge_if_due(last_purge)
        last_gather = sweep_mail(last_gather)
        # End the read transaction so the next sweep sees new commits (and holds no locks).
        db.session.remove()
        time.sleep(interval)
