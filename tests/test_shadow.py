"""Shadow bans end to end: the author sees their comments as usual, nobody else ever does (thread,
counts, the count widget, replies), and moderators see them marked."""

from __future__ import annotations

import pytest

from service.extensions import db
from service.models import Comment

from .helpers import comments_url, row_count, status_of

ADMIN = "/api/v1/admin/bans"
SHADOW_KEY = "shadow-key-0001"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def send(client, body: str, key: str | None = None, article: str = "a1", **fields) -> dict:
    """Submit a comment that must be accepted; return the 202 body."""
    payload = {"author_name": "Dana", "body": body, **fields}
    if key:
        payload["commenter_key"] = key
    response = client.post(comments_url(article), json=payload)
    assert response.status_code == 202, response.json
    return response.json


def thread(client, article: str = "a1") -> dict:
    response = client.get(comments_url(article))
    assert response.status_code == 200, response.json
    return response.json


def ids(nodes: list[dict]) -> list[int]:
    """Every comment id in a thread, replies included."""
    found = []
    for node in nodes:
        found.append(node["id"])
        found.extend(ids(node["replies"]))
    return found


def counts(client, *articles: str) -> dict:
    response = client.get(f"/api/v1/sites/demo/counts?articles={','.join(articles)}")
    assert response.status_code == 200, response.json
    return response.json["counts"]


@pytest.fixture
def operator_token(make_user, api_token) -> str:
    return api_token(make_user("olga", "operator"))


@pytest.fixture
def shadow_banned(client, site, operator_token) -> None:
    """A shadow ban on the commenter key SHADOW_KEY, on the demo site."""
    response = client.post(
        ADMIN,
        json={
            "site": "demo",
            "target": "commenter_key",
            "value": SHADOW_KEY,
            "kind": "shadow",
            "reason": "sock puppet of a banned troll",
        },
        headers=bearer(operator_token),
    )
    assert response.status_code == 201, response.json


def test_the_author_sees_an_approved_shadow_comment_and_nobody_else_does(
    client, shadow_banned, run_worker, operator_token
):
    normal = send(client, "The bridge reopens on Monday, finally.", key="reader-key-0001")
    shadow = send(client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY)
    run_worker()
    assert status_of(shadow["id"]) == "approved"
    assert db.session.get(Comment, shadow["id"]).shadow is True

    # The author, with the delete token from submission, sees it published as usual.
    own = client.get(
        f"/api/v1/comments/{shadow['id']}", headers={"X-Delete-Token": shadow["delete_token"]}
    )
    assert own.status_code == 200, own.json
    assert own.json["status"] == "approved"
    assert "harbour" in own.json["body_html"]
    # Without the token (or with another comment's) nobody gets it.
    assert client.get(f"/api/v1/comments/{shadow['id']}").status_code == 403
    other_token = {"X-Delete-Token": normal["delete_token"]}
    assert client.get(f"/api/v1/comments/{shadow['id']}", headers=other_token).status_code == 403

    # Readers: not in the thread, not in its count, not in the count widget's numbers.
    page = thread(client)
    assert ids(page["comments"]) == [normal["id"]]
    assert page["count"] == 1
    assert "harbour" not in str(page)
    assert counts(client, "a1", "a2") == {"a1": 1, "a2": 0}

    # Moderators see it, marked.
    response = client.get("/api/v1/moderation/queues/approved", headers=bearer(operator_token))
    assert response.status_code == 200, response.json
    cards = {card["id"]: card for card in response.json["comments"]}
    assert cards[shadow["id"]]["shadow"] is True
    assert cards[normal["id"]]["shadow"] is False


def test_an_article_with_only_shadow_comments_counts_zero(client, shadow_banned, run_worker):
    send(client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY, article="a2")
    send(client, "Is the ferry running again this week?", key=SHADOW_KEY, article="a2")
    run_worker()
    page = thread(client, "a2")
    assert (page["comments"], page["count"]) == ([], 0)
    assert counts(client, "a2") == {"a2": 0}


