"""The site a public API request is about, looked up once per request for CORS and rate limits."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from flask import request
from sqlalchemy import select

from service.core import readcache
from service.extensions import db
from service.models import MAX_ID, Comment, Site

# In the WSGI environ, not in g: g outlives a request when an app context is already pushed
# (tests, CLI), and a stale answer must never leak into the next request.
REQUEST_SITE = "talkback.request_site"


@dataclass(frozen=True)
class RequestSite:
    """What the request plumbing needs of a site: its id, allowed origins and rate limits."""

    id: int
    allowed_origins: list[str]
    rate_limits: dict


def _by_key(site_key: str) -> RequestSite | None:
    """Return a site's request settings from the read cache, else from the database (then kept)."""
    cached = readcache.lookup_settings(site_key)
    if cached is not None and cached[1] is not None:
        found = json.loads(cached[1])
        return RequestSite(**found) if found else None
    row = db.session.execute(
        select(Site.id, Site.allowed_origins, Site.rate_limits).where(Site.key == site_key)
    ).first()
    site = RequestSite(row.id, row.allowed_origins or [], row.rate_limits or {}) if row else None
    if cached is not None:
        # An unknown key is kept too (as null): creating the site replaces the version.
        readcache.store_settings(cached[0], json.dumps(site and asdict(site)).encode())
    return site


def request_site() -> RequestSite | None:
    """Return the site named by the request's site key (cached) or comment id (one query)."""
    if REQUEST_SITE not in request.environ:
        args = request.view_args or {}
        columns = (Site.id, Site.allowed_origins, Site.rate_limits)
        query = None
        # The same guards as comments.find_site: PostgreSQL refuses NUL characters outright.
        if "site" in args and len(args["site"]) <= 64 and args["site"].isprintable():
            request.environ[REQUEST_SITE] = _by_key(args["site"])
            return request.environ[REQUEST_SITE]
        if "comment_id" in args and 1 <= args["comment_id"] <= MAX_ID:
            query = (
                select(*columns)
                .join(Comment, Comment.site_id == Site.id)
                .where(Comment.id == args["comment_id"])
            )
        row = db.session.execute(query).first() if query is not None else None
        request.environ[REQUEST_SITE] = (
            RequestSite(row.id, row.allowed_origins or [], row.rate_limits or {}) if row else None
        )
    return request.environ[REQUEST_SITE]
