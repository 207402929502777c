"""What is held about a commenter: export it, erase it, and let IP hashes expire.

A commenter is named by their commenter key (the widget's random id), by an email address,
matched through its keyed hash after normalizing (so J.Oe+x@gmail.com finds joe@gmail.com), or
by a signed-in reader's SSO id on a site, written "sso:SITE:SUB".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, and_, cast, delete, func, literal, or_, select, update

from service.core import mail, readcache, webhooks
from service.core.hashing import hash_email, mask_email, text_fingerprint
from service.core.operator_log import CLI_ACTOR, record_action
from service.errors import UnprocessableError
from service.extensions import db
from service.models import (
    Article,
    AuditEntry,
    Ban,
    BanTarget,
    Comment,
    CommentRevision,
    CommentStatus,
    CommentVote,
    Report,
    Site,
    utcnow,
)
from service.schemas.comments import COMMENTER_KEY

# Rows changed per transaction: big enough to be quick, small enough not to hold long locks.
BATCH_SIZE = 500
PRIVACY_ACTOR = "privacy"
ERASE_REASON = "erased on the commenter's request"


@dataclass(frozen=True)
class Commenter:
    """Whom a privacy request is about: a commenter key, or an email's keyed hash."""

    commenter_key: str | None = None
    email_hash: str | None = None
    # What the operators' log may show: the key, or the email masked.
    label: str = ""
    # A signed-in reader: the publisher's id and the site it belongs to.
    sso_id: str | None = None
    sso_site_id: int | None = None

    def comments_clause(self):
        """The condition that selects this commenter's comments."""
        if self.sso_id is not None:
            return and_(Comment.site_id == self.sso_site_id, Comment.sso_id == self.sso_id)
        if self.commenter_key is not None:
            return Comment.commenter_key == self.commenter_key
        return Comment.email_hash == self.email_hash

    def bans_clause(self):
        """The condition that selects the bans aimed at this commenter (not at their network or
        their email's domain: those are about many people)."""
        if self.sso_id is not None:
            return and_(
                Ban.target_type == BanTarget.SSO_ID,
                Ban.target_value == self.sso_id,
                Ban.site_id == self.sso_site_id,
            )
        if self.commenter_key is not None:
            target = (BanTarget.COMMENTER_KEY, self.commenter_key)
        else:
            target = (BanTarget.EMAIL, self.email_hash)
        return and_(Ban.target_type == target[0], Ban.target_value == target[1])


def _sso_commenter(value: str) -> Commenter:
    """Parse "sso:SITE:SUB": a signed-in reader of a site."""
    _, _, rest = value.partition(":")
    site_key, _, sso_id = rest.partition(":")
    site = db.session.scalar(select(Site).where(Site.key == site_key)) if site_key else None
    if site is None or not sso_id or len(sso_id) > 64:
        raise UnprocessableError(
            f"'{value[:100]}' is not sso:SITE:SUB with a known site.",
            {"commenter": ["Write a signed-in reader as sso:SITE:SUB (e.g. sso:news:u-42)."]},
        )
    return Commenter(sso_id=sso_id, sso_site_id=site.id, label=f"sso {site.key}:{sso_id}")


def commenter(value: str) -> Commenter:
    """Parse what an operator typed: "sso:SITE:SUB", an email address (has an "@") or a
    commenter key."""
    value = value.strip()
    if value.startswith("sso:"):
        return _sso_commenter(value)
    if "@" in value:
        local, _, domain = value.rpartition("@")
        if not local or "." not in domain:
            raise UnprocessableError(
                f"'{value}' is not an email address.", {"commenter": ["Not an email address."]}
            )
        return Commenter(email_hash=hash_email(value), label=f"email {mask_email(value)}")
    if not COMMENTER_KEY.regex.fullmatch(value):
        raise UnprocessableError(
            "Give a commenter key (8 to 64 letters, digits, '-' or '_') or an email address.",
            {"commenter": ["Not a commenter key or an email address."]},
        )
    return Commenter(commenter_key=value, label=f"commenter {value}")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _public_actor(actor: str) -> str:
    # "moderator:alice" → "moderator": the export is for the commenter, not about the staff.
    return actor.partition(":")[0]


def _stored_hashes(comment: Comment) -> list[str]:
    held = {
        "email": comment.email_hash,
        "email_domain": comment.email_domain_hash,
        "ip": comment.ip_hash,
        "network": comment.network_hash,
    }
    return [name for name, value in held.items() if value]


