"""A signed-in reader's identity where it decides who someone is besides posting: one vote per
SSO id whatever commenter key the browser holds, and editing or reading one's own comment by the
session instead of the delete token. Real database, Redis and RQ worker."""

from __future__ import annotations

import pytest

from service.core import sso
from service.extensions import db
from service.models import Comment, CommentVote, Site

from .helpers import POLITE, comments_url
from .test_sso import auth, hs_key, hs_token, signed_in  # noqa: F401  (hs_key: a fixture)

# The demo site trusts tokens signed with test_sso's HS256 secret.
pytestmark = pytest.mark.usefixtures("hs_key")

EDITED = "Update: the crews finished the restoration this morning, thanks to everyone involved."


def published(client, run_worker, session: str | None = None) -> dict:
    """Post a polite comment (as the session's reader, or anonymously) and let it be approved."""
    body = {"body": POLITE} if session else {"author_name": "Dana", "body": POLITE}
    headers = auth(session) if session else {}
    response = client.post(comments_url(), json=body, headers=headers)
    assert response.status_code == 202, response.json
    run_worker()
    assert db.session.get(Comment, response.json["id"]).status == "approved"
    return response.json


def vote(client, comment_id: int, session: str | None, key: str, value: str = "like"):
    headers = auth(session) if session else {}
    return client.put(
        f"/api/v1/comments/{comment_id}/vote",
        json={"value": value, "commenter_key": key},
        headers=headers,
    )


def test_one_vote_per_sso_id_across_browsers(client, run_worker):
    posted = published(client, run_worker)
    session = signed_in(client)["session"]
    # The same reader on two devices: two commenter keys, one SSO id, one vote.
    assert vote(client, posted["id"], session, "phone-key-000001").json["likes"] == 1
    again = vote(client, posted["id"], session, "laptop-key-00001")
    assert again.status_code == 200 and again.json["likes"] == 1
    (row,) = db.session.query(CommentVote).all()
    assert row.voter == f"sso:{db.session.query(Site).one().id}:u-42"
    # Taken back from the other device, by the session.
    response = client.delete(
        f"/api/v1/comments/{posted['id']}/vote",
        json={"commenter_key": "laptop-key-00001"},
        headers=auth(session),
    )
    assert response.status_code == 200 and response.json["likes"] == 0
    # An anonymous reader with the phone's key is someone else.
    assert vote(client, posted["id"], None, "phone-key-000001").json["likes"] == 1


def test_a_session_of_another_site_cannot_vote_here(client, run_worker):
    posted = published(client, run_worker)
    other = Site(key="other", name="Other")
    db.session.add(other)
    db.session.commit()
    sso.add_key("other", "HS256", actor="test", kid="k1", secret="o" * 40)
    answer = client.post(
        "/api/v1/sites/other/session", json={"token": hs_token(secret="o" * 40)}
    ).json
    assert "session" in answer, answer
    response = vote(client, posted["id"], answer["session"], "reader-key-0001")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "session_expired"
    assert db.session.query(CommentVote).count() == 0


def test_signed_in_author_edits_and_reads_without_the_delete_token(client, run_worker):
    session = signed_in(client)["session"]
    posted = published(client, run_worker, session)
    url = f"/api/v1/comments/{posted['id']}"
    # Another signed-in reader is not the author, and no token is no proof either.
    other = signed_in(client, sub="u-7", name="Other")["session"]
    assert client.patch(url, json={"body": EDITED}, headers=auth(other)).status_code == 403
    assert client.patch(url, json={"body": EDITED}).status_code == 403
    response = client.patch(url, json={"body": EDITED}, headers=auth(session))
    assert response.status_code == 202, response.json
    assert response.json["edit_status"] == "pending"
    own = client.get(url, headers=auth(session)).json
    assert own["edit"]["status"] == "pending"
    # Readers keep the approved text until the worker approves the edit.
    assert "crews" not in client.get(comments_url()).json["comments"][0]["body_html"]
    run_worker()
    shown = client.get(comments_url()).json["comments"][0]
    assert "crews" in shown["body_html"] and shown["edited_at"] is not None
    assert shown["badges"] == ["subscriber"]


def test_an_edit_cannot_add_a_link_without_sign_in_where_links_need_it(client, run_worker):
    posted = published(client, run_worker)
    db.session.query(Site).filter_by(key="demo").update({"sign_in": "links"})
    db.session.commit()
    url = f"/api/v1/comments/{posted['id']}"
    linked = {"body": EDITED + " See https://example.com/more"}
    token = {"X-Delete-Token": posted["delete_token"]}
    response = client.patch(url, json=linked, headers=token)
    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == "sign_in_required"
    # Without the link the same edit is taken.
    assert client.patch(url, json={"body": EDITED}, headers=token).status_code == 202
