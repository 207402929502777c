"""E-mail notifications after moderation: opt-in and double opt-in, what a decision should
mail, the outbox the sending job works through, digests, queue alerts and unsubscribes.

Nothing here talks SMTP: rows go into mail_outbox inside the transaction that caused them, and
once it commits an RQ job (workers/mail.py) sends them. See docs/integrations.md.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from itsdangerous import BadSignature, URLSafeSerializer
from redis.exceptions import RedisError
from sqlalchemy import and_, delete, event, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core import secrets_box
from service.core.hashing import hash_email, hash_token, new_delete_token
from service.core.queues import moderation_queue, redis_connection
from service.errors import UnprocessableError
from service.extensions import db
from service.models import (
    Comment,
    CommentStatus,
    MailOutbox,
    MailRecipient,
    MailSubscription,
    ModeratorMailSetting,
    Site,
    User,
    UserRole,
    site_moderators,
    utcnow,
)

log = logging.getLogger(__name__)

DELIVER_JOB = "workers.mail.deliver"
DIGESTS = ("off", "hourly", "daily")
DIGEST_PERIOD = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
# A confirmation mail at most this often per address, however often it opts in.
CONFIRM_RESEND = timedelta(hours=24)
# Notifications for an address not confirmed after this long are dropped.
UNCONFIRMED_KEEP = timedelta(days=7)
# A row stuck "sending" this long belongs to a worker that died mid-send: try it again.
SENDING_STUCK = timedelta(minutes=10)
# A queue alert at most this often per moderator and site.
QUEUE_ALERT_EVERY = timedelta(hours=1)
# Set in a session's info when it wrote outbox rows: its commit enqueues the sending job.
_PENDING_FLAG = "talkback_mail_pending"


def enabled() -> bool:
    """Whether mail is configured (an SMTP host and a sender); off, nothing is stored."""
    config = current_app.config
    return bool(config["MAIL_SMTP_HOST"] and config["MAIL_FROM"])


# --- Tokens ------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="talkback mail unsubscribe")


def unsubscribe_token(recipient_id: int) -> str:
    """Return the signed token of a recipient's unsubscribe link (valid until SECRET_KEY
    changes: a link in an old mail must keep working)."""
    return _serializer().dumps({"r": recipient_id})


def recipient_of_unsubscribe(token: str) -> MailRecipient | None:
    """Return the recipient an unsubscribe token names, or None if it is not ours."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    recipient_id = data.get("r") if isinstance(data, dict) else None
    if not isinstance(recipient_id, int):
        return None
    return db.session.get(MailRecipient, recipient_id)


def public_url(path: str) -> str:
    """Return an absolute link into this service (PUBLIC_URL, else the configured server)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    if not base:
        server = current_app.config.get("SERVER_NAME") or "localhost"
        base = f"https://{server}"
    return base + path


# --- Opting in ---------------------------------------------------------------------------------


def subscribe(
    site: Site,
    comment_id: int,
    email: str | None,
    *,
    replies: bool,
    decision: bool,
    digest: str | None = None,
) -> None:
    """Record a comment author's opt-in, in the caller's transaction; a new (or re-subscribing)
    address is sent a confirmation link first. Ignored while mail is off."""
    if not (replies or decision) or not enabled():
        return
    if not email:
        field = "notify_replies" if replies else "notify_decision"
        raise UnprocessableError(
            "Give an e-mail address to be notified.",
            {field: ["Needs author_email (or a sign-in whose token has an email)."]},
        )
    email_hash = hash_email(email)
    recipient = db.session.scalar(
        select(MailRecipient).where(
            MailRecipient.site_id == site.id, MailRecipient.email_hash == email_hash
        )
    )
    now = utcnow()
    if recipient is None:
        recipient = MailRecipient(site_id=site.id, email_hash=email_hash, created_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(recipient)
        except IntegrityError:  # another request created it first
            recipient = db.session.scalar(
                select(MailRecipient).where(
                    MailRecipient.site_id == site.id, MailRecipient.email_hash == email_hash
                )
            )
    if recipient.unsubscribed_at is not None:
        # Opting in again after unsubscribing: confirmed afresh before anything is sent.
        recipient.unsubscribed_at = None
        recipient.confirmed_at = None
    # The latest spelling the reader typed is the one mail goes to.
    recipient.email_encrypted = secrets_box.encrypt(email.strip())
    if digest in DIGESTS:
        recipient.digest = digest
    db.session.add(
        MailSubscription(
            comment_id=comment_id, recipient_id=recipient.id, replies=replies, decision=decision
        )
    )
    if recipient.confirmed_at is None:
        # One confirmation per address a day: the day in the key makes a later one possible.
        _queue(
            site_id=site.id,
            recipient_id=recipient.id,
            kind="confirm",
            dedupe_key=f"confirm:{recipient.id}:{now:%Y%m%d}",
        )
    db.session.flush()


def new_confirm_token(recipient: MailRecipient) -> str:
    """Give a recipient a fresh confirmation token (only its hash is kept); return it."""
    token, token_hash = new_delete_token()
    recipient.confirm_token_hash = token_hash
    return token


def recipient_of_confirm(token: str) -> MailRecipient | None:
    """Return the unconfirmed recipient a confirmation token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(MailRecipient).where(MailRecipient.confirm_token_hash == hash_token(token))
    )


