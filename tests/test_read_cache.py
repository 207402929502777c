"""The read cache: hits cost no query, and after every kind of change the next read shows it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from service.core import moderation, privacy
from service.extensions import db
from service.models import Article, Comment, utcnow

from .helpers import (
    add,
    approved,
    comments_url,
    count_queries,
    decide,
    make_comment,
    submit,
)

COUNTS = "/api/v1/sites/demo/counts?articles=a1,a2"


class Reader:
    """A reader who keeps the last page and ETag, as a browser (or a CDN) does."""

    def __init__(self, client, url: str = comments_url()):
        self.client, self.url, self.etag = client, url, None

    def read(self) -> dict:
        """Read the page; assert it is new when it must be (a 200 with a new ETag)."""
        response = self.client.get(self.url)
        assert response.status_code == 200
        self.etag = response.headers["ETag"]
        return response.json

    def unchanged(self) -> bool:
        """Ask with the last ETag: True on a 304."""
        response = self.client.get(self.url, headers={"If-None-Match": self.etag})
        assert response.status_code in (200, 304)
        return response.status_code == 304

    def ids(self) -> list[int]:
        """Every comment id on the page, replies included, in page order."""
        found: list[int] = []

        def walk(nodes):
            for node in nodes:
                found.append(node["id"])
                walk(node["replies"])

        walk(self.read()["comments"])
        return found


def counts(client) -> dict[str, int]:
    response = client.get(COUNTS)
    assert response.status_code == 200
    return response.json["counts"]


@pytest.fixture
def reader(client, site):
    return Reader(client)


# --- Hits ------------------------------------------------------------------------------------


def test_a_cached_page_and_its_304_cost_no_query(client, reader, run_worker):
    approved(client, run_worker)
    first = reader.read()
    with count_queries() as statements:
        again = client.get(comments_url())
        conditional = client.get(comments_url(), headers={"If-None-Match": reader.etag})
        counted = counts(client), counts(client)
    assert again.json == first and again.headers["ETag"] == reader.etag
    assert conditional.status_code == 304 and conditional.data == b""
    assert counted[0] == {"a1": 1, "a2": 0}
    # Only the first /counts misses (two queries: the site, the counts); the rest are hits.
    assert len(statements) == 2, statements


def test_a_miss_costs_two_queries_and_a_later_page_reuses_the_count(client, site):
    for _ in range(3):
        make_comment(site, "approved")
    with count_queries() as statements:
        first = client.get(comments_url() + "?limit=2&sort=oldest").json
    assert len(statements) == 2, statements
    with count_queries() as statements:
        second = client.get(comments_url() + f"?limit=2&sort=oldest&cursor={first['next_cursor']}")
    # The count is cached with the article's version: the head query leaves it out.
    assert len(statements) == 2 and "count(" not in statements[0].lower(), statements
    assert first["count"] == second.json["count"] == 3
    assert len(first["comments"]) == 2 and len(second.json["comments"]) == 1


def test_the_cache_can_be_turned_off(app_factory, site, run_worker):
    off = app_factory(READ_CACHE_SECONDS=0)
    client = off.test_client()
    approved(client, run_worker)
    client.get(comments_url())
    with off.app_context(), count_queries() as statements:
        response = client.get(comments_url())
    assert response.status_code == 200 and len(response.json["comments"]) == 1
    assert len(statements) == 2


# --- Freshness: the very next read after each kind of change ----------------------------------


def test_an_automatic_decision_shows_at_once(client, reader, run_worker):
    assert reader.ids() == [] and counts(client)["a1"] == 0
    comment = submit(client)
    assert reader.unchanged(), "a pending comment changes nothing readers see"
    run_worker()
    assert not reader.unchanged()
    assert reader.ids() == [comment["id"]]
    assert counts(client)["a1"] == 1


def test_moderators_decisions_and_undo_show_at_once(client, site, reader, make_user, api_token):
    token = api_token(make_user("mia", sites=[site]))
    held = make_comment(site, "held")
    published = make_comment(site, "approved")
    assert reader.ids() == [published.id] and counts(client)["a1"] == 1

    def call(path: str, **body):
        headers = {"Authorization": f"Bearer {token}"}
        response = client.post(f"/api/v1/moderation{path}", json=body, headers=headers)
        assert response.status_code == 200, response.json
        reader_saw_change = not reader.unchanged()
        assert reader_saw_change

    call(f"/comments/{held.id}/decision", action="approve", expected_status="held")
    assert sorted(reader.ids()) == sorted([held.id, published.id])
    assert counts(client)["a1"] == 2
    call(f"/comments/{held.id}/undo")
    assert reader.ids() == [published.id] and counts(client)["a1"] == 1
    call(f"/comments/{published.id}/decision", action="reject", expected_status="approved")
    assert reader.ids() == [] and counts(client)["a1"] == 0


def test_the_console_services_decisions_show_at_once(client, site, reader):
    held = [make_comment(site, "held").id for _ in range(2)]
    assert reader.ids() == []
    decide(held, "approve")
    assert not reader.unchanged()
    assert sorted(reader.ids()) == sorted(held)


def test_a_bulk_decision_with_a_failed_item_still_shows_the_others(client, site, reader):
    first = make_comment(site, "held").id
    already = make_comment(site, "approved").id
    assert reader.ids() == [already]
    items = [{"id": i, "expected_status": "held"} for i in (first, already)]
    # The last item conflicts: its savepoint rolls back, the first decision stands and shows.
    results = moderation.decide_many("approve", items, moderation.moderator_actor("mia"), None)
    assert [result["error"] is None for result in results] == [True, False]
    assert not reader.unchanged()
    assert sorted(reader.ids()) == sorted([first, already])


def test_an_authors_delete_shows_at_once_and_keeps_a_needed_tombstone(client, reader, run_worker):
    parent = approved(client, run_worker)
    reply = approved(client, run_worker, parent_id=parent["id"], body="I agree with this, thanks.")
    page = reader.read()
    assert page["comments"][0]["replies"][0]["id"] == reply["id"]
    for comment, tombstone in ((parent, True), (reply, False)):
        headers = {"X-Delete-Token": comment["delete_token"]}
        assert (
            client.delete(f"/api/v1/comments/{comment['id']}", headers=headers).status_code == 204
        )
        assert not reader.unchanged()
        page = reader.read()
        if tombstone:
            assert page["comments"][0]["deleted"] is True
            assert page["comments"][0]["author_name"] is None
        else:
            # The tombstone held up nothing any more: it is gone too.
            assert page["comments"] == []
    assert counts(client)["a1"] == 0


def test_a_privacy_erase_shows_at_once(client, reader, run_worker):
    approved(client, run_worker, commenter_key="erase-me-0001")
    assert len(reader.ids()) == 1
    assert privacy.erase("erase-me-0001")["comments"] == 1
    assert not reader.unchanged()
    assert reader.ids() == [] and counts(client)["a1"] == 0


def test_a_ban_that_rejects_existing_comments_shows_at_once(
    client, site, reader, run_worker, make_user, api_token
):
    token = api_token(make_user("olga", role="operator"))
    approved(client, run_worker, commenter_key="troll-key-0001")
    kept = approved(client, run_worker, body="A second, friendly and useful comment here.")
    assert len(reader.ids()) == 2
    add(
        client,
        token,
        kind="hard",
        target="commenter_key",
        value="troll-key-0001",
        site="demo",
        reject_existing=True,
    )
    assert not reader.unchanged()
    assert reader.ids() == [kept["id"]] and counts(client)["a1"] == 1


def test_site_settings_shown_on_the_page_show_at_once(client, site, reader, cli):
    page = reader.read()
    assert page["site"]["language"] == "en" and page["article"]["closed"] is False
    assert cli("sites", "set", "demo", "--language", "he").exit_code == 0
    assert not reader.unchanged()
    assert reader.read()["site"]["language"] == "he"
    assert cli("sites", "close", "demo").exit_code == 0
    assert not reader.unchanged()
    assert reader.read()["article"]["closed"] is True


def test_closing_an_article_shows_at_once(client, site, reader, run_worker, make_user, api_token):
    token = api_token(make_user("mia", sites=[site]))
    approved(client, run_worker)
    assert reader.read()["article"]["closed"] is False
    url = "/api/v1/moderation/sites/demo/articles/a1/closing"
    headers = {"Authorization": f"Bearer {token}"}
    closed = client.put(url, json={"closed": True}, headers=headers)
    assert closed.status_code == 200 and closed.json["closed"] is True
    assert not reader.unchanged()
    assert reader.read()["article"]["closed"] is True
    refused = client.post(comments_url(), json={"author_name": "Dana", "body": "Too late now?"})
    assert refused.status_code == 409
    assert client.put(url, json={"closed": False}, headers=headers).status_code == 200
    assert reader.read()["article"]["closed"] is False


def test_an_article_closing_by_age_is_not_hidden_by_the_cache(client, site, reader, run_worker):
    site.auto_close_days = 1
    db.session.commit()
    approved(client, run_worker)
    # Its first comment was made a day ago, less two seconds: it closes in two seconds.
    db.session.execute(
        update(Article).values(created_at=utcnow() - timedelta(days=1) + timedelta(seconds=2))
    )
    db.session.commit()
    # (Time passing publishes nothing: the cached page must not outlive the closing.)
    assert reader.read()["article"]["closed"] is False
    time.sleep(2.5)
    assert reader.read()["article"]["closed"] is True


def test_a_first_comment_from_a_page_that_names_itself_shows_the_title(client, reader, run_worker):
    assert reader.read()["article"]["title"] is None
    approved(client, run_worker, article_title="Harbour bridge reopens")
    assert reader.read()["article"]["title"] == "Harbour bridge reopens"


def test_every_page_of_a_thread_and_both_sorts_are_fresh(client, site, run_worker):
    ids = [make_comment(site, "approved").id for _ in range(5)]
    oldest = Reader(client, comments_url() + "?sort=oldest&limit=2")
    first_page = oldest.read()
    later = Reader(
        client, comments_url() + f"?sort=oldest&limit=2&cursor={first_page['next_cursor']}"
    )
    newest = Reader(client, comments_url() + "?sort=newest&limit=2")
    assert [c["id"] for c in later.read()["comments"]] == ids[2:4]
    assert [c["id"] for c in newest.read()["comments"]] == ids[:-3:-1]
    decide([make_comment(site, "held").id], "approve")
    assert all(not r.unchanged() for r in (oldest, later, newest))
    assert newest.read()["count"] == later.read()["count"] == 6


def test_a_change_made_through_the_orm_alone_shows_at_once(client, site, reader):
    """No service function needed: the session's own flush marks the article changed."""
    comment = make_comment(site, "approved")
    assert reader.ids() == [comment.id]
    db.session.get(Comment, comment.id).title = "Corrected by an editor"
    db.session.commit()
    assert not reader.unchanged()
    assert reader.read()["comments"][0]["title"] == "Corrected by an editor"


# --- Redis down ------------------------------------------------------------------------------


def test_reads_fall_back_to_the_database_when_redis_is_down(app_factory, site, run_worker, client):
    approved(client, run_worker)
    cached = client.get(comments_url()).json
    down = app_factory(REDIS_URL="redis://127.0.0.1:1/0", REDIS_SOCKET_TIMEOUT=0.2).test_client()
    started = time.monotonic()
    responses = [down.get(comments_url()) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert all(r.json == cached for r in responses)
    conditional = down.get(comments_url(), headers={"If-None-Match": responses[0].headers["ETag"]})
    assert conditional.status_code == 304
    assert down.get(COUNTS).json["counts"] == {"a1": 1, "a2": 0}
    # After the first failure the process stops asking Redis for a while: no timeout per read.
    assert time.monotonic() - started < 2
