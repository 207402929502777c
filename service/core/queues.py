"""The Redis connection and the RQ moderation queue, built in one place."""

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from redis import Redis
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from service.config import redis_sentinels

MODERATION_QUEUE = "moderation"
MODERATE_JOB = "workers.jobs.moderate"
REVISE_JOB = "workers.edits.moderate_revision"
# With Sentinel, how often a process asks who the master is besides when it connects.
MASTER_CHECK_SECONDS = 1.0

log = logging.getLogger(__name__)


def redis_connection() -> Redis:
    """Return the app's Redis client, created on first use with short timeouts."""
    client = current_app.extensions.get("talkback_redis")
    if client is None:
        timeout = current_app.config["REDIS_SOCKET_TIMEOUT"]
        client = _client(socket_timeout=timeout, socket_connect_timeout=timeout)
        current_app.extensions["talkback_redis"] = client
    return client


def worker_connection() -> Redis:
    """Return a new Redis client for a worker, without a read timeout (workers block on BLPOP)."""
    return _client(socket_connect_timeout=current_app.config["REDIS_SOCKET_TIMEOUT"])


def _client(**timeouts: float) -> Redis:
    """Return a client of REDIS_URL's Redis, or of the master the sentinels name if any."""
    sentinel = sentinel_settings(current_app.config)
    if sentinel is None:
        return Redis.from_url(current_app.config["REDIS_URL"], **timeouts)
    return Sentinel(sentinel.addresses, sentinel_kwargs=sentinel.sentinel_kwargs).master_for(
        sentinel.master,
        connection_pool_class=_MasterFollowingPool,
        **sentinel.master_kwargs,
        **timeouts,
    )


class _MasterFollowingPool(SentinelConnectionPool):
    """redis-py's Sentinel pool asks who the master is only when it opens a connection. This
    one also asks when a connection is taken, at most every MASTER_CHECK_SECONDS, and so drops
    its idle connections to a master the sentinels have replaced: after a planned failover
    the old master stays writable for several seconds, and what it takes then is lost."""

    _checked = 0.0

    def get_connection(self, *args, **kwargs):
        """Return a connection to the current master (checked at most every second)."""
        now = time.monotonic()
        if now - self._checked >= MASTER_CHECK_SECONDS:
            self._checked = now
            # Replaces the known address and disconnects idle connections when it changed.
            with contextlib.suppress(RedisError):
                self.get_master_address()
        return super().get_connection(*args, **kwargs)


@dataclass(frozen=True)
class SentinelSettings:
    """How to reach the Redis master through Sentinel (for redis-py's Sentinel)."""

    addresses: list[tuple[str, int]]
    master: str
    sentinel_kwargs: dict
    master_kwargs: dict


def sentinel_settings(config) -> SentinelSettings | None:
    """Return the Sentinel settings of an app's config, or None when REDIS_SENTINELS is unset."""
    value = config.get("REDIS_SENTINELS") or []
    # Settings passed to create_app may spell the addresses as the environment does.
    addresses = redis_sentinels(value) if isinstance(value, str) else [tuple(a) for a in value]
    if not addresses:
        return None
    url = parse_url(config["REDIS_URL"])  # still gives the database number and credentials
    timeout = config["REDIS_SOCKET_TIMEOUT"]
    return SentinelSettings(
        addresses=addresses,
        master=config["REDIS_SENTINEL_MASTER"],
        sentinel_kwargs={
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "password": config["REDIS_SENTINEL_PASSWORD"] or None,
        },
        # The pool asks the sentinels for the master on every new connection; connections the
        # failover closed are replaced when next taken from the pool, and one that meets a
        # demoted master (READONLY) is dropped as a connection error. One immediate retry lets
        # a command that meets either mid-way go on to the new master instead of failing.
        # Timeouts are not retried: a Redis that hangs costs at most one REDIS_SOCKET_TIMEOUT.
        master_kwargs={
            "db": url.get("db", 0),
            "username": url.get("username"),
            "password": url.get("password"),
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        },
    )


def moderation_queue(connection: Redis | None = None) -> Queue:
    """Return the RQ queue that moderation jobs go through."""
    return Queue(MODERATION_QUEUE, connection=connection or redis_connection())


