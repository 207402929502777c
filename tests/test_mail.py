"""E-mail notifications after moderation, against a real SMTP server (aiosmtpd) in this process
and real RQ workers: replies only once approved, double opt-in, one-click unsubscribe (RFC
8058), Hebrew right to left, retries when SMTP fails, encrypted addresses and their erasure."""

from __future__ import annotations

import email
import re
import socket
import threading
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from service.core import mail, privacy, sso
from service.core.hashing import hash_email
from service.core.mail_messages import Mail, Quote, build
from service.extensions import db
from service.models import (
    Article,
    Ban,
    BanKind,
    BanTarget,
    Comment,
    MailOutbox,
    MailRecipient,
    MailSubscription,
    Site,
    utcnow,
)
from workers.sweeper import sweep_mail

from .helpers import comments_url, decide, reasons_of, status_of

ANN = "Ann.Reader@example.com"
BEN = "ben@example.org"


class Collector:
    """An aiosmtpd handler that keeps every message, or refuses them with a 451 while told."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.connections = 0
        self.refuse = False
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app, site):
    """A real SMTP server on a free port, and the app configured to send through it."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_SMTP_HOST="127.0.0.1",
        MAIL_SMTP_PORT=port,
        MAIL_SMTP_SECURITY="none",
        MAIL_FROM="comments@demo.test",
        PUBLIC_URL="https://talkback.test",
        MAIL_RETRY_BASE_SECONDS=0,
        # Moderators' decisions are mailed once the undo window is over: none in these tests.
        UNDO_SECONDS=0,
    )
    collector.controller = controller
    collector.port = port
    yield collector
    collector.controller.stop()


TEXTS = [
    "Thanks for the careful reporting on the harbour works.",
    "My grandmother remembers when the old bridge opened in the fifties.",
    "Could the council publish the full budget for the new tram line?",
    "The photos of the autumn market made my morning, lovely work.",
    "I disagree about the parking plan; cyclists were never consulted.",
    "Which school districts will the new timetable affect first?",
    "Great interview with the librarian, more of those please.",
    "The festival traffic was handled much better than last year.",
    "Is there a recording of the town hall meeting anywhere online?",
    "Our street finally got its lamps fixed after three winters.",
]
_texts = iter(range(10_000))


def post(client, **fields) -> dict:
    """Submit a distinct polite comment (no duplicate signals); return the 202 body."""
    n = next(_texts)
    payload = {"author_name": "Ann", "body": TEXTS[n % len(TEXTS)], **fields}
    response = client.post(comments_url(), json=payload)
    assert response.status_code == 202, response.json
    return response.json


def link(message, path: str) -> str:
    """The first https://talkback.test<path>... link in a message's text part."""
    body = message.get_body(("plain",)).get_content()
    found = re.search(r"https://talkback\.test(" + re.escape(path) + r"[^\s]+)", body)
    assert found, body
    return found.group(1)


def confirmed_parent(client, run_worker, smtp, address: str = ANN, **fields) -> dict:
    """An approved comment whose author opted in to replies and confirmed their address."""
    parent = post(client, author_email=address, notify_replies=True, **fields)
    run_worker()
    assert status_of(parent["id"]) == "approved"
    (confirmation,) = smtp.to(address)
    path = link(confirmation, "/mail/confirm/")
    assert client.post(path).status_code == 200
    db.session.remove()
    return parent


