"""Readers' votes on published comments (likes, and dislikes where the site takes them), and
the confidence scores sort=top ranks by.

One vote per reader and comment: the voter is "sso:<site id>:<sub>" for a signed-in reader, else
"key:<commenter key>". Counts live on the comment (likes, dislikes) and change only by SQL
increments in the transaction that changes the vote row, so concurrent votes never lose one.

sort=top pages by scores frozen per ranking epoch: `top_score` is the Wilson lower bound at the
article's current `rank_epoch`, `prev_top_score` the one before. A vote recomputes the article's
scores (a new epoch) when the last recomputation is RANK_EPOCH_SECONDS old; a cursor names its
epoch and pages by that epoch's scores, so paging never repeats or skips a comment while votes
arrive. A cursor two epochs old is refused (422): the reader starts again from the first page.
A new epoch replaces the article's read-cache version (at most once per RANK_EPOCH_SECONDS).

Votes never replace the article's read-cache version (that would re-render a hot thread on
every click): they set its vote stamp (readcache.note_votes), so cached pages show new counts
within VOTE_COUNTS_SECONDS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.core import readcache
from service.core.hashing import hash_ip
from service.core.sso import Reader
from service.core.transactions import rolls_back
from service.errors import ForbiddenError, NotFoundError, SessionExpiredError, UnprocessableError
from service.extensions import db
from service.models import (
    MAX_ID,
    Article,
    Comment,
    CommentStatus,
    CommentVote,
    Site,
    utcnow,
)

# Core statements on the table: votes bypass the ORM (and so the read cache's version bumps).
COMMENTS = Comment.__table__
VALUES = {"like": 1, "dislike": -1}
NAMES = {value: name for name, value in VALUES.items()}
# 95% confidence: the usual z for the Wilson lower bound.
Z = 1.959963984540054


# A signed-in reader votes as "sso:<site id>:<sub>": their session names the site it is for.
SSO_VOTER = "sso:"


class VoteCapError(ForbiddenError):
    """Too many readers from one address already voted on this comment (anti-stuffing)."""

    code = "vote_cap"


def wilson_lower_bound(likes: int, dislikes: int) -> float:
    """Return the lower bound of the 95% Wilson interval of the share of likes (0 without votes)."""
    n = likes + dislikes
    if n <= 0:
        return 0.0
    p = likes / n
    z2 = Z * Z
    centre = p + z2 / (2 * n)
    spread = Z * math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)
    return (centre - spread) / (1 + z2 / n)


def voter_of(reader: Reader | None, commenter_key: str | None) -> str:
    """Return who votes: a signed-in reader by their SSO id on their site, else the widget's
    commenter key (see key_voter)."""
    if reader is not None:
        return f"{SSO_VOTER}{reader.site_id}:{reader.sso_id}"
    return key_voter(commenter_key)


def key_voter(commenter_key: str | None) -> str:
    """Return the voter id of an anonymous reader, or raise 422 naming `commenter_key`."""
    if not commenter_key:
        raise UnprocessableError(
            "Send your commenter key to vote.", {"commenter_key": ["Required to vote."]}
        )
    return "key:" + commenter_key


@dataclass(frozen=True)
class _Target:
    comment_id: int
    article_pk: int
    site_id: int
    site_key: str
    article_id: str
    dislikes_enabled: bool
    ranked_at: object


def _published(comment_id: int) -> _Target:
    """Return a votable comment, or the same 404 as a missing one (readers never learn of
    shadow, pending, held, rejected or deleted comments)."""
    row = None
    if 1 <= comment_id <= MAX_ID:
        row = db.session.execute(
            select(
                Comment.id,
                Comment.status,
                Comment.shadow,
                Article.id.label("article_pk"),
                Article.external_id,
                Article.ranked_at,
                Site.id.label("site_id"),
                Site.key,
                Site.dislikes_enabled,
            )
            .join(Article, Article.id == Comment.article_id)
            .join(Site, Site.id == Comment.site_id)
            .where(Comment.id == comment_id)
        ).first()
    if row is None or row.status != CommentStatus.APPROVED or row.shadow:
        raise NotFoundError("There is no such comment.")
    return _Target(
        row.id,
        row.article_pk,
        row.site_id,
        row.key,
        row.external_id,
        row.dislikes_enabled,
        row.ranked_at,
    )


def _check_voter_site(target: _Target, voter: str) -> None:
    """Refuse a reader session of another site: a publisher's ids mean something on its own."""
    if voter.startswith(SSO_VOTER) and not voter.startswith(f"{SSO_VOTER}{target.site_id}:"):
        raise SessionExpiredError("Your sign-in is for another site. Please sign in here.", {})


def _insert_if_new(**values) -> bool:
    """Insert a vote row unless the voter has one: True if inserted (one atomic statement)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(CommentVote.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["comment_id", "voter"])
        .returning(CommentVote.id)
    )
    # RETURNING, not rowcount: drivers disagree on the rowcount of an INSERT that did nothing.
    return db.session.execute(statement).first() is not None


def _count(comment_id: int, likes: int, dislikes: int) -> None:
    """Add to a comment's counts in SQL (no read-modify-write), keeping its updated_at."""
    db.session.execute(
        update(COMMENTS)
        .where(COMMENTS.c.id == comment_id)
        .values(
            likes=COMMENTS.c.likes + likes,
            dislikes=COMMENTS.c.dislikes + dislikes,
            updated_at=COMMENTS.c.updated_at,
        )
    )


