"""A site's settings, changed through the admin API, as readers meet them on the public API:
comment length limits, closed sites, articles closed after N days, and CORS origins."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.extensions import db
from service.models import Article, Comment, utcnow

from .helpers import approved, comments_url, post_comment, row_count, status_of, submit

ADMIN = "/api/v1/admin/sites"
ORIGIN = "https://news.example"


@pytest.fixture
def admin(client, site, make_user, api_token):
    """admin(method, path, json=None): an admin API call by an operator; asserts it succeeded."""
    token = api_token(make_user("olga", role="operator"))

    def call(method: str, path: str, json: dict | None = None) -> dict:
        response = client.open(
            ADMIN + path, method=method, json=json, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.json
        return response.json

    return call


def thread(client, article: str = "a1", **headers):
    response = client.get(comments_url(article), headers=headers)
    assert response.status_code == 200, response.json
    return response


# --- Comment length ---------------------------------------------------------------------------


def test_length_limits_apply_to_the_text_of_new_comments(client, admin):
    admin("PATCH", "/demo", {"min_comment_length": 20, "max_comment_length": 100})

    short = post_comment(client, body="Too short.")
    assert short.status_code == 422
    assert short.json["error"]["message"] == "The comment is too short."
    assert short.json["error"]["fields"] == {"body": ["Write at least 20 characters."]}

    long = post_comment(client, body="x" * 101)
    assert long.status_code == 422
    assert long.json["error"]["fields"] == {"body": ["Keep it to 100 characters or fewer."]}

    # Markup doesn't count: 19 characters of text inside a link are still too short.
    wrapped = post_comment(client, body='<a href="https://example.org/">' + "y" * 19 + "</a>")
    assert wrapped.status_code == 422
    assert "body" in wrapped.json["error"]["fields"]
    assert row_count(Comment) == 0

    assert post_comment(client, body="z" * 20).status_code == 202
    assert post_comment(client, body="w" * 100).status_code == 202


def test_the_default_limits_take_any_comment_up_to_5000_characters(client, admin):
    assert post_comment(client, body="k").status_code == 202
    assert post_comment(client, body="q" * 5000).status_code == 202
    admin("PATCH", "/demo", {"min_comment_length": 2})
    assert post_comment(client, body="k").status_code == 422


# --- Closed sites -----------------------------------------------------------------------------


def test_a_closed_site_takes_no_comments_and_its_threads_stay_readable(client, admin, run_worker):
    published = approved(client, run_worker)
    assert thread(client).json["article"]["closed"] is False

    admin("POST", "/demo/close")
    refused = post_comment(client, body="Still here? This should not be stored anywhere.")
    assert refused.status_code == 409
    assert refused.json["error"]["message"] == "This site no longer takes comments."
    assert row_count(Comment) == 1
    # Replies too.
    reply = post_comment(client, body="A reply to the closed thread.", parent_id=published["id"])
    assert reply.status_code == 409

    page = thread(client).json
    assert page["article"]["closed"] is True
    assert [comment["id"] for comment in page["comments"]] == [published["id"]]
    # An article nobody commented on yet reads as closed too.
    assert thread(client, "never-commented").json["article"]["closed"] is True
    own = client.get(
        f"/api/v1/comments/{published['id']}", headers={"X-Delete-Token": published["delete_token"]}
    )
    assert own.status_code == 200

    admin("POST", "/demo/reopen")
    assert thread(client).json["article"]["closed"] is False
    again = submit(client, body="Back again, and glad the comments are open.")
    assert status_of(again["id"]) == "pending"


# --- Articles closed after N days -------------------------------------------------------------


def age_article(external_id: str, days: float) -> None:
    """Move an article's creation back in time, as if its first comment came `days` ago."""
    article = db.session.scalar(db.select(Article).where(Article.external_id == external_id))
    article.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_articles_older_than_auto_close_days_take_no_comments(client, admin):
    submit(client, article="old")
    submit(client, article="recent")
    age_article("old", 31)
    age_article("recent", 29)
    assert thread(client, "old").json["article"]["closed"] is False  # no limit yet

    admin("PATCH", "/demo", {"auto_close_days": 30})
    refused = post_comment(client, article="old", body="A late comment on an old article.")
    assert refused.status_code == 409
    assert refused.json["error"]["message"] == "Comments on this article are closed."
    assert thread(client, "old").json["article"]["closed"] is True

    assert thread(client, "recent").json["article"]["closed"] is False
    assert post_comment(client, article="recent", body="Still in time.").status_code == 202
    # A new article starts its own clock.
    assert post_comment(client, article="brand-new", body="First!").status_code == 202
    assert thread(client, "brand-new").json["article"]["closed"] is False

    admin("PATCH", "/demo", {"auto_close_days": None})
    assert thread(client, "old").json["article"]["closed"] is False
    assert post_comment(client, article="old", body="Open again.").status_code == 202


# --- CORS -------------------------------------------------------------------------------------


def grant(response) -> str | None:
    return response.headers.get("Access-Control-Allow-Origin")


def test_origins_set_through_the_admin_api_drive_cors(client, admin):
    never = "https://never.example"
    assert grant(thread(client, Origin=ORIGIN)) is None

    admin("PATCH", "/demo", {"allowed_origins": [ORIGIN + "/", "https://other.example"]})
    assert grant(thread(client, Origin=ORIGIN)) == ORIGIN
    assert grant(thread(client, Origin="https://other.example")) == "https://other.example"
    assert grant(thread(client, Origin=never)) is None
    preflight = client.options(
        comments_url(), headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert grant(preflight) == ORIGIN
    posted = client.post(
        comments_url(),
        json={"author_name": "Dana", "body": "From the page."},
        headers={"Origin": ORIGIN},
    )
    assert posted.status_code == 202
    assert grant(posted) == ORIGIN

    admin("PATCH", "/demo", {"allowed_origins": ["https://other.example"]})
    assert grant(thread(client, Origin=ORIGIN)) is None
    assert grant(thread(client, Origin="https://other.example")) == "https://other.example"
    assert grant(thread(client, Origin=never)) is None