def export(value: str, *, actor: str = CLI_ACTOR) -> dict:
    """Return everything held about a commenter as JSON-ready data, and log the export."""
    who = commenter(value)
    rows = db.session.execute(
        select(Comment, Site.key, Article.external_id, Article.url)
        .join(Site, Site.id == Comment.site_id)
        .join(Article, Article.id == Comment.article_id)
        .where(who.comments_clause())
        .order_by(Comment.created_at, Comment.id)
    ).all()
    ids = [comment.id for comment, *_ in rows]
    history: dict[int, list[dict]] = {comment_id: [] for comment_id in ids}
    for start in range(0, len(ids), BATCH_SIZE):
        for entry in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.comment_id.in_(ids[start : start + BATCH_SIZE]))
            .order_by(AuditEntry.created_at, AuditEntry.id)
        ):
            history[entry.comment_id].append(
                {
                    "actor": _public_actor(entry.actor),
                    "from_status": entry.from_status,
                    "to_status": entry.to_status,
                    "reason": entry.reason,
                    "at": _iso(entry.created_at),
                }
            )
    edits: dict[int, list[dict]] = {comment_id: [] for comment_id in ids}
    for start in range(0, len(ids), BATCH_SIZE):
        for revision in db.session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id.in_(ids[start : start + BATCH_SIZE]))
            .order_by(CommentRevision.id)
        ):
            edits[revision.comment_id].append(
                {
                    "original": revision.original,
                    "status": revision.status.value,
                    "title": revision.title,
                    "body_text": revision.body_text,
                    "created_at": _iso(revision.created_at),
                    "decided_at": _iso(revision.decided_at),
                }
            )
    comments = [
        {
            "id": comment.id,
            "site": site_key,
            "article": article_id,
            "article_url": article_url,
            "parent_id": comment.parent_id,
            "status": comment.status.value,
            "author_name": comment.author_name,
            "sso_id": comment.sso_id,
            "badges": comment.badges or [],
            "title": comment.title,
            "body_text": comment.body_text,
            "created_at": _iso(comment.created_at),
            "decided_at": _iso(comment.decided_at),
            "reasons": comment.reasons or [],
            "toxicity_score": comment.toxicity_score,
            "spam_score": comment.spam_score,
            "shadow": comment.shadow,
            # Which keyed hashes are held, never their values (they are keyed by our secret).
            "stored_hashes": _stored_hashes(comment),
            "history": history[comment.id],
            # The texts of its edits, and the original kept at the first one.
            "edits": edits[comment.id],
        }
        for comment, site_key, article_id, article_url in rows
    ]
    reports = []
    if who.commenter_key is not None:  # reports carry the reporter's key, never an email
        reports = [
            {
                "id": report.id,
                "comment_id": report.comment_id,
                "site": site_key,
                "reason": report.reason.value,
                "note": report.note,
                "created_at": _iso(report.created_at),
                "stored_hashes": ["ip"] if report.ip_hash else [],
            }
            for report, site_key in db.session.execute(
                select(Report, Site.key)
                .join(Site, Site.id == Report.site_id)
                .where(Report.reporter_key == who.commenter_key)
                .order_by(Report.created_at, Report.id)
            )
        ]
    votes = []
    if who.commenter_key is not None:  # votes carry the voter's key, never an email
        votes = [
            {
                "comment_id": vote.comment_id,
                "vote": "like" if vote.value > 0 else "dislike",
                "created_at": _iso(vote.created_at),
                "stored_hashes": ["ip"] if vote.ip_hash else [],
            }
            for vote in db.session.scalars(
                select(CommentVote)
                .where(CommentVote.voter == "key:" + who.commenter_key)
                .order_by(CommentVote.created_at, CommentVote.id)
            )
        ]
    bans = [
        {
            "id": ban.id,
            "site": site_key,  # None: every site
            "target": ban.target_label,
            "kind": ban.kind.value,
            "reason": ban.reason,
            "public_reason": ban.public_reason,
            "created_at": _iso(ban.created_at),
            "expires_at": _iso(ban.expires_at),
            "lifted_at": _iso(ban.lifted_at),
            "active": ban.is_active(),
        }
        for ban, site_key in db.session.execute(
            select(Ban, Site.key)
            .outerjoin(Site, Site.id == Ban.site_id)
            .where(who.bans_clause())
            .order_by(Ban.created_at, Ban.id)
        )
    ]
    data = {
        "commenter": who.label,
        "exported_at": _iso(utcnow()),
        # The keys their comments were sent with: export or erase by key to cover key-only data.
        "commenter_keys": sorted({c.commenter_key for c, *_ in rows if c.commenter_key}),
        "comments": comments,
        "reports": reports,
        "votes": votes,
        "bans": bans,
        "mail_subscriptions": mail.export_subscriptions(who.comments_clause()),
    }
    record_action(
        actor,
        "privacy.export",
        who.label,
        {"comments": len(comments), "reports": len(reports), "bans": len(bans)},
    )
    db.session.commit()
    return data


def holdings(value: str) -> dict[str, int]:
    """Count what erase() would touch: comments, reports made, and bans (which stay)."""
    who = commenter(value)
    reports = 0
    if who.commenter_key is not None:
        reports = _count(Report, Report.reporter_key == who.commenter_key)
    return {
        "comments": _count(Comment, who.comments_clause()),
        "reports": reports,
        "bans": _count(Ban, who.bans_clause()),
    }


def _count(model, condition) -> int:
    return db.session.scalar(select(func.count(model.id)).where(condition))


