"""Helpers of the scale-out test (tests/test_scale_out.py): varied comment texts, the real
processes of a deployment, a paced submitter and readers that page through threads over HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workers.scoring import similarity
from workers.scoring.normalize import normalize

from .helpers import REPO_ROOT, comments_url, wait_until_healthy

FLASK = [sys.executable, "-m", "flask", "--app", "service"]

# --- Comment texts -------------------------------------------------------------------------------

# Local news a reader might comment on; every sentence family below can name one.
TOPICS = [
    "the new library",
    "the harbour bridge",
    "the tram extension",
    "the river path",
    "the market square",
    "the school garden project",
    "the night market",
    "the museum's new wing",
    "the recycling scheme",
    "the community pool",
    "the park restoration",
    "the cycle lanes on the high street",
    "the food festival",
    "the concert hall",
    "the farmers' market",
    "the old lighthouse",
    "the botanical garden",
    "the city orchestra",
    "the ferry service",
    "the public piano at the station",
    "the football ground",
    "the summer reading club",
    "the station renovation",
    "the tree planting day",
    "the new playground",
    "the coastal walk",
    "the art fair",
    "the youth choir",
    "the allotments by the canal",
    "the heritage trail",
    "the rowing club",
    "the science week",
    "the chess tournament",
    "the marathon route",
    "the flower show",
    "the old cinema",
    "the kite festival",
    "the new bakery on Mill Lane",
    "the lantern parade",
]
OPENERS = [
    "Thanks for",
    "Really enjoyed",
    "Glad to see",
    "Nice to read",
    "I appreciated",
    "Good to finally see",
    "Pleased to find",
    "Lovely to read",
]
COVERAGE = [
    "this report on",
    "the update about",
    "the coverage of",
    "the piece about",
    "this story on",
    "the photos of",
    "the interview about",
    "the background on",
]
PEOPLE = [
    "I",
    "My sister",
    "My neighbour",
    "A friend of mine",
    "My grandfather",
    "Our family",
    "My partner",
    "A colleague of mine",
    "My aunt",
    "Our book club",
]
VISITED = [
    "went to",
    "walked past",
    "visited",
    "stopped by",
    "cycled past",
    "took the children to",
    "spent an hour at",
    "had a look at",
]
WHEN = [
    "last weekend",
    "on Tuesday morning",
    "yesterday afternoon",
    "over the holidays",
    "early this month",
    "after work on Friday",
    "during the bank holiday",
    "on a rainy Sunday",
]
OBSERVED = [
    "it looked wonderful",
    "it was busier than expected",
    "the staff were very helpful",
    "everything felt well organised",
    "the new signs were easy to follow",
    "there was a lovely atmosphere",
    "it was quieter than usual",
    "the queue moved quickly",
    "the gardens were in full bloom",
    "we met several old friends there",
]
ASKED = [
    "will open on Sundays",
    "might stay open later in summer",
    "needs more volunteers",
    "will publish the full schedule",
    "is adding more benches",
    "will run again next year",
    "offers guided tours",
    "has step-free access",
    "takes school groups",
    "is planning a second phase",
]
HEDGES = ["Honestly,", "In my view", "I think", "To be fair,", "On balance,", "As far as I know,"]
WHO = ["the organisers", "the council", "the planners", "the volunteers", "the designers"]
CREDIT = [
    "did a careful job with",
    "deserve credit for",
    "put real thought into",
    "could say a little more about",
    "listened to residents on",
]
ASPECTS = [
    "the timetable",
    "the accessibility plans",
    "the budget details",
    "the opening hours",
    "the parking arrangements",
    "the public consultation",
    "the lighting",
    "the signage",
    "the choice of materials",
    "the noise concerns",
]
REMINDED = ["It reminds me of", "This brings back memories of", "I still remember"]
MEMORIES = [
    "the summer fairs we had as children",
    "walking there with my parents",
    "the old tram line",
    "the first time I saw the harbour lit up",
    "school trips to the museum",
    "Sunday mornings at the market",
    "learning to swim nearby",
    "the brass band that used to play there",
    "picnics by the water",
]
HOPED = ["Looking forward to", "Hoping for", "Would love to see", "Keen to read"]
FOLLOW_UPS = [
    "a follow-up once it opens",
    "more photos next time",
    "an interview with the volunteers",
    "the next part of the series",
    "an update in the spring",
    "the full report when it is out",
    "a map of the new routes",
]
# A few comments are abusive, so that reads have something they must never show.
INSULTS = [
    "You are a complete idiot",
    "Only a moron would write this",
    "Shut up, nobody cares about your stupid opinion",
    "The author is a clueless fool",
    "What a pathetic and worthless hack you are",
    "You people are brainless losers",
]
RUDE_ABOUT = [
    "and so is everyone who cares about",
    "writing such garbage about",
    "go away and stop whining about",
    "nobody wants your drivel on",
]
NAMES = [
    "Dana",
    "Noa",
    "Sam",
    "Priya",
    "Tom",
    "Mira",
    "Jonas",
    "Aisha",
    "Leo",
    "Hana",
    "Omar",
    "Ruth",
    "Eli",
    "Grace",
    "Yuki",
]


def _sentence(rng: random.Random, family: int, topic: str) -> str:
    """One sentence of a family, its slots filled at random."""
    pick = rng.choice
    if family == 0:
        return f"{pick(OPENERS)} {pick(COVERAGE)} {topic}."
    if family == 1:
        return f"{pick(PEOPLE)} {pick(VISITED)} {topic} {pick(WHEN)} and {pick(OBSERVED)}."
    if family == 2:
        return f"Does anyone know whether {topic} {pick(ASKED)}?"
    if family == 3:
        return f"{pick(HEDGES)} {pick(WHO)} {pick(CREDIT)} {pick(ASPECTS)}."
    if family == 4:
        return f"{pick(REMINDED)} {pick(MEMORIES)}."
    return f"{pick(HOPED)} {pick(FOLLOW_UPS)}."


class CommentTexts:
    """Varied comment bodies, no two of them near-duplicates by the worker's own measure."""

    # The worker holds (near-)duplicates of recent comments, so each body is checked against
    # the earlier ones with the same MinHash bands the worker uses, and redrawn when any band
    # matches (a candidate pair, even below the near-duplicate similarity).

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.bands: set[str] = set()

    def body(self, abusive: bool = False) -> str:
        """Return a polite body of one to three sentences (~130 characters), or an insult."""
        while True:
            topic = self.rng.choice(TOPICS)
            if abusive:
                text = f"{self.rng.choice(INSULTS)}, {self.rng.choice(RUDE_ABOUT)} {topic}."
            else:
                families = self.rng.sample(range(6), self.rng.randint(1, 3))
                text = " ".join(_sentence(self.rng, family, topic) for family in families)
            keys = similarity.band_keys(similarity.signature(normalize(text)))
            if not self.bands.intersection(keys):
                self.bands.update(keys)
                return text

    def name(self) -> str:
        """Return an author name."""
        return self.rng.choice(NAMES)


