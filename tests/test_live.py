"""The live poll: a tiny, cacheable answer that changes when a comment is published."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from service.extensions import db
from service.models import Comment, Site

from .helpers import approved, count_queries, make_comment, submit

LIVE = "/api/v1/sites/demo/articles/a1/live"
ORIGIN = "https://news.example"


def live(client, etag: str | None = None):
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(LIVE, headers=headers)


def test_an_article_without_comments_answers_zero(client, site):
    response = live(client)
    assert response.status_code == 200
    assert response.json["approved"] == 0 and response.json["latest"] is None
    assert response.headers["ETag"].strip('"') == response.json["version"]
    assert response.headers["Cache-Control"] == "public, max-age=5, s-maxage=5"


def test_unknown_site_and_bad_article_are_clear_errors(client, site):
    assert client.get("/api/v1/sites/nope/articles/a1/live").status_code == 404
    response = client.get("/api/v1/sites/demo/articles/%20/live")
    assert response.status_code == 422
    assert "article" in response.json["error"]["fields"]


def test_version_changes_on_approval_not_on_pending(client, site, run_worker):
    first = live(client).json
    pending = submit(client)
    assert live(client).json == first  # a pending comment is nobody's news yet
    run_worker()
    db.session.expire_all()
    assert db.session.get(Comment, pending["id"]).status.value == "approved"
    after = live(client).json
    assert after["version"] != first["version"]
    assert after["approved"] == 1 and after["latest"] == pending["id"]


def test_replies_count_and_304_while_unchanged(client, site, run_worker):
    root = approved(client, run_worker)
    first = live(client)
    assert live(client, first.headers["ETag"]).status_code == 304
    assert live(client, first.headers["ETag"]).data == b""
    reply = approved(
        client,
        run_worker,
        parent_id=root["id"],
        body="A thoughtful reply about the harbour ferry timetable and its winter changes.",
    )
    second = live(client, first.headers["ETag"])
    assert second.status_code == 200
    assert second.json["approved"] == 2 and second.json["latest"] == reply["id"]


def test_rejected_and_shadowed_comments_do_not_count(client, site, run_worker):
    approved(client, run_worker)
    before = live(client).json
    site = db.session.scalar(db.select(Site).where(Site.key == "demo"))
    make_comment(site, "rejected")
    shadowed = make_comment(site, "approved")
    db.session.execute(db.update(Comment).where(Comment.id == shadowed.id).values(shadow=True))
    db.session.commit()
    # A bulk update the read cache did not see: a new version by hand, as moderation code does.
    from service.core import readcache

    readcache.touch_comments(db.session, [shadowed.id])
    db.session.commit()
    assert live(client).json["approved"] == before["approved"]


def test_steady_state_polls_cost_no_query(client, site, run_worker):
    approved(client, run_worker)
    first = live(client)  # fills the cache
    with count_queries() as statements:
        for _ in range(5):
            assert live(client).json == first.json
            assert live(client, first.headers["ETag"]).status_code == 304
    assert statements == []


def _answer(response) -> tuple:
    headers = sorted((name, value) for name, value in response.headers if name != "Date")
    return response.status_code, headers, response.get_data()


@pytest.mark.parametrize("conditional", [False, True])
def test_the_fast_path_answers_byte_for_byte_as_the_view(app, client, site, conditional):
    site.allowed_origins = [ORIGIN]
    db.session.commit()
    make_comment(site, "approved")
    seen = []
    app.before_request(lambda: seen.append(1) and None)
    flask_only = Client(app.wsgi_app.wsgi_app, Response)
    filled = client.get(LIVE, headers={"Origin": ORIGIN})  # the view fills cache and origins
    assert len(seen) == 1
    headers = {"Origin": ORIGIN}
    if conditional:
        headers["If-None-Match"] = filled.headers["ETag"]
    with count_queries() as statements:
        fast = client.get(LIVE, headers=headers)
    assert len(seen) == 1  # answered before Flask dispatched it
    assert statements == []
    assert fast.status_code == (304 if conditional else 200)
    assert fast.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert _answer(fast) == _answer(flask_only.get(LIVE, headers=headers))


def test_without_the_read_cache_it_still_answers(app_factory, migrated, site, run_worker, client):
    approved(client, run_worker)
    cold = app_factory(READ_CACHE_SECONDS=0)
    with cold.app_context():
        response = cold.test_client().get(LIVE)
    assert response.status_code == 200 and response.json["approved"] == 1
