"""Redis Sentinel: submissions, the read cache, rate limits and a real RQ worker all follow the
master when the sentinels fail it over (a real master, replica and three sentinels)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from redis import Redis
from rq import SimpleWorker

from service.config import redis_sentinels
from service.core.queues import (
    MASTER_CHECK_SECONDS,
    moderation_queue,
    redis_connection,
    worker_connection,
)
from service.extensions import db

from .helpers import audit_trail, comments_url, count_queries, post_comment, status_of
from .scale_support import CommentTexts
from .sentinel_support import REDIS_SERVER, SentinelDeployment

needs_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed"
)

# Ports 23100-23104 of this branch's range (the fault case uses 23200 and up).
BASE_PORT = 23100
# The app's Redis database, from REDIS_URL (whose host is not used with sentinels).
DB = 3
# Per site and address, and per commenter key: 3 before the failover, 3 after, the 7th refused.
SUBMIT_LIMIT = "6/hour"
COMMENTER = "sentinel-reader-0001"
FINAL = {"approved", "held", "rejected"}


@pytest.fixture
def deployment(tmp_path):
    """A master, a replica and three sentinels, stopped after the test."""
    deployment = SentinelDeployment(tmp_path / "sentinel", BASE_PORT, quick_start=True)
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def sentinel_app(app, app_factory, site, deployment):
    """The app, with every Redis client going through the deployment's sentinels."""
    built = app_factory(
        REDIS_SENTINELS=deployment.sentinels,
        REDIS_URL=f"redis://ignored.invalid:6379/{DB}",
        RATE_LIMIT_SUBMIT=SUBMIT_LIMIT,
    )
    with built.app_context():
        yield built
        db.session.remove()


def node(port: int) -> Redis:
    """A plain client of one data node, in the app's database."""
    return Redis("127.0.0.1", port, db=DB, socket_timeout=2)


def keys(port: int, pattern: str) -> list[bytes]:
    """The keys matching a pattern on one data node."""
    return list(node(port).scan_iter(match=pattern, count=1000))


@needs_redis_server
def test_submits_reads_limits_and_the_worker_follow_a_failover(sentinel_app, deployment):
    client = sentinel_app.test_client()
    texts = CommentTexts(seed=14)
    reached_flask = []
    sentinel_app.before_request(lambda: reached_flask.append(1) and None)

    def send():
        return post_comment(client, body=texts.body(), commenter_key=COMMENTER)

    def read():
        return client.get(comments_url() + "?sort=oldest")

    first = deployment.master_port()
    before = [send() for _ in range(3)]
    assert [r.status_code for r in before] == [202] * 3
    # The jobs and the limits' counters are in the master the sentinels name, in REDIS_URL's db.
    assert node(first).llen("rq:queue:moderation") == 3
    assert keys(first, "talkback:ratelimit:*")
    # One worker connection for the whole test: it must follow the failover by itself.
    connection = worker_connection()
    SimpleWorker([moderation_queue(connection)], connection=connection).work(burst=True)
    db.session.remove()
    before_ids = [r.json["id"] for r in before]
    assert {status_of(i) for i in before_ids} <= FINAL
    assert read().status_code == 200
    reached_flask.clear()
    with count_queries() as statements:
        assert read().status_code == 200
    assert reached_flask == [] and statements == [], "the second read is a read-cache hit"

    old, new, _ = deployment.failover()
    assert (old, new) == (first, deployment.data_ports[1])
    assert node(old).info("replication")["role"] == "slave"

    # The app's pooled connections to the old master were closed by the failover: the next
    # commands reach the new master without an error reaching the caller.
    assert client.get("/healthz").status_code == 200
    reached_flask.clear()
    with count_queries() as statements:
        assert read().status_code == 200
    assert reached_flask == [] and statements == [], "the cache, replicated, still hits"
    after = [send() for _ in range(3)]
    assert [r.status_code for r in after] == [202] * 3
    assert node(new).llen("rq:queue:moderation") == 3
    # The limit counted the three submissions made before the failover: this is the seventh.
    refused = send()
    assert refused.status_code == 429, refused.json
    # The old master is now the new one's replica (replication is asynchronous: WAIT for it).
    assert node(new).execute_command("WAIT", 1, 2000) == 1
    assert node(old).llen("rq:queue:moderation") == 3

    SimpleWorker([moderation_queue(connection)], connection=connection).work(burst=True)
    db.session.remove()
    after_ids = [r.json["id"] for r in after]
    for comment_id in before_ids + after_ids:
        assert status_of(comment_id) in FINAL
        assert len([e for e in audit_trail(comment_id) if e[0] == "worker"]) == 1
    assert node(new).llen("rq:queue:moderation") == 0

    # The decisions replaced the article's cached pages on the new master: readers see them.
    reached_flask.clear()
    shown = {c["id"] for c in read().json["comments"]}
    approved = {i for i in before_ids + after_ids if status_of(i) == "approved"}
    assert approved and shown == approved
    assert reached_flask == [1], "the first read after the decisions is a miss"
    assert keys(new, "talkback:rc:*")
    assert redis_connection().connection_pool.get_master_address()[1] == new
    connection.close()


@needs_redis_server
def test_writes_leave_the_old_master_within_a_second_of_a_planned_failover(app_factory, tmp_path):
    """After SENTINEL FAILOVER the old master stays a writable master until the sentinels
    reconfigure it (about 8 s at their default periods); writes it takes then are lost."""
    deployment = SentinelDeployment(tmp_path / "sentinel", BASE_PORT + 10)
    try:
        deployment.start()
        built = app_factory(REDIS_SENTINELS=deployment.sentinels, REDIS_URL="redis://x/0")
        with built.app_context():
            client = redis_connection()
            client.set("talkback:before", "1")  # a pooled connection to the first master
            old, new, _ = deployment.failover(settle=False)
            time.sleep(MASTER_CHECK_SECONDS)
            client.set("talkback:after", "1")
            assert Redis("127.0.0.1", old).info("replication")["role"] == "master"
            assert Redis("127.0.0.1", new).get("talkback:after") == b"1"
            assert Redis("127.0.0.1", old).get("talkback:after") is None
            client.close()
    finally:
        deployment.stop()


@pytest.mark.parametrize(
    "value, addresses",
    [
        ("", []),
        ("s1:26379", [("s1", 26379)]),
        (
            " s1:26379, 10.0.0.2:26380 ,[::1]:26381,",
            [("s1", 26379), ("10.0.0.2", 26380), ("::1", 26381)],
        ),
    ],
)
def test_sentinel_addresses_are_read_from_a_list(value, addresses):
    assert redis_sentinels(value) == addresses


@pytest.mark.parametrize("value", ["s1", "s1:", ":26379", "s1:26379,s2", "s1:port", "s1:70000"])
def test_a_malformed_sentinel_list_stops_the_app_from_starting(app_factory, value):
    with pytest.raises(ValueError, match=r"REDIS_SENTINELS = .* is not host:port"):
        redis_sentinels(value)
    with pytest.raises(ValueError, match="REDIS_SENTINELS"):
        app_factory(REDIS_SENTINELS=value)


def test_the_environment_is_checked_when_settings_are_read():
    env = {**os.environ, "REDIS_SENTINELS": "sentinel-1:26379,sentinel-2"}
    result = subprocess.run(
        [sys.executable, "-c", "import service.config"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "REDIS_SENTINELS = 'sentinel-1:26379,sentinel-2': 'sentinel-2' is not host:port" in (
        result.stderr
    )