def test_an_approved_reply_mails_the_confirmed_parent_author_exactly_once(client, run_worker, smtp):
    parent = confirmed_parent(client, run_worker, smtp)
    reply = post(client, author_name="Ben", author_email=BEN, parent_id=parent["id"])
    run_worker()
    assert status_of(reply["id"]) == "approved", reasons_of(reply["id"])
    mails = smtp.to(ANN)
    assert len(mails) == 2  # the confirmation, then the reply
    message = mails[1]
    assert message["Subject"] == "Ben replied to your comment on Demo Daily"
    assert (
        db.session.get(Comment, reply["id"]).body_text in message.get_body(("plain",)).get_content()
    )
    assert message.get_body(("html",)) is not None
    # RFC 8058: a one-click POST target, and the header that says so.
    assert message["List-Unsubscribe"].startswith("<https://talkback.test/mail/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Nobody else was mailed: the replier asked for nothing.
    assert smtp.to(BEN) == []
    # Running the job again (or another delivery of it) sends nothing more.
    mail.enqueue_delivery()
    run_worker()
    assert len(smtp.to(ANN)) == 2


def test_approved_undone_and_approved_again_mails_once(client, run_worker, smtp):
    parent = confirmed_parent(client, run_worker, smtp)
    article = db.session.scalar(select(Article))
    article.premoderated = True
    db.session.commit()
    reply = post(client, author_name="Ben", parent_id=parent["id"])
    run_worker()
    assert status_of(reply["id"]) == "held"
    decide([reply["id"]], "approve")
    run_worker()
    db.session.execute(
        text("UPDATE comments SET status = 'held' WHERE id = :id"), {"id": reply["id"]}
    )
    db.session.commit()
    decide([reply["id"]], "approve")
    run_worker()
    assert len(smtp.to(ANN)) == 2  # the confirmation and one reply mail


def test_a_held_then_rejected_reply_mails_nobody(client, run_worker, smtp):
    parent = confirmed_parent(client, run_worker, smtp)
    article = db.session.scalar(select(Article))
    article.premoderated = True
    db.session.commit()
    reply = post(client, author_name="Ben", parent_id=parent["id"])
    run_worker()
    assert status_of(reply["id"]) == "held"
    assert len(smtp.to(ANN)) == 1
    decide([reply["id"]], "reject")
    run_worker()
    assert status_of(reply["id"]) == "rejected"
    assert len(smtp.to(ANN)) == 1  # still only the confirmation
    assert db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "reply")) is None


def test_a_shadow_reply_mails_nobody(client, run_worker, smtp):
    parent = confirmed_parent(client, run_worker, smtp)
    db.session.add(
        Ban(
            site_id=db.session.scalar(select(Site.id)),
            target_type=BanTarget.COMMENTER_KEY,
            target_value="shadow-key-0001",
            target_label="test",
            kind=BanKind.SHADOW,
            reason="test",
            created_by="test",
        )
    )
    db.session.commit()
    reply = post(client, author_name="Ben", parent_id=parent["id"], commenter_key="shadow-key-0001")
    run_worker()
    assert status_of(reply["id"]) == "approved"
    assert db.session.get(Comment, reply["id"]).shadow is True
    assert len(smtp.to(ANN)) == 1


def test_replying_to_oneself_mails_nobody(client, run_worker, smtp):
    parent = confirmed_parent(client, run_worker, smtp)
    # The same mailbox, spelled differently.
    post(client, author_email="ann.reader@EXAMPLE.com", parent_id=parent["id"])
    run_worker()
    assert len(smtp.to(ANN)) == 1


def test_an_unconfirmed_address_gets_only_the_confirmation_until_it_confirms(
    client, run_worker, smtp
):
    parent = post(client, author_email=ANN, notify_replies=True, notify_decision=True)
    run_worker()
    reply = post(client, author_name="Ben", parent_id=parent["id"])
    run_worker()
    (confirmation,) = smtp.to(ANN)
    assert confirmation["Subject"] == "Confirm your e-mail for comments on Demo Daily"
    # A link scanner's GET shows a button and confirms nothing.
    path = link(confirmation, "/mail/confirm/")
    page = client.get(path)
    assert page.status_code == 200 and b'<form method="post">' in page.data
    run_worker()
    assert len(smtp.to(ANN)) == 1
    assert {row.status for row in db.session.scalars(select(MailOutbox))} >= {"unconfirmed"}
    # Confirming sends what waited: the decision on her comment, and the reply.
    assert client.post(path).status_code == 200
    run_worker()
    subjects = sorted(m["Subject"] for m in smtp.to(ANN)[1:])
    assert subjects == [
        "Ben replied to your comment on Demo Daily",
        "Your comment on Demo Daily is published",
    ]
    assert status_of(reply["id"]) == "approved"
    # The link is spent.
    assert client.post(path).status_code == 404
    assert client.get("/mail/confirm/not-a-token").status_code == 404


