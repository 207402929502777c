"""The signed-in reader of a public API request: `Authorization: Bearer <reader session>`."""

from __future__ import annotations

from flask import request

from service.core.sso import Reader, read_session
from service.errors import SessionExpiredError
from service.models import Site


def bearer_session() -> str | None:
    """Return the reader session of the Authorization header, None without one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionExpiredError(
            "Send the reader session as 'Authorization: Bearer <session>'.",
            {"Authorization": ["Not a Bearer session."]},
        )
    return token.strip()


def current_reader(site: Site | str | None) -> Reader | None:
    """Return the signed-in reader of this request on the site (a Site or its key), or None
    for an anonymous request; raise a 401 (SessionExpiredError) for a bad or expired session.

    With site=None the session may be of any site: the caller must compare reader.site_id
    with the site of what it acts on (e.g. a comment's).
    """
    session = bearer_session()
    if session is None:
        return None
    site_key = site.key if isinstance(site, Site) else site
    return read_session(session, site_key)
