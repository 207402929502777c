"""Reading threads: approved only, threading, sort, cursor pages, ETag, counts."""

import pytest

from service.extensions import db
from service.models import Comment, CommentStatus

from .helpers import approved, comments_url, submit


def _set_status(comment_id: int, status: CommentStatus) -> None:
    db.session.execute(db.update(Comment).where(Comment.id == comment_id).values(status=status))
    db.session.commit()


def test_unknown_article_reads_as_empty(client, site):
    response = client.get(comments_url("never-commented"))
    assert response.status_code == 200
    assert response.json == {
        "site": {
            "language": "en",
            "min_comment_length": 1,
            "max_comment_length": 5000,
            "edit_window_seconds": 300,
            "sign_in": "anonymous",
            "dislikes_enabled": False,
            "notifications": False,
        },
        "article": {"id": "never-commented", "url": None, "title": None, "closed": False},
        "count": 0,
        "comments": [],
        "next_cursor": None,
        "featured": [],
    }


def test_unknown_site_is_404(client, site):
    response = client.get(comments_url(site="nope"))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_only_approved_comments_are_served(client, site, run_worker):
    shown = approved(client, run_worker, body="First, a polite and approved comment.")
    held = submit(client, body="This one a moderator will hold.")
    rejected = submit(client, body="This one a moderator will reject.")
    pending = submit(client, body="This one is still waiting for the worker.")
    run_worker()
    _set_status(held["id"], CommentStatus.HELD)
    _set_status(rejected["id"], CommentStatus.REJECTED)
    _set_status(pending["id"], CommentStatus.PENDING)

    page = client.get(comments_url()).json
    assert [comment["id"] for comment in page["comments"]] == [shown["id"]]
    assert page["count"] == 1
    served = page["comments"][0]
    assert set(served) == {
        "id",
        "parent_id",
        "author_name",
        "title",
        "body_html",
        "created_at",
        "deleted",
        "featured",
        "edited_at",
        "badges",
        "likes",
        "replies",
    }
    assert served["created_at"].endswith("+00:00")


def test_replies_are_nested_under_their_parents_oldest_first(client, site, run_worker):
    root = approved(client, run_worker, body="Root comment about the bridge.")
    first = approved(client, run_worker, body="First reply.", parent_id=root["id"])
    second = approved(client, run_worker, body="Second reply.", parent_id=root["id"])
    deep = approved(client, run_worker, body="A reply to the first reply.", parent_id=first["id"])

    page = client.get(comments_url()).json
    assert page["count"] == 4
    [thread] = page["comments"]
    assert thread["id"] == root["id"]
    assert [reply["id"] for reply in thread["replies"]] == [first["id"], second["id"]]
    assert [reply["id"] for reply in thread["replies"][0]["replies"]] == [deep["id"]]
    assert thread["replies"][0]["replies"][0]["parent_id"] == first["id"]


def test_replies_of_a_removed_comment_are_hidden_with_it(client, site, run_worker):
    root = approved(client, run_worker, body="A comment a moderator removes later.")
    approved(client, run_worker, body="A reply to it.", parent_id=root["id"])
    _set_status(root["id"], CommentStatus.REJECTED)
    assert client.get(comments_url()).json["comments"] == []


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_cursor_pages_cover_every_top_level_comment_once_in_order(client, site, run_worker, sort):
    ids = [submit(client, body=f"Reader {n} thinks the bridge works well.")["id"] for n in range(7)]
    run_worker()
    expected = list(reversed(ids)) if sort == "newest" else ids

    seen, cursor, pages = [], None, 0
    while True:
        query = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(comments_url(), query_string=query).json
        seen += [comment["id"] for comment in page["comments"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3


def test_default_sort_is_newest_first(client, site, run_worker):
    older = submit(client, body="The older comment.")
    newer = submit(client, body="The newer comment.")
    run_worker()
    ids = [comment["id"] for comment in client.get(comments_url()).json["comments"]]
    assert ids == [newer["id"], older["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "best"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),
    ],
)
def test_bad_query_arguments_are_rejected_naming_the_field(client, site, query, field):
    response = client.get(comments_url(), query_string=query)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_etag_answers_304_until_the_thread_changes(client, site, run_worker):
    approved(client, run_worker, body="A first approved comment.")
    first = client.get(comments_url())
    assert first.status_code == 200
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    etag = first.headers["ETag"]
    assert client.get(comments_url(), headers={"If-None-Match": etag}).status_code == 304

    approved(client, run_worker, body="A second approved comment changes the thread.")
    changed = client.get(comments_url(), headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_counts_report_approved_comments_per_article(client, site, run_worker):
    approved(client, run_worker, article="a", body="One on a.")
    approved(client, run_worker, article="a", body="Two on a.")
    approved(client, run_worker, article="b", body="One on b.")
    submit(client, article="b", body="Pending on b does not count.")

    response = client.get("/api/v1/sites/demo/counts", query_string={"articles": "a,b,c,a"})
    assert response.status_code == 200
    assert response.json == {"counts": {"a": 2, "b": 1, "c": 0}}


@pytest.mark.parametrize("articles", ["", " , ", ",".join(f"a{n}" for n in range(101))])
def test_counts_need_one_to_a_hundred_articles(client, site, articles):
    response = client.get("/api/v1/sites/demo/counts", query_string={"articles": articles})
    assert response.status_code == 422
    assert "articles" in response.json["error"]["fields"]


def test_counts_without_articles_argument_names_it(client, site):
    response = client.get("/api/v1/sites/demo/counts")
    assert response.status_code == 422
    assert "articles" in response.json["error"]["fields"]


def test_counts_for_unknown_site_is_404(client, site):
    assert client.get("/api/v1/sites/nope/counts?articles=a").status_code == 404