def test_the_decision_mail_says_not_published_with_the_public_reason(client, run_worker, smtp):
    confirmed_parent(client, run_worker, smtp)  # confirms ANN on the site
    article = db.session.scalar(select(Article))
    article.premoderated = True
    db.session.commit()
    own = post(client, author_email=ANN, notify_decision=True)
    run_worker()
    decide([own["id"]], "reject")
    run_worker()
    message = smtp.to(ANN)[-1]
    assert message["Subject"] == "Your comment on Demo Daily was not published"
    body = message.get_body(("plain",)).get_content()
    assert "Reason:" in body


@pytest.mark.parametrize("how", ["page", "one-click"])
def test_unsubscribe_stops_later_mail(client, run_worker, smtp, how):
    parent = confirmed_parent(client, run_worker, smtp)
    post(client, author_name="Ben", parent_id=parent["id"])
    run_worker()
    message = smtp.to(ANN)[-1]
    header_url = message["List-Unsubscribe"].strip("<>")
    assert header_url.startswith("https://talkback.test/mail/unsubscribe/")
    visible = link(message, "/mail/unsubscribe/")
    assert header_url.endswith(visible)
    if how == "page":
        page = client.get(visible)
        assert page.status_code == 200 and b"Stop all mail" in page.data
        assert db.session.scalar(select(MailRecipient)).unsubscribed_at is None
        assert client.post(visible).status_code == 200
    else:
        # RFC 8058: the mail client POSTs the form body, with no page and no cookie.
        response = client.post(
            visible,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
    db.session.remove()
    assert db.session.scalar(select(MailRecipient)).unsubscribed_at is not None
    post(client, author_name="Cy", parent_id=parent["id"])
    run_worker()
    assert len(smtp.to(ANN)) == 2
    assert client.post("/mail/unsubscribe/forged").status_code == 404


def test_hebrew_site_mail_is_right_to_left(client, run_worker, smtp, site):
    site.language = "he"
    site.name = "הדיילי דמו"
    db.session.commit()
    post(client, author_email=ANN, notify_replies=True)
    run_worker()
    (message,) = smtp.to(ANN)
    assert "אישור" in message["Subject"]
    html_part = message.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html_part and 'lang="he"' in html_part
    assert "אישור הכתובת" in html_part
    assert message["Content-Language"] == "he"
    # The link's page speaks Hebrew too, right to left.
    page = client.get(link(message, "/mail/confirm/"))
    assert page.status_code == 200 and 'dir="rtl"' in page.text and "אישור" in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_a_failing_smtp_server_is_retried_and_the_mail_delivered(client, run_worker, smtp):
    parent = confirmed_parent(client, run_worker, smtp)
    smtp.refuse = True  # 451 for every message
    post(client, author_name="Ben", parent_id=parent["id"])
    run_worker()
    row = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "reply"))
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    # Then the server is down altogether: another attempt fails, still kept.
    smtp.controller.stop()
    sweep_mail(None)
    run_worker()
    db.session.remove()
    row = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "reply"))
    assert row.status == "pending" and row.attempts == 2
    # It recovers: the sweeper queues the job again and the mail goes out, once.
    smtp.refuse = False
    smtp.controller = Controller(smtp, hostname="127.0.0.1", port=smtp.port)
    smtp.controller.start()
    sweep_mail(None)
    run_worker()
    assert len(smtp.to(ANN)) == 2
    db.session.remove()
    assert db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "reply")).status == "sent"


def test_after_the_last_attempt_the_mail_is_recorded_failed(client, run_worker, smtp, app):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    smtp.refuse = True
    post(client, author_email=ANN, notify_replies=True)
    run_worker()
    sweep_mail(None)
    run_worker()
    row = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "confirm"))
    assert row.status == "failed" and row.attempts == 2
    assert smtp.to(ANN) == []


