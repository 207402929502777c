"""Readers' votes: one per reader, undoable, counted atomically; sort=top and its cursors; votes
and the read cache."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from service.core.votes import wilson_lower_bound
from service.extensions import db
from service.models import Article, Comment, CommentVote, Site, utcnow

from .helpers import comments_url, count_queries, make_comment

KEY = "reader-key-0001"


def vote_url(comment_id: int) -> str:
    return f"/api/v1/comments/{comment_id}/vote"


def vote(client, comment_id: int, value: str = "like", key: str = KEY, ip: str = "10.0.0.1"):
    return client.put(
        vote_url(comment_id),
        json={"value": value, "commenter_key": key},
        environ_base={"REMOTE_ADDR": ip},
    )


def unvote(client, comment_id: int, key: str = KEY, ip: str = "10.0.0.1"):
    return client.delete(
        vote_url(comment_id), json={"commenter_key": key}, environ_base={"REMOTE_ADDR": ip}
    )


def enable_dislikes(site: Site) -> None:
    db.session.execute(update(Site).where(Site.id == site.id).values(dislikes_enabled=True))
    db.session.commit()


def stored(comment_id: int) -> tuple[int, int]:
    db.session.expire_all()
    comment = db.session.get(Comment, comment_id)
    return comment.likes, comment.dislikes


def top_page(client, cursor: str | None = None, limit: int = 2) -> dict:
    query = f"?sort=top&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    response = client.get(comments_url() + query)
    assert response.status_code == 200, response.json
    return response.json


# --- One vote per reader -------------------------------------------------------------------


def test_a_reader_likes_once_changes_and_takes_it_back(client, site):
    enable_dislikes(site)
    comment = make_comment(site, "approved")

    assert vote(client, comment.id).json == {"likes": 1, "dislikes": 0, "vote": "like"}
    # Again: still one vote.
    assert vote(client, comment.id).json == {"likes": 1, "dislikes": 0, "vote": "like"}
    assert vote(client, comment.id, key="reader-key-0002").json["likes"] == 2
    # Changing a like into a dislike moves the vote, it doesn't add one.
    assert vote(client, comment.id, "dislike").json == {
        "likes": 1,
        "dislikes": 1,
        "vote": "dislike",
    }
    assert unvote(client, comment.id).json == {"likes": 1, "dislikes": 0, "vote": None}
    # Nothing left to take back: the same counts.
    assert unvote(client, comment.id).json == {"likes": 1, "dislikes": 0, "vote": None}
    assert stored(comment.id) == (1, 0)
    assert db.session.scalar(select(func.count()).select_from(CommentVote)) == 1


def test_votes_do_not_touch_the_comment_updated_at(client, site):
    comment = make_comment(site, "approved")
    before = comment.updated_at
    vote(client, comment.id)
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).updated_at == before


def test_dislikes_are_refused_unless_the_site_enables_them(client, site):
    comment = make_comment(site, "approved")
    response = vote(client, comment.id, "dislike")
    assert response.status_code == 422
    assert "value" in response.json["error"]["fields"]
    assert stored(comment.id) == (0, 0)
    page = client.get(comments_url()).json
    assert page["site"]["dislikes_enabled"] is False
    assert page["comments"][0]["likes"] == 0
    assert "dislikes" not in page["comments"][0]

    enable_dislikes(site)
    assert vote(client, comment.id, "dislike").status_code == 200
    page = client.get(comments_url()).json
    assert page["site"]["dislikes_enabled"] is True
    assert page["comments"][0]["dislikes"] == 1


def test_a_vote_needs_a_commenter_key_and_a_known_value(client, site):
    comment = make_comment(site, "approved")
    missing = client.put(vote_url(comment.id), json={"value": "like"})
    assert missing.status_code == 422
    assert "commenter_key" in missing.json["error"]["fields"]
    bad_key = client.put(vote_url(comment.id), json={"value": "like", "commenter_key": "x"})
    assert "commenter_key" in bad_key.json["error"]["fields"]
    bad_value = client.put(vote_url(comment.id), json={"value": "love", "commenter_key": KEY})
    assert bad_value.status_code == 422
    assert "value" in bad_value.json["error"]["fields"]


@pytest.mark.parametrize("status", ["pending", "held", "rejected", "deleted", "shadow", "missing"])
def test_votes_on_comments_readers_cannot_see_answer_like_missing_ones(client, site, status):
    if status == "missing":
        comment_id = 999_999
    else:
        comment = make_comment(site, "approved" if status in ("shadow", "deleted") else status)
        comment_id = comment.id
        if status in ("shadow", "deleted"):
            values = {"shadow": True} if status == "shadow" else {"status": "deleted"}
            db.session.execute(update(Comment).where(Comment.id == comment_id).values(**values))
            db.session.commit()
    for response in (vote(client, comment_id), unvote(client, comment_id)):
        assert response.status_code == 404
        assert response.json["error"]["message"] == "There is no such comment."
    assert db.session.scalar(select(func.count()).select_from(CommentVote)) == 0


def test_too_many_readers_from_one_address_are_refused(app, client, site):
    app.config["VOTE_IP_CAP"] = 2
    comment = make_comment(site, "approved")
    assert vote(client, comment.id, key="reader-key-a").status_code == 200
    assert vote(client, comment.id, key="reader-key-b").status_code == 200
    third = vote(client, comment.id, key="reader-key-c")
    assert third.status_code == 403
    assert third.json["error"]["code"] == "vote_cap"
    assert "network" in third.json["error"]["message"]
    # Readers already counted may still change or take back their vote; other addresses vote.
    assert unvote(client, comment.id, key="reader-key-a").json["likes"] == 1
    assert vote(client, comment.id, key="reader-key-a").json["likes"] == 2
    assert vote(client, comment.id, key="reader-key-c", ip="10.9.9.9").json["likes"] == 3
    assert stored(comment.id) == (3, 0)


def test_votes_are_rate_limited(app, client, site):
    app.config["RATE_LIMIT_VOTE"] = "3/minute"
    comment = make_comment(site, "approved")
    answers = [vote(client, comment.id).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    limited = unvote(client, comment.id)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "voting too fast" in limited.json["error"]["message"]


def test_concurrent_votes_are_all_counted(app, site):
    enable_dislikes(site)
    comment = make_comment(site, "approved")
    comment_id = comment.id
    readers = 24
    barrier = threading.Barrier(readers)
    failures: list[object] = []

    def reader(n: int) -> None:
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            try:
                key = f"reader-key-{n:04d}"
                ip = f"10.1.{n}.1"
                assert vote(client, comment_id, key=key, ip=ip).status_code == 200
                if n % 3 == 0:  # a third change their mind, a sixth take it back
                    answer = vote(client, comment_id, "dislike", key=key, ip=ip)
                    assert answer.status_code == 200
                if n % 6 == 0:
                    assert unvote(client, comment_id, key=key, ip=ip).status_code == 200
            except Exception as error:  # reported below, with the thread's assertion
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    rows = dict(
        db.session.execute(
            select(CommentVote.value, func.count()).group_by(CommentVote.value)
        ).all()
    )
    expected_likes = sum(1 for n in range(readers) if n % 3)
    expected_dislikes = sum(1 for n in range(readers) if n % 3 == 0 and n % 6)
    assert rows == {1: expected_likes, -1: expected_dislikes}
    assert stored(comment_id) == (expected_likes, expected_dislikes)


# --- sort=top ------------------------------------------------------------------------------


def test_wilson_lower_bound():
    assert wilson_lower_bound(0, 0) == 0
    assert wilson_lower_bound(1, 0) == pytest.approx(0.2065, abs=1e-4)
    assert wilson_lower_bound(10, 0) == pytest.approx(0.7225, abs=1e-4)
    # Many votes at 80% beat a few at 100%.
    assert wilson_lower_bound(80, 20) > wilson_lower_bound(3, 0)
    assert wilson_lower_bound(5, 5) < wilson_lower_bound(5, 0)


def likes_from(client, comment_id: int, likes: int, dislikes: int = 0, prefix: str = "") -> None:
    for n in range(likes + dislikes):
        value = "like" if n < likes else "dislike"
        key = f"{prefix}voter-{comment_id}-{n:03d}"
        answer = vote(client, comment_id, value, key=key, ip=f"10.2.{comment_id % 250}.{n}")
        assert answer.status_code == 200, answer.json


def ids_of(page: dict) -> list[int]:
    return [comment["id"] for comment in page["comments"]]


def test_top_orders_by_confidence_and_keeps_replies_in_time_order(app, client, site):
    app.config["RANK_EPOCH_SECONDS"] = 0  # every vote re-ranks
    enable_dislikes(site)
    plain, few, many, mixed = (make_comment(site, "approved", age=60 - n) for n in range(4))
    first_reply = make_comment(site, "approved", parent=many, age=10)
    second_reply = make_comment(site, "approved", parent=many, age=5)
    likes_from(client, few.id, 3)
    likes_from(client, many.id, 16, 4)
    likes_from(client, mixed.id, 4, 4)
    likes_from(client, second_reply.id, 5)  # replies' votes don't reorder replies

    page = top_page(client, limit=10)
    assert ids_of(page) == [many.id, few.id, mixed.id, plain.id]
    assert [r["id"] for r in page["comments"][0]["replies"]] == [first_reply.id, second_reply.id]
    assert page["comments"][0]["likes"] == 16
    assert page["comments"][0]["dislikes"] == 4
    assert page["comments"][0]["replies"][1]["likes"] == 5
    # Ties (no votes) go by id: older first.
    other = make_comment(site, "approved")
    likes_from(client, few.id, 1, prefix="again-")  # a vote re-ranks, with the new comment
    assert ids_of(top_page(client, limit=10))[-2:] == [plain.id, other.id]


def test_top_cursors_stay_stable_while_votes_change(app, client, site):
    made = [make_comment(site, "approved", age=100 - n) for n in range(7)]
    for n, comment in enumerate(made):
        likes_from(client, comment.id, n % 4)  # the first vote ranks the article
    app.config["RANK_EPOCH_SECONDS"] = 3600

    first = top_page(client)
    # Votes arrive: the bottom comments would now lead, but the ranking epoch holds.
    for comment in made[-3:]:
        likes_from(client, comment.id, 12, prefix="late-")
    second = top_page(client, first["next_cursor"])

    # The epoch is due: the next vote re-ranks, yet the cursor pages by the scores it began with.
    db.session.execute(update(Article).values(ranked_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    likes_from(client, made[0].id, 9, prefix="later-")
    third = top_page(client, second["next_cursor"])
    fourth = top_page(client, third["next_cursor"])

    seen = ids_of(first) + ids_of(second) + ids_of(third) + ids_of(fourth)
    assert sorted(seen) == sorted(comment.id for comment in made)
    assert fourth["next_cursor"] is None

    # A fresh first page shows the new epoch's ranking: the counts when it began.
    fresh = top_page(client, limit=10)
    assert ids_of(fresh)[:3] == [made[6].id, made[5].id, made[4].id]

    # Two epochs later the old cursor is refused, naming the cursor.
    db.session.execute(update(Article).values(ranked_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    likes_from(client, made[1].id, 1, prefix="last-")
    stale = client.get(comments_url() + f"?sort=top&limit=2&cursor={third['next_cursor']}")
    assert stale.status_code == 422
    assert "start again" in stale.json["error"]["fields"]["cursor"][0]


def test_top_cursors_are_checked(client, site):
    make_comment(site, "approved")
    newest = client.get(comments_url() + "?limit=1").json
    make_comment(site, "approved")
    newest = client.get(comments_url() + "?limit=1").json
    # A newest-first cursor is no top cursor, and the other way round.
    wrong = client.get(comments_url() + f"?sort=top&cursor={newest['next_cursor']}")
    assert wrong.status_code == 422
    assert "cursor" in wrong.json["error"]["fields"]
    top = top_page(client, limit=1)
    wrong = client.get(comments_url() + f"?sort=newest&cursor={top['next_cursor']}")
    assert wrong.status_code == 422


# --- The read cache ------------------------------------------------------------------------


def test_votes_do_not_re_render_a_cached_thread_on_every_click(app, client, site):
    """A hot thread under many votes a second renders at most once per VOTE_COUNTS_SECONDS."""
    app.config["VOTE_COUNTS_SECONDS"] = 1
    comment = make_comment(site, "approved")
    client.get(comments_url())
    renders = reads = votes = 0
    started = time.monotonic()
    while time.monotonic() - started < 3.2:
        assert (
            vote(
                client, comment.id, key=f"reader-key-{votes:05d}", ip=f"10.3.{votes}.1"
            ).status_code
            == 200
        )
        votes += 1
        with count_queries() as statements:
            page = client.get(comments_url())
        assert page.status_code == 200
        reads += 1
        renders += bool(statements)
    elapsed = time.monotonic() - started
    # One render per period at most (plus the one a period boundary may split).
    assert renders <= elapsed / 1 + 2
    assert votes >= 10 * renders
    # Counts catch up within a period.
    time.sleep(1.1)
    assert client.get(comments_url()).json["comments"][0]["likes"] == votes
    print(f"{votes / elapsed:.0f} votes/s, {reads / elapsed:.0f} reads/s, {renders} renders")


def test_a_change_readers_see_still_shows_at_once(client, site):
    """Votes defer only counts: a new comment replaces the version as before."""
    comment = make_comment(site, "approved")
    client.get(comments_url())
    vote(client, comment.id)
    newer = make_comment(site, "approved")
    page = client.get(comments_url()).json
    assert ids_of(page)[0] == newer.id
    assert page["comments"][1]["likes"] == 1


# --- The site setting ----------------------------------------------------------------------


def test_dislikes_are_a_site_setting(client, site, cli, make_user, api_token):
    token = api_token(make_user("olga", role="operator"))
    response = client.patch(
        "/api/v1/admin/sites/demo",
        json={"dislikes_enabled": True, "rate_limits": {"vote": "5/minute"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.json
    assert response.json["dislikes_enabled"] is True
    assert response.json["effective_rate_limits"]["vote"] == "5/minute"
    result = cli("sites", "set", "demo", "--no-dislikes")
    assert result.exit_code == 0, result.output
    assert "dislikes" in result.output
    assert db.session.get(Site, site.id).dislikes_enabled is False
    shown = cli("sites", "show", "demo").output
    assert "off (likes only)" in shown


def test_moderators_cards_show_the_counts(client, site):
    from service.core.moderation.cards import build_cards

    comment = make_comment(site, "approved")
    vote(client, comment.id)
    db.session.expire_all()
    comment = db.session.get(Comment, comment.id)
    [card] = build_cards([(comment, comment.article, "demo")], None)
    assert (card["likes"], card["dislikes"]) == (1, 0)