def confirm(token: str) -> MailRecipient | None:
    """Confirm the address of a confirmation link; its waiting notifications go out now."""
    recipient = recipient_of_confirm(token)
    if recipient is None:
        return None
    recipient.confirmed_at = utcnow()
    recipient.confirm_token_hash = None
    db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.recipient_id == recipient.id, MailOutbox.status == "unconfirmed")
        .values(status="pending", next_attempt_at=utcnow())
    )
    db.session.info[_PENDING_FLAG] = True
    db.session.commit()
    return recipient


def unsubscribe(recipient: MailRecipient) -> None:
    """Stop all mail to a recipient from its site; what waits for it is dropped."""
    now = utcnow()
    if recipient.unsubscribed_at is None:
        recipient.unsubscribed_at = now
    db.session.execute(
        update(MailOutbox)
        .where(
            MailOutbox.recipient_id == recipient.id,
            MailOutbox.status.in_(("pending", "unconfirmed", "digest")),
        )
        .values(status="dropped", last_error="unsubscribed")
    )
    db.session.commit()


# --- Decisions ---------------------------------------------------------------------------------


def note_decisions(comment_ids: list[int], *, actor: str) -> None:
    """Queue the mails the decisions just recorded on these comments call for (inside the
    decision's transaction; the send happens after its commit).

    An approved reply: to its parent's author if they opted in to replies (never for a shadow
    reply, never to the reply's own author). Any approval or rejection: to the comment's
    author if they opted in to decisions. A moderator's decision waits out the undo window,
    and the job checks the comment is still so decided before it sends.
    """
    if not comment_ids or not has_app_context() or not enabled():
        return
    now = utcnow()
    due = now
    if actor.startswith("moderator:"):
        due = now + timedelta(seconds=float(current_app.config["UNDO_SECONDS"]))
    rows = []
    decided = db.session.execute(
        select(Comment.id, Comment.site_id, Comment.status, MailSubscription.recipient_id)
        .join(MailSubscription, MailSubscription.comment_id == Comment.id)
        .where(
            Comment.id.in_(comment_ids),
            MailSubscription.decision.is_(True),
            Comment.status.in_((CommentStatus.APPROVED, CommentStatus.REJECTED)),
        )
    ).all()
    for comment_id, site_id, status, recipient_id in decided:
        rows.append(
            _row(site_id, recipient_id, "decision", f"decision:{comment_id}:{status.value}", due)
            | {"comment_id": comment_id}
        )
    parent = db.aliased(Comment)
    replies = db.session.execute(
        select(Comment.id, Comment.site_id, Comment.email_hash, Comment.sso_id, parent.sso_id)
        .add_columns(MailSubscription.recipient_id, MailRecipient.email_hash)
        .join(parent, parent.id == Comment.parent_id)
        .join(MailSubscription, MailSubscription.comment_id == parent.id)
        .join(MailRecipient, MailRecipient.id == MailSubscription.recipient_id)
        .where(
            Comment.id.in_(comment_ids),
            Comment.status == CommentStatus.APPROVED,
            Comment.shadow.is_(False),
            MailSubscription.replies.is_(True),
        )
    ).all()
    for reply_id, site_id, email_hash, sso_id, parent_sso, recipient_id, to_hash in replies:
        if (email_hash and email_hash == to_hash) or (sso_id and sso_id == parent_sso):
            continue  # replying to oneself
        rows.append(
            _row(site_id, recipient_id, "reply", f"reply:{reply_id}:{recipient_id}", due)
            | {"comment_id": reply_id}
        )
    if rows:
        _insert_ignoring_duplicates(rows)
        db.session.info[_PENDING_FLAG] = True


