"""The reader's read path: threaded pages of approved comments, and comment counts.

Pages and counts come from the read cache (service.core.readcache) when it holds the article's
current version; a miss costs two queries (the site with the article and its count, then a page
of top-level comments with all their replies), built once per kind of page, and plain dicts
dumped straight to JSON.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, exists, func, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased

from service.core import featured, mail, pagination, readcache
from service.core.comments import (
    ARTICLE_ID_MAX,
    check_article_id,
    check_site_key,
    find_site,
    is_valid_article_id,
)
from service.errors import NotFoundError, UnprocessableError
from service.extensions import db
from service.models import Article, Comment, CommentStatus, Site, utcnow

VISIBLE = (CommentStatus.APPROVED, CommentStatus.DELETED)
# Replies nest this deep at most (a top-level comment is depth 0); deeper replies are shown
# flat at this depth (see _build_tree). The widget folds replies away from its third level.
MAX_REPLY_DEPTH = 10


def encode_cursor(created_at: datetime, comment_id: int) -> str:
    """Return an opaque cursor pointing just after this top-level comment."""
    return pagination.encode_cursor([created_at, comment_id])


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the position a cursor points at, or raise UnprocessableError naming `cursor`."""
    return pagination.decode_cursor(cursor, (datetime, pagination.ID))


TOP = "top"
# A sort=top cursor: its ranking epoch, and the (score, id) of the last top-level comment.
TOP_SHAPE = (TOP, pagination.ID, float, pagination.ID)
RANKING_CHANGED = "The ranking has changed since; start again from the first page."


def decode_position(cursor: str, sort: str) -> tuple:
    """Return the position a cursor of this sort points at, or raise 422 naming `cursor`."""
    if sort == TOP:
        # Epochs start at 0; the cursor stores epoch + 1 so it fits the id shape.
        _, epoch_plus_one, score, comment_id = pagination.decode_cursor(cursor, TOP_SHAPE)
        return (epoch_plus_one - 1, score, comment_id)
    return decode_cursor(cursor)


def _visible_roots():
    """Top-level comments a reader can see: approved, or deleted but with approved replies."""
    reply = aliased(Comment)
    has_approved_reply = exists().where(
        reply.root_id == Comment.id,
        reply.id != Comment.id,
        reply.status == CommentStatus.APPROVED,
        reply.shadow.is_(False),
    )
    return select(Comment.id).where(
        Comment.article_id == bindparam("article_pk"),
        Comment.parent_id.is_(None),
        Comment.shadow.is_(False),
        or_(
            Comment.status == CommentStatus.APPROVED,
            and_(Comment.status == CommentStatus.DELETED, has_approved_reply),
        ),
    )


def _approved_count():
    """The approved, visible comments of the article in the enclosing query."""
    return (
        select(func.count())
        .where(
            Comment.article_id == Article.id,
            Comment.status == CommentStatus.APPROVED,
            Comment.shadow.is_(False),
        )
        .correlate(Article)
        .scalar_subquery()
    )


@functools.cache
def _head_statement(with_count: bool):
    """The site, the article (if it exists yet) and, unless cached, its count: one query."""
    columns = [
        Site.language,
        Site.min_comment_length,
        Site.sign_in,
        Site.max_comment_length,
        Site.closed_at,
        Site.auto_close_days,
        Site.edit_window_seconds,
        Site.dislikes_enabled,
        Article.id.label("article_pk"),
        Article.rank_epoch,
        Article.url,
        Article.title,
        Article.is_closed,
        Article.created_at,
    ]
    if with_count:
        columns.append(_approved_count().label("count"))
    return (
        select(*columns)
        .select_from(Site)
        .outerjoin(
            Article,
            and_(Article.site_id == Site.id, Article.external_id == bindparam("article")),
        )
        .where(Site.key == bindparam("site"))
    )


THREAD_COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.root_id,
    Comment.status,
    Comment.author_name,
    Comment.title,
    Comment.body_html,
    Comment.created_at,
    Comment.featured_at,
    Comment.edited_at,
    Comment.badges,
    Comment.likes,
    Comment.dislikes,
)


