"""The fast read path: a thread page the read cache holds is answered before Flask dispatches.

Most requests are readers asking again for a page the cache holds. For those, routing, the
request hooks and the schema machinery cost more than the answer itself, so this WSGI layer
matches the thread URL with one regular expression, checks the query the way ThreadQuerySchema
does, and asks the read cache once (page, count and the site's origins in one round trip). It
answers only a hit whose every detail it can vouch for, with the same bytes and headers as the
view (tests/test_fast_reads.py compares them); anything else (a miss, an unusual query, a new
Origin, Redis down) goes on to Flask, which answers it in full and fills the cache.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.http import parse_etags, quote_etag

from service.core import readcache, threads
from service.core.comments import check_site_key, is_valid_article_id
from service.core.metrics import REQUEST_SECONDS
from service.errors import TalkbackError
from service.web import cors

THREAD_PATH = re.compile(r"/api/v1/sites/([^/]+)/articles/([^/]+)/comments")
ENDPOINT = "public.ArticleComments"
# The live poll (service.core.live): open pages ask it every 15 s or so, so a cached answer
# skips Flask the same way.
LIVE_PATH = re.compile(r"/api/v1/sites/([^/]+)/articles/([^/]+)/live")
LIVE_ENDPOINT = "public.ArticleLive"
SORTS = ("newest", "oldest", "top")
LIMIT = re.compile(r"[0-9]{1,3}")
CURSOR_MAX = 200
STATUS_LINES = {200: "200 OK", 304: "304 NOT MODIFIED"}


class FastReads:
    """WSGI middleware answering read-cache hits of thread pages; the rest goes to the app."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            path = environ.get("PATH_INFO", "")
            for pattern, endpoint, answer_with in (
                (THREAD_PATH, ENDPOINT, self._answer),
                (LIVE_PATH, LIVE_ENDPOINT, self._answer_live),
            ):
                match = pattern.fullmatch(path)
                if not match:
                    continue
                started = time.perf_counter()
                answer = answer_with(environ, match)
                if answer is not None:
                    status, headers, body = answer
                    start_response(STATUS_LINES[status], headers)
                    REQUEST_SECONDS.labels(
                        endpoint=endpoint, method="GET", status=f"{status // 100}xx"
                    ).observe(time.perf_counter() - started)
                    return [body]
                break
        return self.wsgi_app(environ, start_response)

    def _answer_live(self, environ: dict, match: re.Match) -> tuple[int, list, bytes] | None:
        """Return (status, headers, body) for a cached live answer, or None for the app."""
        site, article = _path_parts(match)
        if site is None or not is_valid_article_id(article):
            return None
        with self.app.app_context():
            try:
                check_site_key(site)
            except TalkbackError:
                return None
            cached = readcache.lookup_live(site, article)
            if cached is None or cached[1] is None:
                return None
            cache_control = live_cache_control(self.app.config)
        etag, _, body = cached[1].partition(b"\n")
        return _conditional(
            environ, threads.RenderedPage(body, etag.decode()), cache_control, cached[2]
        )

    def _answer(self, environ: dict, match: re.Match) -> tuple[int, list, bytes] | None:
        """Return (status, headers, body) for a cache hit, or None to let the app answer."""
        site, article = _path_parts(match)
        query = _thread_query(environ.get("QUERY_STRING", ""))
        if site is None or query is None or not is_valid_article_id(article):
            return None
        with self.app.app_context():
            try:
                check_site_key(site)
                if query[2]:
                    threads.decode_position(query[2], query[0])
            except TalkbackError:
                return None
            variant = threads.page_variant(site, article, *query)
            lookup = readcache.lookup_page(site, article, variant)
            if lookup is None or lookup.page is None:
                return None
            cache_control = thread_cache_control(self.app.config)
        return _conditional(environ, threads.unpack(lookup.page), cache_control, lookup.settings)


def _path_parts(match: re.Match) -> tuple[str | None, str | None]:
    """The site key and article id of a matched path (None, None if not UTF-8)."""
    try:
        # WSGI gives the path as latin-1 characters of its UTF-8 bytes, as Flask decodes it.
        site, article = (part.encode("latin-1").decode() for part in match.groups())
    except UnicodeError:
        return None, None
    return site, article


def _conditional(
    environ: dict, page: threads.RenderedPage, cache_control: str, settings: bytes | None
) -> tuple[int, list, bytes] | None:
    """Answer a cached page (200, or 304 for its ETag) with CORS; None if origins are unknown."""
    headers = []
    origin = environ.get("HTTP_ORIGIN")
    if origin:
        if settings is None:
            return None  # the app looks the site's origins up (and caches them)
        allowed = (json.loads(settings) or {}).get("allowed_origins") or []
        if cors.grants(origin, allowed):
            headers += cors.grant_headers(origin)
    unchanged = parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(page.etag)
    common = [
        ("ETag", quote_etag(page.etag)),
        ("Cache-Control", cache_control),
        ("Vary", "Origin"),
    ]
    if unchanged:
        return 304, common + headers, b""
    content = [("Content-Type", "application/json"), ("Content-Length", str(len(page.body)))]
    return 200, content + common + headers, page.body


def _thread_query(query_string: str) -> tuple[str, int, str | None] | None:
    """Return (sort, limit, cursor) if the query is one ThreadQuerySchema reads plainly."""
    seen: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name in ("sort", "limit", "cursor"):
            if name in seen:
                return None
            seen[name] = value
    sort = seen.get("sort", "newest")
    limit = seen.get("limit", "20")
    cursor = seen.get("cursor")
    if sort not in SORTS or not LIMIT.fullmatch(limit) or not 1 <= int(limit) <= 100:
        return None
    if cursor is not None and not 0 < len(cursor) <= CURSOR_MAX:
        return None
    return sort, int(limit), cursor


def live_cache_control(config) -> str:
    """Cache-Control of live answers: a few seconds in browsers and CDNs alike."""
    seconds = config["LIVE_MAX_AGE_SECONDS"]
    return f"public, max-age={seconds}, s-maxage={seconds}"


def thread_cache_control(config) -> str:
    """Cache-Control of thread pages: browsers keep them briefly, CDNs a little longer and may
    serve a stale page while they revalidate it (a 304 from the read cache is cheap)."""
    return (
        f"public, max-age={config['THREAD_MAX_AGE_SECONDS']}"
        f", s-maxage={config['THREAD_SHARED_MAX_AGE_SECONDS']}"
        f", stale-while-revalidate={config['THREAD_STALE_WHILE_REVALIDATE_SECONDS']}"
    )


def init_app(app: Flask) -> None:
    """Put the fast read path in front of the app."""
    app.wsgi_app = FastReads(app, app.wsgi_app)