def _row(site_id: int, recipient_id: int | None, kind: str, key: str, due=None) -> dict:
    now = utcnow()
    return {
        "site_id": site_id,
        "recipient_id": recipient_id,
        "kind": kind,
        "dedupe_key": key,
        "payload": {},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": due or now,
        "created_at": now,
        "comment_id": None,
    }


def _queue(**values) -> bool:
    """Queue one mail in the caller's transaction, once per dedupe key; False if it was."""
    site_id, recipient_id = values.pop("site_id"), values.pop("recipient_id")
    kind, key = values.pop("kind"), values.pop("dedupe_key")
    inserted = _insert_ignoring_duplicates([_row(site_id, recipient_id, kind, key) | values])
    db.session.info[_PENDING_FLAG] = True
    return inserted > 0


def _insert_ignoring_duplicates(rows: list[dict]) -> int:
    """INSERT outbox rows; a dedupe key already there is skipped (the mail was queued).
    Returns how many were inserted."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    inserted = db.session.execute(
        insert(MailOutbox.__table__)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        # RETURNING, not rowcount: psycopg reports -1 for a multi-row INSERT ... ON CONFLICT.
        .returning(MailOutbox.__table__.c.id)
    ).all()
    return len(inserted)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Never inside the transaction: the job starts once the rows it reads are committed.
    if session.info.pop(_PENDING_FLAG, False) and has_app_context():
        enqueue_delivery()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_FLAG, None)


# Set while a sending job waits in the queue (the job clears it when it starts), so commits and
# sweeps in the meantime don't pile up more jobs; it expires in case that job is lost.
QUEUED_KEY = "talkback:mail:queued"
QUEUED_TTL_SECONDS = 300


def enqueue_delivery() -> bool:
    """Queue the sending job unless one is waiting; False (logged) when Redis is down (the
    sweeper queues it later)."""
    try:
        connection = redis_connection()
        if not connection.set(QUEUED_KEY, "1", nx=True, ex=QUEUED_TTL_SECONDS):
            return True  # the waiting job will see these rows too
        moderation_queue(connection).enqueue(
            DELIVER_JOB,
            job_timeout=current_app.config["JOB_TIMEOUT_SECONDS"] * 5,
            result_ttl=0,
            failure_ttl=24 * 3600,
        )
    except RedisError as error:
        log.warning("could not enqueue the mail job: %s", error)
        with contextlib.suppress(RedisError):
            redis_connection().delete(QUEUED_KEY)
        return False
    return True


def job_started() -> None:
    """Note that the waiting sending job has started: later commits queue a new one."""
    with contextlib.suppress(RedisError):
        redis_connection().delete(QUEUED_KEY)


# --- The outbox, as the sending job and the sweeper see it --------------------------------------


def due_ids(limit: int = 200) -> list[int]:
    """Return ids of outbox rows due to be sent now, oldest first."""
    return list(
        db.session.scalars(
            select(MailOutbox.id)
            .where(MailOutbox.status == "pending", MailOutbox.next_attempt_at <= utcnow())
            .order_by(MailOutbox.id)
            .limit(limit)
        )
    )


def claim(outbox_id: int) -> bool:
    """Mark a due row as being sent, once: of two jobs only one gets it. Commits."""
    result = db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == outbox_id, MailOutbox.status == "pending")
        .values(status="sending", next_attempt_at=utcnow())
    )
    db.session.commit()
    return result.rowcount == 1


def finish(row: MailOutbox, status: str, error: str | None = None) -> None:
    """Record how a row ended (sent, dropped, unconfirmed, digest) and commit."""
    row.status = status
    row.last_error = error
    if status == "sent":
        row.sent_at = utcnow()
    db.session.commit()


def failed_attempt(row: MailOutbox, error: str, *, permanent: bool = False) -> None:
    """Record a failed send: try again after an exponential backoff, or mark it failed after
    MAIL_MAX_ATTEMPTS or a permanent refusal (kept in the outbox for operators, never dropped
    silently)."""
    config = current_app.config
    row.attempts += 1
    row.last_error = error[:1000]
    if permanent or row.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        row.status = "failed"
        log.error("mail %s failed for good after %d attempts: %s", row.id, row.attempts, error)
    else:
        row.status = "pending"
        delay = config["MAIL_RETRY_BASE_SECONDS"] * 2 ** (row.attempts - 1)
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        log.warning(
            "mail %s attempt %d failed, retrying in %gs: %s", row.id, row.attempts, delay, error
        )
    db.session.commit()


def recently_sent(recipient_id: int) -> int:
    """How many mails went to a recipient in the last hour (the per-recipient rate limit)."""
    return db.session.scalar(
        select(func.count(MailOutbox.id)).where(
            MailOutbox.recipient_id == recipient_id,
            MailOutbox.status == "sent",
            MailOutbox.sent_at >= utcnow() - timedelta(hours=1),
        )
    )


def still_true(row: MailOutbox) -> bool:
    """Whether what a reply or decision mail says is still so (an undone decision isn't)."""
    comment = db.session.get(Comment, row.comment_id) if row.comment_id else None
    if comment is None:
        return False
    if row.kind == "reply":
        return comment.status == CommentStatus.APPROVED and not comment.shadow
    if row.kind == "decision":
        return row.dedupe_key.endswith(":" + comment.status.value)
    return True


def housekeeping() -> int:
    """Retry rows of a worker that died mid-send, drop notifications whose address was never
    confirmed; return how many rows are due now (the sweeper then queues the job)."""
    now = utcnow()
    db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.status == "sending", MailOutbox.next_attempt_at <= now - SENDING_STUCK)
        .values(status="pending")
    )
    db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.status == "unconfirmed", MailOutbox.created_at <= now - UNCONFIRMED_KEEP)
        .values(status="dropped", last_error="address never confirmed")
    )
    db.session.commit()
    return len(due_ids(limit=1))


