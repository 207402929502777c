"""`flask --app service bans add|list|lift`."""

from datetime import datetime

import click
from flask.cli import AppGroup

from service.cli.errors import service_errors
from service.core import bans
from service.core.operator_log import CLI_ACTOR
from service.models import Ban

bans_cli = AppGroup("bans", help="Ban or suspend commenters, list bans and lift them.")

# The target options, in the order --help shows them, and the ban target each one sets.
TARGET_OPTIONS = {
    "commenter_key": "--commenter-key",
    "email": "--email",
    "ip": "--ip",
    "network": "--network",
    "email_domain": "--email-domain",
    "sso_id": "--sso-id",
}


def _until(ctx, param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return bans.parse_until(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _scope(ban: Ban) -> str:
    return f"site {ban.site.key}" if ban.site else "all sites"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "permanent"


@bans_cli.command("add")
@click.option("--site", metavar="KEY", help="Ban on this site.")
@click.option("--all", "all_sites", is_flag=True, help="Ban on every site.")
@click.option("--commenter-key", metavar="KEY", help="The widget's commenter key.")
@click.option("--email", metavar="ADDRESS", help="An email address (Gmail dots, +tags folded).")
@click.option("--ip", metavar="ADDRESS", help="One IPv4 or IPv6 address.")
@click.option(
    "--network", metavar="CIDR", help="A /24 of IPv4 or a /48 of IPv6 (or one address in it)."
)
@click.option("--email-domain", metavar="DOMAIN", help="Every address at this domain.")
@click.option("--sso-id", metavar="SUB", help="A signed-in reader's publisher id (needs --site).")
@click.option(
    "--kind",
    type=click.Choice(["hard", "shadow", "hold"]),
    help="hard (default): refuse their comments; shadow: accept them, show them to nobody else; "
    "hold: accept them, and hold every one for a moderator (they are never told).",
)
@click.option("--shadow", is_flag=True, help="The same as --kind shadow.")
@click.option(
    "--until",
    metavar="ISO-DATE",
    callback=_until,
    help="End of a suspension: a date (banned through that day, UTC) or date and time. "
    "Default: permanent.",
)
@click.option(
    "--reject-existing",
    is_flag=True,
    help="Also reject their pending, held and approved comments in the ban's scope.",
)
@click.option("--public-reason", metavar="TEXT", help="Shown to a hard-banned commenter.")
@click.option("--reason", required=True, metavar="TEXT", help="Why (for moderators' eyes).")
def add_ban(
    site: str | None,
    all_sites: bool,
    kind: str | None,
    shadow: bool,
    until: datetime | None,
    reject_existing: bool,
    public_reason: str | None,
    reason: str,
    **targets: str | None,
) -> None:
    """Ban or suspend a commenter on one site or on all of them."""
    given = {target: value for target, value in targets.items() if value is not None}
    if len(given) != 1:
        raise click.UsageError(
            "Give exactly one target: " + ", ".join(TARGET_OPTIONS.values()) + "."
        )
    if bool(site) == all_sites:
        raise click.UsageError("Give exactly one of --site KEY or --all.")
    if shadow and kind not in (None, "shadow"):
        raise click.UsageError(f"--shadow and --kind {kind} contradict each other; give one.")
    ((target, value),) = given.items()
    with service_errors(fields="inline"):
        ban, created = bans.add_ban(
            actor=CLI_ACTOR,
            site_ids=None,
            site_key=site,
            target=target,
            value=value,
            kind="shadow" if shadow else kind or "hard",
            until=until,
            reason=reason,
            public_reason=public_reason,
            reject_existing=reject_existing,
        )
    until_text = f"until {_when(ban.expires_at)}" if ban.expires_at else "permanent"
    if not created:
        click.echo("An identical ban is already in force; nothing added.")
    click.echo(
        f"Ban #{ban.id}: {ban.kind.value} ban of {ban.target_type.value} {ban.target_label} "
        f"on {_scope(ban)}, {until_text}."
    )
    if reject_existing:
        click.echo(f"Rejected {ban.rejected_count} existing comment(s).")


@bans_cli.command("list")
@click.option(
    "--site", metavar="KEY", help="Only bans that apply on this site (and all-site ones)."
)
@click.option("--all-states", is_flag=True, help="Include lifted and expired bans.")
def list_bans(site: str | None, all_states: bool) -> None:
    """List bans in force (newest first) as a table."""
    with service_errors(fields="inline"):
        found = bans.list_bans(site_ids=None, site_key=site, active=None if all_states else True)
    if not found:
        click.echo("No bans." if all_states else "No bans in force.")
        return
    rows = [("ID", "SITE", "TARGET", "LABEL", "KIND", "UNTIL", "STATE")]
    for ban in found:
        rows.append(
            (
                str(ban.id),
                ban.site.key if ban.site else "(all)",
                ban.target_type.value,
                ban.target_label,
                ban.kind.value,
                _when(ban.expires_at),
                bans.ban_state(ban),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


@bans_cli.command("lift")
@click.argument("ban_id", type=click.IntRange(min=1))
def lift_ban(ban_id: int) -> None:
    """Lift a ban now."""
    with service_errors(fields="inline"):
        ban = bans.lift_ban(ban_id, actor=CLI_ACTOR, site_ids=None)
    click.echo(
        f"Lifted ban #{ban.id} ({ban.target_type.value} {ban.target_label} on {_scope(ban)})."
    )
