"""What the live "N new comments" poll costs per 1,000 open pages, under gunicorn as deployed.

Run: `.venv/bin/python bench/live.py [--pages 1000] [--interval 15] [--seconds 30]
[--duration 5] [--repeats 3]`. On DATABASE_URL / REDIS_URL when set (a temporary database on that
server, dropped after; the run's Redis keys cleared, as bench/http.py does), else a temporary
SQLite file and an embedded Redis: the embedded one is this run's alone, so its command count
is exact. Starts the API in the production shape (`-c gunicorn.conf.py`, read cache on, metrics
in multiprocess mode), one moderation worker, and a hello-world Flask in the same shape; seeds
one 20-comment thread through the public API (the worker approves them).

Then, for the plain poll (200) and the poll with its ETag (304, what a browser sends after the
first answer, or a CDN revalidating):
- paced: requests at the rate `--pages` open pages make polling every `--interval` seconds
  (1,000 / 15 s = 66.7 req/s), cross-origin (an Origin header), each on a new connection as a
  reader's browser would, for
  `--seconds`; reports the API's CPU seconds (gunicorn master and workers) and the Redis
  server's, per 1,000 pages per minute; p50/p99 latency; database queries (read-cache misses of
  the live answer, from /metrics, and on PostgreSQL the database's own transaction count); and
  Redis commands per poll (INFO commandstats);
- flat out: wrk at c=8 and c=32 (bench/http.py's measure), beside hello in the same run, for the
  same-run ratio docs/performance.md quotes.
The last line is JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# As in bench/http.py: this folder first on sys.path would shadow the standard library's `http`.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from bench.http import (  # noqa: E402
    API,
    FLASK,
    HELLO_APP,
    WRK,
    Processes,
    Shape,
    cpu_seconds,
    free_port,
    http,
    log,
    measure,
    prepare_site,
    seed_threads,
    start_server,
    talkback_env,
    worker_pids,
    write_lua,
)

ARTICLE = "live-thread"
# The bench site's allowed origin (bench/http.py's prepare_site): polls come cross-origin.
ORIGIN = "http://127.0.0.1"
METRICS_TOKEN = "bench-live-metrics"
MISSES = re.compile(r'talkback_read_cache_total\{kind="live",result="miss"\} ([0-9.e+]+)')
HITS = re.compile(r'talkback_read_cache_total\{kind="live",result="hit"\} ([0-9.e+]+)')


def scrape(base: str) -> tuple[float, float]:
    """The live answer's read-cache (hits, misses) over all the API's processes."""
    request = urllib.request.Request(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = [pattern.search(text) for pattern in (HITS, MISSES)]
    return tuple(float(match.group(1)) if match else 0.0 for match in found)  # type: ignore[return-value]


def redis_figures(url: str) -> tuple[dict[str, int], float]:
    """(calls so far per command, the server's CPU seconds) from INFO; commands a Lua
    script runs count as their own (an EVALSHA that GETs twice is three)."""
    from redis import Redis

    client = Redis.from_url(url)
    try:
        stats = client.info("commandstats")
        cpu = client.info("cpu")
    finally:
        client.close()
    calls = {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}
    return calls, cpu["used_cpu_sys"] + cpu["used_cpu_user"]


def database_transactions(url: str) -> int | None:
    """Transactions the bench database has run so far (PostgreSQL's statistics), else None."""
    if not url.startswith("postgresql"):
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            # Statistics are flushed by each backend within a second or so of its transactions.
            connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            return connection.execute(
                sa.text(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                    " WHERE datname = current_database()"
                )
            ).scalar_one()
    finally:
        engine.dispose()


def api_cpu(master: int) -> float:
    """CPU seconds the gunicorn master and its workers have used so far."""
    return cpu_seconds(master) + sum(cpu_seconds(pid) for pid in worker_pids(master))


def paced(url: str, headers: dict, rate: float, seconds: float, expect: int) -> dict:
    """Send requests at `rate` per second for `seconds`, each on a new connection."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def one() -> None:
        started = time.perf_counter()
        status = http("GET", url, headers=headers)[0]
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1

    total = int(rate * seconds)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for number in range(total):
            delay = start + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one)
    took = time.monotonic() - start
    latencies.sort()
    if set(statuses) != {expect}:
        log(f"  WARNING: statuses {statuses}, expected only {expect}")
    return {
        "requests": total,
        "seconds": took,
        "rps": total / took,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "statuses": statuses,
    }


def measure_paced(
    name: str, api, env: dict, headers: dict, expect: int, args: argparse.Namespace
) -> dict:
    """One paced scenario with its CPU, database and Redis figures."""
    url = f"{api.base}{API}/{ARTICLE}/live"
    rate = args.pages / args.interval
    log(
        f"{name}: {rate:.1f} req/s ({args.pages} pages every {args.interval:g} s), {args.seconds} s"
    )
    # PostgreSQL's backends flush their statistics up to 10 s after they go idle: wait for the
    # seeding's and warm-up's, so the count is the polls' own.
    time.sleep(11)
    hits0, misses0 = scrape(api.base)
    transactions0 = database_transactions(env["DATABASE_URL"])
    calls0, redis_cpu0 = redis_figures(env["REDIS_URL"])
    cpu0 = api_cpu(api.process.pid)
    run = paced(url, headers, rate, args.seconds, expect)
    cpu = api_cpu(api.process.pid) - cpu0
    calls1, redis_cpu1 = redis_figures(env["REDIS_URL"])
    time.sleep(11)  # as above
    transactions1 = database_transactions(env["DATABASE_URL"])
    hits1, misses1 = scrape(api.base)
    per_minute = 60 / run["seconds"] * 1000 / args.pages
    # Our own INFO readings aside.
    commands = {
        name: round((n - calls0.get(name, 0)) / run["requests"], 2)
        for name, n in calls1.items()
        if name != "info" and n != calls0.get(name, 0)
    }
    row = {
        "scenario": name,
        "pages": args.pages,
        "interval_s": args.interval,
        **{key: round(value, 2) for key, value in run.items() if key != "statuses"},
        "statuses": run["statuses"],
        "api_cpu_s": round(cpu, 2),
        "api_cpu_s_per_1000_pages_per_minute": round(cpu * per_minute, 3),
        "api_cpu_ms_per_poll": round(1000 * cpu / run["requests"], 3),
        "redis_cpu_s_per_1000_pages_per_minute": round((redis_cpu1 - redis_cpu0) * per_minute, 3),
        "redis_commands_per_poll": round(sum(commands.values()), 2),
        "redis_commands_per_poll_by_name": commands,
        "redis_shared": bool(os.environ.get("REDIS_URL")),
        "live_cache_hits": hits1 - hits0,
        "live_cache_misses_db_queries": misses1 - misses0,
        "database_transactions": None
        if transactions0 is None
        else transactions1 - transactions0 - 1,  # our own first reading
    }
    log(
        f"  {row['rps']:.1f} req/s, p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms; API "
        f"{row['api_cpu_s_per_1000_pages_per_minute']} CPU-s per 1,000 pages per minute "
        f"({row['api_cpu_ms_per_poll']} ms/poll), Redis "
        f"{row['redis_cpu_s_per_1000_pages_per_minute']} CPU-s; "
        f"{row['redis_commands_per_poll']} Redis commands/poll {commands}; DB: "
        f"{row['live_cache_misses_db_queries']:.0f} cache misses, "
        f"{row['database_transactions']} transactions"
    )
    return row


def paced_hello(hello, args: argparse.Namespace) -> dict:
    """hello-world at the same pace: the baseline CPU of a request that does nothing."""
    rate = args.pages / args.interval
    log(f"paced hello: {rate:.1f} req/s, {args.seconds} s")
    cpu0 = api_cpu(hello.process.pid)
    run = paced(f"{hello.base}/hello", {}, rate, args.seconds, 200)
    cpu = api_cpu(hello.process.pid) - cpu0
    per_minute = 60 / run["seconds"] * 1000 / args.pages
    row = {
        "scenario": "paced hello",
        **{key: round(value, 2) for key, value in run.items() if key != "statuses"},
        "api_cpu_s_per_1000_pages_per_minute": round(cpu * per_minute, 3),
        "api_cpu_ms_per_poll": round(1000 * cpu / run["requests"], 3),
    }
    log(f"  {row['api_cpu_s_per_1000_pages_per_minute']} CPU-s per 1,000 pages per minute")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="open pages (default 1000)")
    parser.add_argument("--interval", type=float, default=15, help="poll seconds (default 15)")
    parser.add_argument("--seconds", type=int, default=30, help="paced run length (default 30)")
    parser.add_argument("--duration", type=int, default=5, help="each wrk run (default 5 s)")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per scenario (3)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the seeded comments")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    if not Path(WRK).exists():
        raise SystemExit(f"{WRK} not found: apt-get install wrk")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="talkback-live-") as scratch:
        directory = Path(scratch)
        metrics_dir = directory / "metrics"
        metrics_dir.mkdir()
        with talkback_env(directory) as env:
            env.update(
                TALKBACK_METRICS_TOKEN=METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
            )
            processes = Processes(directory, env)
            try:
                prepare_site(env)
                processes.start("worker", [*FLASK, "worker"])
                shape = Shape()
                api = start_server(
                    processes,
                    "api",
                    "service:create_app()",
                    free_port(),
                    shape,
                    health="/healthz",
                )
                (directory / "hello_app.py").write_text(HELLO_APP)
                hello = start_server(
                    processes,
                    "hello",
                    "hello_app:app",
                    free_port(),
                    shape,
                    chdir=directory,
                    health="/hello",
                )
                seeding = seed_threads(api.base, {ARTICLE: 20}, args.seed)
                processes.stop("worker")  # idle from here; its CPU is not the poll's
                url = f"{api.base}{API}/{ARTICLE}/live"
                status, headers, body = http("GET", url)
                if status != 200 or body["approved"] != 20:
                    raise SystemExit(f"live answered {status} {body}")
                etag = headers["ETag"]
                http("GET", url, headers={"Origin": ORIGIN})  # the site's origins, cached
                if http("GET", url, headers={"If-None-Match": etag})[0] != 304:
                    raise SystemExit("the live answer's own ETag did not answer 304")
                rows = [
                    measure_paced("paced poll (200)", api, env, {"Origin": ORIGIN}, 200, args),
                    measure_paced(
                        "paced poll, If-None-Match (304)",
                        api,
                        env,
                        {"Origin": ORIGIN, "If-None-Match": etag},
                        304,
                        args,
                    ),
                ]
                baseline = paced_hello(hello, args)
                for row in rows:
                    row["cpu_ratio_to_hello"] = round(
                        row["api_cpu_ms_per_poll"] / baseline["api_cpu_ms_per_poll"], 2
                    )
                rows.append(baseline)
                plain = write_lua(directory, "get", "")
                conditional = write_lua(
                    directory, "conditional", f'wrk.headers["If-None-Match"] = [[{etag}]]\n'
                )
                flat = measure("hello GET", f"{hello.base}/hello", plain, 200, args, hello)
                flat += measure("live poll", url, plain, 200, args, api)
                flat += measure("live poll (304)", url, conditional, 304, args, api)
            finally:
                processes.stop()
            database = env["DATABASE_URL"].split(":", 1)[0]
    hello_rps = {row["c"]: row["rps"] for row in flat if row["scenario"] == "hello GET"}
    for row in flat:
        row["ratio_to_hello"] = round(row["rps"] / hello_rps[row["c"]], 3)
    print(
        f"\n{'paced scenario':<34}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'API CPU-s':>11}{'Redis CPU-s':>13}{'ms/poll':>9}{'Redis cmd':>11}{'DB q':>6}"
    )
    for row in rows:
        hello_row = row["scenario"] == "paced hello"
        print(
            f"{row['scenario']:<34}{row['rps']:>7.1f}{row['p50_ms']:>8.1f}{row['p99_ms']:>8.1f}"
            f"{row['api_cpu_s_per_1000_pages_per_minute']:>11.3f}"
            + ("" if hello_row else f"{row['redis_cpu_s_per_1000_pages_per_minute']:>13.3f}")
            + f"{'':>13}" * hello_row
            + f"{row['api_cpu_ms_per_poll']:>9.3f}"
            + ("" if hello_row else f"{row['redis_commands_per_poll']:>11.2f}")
            + ("" if hello_row else f"{row['live_cache_misses_db_queries']:>6.0f}")
        )
    print("(CPU-s: CPU seconds per 1,000 open pages per minute)\n")
    print(f"{'flat out (wrk)':<34}{'c':>4}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'x hello':>9}")
    for row in flat:
        print(
            f"{row['scenario']:<34}{row['c']:>4}{row['rps']:>9.0f}{row['p50_ms']:>8.1f}"
            f"{row['p99_ms']:>8.1f}{row['ratio_to_hello']:>9.3f}"
        )
    summary = {
        "database": database,
        "redis": "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded",
        "seed": args.seed,
        "seeding": seeding,
        "seconds": round(time.monotonic() - started),
        "paced": rows,
        "flat": flat,
        "median_ratio_to_hello": statistics.median(r["ratio_to_hello"] for r in flat),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
