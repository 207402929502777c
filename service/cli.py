"""Command-line tools: `flask --app service sites|users|worker|sweeper|moderation ...`."""

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

from .cors import InvalidOriginError, normalize_origin
from .extensions import db
from .models import Site
from .sanitize import plain_text

sites_cli = AppGroup("sites", help="Create and list sites and the origins that may embed them.")


def _origins(values: tuple[str, ...], option: str) -> list[str]:
    """Normalise origins typed by an operator, or stop with the first problem."""
    origins = []
    for value in values:
        try:
            origins.append(normalize_origin(value))
        except InvalidOriginError as error:
            raise click.BadParameter(str(error), param_hint=option) from None
    return list(dict.fromkeys(origins))


def _find_site(key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.key == key))
    if site is None:
        raise click.ClickException(f"There is no site '{key}'.")
    return site


def _echo_origins(site: Site) -> None:
    if not site.allowed_origins:
        click.echo(f"Site '{site.key}' allows no origins: no page can embed it yet.")
    for origin in site.allowed_origins:
        click.echo(origin)


@sites_cli.command("create")
@click.argument("key")
@click.option("--name", help="Human-readable name (defaults to the key).")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    metavar="URL",
    help="An origin (scheme://host[:port]) whose pages may embed the site; repeatable.",
)
@click.option(
    "--exist-ok",
    is_flag=True,
    help="Succeed if the site already exists (adding any --origin it lacks).",
)
def create_site(key: str, name: str | None, origins: tuple[str, ...], exist_ok: bool) -> None:
    """Create a site that pages can embed Talkback on."""
    allowed = _origins(origins, "--origin")
    site = db.session.scalar(select(Site).where(Site.key == key))
    if site is not None:
        if not exist_ok:
            raise click.ClickException(f"Site '{key}' already exists.")
        added = [origin for origin in allowed if origin not in site.allowed_origins]
        if added:
            # A new list, not an in-place append: the JSON column only notices assignment.
            site.allowed_origins = [*site.allowed_origins, *added]
            db.session.commit()
            click.echo(f"Site '{key}' already exists; allowed {', '.join(added)}.")
        else:
            click.echo(f"Site '{key}' already exists.")
        return
    # Keys go into every embed URL: plain ASCII only.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key):
        raise click.BadParameter("use up to 64 letters, digits, '-' or '_'", param_hint="KEY")
    db.session.add(Site(key=key, name=name or key, allowed_origins=allowed))
    db.session.commit()
    click.echo(f"Created site '{key}'.")
    if not allowed:
        click.echo("No origins allowed yet; add them with `sites origins KEY --add URL`.")


@sites_cli.command("origins")
@click.argument("key")
@click.option("--add", "to_add", multiple=True, metavar="URL", help="Allow an origin; repeatable.")
@click.option(
    "--remove", "to_remove", multiple=True, metavar="URL", help="Disallow an origin; repeatable."
)
def site_origins(key: str, to_add: tuple[str, ...], to_remove: tuple[str, ...]) -> None:
    """Show or change the origins whose pages may embed a site; print the resulting list."""
    adding, removing = _origins(to_add, "--add"), _origins(to_remove, "--remove")
    site = _find_site(key)
    origins = [origin for origin in site.allowed_origins if origin not in removing]
    origins += [origin for origin in adding if origin not in origins]
    if origins != site.allowed_origins:
        site.allowed_origins = origins
        db.session.commit()
    _echo_origins(site)


@sites_cli.command("list")
def list_sites() -> None:
    """List the sites: key, name and (when any) their allowed origins, tab-separated."""
    for site in db.session.scalars(select(Site).order_by(Site.key)):
        origins = " ".join(site.allowed_origins)
        click.echo(f"{site.key}\t{site.name}" + (f"\t{origins}" if origins else ""))


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


@moderation_cli.command("reports")
@click.option("--site", "site_key", help="Only this site's comments.")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
def list_reports(site_key: str | None, limit: int) -> None:
    """Show reported comments, most recently reported first."""
    from .errors import TalkbackError
    from .reports import reported_queue

    try:
        page = reported_queue(site_key, limit, None)
    except TalkbackError as error:
        raise click.ClickException(error.message) from None
    if not page["comments"]:
        click.echo("No reported comments.")
        return
    click.echo(
        f"{'id':>7}  {'site':<12} {'status':<9} {'reports':>7}  {'last report (UTC)':<19}  reasons"
    )
    for item in page["comments"]:
        reasons = ", ".join(f"{reason} {n}" for reason, n in item["reasons"].items() if n)
        click.echo(
            f"{item['id']:>7}  {item['site'][:12]:<12} {item['status']:<9} "
            f"{item['report_count']:>7}  {item['last_reported_at']:%Y-%m-%d %H:%M:%S}  {reasons}"
        )
        excerpt = plain_text(item["body_html"])
        click.echo(f"{'':>9}{item['author_name']} on {item['article']}: {excerpt[:70]}")
        for note in item["notes"]:
            click.echo(f"{'':>9}- {note['reason']}: {note['note'][:100]}")
    if page["next_cursor"]:
        click.echo(f"(showing the {limit} most recent; use --limit or the API for more)")


