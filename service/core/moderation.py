"""The moderators' service layer: queues of comment cards, decisions, undo, events, audit, summary.

Independent of HTTP and of how the caller signed in: every function takes `site_ids`, the sites
the caller may moderate (None: every site, for operators), and decisions take `actor`, the name
the audit log records ("moderator:<username>").
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, true, update

from service.core.bans import stored_targets
from service.core.comments import DecisionRecord, find_site, record_decisions
from service.core.learning import learn
from service.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from service.extensions import db
from service.models import (
    MAX_ID,
    Article,
    AuditEntry,
    Comment,
    CommentStatus,
    Report,
    ReportReason,
    Site,
    utcnow,
)

QUEUES = ("held", "reported", "pending", "approved", "rejected")
SORTS = ("oldest", "newest", "riskiest")
# The statuses that are queues of their own (reported is a view of approved comments).
DECIDABLE = (
    CommentStatus.HELD,
    CommentStatus.PENDING,
    CommentStatus.APPROVED,
    CommentStatus.REJECTED,
)
ACTIONS = {"approve": CommentStatus.APPROVED, "reject": CommentStatus.REJECTED}
# Audit actors whose decisions are automatic (the worker, and re-scoring after a policy change).
AUTOMATIC_ACTORS = ("worker", "rescore")
MODERATOR_PREFIX = "moderator:"
UNDO_PREFIX = "undo of decision #"
EVENTS_MAX = 200
RECENT_PER_COMMENTER = 3
EXCERPT_LENGTH = 140
NOTES_PER_CARD = 5
# Quoted words in the workers' reasons (“like this”), but not the word-list entries they matched
# ("listed as “idiot*”"), which are patterns rather than text on the page.
QUOTED = re.compile(r"(?<!listed as )“([^”]+)”")
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?%?")

FORBIDDEN_SITE = "You don't moderate this site."


class StaleDecisionError(ConflictError):
    """The comment is no longer in the status the moderator saw; says what it is now."""

    def __init__(self, message: str, current: dict):
        super().__init__(message)
        self.current = current


def moderator_actor(username: str) -> str:
    """Return the audit actor name of a moderator or operator account."""
    return f"{MODERATOR_PREFIX}{username}"


# --- Scope ------------------------------------------------------------------------------------


def _scope(site_ids: set[int] | None, site_key: str | None) -> set[int] | None:
    """Return the site ids a request may see: the caller's sites narrowed by a `site=` filter."""
    if site_key is None:
        return site_ids
    site = find_site(site_key)
    if site_ids is not None and site.id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE, {"site": [FORBIDDEN_SITE]})
    return {site.id}


def _in_scope(column, scope: set[int] | None):
    """A WHERE clause limiting `column` (a site id) to the scope; None means no limit."""
    return true() if scope is None else column.in_(sorted(scope))


def _comment_for(comment_id: int, site_ids: set[int] | None) -> Comment:
    """Return a comment the caller may moderate, or raise 404 / 403."""
    comment = db.session.get(Comment, comment_id) if 1 <= comment_id <= MAX_ID else None
    if comment is None:
        raise NotFoundError("There is no such comment.")
    if site_ids is not None and comment.site_id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE)
    return comment


# --- Cursors ----------------------------------------------------------------------------------


