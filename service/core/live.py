"""The live poll: how many comments an open page's thread has now, answered from the read cache.

A page with the widget open asks every so often whether its thread has new comments. The answer
is tiny (the approved count and the latest approved comment's id) and is kept in Redis under the
article's read-cache version, so in steady state a poll is one Redis round trip and no database
query; every change readers can see replaces the version, and the next poll counts afresh. Its
`version` (and ETag) is a digest of the answer itself: the same thread state gives the same
ETag in every process and after Redis forgets the cache, so browsers and CDNs get 304s.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from sqlalchemy import and_, bindparam, func, select

from service.core import readcache
from service.core.comments import check_article_id, check_site_key
from service.core.threads import RenderedPage
from service.errors import NotFoundError
from service.extensions import db
from service.models import Article, Comment, CommentStatus, Site


@cache
def _statement():
    """The site, and the article's approved visible comments: how many, and the newest id."""
    approved = and_(
        Comment.article_id == Article.id,
        Comment.status == CommentStatus.APPROVED,
        Comment.shadow.is_(False),
    )
    return (
        select(
            Site.id,
            select(func.count()).where(approved).correlate(Article).scalar_subquery(),
            select(func.max(Comment.id)).where(approved).correlate(Article).scalar_subquery(),
        )
        .select_from(Site)
        .outerjoin(
            Article,
            and_(Article.site_id == Site.id, Article.external_id == bindparam("article")),
        )
        .where(Site.key == bindparam("site"))
    )


def render(approved: int, latest: int | None) -> RenderedPage:
    """Return the live answer for a thread state; its version is its ETag."""
    version = hashlib.sha1(f"{approved}:{latest}".encode(), usedforsecurity=False).hexdigest()[:16]
    body = json.dumps(
        {"version": version, "approved": approved, "latest": latest}, separators=(",", ":")
    ).encode()
    return RenderedPage(body, version)


def pack(page: RenderedPage) -> bytes:
    """Return a live answer as the read cache stores it: the ETag, a newline, the JSON."""
    return page.etag.encode() + b"\n" + page.body


def live_state(site_key: str, article_id: str) -> RenderedPage:
    """Return an article's live answer: from the read cache, else counted (and then kept)."""
    check_site_key(site_key)
    check_article_id(article_id)
    cached = readcache.lookup_live(site_key, article_id)
    if cached is not None and cached[1] is not None:
        etag, _, body = cached[1].partition(b"\n")
        return RenderedPage(body, etag.decode())
    row = db.session.execute(_statement(), {"site": site_key, "article": article_id}).first()
    if row is None:
        raise NotFoundError(f"There is no site '{site_key}'.")
    page = render(row[1] or 0, row[2])
    if cached is not None:
        readcache.store_live(cached[0], pack(page))
    return page
