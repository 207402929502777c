"""The server-rendered demo page: strict CSP, no scripts, the form, moderation, safe output."""

import re

import pytest

from service.demo import DEMO_ARTICLE, DEMO_TITLE
from service.extensions import db
from service.models import Article, Comment

from .helpers import row_count


def page_html(client, url: str = "/demo") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_form(client, follow_redirects: bool = False, **fields):
    form = {"author_name": "Dana", "body": "The new cycle lane cannot come soon enough.", **fields}
    return client.post("/demo", data=form, follow_redirects=follow_redirects)


def test_demo_page_is_html_with_the_headline_and_an_empty_thread(client, site):
    response = client.get("/demo")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{DEMO_TITLE}</h1>" in html
    assert "Talkbacks (0)" in html
    assert "No talkbacks yet." in html
    assert '<form method="post" action="/demo">' in html


def test_demo_page_runs_under_a_strict_content_security_policy(client, site):
    response = client.get("/demo")
    policy = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "script-src" not in directives  # falls back to default-src 'none'
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True).lower()
    assert "<script" not in html
    assert " style=" not in html  # inline styles would be blocked by style-src 'self'
    assert not re.search(r"\son[a-z]+=", html)  # nor any inline event handler


def test_the_stylesheet_it_links_is_served(client, site):
    html = page_html(client)
    [href] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    with client.get(href) as response:  # a file response: close it
        assert response.status_code == 200
        assert response.mimetype == "text/css"


def test_posting_the_form_redirects_and_stores_a_pending_comment(client, site):
    response = post_form(client)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith("/demo#comment-form")
    comment = db.session.scalars(db.select(Comment)).one()
    assert comment.status.value == "pending"
    assert comment.author_name == "Dana"
    assert comment.body_text == "The new cycle lane cannot come soon enough."
    article = db.session.scalars(db.select(Article)).one()
    assert (article.external_id, article.title) == (DEMO_ARTICLE, DEMO_TITLE)
    assert article.url == "http://talkback.test/demo"


def test_after_posting_the_page_says_it_awaits_moderation_and_hides_it(client, site):
    html = post_form(client, follow_redirects=True).get_data(as_text=True)
    comment_id = db.session.scalars(db.select(Comment.id)).one()
    assert f"Comment #{comment_id} is awaiting moderation" in html
    assert "To delete it later, keep this token:" in html
    assert "The new cycle lane" not in html  # not published before the worker approves it
    # The flash is shown once.
    assert "awaiting moderation" not in page_html(client)


def test_approved_comment_appears_on_the_page(client, site, run_worker):
    post_form(client, author_name="Noa", title="Finally", body="Walked across it at dawn today.")
    run_worker()
    html = page_html(client)
    assert "Talkbacks (1)" in html
    assert "Walked across it at dawn today." in html
    assert '<span class="author" dir="auto">Noa</span>' in html
    assert '<h3 dir="auto">Finally</h3>' in html


def test_rejected_comment_never_appears(client, site, run_worker):
    post_form(client, body="you are a worthless idiot")
    run_worker()
    html = page_html(client)
    assert "worthless" not in html
    assert "Talkbacks (0)" in html


def test_markup_in_a_comment_is_shown_as_safe_text(client, site, run_worker):
    post_form(
        client,
        author_name="<b>Mallory</b>",
        title="<script>alert(1)</script>Hi",
        body="<img src=x onerror=alert(1)>hello",
    )
    run_worker()
    html = page_html(client)
    assert re.search(r'<div class="body" dir="auto">\s*hello\s*</div>', html), html
    assert "<img" not in html
    assert "onerror" not in html
    assert "<script" not in html.lower()
    assert "<b>Mallory" not in html
    assert ">Mallory</span>" in html


@pytest.mark.parametrize(
    ("fields", "flash"),
    [
        ({"author_name": ""}, "Author name: Missing data for required field."),
        ({"author_name": "   "}, "Author name: Missing data for required field."),
        ({"body": ""}, "Body: Missing data for required field."),
        ({"author_email": "not-an-email"}, "Author email: Not a valid email address"),
        ({"body": "b" * 5001}, "Body: Length must be between 1 and 5000."),
        ({"body": "<img src=x>"}, "The comment has no text once markup is removed."),
    ],
)
def test_invalid_form_redirects_with_an_error_and_stores_nothing(client, site, fields, flash):
    response = post_form(client, **fields)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith("/demo#comment-form")
    html = post_form(client, follow_redirects=True, **fields).get_data(as_text=True)
    assert '<p class="flash error" role="status">' in html
    assert flash in html
    assert "awaiting moderation" not in html
    assert row_count(Comment) == 0


def test_form_fields_other_than_the_documented_ones_are_ignored(client, site):
    response = post_form(client, status="approved", parent_id="1", is_admin="yes")
    assert response.status_code in (302, 303)
    comment = db.session.scalars(db.select(Comment)).one()
    assert comment.status.value == "pending"
    assert comment.parent_id is None


def test_demo_page_without_the_demo_site_is_not_found(client):
    response = client.get("/demo")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
