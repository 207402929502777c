"""The Sentinel fault case: the stack as deployed (gunicorn with gunicorn.conf.py, two moderation
workers, the sweeper) on a Redis master, a replica and three sentinels of its own, and a fresh
database on the PostgreSQL server in DATABASE_URL (without it, on a PostgreSQL of its own, as
the fault suite starts one). Comments arrive at a steady rate while a
reader pages through the threads; mid-run the sentinels fail the master over twice: SENTINEL
FAILOVER (a planned switch), then kill -9 of the master (a crash).

Checks: every 202 was decided exactly once (one audit row from pending per comment), each within
BOUND_SECONDS of the later of its submission and the end of the last failover, no 500 (503 is
allowed during the switch), every process of the stack still running. Prints a summary and a JSON
last line; exits 1 with what failed.

Run: `.venv/bin/python -m tests.reliability.sentinel [--rate 20 --seconds 60]` (`make faults`
runs it after the fault suite).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from redis.sentinel import Sentinel
from rq import Worker
from rq.registry import FailedJobRegistry

from service.config import database_url
from service.core.queues import MODERATION_QUEUE
from service.models import Article, Comment, utcnow

from ..helpers import comments_url, free_port, temporary_database
from ..scale_support import (
    FLASK,
    Board,
    HttpClient,
    read_threads,
    running_stack,
    stack_env,
    submit_paced,
    thread_ids,
    wait_for_workers,
)
from ..sentinel_support import MASTER_NAME, REDIS_SERVER, SentinelDeployment
from .cluster import PostgresServer, collect

# Ports 23200-23204 (Redis) and 23210 (the API), in this branch's range.
BASE_PORT = 23200
API_PORT = 23210
ARTICLES = [f"sentinel-story-{number}" for number in range(1, 9)]
WORKERS = 2
BOUND_SECONDS = 60.0
FINAL = {"approved", "held", "rejected"}
# Statuses a submission may get: accepted, or refused while Redis switches masters.
ALLOWED = {202, 503}
# Warnings worth counting in the processes' logs: what the failover cost, where.
LOG_SIGNS = {
    "enqueue skipped (sweeper retries)": "could not enqueue comment",
    "rate limits counted per process": "rate limits counted in this process only",
    "RQ worker restarted": "RQ stopped on an error; starting again",
    "worker reconnect waits": "could not connect to Redis instance",
    "sweeper: redis unreachable": "sweeper: redis unreachable",
}


@dataclass
class Failover:
    """One failover: how, when it began, when every sentinel named the new master."""

    how: str
    old: int
    new: int
    started: datetime
    ended: datetime
    seconds: float
    # SENTINEL FAILOVER only: how long the old master stayed writable, and the bytes it took.
    split_brain: tuple[float, int] | None = None


def inject(
    deployment: SentinelDeployment, at: list[tuple[float, bool]], began: float, done: list
) -> None:
    """At each (seconds after `began`, kill) fail the master over; record each in `done`."""
    for offset, kill in at:
        time.sleep(max(0.0, began + offset - time.monotonic()))
        started = utcnow()
        deployment.split_brain = None
        old, new, seconds = deployment.failover(kill=kill)
        done.append(
            Failover(
                "kill -9" if kill else "SENTINEL FAILOVER",
                *(old, new, started, utcnow(), seconds),
                deployment.split_brain,
            )
        )


def pending(engine: sa.Engine, ids: set[int]) -> int:
    """How many of these comments are still pending."""
    comments = Comment.__table__
    with engine.connect() as connection:
        return connection.scalar(
            sa.select(sa.func.count())
            .select_from(comments)
            .where(comments.c.id.in_(ids), comments.c.status == "pending")
        )


def stale_threads(client: HttpClient, engine: sa.Engine) -> list[str]:
    """The articles whose thread, as readers get it now (from the read cache when it holds the
    page), differs from the approved comments in the database."""
    comments, articles = Comment.__table__, Article.__table__
    with engine.connect() as connection:
        approved = defaultdict(set)
        for row in connection.execute(
            sa.select(articles.c.external_id, comments.c.id)
            .join(articles, articles.c.id == comments.c.article_id)
            .where(comments.c.status == "approved", comments.c.shadow.is_(False))
        ):
            approved[row.external_id].add(row.id)
    stale = []
    for article in ARTICLES:
        shown, cursor = set(), None
        while True:
            url = f"{comments_url(article)}?sort=oldest&limit=100"
            status, page = client.request("GET", url + (f"&cursor={cursor}" if cursor else ""))
            if status != 200:
                stale.append(f"{article}: {status}")
                break
            shown.update(thread_ids(page["comments"]))
            if not (cursor := page["next_cursor"]):
                break
        if shown != approved[article]:
            missing, extra = approved[article] - shown, shown - approved[article]
            stale.append(
                f"{article}: {len(missing)} approved not shown, {len(extra)} shown not approved"
            )
    return stale


def count_signs(logs: dict[str, str]) -> dict[str, int]:
    """How often each warning of LOG_SIGNS appears across the processes' logs."""
    return {
        label: sum(log.count(sign) for log in logs.values()) for label, sign in LOG_SIGNS.items()
    }


