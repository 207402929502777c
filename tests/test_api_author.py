"""The author's own view and delete, with the delete token; tombstones."""

from service.extensions import db
from service.models import Comment

from .helpers import approved, audit_trail, comments_url, submit


def _auth(token: str) -> dict:
    return {"X-Delete-Token": token}


def test_author_sees_their_pending_comment(client, site):
    posted = submit(client, title="On the toll")
    response = client.get(f"/api/v1/comments/{posted['id']}", headers=_auth(posted["delete_token"]))
    assert response.status_code == 200
    body = response.json
    assert body["id"] == posted["id"]
    assert body["status"] == "pending"
    assert body["article"] == "a1"
    assert body["title"] == "On the toll"
    assert body["reasons"] == []


def test_author_view_needs_the_right_token(client, site):
    posted = submit(client)
    other = submit(client, body="A second, different comment.")
    url = f"/api/v1/comments/{posted['id']}"
    missing = client.get(url)
    assert missing.status_code == 403
    assert "X-Delete-Token" in missing.json["error"]["fields"]
    assert client.get(url, headers=_auth("wrong")).status_code == 403
    assert client.get(url, headers=_auth(other["delete_token"])).status_code == 403
    assert client.get("/api/v1/comments/999999", headers=_auth("x")).status_code == 404
    assert client.get("/api/v1/comments/not-a-number").status_code == 404


def test_delete_with_the_token_removes_the_comment(client, site, run_worker):
    posted = approved(client, run_worker)
    url = f"/api/v1/comments/{posted['id']}"
    assert client.delete(url, headers=_auth("wrong-token")).status_code == 403
    assert client.get(comments_url()).json["count"] == 1

    response = client.delete(url, headers=_auth(posted["delete_token"]))
    assert response.status_code == 204
    assert response.data == b""
    page = client.get(comments_url()).json
    assert page["comments"] == []
    assert page["count"] == 0
    # The text is gone from the database too, not only from the page.
    row = db.session.get(Comment, posted["id"])
    assert (row.status.value, row.body_html, row.body_text, row.author_name) == (
        "deleted",
        "",
        "",
        "",
    )
    assert audit_trail(posted["id"])[-1] == ("author", "approved", "deleted")
    # Deleting again is fine, and the author still sees the status.
    assert client.delete(url, headers=_auth(posted["delete_token"])).status_code == 204
    assert client.get(url, headers=_auth(posted["delete_token"])).json["status"] == "deleted"
    assert len(audit_trail(posted["id"])) == 3


def test_delete_of_unknown_comment_is_404(client, site):
    assert client.delete("/api/v1/comments/424242", headers=_auth("x")).status_code == 404


def test_author_can_delete_a_pending_comment_and_the_worker_leaves_it(client, site, run_worker):
    posted = submit(client)
    url = f"/api/v1/comments/{posted['id']}"
    assert client.delete(url, headers=_auth(posted["delete_token"])).status_code == 204
    run_worker()
    assert client.get(url, headers=_auth(posted["delete_token"])).json["status"] == "deleted"


def test_deleted_comment_with_visible_replies_stays_as_a_tombstone(client, site, run_worker):
    root = approved(client, run_worker, body="The root comment.")
    reply = approved(client, run_worker, body="A reply that stays.", parent_id=root["id"])
    client.delete(f"/api/v1/comments/{root['id']}", headers=_auth(root["delete_token"]))

    [tombstone] = client.get(comments_url()).json["comments"]
    assert tombstone["id"] == root["id"]
    assert tombstone["deleted"] is True
    assert tombstone["author_name"] is None
    assert tombstone["body_html"] is None
    assert [r["id"] for r in tombstone["replies"]] == [reply["id"]]

    # Once the last reply goes too, so does the tombstone.
    client.delete(f"/api/v1/comments/{reply['id']}", headers=_auth(reply["delete_token"]))
    assert client.get(comments_url()).json["comments"] == []


def test_nested_tombstones_hold_up_a_visible_grandchild(client, site, run_worker):
    root = approved(client, run_worker, body="The first comment on the story.")
    middle = approved(client, run_worker, body="A reply to the first.", parent_id=root["id"])
    leaf = approved(client, run_worker, body="A reply to the reply.", parent_id=middle["id"])
    for posted in (root, middle):
        client.delete(f"/api/v1/comments/{posted['id']}", headers=_auth(posted["delete_token"]))

    [thread] = client.get(comments_url()).json["comments"]
    assert thread["deleted"] and thread["replies"][0]["deleted"]
    assert thread["replies"][0]["replies"][0]["id"] == leaf["id"]
