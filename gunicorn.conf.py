"""Gunicorn settings for Talkback's API: `make run`, the Dockerfile and docker-compose use them.

Shape: gthread, one process per core (GUNICORN_WORKERS, default 2 for the 2-core reference
machine), 4 threads each, gunicorn's default keep-alive (2 s). Chosen by measurement
(`bench/http.py --shapes`, docs/performance.md "Server shape"), same-run ratios at c=32:
- gthread 2x4 served the cached thread page fastest (1,861 req/s, 0.61 x hello; 304 0.65 x);
- 4 processes x 2 threads did not do better (1,258 req/s) on 2 cores: more processes only add
  context switches once every core is busy;
- sync workers spread requests evenly (no keep-alive, so no connection sticks to a process) but
  pay a TCP handshake per request: hello fell to ~1,000-2,600 req/s, the cached page to 976;
- keep-alive 0 on gthread cost throughput the same way (780 req/s) without fixing anything a
  proxy's pooled connections would not.
Threads overlap the Redis and PostgreSQL round trips a request waits on; the GIL keeps one
process from using more than a core, hence a process per core. Keep-alive connections stick to
the process that accepted them, so under few, long-lived connections (one benchmark client, one
proxy) one process can end up with most of them: put a proxy that opens several upstream
connections in front, as docs/operators.md describes. Environment variables override the shape
per deployment: GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS.
"""

import os

from service.web import server_errors

# Requests gunicorn refuses itself (400, 414, 431, ...) answer in the API's JSON error shape.
server_errors.install()

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# One process per core: the API is CPU-bound Python (the GIL), and the database and Redis
# round trips it waits on are short.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads cover those waits without the memory of more processes.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
accesslog = "-"


def child_exit(server, worker):
    """Tell prometheus-client a process is gone, so its live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
