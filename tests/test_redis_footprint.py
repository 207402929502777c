"""What Redis keeps per comment once the worker has moderated it (issue 14).

Nothing reads a job's result, so a job that ran leaves nothing behind; the near-duplicate state
is one signature and eight short band entries per comment in a time-sliced hash per site, gone a
window after its slice ends. Keys are measured one by one with MEMORY USAGE (the suite may share
a Redis server: only this database's keys count, never INFO).
"""

from __future__ import annotations

from collections import defaultdict

from flask import current_app
from redis import Redis
from rq import SimpleWorker

from service.core.queues import moderation_queue, redis_connection
from service.extensions import db
from workers.activity import USUAL_EXPIRY, slice_seconds

from .helpers import comments_url, status_of
from .scale_support import CommentTexts

COMMENTS = 50
# The budget for what a comment leaves in Redis.
BYTES_PER_COMMENT = 2048
# The read cache's keys are bounded by their own short TTLs and are not per comment.
READ_CACHE_PREFIX = b"talkback:rc:"
# RQ's own keys, one per queue or worker whatever the traffic.
RQ_FIXED = {"rq:queues", "rq:queue", "rq:worker", "rq:workers", "rq:clean_registries"}


def footprint(redis: Redis) -> dict[str, dict[str, int]]:
    """Return {kind: {keys, bytes, longest_ttl, lasting}} for this database's Talkback and RQ keys.

    `longest_ttl` is -1 when some key of the kind never expires.
    """
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("keys", "bytes"), 0))
    for pattern in ("rq:*", "talkback:*"):
        for key in redis.scan_iter(match=pattern, count=1000):
            if key.startswith(READ_CACHE_PREFIX):
                continue
            kind = kinds[b":".join(key.split(b":")[:2]).decode()]
            kind["keys"] += 1
            kind["bytes"] += redis.memory_usage(key, samples=0) or 0
            ttl = redis.ttl(key)
            longest = kind.get("longest_ttl", 0)
            kind["longest_ttl"] = -1 if -1 in (ttl, longest) else max(ttl, longest)
    return dict(kinds)


def test_a_moderated_comment_leaves_under_2_kb_in_redis(app_factory, client, site):
    texts = CommentTexts(seed=14)
    ids = []
    for index in range(COMMENTS):
        # Each comment from its own commenter and address: the worst case for per-key state.
        response = client.post(
            comments_url(f"a{index % 5}"),
            json={
                "author_name": texts.name(),
                "body": texts.body(),
                "commenter_key": f"reader-{index:04d}-key",
            },
            environ_base={"REMOTE_ADDR": f"198.51.{index % 50}.{index + 1}"},
        )
        assert response.status_code == 202, response.json
        ids.append(response.json["id"])
    # One job per comment, as at a steady rate, so every job goes through RQ's success path.
    with app_factory(MODERATION_BATCH_SIZE=1).app_context():
        queue = moderation_queue()
        assert queue.count == COMMENTS
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.remove()
    assert all(status_of(comment_id) in ("approved", "rejected") for comment_id in ids)

    kinds = footprint(redis_connection())
    print()
    for name, kind in sorted(kinds.items()):
        print(f"{name:20} {kind['keys']:4} keys {kind['bytes'] / COMMENTS:6.0f} B/comment", kind)
    # A job that ran leaves no hash, result stream or registry entry.
    assert set(kinds) - RQ_FIXED == {
        "talkback:nd",
        "talkback:velocity",
        "talkback:usual",
        "talkback:ratelimit",
    }
    # Every key held for the comments expires: the windows' with them, an address's usual
    # volume after four weeks of silence, the rate limits' counters with their periods.
    config = current_app.config
    duplicate = config["DUPLICATE_WINDOW_SECONDS"]
    assert 0 < kinds["talkback:nd"]["longest_ttl"] <= duplicate + slice_seconds(duplicate)
    assert 0 < kinds["talkback:velocity"]["longest_ttl"] <= config["VELOCITY_WINDOW_SECONDS"]
    assert 0 < kinds["talkback:usual"]["longest_ttl"] <= USUAL_EXPIRY
    assert 0 < kinds["talkback:ratelimit"]["longest_ttl"] <= 24 * 3600
    # The budget: what stays once the windows have expired (keys that outlive the
    # duplicate window: an address's usual volume, and any job state) is under 2 KB a comment.
    window = duplicate + slice_seconds(duplicate)
    lasting = sum(
        kind["bytes"]
        for name, kind in kinds.items()
        if name not in RQ_FIXED and not 0 < kind["longest_ttl"] <= window
    )
    print(f"held past the windows: {lasting / COMMENTS:.0f} B/comment")
    assert lasting / COMMENTS <= BYTES_PER_COMMENT, kinds
    # Within the windows, the near-duplicate state is a fraction of it (it was ~10 KB).
    assert kinds["talkback:nd"]["bytes"] / COMMENTS <= BYTES_PER_COMMENT / 2, kinds