@functools.cache
def _page_statement(newest_first: bool, after: bool, top_score=None):
    """A page of top-level comments (one more, to know if another page follows) and all their
    visible replies: one query, built once per kind of page.

    `top_score` (a score column) pages by that frozen score, highest first, ties by id.
    """
    roots = _visible_roots()
    rank = (top_score if top_score is not None else Comment.likes).label("rank")
    roots = roots.add_columns(rank)
    if top_score is not None:
        if after:
            score, after_id = bindparam("after_score"), bindparam("after_id")
            roots = roots.where(
                or_(top_score < score, and_(top_score == score, Comment.id > after_id))
            )
        order = (top_score.desc(), Comment.id.asc())
    elif after:
        at, after_id = bindparam("after_time"), bindparam("after_id")
        if newest_first:
            roots = roots.where(
                or_(Comment.created_at < at, and_(Comment.created_at == at, Comment.id < after_id))
            )
        else:
            roots = roots.where(
                or_(Comment.created_at > at, and_(Comment.created_at == at, Comment.id > after_id))
            )
    if top_score is None:
        order = (
            (Comment.created_at.desc(), Comment.id.desc())
            if newest_first
            else (Comment.created_at.asc(), Comment.id.asc())
        )
    page = roots.order_by(*order).limit(bindparam("limit_plus_one")).cte("page")
    in_thread = literal_column("0").label("pick")
    members = [
        select(*THREAD_COLUMNS, in_thread, page.c.rank).join(page, Comment.id == page.c.id),
        select(*THREAD_COLUMNS, in_thread, page.c.rank)
        .join(page, Comment.root_id == page.c.id)
        .where(
            Comment.parent_id.is_not(None),
            Comment.status.in_(VISIBLE),
            Comment.shadow.is_(False),
        ),
    ]
    if not after:
        # The first page leads with the editors' picks (rows marked pick = 1), same query.
        picks = featured.picks_statement().cte("picks")
        members.append(
            select(
                *THREAD_COLUMNS,
                literal_column("1").label("pick"),
                literal_column("0").label("rank"),
            ).join(picks, Comment.id == picks.c.id)
        )
    return union_all(*members)


def _iso(moment: datetime) -> str:
    """A stored naive-UTC time as ISO 8601 with its offset, as the schemas write it."""
    return moment.replace(tzinfo=UTC).isoformat()


def _entry(row, replies: list[dict], answered: bool, dislikes: bool) -> dict | None:
    """A comment with the visible replies shown under it; None if nothing of it is visible.

    `answered` tells whether any visible comment replies to it (shown under it or, deep in a
    chain, beside it).
    """
    if row.status == CommentStatus.DELETED:
        # A tombstone stays only while it holds up visible replies, and shows nothing of its own.
        if not answered:
            return None
        author_name = title = body_html = None
    else:
        author_name, title, body_html = row.author_name, row.title, row.body_html
    deleted = row.status == CommentStatus.DELETED
    entry = {
        "id": row.id,
        "parent_id": row.parent_id,
        "author_name": author_name,
        "title": title,
        "body_html": body_html,
        "created_at": _iso(row.created_at),
        "deleted": deleted,
        "featured": row.featured_at is not None and row.status == CommentStatus.APPROVED,
        # Set once an approved edit replaced the text: the widget shows "(edited)".
        "edited_at": _iso(row.edited_at) if row.edited_at and body_html is not None else None,
        # A signed-in author's badges (service.core.sso); a tombstone shows none.
        "badges": [] if deleted else (row.badges or []),
        "likes": 0 if deleted else row.likes,
        "replies": replies,
    }
    if dislikes:
        entry["dislikes"] = 0 if deleted else row.dislikes
    return entry


def _build_tree(roots: list, children: dict[int, list], dislikes: bool = False) -> list[dict]:
    """Build the visible comments under `roots`, without recursion, at most MAX_REPLY_DEPTH deep.

    A reply deeper than that is shown among the replies of its ancestor at depth
    MAX_REPLY_DEPTH - 1, in time order, keeping its own parent_id: a long back-and-forth reads as
    one flat conversation, and no chain can make the page (or its JSON) arbitrarily deep.
    """
    shown_under: dict[int, list] = {}
    order = []  # rows, parents before their replies
    stack = [(root, 0, None) for root in reversed(roots)]
    while stack:
        row, depth, shown_parent = stack.pop()
        order.append(row)
        if shown_parent is not None:
            shown_under.setdefault(shown_parent, []).append(row)
        # Replies of a comment at the deepest level are shown beside it, under its own parent.
        parent_for_replies = row.id if depth < MAX_REPLY_DEPTH else shown_parent
        stack.extend((child, depth + 1, parent_for_replies) for child in children.get(row.id, []))
    built: dict[int, dict | None] = {}
    for row in reversed(order):  # replies before their parents
        replies = sorted(
            shown_under.get(row.id, []), key=lambda reply: (reply.created_at, reply.id)
        )
        answered = any(built[child.id] is not None for child in children.get(row.id, []))
        built[row.id] = _entry(
            row,
            [node for reply in replies if (node := built[reply.id]) is not None],
            answered,
            dislikes,
        )
    return [node for root in roots if (node := built[root.id]) is not None]


