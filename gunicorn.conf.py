"""Gunicorn settings for Talkback's API: `make run`, the Dockerfile and docker-compose use them.

The shape (2 processes x 4 threads, gthread) is the one every measurement so far was made
with (docs/performance.md); issue 13's benchmarks choose the final one. Environment variables
override it per deployment: GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS.
"""

import os

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