def split_brain_figures(failover: Failover) -> dict:
    """A planned failover's figures of the old master's extra time as a master."""
    if failover.split_brain is None:
        return {}
    seconds, written = failover.split_brain
    return {"old_master_writable_seconds": round(seconds, 1), "old_master_write_bytes": written}


def main(argv: list[str] | None = None) -> int:
    """Run the case; return 0 when every check passed, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="comments per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to submit")
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder")
    args = parser.parse_args(argv)
    if REDIS_SERVER is None:
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 2
    own_postgres = None
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql")):
        own_postgres = PostgresServer(
            Path(tempfile.mkdtemp(prefix="talkback-sentinel-pg-")) / "postgres", free_port()
        )
        own_postgres.start()
        os.environ["DATABASE_URL"] = own_postgres.url()
    try:
        return _run(args, Path(tempfile.mkdtemp(prefix="talkback-sentinel-")))
    finally:
        if own_postgres is not None:
            own_postgres.stop()
            shutil.rmtree(own_postgres.data.parent.parent, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> int:
    """Run the case with its folder and DATABASE_URL's server ready."""
    count = int(args.rate * args.seconds)
    # The planned switch a third of the way in, the crash at two thirds.
    plan = [(args.seconds / 3, False), (2 * args.seconds / 3, True)]
    deployment = SentinelDeployment(folder / "redis", BASE_PORT)
    failovers: list[Failover] = []
    failed: list[str] = []
    with temporary_database(folder) as database:
        engine = sa.create_engine(database_url(database))
        try:
            deployment.start()
            env = stack_env(
                database,
                "redis://sentinel-named-master/0",  # only its database number is used
                folder,
                REDIS_SENTINELS=deployment.sentinels,
                REDIS_SENTINEL_MASTER=MASTER_NAME,
                GUNICORN_WORKERS="2",
                GUNICORN_BIND=f"127.0.0.1:{API_PORT}",
                TALKBACK_PROXY_COUNT="1",
                TALKBACK_RATE_LIMIT_SUBMIT="100000/minute",
            )
            for command in (
                ["db", "upgrade"],
                ["sites", "create", "demo", "--name", "Sentinel Daily", "--exist-ok"],
            ):
                subprocess.run([*FLASK, *command], env=env, check=True, capture_output=True)
            watcher = Sentinel(
                [("127.0.0.1", port) for port in deployment.sentinel_ports], socket_timeout=1
            ).master_for(MASTER_NAME, socket_timeout=1, db=0)
            base = f"http://127.0.0.1:{API_PORT}"
            client, board, stop = HttpClient(base), Board(), threading.Event()
            reader = threading.Thread(
                target=read_threads, args=(client, ARTICLES, board, stop), kwargs={"pause": 0.2}
            )
            with running_stack(env, folder, base, WORKERS) as stack:
                wait_for_workers(lambda: Worker.count(connection=watcher), stack, WORKERS)
                reader.start()
                began = time.monotonic()
                injector = threading.Thread(
                    target=inject, args=(deployment, plan, began, failovers)
                )
                injector.start()
                try:
                    sent, submit_seconds = submit_paced(
                        client, ARTICLES, count, args.rate, board, 0.1, 0.03, seed=23
                    )
                    injector.join()
                    accepted = {s.answer["id"]: s for s in sent if s.status == 202}
                    last_end = max((f.ended for f in failovers), default=utcnow())
                    # Wait for the bound (from the later of the last submission and failover).
                    deadline = time.monotonic() + BOUND_SECONDS + 5
                    while pending(engine, set(accepted)) and time.monotonic() < deadline:
                        time.sleep(0.5)
                    drain_seconds = time.monotonic() - began - submit_seconds
                finally:
                    stop.set()
                    reader.join(timeout=30)
                stale = stale_threads(client, engine)
                client.close()
                stopped = stack.exited()
                failed_jobs = len(
                    FailedJobRegistry(MODERATION_QUEUE, connection=watcher).get_job_ids()
                )
                logs = {name: stack.log(name) for name in stack.processes}
            rows, trails = collect(engine, "demo")
        finally:
            engine.dispose()
            deployment.stop()

    statuses = Counter(s.status for s in sent)
    decisions = Counter()
    late, lags = [], []
    for comment_id, submission in accepted.items():
        row = rows.get(comment_id)
        decided = [e for e in trails.get(comment_id, []) if e[1] == "pending"]
        decisions[len(decided)] += 1
        if row is None or row.status not in FINAL or len(decided) != 1:
            continue
        lag = (row.decided_at - max(submission.sent_at, last_end)).total_seconds()
        lags.append(max(0.0, lag))
        if lag > BOUND_SECONDS:
            late.append(comment_id)
    undecided = [i for i in accepted if i not in rows or rows[i].status not in FINAL]
    if bad := {status: n for status, n in statuses.items() if status not in ALLOWED}:
        failed.append(f"answers other than 202/503: {bad}")
    if undecided:
        failed.append(f"{len(undecided)} accepted comments not decided, e.g. {undecided[:5]}")
    if set(decisions) - {1}:
        failed.append(f"comments by number of decisions: {dict(decisions)} (want 1 each)")
    if late:
        failed.append(f"{len(late)} decided more than {BOUND_SECONDS:.0f} s late: {late[:5]}")
    if stopped:
        failed.append(f"processes exited: {stopped}")
    if stale:
        failed.append(f"threads readers see that differ from the database: {stale}")
    if board.errors:
        failed.append(f"reader errors: {board.errors[:3]}")
    if len(failovers) != len(plan):
        failed.append(f"only {len(failovers)} of {len(plan)} failovers happened")

    around = [
        s.seconds
        for s in sent
        for f in failovers
        if abs((s.sent_at - f.started).total_seconds()) < 5
    ]
    figures = {
        "case": "sentinel",
        "comments": count,
        "rate": args.rate,
        "submit_seconds": round(submit_seconds, 1),
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        "accepted": len(accepted),
        "decided_once": decisions.get(1, 0),
        "undecided": len(undecided),
        "late": len(late),
        "slowest_decision_seconds": round(max(lags, default=0.0), 1),
        "drain_seconds_after_last_submission": round(drain_seconds, 1),
        "failovers": [
            {
                "how": f.how,
                "old": f.old,
                "new": f.new,
                "sentinels_agree_seconds": round(f.seconds, 2),
                **split_brain_figures(f),
            }
            for f in failovers
        ],
        "post_max_ms_within_5s_of_a_failover": round(max(around, default=0) * 1000),
        "post_max_ms": round(max(s.seconds for s in sent) * 1000),
        "reads": board.reads,
        "stale_threads": len(stale),
        "failed_jobs": failed_jobs,
        "log_signs": count_signs(logs),
        "passed": not failed,
        "failed": failed,
    }
    print(f"\nRedis Sentinel fault case ({folder})")
    print(
        f"  {count} comments at {args.rate:g}/s in {submit_seconds:.1f} s; answers "
        f"{figures['answers']}; {len(accepted)} accepted, {decisions.get(1, 0)} decided once"
    )
    for f in failovers:
        print(f"  {f.how}: master {f.old} -> {f.new}, sentinels agreed after {f.seconds:.2f} s")
        if f.split_brain:
            print(
                f"    the old master stayed a master {f.split_brain[0]:.1f} s longer and took "
                f"{f.split_brain[1]} bytes of writes, dropped when it became a replica"
            )
    print(
        f"  POST max {figures['post_max_ms']} ms (within 5 s of a failover "
        f"{figures['post_max_ms_within_5s_of_a_failover']} ms); {board.reads} thread pages read"
    )
    print(
        f"  slowest decision {figures['slowest_decision_seconds']} s after the later of its "
        f"submission and the last failover (bound {BOUND_SECONDS:.0f} s); all decided "
        f"{drain_seconds:.1f} s after the last submission"
    )
    print(f"  in the logs: {figures['log_signs']}; failed jobs {failed_jobs}")
    print("  PASSED" if not failed else "  FAILED:\n    " + "\n    ".join(failed))
    if not args.keep and not failed:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
