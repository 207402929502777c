"""`flask --app service privacy export|erase|purge`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from service.cli.errors import service_errors
from service.core import privacy

privacy_cli = AppGroup("privacy", help="Export or erase what is held about a commenter.")

# Erasures touching more comments than this show a progress bar.
PROGRESS_AFTER = 200


def _commenter(value: str) -> privacy.Commenter:
    with service_errors():
        return privacy.commenter(value)


@privacy_cli.command("export")
@click.argument("commenter")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON to this file instead of standard output.",
)
def export_command(commenter: str, output: Path | None) -> None:
    """Write everything held about COMMENTER (a commenter key, an email or sso:SITE:SUB) as
    JSON."""
    who = _commenter(commenter)
    data = privacy.export(commenter)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"Could not write {output}: {error.strerror}.") from None
    click.echo(
        f"Wrote {len(data['comments'])} comment(s), {len(data['reports'])} report(s) and "
        f"{len(data['bans'])} ban(s) of {who.label} to {output}.",
        err=True,
    )


@privacy_cli.command("erase")
@click.argument("commenter")
@click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
def erase_command(commenter: str, yes: bool) -> None:
    """Erase COMMENTER (a commenter key, an email or sso:SITE:SUB): their comments become
    tombstones with nothing personal left, threads stay intact, their reports lose their key
    and IP hash."""
    who = _commenter(commenter)
    held = privacy.holdings(commenter)
    click.echo(
        f"{who.label}: {held['comments']} comment(s) will become empty tombstones and "
        f"{held['reports']} report(s) they made will lose their key and IP hash."
    )
    if held["bans"]:
        click.echo(f"{held['bans']} ban(s) on them stay in force (lift them with `bans lift`).")
    if not yes:
        click.confirm("Erase this commenter? This cannot be undone", abort=True)
    if held["comments"] > PROGRESS_AFTER:
        with click.progressbar(length=held["comments"], label="Erasing comments") as bar:
            done = privacy.erase(commenter, progress=bar.update)
    else:
        done = privacy.erase(commenter)
    click.echo(f"Erased {done['comments']} comment(s) and {done['reports']} report(s).")
    if done["votes"]:
        click.echo(f"{done['votes']} vote(s) they cast stay counted but no longer name them.")


@privacy_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Purge hashes older than this many days (default: TALKBACK_IP_RETENTION_DAYS).",
)
def purge_command(days: int | None) -> None:
    """Erase IP address and network hashes older than the retention period."""
    if days is None:
        days = current_app.config["IP_RETENTION_DAYS"]
    counts = privacy.purge_ip_hashes(days)
    click.echo(
        f"Purged IP hashes older than {days} days from {counts['comments']} comment(s) "
        f"and {counts['reports']} report(s)."
    )
    if counts["votes"]:
        click.echo(f"Also from {counts['votes']} vote(s).")