def test_mail_is_never_sent_inside_the_request(client, run_worker, smtp):
    post(client, author_email=ANN, notify_replies=True)
    # The 202 came back, and no SMTP connection was made: the job has not run yet.
    assert smtp.connections == 0 and smtp.messages == []
    run_worker()
    assert smtp.connections == 1 and len(smtp.to(ANN)) == 1


def test_the_address_is_stored_encrypted_and_erased_with_the_commenter(
    client, run_worker, smtp, site
):
    confirmed_parent(client, run_worker, smtp, commenter_key="ann-key-0001")
    recipient = db.session.scalar(select(MailRecipient))
    assert recipient.email_hash == hash_email(ANN)
    # Nowhere in the database in clear.
    for table in ("mail_recipients", "mail_outbox", "mail_subscriptions", "comments"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            assert all("Ann.Reader" not in str(v) and "ann.reader" not in str(v) for v in row)
    exported = privacy.export("ann-key-0001")
    assert exported["mail_subscriptions"][0]["email"] == ANN
    done = privacy.erase("ann-key-0001")
    assert done["mail_addresses"] == 1
    db.session.remove()
    recipient = db.session.scalar(select(MailRecipient))
    assert recipient.email_encrypted is None and recipient.email_hash == hash_email(ANN)
    assert db.session.scalar(select(MailSubscription)) is None


def test_a_signed_in_reader_is_notified_at_their_tokens_address(client, run_worker, smtp, site):
    secret = "s3cret-" + "x" * 40
    sso.add_key("demo", "HS256", actor="test", kid="k1", secret=secret)
    token = sso.make_token(
        secret, {"sub": "u-42", "name": "Noa Levi", "email": "noa@example.com"}, kid="k1"
    )
    session = client.post("/api/v1/sites/demo/session", json={"token": token}).json["session"]
    # The session carries the address encrypted, not in clear.
    assert "noa@example.com" not in session
    response = client.post(
        comments_url(),
        json={"body": "A thoughtful piece on the harbour, thanks.", "notify_replies": True},
        headers={"Authorization": f"Bearer {session}"},
    )
    assert response.status_code == 202, response.json
    run_worker()
    assert len(smtp.to("noa@example.com")) == 1


def test_opting_in_without_an_address_names_the_field(client, smtp):
    response = client.post(
        comments_url(), json={"author_name": "Ann", "body": "Hello there", "notify_replies": True}
    )
    assert response.status_code == 422
    assert "notify_replies" in response.json["error"]["fields"]


def test_mail_off_without_smtp_stores_nothing(client, run_worker, site):
    post(client, author_email=ANN, notify_replies=True)
    run_worker()
    assert db.session.scalar(select(MailRecipient)) is None


def test_over_the_rate_limit_replies_wait_for_a_digest(client, run_worker, smtp, app):
    app.config["MAIL_RATE_PER_HOUR"] = 2
    parent = confirmed_parent(client, run_worker, smtp)
    for name in ("Ben", "Cy", "Dov"):
        post(client, author_name=name, parent_id=parent["id"])
    run_worker()
    # The confirmation and Ben's reply used up the hour; Cy and Dov wait for the digest.
    assert len(smtp.to(ANN)) == 2
    assert mail.gather_digests() == 1
    mail.enqueue_delivery()
    run_worker()
    digest = smtp.to(ANN)[-1]
    assert digest["Subject"] == "New replies to your comments on Demo Daily (2)"
    body = digest.get_body(("plain",)).get_content()
    assert "Cy:" in body and "Dov:" in body


def test_a_daily_digest_gathers_replies_into_one_mail(client, run_worker, smtp):
    parent = confirmed_parent(client, run_worker, smtp, notify_digest="daily")
    for name in ("Ben", "Cy"):
        post(client, author_name=name, parent_id=parent["id"])
    run_worker()
    assert len(smtp.to(ANN)) == 1
    assert mail.gather_digests() == 1
    # Within the day nothing more is gathered, however many replies come.
    post(client, author_name="Dov", parent_id=parent["id"])
    run_worker()
    assert mail.gather_digests() == 0
    assert mail.gather_digests(now=utcnow() + timedelta(days=1, minutes=1)) == 1
    mail.enqueue_delivery()
    run_worker()
    subjects = [m["Subject"] for m in smtp.to(ANN)[1:]]
    assert subjects == [
        "New replies to your comments on Demo Daily (2)",
        "New replies to your comments on Demo Daily (1)",
    ]


def test_moderators_queue_alert_when_the_oldest_held_comment_is_too_old(
    client, run_worker, smtp, site, make_user
):
    from tests.helpers import make_comment

    site.queue_alert_minutes = 30
    db.session.commit()
    mia = make_user("mia", sites=[site])
    make_user("ola")  # not opted in
    mail.save_moderator_setting(mia, "mia@newsroom.example.com", queue_alerts=True)
    make_comment(site, "held", age=10 * 60)
    assert mail.queue_alerts() == 0  # ten minutes: under the threshold
    make_comment(site, "held", age=45 * 60)
    assert mail.queue_alerts() == 1
    assert mail.queue_alerts() == 0  # at most hourly
    mail.enqueue_delivery()
    run_worker()
    (alert,) = smtp.to("mia@newsroom.example.com")
    assert alert["Subject"] == "Demo Daily: 2 comments waiting for moderation"
    assert "45 minutes" in alert.get_body(("plain",)).get_content()


def test_the_message_builder_escapes_what_readers_wrote():
    message = build(
        Mail(
            kind="reply",
            site_name="Demo <Daily>",
            to="a@example.com",
            sender="c@demo.test",
            quotes=[Quote(author="<b>Eve</b>", text='<script>alert("x")</script>')],
            unsubscribe_url="https://talkback.test/mail/unsubscribe/t",
            unsubscribe_mailto="unsubscribe@demo.test",
        )
    )
    page = message.get_body(("html",)).get_content()
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>Eve" not in page
    assert message["List-Unsubscribe"] == (
        "<https://talkback.test/mail/unsubscribe/t>, "
        "<mailto:unsubscribe@demo.test?subject=unsubscribe>"
    )


def test_sites_table_has_the_queue_alert_setting(site):
    assert db.session.get(Site, site.id).queue_alert_minutes is None


def test_the_digest_command_gathers_and_sends(client, run_worker, smtp, cli):
    parent = confirmed_parent(client, run_worker, smtp, notify_digest="hourly")
    post(client, author_name="Ben", parent_id=parent["id"])
    run_worker()
    result = cli("mail", "digest")
    assert result.exit_code == 0 and "Gathered 1 digest(s)" in result.output
    run_worker()
    assert smtp.to(ANN)[-1]["Subject"] == "New replies to your comments on Demo Daily (1)"
    assert "sent" in cli("mail", "outbox").output


def test_a_moderator_opts_in_to_queue_alerts_on_the_account_page(
    client, smtp, site, make_user, login
):
    from tests.helpers import csrf_token_of

    mia = make_user("mia", sites=[site])
    login(client, "mia")
    page = client.get("/console/account")
    response = client.post(
        "/console/account/alerts",
        data={
            "csrf_token": csrf_token_of(page),
            "email": "mia@newsroom.example.com",
            "queue_alerts": "on",
        },
    )
    assert response.status_code == 200 and b"Queue alerts saved." in response.data
    assert mail.moderator_address(mia) == "mia@newsroom.example.com"
    assert b"checked" in client.get("/console/account").data


def test_a_refused_mailbox_fails_at_once_and_is_not_retried(client, run_worker, smtp):
    class Refusing(Collector):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such mailbox"

    smtp.controller.stop()
    refusing = Refusing()
    smtp.controller = Controller(refusing, hostname="127.0.0.1", port=smtp.port)
    smtp.controller.start()
    post(client, author_email="nobody@example.com", notify_replies=True)
    run_worker()
    row = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "confirm"))
    assert row.status == "failed" and row.attempts == 1 and "550" in row.last_error