# --- Processes -----------------------------------------------------------------------------------


@dataclass
class Stack:
    """The processes of a deployment, each logging to its own file."""

    folder: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        """Start a process in its own session (so a stuck one can be killed with its children),
        appending to its log (a restarted process keeps what its last run logged)."""
        with (self.folder / f"{name}.log").open("ab") as output:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        """Return what a process has logged so far."""
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def exited(self) -> dict[str, int]:
        """Return the exit status of every process that has stopped."""
        return {
            name: process.returncode
            for name, process in self.processes.items()
            if process.poll() is not None
        }

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time each process (with its live children: gunicorn's workers) has used so far."""
        return {name: _cpu_seconds(process.pid) for name, process in self.processes.items()}

    def stop(self) -> None:
        """SIGTERM every process (each shuts down gracefully on it), SIGKILL any left after 30 s."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Its own session: the group id is its pid, and holds only what it started.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its children, from /proc (0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime (fields 14-17 of proc(5); 2 and 3 precede the split).
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK") + sum(_cpu_seconds(int(child)) for child in children)


def stack_env(database: str, redis_url: str, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of every process: this run's database and Redis, no inherited settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TALKBACK_", "PROMETHEUS_", "GUNICORN_")) and key != "FLASK_APP"
    }
    metrics = folder / "metrics"
    metrics.mkdir()
    env.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        TALKBACK_INSTANCE_DIR=str(folder),
        # As `make run` does: every process writes its metrics into one shared folder.
        PROMETHEUS_MULTIPROC_DIR=str(metrics),
        **settings,
    )
    return env


@contextmanager
def running_stack(env: dict[str, str], folder: Path, api_url: str, workers: int) -> Iterator[Stack]:
    """Run gunicorn, `workers` moderation workers and the sweeper; stop them all afterwards."""
    stack = Stack(folder, env)
    try:
        api = stack.start(
            "api",
            [
                *(sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "gunicorn.conf.py")),
                "service:create_app()",
            ],
        )
        for number in range(1, workers + 1):
            stack.start(f"worker{number}", [*FLASK, "worker"])
        stack.start("sweeper", [*FLASK, "sweeper"])
        wait_until_healthy(f"{api_url}/healthz", api, folder / "api.log")
        yield stack
    finally:
        stack.stop()


def wait_for_workers(count_workers, stack: Stack, wanted: int, seconds: float = 90) -> None:
    """Wait until `wanted` RQ workers listen on the moderation queue, or fail the test."""
    # A worker registers once its models are loaded: from then on no comment waits for one.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if count_workers() >= wanted:
            return
        if stopped := stack.exited():
            logs = "\n".join(stack.log(name)[-2000:] for name in stopped)
            pytest.fail(f"processes exited before the run: {stopped}\n{logs}")
        time.sleep(0.2)
    pytest.fail(f"fewer than {wanted} workers registered after {seconds:.0f} s")


# --- HTTP ----------------------------------------------------------------------------------------


class HttpClient:
    """JSON over keep-alive HTTP/1.1 to one server, one connection per thread, as browsers keep."""

    def __init__(self, base: str):
        address = urllib.parse.urlsplit(base)
        self.host, self.port = address.hostname, address.port
        self.local = threading.local()
        self.lock = threading.Lock()
        self.connections: list[http.client.HTTPConnection] = []

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """Return this thread's connection and whether it served a request before."""
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            return connection, True
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.local.connection = connection
        with self.lock:
            self.connections.append(connection)
        return connection, False

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self.local.connection = None

    def request(
        self, method: str, path: str, payload: dict | None = None, headers: dict | None = None
    ) -> tuple[int, dict]:
        """Send a request (with a JSON body if given); return the status and the JSON answer."""
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json", **(headers or {})}
        while True:
            connection, reused = self._connection()
            try:
                connection.request(method, path, body, headers)
                response = connection.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._drop(connection)
                # The server closes a connection left idle past its keep-alive time before
                # reading anything more from it, so the request can go again on a new one.
                if reused:
                    continue
                raise
            if response.will_close:
                self._drop(connection)
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, {"raw": raw[:500].decode(errors="replace")}

    def close(self) -> None:
        """Close every connection (call once no thread uses the client any more)."""
        with self.lock:
            for connection in self.connections:
                connection.close()


@dataclass
class Submission:
    """One comment sent: to which article, when, and what the API answered."""

    article: str
    sent_at: datetime
    status: int
    answer: dict
    reply: bool
    seconds: float


@dataclass
class Board:
    """What the readers saw and the submitter may reply to, shared between threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: set[int] = field(default_factory=set)
    by_article: dict[str, list[int]] = field(default_factory=dict)
    reads: int = 0
    read_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def saw(self, article: str, ids: list[int]) -> None:
        """Record ids read on an article's thread."""
        with self.lock:
            for comment_id in ids:
                if comment_id not in self.seen:
                    self.seen.add(comment_id)
                    self.by_article.setdefault(article, []).append(comment_id)

    def parent_for(self, article: str, rng: random.Random) -> int | None:
        """Return a comment seen on the article to reply to, or None if none was seen yet."""
        with self.lock:
            ids = self.by_article.get(article)
            return rng.choice(ids) if ids else None


def thread_ids(comments: list[dict]) -> list[int]:
    """Every comment id of a thread page, replies included."""
    ids = []
    for comment in comments:
        ids.append(comment["id"])
        ids.extend(thread_ids(comment["replies"]))
    return ids


def read_threads(
    client: HttpClient, articles: list[str], board: Board, stop: threading.Event, pause: float
) -> None:
    """Page through every article's thread (oldest first, 100 a page) until told to stop."""
    try:
        while not stop.is_set():
            for article in articles:
                cursor = None
                while True:
                    url = f"{comments_url(article)}?sort=oldest&limit=100"
                    if cursor:
                        url += f"&cursor={cursor}"
                    started = time.monotonic()
                    status, page = client.request("GET", url)
                    with board.lock:
                        board.reads += 1
                        board.read_seconds.append(time.monotonic() - started)
                    if status != 200:
                        board.errors.append(f"GET {url}: {status} {page}")
                        return
                    board.saw(article, thread_ids(page["comments"]))
                    cursor = page["next_cursor"]
                    if stop.wait(pause) or not cursor:
                        break
    except Exception as error:  # a reader thread must report, not vanish
        board.errors.append(f"reader failed: {error!r}")


def submit_paced(
    client: HttpClient,
    articles: list[str],
    count: int,
    rate: float,
    board: Board,
    reply_share: float,
    abusive_share: float,
    seed: int,
) -> tuple[list[Submission], float]:
    """Send `count` comments at `rate` per second; return them and the seconds it took."""
    # From many readers (their own commenter keys and addresses, at most three comments each);
    # `abusive_share` of them insults, and `reply_share` replies to comments the readers saw.
    texts, rng = CommentTexts(seed), random.Random(seed)
    # Three comments per person, as real readers post: velocity signals stay out of it.
    people = max(1, -(-count // 3))
    # Drawn before the clock starts: checking each text against the others takes a moment.
    bodies = [texts.body(abusive=rng.random() < abusive_share) for _ in range(count)]

    def compose(index: int) -> tuple[str, dict, dict]:
        person = index % people
        article = articles[index % len(articles)]
        payload = {
            "author_name": texts.name(),
            "body": bodies[index],
            "commenter_key": f"scale-{seed:x}-{person:05d}",
        }
        parent = board.parent_for(article, rng) if rng.random() < reply_share else None
        if parent is not None:
            payload["parent_id"] = parent
        elif rng.random() < 0.25:
            payload["title"] = f"About {rng.choice(TOPICS)}"
        # One /24 network per person; the proxy in front (TALKBACK_PROXY_COUNT=1) names it.
        address = f"10.{person // 250}.{person % 250}.{1 + index % 200}"
        return article, payload, {"X-Forwarded-For": address}

    def send(article: str, payload: dict, headers: dict) -> Submission:
        sent_at, started = datetime.now(UTC).replace(tzinfo=None), time.monotonic()
        status, answer = client.request("POST", comments_url(article), payload, headers)
        return Submission(
            article,
            sent_at,
            status,
            answer,
            "parent_id" in payload,
            time.monotonic() - started,
        )

    futures = []
    started = time.monotonic()
    # Open loop, as readers arrive whatever the server's pace: enough threads that a slow answer
    # delays no later submission (a closed loop would slow down with the server and hide it).
    with ThreadPoolExecutor(max_workers=64, thread_name_prefix="submit") as pool:
        for index in range(count):
            # Composed here, in order: the random generators are not shared between threads.
            request = compose(index)
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(send, *request))
        submissions = [future.result() for future in futures]
    return submissions, time.monotonic() - started
