"""Recent activity on a site, kept in Redis: near-duplicate text and posting velocity.

Each comment leaves its MinHash bands and signature (for the duplicate window) and its id in
per-commenter and per-IP sorted sets (for the velocity window). Everything is written with the
comment's id as member, so a job that runs twice for one comment counts it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from workers.scoring import similarity
from workers.scoring.normalize import Normalized

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Activity:
    """What Redis knows about a comment's neighbours."""

    near_duplicates: int = 0
    commenter_recent: int = 0
    ip_recent: int = 0


def record_and_count(
    redis: Redis,
    *,
    site_id: int,
    comment_id: int,
    posted_at: float,
    text: Normalized,
    commenter_key: str | None,
    ip_hash: str | None,
    duplicate_window: int,
    velocity_window: int,
) -> Activity:
    """Record a comment's activity and count its near-duplicates and its author's recent posts.

    Redis being unreachable loses these signals for this comment, not the comment: the
    outcome is logged and scoring goes on without them.
    """
    try:
        sig = similarity.signature(text)
        bands = similarity.band_keys(sig)
        member = str(comment_id)
        pipe = redis.pipeline(transaction=False)
        # Reads come first in the pipeline, so a comment never finds itself.
        for index, band in enumerate(bands):
            pipe.zrangebyscore(
                f"talkback:nd:{site_id}:{index}:{band}", posted_at - duplicate_window, posted_at
            )
        for index, band in enumerate(bands):
            key = f"talkback:nd:{site_id}:{index}:{band}"
            pipe.zadd(key, {member: posted_at})
            pipe.zremrangebyscore(key, "-inf", posted_at - duplicate_window)
            pipe.expire(key, duplicate_window)
        if sig:
            pipe.set(f"talkback:nd-sig:{comment_id}", similarity.pack(sig), ex=duplicate_window)
        velocity_keys = {
            kind: f"talkback:velocity:{site_id}:{kind}:{value}"
            for kind, value in (("commenter", commenter_key), ("ip", ip_hash))
            if value
        }
        count_positions = {}
        for kind, key in velocity_keys.items():
            pipe.zadd(key, {member: posted_at})
            pipe.zremrangebyscore(key, "-inf", posted_at - velocity_window)
            count_positions[kind] = len(pipe)
            pipe.zcount(key, posted_at - velocity_window, posted_at)
            pipe.expire(key, velocity_window)
        results = pipe.execute()

        candidates = {int(found) for found_ids in results[: len(bands)] for found in found_ids} - {
            comment_id
        }
        near_duplicates = 0
        if candidates:
            ordered = sorted(candidates)
            stored = redis.mget([f"talkback:nd-sig:{candidate}" for candidate in ordered])
            near_duplicates = sum(
                1
                for data in stored
                if data
                and similarity.similarity(sig, similarity.unpack(data))
                >= similarity.NEAR_DUPLICATE_SIMILARITY
            )
        # Each count includes this comment; the signal is about the others.
        recent = {kind: max(0, results[position] - 1) for kind, position in count_positions.items()}
        return Activity(near_duplicates, recent.get("commenter", 0), recent.get("ip", 0))
    except RedisError as error:
        log.warning(
            "comment %s: recent-activity signals skipped, Redis failed: %s", comment_id, error
        )
        return Activity()
