"""The outbox sweeper: re-enqueue comments whose moderation job was lost."""

import logging
import time

from flask import current_app
from redis.exceptions import RedisError

from service.comments import stale_pending_ids
from service.extensions import db
from service.queues import enqueue_moderation, moderation_job_is_alive

log = logging.getLogger(__name__)


def sweep_once() -> int:
    """Re-enqueue stale pending comments that have no live job; return how many."""
    requeued = 0
    for comment_id in stale_pending_ids(current_app.config["SWEEP_AFTER_SECONDS"]):
        try:
            if moderation_job_is_alive(comment_id):
                continue
        except RedisError as error:
            log.warning("sweeper: redis unreachable, will retry: %s", error)
            return requeued
        if not enqueue_moderation(comment_id, replace=True):
            return requeued
        requeued += 1
    if requeued:
        log.info("sweeper: re-enqueued %d pending comment(s)", requeued)
    return requeued


def run_sweeper(interval: float, should_stop=lambda: False) -> None:
    """Sweep every `interval` seconds until `should_stop()` is true."""
    while not should_stop():
        sweep_once()
        # End the read transaction so the next sweep sees new commits (and holds no locks).
        db.session.remove()
        time.sleep(interval)
