"""Editors' picks: moderators feature published comments; threads list them first and in place."""

from __future__ import annotations

import pytest

from service.extensions import db
from service.models import Comment, OperatorAction, Site

from .helpers import approved, comments_url, count_queries, make_comment, make_site

API = "/api/v1/moderation"


@pytest.fixture
def tokens(site, make_user, api_token):
    """alice moderates demo; bob moderates another site."""
    other = make_site("other")
    return {
        "alice": api_token(make_user("alice", sites=[db.session.get(Site, site.id)])),
        "bob": api_token(make_user("bob", sites=[other])),
    }


@pytest.fixture
def feature(client, tokens):
    """feature(comment_id, who="alice", method="PUT"): call the feature endpoint."""

    def call(comment_id: int, who: str | None = "alice", method: str = "PUT"):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        return client.open(f"{API}/comments/{comment_id}/feature", method=method, headers=headers)

    return call


def demo() -> Site:
    return db.session.scalar(db.select(Site).where(Site.key == "demo"))


def thread(client, **query) -> dict:
    response = client.get(comments_url(), query_string=query)
    assert response.status_code == 200
    return response.json


def in_place(page: dict) -> dict[int, bool]:
    found = {}

    def walk(nodes):
        for node in nodes:
            found[node["id"]] = node["featured"]
            walk(node["replies"])

    walk(page["comments"])
    return found


def test_featuring_shows_the_pick_on_top_and_in_place(client, feature):
    comment = make_comment(demo(), "approved")
    other = make_comment(demo(), "approved")
    before = thread(client)  # cached now: featuring must replace it
    assert before["featured"] == []
    assert in_place(before) == {comment.id: False, other.id: False}

    response = feature(comment.id)
    assert response.status_code == 200
    assert response.json["featured"] is True
    assert response.json["featured_by"] == "moderator:alice"
    assert response.json["featured_at"]

    page = thread(client)
    assert [pick["id"] for pick in page["featured"]] == [comment.id]
    pick = page["featured"][0]
    assert pick["body_html"] == comment.body_html and pick["author_name"] == comment.author_name
    assert set(pick) == {"id", "parent_id", "author_name", "title", "body_html", "created_at"}
    assert in_place(page) == {comment.id: True, other.id: False}


def test_picks_are_newest_first_capped_and_first_page_only(client, feature):
    comments = [make_comment(demo(), "approved") for _ in range(12)]
    for comment in comments:
        assert feature(comment.id).status_code == 200
    assert feature(comments[0].id).status_code == 200  # featured again: back on top
    page = thread(client, limit=5)
    expected = [comments[0].id, *[c.id for c in reversed(comments[3:])][:9]]
    assert [pick["id"] for pick in page["featured"]] == expected
    later = thread(client, limit=5, cursor=page["next_cursor"])
    assert "featured" not in later
    assert all(in_place(later).values())


def test_replies_can_be_picks(client, feature):
    root = make_comment(demo(), "approved")
    reply = make_comment(demo(), "approved", parent=root)
    assert feature(reply.id).status_code == 200
    page = thread(client)
    assert page["featured"][0]["parent_id"] == root.id
    assert in_place(page) == {root.id: False, reply.id: True}


@pytest.mark.parametrize("status", ["held", "pending", "rejected"])
def test_only_published_comments_can_be_featured(client, feature, status):
    comment = make_comment(demo(), status)
    response = feature(comment.id)
    assert response.status_code == 409
    assert status in response.json["error"]["message"]
    assert db.session.get(Comment, comment.id).featured_at is None


def test_shadowed_comments_cannot_be_featured(feature):
    comment = make_comment(demo(), "approved")
    db.session.execute(db.update(Comment).where(Comment.id == comment.id).values(shadow=True))
    db.session.commit()
    response = feature(comment.id)
    assert response.status_code == 409
    assert "shadowed" in response.json["error"]["message"]


def test_who_may_feature(feature):
    comment = make_comment(demo(), "approved")
    assert feature(comment.id, who=None).status_code == 401
    assert feature(comment.id, who="bob").status_code == 403
    assert feature(comment.id, who="bob", method="DELETE").status_code == 403
    assert feature(999999).status_code == 404
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).featured_at is None


