"""CORS for the public API: a page may call it from a browser only if its site allows the origin.

flask-cors takes a fixed list of origins per route; here the allowed origins belong to the site a
request is about (the site in the path, or the comment's site), so the check is hand-written.
"""

from __future__ import annotations

from flask import Flask, Response, request

from service.core.origins import InvalidOriginError, normalize_origin
from service.web.request_site import request_site

API_PREFIX = "/api/v1/"
# Blueprints whose routes pages may call cross-origin; the moderation API is never one of them.
CORS_BLUEPRINTS = {"public"}
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Content-Type, X-Delete-Token, Authorization"
EXPOSE_HEADERS = "ETag, Retry-After"
PREFLIGHT_MAX_AGE = "600"
GRANTED = "talkback.cors_granted"


def _normalized_or_none(value: str) -> str | None:
    try:
        return normalize_origin(value)
    except InvalidOriginError:
        return None  # e.g. "null" from a sandboxed frame: never granted


def grants(origin: str, allowed_origins: list[str]) -> bool:
    """Tell whether a site with these allowed origins grants this Origin header."""
    normalized = _normalized_or_none(origin)
    return normalized is not None and normalized in allowed_origins


def grant_headers(origin: str) -> list[tuple[str, str]]:
    """The headers that grant an (allowed) origin access to a public API answer."""
    return [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
    ]


def _site_origins() -> list[str]:
    """Return the allowed origins of the site this request is about (none without a site)."""
    site = request_site()
    return site.allowed_origins if site else []


def _is_granted(origin: str) -> bool:
    """Tell whether this request's site allows the origin; checked once per request."""
    # Kept in the WSGI environ, not in g: g outlives the request when an app context was already
    # pushed (tests, CLI), and a stale answer must never leak into the next request.
    if GRANTED not in request.environ:
        request.environ[GRANTED] = request.blueprint in CORS_BLUEPRINTS and grants(
            origin, _site_origins()
        )
    return request.environ[GRANTED]


def _before_request() -> Response | None:
    origin = request.headers.get("Origin")
    if origin and request.blueprint in CORS_BLUEPRINTS:
        # Decide now, before the view, so the answer never depends on the view's session state.
        _is_granted(origin)
    if (
        request.method != "OPTIONS"
        or not origin
        or "Access-Control-Request-Method" not in request.headers
        or not request.path.startswith(API_PREFIX)
    ):
        return None
    # A preflight is always a 204: refusing is leaving out the grant, and the browser stops there.
    response = Response(status=204)
    response.vary.add("Origin")
    if _is_granted(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def _add_grant(response: Response) -> Response:
    if request.blueprint not in CORS_BLUEPRINTS or request.method == "OPTIONS":
        return response
    # Caches (browsers, CDNs) must keep answers for different origins apart, including the
    # answer to no Origin at all (Fetch standard, "CORS protocol and HTTP caches").
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and request.environ.get(GRANTED, False):
        response.headers.extend(grant_headers(origin))
    return response


def init_app(app: Flask) -> None:
    """Answer preflights and grant CORS on the public API for each site's allowed origins."""
    app.before_request(_before_request)
    app.after_request(_add_grant)
