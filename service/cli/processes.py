"""`flask --app service worker|sweeper`: the moderation worker and the sweeper processes."""

import contextlib
import logging
import signal
import time

import click
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested

log = logging.getLogger(__name__)

# The longest a worker waits before trying Redis again (after a failover, an outage).
REDIS_RETRY_SECONDS = 5.0


class _Worker(SimpleWorker):
    """RQ's SimpleWorker, which remembers being asked to stop (SIGTERM, SIGINT)."""

    stop_requested = False

    def request_stop(self, signum, frame):
        """Note the request, then stop as RQ does (after the current job)."""
        self.stop_requested = True
        super().request_stop(signum, frame)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def run_worker(burst: bool) -> None:
    """Run a moderation worker (one comment at a time; start more processes to scale)."""
    from flask import current_app

    from service.core.queues import moderation_queue, worker_connection
    from service.core.webhooks import webhook_queue
    from workers.scoring import semantic, toxicity

    # Both models load before the first job (a few seconds), not inside its timeout.
    toxicity.load_model()
    semantic.load_model(current_app.config["MODEL_THREADS"])
    # SimpleWorker runs jobs in this process: the model and DB pool stay warm across jobs, and
    # a crash loses nothing because the sweeper re-enqueues whatever was left pending.
    with worker_connection() as connection:
        while True:
            worker = None
            try:
                # RQ talks to Redis already when it builds the worker (CLIENT SETNAME).
                # Moderation first; webhook deliveries when no comment waits.
                queues = [moderation_queue(connection), webhook_queue(connection)]
                worker = _Worker(queues, connection=connection)
                # RQ retries a lost connection while it waits for a job (1, 2, 4 s ...); after
                # a failover the new master is there within seconds: don't wait longer.
                worker.max_connection_wait_time = REDIS_RETRY_SECONDS
                worker.work(burst=burst, with_scheduler=False)
            except RedisError as error:  # building, registering or its teardown met it too
                log.warning("worker: redis unreachable: %s", error)
            except StopRequested:  # a signal while RQ's handlers are in place, outside work()
                return
            if burst or (worker is not None and worker.stop_requested):
                return
            # RQ quits on an error met anywhere but in its wait for a job (a failover in the
            # middle of a job or its bookkeeping, a timeout): carry on with a new worker.
            log.warning("worker: RQ stopped on an error; starting again")
            try:
                time.sleep(1)
            except StopRequested:
                return


@click.command("sweeper")
@click.option("--once", is_flag=True, help="Sweep once and exit.")
def run_sweeper(once: bool) -> None:
    """Re-enqueue pending comments whose moderation job was lost (run exactly one)."""
    from flask import current_app

    from workers.sweeper import run_sweeper as sweep_forever
    from workers.sweeper import sweep_once

    if once:
        from workers.sweeper import sweep_webhooks

        click.echo(f"Re-enqueued {sweep_once()} comment(s).")
        endpoints = sweep_webhooks()
        if endpoints:
            click.echo(f"Queued the due webhook deliveries of {endpoints} endpoint(s).")
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo("Sweeper running; Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        sweep_forever(current_app.config["SWEEP_INTERVAL_SECONDS"], lambda: bool(stopping))
