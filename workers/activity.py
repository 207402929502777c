"""Recent activity on a site, kept in Redis: near-duplicate text and posting velocity.

Near-duplicates: the duplicate window is cut into slices (a twelfth of it each), and each slice
of a site is one hash holding, per comment, its MinHash signature (with its posting time) and
its id under each of its eight band keys; a comment is looked up in the slices that overlap the
window, and a slice expires a window after its end. That is nine short hash fields per comment
(about 0.7 KB) where a sorted set per band held the signature eight times (about 10 KB).
Velocity: each comment leaves its id in per-commenter, per-IP and per-network sorted sets (for
the velocity window). An address also keeps its usual volume: a count that decays with a time
constant of a week, so a mobile carrier's shared address (thousands of readers behind one IP,
carrier-grade NAT) is judged against its own busy normal, not against one person's pace. One
Lua script reads and writes all of a comment's keys in a single command, and a batch of
comments goes in one round trip. A comment is recorded under its id, so a job that runs twice
for one comment counts it once in the windows (the usual volume is a rough average, and a
repeat barely moves it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from workers.scoring import similarity
from workers.scoring.normalize import Normalized

log = logging.getLogger(__name__)

# The time constant of an address's usual volume, and how long its record outlives silence.
USUAL_SECONDS = 7 * 24 * 3600
USUAL_EXPIRY = 4 * USUAL_SECONDS
# The velocity keys that belong to an address, whose volume is judged against its usual one.
ADDRESS_KINDS = ("ip", "network")

# How many slices the duplicate window is cut into: a lookup reads one more than this, and a
# comment's entry outlives the window by at most one slice.
SLICES_PER_WINDOW = 12

# KEYS: the duplicate window's slice hashes (oldest first, the comment's own slice last), then
# the velocity keys (the commenter's first if any), then one usual-volume hash per address
# velocity key. ARGV: slice count, band count, the comment id, the posting time, the oldest times
# still inside the duplicate and velocity windows, the own slice's time to live, the velocity
# window in seconds for its keys' expiry, the count of usual-volume hashes, the usual volume's
# time constant and its expiry, the packed signature, then the band fields. A slice holds
# `id -> "time signature"` and `band field -> "id id ..."`. Reads come first, so a comment never
# finds itself; the reply is {velocity counts, distinct near-duplicate candidates as
# "id:signature", usual volumes}, each usual volume being the address's decayed count before
# this comment (a string: Lua numbers would be truncated to integers on the way out).
RECORD_AND_COUNT = """
local slices, bands = tonumber(ARGV[1]), tonumber(ARGV[2])
local id, now, oldest = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local found, seen = {}, {[id] = true}
if bands > 0 then
  local fields = {}
  for i = 1, bands do fields[i] = ARGV[12 + i] end
  for s = 1, slices do
    for _, list in ipairs(redis.call('HMGET', KEYS[s], unpack(fields))) do
      if list then
        for other in string.gmatch(list, '[^ ]+') do
          if not seen[other] then
            local record = redis.call('HGET', KEYS[s], other)
            local gap = record and string.find(record, ' ', 1, true)
            local at = gap and tonumber(string.sub(record, 1, gap - 1))
            if at and at >= oldest and at <= now then
              seen[other] = true
              found[#found + 1] = other .. ':' .. string.sub(record, gap + 1)
            end
          end
        end
      end
    end
  end
  local own = KEYS[slices]
  if redis.call('HSETNX', own, id, ARGV[4] .. ' ' .. ARGV[12]) == 1 then
    for i = 1, bands do
      local list = redis.call('HGET', own, fields[i])
      redis.call('HSET', own, fields[i], list and (list .. ' ' .. id) or id)
    end
  end
  local ttl = tonumber(ARGV[7])
  if redis.call('TTL', own) < ttl then redis.call('EXPIRE', own, ttl) end
end
local usual_count, tau, usual_expiry = tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11]
local counts = {}
for i = slices + 1, #KEYS - usual_count do
  redis.call('ZADD', KEYS[i], ARGV[4], id)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[6])
  counts[#counts + 1] = redis.call('ZCOUNT', KEYS[i], ARGV[6], ARGV[4])
  redis.call('EXPIRE', KEYS[i], ARGV[8])
end
local usual = {}
for i = #KEYS - usual_count + 1, #KEYS do
  local stored = redis.call('HMGET', KEYS[i], 'count', 'at')
  local count, at = tonumber(stored[1]) or 0, tonumber(stored[2]) or now
  local decayed = count * math.exp(-math.max(0, now - at) / tau)
  usual[#usual + 1] = tostring(decayed)
  redis.call('HSET', KEYS[i], 'count', tostring(decayed + 1), 'at', ARGV[4])
  redis.call('EXPIRE', KEYS[i], usual_expiry)
end
return {counts, found, usual}
"""


def slice_seconds(duplicate_window: int) -> int:
    """Return the length of one slice of the duplicate window's state, in whole seconds."""
    return max(1, math.ceil(duplicate_window / SLICES_PER_WINDOW))


@dataclass(frozen=True)
class Activity:
    """What Redis knows about a comment's neighbours.

    `*_recent` count the other comments in the velocity window; `*_usual` is how many an
    address sends in such a window on average over the last week or so.
    """

    near_duplicates: int = 0
    commenter_recent: int = 0
    ip_recent: int = 0
    ip_usual: float = 0.0
    network_recent: int = 0
    network_usual: float = 0.0


@dataclass(frozen=True)
class Posting:
    """One comment's part in the recent activity of its site."""

    site_id: int
    comment_id: int
    posted_at: float
    text: Normalized
    commenter_key: str | None
    ip_hash: str | None
    network_hash: str | None = None


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
        length = slice_seconds(duplicate_window)
        pipe = redis.pipeline(transaction=False)
        signatures, kinds = [], []
        for posting in postings:
            sig = similarity.signature(posting.text)
            signatures.append(sig)
            at = posting.posted_at
            # A band's field: its index, then its key's 8 bytes (an id field is all digits).
            fields = [
                bytes([index]) + bytes.fromhex(band)
                for index, band in enumerate(similarity.band_keys(sig))
            ]
            first, own = int((at - duplicate_window) // length), int(at // length)
            slices = (
                [f"talkback:nd:{posting.site_id}:{length}:{n}" for n in range(first, own + 1)]
                if fields
                else []
            )
            identities = {
                kind: value
                for kind, value in (
                    ("commenter", posting.commenter_key),
                    ("ip", posting.ip_hash),
                    ("network", posting.network_hash),
                )
                if value
            }
            velocity = {
                kind: f"talkback:velocity:{posting.site_id}:{kind}:{value}"
                for kind, value in identities.items()
            }
            usual = [
                f"talkback:usual:{posting.site_id}:{kind}:{value}"
                for kind, value in identities.items()
                if kind in ADDRESS_KINDS
            ]
            kinds.append(list(velocity))
            script(
                keys=[*slices, *velocity.values(), *usual],
                args=[
                    len(slices),
                    len(fields),
                    posting.comment_id,
                    repr(at),
                    repr(at - duplicate_window),
                    repr(at - velocity_window),
                    # The own slice is read until its last comment leaves the window.
                    math.ceil((own + 1) * length - at + duplicate_window),
                    velocity_window,
                    len(usual),
                    USUAL_SECONDS,
                    USUAL_EXPIRY,
                    similarity.pack_stored(sig),
                    *fields,
                ],
                client=pipe,
            )
        replies = pipe.execute()
    except RedisError as error:
        ids = ", ".join(str(posting.comment_id) for posting in postings)
        log.warning("comments %s: recent-activity signals skipped, Redis failed: %s", ids, error)
        return [Activity() for _ in postings]
    return [
        _activity(sig, reply, kind, velocity_window)
        for sig, reply, kind in zip(signatures, replies, kinds, strict=True)
    ]


def _activity(sig: tuple[int, ...], reply: list, kinds: list[str], window: int) -> Activity:
    counts, found, usual_counts = reply
    mine, signatures = similarity.stored(sig), {}
    for member in found:
        comment_id, separator, packed = bytes(member).partition(b":")
        if separator:  # members of another format are not ours to compare
            signatures[comment_id] = similarity.unpack_stored(packed)
    near_duplicates = sum(
        1
        for other in signatures.values()
        if similarity.similarity(mine, other) >= similarity.NEAR_DUPLICATE_SIMILARITY
    )
    # Each count includes this comment; the signal is about the others.
    recent = {kind: max(0, int(count) - 1) for kind, count in zip(kinds, counts, strict=True)}
    # A count decayed with time constant tau approximates rate * tau, so the comments expected
    # in one window are count * window / tau.
    addresses = [kind for kind in kinds if kind in ADDRESS_KINDS]
    usual = {
        kind: float(count) * window / USUAL_SECONDS
        for kind, count in zip(addresses, usual_counts, strict=True)
    }
    return Activity(
        near_duplicates,
        recent.get("commenter", 0),
        recent.get("ip", 0),
        usual.get("ip", 0.0),
        recent.get("network", 0),
        usual.get("network", 0.0),
    )
