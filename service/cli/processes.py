"""`flask --app service worker|sweeper`: the moderation worker and the sweeper processes."""

import contextlib
import signal

import click


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def run_worker(burst: bool) -> None:
    """Run a moderation worker (one comment at a time; start more processes to scale)."""
    from flask import current_app
    from rq import SimpleWorker

    from service.core.queues import moderation_queue, worker_connection
    from workers.scoring import semantic, toxicity

    # Both models load before the first job (a few seconds), not inside its timeout.
    toxicity.load_model()
    semantic.load_model(current_app.config["MODEL_THREADS"])
    # SimpleWorker runs jobs in this process: the model and DB pool stay warm across jobs, and
    # a crash loses nothing because the sweeper re-enqueues whatever was left pending.
    with worker_connection() as connection:
        worker = SimpleWorker([moderation_queue(connection)], connection=connection)
        worker.work(burst=burst, with_scheduler=False)


@click.command("sweeper")
@click.option("--once", is_flag=True, help="Sweep once and exit.")
def run_sweeper(once: bool) -> None:
    """Re-enqueue pending comments whose moderation job was lost (run exactly one)."""
    from flask import current_app

    from workers.sweeper import run_sweeper as sweep_forever
    from workers.sweeper import sweep_once

    if once:
        click.echo(f"Re-enqueued {sweep_once()} comment(s).")
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo("Sweeper running; Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        sweep_forever(current_app.config["SWEEP_INTERVAL_SECONDS"], lambda: bool(stopping))