# --- Digests and queue alerts -------------------------------------------------------------------


def gather_digests(now=None) -> int:
    """Gather each recipient's waiting replies into one digest mail once their period is up
    (hourly for readers over the rate limit who chose none); return how many were queued."""
    now = now or utcnow()
    waiting = db.session.execute(
        select(MailOutbox.recipient_id, MailRecipient.digest, MailRecipient.last_digest_at)
        .join(MailRecipient, MailRecipient.id == MailOutbox.recipient_id)
        .where(MailOutbox.status == "digest")
        .group_by(MailOutbox.recipient_id, MailRecipient.digest, MailRecipient.last_digest_at)
    ).all()
    queued = 0
    for recipient_id, digest, last in waiting:
        period = DIGEST_PERIOD.get(digest, DIGEST_PERIOD["hourly"])
        if last is not None and now - last < period:
            continue
        rows = db.session.execute(
            select(MailOutbox.id, MailOutbox.comment_id, MailOutbox.site_id)
            .where(MailOutbox.recipient_id == recipient_id, MailOutbox.status == "digest")
            .order_by(MailOutbox.id)
        ).all()
        _queue(
            site_id=rows[0].site_id,
            recipient_id=recipient_id,
            kind="digest",
            dedupe_key=f"digest:{recipient_id}:{now:%Y%m%d%H%M%S}",
            payload={"comments": [row.comment_id for row in rows if row.comment_id]},
        )
        db.session.execute(
            update(MailOutbox)
            .where(MailOutbox.id.in_([row.id for row in rows]))
            .values(status="digested")
        )
        db.session.execute(
            update(MailRecipient).where(MailRecipient.id == recipient_id).values(last_digest_at=now)
        )
        queued += 1
    db.session.commit()
    return queued


def moderator_setting(user: User) -> ModeratorMailSetting | None:
    """Return a moderator's mail settings, if they saved any."""
    return db.session.get(ModeratorMailSetting, user.id)


def moderator_address(user: User) -> str | None:
    """Return the address a moderator's queue alerts go to (decrypted), if any."""
    setting = moderator_setting(user)
    return secrets_box.decrypt(setting.email_encrypted) if setting else None


def save_moderator_setting(user: User, email: str | None, queue_alerts: bool) -> None:
    """Save a moderator's queue-alert opt-in and the address it goes to (encrypted)."""
    if queue_alerts and not email:
        raise UnprocessableError(
            "Give an e-mail address for queue alerts.", {"email": ["Needs an address."]}
        )
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            raise UnprocessableError(
                "That is not an e-mail address.", {"email": ["Not an e-mail address."]}
            ) from None
    setting = moderator_setting(user) or ModeratorMailSetting(user_id=user.id)
    setting.email_encrypted = secrets_box.encrypt(email.strip()) if email else None
    setting.queue_alerts = queue_alerts
    db.session.add(setting)
    db.session.commit()


