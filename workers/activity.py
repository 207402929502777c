"""Recent activity on a site, kept in Redis: near-duplicate text and posting velocity.

Each comment leaves its MinHash signature in one sorted set per band (for the duplicate window)
and its id in per-commenter and per-IP sorted sets (for the velocity window). One Lua script
reads and writes all of a comment's keys in a single command, and a batch of comments goes in
one round trip. Members are derived from the comment id, so a job that runs twice for one
comment counts it once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from workers.scoring import similarity
from workers.scoring.normalize import Normalized

log = logging.getLogger(__name__)

# KEYS: the band keys, then the velocity keys. ARGV: band count, the band member ("ID:" followed
# by the packed signature, so candidates arrive with their signatures), the "ID:" prefix, the
# comment id, the posting time, and the oldest times still inside the duplicate and velocity
# windows, then both windows in seconds for the keys' expiry. Reads come first, so a comment
# never finds itself; the reply is {velocity counts, distinct near-duplicate candidates}.
RECORD_AND_COUNT = """
local bands = tonumber(ARGV[1])
local member, prefix, id, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local found, seen = {}, {}
for i = 1, bands do
  for _, other in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[6], now)) do
    if not seen[other] and string.sub(other, 1, #prefix) ~= prefix then
      seen[other] = true
      found[#found + 1] = other
    end
  end
end
for i = 1, bands do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[6])
  redis.call('EXPIRE', KEYS[i], ARGV[8])
end
local counts = {}
for i = bands + 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, id)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[7])
  counts[#counts + 1] = redis.call('ZCOUNT', KEYS[i], ARGV[7], now)
  redis.call('EXPIRE', KEYS[i], ARGV[9])
end
return {counts, found}
"""


@dataclass(frozen=True)
class Activity:
    """What Redis knows about a comment's neighbours."""

    near_duplicates: int = 0
    commenter_recent: int = 0
    ip_recent: int = 0


@dataclass(frozen=True)
class Posting:
    """One comment's part in the recent activity of its site."""

    site_id: int
    comment_id: int
    posted_at: float
    text: Normalized
    commenter_key: str | None
    ip_hash: str | None


def record_and_count(
    redis: Redis, postings: Sequence[Posting], *, duplicate_window: int, velocity_window: int
) -> list[Activity]:
    """Record comments' activity and count each one's near-duplicates and author's recent posts.

    Redis being unreachable loses these signals for these comments, not the comments: the
    outcome is logged and scoring goes on without them.
    """
    if not postings:
        return []
    try:
        script = redis.register_script(RECORD_AND_COUNT)
        pipe = redis.pipeline(transaction=False)
        signatures, kinds = [], []
        for posting in postings:
            sig = similarity.signature(posting.text)
            signatures.append(sig)
            bands = [
                f"talkback:nd:{posting.site_id}:{index}:{band}"
                for index, band in enumerate(similarity.band_keys(sig))
            ]
            velocity = {
                kind: f"talkback:velocity:{posting.site_id}:{kind}:{value}"
                for kind, value in (("commenter", posting.commenter_key), ("ip", posting.ip_hash))
                if value
            }
            kinds.append(list(velocity))
            prefix = f"{posting.comment_id}:".encode()
            at = posting.posted_at
            script(
                keys=[*bands, *velocity.values()],
                args=[
                    len(bands),
                    prefix + similarity.pack(sig),
                    prefix,
                    posting.comment_id,
                    repr(at),
                    repr(at - duplicate_window),
                    repr(at - velocity_window),
                    duplicate_window,
                    velocity_window,
                ],
                client=pipe,
            )
        replies = pipe.execute()
    except RedisError as error:
        ids = ", ".join(str(posting.comment_id) for posting in postings)
        log.warning("comments %s: recent-activity signals skipped, Redis failed: %s", ids, error)
        return [Activity() for _ in postings]
    return [
        _activity(sig, reply, kind)
        for sig, reply, kind in zip(signatures, replies, kinds, strict=True)
    ]


def _activity(sig: tuple[int, ...], reply: list, kinds: list[str]) -> Activity:
    counts, found = reply
    signatures = {}
    for member in found:
        comment_id, separator, packed = bytes(member).partition(b":")
        if separator:  # members of another format are not ours to compare
            signatures[comment_id] = similarity.unpack(packed)
    near_duplicates = sum(
        1
        for other in signatures.values()
        if similarity.similarity(sig, other) >= similarity.NEAR_DUPLICATE_SIMILARITY
    )
    # Each count includes this comment; the signal is about the others.
    recent = {kind: max(0, int(count) - 1) for kind, count in zip(kinds, counts, strict=True)}
    return Activity(near_duplicates, recent.get("commenter", 0), recent.get("ip", 0))
