"""The RQ job that sends notification mail from the outbox over SMTP, with retries.

Rows are claimed one by one (a second job never sends the same row), built by the pure
service.core.mail_messages and sent with smtplib. A failed send is retried with an exponential
backoff kept in the row (the sweeper queues the job again when it is due: our workers run no
RQ scheduler, which RQ's own Retry intervals would need), then marked failed.
"""

from __future__ import annotations

import logging
import smtplib
import ssl

from flask import current_app

from service.core import mail, secrets_box
from service.core.mail_messages import Mail, Quote, build
from service.extensions import db
from service.models import Article, Comment, MailOutbox, MailRecipient, Site, User
from workers.scoring.policy import reasons_for_author

from .jobs import _app

log = logging.getLogger(__name__)


def deliver(limit: int = 200) -> str:
    """Send every due outbox row (up to `limit`); return a summary."""
    app = _app()
    with app.app_context():
        mail.job_started()
        if not mail.enabled():
            return "mail is off"
        counts: dict[str, int] = {}
        for outbox_id in mail.due_ids(limit):
            if not mail.claim(outbox_id):
                continue
            outcome = _deliver_one(db.session.get(MailOutbox, outbox_id))
            counts[outcome] = counts.get(outcome, 0) + 1
        db.session.remove()
        return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing due"


def _deliver_one(row: MailOutbox) -> str:
    """Send one claimed row, or record why not; return what happened to it."""
    site = db.session.get(Site, row.site_id)
    to, recipient = _address(row)
    if to is None:
        mail.finish(row, "dropped", "no address (erased or unsubscribed)")
        return "dropped"
    if recipient is not None and row.kind != "confirm":
        if recipient.confirmed_at is None:
            mail.finish(row, "unconfirmed")  # sent once the address is confirmed
            return "unconfirmed"
        if row.kind in ("reply", "decision") and not mail.still_true(row):
            mail.finish(row, "dropped", "the decision was undone")
            return "dropped"
        if row.kind == "reply" and (
            recipient.digest != "off"
            or mail.recently_sent(recipient.id) >= current_app.config["MAIL_RATE_PER_HOUR"]
        ):
            mail.finish(row, "digest")  # gathered into the recipient's next digest
            return "digest"
    message = build(_compose(row, site, to, recipient))
    try:
        _send(message)
    except smtplib.SMTPRecipientsRefused as error:
        # The server refused the address itself (e.g. 550 no such mailbox): retrying won't help
        # unless it said "try later" (4xx).
        codes = [code for code, _ in error.recipients.values()]
        permanent = all(code >= 500 for code in codes)
        mail.failed_attempt(row, f"recipient refused: {codes}", permanent=permanent)
        return "failed" if permanent else "retrying"
    except (OSError, smtplib.SMTPException) as error:
        mail.failed_attempt(row, f"{type(error).__name__}: {error}")
        return "retrying"
    mail.finish(row, "sent")
    return "sent"


def _address(row: MailOutbox) -> tuple[str | None, MailRecipient | None]:
    """The address a row goes to (decrypted) and its reader recipient, if any."""
    if row.user_id is not None:
        user = db.session.get(User, row.user_id)
        return (mail.moderator_address(user) if user and user.is_active else None), None
    recipient = db.session.get(MailRecipient, row.recipient_id) if row.recipient_id else None
    if recipient is None or recipient.unsubscribed_at is not None:
        return None, recipient
    return secrets_box.decrypt(recipient.email_encrypted), recipient


def _quote(comment: Comment | None) -> Quote | None:
    if comment is None:
        return None
    article = db.session.get(Article, comment.article_id)
    url = f"{article.url}#comment-{comment.id}" if article and article.url else None
    text = comment.body_text if len(comment.body_text) <= 500 else comment.body_text[:500] + "…"
    return Quote(author=comment.author_name, text=text, url=url)


def _compose(row: MailOutbox, site: Site, to: str, recipient: MailRecipient | None) -> Mail:
    """Gather what a row's mail says."""
    config = current_app.config
    fields = {
        "kind": row.kind,
        "site_name": site.name,
        "language": site.language,
        "to": to,
        "sender": config["MAIL_FROM"],
    }
    if recipient is not None:
        fields["unsubscribe_url"] = mail.public_url(
            f"/mail/unsubscribe/{mail.unsubscribe_token(recipient.id)}"
        )
        fields["unsubscribe_mailto"] = config["MAIL_UNSUBSCRIBE_MAILTO"] or None
    if row.kind == "confirm":
        token = mail.new_confirm_token(recipient)
        db.session.commit()  # the link must work the moment the mail arrives
        fields["action_url"] = mail.public_url(f"/mail/confirm/{token}")
    elif row.kind in ("reply", "decision"):
        comment = db.session.get(Comment, row.comment_id)
        fields["quotes"] = [_quote(comment)]
        if row.kind == "decision":
            fields["status"] = comment.status.value
            public = reasons_for_author(comment.reasons or [])
            fields["public_reason"] = "; ".join(public) or None
    elif row.kind == "digest":
        ids = row.payload.get("comments", [])
        comments = [db.session.get(Comment, comment_id) for comment_id in ids]
        fields["quotes"] = [_quote(c) for c in comments if c is not None and not c.shadow]
    elif row.kind == "queue_alert":
        fields["numbers"] = row.payload
        fields["action_url"] = mail.public_url("/console/queue")
    return Mail(**fields)


def _send(message) -> None:
    """Send one message over the configured SMTP server."""
    config = current_app.config
    host, port = config["MAIL_SMTP_HOST"], config["MAIL_SMTP_PORT"]
    timeout = config["MAIL_SMTP_TIMEOUT_SECONDS"]
    security = config["MAIL_SMTP_SECURITY"]
    if security == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if config["MAIL_SMTP_USER"]:
            client.login(config["MAIL_SMTP_USER"], config["MAIL_SMTP_PASSWORD"])
        client.send_message(message)


def digests() -> str:
    """Gather due digests and queue alerts into the outbox, then send what is due."""
    app = _app()
    with app.app_context():
        gathered = mail.gather_digests()
        alerts = mail.queue_alerts()
    return f"{gathered} digest(s), {alerts} queue alert(s); " + deliver()
