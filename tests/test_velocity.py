"""Velocity that survives shared addresses: per commenter it counts, per address it is weighed
against that address's own usual volume (carrier-grade NAT puts thousands behind one IP)."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis

from workers.activity import USUAL_SECONDS, Posting, record_and_count
from workers.scoring import Policy, ScoringContext, decide, score_comment
from workers.scoring.normalize import normalize
from workers.scoring.policy import APPROVED
from workers.scoring.spam import ADDRESS_STRONG_WEIGHT, ADDRESS_WEIGHT, address_volume_signal

from .helpers import reasons_of, status_of, submit

WINDOW = 600
# A weekday evening's start, as seconds since the epoch: history is written before it.
EVENING = 1_790_000_000.0
TEXTS = [
    "The bypass has been a disaster for the shops on Mill Lane.",
    "Does anyone know if the ferry runs on bank holidays?",
    "Good piece. The council should publish the full costs.",
    "My bus was late again this morning, third time this week.",
    "The referee had a shocker, but we still should have won.",
    "Lovely photos of the harbour, thanks for sharing them.",
    "Will the library keep its Saturday hours after the budget vote?",
    "I went to that school in the eighties; the new building looks great.",
]


@pytest.fixture
def redis(redis_url):
    client = Redis.from_url(redis_url)
    yield client
    for key in client.scan_iter(match="talkback:*", count=1000):
        client.delete(key)
    client.close()


def post(redis: Redis, site_id: int, at: float, ip: str, key: str, comment_id: int, text: str):
    """Record one comment's activity as the worker does; return its Activity."""
    (activity,) = record_and_count(
        redis,
        [
            Posting(
                site_id=site_id,
                comment_id=comment_id,
                posted_at=at,
                text=normalize(text),
                commenter_key=key,
                ip_hash=ip,
                network_hash=f"net-{ip}",
            )
        ],
        duplicate_window=3600,
        velocity_window=WINDOW,
    )
    return activity


def reasons(activity) -> tuple[str, ...]:
    context = ScoringContext(
        commenter_recent=activity.commenter_recent,
        ip_recent=activity.ip_recent,
        ip_usual=activity.ip_usual,
        network_recent=activity.network_recent,
        network_usual=activity.network_usual,
        velocity_window_seconds=WINDOW,
    )
    return score_comment(TEXTS[0], context, semantic_model=False).spam_reasons


@pytest.mark.parametrize(
    ("recent", "usual", "weight"),
    [
        (4, 0.0, None),  # under the limit of 5
        (5, 0.0, ADDRESS_WEIGHT),  # a new address at the limit: weak
        (12, 0.0, ADDRESS_STRONG_WEIGHT),  # a burst from nowhere: stronger, still not alone
        (10, 2.0, None),  # a carrier address that usually sends 2 a window: 5x, an evening
        (11, 2.0, ADDRESS_WEIGHT),  # beyond the limit plus 3x its usual
        (30, 2.0, ADDRESS_STRONG_WEIGHT),  # 15x its usual
        (100, 40.0, None),  # a huge carrier gateway on a busy night
    ],
)
def test_address_volume_is_judged_against_its_usual(recent, usual, weight):
    signal = address_volume_signal(recent, usual, "this IP address", WINDOW, 5)
    assert (signal and signal.weight) == weight


def test_address_volume_alone_never_holds_a_comment():
    context = ScoringContext(ip_recent=200, network_recent=400, velocity_window_seconds=WINDOW)
    scores = score_comment(TEXTS[1], context, semantic_model=False)
    assert any("from this IP address" in reason for reason in scores.spam_reasons)
    assert decide(scores, Policy()).status == APPROVED


def test_a_burst_spread_over_one_network_counts_once():
    spread = ScoringContext(ip_recent=1, network_recent=25, velocity_window_seconds=WINDOW)
    reasons = score_comment(TEXTS[2], spread, semantic_model=False).spam_reasons
    assert "25 comments from this network in the last 10 minutes, with no usual volume here" in (
        reasons
    )
    both = ScoringContext(ip_recent=25, network_recent=25, velocity_window_seconds=WINDOW)
    reasons = score_comment(TEXTS[2], both, semantic_model=False).spam_reasons
    assert [r for r in reasons if "comments from this" in r] == [
        "25 comments from this IP address in the last 10 minutes, with no usual volume here"
    ]


def test_a_busy_carrier_address_is_not_flagged_for_its_usual_evening(redis):
    site, ip = 1, f"ip-{uuid.uuid4().hex}"
    # A week of a mobile carrier's gateway: about 300 comments a day from many readers.
    history = 2100
    for n in range(history):
        at = EVENING - WINDOW - USUAL_SECONDS + n * (USUAL_SECONDS / history)
        post(redis, site, at, ip, f"reader-{n % 400}", n + 1, f"{TEXTS[n % 6]} #{n}")
    # The evening rush: nine readers in eight minutes, each posting once.
    for n in range(9):
        activity = post(
            redis, site, EVENING + n * 60, ip, f"evening-{n}", 10_000 + n, f"{TEXTS[n % 8]} !"
        )
    assert activity.ip_recent == 8 and activity.ip_usual > 1.0
    assert not any("from this IP address" in reason for reason in reasons(activity))


def test_a_burst_from_a_quiet_address_is_weak_evidence(redis):
    site, ip = 1, f"ip-{uuid.uuid4().hex}"
    for n in range(8):
        activity = post(redis, site, EVENING + n * 30, ip, f"key-{n}", 20_000 + n, TEXTS[n % 6])
    assert activity.ip_recent == 7 and activity.ip_usual < 0.05
    assert (
        "7 comments from this IP address in the last 10 minutes, with no usual volume here"
        in reasons(activity)
    )


def test_one_commenter_posting_fast_still_counts_in_full(redis):
    site, ip = 1, f"ip-{uuid.uuid4().hex}"
    for n in range(7):
        activity = post(redis, site, EVENING + n * 20, ip, "fast-key", 30_000 + n, TEXTS[n % 6])
    assert activity.commenter_recent == 6
    assert "6 comments from this commenter in the last 10 minutes" in reasons(activity)


def test_many_readers_behind_one_address_through_the_api(client, site, run_worker):
    # Eight different readers from one address in a few seconds: none of them is held for it.
    ids = [submit(client, body=TEXTS[n], commenter_key=f"reader-{n}")["id"] for n in range(8)]
    run_worker()
    assert [status_of(comment_id) for comment_id in ids] == ["approved"] * 8
    last = reasons_of(ids[-1])
    assert "spam: 7 comments from this IP address in the last 10 minutes" in " ".join(last)
    assert not any("from this commenter" in reason for reason in last)