# A comment taken into another job's batch (claim_waiting_moderation) has this marker.
CLAIMED_PREFIX = "talkback:claimed:"


def moderation_job_id(comment_id: int) -> str:
    """Return the job id for a comment, so a comment has at most one live job."""
    return f"moderate-{comment_id}"


# Take up to ARGV[1] waiting moderation jobs off the head of the queue (KEYS[1]) and delete
# them, atomically: a job is either claimed here or dequeued by a worker, never both. Each
# claimed comment gets a marker (ARGV[4] .. id) for as long as the claiming job may run, so the
# sweeper knows it is being moderated and does not queue it again. Job
# hashes are addressed by name (standalone Redis; RQ itself does not support Cluster).
CLAIM_WAITING = """
local wanted, claimed = tonumber(ARGV[1]), {}
for _, job_id in ipairs(redis.call('LRANGE', KEYS[1], 0, wanted * 2 - 1)) do
  if #claimed >= wanted then break end
  if string.sub(job_id, 1, #ARGV[2]) == ARGV[2]
      and redis.call('LREM', KEYS[1], 1, job_id) == 1 then
    redis.call('DEL', ARGV[3] .. job_id)
    local comment_id = string.sub(job_id, #ARGV[2] + 1)
    redis.call('SET', ARGV[4] .. comment_id, '1', 'EX', ARGV[5])
    claimed[#claimed + 1] = comment_id
  end
end
return claimed
"""


def claim_waiting_moderation(count: int, connection: Redis | None = None) -> list[int]:
    """Take up to `count` waiting moderation jobs off the queue; return their comment ids.

    A worker that catches up on a backlog moderates these comments in its current batch. If it
    dies before recording them they stay pending with no job, and the sweeper re-enqueues them.
    """
    if count <= 0:
        return []
    queue = moderation_queue(connection)
    claimed = queue.connection.register_script(CLAIM_WAITING)(
        keys=[queue.key],
        args=[
            count,
            moderation_job_id(""),
            Job.redis_job_namespace_prefix,
            CLAIMED_PREFIX,
            current_app.config["JOB_TIMEOUT_SECONDS"] + 5,
        ],
    )
    return [int(comment_id) for comment_id in claimed]


def enqueue_moderation(
    comment_id: int, *, replace: bool = False, request_info: dict | None = None
) -> bool:
    """Queue a comment for moderation; return False (and log) when Redis is unreachable.

    `replace` first removes a dead job of the same id (the sweeper's retry), so RQ's registries
    keep no stale entry; a fresh submission has no job yet and skips that round trip.
    """
    return _enqueue(
        MODERATE_JOB,
        [comment_id, *([request_info] if request_info else [])],
        moderation_job_id(comment_id),
        replace=replace,
        # An hour when it carries request details (an IP address), else at most a week.
        failure_ttl=3600 if request_info else 7 * 24 * 3600,
        what=f"comment {comment_id}",
    )


def revision_job_id(revision_id: int) -> str:
    """Return the job id for an edit (a comment revision): at most one live job each."""
    return f"revise-{revision_id}"


def enqueue_revision(revision_id: int, *, replace: bool = False) -> bool:
    """Queue an author's edit for moderation; False (logged) when Redis is unreachable (the
    revision is committed as pending, and the sweeper enqueues it once Redis is back)."""
    return _enqueue(
        REVISE_JOB,
        [revision_id],
        revision_job_id(revision_id),
        replace=replace,
        failure_ttl=7 * 24 * 3600,
        what=f"edit {revision_id}",
    )


def _enqueue(
    function: str, args: list, job_id: str, *, replace: bool, failure_ttl: int, what: str
) -> bool:
    """Put one job on the moderation queue under a fixed id; False when Redis is unreachable."""
    queue = moderation_queue()
    try:
        if replace:
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(job_id, connection=queue.connection).delete()
        # One round trip: RQ registers the queue and saves and pushes the job in one pipeline
        # when given one (without, it sends the queue's registration on its own first).
        with queue.connection.pipeline() as pipeline:
            queue.enqueue(
                function,
                *args,
                job_id=job_id,
                job_timeout=current_app.config["JOB_TIMEOUT_SECONDS"],
                # Nothing reads a job's result (the decision is in the database), so a job that
                # ran leaves nothing in Redis: no hash, no result stream, no registry entry.
                result_ttl=0,
                # A failed job is kept for operators to inspect until the sweeper retries it.
                failure_ttl=failure_ttl,
                pipeline=pipeline,
            )
            pipeline.execute()
    except RedisError as error:
        # The row is committed as pending; the sweeper will enqueue it once Redis is back.
        log.warning("could not enqueue %s for moderation: %s", what, error)
        return False
    return True