def _delta(value: int, sign: int) -> tuple[int, int]:
    return (sign, 0) if value > 0 else (0, sign)


def _check_cap(target: _Target, voter: str, ip_hash: str | None) -> None:
    """Refuse a new voter when enough others from the same address voted on the comment."""
    if ip_hash is None:
        return
    cap = current_app.config["VOTE_IP_CAP"]
    others = db.session.scalar(
        select(func.count()).where(
            CommentVote.comment_id == target.comment_id,
            CommentVote.ip_hash == ip_hash,
            CommentVote.voter != voter,
        )
    )
    if others >= cap:
        raise VoteCapError(
            "Too many readers on your network have voted on this comment already.", {}
        )


@rolls_back
def cast_vote(comment_id: int, voter: str, choice: str, ip: str | None) -> dict:
    """Record a reader's like or dislike (changing their earlier one); return the counts."""
    target = _published(comment_id)
    _check_voter_site(target, voter)
    value = VALUES[choice]
    if value < 0 and not target.dislikes_enabled:
        raise UnprocessableError(
            "This site does not take dislikes.", {"value": ['Only "like" is taken on this site.']}
        )
    ip_hash = hash_ip(ip) if ip else None
    if _insert_if_new(comment_id=comment_id, voter=voter, value=value, ip_hash=ip_hash):
        # Checked after the insert so the statement that takes the row comes first; a refusal
        # rolls it back.
        _check_cap(target, voter, ip_hash)
        _count(comment_id, *_delta(value, 1))
    else:
        # Values are +1 or -1: a row that is not `value` holds its opposite.
        changed = db.session.execute(
            update(CommentVote.__table__)
            .where(
                CommentVote.comment_id == comment_id,
                CommentVote.voter == voter,
                CommentVote.value != value,
            )
            .values(value=value)
        ).rowcount
        if changed:
            likes, dislikes = _delta(value, 1)
            old_likes, old_dislikes = _delta(-value, -1)
            _count(comment_id, likes + old_likes, dislikes + old_dislikes)
    return _finish(target, NAMES[value])


@rolls_back
def withdraw_vote(comment_id: int, voter: str) -> dict:
    """Take a reader's vote back (nothing to take back is fine); return the counts."""
    target = _published(comment_id)
    _check_voter_site(target, voter)
    for value in (1, -1):
        removed = db.session.execute(
            delete(CommentVote.__table__).where(
                CommentVote.comment_id == comment_id,
                CommentVote.voter == voter,
                CommentVote.value == value,
            )
        ).rowcount
        if removed:
            _count(comment_id, *_delta(value, -1))
    return _finish(target, None)


def _finish(target: _Target, vote: str | None) -> dict:
    """Re-rank the article if due, commit, note the votes for the read cache; return counts."""
    _rerank_if_due(target)
    likes, dislikes = db.session.execute(
        select(Comment.likes, Comment.dislikes).where(Comment.id == target.comment_id)
    ).one()
    db.session.commit()
    readcache.note_votes(target.site_key, target.article_id)
    return {"likes": likes, "dislikes": dislikes, "vote": vote}


def _rerank_if_due(target: _Target) -> None:
    """Start a new ranking epoch for the article when its scores are RANK_EPOCH_SECONDS old."""
    now = utcnow()
    due = now - timedelta(seconds=current_app.config["RANK_EPOCH_SECONDS"])
    if target.ranked_at is not None and target.ranked_at > due:
        return
    if rerank_article(target.article_pk, now, only_if_before=due):
        # A new ranking shows at once: one re-render per article per epoch at most.
        readcache.touch_article(db.session, target.site_key, target.article_id)


def rerank_article(article_pk: int, now=None, only_if_before=None) -> bool:
    """Recompute an article's top-level scores as a new ranking epoch (in the caller's
    transaction); False if another transaction started the epoch first."""
    now = now or utcnow()
    articles = Article.__table__
    claim = update(articles).where(articles.c.id == article_pk)
    if only_if_before is not None:
        # The conditional UPDATE is the lock: of two voters only one starts the epoch.
        claim = claim.where(
            or_(articles.c.ranked_at.is_(None), articles.c.ranked_at <= only_if_before)
        )
    claimed = db.session.execute(
        claim.values(rank_epoch=articles.c.rank_epoch + 1, ranked_at=now)
    ).rowcount
    if not claimed:
        return False
    rows = db.session.execute(
        select(Comment.id, Comment.likes, Comment.dislikes, Comment.top_score).where(
            Comment.article_id == article_pk, Comment.parent_id.is_(None)
        )
    ).all()
    if rows:
        db.session.execute(
            update(COMMENTS)
            .where(COMMENTS.c.id == bindparam("comment_id"))
            .values(
                prev_top_score=bindparam("prev"),
                top_score=bindparam("score"),
                updated_at=COMMENTS.c.updated_at,
            ),
            [
                {
                    "comment_id": row.id,
                    "prev": row.top_score,
                    "score": wilson_lower_bound(row.likes, row.dislikes),
                }
                for row in rows
            ],
        )
    return True
