"""Comment cards: a comment with its article, parent, commenter's record and open reports."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from sqlalchemy import func, select

from service.core.bans import stored_targets
from service.core.moderation.scope import in_scope
from service.extensions import db
from service.models import Article, Comment, CommentStatus, Report, ReportReason

RECENT_PER_COMMENTER = 3
EXCERPT_LENGTH = 140
NOTES_PER_CARD = 5
# Quoted words in the workers' reasons (“like this”), but not the word-list entries they matched
# ("listed as “idiot*”"), which are patterns rather than text on the page.
QUOTED = re.compile(r"(?<!listed as )“([^”]+)”")


def open_reports():
    """Reports a moderator hasn't dealt with: made after the comment's latest decision."""
    # Approving a reported comment stamps decided_at, which dismisses the reports before it;
    # undo puts the old stamp back, and with it the reports.
    return Report.created_at > func.coalesce(Comment.decided_at, Comment.created_at)


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
                "likes": comment.likes,
                "dislikes": comment.dislikes,
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
                # An editors' pick: shown above its thread.
                "featured": comment.featured_at is not None,
                # Set once an approved edit replaced its text: the card links to its history.
                "edited_at": comment.edited_at,
                "ban_targets": stored_targets(comment),
                # A reader signed in with the publisher's login: their id there and badges.
                "sso_id": comment.sso_id,
                "badges": list(comment.badges or []),
            }
        )
    return cards


def _no_reasons() -> dict[str, int]:
    """A count of 0 for every report reason."""
    return {reason.value: 0 for reason in ReportReason}


def _parents(comments: list[Comment]) -> dict[int, Comment]:
    """The comments these reply to, by id (one query)."""
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
            in_scope(Comment.site_id, site_ids),
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
            in_scope(Comment.site_id, site_ids),
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
        .where(Report.comment_id.in_(comment_ids), open_reports())
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
            .where(Report.comment_id.in_(list(summaries)), Report.note.is_not(None), open_reports())
            .subquery()
        )
        for row in db.session.execute(
            select(notes.c.comment_id, notes.c.note)
            .where(notes.c.rank <= NOTES_PER_CARD)
            .order_by(notes.c.comment_id, notes.c.rank)
        ):
            summaries[row.comment_id]["notes"].append(row.note)
    return summaries