def erase(
    value: str,
    *,
    actor: str = CLI_ACTOR,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Erase a commenter: their comments become tombstones with nothing personal left, their
    reports lose the reporter's key and IP hash. Threads stay whole; bans stay in force.

    Works in batches, each its own transaction; running it again finishes an interrupted run.
    `progress(n)` is told after each batch of n comments.
    """
    who = commenter(value)
    comments = Comment.__table__
    # Before the comments lose what ties them to the commenter.
    addresses = mail.erase_commenter(who.comments_clause(), who.email_hash)
    erased = 0
    while True:
        batch = db.session.execute(
            select(Comment.id, Comment.status)
            .where(who.comments_clause())
            .order_by(Comment.id)
            .limit(BATCH_SIZE)
        ).all()
        if not batch:
            break
        now = utcnow()
        ids = [row.id for row in batch]
        readcache.touch_comments(db.session, ids)
        db.session.execute(
            update(comments)
            .where(comments.c.id.in_(ids))
            .values(
                status=CommentStatus.DELETED,
                title=None,
                body_html="",
                body_text="",
                # The fingerprint of the text could confirm a guess of what it said.
                text_hash=text_fingerprint(""),
                author_name="",
                # Reasons can quote the words a filter matched in the text.
                reasons=[],
                commenter_key=None,
                sso_id=None,
                badges=None,
                email_hash=None,
                email_domain_hash=None,
                ip_hash=None,
                network_hash=None,
                updated_at=now,
            )
        )
        # Their edits (and the original text kept at the first one) go with the text.
        db.session.execute(delete(CommentRevision).where(CommentRevision.comment_id.in_(ids)))
        # Receivers that kept the published ones are told to drop them (in the same transaction).
        webhooks.emit_decided_comments(
            [(row.id, row.status, CommentStatus.DELETED) for row in batch]
        )
        db.session.execute(
            AuditEntry.__table__.insert(),
            [
                {
                    "comment_id": row.id,
                    "actor": PRIVACY_ACTOR,
                    "from_status": row.status.value,
                    "to_status": CommentStatus.DELETED.value,
                    "reason": ERASE_REASON,
                    "created_at": now,
                }
                for row in batch
            ],
        )
        db.session.commit()
        erased += len(ids)
        if progress:
            progress(len(ids))
    reports = votes = 0
    if who.commenter_key is not None:
        reports = db.session.execute(
            update(Report)
            .where(Report.reporter_key == who.commenter_key)
            .values(reporter_key=None, ip_hash=None)
        ).rowcount
        # Votes stay counted but no longer name the voter (the row id keeps them unique).
        votes = db.session.execute(
            update(CommentVote.__table__)
            .where(CommentVote.voter == "key:" + who.commenter_key)
            .values(voter=literal("erased:") + cast(CommentVote.id, String), ip_hash=None)
        ).rowcount
    done = {"comments": erased, "reports": reports, "votes": votes}
    if addresses:
        done["mail_addresses"] = addresses
    record_action(actor, "privacy.erase", who.label, done)
    db.session.commit()
    return done


def purge_ip_hashes(
    older_than_days: int | None = None, *, actor: str = CLI_ACTOR
) -> dict[str, int]:
    """Erase IP address and network hashes older than the retention period from comments and
    reports, in batches; log it in the operators' log when anything was purged."""
    days = current_app.config["IP_RETENTION_DAYS"] if older_than_days is None else older_than_days
    if days < 0:
        raise UnprocessableError(
            "The retention must be 0 days or more.", {"days": ["Must be 0 or more."]}
        )
    cutoff = utcnow() - timedelta(days=days)
    counts = {
        "comments": _purge(
            Comment,
            and_(
                Comment.created_at < cutoff,
                or_(Comment.ip_hash.is_not(None), Comment.network_hash.is_not(None)),
            ),
            # Keep updated_at: a purge is not a change of the comment (undo compares it).
            {"ip_hash": None, "network_hash": None, "updated_at": Comment.updated_at},
        ),
        "reports": _purge(
            Report,
            and_(Report.created_at < cutoff, Report.ip_hash.is_not(None)),
            {"ip_hash": None},
        ),
        "votes": _purge(
            CommentVote,
            and_(CommentVote.created_at < cutoff, CommentVote.ip_hash.is_not(None)),
            {"ip_hash": None},
        ),
    }
    if any(counts.values()):
        record_action(actor, "privacy.purge", f"IP hashes older than {days} days", counts)
        db.session.commit()
    return counts


def _purge(model, condition, values: dict) -> int:
    """Update the rows matching `condition` in id order, a batch per transaction."""
    purged, after = 0, 0
    while True:
        ids = list(
            db.session.scalars(
                select(model.id)
                .where(condition, model.id > after)
                .order_by(model.id)
                .limit(BATCH_SIZE)
            )
        )
        if not ids:
            return purged
        db.session.execute(update(model).where(model.id.in_(ids)).values(**values))
        db.session.commit()
        purged += len(ids)
        after = ids[-1]