def _seconds_until_closing(site_row) -> int | None:
    """Seconds until the article closes by age (its cached page must not outlive that)."""
    if site_row.auto_close_days is None or site_row.created_at is None or site_row.is_closed:
        return None
    closes_at = site_row.created_at + timedelta(days=site_row.auto_close_days)
    return max(1, int((closes_at - utcnow()).total_seconds()))


def _load_thread(
    site_key: str,
    article_id: str,
    sort: str,
    limit: int,
    position: tuple | None,
    count: int | None,
) -> tuple[dict, int | None]:
    """Return a page of an article's visible top-level comments with all their visible replies,
    and how many seconds it may be kept (None: no limit of its own).

    The caller has checked the site key, article id and cursor; `count`, when cached, saves
    counting the article's comments again.
    """
    head = db.session.execute(
        _head_statement(count is None), {"site": site_key, "article": article_id}
    ).first()
    if head is None:
        raise NotFoundError(f"There is no site '{site_key}'.")
    exists_yet = head.article_pk is not None
    closed_by_age = (
        exists_yet
        and head.auto_close_days is not None
        and head.created_at <= utcnow() - timedelta(days=head.auto_close_days)
    )
    page = {
        "site": {
            "language": head.language,
            "min_comment_length": head.min_comment_length,
            "sign_in": head.sign_in,
            "max_comment_length": head.max_comment_length,
            "edit_window_seconds": head.edit_window_seconds,
            "dislikes_enabled": bool(head.dislikes_enabled),
            "notifications": mail.enabled(),
        },
        "article": {
            "id": article_id,
            "url": head.url,
            "title": head.title,
            "closed": head.closed_at is not None or bool(head.is_closed) or closed_by_age,
        },
        "count": (head.count if count is None else count) if exists_yet else 0,
        "comments": [],
        "next_cursor": None,
    }
    if position is None:
        page["featured"] = []
    if not exists_yet:
        return page, None
    if sort == TOP:
        rows, epoch = _top_rows(head, limit, position)
    else:
        params = {"article_pk": head.article_pk, "limit_plus_one": limit + 1}
        if position:
            params["after_time"], params["after_id"] = position
        statement = _page_statement(sort == "newest", bool(position))
        rows = db.session.execute(statement, params).all()

    roots, children, picks = [], {}, []
    for row in rows:
        if row.pick:
            picks.append(row)
        elif row.parent_id is None:
            roots.append(row)
        else:
            children.setdefault(row.parent_id, []).append(row)
    if sort == TOP:
        roots.sort(key=lambda row: (-row.rank, row.id))
    else:
        roots.sort(key=lambda row: (row.created_at, row.id), reverse=sort == "newest")
    for replies in children.values():
        replies.sort(key=lambda row: (row.created_at, row.id))
    if len(roots) > limit:
        # The extra root only says another page follows; its replies are simply never reached.
        roots = roots[:limit]
        last = roots[-1]
        page["next_cursor"] = (
            pagination.encode_cursor([TOP, epoch + 1, float(last.rank), last.id])
            if sort == TOP
            else encode_cursor(last.created_at, last.id)
        )
    page["comments"] = _build_tree(roots, children, bool(head.dislikes_enabled))
    if position is None:
        # Editors' picks lead the first page only; featuring bumps the read cache version.
        picks.sort(key=lambda row: (row.featured_at, row.id), reverse=True)
        page["featured"] = [
            {
                "id": row.id,
                "parent_id": row.parent_id,
                "author_name": row.author_name,
                "title": row.title,
                "body_html": row.body_html,
                "created_at": _iso(row.created_at),
            }
            for row in picks
        ]
    return page, _seconds_until_closing(head)