# A worker moves a job from the queue onto RQ's intermediate list (BLMOVE) and marks it started
# one fetch later, within milliseconds. A job still "queued" on that list this long after the
# sweeper first saw it there belongs to a worker that died in between; a false alarm on a very
# slow machine only delivers the job twice, and a comment is decided once however often its job
# runs. (RQ's own cleanup of that list waits a minute, and only runs every ~14 minutes.)
DEQUEUE_GRACE_SECONDS = 3.0


def moderation_job_is_alive(comment_id: int, connection: Redis | None = None) -> bool:
    """Tell whether a comment's job is waiting or running (not lost, failed or abandoned)."""
    return _job_is_alive(
        moderation_job_id(comment_id), CLAIMED_PREFIX + str(comment_id), connection
    )


def revision_job_is_alive(revision_id: int, connection: Redis | None = None) -> bool:
    """Tell whether an edit's job is waiting or running (edits are never claimed in batches)."""
    job_id = revision_job_id(revision_id)
    return _job_is_alive(job_id, CLAIMED_PREFIX + job_id, connection)


def _job_is_alive(job_id: str, claimed_key: str, connection: Redis | None) -> bool:
    """Tell whether a job is waiting or running, or (no job) another job's batch holds it."""
    connection = connection or redis_connection()
    queue = moderation_queue(connection)
    # One MULTI: the status and where the id is, read together, so a worker taking the job
    # between two reads cannot make a waiting job look lost.
    with connection.pipeline() as pipeline:
        pipeline.hmget(Job.key_for(job_id), "status", "enqueued_at")
        pipeline.lpos(queue.key, job_id)
        pipeline.lpos(queue.intermediate_queue_key, job_id)
        pipeline.exists(claimed_key)
        (status, enqueued_at), waiting, taken, claimed = pipeline.execute()
    if status is None:
        # No job of its own: alive only while another job's batch holds it.
        return bool(claimed)
    status = JobStatus(status.decode())
    if status == JobStatus.QUEUED:
        # "Queued" is only true of a job on the queue; one taken off it and never started was
        # left by a worker killed between its dequeue and the job's start.
        if waiting is not None:
            return True
        return taken is not None and not _abandoned_after_dequeue(
            connection, queue, job_id, enqueued_at or b""
        )
    if status in (JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return True
    if status == JobStatus.STARTED:
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            return False
        if job.started_at is None:
            return False
        # A worker that died mid-job leaves it "started" forever; past its timeout it is lost.
        deadline = job.started_at + timedelta(seconds=current_app.config["JOB_TIMEOUT_SECONDS"] + 5)
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=UTC)
        return datetime.now(UTC) < deadline
    return False


def _abandoned_after_dequeue(connection: Redis, queue: Queue, job_id: str, enqueued: bytes) -> bool:
    """Tell whether a job taken off the queue has waited unstarted past the grace period.

    The first sighting is remembered with the job's enqueue time, so a later job of the same
    id starts its own grace period. An abandoned job is taken off RQ's intermediate list: RQ's
    cleanup would otherwise mark the job that replaces it failed.
    """
    marker = f"talkback:dequeued:{job_id}"
    now = time.time()
    seen = (connection.get(marker) or b"").decode()
    stamp, _, first_seen = seen.partition(" ")
    if not seen or stamp != enqueued.decode():
        connection.set(marker, f"{enqueued.decode()} {now}", ex=3600)
        return False
    if now - float(first_seen) < DEQUEUE_GRACE_SECONDS:
        return False
    with connection.pipeline() as pipeline:
        pipeline.lrem(queue.intermediate_queue_key, 1, job_id)
        pipeline.delete(marker)
        pipeline.execute()
    return True
