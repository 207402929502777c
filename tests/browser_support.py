"""Helpers of the browser tests: a live server whose pages embed the widget cross-origin, and
locators and seeding for the widget, the console and axe-core (their fixtures are in conftest).

The server listens on 127.0.0.1 only; pages are opened at http://localhost:PORT and load the
widget (and call the API) at http://127.0.0.1:PORT, as a news site and its comment host would.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import Response, render_template_string, request
from werkzeug.serving import make_server

from service.core import comments
from service.extensions import db
from service.models import CommentStatus
from service.schemas.comments import CommentSubmitSchema
from service.widget.demo import content_security_policy

from .helpers import DEFAULT_PASSWORD, POLITE

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# The console tests' article (decided_comment).
ARTICLE_URL = "https://news.example/harbour-bridge-reopens"
ARTICLE_TITLE = "Harbour bridge reopens to traffic"

# A bare host page, like a newsroom's template: one element, one async script, a strict CSP.
HOST_PAGE = """<!doctype html>
<html lang="{{ lang }}"{% if lang == 'he' %} dir="rtl"{% endif %}>
<head><meta charset="utf-8"><title>Test article {{ article }}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body>
<h1>Test article</h1>
<div id="talkback"></div>
<script src="{{ api }}/embed.js" data-site="demo" data-article="{{ article }}"
  {% if limit %}data-limit="{{ limit }}"{% endif %}
  {% if live %}data-live="{{ live }}"{% endif %}
  {% if sso_token %}data-sso-token="{{ sso_token }}"{% endif %} async></script>
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

    def page(
        self,
        article: str = "a1",
        lang: str = "en",
        limit: int | None = None,
        live: str = "",
        sso_token: str = "",
    ) -> str:
        """Return the URL of a host page embedding the widget for an article (`live`: seconds
        between live polls at first, data-live; `sso_token`: a sign-in token, data-sso-token)."""
        query = f"article={article}&lang={lang}" + (f"&limit={limit}" if limit else "")
        query += f"&live={live}" if live else ""
        query += f"&sso_token={sso_token}" if sso_token else ""
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
        live=request.args.get("live"),
        sso_token=request.args.get("sso_token", ""),
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


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


# --- The widget ---------------------------------------------------------------------------------


def widget(page):
    """The widget's root section (Playwright's locators pierce the open shadow root)."""
    return page.locator("#talkback section.tb")


def widget_comment(page, text):
    """The <li> of the comment whose body has this text (innermost match)."""
    return page.locator(
        "li.tb-comment", has=page.locator(":scope > .tb-card .tb-body", has_text=text)
    )


def composer(page):
    return page.locator("form.tb-composer")


def post_through_widget(page, name="Noa", body=POLITE):
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Comment", exact=True).fill(body)
    page.get_by_role("button", name="Post comment").click()
    expect(widget_comment(page, body).get_by_text("Awaiting moderation")).to_be_visible()


# --- The console --------------------------------------------------------------------------------


def decided_comment(
    body: str,
    *,
    name: str = "Reader",
    status: CommentStatus = CommentStatus.HELD,
    reasons: tuple[str, ...] = ("held for review: first comment by this commenter",),
    toxicity: float | None = 0.12,
    spam: float | None = 0.05,
    site: str = "demo",
    parent_id: int | None = None,
    title: str | None = None,
    commenter: str | None = None,
) -> int:
    """Store a comment as the worker would have decided it; return its id."""
    fields = {
        "author_name": name,
        "body": body,
        "title": title,
        "parent_id": parent_id,
        "commenter_key": commenter,
        "article_url": ARTICLE_URL,
        "article_title": ARTICLE_TITLE,
    }
    data = CommentSubmitSchema().load({k: v for k, v in fields.items() if v is not None})
    comment_id = comments.submit_comment(site, "bridge", data, comments.Client()).id
    record = comments.DecisionRecord(comment_id, status, list(reasons), toxicity, spam)
    comments.record_decision(record, CommentStatus.PENDING, actor="worker")
    return comment_id


def open_console(context, server, username: str, path: str = "/console/", *, exact=False):
    """Open a console page in a new tab, logging in through the real form on the way; with
    `exact`, wait until that very page (not just any console page) has loaded."""
    page = context.new_page()
    page.problems = record_problems(page)
    page.goto(server.page_origin + path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{path}" if exact else "**/console/**")
    return page


def problems(page) -> list[str]:
    """The page's problems, less favicon loads a quick navigation cancelled (not our bug)."""
    return [problem for problem in page.problems if not problem.endswith("/favicon.svg")]


def open_console_at(context, server, username: str, path: str):
    """Open exactly this console page in a new tab, logging in on the way."""
    return open_console(context, server, username, path, exact=True)


def card(page, text: str):
    return page.locator("li.card", has=page.locator(".card-body", has_text=text))


def wait_ready(page) -> None:
    expect(page.locator("#queue-app[data-ready]")).to_have_count(1)


# --- axe-core -----------------------------------------------------------------------------------

AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_RUN = """async (rules) => {
    const result = await axe.run(document, {runOnly: rules});
    return result.violations.map(
        v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(", ")})`);
}"""


def violations(page) -> list[str]:
    """Inject axe-core into the page (CSP is bypassed for that) and return its violations."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN, AXE_RULES)
