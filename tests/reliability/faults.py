"""The fault suite: a few thousand comments while workers, API processes, Redis and PostgreSQL
are killed (-9), then the checks: every 202 decided exactly once, nothing pending longer than
the bound after the last fault, no 500 (503 is allowed during an outage), no duplicate audit
rows. Prints a progress line while it runs, a summary, and a JSON last line; exits 1 with what
failed. Run: `.venv/bin/python -m tests.reliability.faults [--comments N --rate R]`
(`make faults`); docs/reliability.md has the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from rq.registry import FailedJobRegistry

from service.config import database_url
from service.core.queues import moderation_queue
from service.models import Comment, utcnow

from ..helpers import comments_url
from ..scale_support import CommentTexts, HttpClient
from .cluster import SITE, Cluster, collect

ARTICLES = [f"fault-story-{number}" for number in range(1, 9)]
# The checks' bound: every accepted comment is decided within this many seconds of the later of
# its submission and the end of the last fault.
BOUND_SECONDS = 60.0
# The faults are spread over this share of the submission time: the last one still needs
# comments coming (a worker stopped while it waits for a job must be handed one).
FAULT_SPAN = 0.8
# Outages of Redis and PostgreSQL: down this long, then started again on their data.
OUTAGE_SECONDS = 3.0
ABUSIVE_SHARE = 0.03
# CommentTexts has some 65 insults that are not near-duplicates of one another; past that it
# would draw forever.
MAX_INSULTS = 50
FINAL = {"approved", "held", "rejected"}
comments_table = Comment.__table__


class Client(HttpClient):
    """The scale test's keep-alive client, which reports a request without an answer (the API
    process was killed, or is restarting) as status 0 instead of raising."""

    def send(self, method: str, path: str, payload: dict, headers: dict) -> tuple[int, dict]:
        """Send a request; return (status, JSON answer), or (0, the error) without an answer."""
        try:
            return self.request(method, path, payload, headers)
        except (OSError, http.client.HTTPException) as error:
            connection = getattr(self.local, "connection", None)
            if connection is not None:
                self._drop(connection)
            return 0, {"error": repr(error)}


@dataclass
class Sent:
    """One submission: when, where, and what came back."""

    sent_at: datetime
    path: str
    status: int
    answer: dict
    answered_at: datetime


@dataclass
class Fault:
    """A fault injected: what, when it began and ended, and what it found."""

    name: str
    started: datetime
    ended: datetime | None = None
    detail: str = ""
    held: list[str] = field(default_factory=list)  # job ids a killed worker held unstarted


@dataclass
class Run:
    """What the run saw, shared by the submitter, the fault injector and the progress line."""

    sent: list[Sent] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answers(self) -> Counter:
        """Count the answers by HTTP status (0: no answer)."""
        with self.lock:
            return Counter(s.status for s in self.sent)


def fault_plan(cluster: Cluster) -> list[tuple[str, Callable[[Fault], None]]]:
    """The faults, in the order they are injected: each a name and what injects it."""
    stack = cluster.stack

    def kill(*names: str) -> Callable[[Fault], None]:
        def run(fault: Fault) -> None:
            for name in names:
                stack.kill(name)

        return run

    def between_dequeue_and_start(fault: Fault) -> None:
        worker, fault.held = cluster.kill_between_dequeue_and_start()
        fault.detail = f"({worker}, held {', '.join(fault.held) or 'no job; killed anyway'})"

    def outage(server) -> Callable[[Fault], None]:
        def run(fault: Fault) -> None:
            server.kill()
            time.sleep(OUTAGE_SECONDS)
            server.start()

        return run

    def api_worker(fault: Fault) -> None:
        if not cluster.kill_api_worker():
            fault.detail = "(no gunicorn worker found)"

    # A restarted worker loads its models first (10-90 s on a busy machine): kills of both
    # workers come early, so that one is waiting for jobs at the last fault.
    return [
        ("worker -9", kill("worker1")),
        ("API worker process -9", api_worker),
        ("worker -9 between dequeue and start", between_dequeue_and_start),
        (f"Redis -9, {OUTAGE_SECONDS:g} s down", outage(cluster.redis)),
        ("both workers -9", kill("worker1", "worker2")),
        (f"PostgreSQL -9, {OUTAGE_SECONDS:g} s down", outage(cluster.postgres)),
        ("API -9 (gunicorn master and workers)", kill("api")),
        ("worker -9", kill("worker2")),
        ("sweeper -9", kill("sweeper")),
        ("worker -9 between dequeue and start", between_dequeue_and_start),
    ]


def inject_faults(cluster: Cluster, run: Run, duration: float, only: str = "") -> None:
    """Inject the planned faults (those whose name contains `only`) during the submissions."""
    plan = [(name, action) for name, action in fault_plan(cluster) if only in name]
    started = time.monotonic()
    for number, (name, action) in enumerate(plan, start=1):
        delay = started + FAULT_SPAN * duration * number / len(plan) - time.monotonic()
        if delay > 0 and run.done.wait(delay):
            return
        fault = Fault(name, utcnow())
        with run.lock:
            run.faults.append(fault)
        try:
            action(fault)
        except Exception as error:  # a fault that could not be injected is reported, not fatal
            fault.detail = f"could not inject: {error!r}"
        fault.ended = utcnow()
        print(f"  fault {number}/{len(plan)}: {name} {fault.detail}".rstrip(), flush=True)


def held_comments(run: Run, rows: dict) -> list[dict]:
    """The comments whose jobs killed workers held unstarted, and how long after the kill each
    was decided (None: never)."""
    held = []
    for fault in run.faults:
        for job_id in fault.held:
            comment_id = int(job_id.removeprefix("moderate-"))
            row = rows.get(comment_id)
            decided = row.decided_at if row is not None else None
            after = round((decided - fault.ended).total_seconds(), 1) if decided else None
            held.append({"comment": comment_id, "decided_after_kill_s": after})
    return held


def supervise(cluster: Cluster, stop: threading.Event) -> None:
    """Restart dead processes every half second, as a deployment's restart policy does."""
    while not stop.wait(0.5):
        cluster.stack.restart_dead()