def queue_alerts(now=None) -> int:
    """Queue a mail to every opted-in moderator of each site whose held queue's oldest comment
    waits longer than its queue_alert_minutes (at most hourly each); return how many."""
    if not enabled():
        return 0
    now = now or utcnow()
    queued = 0
    sites = db.session.scalars(select(Site).where(Site.queue_alert_minutes.is_not(None))).all()
    for site in sites:
        oldest, count = db.session.execute(
            select(func.min(Comment.created_at), func.count(Comment.id)).where(
                Comment.site_id == site.id, Comment.status == CommentStatus.HELD
            )
        ).one()
        if oldest is None or now - oldest < timedelta(minutes=site.queue_alert_minutes):
            continue
        users = db.session.scalars(
            select(User)
            .join(ModeratorMailSetting, ModeratorMailSetting.user_id == User.id)
            .outerjoin(
                site_moderators,
                and_(site_moderators.c.user_id == User.id, site_moderators.c.site_id == site.id),
            )
            .where(
                User.is_active.is_(True),
                ModeratorMailSetting.queue_alerts.is_(True),
                or_(User.role == UserRole.OPERATOR, site_moderators.c.site_id.is_not(None)),
            )
        ).all()
        bucket = int(now.timestamp() // QUEUE_ALERT_EVERY.total_seconds())
        for user in users:
            queued += _queue(
                site_id=site.id,
                recipient_id=None,
                user_id=user.id,
                kind="queue_alert",
                dedupe_key=f"queue:{user.id}:{site.id}:{bucket}",
                payload={
                    "held": count,
                    "oldest_minutes": int((now - oldest).total_seconds() // 60),
                },
            )
    db.session.commit()
    return queued


# --- Privacy -----------------------------------------------------------------------------------


def erase_commenter(comments_clause, email_hash: str | None) -> int:
    """Erase a commenter's addresses and subscriptions (the keyed hash stays, for bans and
    exports); runs before their comments lose what identifies them. Returns how many
    addresses were erased."""
    recipient_ids = set(
        db.session.scalars(
            select(MailSubscription.recipient_id)
            .join(Comment, Comment.id == MailSubscription.comment_id)
            .where(comments_clause)
        )
    )
    if email_hash is not None:
        recipient_ids |= set(
            db.session.scalars(
                select(MailRecipient.id).where(MailRecipient.email_hash == email_hash)
            )
        )
    if not recipient_ids:
        return 0
    ids = list(recipient_ids)
    db.session.execute(delete(MailSubscription).where(MailSubscription.recipient_id.in_(ids)))
    db.session.execute(
        update(MailOutbox)
        .where(
            MailOutbox.recipient_id.in_(ids),
            MailOutbox.status.in_(("pending", "unconfirmed", "digest")),
        )
        .values(status="dropped", last_error="erased")
    )
    db.session.execute(
        update(MailRecipient)
        .where(MailRecipient.id.in_(ids))
        .values(
            email_encrypted=None,
            confirm_token_hash=None,
            unsubscribed_at=func.coalesce(MailRecipient.unsubscribed_at, utcnow()),
        )
    )
    db.session.commit()
    return len(ids)


def export_subscriptions(comments_clause) -> list[dict]:
    """The commenter's subscriptions for their privacy export: which comments, what for, and
    the address's state (the address itself is theirs, and decrypted for them)."""
    rows = db.session.execute(
        select(MailSubscription, MailRecipient)
        .join(MailRecipient, MailRecipient.id == MailSubscription.recipient_id)
        .join(Comment, Comment.id == MailSubscription.comment_id)
        .where(comments_clause)
        .order_by(MailSubscription.comment_id)
    ).all()
    return [
        {
            "comment_id": subscription.comment_id,
            "replies": subscription.replies,
            "decision": subscription.decision,
            "email": secrets_box.decrypt(recipient.email_encrypted),
            "confirmed": recipient.confirmed_at is not None,
            "unsubscribed": recipient.unsubscribed_at is not None,
            "digest": recipient.digest,
        }
        for subscription, recipient in rows
    ]
