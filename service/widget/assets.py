"""The reader widget's static files: /embed.js, /embed.css and /count.js for embedding pages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, request

bp = Blueprint("widget", __name__)

WIDGET_DIR = Path(__file__).resolve().parents[1] / "static" / "widget"
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# Pages cache the files briefly; a new release reaches readers within minutes, and the ETag
# makes the revalidation after that a 304.
CACHE_CONTROL = "public, max-age=300"
# The files served as /embed.js, in order: the strings, the widget's parts (each one role), and
# last the start. They share one function scope, so the order only matters for what runs at once.
WIDGET_MODULES = (
    "strings.js",  # STRINGS: every text the reader sees, per language
    "config.js",  # the script tag, the API origin, limits and timings
    "dom.js",  # the element builder and relative times
    "store.js",  # localStorage that never throws, the commenter key
    "api.js",  # the public API client
    "thread.js",  # the Talkback class: layout, reading and rendering the thread
    "composer.js",  # writing and posting a comment
    "drafts.js",  # drafts across reloads and tabs
    "own.js",  # the reader's own comments and deleting them
    "edit.js",  # editing the reader's own comment within the site's edit window
    "pending.js",  # polling comments that await moderation
    "report.js",  # reporting a comment
    "sso.js",  # sign-in with the publisher's login (sessions, login-required)
    "votes.js",  # likes and dislikes, the reader's own votes remembered
    "dialog.js",  # the confirm dialog
    "live.js",  # the live "N new comments" poll
    "featured.js",  # editors' picks above the thread
    "embed.js",  # the start: reads the script tag and launches the widget
)


@dataclass(frozen=True)
class Asset:
    """A file as served: its bytes, content type and entity tag."""

    body: bytes
    mimetype: str
    etag: str


def _read(*names: str) -> str:
    return "".join((WIDGET_DIR / name).read_text(encoding="utf-8") for name in names)


def build_asset(name: str) -> Asset:
    """Return the served form of a widget file (embed.js is all of WIDGET_MODULES)."""
    if name == "embed.js":
        # One function scope for all the files, so STRINGS and the widget's names stay private
        # to the widget on the embedding page; nothing is minified or rewritten.
        text = '(() => {\n"use strict";\n' + _read(*WIDGET_MODULES) + "})();\n"
        mimetype = JAVASCRIPT
    elif name == "count.js":
        text, mimetype = _read("count.js"), JAVASCRIPT
    elif name == "embed.css":
        text, mimetype = _read("embed.css"), CSS
    else:
        raise KeyError(name)
    body = text.encode("utf-8")
    return Asset(body=body, mimetype=mimetype, etag=hashlib.sha256(body).hexdigest()[:32])


@cache
def _cached_asset(name: str) -> Asset:
    return build_asset(name)


def _serve(name: str) -> Response:
    # Read once per process; in debug mode on every request, so edits show without a restart.
    asset = build_asset(name) if current_app.debug else _cached_asset(name)
    response = Response(asset.body, mimetype=asset.mimetype)
    response.set_etag(asset.etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    # Any page may load these files: they are the same for everyone and carry no data. Reading
    # and writing comments is what CORS restricts to each site's own origins (service/cors.py).
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@bp.get("/embed.js")
def embed_js():
    """Serve the widget script (strings and code, no dependencies)."""
    return _serve("embed.js")


@bp.get("/embed.css")
def embed_css():
    """Serve the widget's stylesheet, which embed.js links inside its Shadow DOM."""
    return _serve("embed.css")


@bp.get("/count.js")
def count_js():
    """Serve the list-page script that fills in comment counts."""
    return _serve("count.js")