def _top_rows(head, limit: int, position: tuple | None) -> tuple[list, int]:
    """Return the rows of a sort=top page and the ranking epoch its scores belong to.

    A cursor pages by the scores of the epoch it names: the current one (top_score) or the one
    before (prev_top_score); older cursors are refused. A new epoch committed between the head
    query and this one is noticed and the page read again under it.
    """
    current = head.rank_epoch
    for _ in range(3):
        epoch = current if position is None else position[0]
        if epoch == current:
            column = Comment.top_score
        elif epoch == current - 1:
            column = Comment.prev_top_score
        else:
            raise UnprocessableError(RANKING_CHANGED, {"cursor": [RANKING_CHANGED]})
        params = {"article_pk": head.article_pk, "limit_plus_one": limit + 1}
        if position:
            params["after_score"], params["after_id"] = position[1], position[2]
        rows = db.session.execute(_page_statement(False, bool(position), column), params).all()
        now = db.session.scalar(select(Article.rank_epoch).where(Article.id == head.article_pk))
        if now == current:
            return rows, epoch
        current = now
    raise UnprocessableError(RANKING_CHANGED, {"cursor": [RANKING_CHANGED]})


@dataclass(frozen=True)
class RenderedPage:
    """A thread page as JSON bytes, with the ETag that names exactly those bytes."""

    body: bytes
    etag: str


def _render(page: dict) -> RenderedPage:
    body = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()
    return RenderedPage(body, hashlib.sha1(body, usedforsecurity=False).hexdigest())


def page_variant(site_key: str, article_id: str, sort: str, limit: int, cursor: str | None) -> str:
    """Name one page of one thread, as the read cache keys it."""
    return "\0".join((site_key, article_id, sort, str(limit), cursor or ""))


def unpack(stored: bytes) -> RenderedPage:
    """Return a page as the read cache stores it: the ETag, a newline, the JSON."""
    etag, _, body = stored.partition(b"\n")
    return RenderedPage(body, etag.decode())


def thread_page(
    site_key: str, article_id: str, sort: str, limit: int, cursor: str | None
) -> RenderedPage:
    """Return a rendered thread page: from the read cache when it holds the current version,
    else from the database (and then kept for the next reader)."""
    check_site_key(site_key)
    check_article_id(article_id)
    # A bad cursor is a 422 whether or not a page is cached.
    position = decode_position(cursor, sort) if cursor else None
    variant = page_variant(site_key, article_id, sort, limit, cursor)
    lookup = readcache.lookup_page(site_key, article_id, variant)
    if lookup is not None and lookup.page is not None:
        return unpack(lookup.page)
    page, keep_seconds = _load_thread(
        site_key, article_id, sort, limit, position, lookup.count if lookup else None
    )
    rendered = _render(page)
    if lookup is not None:
        readcache.store_page(
            lookup,
            variant,
            rendered.etag.encode() + b"\n" + rendered.body,
            page["count"],
            keep_seconds,
        )
    return rendered


def parse_article_ids(articles: str) -> list[str]:
    """Split comma-separated article ids, or raise UnprocessableError naming `articles`."""
    article_ids = [a for a in dict.fromkeys(part.strip() for part in articles.split(",")) if a]
    limit = current_app.config["COUNTS_MAX_ARTICLES"]
    if not article_ids or len(article_ids) > limit:
        raise UnprocessableError(
            f"Ask for between 1 and {limit} articles at a time.",
            {"articles": [f"Give 1 to {limit} comma-separated article ids."]},
        )
    if not all(is_valid_article_id(article_id) for article_id in article_ids):
        raise UnprocessableError(
            "Some article ids are not valid.",
            {"articles": [f"Each id must be 1 to {ARTICLE_ID_MAX} printable characters."]},
        )
    return article_ids


def count_comments(site_key: str, articles: str) -> dict[str, int]:
    """Return the approved comment count of each article in a comma-separated list (0 if none)."""
    article_ids = parse_article_ids(articles)
    check_site_key(site_key)
    cached = readcache.lookup_counts(site_key, article_ids)
    found, versions = cached if cached is not None else ({}, {})
    missing = [article_id for article_id in article_ids if article_id not in found]
    if not missing:
        return found
    site = find_site(site_key)
    counts = dict.fromkeys(missing, 0)
    rows = db.session.execute(
        select(Article.external_id, func.count(Comment.id))
        .join(Comment, Comment.article_id == Article.id)
        .where(
            Article.site_id == site.id,
            Article.external_id.in_(missing),
            Comment.status == CommentStatus.APPROVED,
            Comment.shadow.is_(False),
        )
        .group_by(Article.external_id)
    )
    for external_id, count in rows:
        counts[external_id] = count
    if versions:
        readcache.store_counts(counts, versions)
    return {article_id: found.get(article_id, counts.get(article_id)) for article_id in article_ids}
