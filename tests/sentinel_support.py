"""A real Redis Sentinel deployment for tests: a master, a replica and three sentinels, each a
redis-server process on 127.0.0.1, with a failover on demand (SENTINEL FAILOVER or kill -9)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

REDIS_SERVER = shutil.which("redis-server")
MASTER_NAME = "mymaster"
# Sentinels call a master down after this long without an answer; small, so a failover after
# a crash takes a few seconds, not the default 30 s.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000
QUORUM = 2


def _wait(what: str, check, seconds: float) -> None:
    """Wait until check() is true, or raise naming what was awaited."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except RedisError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {seconds:.0f} s")
        time.sleep(0.05)


@dataclass
class SentinelDeployment:
    """Two data nodes (master, replica) and three sentinels on consecutive ports from `base`."""

    folder: Path
    base: int
    # Sentinels announce themselves every 2 s and ask the nodes for their roles every 10 s, so
    # three find each other in about 7 s; a test shortens both (SENTINEL DEBUG) to start in 2.
    quick_start: bool = False
    # After a SENTINEL FAILOVER: how long the old master stayed a master, and the bytes of
    # writes it accepted meanwhile (lost when it became the new master's replica).
    split_brain: tuple[float, int] | None = None
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)

    @property
    def data_ports(self) -> list[int]:
        """The ports of the two data nodes (the first starts as master)."""
        return [self.base, self.base + 1]

    @property
    def sentinel_ports(self) -> list[int]:
        """The ports of the three sentinels."""
        return [self.base + 2, self.base + 3, self.base + 4]

    @property
    def sentinels(self) -> str:
        """The sentinels as REDIS_SENTINELS spells them."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def _start(self, port: int, *args: str) -> None:
        log = (self.folder / f"redis-{port}.log").open("wb")
        self.processes[port] = subprocess.Popen(
            [REDIS_SERVER, *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
        )
        log.close()

    @staticmethod
    def _common() -> list[str]:
        # No persistence; a replica syncs at once (Redis waits 5 s for more replicas by default).
        return [
            *("--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--repl-diskless-sync-delay", "0"),
        ]

    def start(self) -> None:
        """Start the master, its replica and the sentinels; return once all see each other."""
        self.folder.mkdir(parents=True, exist_ok=True)
        common = self._common()
        master, replica = self.data_ports
        self._start(master, "--port", str(master), *common, "--dir", str(self.folder))
        self._start(
            replica,
            *("--port", str(replica), *common, "--dir", str(self.folder)),
            *("--replicaof", "127.0.0.1", str(master)),
        )
        _wait(
            "the replica's link to the master",
            lambda: self.client(replica).info("replication")["master_link_status"] == "up",
            15,
        )
        for port in self.sentinel_ports:
            # Sentinel rewrites its configuration file, so each gets its own, written here.
            config = self.folder / f"sentinel-{port}.conf"
            config.write_text(
                f"port {port}\n"
                "bind 127.0.0.1\n"
                f"dir {self.folder}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} {QUORUM}\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {MASTER_NAME} 1\n"
            )
            self._start(port, str(config), "--sentinel")
        if self.quick_start:
            for port in self.sentinel_ports:
                _wait(f"sentinel {port} answering", lambda port=port: self.client(port).ping(), 10)
                self.client(port).execute_command(
                    "SENTINEL", "DEBUG", "publish-period", 200, "info-period", 500
                )
        for port in self.sentinel_ports:
            _wait(
                f"sentinel {port} seeing the replica and the other sentinels",
                lambda port=port: self._sees_everyone(port),
                30,
            )

    def _sees_everyone(self, port: int) -> bool:
        state = self.client(port).sentinel_master(MASTER_NAME)
        return state["num-other-sentinels"] == 2 and state["num-slaves"] == 1

    def client(self, port: int) -> Redis:
        """A plain client of one node or sentinel (short timeouts)."""
        return Redis("127.0.0.1", port, socket_timeout=2, socket_connect_timeout=2)

    def master_port(self) -> int:
        """The port of the master as the first sentinel that answers names it."""
        for port in self.sentinel_ports:
            try:
                return int(self.client(port).sentinel_get_master_addr_by_name(MASTER_NAME)[1])
            except (RedisError, TypeError):
                continue
        raise RuntimeError("no sentinel answers")

    def _promoted(self, port: int) -> bool:
        """Whether every sentinel names `port` as master and it has taken the role."""
        named = {
            int(self.client(s).sentinel_get_master_addr_by_name(MASTER_NAME)[1])
            for s in self.sentinel_ports
        }
        return named == {port} and self.client(port).info("replication")["role"] == "master"

    def failover(
        self, kill: bool = False, seconds: float = 30, settle: bool = True
    ) -> tuple[int, int, float]:
        """Fail the master over: SENTINEL FAILOVER (and, unless not `settle`, wait for the old
        master to replicate the new one), or kill -9 (`kill`) and let the sentinels notice.
        Return (old port, new port, seconds until every sentinel named the new one)."""
        old = self.master_port()
        (new,) = [port for port in self.data_ports if port != old]
        started = time.monotonic()
        if kill:
            self.processes[old].send_signal(signal.SIGKILL)
            self.processes[old].wait()
        else:
            # The replica has every write the master answered so far (async replication).
            self.client(old).execute_command("WAIT", 1, 2000)
            self.client(self.sentinel_ports[0]).sentinel_failover(MASTER_NAME)
        _wait(f"the sentinels promoting {new}", lambda: self._promoted(new), seconds)
        promoted = time.monotonic() - started
        if settle and not kill:
            # The sentinels then turn the old master into the new one's replica, some seconds
            # later (by design: 4 x its publish period). Until then it is still a master, and
            # whatever clients still write to it is dropped when it starts to replicate.
            self.split_brain = self._watch_old_master(old, new, seconds)
        return old, new, promoted

    def _watch_old_master(self, old: int, new: int, seconds: float) -> tuple[float, int]:
        """Wait for the old master to replicate the new one; return for how long it went on
        as a master after the new one was promoted, and how many bytes of writes it took."""
        started, first, last = time.monotonic(), None, None
        while time.monotonic() - started < seconds:
            info = self.client(old).info("replication")
            if info["role"] == "master":
                last = info["master_repl_offset"]
                first = last if first is None else first
            elif self._replicates(old, new):
                return time.monotonic() - started, (last or 0) - (first or 0)
            time.sleep(0.05)
        raise TimeoutError(f"{old} replicating {new}: not after {seconds:.0f} s")

    def _replicates(self, port: int, master: int) -> bool:
        info = self.client(port).info("replication")
        return info.get("master_port") == master and info.get("master_link_status") == "up"

    def restart_as_replica(self, port: int) -> None:
        """Start a killed node again; the sentinels turn it into the new master's replica."""
        self._start(
            port,
            *("--port", str(port), *self._common(), "--dir", str(self.folder)),
        )
        master = self.master_port()
        _wait(f"{port} replicating {master}", lambda: self._replicates(port, master), 30)

    def stop(self) -> None:
        """Stop every process started (SIGTERM, then SIGKILL after 10 s)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
