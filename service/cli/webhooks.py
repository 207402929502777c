"""`flask --app service webhooks add|list|update|rotate|remove|deliveries|resend`."""

import click
from flask.cli import AppGroup

from service.cli.errors import service_errors
from service.core import webhooks
from service.core.operator_log import CLI_ACTOR

webhooks_cli = AppGroup("webhooks", help="Manage the signed webhooks a site sends.")

OPTIONS = {"url": "URL", "events": "--event"}
EVENT_CHOICE = click.Choice(webhooks.EVENTS)


@webhooks_cli.command("add")
@click.argument("site")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=EVENT_CHOICE,
    help="An event to send (repeat it; every event when left out).",
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Allow a loopback or private address (a receiver inside your own network).",
)
def add(site: str, url: str, events: tuple[str, ...], allow_private: bool) -> None:
    """Register URL to get SITE's events; the signing secret is printed this once."""
    with service_errors(OPTIONS, fields="lines"):
        endpoint, secret = webhooks.create_endpoint(
            site,
            url,
            list(events or webhooks.EVENTS),
            actor=CLI_ACTOR,
            allow_private=allow_private,
        )
    click.echo(f"Added webhook {endpoint.id} of site '{site}': {endpoint.url}")
    click.echo(f"Events: {', '.join(endpoint.events)}")
    click.echo("Signing secret (shown this once; give it to the receiver):")
    click.echo(secret)


@webhooks_cli.command("list")
@click.argument("site")
def list_(site: str) -> None:
    """List SITE's webhooks (never a secret)."""
    with service_errors():
        found = webhooks.list_endpoints(site)
    if not found:
        click.echo(f"Site '{site}' has no webhooks.")
    for endpoint in found:
        state = "active" if endpoint.active else "paused"
        extra = "  private addresses allowed" if endpoint.allow_private else ""
        click.echo(
            f"{endpoint.id}  {endpoint.url}  {state}  {','.join(endpoint.events)}"
            f"  added {endpoint.created_at:%Y-%m-%d %H:%M} UTC by {endpoint.created_by}{extra}"
        )


@webhooks_cli.command("update")
@click.argument("site")
@click.argument("webhook_id", type=int)
@click.option("--url", help="A new URL.")
@click.option("--event", "events", multiple=True, type=EVENT_CHOICE, help="Replace the events.")
@click.option("--active/--paused", default=None, help="Send, or hold deliveries back.")
@click.option("--allow-private/--public-only", default=None, help="The private-address consent.")
def update(
    site: str,
    webhook_id: int,
    url: str | None,
    events: tuple[str, ...],
    active: bool | None,
    allow_private: bool | None,
) -> None:
    """Change webhook WEBHOOK_ID of SITE."""
    with service_errors({"url": "--url", "events": "--event"}, fields="lines"):
        endpoint = webhooks.update_endpoint(
            site,
            webhook_id,
            actor=CLI_ACTOR,
            url=url,
            events=list(events) if events else None,
            active=active,
            allow_private=allow_private,
        )
    click.echo(f"Webhook {endpoint.id}: {endpoint.url} ({', '.join(endpoint.events)}).")


@webhooks_cli.command("rotate")
@click.argument("site")
@click.argument("webhook_id", type=int)
@click.option(
    "--overlap-hours",
    type=click.FloatRange(0, 24 * 30),
    default=None,
    help="How long the old secret keeps signing too (default WEBHOOK_ROTATION_HOURS, 24).",
)
def rotate(site: str, webhook_id: int, overlap_hours: float | None) -> None:
    """Give webhook WEBHOOK_ID a new signing secret (printed this once)."""
    with service_errors():
        endpoint, secret = webhooks.rotate_secret(
            site, webhook_id, actor=CLI_ACTOR, overlap_hours=overlap_hours
        )
    until = endpoint.previous_secret_expires_at
    click.echo(
        f"New secret of webhook {endpoint.id} "
        f"(the old one also signs until {until:%Y-%m-%d %H:%M} UTC):"
    )
    click.echo(secret)


@webhooks_cli.command("remove")
@click.argument("site")
@click.argument("webhook_id", type=int)
def remove(site: str, webhook_id: int) -> None:
    """Remove webhook WEBHOOK_ID of SITE and its delivery log."""
    with service_errors():
        webhooks.delete_endpoint(site, webhook_id, actor=CLI_ACTOR)
    click.echo(f"Removed webhook {webhook_id} of site '{site}'.")


@webhooks_cli.command("deliveries")
@click.argument("site")
@click.option("--webhook", "webhook_id", type=int, help="Only this webhook's.")
@click.option("--status", type=click.Choice(["pending", "succeeded", "failed"]))
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
def deliveries(site: str, webhook_id: int | None, status: str | None, limit: int) -> None:
    """Show SITE's latest webhook deliveries, newest first, with each one's last answer."""
    with service_errors():
        found = webhooks.list_deliveries(site, endpoint_id=webhook_id, status=status, limit=limit)
    if not found:
        click.echo("No deliveries.")
    for delivery in found:
        answer = delivery.last_status_code or delivery.last_error or "-"
        click.echo(
            f"{delivery.id}  webhook {delivery.endpoint_id}  {delivery.event}  {delivery.event_id}"
            f"  {delivery.status.value}  attempts {delivery.attempts}  last: {answer}"
        )


@webhooks_cli.command("resend")
@click.argument("site")
@click.argument("delivery_id", type=int)
def resend(site: str, delivery_id: int) -> None:
    """Send delivery DELIVERY_ID's event again (same event id and body, as a new delivery)."""
    with service_errors():
        copy = webhooks.resend(site, delivery_id, actor=CLI_ACTOR)
    click.echo(f"Queued delivery {copy.id} (a resend of {delivery_id}).")