def _encode_cursor(sort: str, key, comment_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps([sort, value, comment_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, key_type: type) -> tuple:
    """Return (key, id) of a cursor made for this sort, or raise 422 naming `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, comment_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(comment_id, int):
            raise ValueError("cursor of another sort")
        if not 1 <= comment_id <= MAX_ID:
            raise ValueError("cursor id out of range")
        if key_type is datetime:
            key = datetime.fromisoformat(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            key = float(value)
        else:
            raise ValueError("cursor key is not a number")
        return key, comment_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise UnprocessableError(
            "The cursor is not valid.",
            {"cursor": ["Use the next_cursor of a previous page, unchanged, with the same sort."]},
        ) from None


def _after(key_column, id_column, key, comment_id: int, descending: bool):
    """Keyset condition: rows after (key, id) in the page order."""
    if descending:
        return or_(key_column < key, and_(key_column == key, id_column < comment_id))
    return or_(key_column > key, and_(key_column == key, id_column > comment_id))


def _encode_id_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(["audit", entry_id]).encode()).decode().rstrip("=")


def _decode_id_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, entry_id = json.loads(raw)
        if kind != "audit" or not isinstance(entry_id, int) or not 1 <= entry_id <= MAX_ID:
            raise ValueError("not an audit cursor")
        return entry_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise UnprocessableError(
            "The cursor is not valid.",
            {"cursor": ["Use the next_cursor of a previous page, unchanged."]},
        ) from None


# --- Queues -----------------------------------------------------------------------------------


def _risk():
    """max(toxicity, spam), unknown scores counting as 0 (portable: no GREATEST in SQLite)."""
    toxicity = func.coalesce(Comment.toxicity_score, 0.0)
    spam = func.coalesce(Comment.spam_score, 0.0)
    return case((toxicity >= spam, toxicity), else_=spam)


def _open_reports():
    """Reports a moderator hasn't dealt with: made after the comment's latest decision."""
    # Approving a reported comment stamps decided_at, which dismisses the reports before it;
    # undo puts the old stamp back, and with it the reports.
    return Report.created_at > func.coalesce(Comment.decided_at, Comment.created_at)


def _reported_subquery(scope: set[int] | None):
    """Published comments with open reports, and when they were last reported."""
    return (
        select(Report.comment_id, func.max(Report.created_at).label("last_reported"))
        .join(Comment, Comment.id == Report.comment_id)
        .where(
            Comment.status == CommentStatus.APPROVED,
            _open_reports(),
            _in_scope(Report.site_id, scope),
        )
        .group_by(Report.comment_id)
        .subquery()
    )


def _filters(scope, article_id: int | None, commenter: str | None) -> list:
    conditions = [_in_scope(Comment.site_id, scope)]
    if article_id is not None:
        conditions.append(Comment.article_id == article_id)
    if commenter is not None:
        conditions.append(Comment.commenter_key == commenter)
    return conditions


def queue_counts(scope, article_id: int | None = None, commenter: str | None = None) -> dict:
    """Count every queue under the same filters, in two queries."""
    counts = dict.fromkeys(QUEUES, 0)
    conditions = _filters(scope, article_id, commenter)
    rows = db.session.execute(
        select(Comment.status, func.count())
        .where(
            Comment.status.in_(DECIDABLE),
            *conditions,
        )
        .group_by(Comment.status)
    )
    for status, count in rows:
        counts[CommentStatus(status).value] = count
    reported = _reported_subquery(scope)
    counts["reported"] = db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .join(reported, reported.c.comment_id == Comment.id)
        .where(*conditions)
    )
    return counts


def list_queue(
    queue: str,
    site_ids: set[int] | None,
    site: str | None = None,
    article: str | None = None,
    commenter: str | None = None,
    sort: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict:
    """Return a page of a queue as cards, with every queue's count under the same filters."""
    if queue not in QUEUES:
        raise NotFoundError(f"There is no queue '{queue}'; the queues are {', '.join(QUEUES)}.")
    scope = _scope(site_ids, site)
    article_id = None
    if article is not None:
        if site is None:
            raise UnprocessableError(
                "Say which site the article is on.", {"site": ["Required with article."]}
            )
        (site_id,) = scope
        article_id = db.session.scalar(
            select(Article.id).where(Article.site_id == site_id, Article.external_id == article)
        )
        if article_id is None:
            raise NotFoundError(f"There is no article '{article}' on this site.")
    # Work queues read oldest first (fair to the waiting authors); the rest newest first.
    sort = sort or ("oldest" if queue in ("held", "pending") else "newest")

    query = (
        select(Comment, Article, Site.key)
        .join(Article, Article.id == Comment.article_id)
        .join(Site, Site.id == Comment.site_id)
        .where(*_filters(scope, article_id, commenter))
    )
    if queue == "reported":
        reported = _reported_subquery(scope)
        query = query.join(reported, reported.c.comment_id == Comment.id)
        time_key = reported.c.last_reported
    else:
        query = query.where(Comment.status == CommentStatus(queue))
        time_key = Comment.created_at
    key, key_type = (_risk(), float) if sort == "riskiest" else (time_key, datetime)
    descending = sort != "oldest"
    query = query.add_columns(key.label("sort_key"))
    if cursor:
        after_key, after_id = _decode_cursor(cursor, sort, key_type)
        query = query.where(_after(key, Comment.id, after_key, after_id, descending))
    order = (key.desc(), Comment.id.desc()) if descending else (key.asc(), Comment.id.asc())
    rows = db.session.execute(query.order_by(*order).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(sort, rows[-1].sort_key, rows[-1][0].id)
    return {
        "queue": queue,
        "counts": queue_counts(scope, article_id, commenter),
        "comments": build_cards([(row[0], row[1], row[2]) for row in rows], site_ids),
        "next_cursor": next_cursor,
    }


# --- Cards ------------------------------------------------------------------------------------


def highlights(reasons: list[str]) -> list[str]:
    """Return the words the reasons quote, for the console to mark in the comment's text."""
    found: dict[str, None] = {}
    for reason in reasons:
        for quoted in QUOTED.findall(reason):
            found[quoted] = None
    return list(found)


def build_cards(rows: list[tuple[Comment, Article, str]], site_ids: set[int] | None) -> list:
    """Turn (comment, article, site key) rows into cards with a fixed number of queries."""
    if not rows:
        return []
    comments = [comment for comment, _, _ in rows]
    ids = [comment.id for comment in comments]
    parents = _parents(comments)
    history = _commenter_history(comments, site_ids)
    reports = _open_report_summaries(ids)
    cards = []
    for comment, article, site_key in rows:
        parent = parents.get(comment.parent_id)
        key = comment.commenter_key
        approved, rejected, recent = history.get(key, (0, 0, []))
        cards.append(
            {
                "id": comment.id,
                "status": comment.status.value,
                "site": site_key,
                "article": {
                    "id": article.external_id,
                    "title": article.title,
                    "url": article.url,
                    "premoderated": article.premoderated,
                },
                "parent": None
                if parent is None
                else {
                    "id": parent.id,
                    "author_name": parent.author_name,
                    "body_html": parent.body_html,
                },
                "author_name": comment.author_name,
                "title": comment.title,
                "body_html": comment.body_html,
                "created_at": comment.created_at,
                "decided_at": comment.decided_at,
                "toxicity": comment.toxicity_score,
                "spam": comment.spam_score,
                "reasons": list(comment.reasons or []),
                "highlights": highlights(comment.reasons or []),
                "commenter": {
                    "key": key,
                    "approved": approved,
                    "rejected": rejected,
                    "recent": [item for item in recent if item["id"] != comment.id][
                        :RECENT_PER_COMMENTER
                    ],
                },
                "reports": reports.get(
                    comment.id, {"count": 0, "reasons": _no_reasons(), "notes": []}
                ),
                # Shown to nobody but its author; the console marks it.
                "shadow": comment.shadow,
                "ban_targets": stored_targets(comment),
            }
        )
    return cards


def _no_reasons() -> dict[str, int]:
    return {reason.value: 0 for reason in ReportReason}


def _parents(comments: list[Comment]) -> dict[int, Comment]:
    parent_ids = {comment.parent_id for comment in comments if comment.parent_id}
    if not parent_ids:
        return {}
    return {
        parent.id: parent
        for parent in db.session.scalars(select(Comment).where(Comment.id.in_(parent_ids)))
    }


def _commenter_history(comments: list[Comment], site_ids: set[int] | None) -> dict:
    """Per commenter key: approved and rejected counts and their latest comments (two queries)."""
    keys = sorted({comment.commenter_key for comment in comments if comment.commenter_key})
    if not keys:
        return {}
    counts: dict[str, Counter] = defaultdict(Counter)
    for key, status, count in db.session.execute(
        select(Comment.commenter_key, Comment.status, func.count())
        .where(
            Comment.commenter_key.in_(keys),
            Comment.status.in_([CommentStatus.APPROVED, CommentStatus.REJECTED]),
            _in_scope(Comment.site_id, site_ids),
        )
        .group_by(Comment.commenter_key, Comment.status)
    ):
        counts[key][CommentStatus(status).value] = count
    # Enough rows per key that each card still has three after leaving itself out.
    per_key = Counter(comment.commenter_key for comment in comments if comment.commenter_key)
    wanted = RECENT_PER_COMMENTER + max(per_key.values())
    rank = (
        func.row_number()
        .over(
            partition_by=Comment.commenter_key,
            order_by=(Comment.created_at.desc(), Comment.id.desc()),
        )
        .label("rank")
    )
    latest = (
        select(
            Comment.id,
            Comment.commenter_key,
            Comment.status,
            Comment.title,
            func.substr(Comment.body_text, 1, EXCERPT_LENGTH + 1).label("excerpt"),
            Comment.created_at,
            rank,
        )
        .where(
            Comment.commenter_key.in_(keys),
            Comment.status != CommentStatus.DELETED,
            _in_scope(Comment.site_id, site_ids),
        )
        .subquery()
    )
    recent: dict[str, list] = defaultdict(list)
    for row in db.session.execute(
        select(latest).where(latest.c.rank <= wanted).order_by(latest.c.rank)
    ):
        excerpt = row.excerpt or ""
        if len(excerpt) > EXCERPT_LENGTH:
            excerpt = excerpt[:EXCERPT_LENGTH].rstrip() + "…"
        recent[row.commenter_key].append(
            {
                "id": row.id,
                "status": CommentStatus(row.status).value,
                "title": row.title,
                "excerpt": excerpt,
                "created_at": row.created_at,
            }
        )
    return {key: (counts[key]["approved"], counts[key]["rejected"], recent[key]) for key in keys}


def _open_report_summaries(comment_ids: list[int]) -> dict[int, dict]:
    """Open reports per comment: counts by reason (one grouped query) and the latest notes."""
    summaries: dict[int, dict] = {}
    for comment_id, reason, count in db.session.execute(
        select(Report.comment_id, Report.reason, func.count())
        .join(Comment, Comment.id == Report.comment_id)
        .where(Report.comment_id.in_(comment_ids), _open_reports())
        .group_by(Report.comment_id, Report.reason)
    ):
        summary = summaries.setdefault(
            comment_id, {"count": 0, "reasons": _no_reasons(), "notes": []}
        )
        summary["count"] += count
        summary["reasons"][ReportReason(reason).value] = count
    if summaries:
        rank = (
            func.row_number()
            .over(
                partition_by=Report.comment_id,
                order_by=(Report.created_at.desc(), Report.id.desc()),
            )
            .label("rank")
        )
        notes = (
            select(Report.comment_id, Report.note, rank)
            .join(Comment, Comment.id == Report.comment_id)
            .where(
                Report.comment_id.in_(list(summaries)), Report.note.is_not(None), _open_reports()
            )
            .subquery()
        )
        for row in db.session.execute(
            select(notes.c.comment_id, notes.c.note)
            .where(notes.c.rank <= NOTES_PER_CARD)
            .order_by(notes.c.comment_id, notes.c.rank)
        ):
            summaries[row.comment_id]["notes"].append(row.note)
    return summaries


# --- Decisions --------------------------------------------------------------------------------


def _audit_reason(reason: str | None, note: str | None) -> str:
    """The audit entry's reason: the moderator's reason on the first line, the note after it."""
    # The first line is what undo reads back to tell whether the decision taught the model spam,
    # so a note alone is labelled and can never read as a reason.
    if reason and note:
        return f"{reason}\n{note}"
    if note:
        return f"note: {note}"
    return reason or ""


def is_spam_reason(audit_reason: str | None) -> bool:
    """Tell whether a decision's audit reason says spam (its first line is "spam")."""
    return (audit_reason or "").split("\n", 1)[0].strip().casefold() == "spam"


def _latest_entry(comment_id: int) -> AuditEntry | None:
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.comment_id == comment_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def _stale(comment: Comment) -> StaleDecisionError:
    """The 409 for a comment that moved on, saying who moved it where."""
    latest = _latest_entry(comment.id)
    decided_by = latest.actor if latest else None
    status = comment.status.value
    if status == CommentStatus.DELETED:
        message = "The author deleted this comment."
    elif decided_by and decided_by.startswith(MODERATOR_PREFIX):
        if status in (CommentStatus.APPROVED, CommentStatus.REJECTED):
            message = f"Another moderator already {status} this comment."
        else:
            message = f"Another moderator put this comment back to {status}."
    else:
        message = f"This comment is {status} now."
    return StaleDecisionError(message, {"status": status, "decided_by": decided_by})


def _undo_seconds() -> float:
    return float(current_app.config["UNDO_SECONDS"])


def _apply_decision(
    comment: Comment,
    action: str,
    expected_status: str,
    actor: str,
    reason: str | None,
    note: str | None,
) -> dict:
    """Decide one loaded comment inside the caller's transaction; raise 409 if it moved."""
    target = ACTIONS[action]
    if comment.status == CommentStatus.DELETED or comment.status.value != expected_status:
        raise _stale(comment)
    if target == CommentStatus.REJECTED and comment.status == CommentStatus.REJECTED:
        latest = _latest_entry(comment.id)
        raise StaleDecisionError(
            "This comment is already rejected.",
            {"status": "rejected", "decided_by": latest.actor if latest else None},
        )
    previous = comment.status
    record = DecisionRecord(
        comment_id=comment.id,
        status=target,
        # The automatic reasons stay on the comment; the moderator's go to the audit log.
        reasons=list(comment.reasons or []),
        audit_reason=_audit_reason(reason, note),
    )
    # One conditional UPDATE (status = expected) and its audit row: of two moderators deciding
    # at once, only one matches the row; the other gets a 409.
    (applied,) = record_decisions([record], previous, actor=actor)
    db.session.expire(comment)
    if not applied:
        raise _stale(comment)
    if target == CommentStatus.APPROVED:
        learn(comment.site_id, comment.body_text, is_spam=False, commit=False)
    elif is_spam_reason(reason):
        learn(comment.site_id, comment.body_text, is_spam=True, commit=False)
    # Nothing else to invalidate: the public read path has no server-side cache (its ETag is
    # computed from the content), so the next read shows the decision.
    return {
        "id": comment.id,
        "status": target.value,
        "previous_status": previous.value,
        "undo_until": utcnow() + timedelta(seconds=_undo_seconds()),
    }


def decide(
    comment_id: int,
    action: str,
    expected_status: str,
    actor: str,
    reason: str | None = None,
    note: str | None = None,
    site_ids: set[int] | None = None,
) -> dict:
    """Approve or reject a comment if it is still in `expected_status`; 404, 403 or 409 if not."""
    comment = _comment_for(comment_id, site_ids)
    try:
        result = _apply_decision(comment, action, expected_status, actor, reason, note)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def decide_many(
    action: str,
    items: list[dict],
    actor: str,
    reason: str | None = None,
    note: str | None = None,
    site_ids: set[int] | None = None,
) -> list[dict]:
    """Apply one decision to many comments, each on its own; report each one's outcome."""
    wanted = [item["id"] for item in items if 1 <= item["id"] <= MAX_ID]
    comments = {
        comment.id: comment
        for comment in db.session.scalars(select(Comment).where(Comment.id.in_(wanted)))
    }
    results = []
    for item in items:
        comment = comments.get(item["id"])
        try:
            if comment is None:
                raise NotFoundError("There is no such comment.")
            if site_ids is not None and comment.site_id not in site_ids:
                raise ForbiddenError(FORBIDDEN_SITE)
            # A savepoint each, so one item's failure never undoes another's decision.
            with db.session.begin_nested():
                outcome = _apply_decision(
                    comment, action, item["expected_status"], actor, reason, note
                )
            results.append({"id": item["id"], "status": outcome["status"], "error": None})
        except (NotFoundError, ForbiddenError, ConflictError) as error:
            results.append({"id": item["id"], "status": None, "error": _item_error(error, comment)})
    db.session.commit()
    return results


def _item_error(error, comment: Comment | None) -> dict:
    detail = {"code": error.code, "message": error.message}
    if isinstance(error, StaleDecisionError):
        detail["current"] = error.current
    return detail


def _decided_at_before(entries: list[AuditEntry]) -> datetime | None:
    """Replay a comment's audit log to find its decided_at before the latest decision."""
    decided, history = None, []
    for entry in entries:
        if (entry.reason or "").startswith(UNDO_PREFIX):
            decided = history.pop() if history else None
        elif entry.actor != "author" and entry.to_status != CommentStatus.PENDING:
            history.append(decided)
            decided = entry.created_at
    return history[-1] if history else None


def undo(comment_id: int, actor: str, site_ids: set[int] | None = None) -> dict:
    """Take back the caller's own latest decision on a comment, within the undo window."""
    comment = _comment_for(comment_id, site_ids)
    entries = list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.comment_id == comment.id).order_by(AuditEntry.id)
        )
    )
    latest = entries[-1] if entries else None
    if (
        latest is None
        or not latest.actor.startswith(MODERATOR_PREFIX)
        or (latest.reason or "").startswith(UNDO_PREFIX)
    ):
        raise ConflictError("There is no moderator's decision on this comment to undo.")
    if latest.actor != actor:
        raise ConflictError("Only the moderator who made the latest decision can undo it.")
    window = _undo_seconds()
    now = utcnow()
    if now - latest.created_at > timedelta(seconds=window):
        raise ConflictError(f"A decision can only be undone within {window:g} seconds.")
    restored = _decided_at_before(entries)
    comments = Comment.__table__
    # Conditional, like a decision: the comment must be exactly as the decision left it
    # (updated_at is the decision's own stamp), so a colleague's later change is never undone.
    result = db.session.connection().execute(
        update(comments)
        .where(
            comments.c.id == comment.id,
            comments.c.status == CommentStatus(latest.to_status),
            comments.c.updated_at == latest.created_at,
        )
        .values(status=CommentStatus(latest.from_status), decided_at=restored, updated_at=now)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ConflictError("The comment changed after your decision, so it can't be undone.")
    db.session.add(
        AuditEntry(
            comment_id=comment.id,
            actor=actor,
            from_status=latest.to_status,
            to_status=latest.from_status,
            reason=f"{UNDO_PREFIX}{latest.id}",
            created_at=now,
        )
    )
    # Take back what the decision taught the spam model.
    if latest.to_status == CommentStatus.APPROVED:
        learn(comment.site_id, comment.body_text, is_spam=False, weight=-1, commit=False)
    elif latest.to_status == CommentStatus.REJECTED and is_spam_reason(latest.reason):
        learn(comment.site_id, comment.body_text, is_spam=True, weight=-1, commit=False)
    db.session.commit()
    return {"id": comment.id, "status": latest.from_status}


# --- Events, audit, summary -------------------------------------------------------------------


def events(after: int | None, site_ids: set[int] | None, site: str | None = None) -> dict:
    """Status changes after an audit id (at most 200), for consoles polling for colleagues' work."""
    scope = _scope(site_ids, site)
    if after is None:
        # The starting point: nothing yet, just where to start from.
        query = select(func.max(AuditEntry.id))
        if scope is not None:
            query = query.join(Comment, Comment.id == AuditEntry.comment_id).where(
                _in_scope(Comment.site_id, scope)
            )
        return {"events": [], "last": db.session.scalar(query) or 0}
    rows = db.session.execute(
        select(AuditEntry)
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(AuditEntry.id > after, _in_scope(Comment.site_id, scope))
        .order_by(AuditEntry.id)
        .limit(EVENTS_MAX)
    ).scalars()
    found = [
        {
            "id": entry.id,
            "comment_id": entry.comment_id,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            "actor": entry.actor,
            "at": entry.created_at,
        }
        for entry in rows
    ]
    return {"events": found, "last": found[-1]["id"] if found else after}


@dataclass(frozen=True)
class Period:
    """An optional time window: since (inclusive) and until (exclusive), naive UTC."""

    since: datetime | None = None
    until: datetime | None = None

    def clauses(self, column) -> list:
        """WHERE clauses keeping `column` inside the window."""
        found = []
        if self.since is not None:
            found.append(column >= self.since)
        if self.until is not None:
            found.append(column < self.until)
        return found


def audit(
    site_ids: set[int] | None,
    moderator: str | None = None,
    site: str | None = None,
    period: Period | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict:
    """Return audit entries newest first, only of the caller's sites, filtered and paged."""
    scope = _scope(site_ids, site)
    period = period or Period()
    query = (
        select(AuditEntry, Site.key)
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .join(Site, Site.id == Comment.site_id)
        .where(_in_scope(Comment.site_id, scope), *period.clauses(AuditEntry.created_at))
    )
    if moderator is not None:
        query = query.where(AuditEntry.actor == moderator_actor(moderator.lower()))
    if cursor:
        query = query.where(AuditEntry.id < _decode_id_cursor(cursor))
    rows = db.session.execute(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_id_cursor(rows[-1][0].id)
    entries = [
        {
            "id": entry.id,
            "at": entry.created_at,
            "actor": entry.actor,
            "comment_id": entry.comment_id,
            "site": site_key,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            "reason": entry.reason or None,
        }
        for entry, site_key in rows
    ]
    return {"entries": entries, "next_cursor": next_cursor}


def reason_kind(audit_reason: str | None) -> str:
    """The first automatic reason with its numbers taken out, to group overturns by."""
    first = (audit_reason or "").split("; ", 1)[0]
    return " ".join(NUMBER.sub("", first).split()) or "(no reason recorded)"


def summary(site_ids: set[int] | None, site: str | None = None, period: Period | None = None):
    """Per moderator: decisions, undos and overturned automatic decisions; automatic totals."""
    scope = _scope(site_ids, site)
    period = period or Period()
    in_period = period.clauses(AuditEntry.created_at)
    in_sites = _in_scope(Comment.site_id, scope)

    automatic = dict.fromkeys(("approved", "held", "rejected"), 0)
    for status, count in db.session.execute(
        select(AuditEntry.to_status, func.count())
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(AuditEntry.actor.in_(AUTOMATIC_ACTORS), in_sites, *in_period)
        .group_by(AuditEntry.to_status)
    ):
        if status in automatic:
            automatic[status] = count

    # Each moderator entry in the period with its neighbours in the comment's log: the entry
    # before it (the decision it changed) and after it (an undo that took it back).
    window = {"partition_by": AuditEntry.comment_id, "order_by": AuditEntry.id}
    touched = (
        select(AuditEntry.comment_id)
        .join(Comment, Comment.id == AuditEntry.comment_id)
        .where(AuditEntry.actor.like(f"{MODERATOR_PREFIX}%"), in_sites, *in_period)
    )
    logs = (
        select(
            AuditEntry.id,
            AuditEntry.actor,
            AuditEntry.from_status,
            AuditEntry.to_status,
            AuditEntry.reason,
            AuditEntry.created_at,
            func.lag(AuditEntry.actor).over(**window).label("before_actor"),
            func.lag(AuditEntry.to_status).over(**window).label("before_status"),
            func.lag(AuditEntry.reason).over(**window).label("before_reason"),
            func.lead(AuditEntry.reason).over(**window).label("after_reason"),
        )
        .where(AuditEntry.comment_id.in_(touched))
        .subquery()
    )
    entry_period = period.clauses(logs.c.created_at)
    rows = db.session.execute(
        select(logs)
        .where(logs.c.actor.like(f"{MODERATOR_PREFIX}%"), *entry_period)
        .order_by(logs.c.id)
    ).all()

    moderators: dict[str, dict] = {}
    for row in rows:
        stats = moderators.setdefault(
            row.actor,
            {
                "actor": row.actor,
                "approved": 0,
                "rejected": 0,
                "undone": 0,
                "overturned": 0,
                "overturned_by_reason": Counter(),
            },
        )
        if (row.reason or "").startswith(UNDO_PREFIX):
            stats["undone"] += 1
            continue
        if (row.after_reason or "").startswith(UNDO_PREFIX):
            continue  # taken back: neither a decision nor an overturn
        if row.to_status in ("approved", "rejected"):
            stats[row.to_status] += 1
        # An overturn changes a worker's final decision (approved or rejected) to the other one;
        # held is the worker asking a person, so deciding it overturns nothing.
        if (
            row.before_actor in AUTOMATIC_ACTORS
            and row.before_status in ("approved", "rejected")
            and row.to_status in ("approved", "rejected")
            and row.to_status != row.before_status
        ):
            stats["overturned"] += 1
            stats["overturned_by_reason"][reason_kind(row.before_reason)] += 1
    for stats in moderators.values():
        stats["overturned_by_reason"] = dict(stats["overturned_by_reason"].most_common())
    return {
        "moderators": sorted(moderators.values(), key=lambda stats: stats["actor"]),
        "automatic": automatic,
    }