def compose(count: int, seed: int) -> list[tuple[str, dict, dict]]:
    """The submissions (path, payload, headers): varied texts from many readers, three each."""
    texts, rng = CommentTexts(seed), random.Random(seed)
    people = max(1, -(-count // 3))
    requests, insults = [], 0
    for index in range(count):
        person = index % people
        abusive = insults < MAX_INSULTS and rng.random() < ABUSIVE_SHARE
        insults += abusive
        payload = {
            "author_name": texts.name(),
            "body": texts.body(abusive=abusive),
            "commenter_key": f"faults-{seed:x}-{person:05d}",
        }
        # One /24 network per reader; the proxy in front (TALKBACK_PROXY_COUNT=1) names it.
        headers = {"X-Forwarded-For": f"10.{person // 250}.{person % 250}.{1 + index % 200}"}
        requests.append((comments_url(ARTICLES[index % len(ARTICLES)], SITE), payload, headers))
    return requests


def submit(client: Client, run: Run, requests: list[tuple[str, dict, dict]], rate: float) -> None:
    """Send the submissions at `rate` per second, open loop (as readers arrive, whatever the
    server's pace), recording each answer."""

    def send(path: str, payload: dict, headers: dict) -> None:
        sent_at = utcnow()
        status, answer = client.send("POST", path, payload, headers)
        with run.lock:
            run.sent.append(Sent(sent_at, path, status, answer, utcnow()))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=64, thread_name_prefix="submit") as pool:
        for index, request in enumerate(requests):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, *request)


