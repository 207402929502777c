"""The sweeper does not trust a stale "queued": a job a worker took off the queue and never
started (the worker was killed in between) is re-enqueued within seconds, not after RQ's own
cleanup some fourteen minutes later."""

import time

from rq import SimpleWorker
from rq.job import Job, JobStatus
from rq.queue import Queue

from service.core.queues import DEQUEUE_GRACE_SECONDS, moderation_job_id, moderation_queue
from service.extensions import db
from service.models import Comment, CommentStatus
from workers.sweeper import sweep_once

from .helpers import audit_trail, submit


def _take_like_a_worker(queue: Queue) -> Job:
    """Dequeue the next job the way a worker does (BLMOVE onto RQ's intermediate list), and do
    nothing more: what a worker killed right after its dequeue leaves behind."""
    job, _ = Queue.dequeue_any([queue], timeout=1, connection=queue.connection)
    return job


def test_job_taken_by_a_worker_killed_before_starting_it_is_re_enqueued(
    app_factory, app, site, client
):
    posted = submit(client)
    queue = moderation_queue()
    job = _take_like_a_worker(queue)
    assert job.id == moderation_job_id(posted["id"])
    # The exact state: still "queued", in no queue, on the intermediate list, never started.
    assert Job.fetch(job.id, connection=queue.connection).get_status() == JobStatus.QUEUED
    assert queue.count == 0
    assert queue.intermediate_queue.get_job_ids() == [job.id]
    assert job.id not in queue.started_job_registry

    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        # A live worker marks a job started within milliseconds: at first sight, leave it.
        assert sweep_once() == 0
        assert queue.count == 0
        time.sleep(DEQUEUE_GRACE_SECONDS + 0.2)
        assert sweep_once() == 1
    assert queue.get_job_ids() == [job.id]
    # Off the intermediate list, so RQ's cleanup will not mark the new job failed.
    assert queue.intermediate_queue.get_job_ids() == []

    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.remove()
    assert db.session.get(Comment, posted["id"]).status == CommentStatus.APPROVED
    assert [entry for entry in audit_trail(posted["id"]) if entry[0] == "worker"] == [
        ("worker", "pending", "approved")
    ]
    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 0


def test_a_job_taken_again_gets_its_own_grace_period(app_factory, app, site, client):
    posted = submit(client)
    queue = moderation_queue()
    sweeping = app_factory(SWEEP_AFTER_SECONDS=0)
    _take_like_a_worker(queue)
    with sweeping.app_context():
        assert sweep_once() == 0
        time.sleep(DEQUEUE_GRACE_SECONDS + 0.2)
        assert sweep_once() == 1
    # The re-enqueued job is taken by another worker that is killed the same way: the sweeper
    # sees a new job (a new enqueue time), so it waits again before re-enqueueing it.
    again = _take_like_a_worker(queue)
    assert again.id == moderation_job_id(posted["id"])
    with sweeping.app_context():
        assert sweep_once() == 0
        time.sleep(DEQUEUE_GRACE_SECONDS + 0.2)
        assert sweep_once() == 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.remove()
    assert db.session.get(Comment, posted["id"]).status == CommentStatus.APPROVED


def test_a_queued_job_missing_from_every_list_is_re_enqueued(app_factory, app, site, client):
    posted = submit(client)
    queue = moderation_queue()
    job_id = moderation_job_id(posted["id"])
    # A Redis restart from an append-only file a second behind can keep the job's hash and lose
    # its push onto the queue: "queued", and nowhere to be dequeued from.
    queue.connection.lrem(queue.key, 1, job_id)
    assert Job.fetch(job_id, connection=queue.connection).get_status() == JobStatus.QUEUED

    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 1
    assert queue.get_job_ids() == [job_id]
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.remove()
    assert db.session.get(Comment, posted["id"]).status == CommentStatus.APPROVED
