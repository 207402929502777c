"""`flask --app service moderation advise --site KEY [--days N] [--apply]`."""

from __future__ import annotations

import click

from service.cli.errors import service_errors
from service.core import advice
from service.core.operator_log import CLI_ACTOR
from service.schemas.advice import (
    DEFAULT_DAYS,
    DEFAULT_HOLD_TOLERANCE,
    DEFAULT_REJECT_TOLERANCE,
    THRESHOLDS,
)

KINDS = {"hold": "hold  ", "reject": "reject"}


# The command's options by the service's field names, to name them in error messages.
OPTION_NAMES = {name: f"--{name.replace('_', '-')}" for name in advice.OPTIONS}


def _echo_advice(result: dict) -> None:
    """Print the advice in the words the console uses."""
    sample = result["sample"]
    click.echo(
        f"Threshold advice for {result['site']}, from the comments moderators decided in the "
        f"last {result['days']} days (since {result['since']:%Y-%m-%d %H:%M} UTC):"
    )
    click.echo(
        f"{sample['approved'] + sample['rejected']} decisions: {sample['approved']} approved, "
        f"{sample['rejected']} rejected ({sample['rejected_as_spam']} as spam)."
    )
    for entry in result["scores"]:
        click.echo("")
        if not entry["enough"]:
            click.echo(f"{entry['score'].capitalize()}: {entry['message']}.")
            continue
        click.echo(f"{entry['score'].capitalize()}: {entry['message']}.")
        for item in entry["thresholds"]:
            kind = KINDS[item["kind"]]
            click.echo(f"  {kind}  now        {item['at_current']['text']}")
            if item["suggested"] is None:
                click.echo(f"  {'':6}  suggested  none: {item['note']}")
            else:
                same = "" if item["change"] else " (as now)"
                click.echo(f"  {'':6}  suggested  {item['at_suggested']['text']}{same}")
    click.echo("\nKeep in mind:")
    for caveat in result["caveats"]:
        click.echo(f"- {caveat}")


@click.command("advise")
@click.option("--site", "site_key", required=True, metavar="KEY", help="The site's key.")
@click.option(
    "--days",
    type=int,
    default=DEFAULT_DAYS,
    show_default=True,
    help="Read the decisions moderators made in the last N days.",
)
@click.option(
    "--hold-tolerance",
    type=float,
    default=DEFAULT_HOLD_TOLERANCE,
    show_default=True,
    metavar="PERCENT",
    help="A suggested hold threshold lets through at most this share of what moderators rejected.",
)
@click.option(
    "--reject-tolerance",
    type=float,
    default=DEFAULT_REJECT_TOLERANCE,
    show_default=True,
    metavar="PERCENT",
    help="A suggested reject threshold rejects at most this share of what moderators approved.",
)
@click.option("--apply", "apply_it", is_flag=True, help="Apply the suggested thresholds now.")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(THRESHOLDS),
    help="With --apply: only this threshold (repeatable).",
)
def advise(
    site_key: str,
    days: int,
    hold_tolerance: float,
    reject_tolerance: float,
    apply_it: bool,
    only: tuple[str, ...],
) -> None:
    """Suggest a site's thresholds from its moderators' decisions; --apply sets them (logged)."""
    if only and not apply_it:
        raise click.UsageError("--only goes with --apply.")
    options = {
        "days": days,
        "hold_tolerance": hold_tolerance,
        "reject_tolerance": reject_tolerance,
    }
    with service_errors(OPTION_NAMES, fields="lines"):
        if not apply_it:
            result = advice.threshold_advice(site_key, options)
            _echo_advice(result)
            if result["changes"]:
                click.echo(
                    f"\nTo apply it: flask --app service moderation advise --site {site_key} "
                    "--apply (with the same options)"
                )
            return
        data = {**options, "thresholds": list(only) or None}
        result = advice.apply_advice(site_key, data, actor=CLI_ACTOR)
    _echo_advice(result["advice"])
    click.echo("")
    if not result["applied"]:
        if any(entry["enough"] for entry in result["advice"]["scores"]):
            click.echo("Nothing to apply: the thresholds already match the advice.")
        else:
            click.echo("Nothing to apply: there are not enough decisions for a suggestion yet.")
        return
    changed = ", ".join(
        f"{name} {advice.number(change['from'])} → {advice.number(change['to'])}"
        for name, change in result["applied"].items()
    )
    click.echo(f"Applied: {changed} (in the operators' log as {advice.ACTION}).")
