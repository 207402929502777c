"""Whom a moderation request concerns: the sites a caller may moderate, and actors' names."""

from __future__ import annotations

from sqlalchemy import true

from service.core.comments import find_site
from service.errors import ForbiddenError, NotFoundError
from service.extensions import db
from service.models import MAX_ID, Comment

MODERATOR_PREFIX = "moderator:"
UNDO_PREFIX = "undo of decision #"
FORBIDDEN_SITE = "You don't moderate this site."


def moderator_actor(username: str) -> str:
    """Return the audit actor name of a moderator or operator account."""
    return f"{MODERATOR_PREFIX}{username}"


def narrow_scope(site_ids: set[int] | None, site_key: str | None) -> set[int] | None:
    """Return the site ids a request may see: the caller's sites narrowed by a `site=` filter."""
    if site_key is None:
        return site_ids
    site = find_site(site_key)
    if site_ids is not None and site.id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE, {"site": [FORBIDDEN_SITE]})
    return {site.id}


def in_scope(column, scope: set[int] | None):
    """A WHERE clause limiting `column` (a site id) to the scope; None means no limit."""
    return true() if scope is None else column.in_(sorted(scope))


def comment_for(comment_id: int, site_ids: set[int] | None) -> Comment:
    """Return a comment the caller may moderate, or raise 404 / 403."""
    comment = db.session.get(Comment, comment_id) if 1 <= comment_id <= MAX_ID else None
    if comment is None:
        raise NotFoundError("There is no such comment.")
    if site_ids is not None and comment.site_id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE)
    return comment