def database_counts(engine: sa.Engine) -> str:
    """Comments by status, for the progress line (or why the database can't say)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(comments_table.c.status, sa.func.count()).group_by(
                    comments_table.c.status
                )
            ).all()
    except sa.exc.SQLAlchemyError:
        return "database unreachable"
    counts = dict(rows)
    return f"decided {sum(counts.get(s, 0) for s in FINAL)}, pending {counts.get('pending', 0)}"


def progress(engine: sa.Engine, run: Run, started: float, stop: threading.Event) -> None:
    """Print a progress line every five seconds."""
    while not stop.wait(5):
        answers = run.answers()
        print(
            f"[{time.monotonic() - started:5.0f} s] sent {sum(answers.values())}, answers "
            f"{dict(sorted(answers.items()))}, faults {len(run.faults)}; "
            f"{database_counts(engine)}",
            flush=True,
        )


def pending_count(engine: sa.Engine) -> int | None:
    """How many comments are pending now (None while the database is unreachable)."""
    try:
        with engine.connect() as connection:
            return connection.scalar(
                sa.select(sa.func.count()).where(comments_table.c.status == "pending")
            )
    except sa.exc.SQLAlchemyError:
        return None


def drain(engine: sa.Engine, until: float) -> None:
    """Wait until nothing is pending, or until `until` (time.monotonic())."""
    while time.monotonic() < until and pending_count(engine) != 0:
        time.sleep(0.5)


def check(
    run: Run, rows: dict, trails: dict, last_fault_end: datetime, checked_at: datetime
) -> tuple[dict, list]:
    """The figures of the run and the list of what failed (empty: passed)."""
    answers = Counter(s.status for s in run.sent)
    accepted = {s.answer["id"]: s for s in run.sent if s.status == 202}
    lost = sorted(set(accepted) - set(rows))
    undecided = sorted(i for i, row in rows.items() if row.status not in FINAL)
    decisions = {
        i: [entry for entry in trails.get(i, []) if entry[1] == "pending" and entry[2] in FINAL]
        for i in rows
    }
    decided_twice = sorted(i for i, made in decisions.items() if len(made) > 1)
    duplicate_rows = sorted(
        i for i, trail in trails.items() if i in rows and len(trail) != len(set(trail))
    )
    wrong_trails = {
        i: trails.get(i)
        for i, row in rows.items()
        if row.status in FINAL
        and trails.get(i) != [("author", None, "pending"), ("worker", "pending", row.status)]
    }
    pending_seconds = [
        (rows[i].decided_at - s.sent_at).total_seconds()
        for i, s in accepted.items()
        if i in rows and rows[i].decided_at is not None
    ]
    # A comment still pending when the rows were read counts as pending until then.
    after_fault = {
        i: ((rows[i].decided_at or checked_at) - max(s.sent_at, last_fault_end)).total_seconds()
        for i, s in accepted.items()
        if i in rows
    }
    over_bound = sorted(i for i, seconds in after_fault.items() if seconds > BOUND_SECONDS)
    server_errors = [s for s in run.sent if s.status >= 500 and s.status != 503]
    unexpected = [s for s in run.sent if s.status not in (0, 202, 503) and s.status < 500]
    windows = {}
    for status in sorted(set(answers) - {202}):
        times = [s.answered_at for s in run.sent if s.status == status]
        windows[str(status)] = f"{min(times):%H:%M:%S}-{max(times):%H:%M:%S}"
    figures = {
        "comments": len(run.sent),
        "answers": {str(status): n for status, n in sorted(answers.items())},
        "answers_other_than_202_at": windows,
        "accepted": len(accepted),
        "stored": len(rows),
        "stored_without_202": len(set(rows) - set(accepted)),
        "statuses": dict(Counter(str(row.status) for row in rows.values())),
        "lost": len(lost),
        "undecided": len(undecided),
        "decided_twice": len(decided_twice),
        "duplicate_audit_rows": len(duplicate_rows),
        "other_audit_trails": len(wrong_trails),
        "bound_seconds": BOUND_SECONDS,
        "pending_over_bound_after_last_fault": len(over_bound),
        # 0: everything was decided before the last fault ended.
        "max_pending_after_last_fault_s": round(max(0.0, *after_fault.values()), 1),
        "max_pending_s": round(max(pending_seconds, default=0.0), 1),
        "p95_pending_s": round(_percentile(pending_seconds, 0.95), 2),
        "http_500": answers.get(500, 0),
        "http_503": answers.get(503, 0),
        "no_answer": answers.get(0, 0),
        "held_by_workers_killed_before_start": held_comments(run, rows),
    }
    failed = []
    if lost:
        failed.append(f"{len(lost)} accepted comment(s) not stored: {lost[:10]}")
    if undecided:
        failed.append(f"{len(undecided)} comment(s) never decided: {undecided[:10]}")
    if decided_twice:
        failed.append(f"{len(decided_twice)} comment(s) decided twice: {decided_twice[:10]}")
    if duplicate_rows:
        failed.append(f"duplicate audit rows for comment(s) {duplicate_rows[:10]}")
    if wrong_trails:
        failed.append(f"unexpected audit trails: {list(wrong_trails.items())[:5]}")
    if over_bound:
        failed.append(
            f"{len(over_bound)} comment(s) decided more than {BOUND_SECONDS:g} s after the last "
            f"fault: {[(i, round(after_fault[i], 1)) for i in over_bound[:10]]}"
        )
    if server_errors:
        failed.append(
            f"{len(server_errors)} server error(s) other than 503: "
            f"{[(s.status, s.path, s.answer) for s in server_errors[:5]]}"
        )
    if unexpected:
        failed.append(
            f"{len(unexpected)} unexpected answer(s): "
            f"{[(s.status, s.path, s.answer) for s in unexpected[:5]]}"
        )
    for fault in run.faults:
        if "could not inject" in fault.detail or (
            "between dequeue and start" in fault.name and not fault.held
        ):
            failed.append(f"fault not injected as planned: {fault.name} {fault.detail}")
    return figures, failed


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(share * len(ordered) + 0.999999) - 1)] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    """Run the suite; return 0 when every check passed, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=2400, help="comments to send (2400)")
    parser.add_argument("--rate", type=float, default=20.0, help="comments per second (20)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--ports", type=int, default=0, help="first of three ports to use (default: free ones)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder with the logs")
    parser.add_argument(
        "--only", default="", help="inject only the faults whose name contains this text"
    )
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="talkback-faults-"))
    cluster, run = Cluster(folder, args.ports), Run()
    started = time.monotonic()
    stop = threading.Event()
    print(f"fault suite: {args.comments} comments at {args.rate:g}/s; logs in {folder}", flush=True)
    composed: list = []
    # The texts are drawn (each checked against the others, ~1 minute of CPU for 2,400) while
    # the cluster starts, which mostly waits on its processes.
    composer = threading.Thread(
        target=lambda: composed.extend(compose(args.comments, args.seed)), daemon=True
    )
    composer.start()
    try:
        cluster.start()
        composer.join()
        ready = time.monotonic() - started
        print(
            f"cluster ready in {ready:.0f} s: PostgreSQL, Redis, API, 2 workers, sweeper",
            flush=True,
        )
        engine = sa.create_engine(
            database_url(cluster.database_url),
            pool_pre_ping=True,
            connect_args={"connect_timeout": 2},
        )
        duration = args.comments / args.rate
        helpers = [
            threading.Thread(target=supervise, args=(cluster, stop), daemon=True),
            threading.Thread(
                target=progress, args=(engine, run, time.monotonic(), stop), daemon=True
            ),
        ]
        injector = threading.Thread(target=inject_faults, args=(cluster, run, duration, args.only))
        for thread in [*helpers, injector]:
            thread.start()
        client = Client(cluster.api_url)
        submit(client, run, composed, args.rate)
        submitted = time.monotonic()
        run.done.set()
        injector.join()
        last_sent = max(s.sent_at for s in run.sent)
        last_fault_end = max((f.ended for f in run.faults if f.ended), default=last_sent)
        # Wait for the backlog, up to the bound (and a little) past the last fault or submission.
        since_end = (utcnow() - max(last_fault_end, last_sent)).total_seconds()
        drain(engine, time.monotonic() + BOUND_SECONDS + 10 - since_end)
        drained = time.monotonic()
        checked_at = utcnow()
        rows, trails = collect(engine, SITE)
        with cluster.redis_client() as redis:
            failed_jobs = len(FailedJobRegistry(queue=moderation_queue(redis)))
        stop.set()
        for thread in helpers:
            thread.join()
        client.close()
        figures, failed = check(run, rows, trails, last_fault_end, checked_at)
        restarts = cluster.stack.restarts
        figures.update(
            rate=args.rate,
            submit_seconds=round(submitted - started - ready, 1),
            drain_seconds=round(drained - submitted, 1),
            faults=[f"{f.name} {f.detail}".rstrip() for f in run.faults],
            restarts_after_kill=sum(1 for _, _, killed in restarts if killed),
            exits_not_killed={
                f"{name} (exit {code})": sum(1 for r in restarts if r[:2] == (name, code))
                for name, code, killed in restarts
                if not killed
            },
            rq_failed_jobs=failed_jobs,
            last_fault_end=last_fault_end.isoformat(),
        )
    except BaseException:
        stop.set()
        run.done.set()
        print(f"the suite itself failed; logs in {folder}", file=sys.stderr)
        cluster.stop()
        raise
    cluster.stop()
    print_summary(figures, failed, run)
    figures["passed"] = not failed
    figures["failed"] = failed
    if args.keep or failed:
        print(f"logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures))
    return 1 if failed else 0


def print_summary(figures: dict, failed: list[str], run: Run) -> None:
    """Print the figures and what failed."""
    print(
        f"\nfault suite: {figures['comments']} comments at {figures['rate']:g}/s, "
        f"{len(run.faults)} faults; submitted in {figures['submit_seconds']} s, "
        f"drained {figures['drain_seconds']} s later\n"
        f"  answers {figures['answers']} (0: no answer, the API process was down); "
        f"at {figures['answers_other_than_202_at']}\n"
        f"  {figures['accepted']} accepted (202), {figures['stored']} stored "
        f"({figures['stored_without_202']} without a 202), statuses {figures['statuses']}\n"
        f"  lost {figures['lost']}, undecided {figures['undecided']}, decided twice "
        f"{figures['decided_twice']}, duplicate audit rows {figures['duplicate_audit_rows']}\n"
        f"  pending: p95 {figures['p95_pending_s']} s, max {figures['max_pending_s']} s; "
        f"after the last fault max {figures['max_pending_after_last_fault_s']} s "
        f"(bound {figures['bound_seconds']:g} s), over the bound "
        f"{figures['pending_over_bound_after_last_fault']}\n"
        f"  processes restarted after a kill {figures['restarts_after_kill']}; exited by "
        f"themselves {figures['exits_not_killed'] or 'none'}; RQ failed jobs "
        f"{figures['rq_failed_jobs']}"
    )
    for fault in run.faults:
        print(f"  fault at {fault.started:%H:%M:%S}: {fault.name} {fault.detail}".rstrip())
    for held in figures["held_by_workers_killed_before_start"]:
        after = held["decided_after_kill_s"]
        decided = "never decided" if after is None else f"decided {after} s after the kill"
        print(f"  comment {held['comment']}, held unstarted by a killed worker, {decided}")
    print("PASSED" if not failed else "FAILED:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    sys.exit(main())
