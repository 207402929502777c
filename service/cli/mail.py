"""`flask --app service mail digest|outbox`: gather digests and queue alerts, see the outbox."""

import click
from sqlalchemy import func, select

from service.core import mail
from service.extensions import db
from service.models import MailOutbox


@click.group("mail")
def mail_cli() -> None:
    """E-mail notifications (docs/integrations.md)."""


@mail_cli.command("digest")
def digest() -> None:
    """Gather due digests and queue alerts into the outbox and queue the sending job (the
    sweeper does this every minute; use it from cron when no sweeper runs)."""
    if not mail.enabled():
        raise click.ClickException("Mail is off: set TALKBACK_SMTP_HOST and TALKBACK_MAIL_FROM.")
    digests, alerts = mail.gather_digests(), mail.queue_alerts()
    queued = mail.enqueue_delivery()
    click.echo(
        f"Gathered {digests} digest(s) and {alerts} queue alert(s); "
        + ("the sending job is queued." if queued else "Redis is down: the sweeper will send.")
    )


@mail_cli.command("outbox")
def outbox() -> None:
    """Count the outbox's mails by status, and show the latest failures."""
    counts = db.session.execute(
        select(MailOutbox.status, func.count(MailOutbox.id)).group_by(MailOutbox.status)
    ).all()
    for status, count in sorted(counts):
        click.echo(f"{status:12} {count}")
    failed = db.session.scalars(
        select(MailOutbox)
        .where(MailOutbox.status == "failed")
        .order_by(MailOutbox.id.desc())
        .limit(10)
    )
    for row in failed:
        click.echo(f"failed #{row.id} {row.kind} after {row.attempts} attempts: {row.last_error}")
