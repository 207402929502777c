"""Command-line tools: `flask --app service sites|worker|sweeper ...`."""

import contextlib
import re
import signal

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .models import Site

sites_cli = AppGroup("sites", help="Create and list sites.")


@sites_cli.command("create")
@click.argument("key")
@click.option("--name", help="Human-readable name (defaults to the key).")
@click.option("--exist-ok", is_flag=True, help="Succeed quietly if the site already exists.")
def create_site(key: str, name: str | None, exist_ok: bool) -> None:
    """Create a site that pages can embed Talkback on."""
    if db.session.scalar(select(Site).where(Site.key == key)) is not None:
        if exist_ok:
            click.echo(f"Site '{key}' already exists.")
            return
        raise click.ClickException(f"Site '{key}' already exists.")
    # Keys go into every embed URL: plain ASCII only.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key):
        raise click.BadParameter("use up to 64 letters, digits, '-' or '_'", param_hint="KEY")
    db.session.add(Site(key=key, name=name or key))
    db.session.commit()
    click.echo(f"Created site '{key}'.")


@sites_cli.command("list")
def list_sites() -> None:
    """List the sites."""
    for site in db.session.scalars(select(Site).order_by(Site.key)):
        click.echo(f"{site.key}\t{site.name}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def run_worker(burst: bool) -> None:
    """Run a moderation worker (one comment at a time; start more processes to scale)."""
    from rq import SimpleWorker

    from workers.scoring.toxicity import load_model

    from .queues import moderation_queue, worker_connection

    load_model()
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


def register(app: Flask) -> None:
    """Attach the commands to the app's `flask` CLI."""
    app.cli.add_command(sites_cli)
    app.cli.add_command(run_worker)
    app.cli.add_command(run_sweeper)
