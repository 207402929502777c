"""Command-line tools: `flask --app service sites|worker|sweeper ...`."""

import contextlib
import json
import re
import signal
import sys
from collections import Counter
from pathlib import Path

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


moderation_cli = AppGroup("moderation", help="Evaluate and re-run automatic moderation.")


@moderation_cli.command("evaluate")
@click.argument("dataset", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "csv", "youtube", "jigsaw", "davidson", "sms"]),
    default="auto",
    show_default=True,
    help="How to read DATASET: our text,label CSV or one of the public sets in ../shared/data.",
)
@click.option(
    "--leave-one-out",
    "group_column",
    metavar="COLUMN",
    help="Train the learned spam model on every other value of COLUMN (e.g. VIDEO) and test "
    "on the held-out one, in turn.",
)
@click.option("--limit", type=int, help="Score only the first N rows.")
def evaluate(dataset: Path, fmt: str, group_column: str | None, limit: int | None) -> None:
    """Score a labelled dataset with the default policy; print a table, then a JSON line."""
    from workers import evaluation
    from workers.scoring.toxicity import load_model

    fmt = evaluation.guess_format(dataset) if fmt == "auto" else fmt
    try:
        rows = evaluation.load_rows(dataset, fmt, group_column)
    except evaluation.DatasetError as error:
        raise click.ClickException(str(error)) from error
    rows = rows[:limit] if limit else rows
    if not rows:
        raise click.ClickException(f"{dataset} has no rows to score.")
    load_model()
    per_group = None
    with click.progressbar(length=len(rows), label="Scoring", file=sys.stderr) as bar:
        if group_column:
            scored, per_group = evaluation.leave_one_group_out(rows, progress=bar.update)
        else:
            scored = evaluation.score_rows(rows, progress=bar.update)
    click.echo(evaluation.table(scored))
    result = evaluation.summary(scored)
    if per_group is not None:
        click.echo("\nLeave one group out (learned model trained on the other groups):")
        for group, metrics in per_group.items():
            click.echo(
                f"  {group:<14} spam F1 {metrics['f1']:.3f}  precision {metrics['precision']:.3f}"
                f"  recall {metrics['recall']:.3f}  ({metrics['rows']} rows)"
            )
        overall = evaluation.spam_f1(scored, 0.5)
        result["spam_f1"] = round(overall["f1"], 4)
        result["spam_f1_mean_of_groups"] = round(
            sum(metrics["f1"] for metrics in per_group.values()) / len(per_group), 4
        )
    click.echo(json.dumps(result))


@moderation_cli.command("rescore")
@click.option("--site", "site_key", required=True, help="The site's key.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    help="Only comments submitted on or after this date (UTC).",
)
def rescore(site_key: str, since) -> None:
    """Re-run scoring for a site's held comments, e.g. after a policy or word-list change."""
    from workers.rescore import held_comment_ids, rescore_comment

    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise click.ClickException(f"There is no site '{site_key}'.")
    ids = held_comment_ids(site.id, since)
    outcomes: Counter = Counter()
    with click.progressbar(ids, label=f"Re-scoring {len(ids)} held comments") as bar:
        for comment_id in bar:
            outcomes[rescore_comment(comment_id)] += 1
    click.echo(
        f"{len(ids)} held comment(s) re-scored: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        if ids
        else "No held comments to re-score."
    )


def register(app: Flask) -> None:
    """Attach the commands to the app's `flask` CLI."""
    app.cli.add_command(sites_cli)
    app.cli.add_command(run_worker)
    app.cli.add_command(run_sweeper)
    app.cli.add_command(moderation_cli)