PASSWORD_HELP = "The password (prompted for, or generated and printed, if omitted)."
users_cli = AppGroup("users", help="Create and manage moderator and operator accounts.")


@contextlib.contextmanager
def _service_errors():
    """Turn the service layer's errors into click's 'Error: ...' and exit status 1."""
    from .errors import TalkbackError

    try:
        yield
    except TalkbackError as error:
        raise click.ClickException(error.message) from None


def _password_or_generated(password: str | None) -> tuple[str, bool]:
    """Return the given password, one typed at a prompt, or a generated one (and whether it was)."""
    if password is None and sys.stdin.isatty():
        password = click.prompt(
            "Password (leave empty to generate one)",
            default="",
            show_default=False,
            hide_input=True,
            confirmation_prompt=True,
        )
    if password:
        return password, False
    from .accounts import generate_password

    return generate_password(), True


def _create_account(username: str, password: str | None, role: str, sites: tuple[str, ...]):
    from . import accounts

    password, generated = _password_or_generated(password)
    with _service_errors():
        user = accounts.create_user(username, password, role, sites)
    where = "all sites" if user.is_operator else ", ".join(site.key for site in user.sites)
    click.echo(f"Created {role} '{user.username}' ({where}).")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("create-admin")
@click.argument("username")
@click.option(
    "--password", help="The password (prompted for, or generated and printed, if omitted)."
)
def create_admin(username: str, password: str | None) -> None:
    """Create an operator account: every site, every console page."""
    _create_account(username, password, "operator", ())


@users_cli.command("create-moderator")
@click.argument("username")
@click.option(
    "--site", "sites", multiple=True, required=True, metavar="KEY", help="A site; repeatable."
)
@click.option(
    "--password", help="The password (prompted for, or generated and printed, if omitted)."
)
def create_moderator(username: str, sites: tuple[str, ...], password: str | None) -> None:
    """Create a moderator account for the given sites."""
    _create_account(username, password, "moderator", sites)


@users_cli.command("assign")
@click.argument("username")
@click.option(
    "--site", "sites", multiple=True, required=True, metavar="KEY", help="A site; repeatable."
)
def assign(username: str, sites: tuple[str, ...]) -> None:
    """Set the sites a moderator works on (replaces the current list)."""
    from . import accounts

    with _service_errors():
        user = accounts.get_user(username)
        accounts.assign_sites(user, sites)
    click.echo(f"'{user.username}' moderates {', '.join(site.key for site in user.sites)}.")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", help="The new password (prompted for, or generated and printed).")
def set_password(username: str, password: str | None) -> None:
    """Set an account's password, lift its lockout and log out its sessions."""
    from . import accounts

    with _service_errors():
        user = accounts.get_user(username)
        password, generated = _password_or_generated(password)
        accounts.set_password(user, password)
    click.echo(f"Password of '{user.username}' changed.")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Turn an account off: it can't log in and its API tokens stop working."""
    from . import accounts

    with _service_errors():
        accounts.set_active(accounts.get_user(username), False)
    click.echo(f"'{accounts.normalize_username(username)}' is deactivated.")


@users_cli.command("activate")
@click.argument("username")
def activate(username: str) -> None:
    """Turn a deactivated account back on."""
    from . import accounts

    with _service_errors():
        accounts.set_active(accounts.get_user(username), True)
    click.echo(f"'{accounts.normalize_username(username)}' is active.")


@users_cli.command("create-token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for (e.g. 'triage script').")
def create_token(username: str, name: str) -> None:
    """Create an API token for an account; the token is printed once, as the last line."""
    from . import accounts

    with _service_errors():
        api_token, token = accounts.create_token(accounts.get_user(username), name)
    click.echo(f"Created API token {api_token.id} ({api_token.name}) for '{username.lower()}'.")
    click.echo("Keep it now: it is not stored and can't be shown again.")
    click.echo(token)


@users_cli.command("revoke-token")
@click.argument("token_id", metavar="ID", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke an API token by its id (see `users list`)."""
    from . import accounts

    with _service_errors():
        api_token = accounts.revoke_token(token_id)
    click.echo(f"API token {token_id} ({api_token.name}) is revoked.")


@users_cli.command("list")
def list_users() -> None:
    """List accounts with their role, state, sites and live API tokens (id: name)."""
    from . import accounts

    users = accounts.list_users()
    if not users:
        click.echo("No accounts yet; create one with `users create-admin NAME`.")
    for user in users:
        sites = "all sites" if user.is_operator else ",".join(s.key for s in user.sites) or "-"
        state = "active" if user.is_active else "deactivated"
        tokens = [
            f"{token.id}: {token.name}"
            for token in accounts.list_tokens(user)
            if token.revoked_at is None
        ]
        click.echo(
            f"{user.username}\t{user.role.value}\t{state}\t{sites}"
            + (f"\ttokens {'; '.join(tokens)}" if tokens else "")
        )


def register(app: Flask) -> None:
    """Attach the commands to the app's `flask` CLI."""
    app.cli.add_command(sites_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(run_worker)
    app.cli.add_command(run_sweeper)
    app.cli.add_command(moderation_cli)
    from .cli_bans import bans_cli
    from .cli_privacy import privacy_cli

    app.cli.add_command(bans_cli)
    app.cli.add_command(privacy_cli)
