"""Scale-out: two API processes, two moderation workers and the sweeper, as deployed, under a
steady stream of comments while readers page through the threads.

Every comment must be decided exactly once, p95 of submission to decision must stay within
1 s, and no read may ever show a comment that is not approved. `make test` sends
TALKBACK_SCALE_COMMENTS (default 1,000) at TALKBACK_SCALE_RATE per second (default 50);
`make scale` sends the issue's 2,000 at 100/s. On the 2-core reference machine, where the
load generator, the readers, both workers, PostgreSQL and Redis share the API's two cores,
50/s passes on both backends and 100/s saturates the API (docs/capacity.md has the figures).
The figures are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import Counter, defaultdict

import pytest
from rq import Worker
from rq.registry import FailedJobRegistry

from service.core.queues import moderation_queue
from service.extensions import db
from service.models import AuditEntry, Comment, CommentStatus

from .helpers import free_port
from .scale_support import (
    Board,
    HttpClient,
    read_threads,
    running_stack,
    stack_env,
    submit_paced,
    wait_for_workers,
)

COMMENTS = int(os.environ.get("TALKBACK_SCALE_COMMENTS", "1000"))
RATE = float(os.environ.get("TALKBACK_SCALE_RATE", "50"))
ARTICLES = [f"scale-story-{number}" for number in range(1, 9)]
WORKERS = 2
READERS = 2
# Between two page reads of one reader: a few readers refreshing, not a load test of reads.
READ_PAUSE = 0.1
# A share of comments reply to one a reader has seen published on the same article.
REPLY_SHARE = 0.2
# Insults, held or rejected by the worker: what the readers must never be shown.
ABUSIVE_SHARE = 0.03
P95_LIMIT = 1.0
# Submissions lag the schedule only when the API can't keep up; then 100/s was not shown.
MIN_RATE_SHARE = 0.9
DRAIN_SECONDS = 60
FINAL = {CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.HELD}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of values (share between 0 and 1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def pending_among(ids: set[int]) -> int:
    """How many of these comments still wait for their decision, as committed now."""
    db.session.remove()
    return sum(
        1
        for status in db.session.scalars(db.select(Comment.status).where(Comment.id.in_(ids)))
        if status == CommentStatus.PENDING
    )


def wait_decided(ids: set[int], seconds: float) -> float:
    """Wait until none of these comments is pending; return how long that took."""
    started = time.monotonic()
    while pending_among(ids) and time.monotonic() - started < seconds:
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.timeout(240 + 3 * COMMENTS / RATE)
def test_every_comment_is_decided_once_quickly_and_reads_show_only_approved(
    database, redis_url, site, tmp_path
):
    site_id = site.id  # the helpers end this session's transactions; keep the id, not the row
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = stack_env(
        database,
        redis_url,
        tmp_path,
        GUNICORN_WORKERS="2",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        # Clients come through one proxy, which names each reader's address.
        TALKBACK_PROXY_COUNT="1",
        # The submit limit is per address and commenter key; each reader stays far below the
        # default anyway, but a slow run must not turn into 429s.
        TALKBACK_RATE_LIMIT_SUBMIT="100000/minute",
    )
    board, stop, client = Board(), threading.Event(), HttpClient(base)
    # Each reader starts at a different article, so the threads are read at different moments.
    rotations = [len(ARTICLES) * n // READERS for n in range(READERS)]
    readers = [
        threading.Thread(
            target=read_threads,
            args=(client, ARTICLES[k:] + ARTICLES[:k], board, stop),
            kwargs={"pause": READ_PAUSE},
            name=f"reader-{n}",
        )
        for n, k in enumerate(rotations)
    ]
    started, own_cpu = time.monotonic(), time.process_time()
    with running_stack(env, tmp_path, base, WORKERS) as stack:
        wait_for_workers(lambda: Worker.count(queue=moderation_queue()), stack, WORKERS)
        ready_seconds = time.monotonic() - started
        cpu_at_start = stack.cpu_seconds()
        for reader in readers:
            reader.start()
        try:
            submissions, submit_seconds = submit_paced(
                client, ARTICLES, COMMENTS, RATE, board, REPLY_SHARE, ABUSIVE_SHARE, seed=COMMENTS
            )
            submit_reads = board.reads
            accepted = {s.answer["id"] for s in submissions if s.status == 202}
            drain_seconds = wait_decided(accepted, DRAIN_SECONDS)
        finally:
            stop.set()
            for reader in readers:
                reader.join(timeout=60)
            client.close()
        stopped = stack.exited()
        cpu = {
            name: used - cpu_at_start.get(name, 0.0) for name, used in stack.cpu_seconds().items()
        }
        failed_jobs = FailedJobRegistry(queue=moderation_queue()).get_job_ids()
    total_seconds = time.monotonic() - started
    own_cpu = time.process_time() - own_cpu

    db.session.remove()
    rows = {
        row.id: row
        for row in db.session.execute(
            db.select(Comment.id, Comment.status, Comment.created_at, Comment.decided_at).where(
                Comment.site_id == site_id
            )
        )
    }
    trails = defaultdict(list)
    for entry in db.session.execute(
        db.select(
            AuditEntry.comment_id, AuditEntry.actor, AuditEntry.from_status, AuditEntry.to_status
        )
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(Comment.site_id == site_id)
        .order_by(AuditEntry.id)
    ):
        trails[entry.comment_id].append((entry.actor, entry.from_status, entry.to_status))
    logs = {name: stack.log(name) for name in stack.processes}
    unpublished = list(
        db.session.execute(
            db.select(Comment.status, Comment.reasons, Comment.body_text)
            .where(Comment.site_id == site_id, Comment.status != CommentStatus.APPROVED)
            .limit(3)
        )
    )

    statuses = Counter(row.status.value for row in rows.values())
    latencies = [
        (row.decided_at - row.created_at).total_seconds()
        for row in rows.values()
        if row.decided_at is not None
    ]
    sent_at = {s.answer["id"]: s.sent_at for s in submissions if s.status == 202}
    client_latencies = [
        (rows[i].decided_at - sent_at[i]).total_seconds()
        for i in accepted
        if i in rows and rows[i].decided_at is not None
    ]
    post_seconds = [s.seconds for s in submissions]
    replies = sum(s.reply for s in submissions if s.status == 202)
    approved = {i for i, row in rows.items() if row.status == CommentStatus.APPROVED}
    print(
        f"\nscale-out, {db.engine.dialect.name}: {COMMENTS} comments at {RATE:g}/s "
        f"to {len(ARTICLES)} articles ({replies} replies), {WORKERS} workers, "
        f"{READERS} readers\n"
        f"  stack ready {ready_seconds:.1f} s; submitted in {submit_seconds:.1f} s "
        f"({COMMENTS / submit_seconds:.1f}/s); all decided {drain_seconds:.1f} s after the "
        f"last submission; {total_seconds:.1f} s in all\n"
        f"  POST p50 {percentile(post_seconds, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(post_seconds, 0.95) * 1000:.0f} ms; "
        f"answers {dict(Counter(s.status for s in submissions))}\n"
        f"  decisions {dict(statuses)}; e.g. "
        f"{[(r.status.value, r.reasons[:1], r.body_text[:80]) for r in unpublished]}\n"
        f"  submit-to-decision (created_at to decided_at) p50 "
        f"{percentile(latencies, 0.5) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f}"
        f" ms, max {max(latencies) * 1000:.0f} ms; from the client's send: p95 "
        f"{percentile(client_latencies, 0.95) * 1000:.0f} ms\n"
        f"  reads: {board.reads} pages ({submit_reads} while submitting), p50 "
        f"{percentile(board.read_seconds, 0.5) * 1000:.0f} ms, p95 "
        f"{percentile(board.read_seconds, 0.95) * 1000:.0f} ms; "
        f"{len(board.seen)} of {len(approved)} approved comments seen\n"
        f"  CPU seconds of the run: "
        f"{', '.join(f'{name} {value:.1f}' for name, value in cpu.items())}, "
        f"this test {own_cpu:.1f}; load average {os.getloadavg()[0]:.1f}"
    )

    assert not board.errors, board.errors[:5]
    assert not stopped, f"processes died during the run: {stopped}"
    refused = [(s.status, s.answer) for s in submissions if s.status != 202]
    assert not refused, refused[:5]
    assert set(rows) == accepted, "the site holds comments nobody submitted, or lost some"
    assert set(statuses) <= {status.value for status in FINAL}, statuses
    # Decided exactly once: the author's submission, then one automatic decision, nothing else.
    wrong = {
        i: trails[i]
        for i, row in rows.items()
        if trails[i] != [("author", None, "pending"), ("worker", "pending", row.status.value)]
    }
    assert not wrong, list(wrong.items())[:5]
    assert not failed_jobs, failed_jobs[:5]
    tracebacks = [name for name, text in logs.items() if "Traceback" in text]
    assert not tracebacks, {name: logs[name][-3000:] for name in tracebacks}
    assert percentile(latencies, 0.95) <= P95_LIMIT
    assert COMMENTS / submit_seconds >= MIN_RATE_SHARE * RATE
    # Readers really read during the run, replies really went through the read path, and
    # there were comments the reads had to leave out.
    assert submit_reads > 0 and board.seen and replies > 0
    assert len(approved) < len(rows)
    shown_unpublished = {
        i: rows[i].status.value if i in rows else "not ours"
        for i in board.seen
        if i not in approved
    }
    assert not shown_unpublished, shown_unpublished
