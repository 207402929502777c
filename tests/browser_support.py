"""Helpers of the browser tests: a live server whose pages embed the widget cross-origin.

The server listens on 127.0.0.1 only; pages are opened at http://localhost:PORT and load the
widget (and call the API) at http://127.0.0.1:PORT, as a news site and its comment host would.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import Response, render_template_string, request
from werkzeug.serving import make_server

from service.core import comments
from service.extensions import db
from service.models import CommentStatus
from service.schemas.comments import CommentSubmitSchema
from service.widget.demo import content_security_policy

# A bare host page, like a newsroom's template: one element, one async script, a strict CSP.
HOST_PAGE = """<!doctype html>
<html lang="{{ lang }}"{% if lang == 'he' %} dir="rtl"{% endif %}>
<head><meta charset="utf-8"><title>Test article {{ article }}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body>
<h1>Test article</h1>
<div id="talkback"></div>
<script src="{{ api }}/embed.js" data-site="demo" data-article="{{ article }}"
  {% if limit %}data-limit="{{ limit }}"{% endif %} async></script>
</body></html>"""

# A list page with many stories, to see count.js split its requests.
LIST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stories</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><ul>{% for article in articles %}
<li>Story {{ article }} <span data-talkback-count="{{ article }}">?</span></li>{% endfor %}
</ul><script src="{{ api }}/count.js" data-site="demo" async></script></body></html>"""


@dataclass
class LiveServer:
    """A running app: `page_origin` is where pages open, `api_origin` the comment host."""

    port: int
    page_origin: str = field(init=False)
    api_origin: str = field(init=False)

    def __post_init__(self):
        self.page_origin = f"http://localhost:{self.port}"
        self.api_origin = f"http://127.0.0.1:{self.port}"

    def page(self, article: str = "a1", lang: str = "en", limit: int | None = None) -> str:
        """Return the URL of a host page embedding the widget for an article."""
        query = f"article={article}&lang={lang}" + (f"&limit={limit}" if limit else "")
        return f"{self.page_origin}/test-host?{query}"

    def list_page(self, count: int) -> str:
        """Return the URL of a list page with `count` stories s0, s1, ..."""
        return f"{self.page_origin}/test-list?n={count}"


def _page(template: str, **context) -> Response:
    api = "http://127.0.0.1:" + request.host.partition(":")[2]
    response = Response(render_template_string(template, api=api, **context), mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy(api)
    return response


def _host_page() -> Response:
    return _page(
        HOST_PAGE,
        article=request.args.get("article", "a1"),
        lang=request.args.get("lang", "en"),
        limit=request.args.get("limit"),
    )


def _list_page() -> Response:
    count = int(request.args.get("n", "5"))
    return _page(LIST_PAGE, articles=[f"s{number}" for number in range(count)])


@contextlib.contextmanager
def live_server(app_factory) -> Iterator[LiveServer]:
    """Serve a new app on 127.0.0.1 in a background thread, with the /test-host page."""
    server_app = app_factory(SERVER_NAME=None)  # answer to whatever host the browser uses
    server_app.add_url_rule("/test-host", "test_host", _host_page)
    server_app.add_url_rule("/test-list", "test_list", _list_page)
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with server_app.app_context():
            db.engine.dispose()
        redis = server_app.extensions.get("talkback_redis")
        if redis is not None:
            redis.close()


def allow_origins(site, *origins: str) -> None:
    """Let pages from these origins call the API for the site (CORS)."""
    site.allowed_origins = list(origins)
    db.session.commit()


def record_problems(page) -> list[str]:
    """Collect console errors and warnings (CSP violations among them), page errors, failed
    loads and HTTP errors of a page, as readable lines."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            message.type in ("error", "warning")
            and problems.append(
                f"console {message.type}: {message.text} ({message.location.get('url')})"
            )
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and problems.append(f"HTTP {response.status}: {response.url}")
        ),
    )
    return problems


def seed(
    article: str,
    body: str,
    *,
    name: str = "Reader",
    title: str | None = None,
    parent_id: int | None = None,
    approve: bool = True,
) -> comments.Submitted:
    """Store a comment through the service layer (approved unless told); return id and token."""
    fields = {"author_name": name, "body": body, "title": title, "parent_id": parent_id}
    data = CommentSubmitSchema().load({k: v for k, v in fields.items() if v is not None})
    submitted = comments.submit_comment("demo", article, data, comments.Client())
    if approve:
        record = comments.DecisionRecord(submitted.id, CommentStatus.APPROVED, ["test"])
        comments.record_decision(record, CommentStatus.PENDING, actor="test")
    return submitted