def test_a_shadow_reply_is_hidden_and_its_parent_stays(client, shadow_banned, run_worker):
    parent = send(client, "The bridge reopens on Monday, finally.", key="reader-key-0001")
    run_worker()
    reply = send(
        client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY, parent_id=parent["id"]
    )
    run_worker()
    assert status_of(reply["id"]) == "approved"

    page = thread(client)
    assert ids(page["comments"]) == [parent["id"]]
    assert page["comments"][0]["replies"] == []
    assert page["count"] == 1
    assert counts(client, "a1") == {"a1": 1}


def test_others_cannot_reply_to_a_shadow_comment_but_its_author_can(
    client, shadow_banned, run_worker
):
    shadow = send(client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY)
    run_worker()

    response = client.post(
        comments_url(),
        json={
            "author_name": "Eve",
            "body": "Replying to something I should not see.",
            "commenter_key": "reader-key-0002",
            "parent_id": shadow["id"],
        },
    )
    assert response.status_code == 422, response.json
    assert "parent_id" in response.json["error"]["fields"]
    assert row_count(Comment) == 1

    # The shadow-banned author sees their comment published, so they may answer it.
    own_reply = send(
        client, "And the ferry runs again too.", key=SHADOW_KEY, parent_id=shadow["id"]
    )
    run_worker()
    assert status_of(own_reply["id"]) == "approved"
    assert thread(client)["comments"] == []


def test_a_shadow_comment_cannot_be_reported(client, shadow_banned, run_worker):
    shadow = send(client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY)
    run_worker()
    assert status_of(shadow["id"]) == "approved"
    response = client.post(f"/api/v1/comments/{shadow['id']}/reports", json={"reason": "spam"})
    # As for a comment that doesn't exist: a report must not reveal that it does.
    assert response.status_code == 404, response.json
    assert response.json["error"]["message"] == "There is no such comment."


def test_a_tombstone_held_up_only_by_shadow_replies_is_not_shown(client, shadow_banned, run_worker):
    parent = send(client, "The bridge reopens on Monday, finally.", key="reader-key-0001")
    run_worker()
    send(client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY, parent_id=parent["id"])
    run_worker()
    deleted = client.delete(
        f"/api/v1/comments/{parent['id']}", headers={"X-Delete-Token": parent["delete_token"]}
    )
    assert deleted.status_code == 204
    assert status_of(parent["id"]) == "deleted"

    page = thread(client)
    assert (page["comments"], page["count"]) == ([], 0)
    assert counts(client, "a1") == {"a1": 0}


def test_a_tombstone_with_a_visible_reply_stays_beside_shadow_ones(
    client, shadow_banned, run_worker
):
    parent = send(client, "The bridge reopens on Monday, finally.", key="reader-key-0001")
    run_worker()
    send(client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY, parent_id=parent["id"])
    visible = send(
        client,
        "Is the ferry running again this week?",
        key="reader-key-0002",
        parent_id=parent["id"],
    )
    run_worker()
    client.delete(
        f"/api/v1/comments/{parent['id']}", headers={"X-Delete-Token": parent["delete_token"]}
    )

    (tombstone,) = thread(client)["comments"]
    assert tombstone["deleted"] is True
    assert [reply["id"] for reply in tombstone["replies"]] == [visible["id"]]


def test_comments_sent_before_a_shadow_ban_stay_visible(client, site, operator_token, run_worker):
    before = send(client, "The bridge reopens on Monday, finally.", key=SHADOW_KEY)
    run_worker()
    response = client.post(
        ADMIN,
        json={
            "site": "demo",
            "target": "commenter_key",
            "value": SHADOW_KEY,
            "kind": "shadow",
            "reason": "sock puppet",
        },
        headers=bearer(operator_token),
    )
    assert response.status_code == 201
    after = send(client, "Lovely photos of the harbour, thank you.", key=SHADOW_KEY)
    run_worker()
    # Only what is sent under the ban is shadowed (reject_existing takes down the rest).
    assert ids(thread(client)["comments"]) == [before["id"]]
    assert db.session.get(Comment, after["id"]).shadow is True