def test_unfeaturing_and_the_audit_log(client, feature):
    comment = make_comment(demo(), "approved")
    assert feature(comment.id).status_code == 200
    thread(client)
    response = feature(comment.id, method="DELETE")
    assert response.status_code == 200
    assert response.json == {
        "id": comment.id,
        "featured": False,
        "featured_at": None,
        "featured_by": None,
    }
    assert feature(comment.id, method="DELETE").status_code == 200  # nothing to do: fine
    page = thread(client)
    assert page["featured"] == [] and in_place(page) == {comment.id: False}
    log = db.session.execute(
        db.select(OperatorAction.actor, OperatorAction.action, OperatorAction.subject).order_by(
            OperatorAction.id
        )
    ).all()
    assert [tuple(row) for row in log] == [
        ("moderator:alice", "comment.feature", f"comment:{comment.id}"),
        ("moderator:alice", "comment.unfeature", f"comment:{comment.id}"),
    ]


def test_rejecting_a_pick_drops_it(client, feature, tokens):
    comment = make_comment(demo(), "approved")
    assert feature(comment.id).status_code == 200
    response = client.post(
        f"{API}/comments/{comment.id}/decision",
        json={"action": "reject", "expected_status": "approved"},
        headers={"Authorization": f"Bearer {tokens['alice']}"},
    )
    assert response.status_code == 200, response.json
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).featured_at is None
    assert thread(client)["featured"] == []


def test_the_author_deleting_a_pick_drops_it(client, feature, run_worker):
    mine = approved(client, run_worker)
    assert feature(mine["id"]).status_code == 200
    assert [pick["id"] for pick in thread(client)["featured"]] == [mine["id"]]
    deleted = client.delete(
        f"/api/v1/comments/{mine['id']}", headers={"X-Delete-Token": mine["delete_token"]}
    )
    assert deleted.status_code == 204
    assert thread(client)["featured"] == []
    db.session.expire_all()
    assert db.session.get(Comment, mine["id"]).featured_at is None


def test_featuring_keeps_the_undo_window(client, feature, tokens):
    """Featuring doesn't touch updated_at, which undo compares with its decision's stamp."""
    comment = make_comment(demo(), "held")
    auth = {"Authorization": f"Bearer {tokens['alice']}"}
    decided = client.post(
        f"{API}/comments/{comment.id}/decision",
        json={"action": "approve", "expected_status": "held"},
        headers=auth,
    )
    assert decided.status_code == 200
    assert feature(comment.id).status_code == 200
    assert client.post(f"{API}/comments/{comment.id}/undo", headers=auth).status_code == 200
    # The approval taken back, the comment is held again and no pick any more.
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).featured_at is None
    assert thread(client)["featured"] == []


def test_cached_first_pages_with_picks_cost_no_query(client, feature):
    comment = make_comment(demo(), "approved")
    assert feature(comment.id).status_code == 200
    first = thread(client)
    with count_queries() as statements:
        assert thread(client) == first
    assert statements == []


def test_moderators_cards_say_featured(client, feature, tokens):
    comment = make_comment(demo(), "approved")
    assert feature(comment.id).status_code == 200
    page = client.get(
        f"{API}/queues/approved", headers={"Authorization": f"Bearer {tokens['alice']}"}
    ).json
    assert {card["id"]: card["featured"] for card in page["comments"]} == {comment.id: True}


def test_a_pick_later_shadowed_is_not_listed(client, feature):
    from service.core import readcache

    shadowed = make_comment(demo(), "approved")
    kept = make_comment(demo(), "approved")
    assert feature(shadowed.id).status_code == 200
    assert feature(kept.id).status_code == 200
    assert len(thread(client)["featured"]) == 2
    # As a shadow ban's bulk update does: the row changes behind the ORM, then the cache is told.
    db.session.execute(db.update(Comment).where(Comment.id == shadowed.id).values(shadow=True))
    readcache.touch_comments(db.session, [shadowed.id])
    db.session.commit()
    page = thread(client)
    assert [pick["id"] for pick in page["featured"]] == [kept.id]
    assert in_place(page) == {kept.id: True}
