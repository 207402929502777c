"""A worker catching up on a backlog moderates it in batches, and loses nothing doing so."""

import time

from rq import SimpleWorker
from rq.job import Job

from service.core.queues import (
    CLAIMED_PREFIX,
    claim_waiting_moderation,
    moderation_job_id,
    moderation_job_is_alive,
    moderation_queue,
    redis_connection,
)
from service.extensions import db
from service.models import Site
from workers.sweeper import sweep_once

from .helpers import audit_trail, reasons_of, status_of, submit

BODIES = [
    "Thanks for the clear report, the timeline was really useful.",
    "you are a complete idiot and everyone here knows it",
    "I make $500 a day working from home! Visit https://bit.ly/cash-now to find out how.",
    "Why are the tolls going up again? Nobody voted for this.",
    "Shut up, nobody cares about your stupid opinion, moron.",
]


def run_one_job() -> None:
    """Let a real worker run exactly one job from the moderation queue."""
    queue = moderation_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1)
    db.session.remove()


def test_one_job_moderates_the_backlog_behind_it(app_factory, migrated, client, site):
    # The same comments on a second site, moderated one per job, give the expected outcomes.
    db.session.add(Site(key="single", name="One at a time"))
    db.session.commit()
    singles = [submit(client, body=body, site="single")["id"] for body in BODIES]
    with app_factory(MODERATION_BATCH_SIZE=1).app_context():
        for _ in BODIES:
            run_one_job()
    ids = [submit(client, body=body)["id"] for body in BODIES]
    queue = moderation_queue()
    assert queue.count == len(BODIES)
    run_one_job()
    statuses = [status_of(comment_id) for comment_id in ids]
    assert statuses == [status_of(comment_id) for comment_id in singles]
    assert [reasons_of(i) for i in ids] == [reasons_of(i) for i in singles]
    assert statuses[:2] == ["approved", "rejected"] and statuses[2] != "approved"
    # The claimed jobs are gone with their hashes (and the one that ran leaves none either), and
    # each comment was decided exactly once.
    assert queue.count == 0
    for comment_id in ids:
        assert not Job.exists(moderation_job_id(comment_id), connection=queue.connection)
    assert all(
        audit_trail(i)[-1:] == [("worker", "pending", s)]
        for i, s in zip(ids, statuses, strict=True)
    )
    assert all(len(audit_trail(i)) == 2 for i in ids)  # submitted, then decided


def test_near_duplicates_within_one_batch_see_each_other(client, site):
    text = (
        "Everyone should read the full council report before the vote on {}, "
        "it explains the costs of the bridge repairs in detail"
    )
    ids = [
        submit(client, body=text.format(day), commenter_key=f"reader-{n}-key")["id"]
        for n, day in enumerate(["Thursday", "Friday", "Monday"])
    ]
    run_one_job()
    assert status_of(ids[0]) == "approved"
    assert "spam: near-duplicate of 2 comments in the last hour" in reasons_of(ids[2])


def test_batch_size_one_moderates_one_comment_per_job(app_factory, migrated, site, client):
    app = app_factory(MODERATION_BATCH_SIZE=1)
    ids = [submit(client, body=body)["id"] for body in BODIES[:3]]
    with app.app_context():
        run_one_job()
    assert [status_of(comment_id) for comment_id in ids] == ["approved", "pending", "pending"]
    assert moderation_queue().count == 2


def test_claim_takes_only_waiting_moderation_jobs_in_order(client, site):
    ids = [submit(client, body=body)["id"] for body in BODIES[:3]]
    queue = moderation_queue()
    other = queue.enqueue("os.getpid", job_id="not-a-moderation-job")
    assert claim_waiting_moderation(2) == ids[:2]
    assert queue.job_ids == [moderation_job_id(ids[2]), other.id]
    assert claim_waiting_moderation(0) == []


def test_comments_claimed_by_a_worker_that_died_are_swept_and_decided(
    app_factory, migrated, site, client, run_worker
):
    ids = [submit(client, body=body)["id"] for body in BODIES[:3]]
    # A worker claims them, then dies before recording anything.
    assert claim_waiting_moderation(10) == ids
    assert [status_of(comment_id) for comment_id in ids] == ["pending"] * 3
    # While the claiming job may still be running, the sweeper leaves them to it...
    assert all(moderation_job_is_alive(comment_id) for comment_id in ids)
    sweeper = app_factory(SWEEP_AFTER_SECONDS=0)
    with sweeper.app_context():
        assert sweep_once() == 0
    connection = redis_connection()
    for comment_id in ids:
        marker = CLAIMED_PREFIX + str(comment_id)
        assert 0 < connection.ttl(marker) <= client.application.config["JOB_TIMEOUT_SECONDS"] + 5
        connection.pexpire(marker, 1)  # ...until that job's timeout has passed
    time.sleep(0.05)
    assert not any(moderation_job_is_alive(comment_id) for comment_id in ids)
    with sweeper.app_context():
        assert sweep_once() == 3
    run_worker()
    statuses = [status_of(comment_id) for comment_id in ids]
    assert statuses[:2] == ["approved", "rejected"] and statuses[2] != "approved"


def test_a_comment_that_breaks_scoring_fails_alone(client, site):
    # A corrupt stored policy (a threshold that isn't a number) makes scoring raise.
    db.session.add(Site(key="broken", name="Broken", policy={"toxicity_hold": "high"}))
    db.session.commit()
    good = submit(client, body=BODIES[0])["id"]
    bad = submit(client, body=BODIES[3], site="broken")["id"]
    also_good = submit(client, body=BODIES[1])["id"]
    run_one_job()
    assert status_of(good) == "approved"
    assert status_of(bad) == "pending"
    # The claimed comments got their own jobs back: the bad one fails on its own...
    queue = moderation_queue()
    assert set(queue.job_ids) == {moderation_job_id(bad), moderation_job_id(also_good)}
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.remove()
    assert status_of(also_good) == "rejected"
    assert status_of(bad) == "pending"
    failed = Job.fetch(moderation_job_id(bad), connection=queue.connection)
    assert failed.is_failed
