"""Authors edit their comments within the site's edit window; an edit of a published comment is
moderated like a new comment (real RQ workers) while readers keep the approved text."""

import dataclasses
from datetime import timedelta

import pytest
from rq.job import Job

from service.core.comments import load_pending, record_decisions
from service.core.queues import moderation_queue, revision_job_id
from service.extensions import db
from service.models import (
    Comment,
    CommentRevision,
    CommentStatus,
    OperatorAction,
    RevisionStatus,
    Site,
    utcnow,
)
from workers.moderation import assess_many, decision_record
from workers.sweeper import sweep_once

from .helpers import POLITE, approved, audit_trail, comments_url, status_of, submit

NEW_TEXT = "Update: the restoration finished this morning, thanks to the crews for the work."
HELD_TEXT = "Maybe the crews deserve a raise for the restoration work this week, honestly."
REJECTED_TEXT = "Only an idiot would thank the crews for this restoration, it took weeks."


@pytest.fixture
def policy_site(site):
    """The demo site holding "maybe*" and rejecting "idiot*"."""
    site.policy = {"suspect_words": ["maybe*"], "banned_words": ["idiot*"]}
    db.session.commit()
    return site


def demo() -> Site:
    """The demo site, loaded in the current session (workers replace the session)."""
    db.session.expire_all()
    return db.session.scalar(db.select(Site).where(Site.key == "demo"))


def edit(client, comment_id, token, body=NEW_TEXT, **fields):
    headers = {} if token is None else {"X-Delete-Token": token}
    return client.patch(
        f"/api/v1/comments/{comment_id}", json={"body": body, **fields}, headers=headers
    )


def age(comment_id: int, seconds: float) -> None:
    """Make a comment `seconds` old by moving its created_at (no sleeping)."""
    comment = db.session.get(Comment, comment_id)
    comment.created_at = utcnow() - timedelta(seconds=seconds)
    db.session.commit()


def thread(client) -> dict:
    response = client.get(comments_url())
    assert response.status_code == 200
    return response.json


def shown(client, comment_id: int) -> dict:
    return next(c for c in thread(client)["comments"] if c["id"] == comment_id)


def own(client, posted: dict) -> dict:
    response = client.get(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    )
    assert response.status_code == 200
    return response.json


def revisions_of(comment_id: int) -> list[CommentRevision]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(CommentRevision)
            .where(CommentRevision.comment_id == comment_id)
            .order_by(CommentRevision.id)
        )
    )


def edit_log(comment_id: int) -> list[tuple[str, str, dict]]:
    """The operators' log entries of moderators' decisions on this comment's edits."""
    db.session.expire_all()
    entries = db.session.scalars(
        db.select(OperatorAction)
        .where(OperatorAction.subject == f"comment {comment_id}")
        .order_by(OperatorAction.id)
    )
    return [(e.actor, e.action, e.details) for e in entries]


# --- The window -------------------------------------------------------------------------------


def test_thread_tells_the_window_and_edits_are_allowed_just_inside_it(client, site, run_worker):
    posted = approved(client, run_worker)
    assert thread(client)["site"]["edit_window_seconds"] == 300
    assert shown(client, posted["id"])["edited_at"] is None
    age(posted["id"], 299)
    response = edit(client, posted["id"], posted["delete_token"])
    assert response.status_code == 202, response.json
    assert response.json["status"] == "approved"
    assert response.json["edit_status"] == "pending"


def test_an_edit_just_outside_the_window_is_refused(client, site, run_worker):
    posted = approved(client, run_worker)
    age(posted["id"], 300.5)
    response = edit(client, posted["id"], posted["delete_token"])
    assert response.status_code == 409
    assert response.json["error"]["message"] == "The time to edit this comment has passed."
    assert revisions_of(posted["id"]) == []


def test_window_zero_turns_editing_off(client, site, run_worker):
    posted = approved(client, run_worker)
    site = demo()
    site.edit_window_seconds = 0
    db.session.commit()
    assert thread(client)["site"]["edit_window_seconds"] == 0
    response = edit(client, posted["id"], posted["delete_token"])
    assert response.status_code == 409
    assert "turned off" in response.json["error"]["message"]
    assert own(client, posted)["editable_until"] is None


def test_a_longer_window_set_by_the_admin_api_applies(client, site, run_worker, make_user):
    posted = approved(client, run_worker)
    site = demo()
    site.edit_window_seconds = 3600
    db.session.commit()
    age(posted["id"], 1800)
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 202


# --- Who may edit, and what ----------------------------------------------------------------------


def test_missing_or_wrong_token_is_refused(client, site, run_worker):
    posted = approved(client, run_worker)
    missing = edit(client, posted["id"], None)
    assert missing.status_code == 403
    assert "X-Delete-Token" in missing.json["error"]["fields"]
    wrong = edit(client, posted["id"], "not-the-token")
    assert wrong.status_code == 403
    assert edit(client, 999999, posted["delete_token"]).status_code == 404
    assert revisions_of(posted["id"]) == []


def test_bad_bodies_name_the_field(client, site, run_worker):
    posted = approved(client, run_worker)
    token = posted["delete_token"]
    assert "body" in edit(client, posted["id"], token, body="").json["error"]["fields"]
    markup_only = edit(client, posted["id"], token, body="<b></b>")
    assert markup_only.status_code == 422
    assert "body" in markup_only.json["error"]["fields"]
    unknown = client.patch(
        f"/api/v1/comments/{posted['id']}",
        json={"body": NEW_TEXT, "author_name": "Mallory"},
        headers={"X-Delete-Token": token},
    )
    assert unknown.status_code == 422
    assert "author_name" in unknown.json["error"]["fields"]
    site = demo()
    site.max_comment_length = 20
    db.session.commit()
    too_long = edit(client, posted["id"], token)
    assert too_long.status_code == 422
    assert "body" in too_long.json["error"]["fields"]


def test_an_edit_is_sanitized(client, site, run_worker):
    posted = approved(client, run_worker)
    response = edit(
        client,
        posted["id"],
        posted["delete_token"],
        body=f'{NEW_TEXT} <script>alert(1)</script><img src=x onerror="alert(2)"><b>bold</b>',
        title="<i>New</i> title",
    )
    assert response.status_code == 202
    run_worker()
    page = shown(client, posted["id"])
    assert "<script" not in page["body_html"] and "onerror" not in page["body_html"]
    assert "<img" not in page["body_html"]
    assert "<b>bold</b>" in page["body_html"]
    assert page["title"] == "New title"


# --- Re-moderation while the old text stays ------------------------------------------------------


def test_old_text_stays_while_pending_then_an_approved_edit_replaces_it(client, site, run_worker):
    posted = approved(client, run_worker)
    before = client.get(comments_url())
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 202
    # Not decided yet: readers see the approved text, and the author sees the edit waiting.
    assert POLITE in shown(client, posted["id"])["body_html"]
    mine = own(client, posted)
    assert POLITE in mine["body_html"]
    assert mine["edit"]["status"] == "pending" and NEW_TEXT in mine["edit"]["body_html"]

    run_worker()
    after = client.get(comments_url(), headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # the read cache was bumped
    entry = next(c for c in after.json["comments"] if c["id"] == posted["id"])
    assert NEW_TEXT in entry["body_html"]
    assert entry["edited_at"] is not None
    mine = own(client, posted)
    assert mine["edit"]["status"] == "approved" and mine["edited_at"] is not None
    assert status_of(posted["id"]) == "approved"
    # The revision row records the edit and the worker's decision, with scores and reasons.
    original, revision = revisions_of(posted["id"])
    assert original.original and POLITE in original.body_text
    assert revision.decided_by == "worker" and revision.toxicity_score is not None
    assert revision.decided_at is not None and revision.reasons
    # Not a status change: the comment's status log (queues, summaries, advice) is untouched.
    assert audit_trail(posted["id"]) == [
        ("author", None, "pending"),
        ("worker", "pending", "approved"),
    ]
    assert edit_log(posted["id"]) == []


def test_a_rejected_edit_keeps_the_approved_text(client, policy_site, run_worker):
    posted = approved(client, run_worker)
    assert edit(client, posted["id"], posted["delete_token"], body=REJECTED_TEXT).status_code == 202
    run_worker()
    page = shown(client, posted["id"])
    assert POLITE in page["body_html"] and page["edited_at"] is None
    mine = own(client, posted)
    assert mine["edit"]["status"] == "rejected"
    assert mine["edit"]["reasons"]  # the public reason the author reads
    assert mine["edited_at"] is None


def test_a_held_edit_is_decided_by_a_moderator_through_the_api(
    client, policy_site, run_worker, make_user, api_token
):
    token = api_token(make_user("mona", sites=[policy_site]))
    auth = {"Authorization": f"Bearer {token}"}
    posted = approved(client, run_worker)
    assert edit(client, posted["id"], posted["delete_token"], body=HELD_TEXT).status_code == 202
    run_worker()
    assert own(client, posted)["edit"]["status"] == "held"
    assert POLITE in shown(client, posted["id"])["body_html"]

    listed = client.get("/api/v1/moderation/edits", headers=auth)
    assert listed.status_code == 200
    [card] = listed.json["edits"]
    assert card["comment_id"] == posted["id"] and card["status"] == "held"
    assert POLITE in card["current"]["body_html"] and HELD_TEXT in card["body_html"]

    decided = client.post(
        f"/api/v1/moderation/edits/{card['id']}/decision", json={"action": "approve"}, headers=auth
    )
    assert decided.status_code == 200, decided.json
    assert decided.json["status"] == "approved" and decided.json["decided_by"] == "moderator:mona"
    assert HELD_TEXT in shown(client, posted["id"])["body_html"]
    [card_now] = client.get("/api/v1/moderation/queues/approved", headers=auth).json["comments"]
    assert card_now["id"] == posted["id"] and card_now["edited_at"] is not None
    again = client.post(
        f"/api/v1/moderation/edits/{card['id']}/decision", json={"action": "reject"}, headers=auth
    )
    assert again.status_code == 409
    assert client.get("/api/v1/moderation/edits", headers=auth).json["edits"] == []
    assert edit_log(posted["id"]) == [
        ("moderator:mona", "edit.approved", {"edit": card["id"], "reason": None})
    ]


def test_a_moderator_rejects_a_held_edit_with_a_reason_the_author_reads(
    client, policy_site, run_worker, make_user, api_token
):
    auth = {"Authorization": f"Bearer {api_token(make_user('mona', sites=[policy_site]))}"}
    posted = approved(client, run_worker)
    edit(client, posted["id"], posted["delete_token"], body=HELD_TEXT)
    run_worker()
    [card] = client.get("/api/v1/moderation/edits", headers=auth).json["edits"]
    decided = client.post(
        f"/api/v1/moderation/edits/{card['id']}/decision",
        json={"action": "reject", "reason": "Off topic", "note": "kept private"},
        headers=auth,
    )
    assert decided.status_code == 200
    mine = own(client, posted)
    assert mine["edit"]["status"] == "rejected" and mine["edit"]["reasons"] == ["Off topic"]
    assert POLITE in shown(client, posted["id"])["body_html"]
    [(actor, action, details)] = edit_log(posted["id"])
    assert (actor, action) == ("moderator:mona", "edit.rejected")
    assert details == {"edit": card["id"], "reason": "Off topic\nnote: kept private"}


def test_moderators_of_other_sites_cannot_see_or_decide_edits(
    client, policy_site, run_worker, make_user, api_token
):
    other = Site(key="other", name="Other")
    db.session.add(other)
    db.session.commit()
    auth = {"Authorization": f"Bearer {api_token(make_user('otto', sites=[other]))}"}
    posted = approved(client, run_worker)
    edit(client, posted["id"], posted["delete_token"], body=HELD_TEXT)
    run_worker()
    assert client.get("/api/v1/moderation/edits", headers=auth).json["edits"] == []
    revision = revisions_of(posted["id"])[-1]
    decided = client.post(
        f"/api/v1/moderation/edits/{revision.id}/decision",
        json={"action": "approve"},
        headers=auth,
    )
    assert decided.status_code == 403
    history = client.get(f"/api/v1/moderation/comments/{posted['id']}/history", headers=auth)
    assert history.status_code == 403
    assert client.get("/api/v1/moderation/edits").status_code == 401


def test_history_shows_the_original_and_every_edit_with_its_decision(
    client, policy_site, run_worker, make_user, api_token
):
    auth = {"Authorization": f"Bearer {api_token(make_user('mona', sites=[policy_site]))}"}
    posted = approved(client, run_worker)
    never = client.get(f"/api/v1/moderation/comments/{posted['id']}/history", headers=auth).json
    assert [r["original"] for r in never["revisions"]] == [True]

    edit(client, posted["id"], posted["delete_token"], body=REJECTED_TEXT)
    run_worker()
    edit(client, posted["id"], posted["delete_token"], body=NEW_TEXT)
    run_worker()
    history = client.get(f"/api/v1/moderation/comments/{posted['id']}/history", headers=auth)
    assert history.status_code == 200
    revisions = history.json["revisions"]
    assert [(r["original"], r["status"]) for r in revisions] == [
        (True, "approved"),
        (False, "rejected"),
        (False, "approved"),
    ]
    assert POLITE in revisions[0]["body_html"]
    assert REJECTED_TEXT in revisions[1]["body_html"] and revisions[1]["decided_by"] == "worker"
    assert NEW_TEXT in history.json["current"]["body_html"]
    assert history.json["edited_at"] is not None


def test_a_newer_edit_supersedes_the_pending_one(client, site, run_worker):
    posted = approved(client, run_worker)
    edit(client, posted["id"], posted["delete_token"], body=REJECTED_TEXT)
    edit(client, posted["id"], posted["delete_token"], body=NEW_TEXT)
    run_worker()
    statuses = [(r.original, r.status) for r in revisions_of(posted["id"])]
    assert statuses == [
        (True, RevisionStatus.APPROVED),
        (False, RevisionStatus.SUPERSEDED),
        (False, RevisionStatus.APPROVED),
    ]
    assert NEW_TEXT in shown(client, posted["id"])["body_html"]


def test_an_undecided_comment_is_edited_in_place_and_moderated_once(client, site, run_worker):
    posted = submit(client)
    response = edit(client, posted["id"], posted["delete_token"])
    assert response.status_code == 202
    assert response.json == {**response.json, "status": "pending", "edit_status": None}
    run_worker()
    assert status_of(posted["id"]) == "approved"
    assert NEW_TEXT in shown(client, posted["id"])["body_html"]
    assert shown(client, posted["id"])["edited_at"] is None  # nobody saw another text
    assert revisions_of(posted["id"]) == []
    assert ("author", "pending", "pending") in audit_trail(posted["id"])


def test_a_held_comment_edited_goes_back_to_automatic_moderation(client, policy_site, run_worker):
    posted = submit(client, body=HELD_TEXT)
    run_worker()
    assert status_of(posted["id"]) == "held"
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 202
    assert status_of(posted["id"]) == "pending"
    run_worker()
    assert status_of(posted["id"]) == "approved"
    assert ("author", "held", "pending") in audit_trail(posted["id"])


def test_a_decision_scored_on_the_old_text_does_not_apply_to_the_new(
    app_factory, client, site, run_worker
):
    """A worker scoring the comment while its author edits it: its decision is refused by the
    text guard, and the sweeper sends the new text to moderation."""
    posted = submit(client, body=POLITE)
    # What the job does, step by step, with the author's edit between its read and its write.
    [comment] = load_pending([posted["id"]])
    [assessment] = assess_many([comment])
    scored_hash = comment.text_hash
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 202
    record = dataclasses.replace(decision_record(comment.id, assessment), text_hash=scored_hash)
    assert record_decisions([record], CommentStatus.PENDING, actor="worker") == [False]
    db.session.rollback()
    assert status_of(posted["id"]) == "pending"
    # The job ends without a decision; the sweeper finds the comment pending with no live job.
    moderation_queue().empty()
    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 1
    run_worker()
    assert status_of(posted["id"]) == "approved"
    assert NEW_TEXT in db.session.get(Comment, posted["id"]).body_text


def test_deleted_and_rejected_comments_cannot_be_edited(client, policy_site, run_worker):
    rejected = submit(client, body=REJECTED_TEXT)
    run_worker()
    assert status_of(rejected["id"]) == "rejected"
    assert edit(client, rejected["id"], rejected["delete_token"]).status_code == 409
    posted = approved(client, run_worker)
    client.delete(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    )
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 409


# --- Reliability: a lost job -------------------------------------------------------------------


def test_a_revision_whose_job_was_lost_is_re_enqueued_by_the_sweeper(
    app_factory, app, client, site, run_worker
):
    posted = approved(client, run_worker)
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 202
    [revision] = [r for r in revisions_of(posted["id"]) if not r.original]
    queue = moderation_queue()
    # Redis lost the job (a flush, a failover without persistence): nothing will run it.
    Job.fetch(revision_job_id(revision.id), connection=queue.connection).delete()
    assert queue.count == 0
    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 1
        assert sweep_once() == 0  # the new job is alive: not queued twice
    run_worker()
    assert revisions_of(posted["id"])[-1].status == RevisionStatus.APPROVED
    assert NEW_TEXT in shown(client, posted["id"])["body_html"]
    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 0


def test_an_edit_accepted_while_redis_is_down_is_decided_once_it_is_back(
    app_factory, client, site, run_worker
):
    posted = approved(client, run_worker)
    with app_factory(REDIS_URL="redis://127.0.0.1:1/0").test_client() as down:
        response = edit(down, posted["id"], posted["delete_token"])
    assert response.status_code == 202
    db.session.remove()
    assert moderation_queue().count == 0
    with app_factory(SWEEP_AFTER_SECONDS=0).app_context():
        assert sweep_once() == 1
    run_worker()
    assert NEW_TEXT in shown(client, posted["id"])["body_html"]


# --- Settings ---------------------------------------------------------------------------------


def test_edit_window_setting_through_the_admin_api_and_cli(client, site, cli, make_user, api_token):
    auth = {"Authorization": f"Bearer {api_token(make_user('root', role='operator'))}"}
    response = client.patch(
        "/api/v1/admin/sites/demo", json={"edit_window_seconds": 60}, headers=auth
    )
    assert response.status_code == 200, response.json
    assert response.json["edit_window_seconds"] == 60
    bad = client.patch("/api/v1/admin/sites/demo", json={"edit_window_seconds": -1}, headers=auth)
    assert bad.status_code == 422 and "edit_window_seconds" in bad.json["error"]["fields"]
    result = cli("sites", "set", "demo", "--edit-window", "0")
    assert result.exit_code == 0, result.output
    assert demo().edit_window_seconds == 0
    assert "edit window" in cli("sites", "show", "demo").output
    assert db.session.scalar(
        db.select(OperatorAction).where(OperatorAction.action == "site.update")
    )


# --- The console -----------------------------------------------------------------------------


def test_the_console_lists_held_edits_decides_them_and_shows_the_history(
    client, policy_site, run_worker, make_user, login
):
    from .helpers import csrf_token_of

    posted = approved(client, run_worker)
    edit(client, posted["id"], posted["delete_token"], body=HELD_TEXT)
    run_worker()
    [revision] = [r for r in revisions_of(posted["id"]) if not r.original]
    make_user("mona", sites=[demo()])
    console = client.application.test_client()
    login(console, "mona")
    page = console.get("/console/edits")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert HELD_TEXT in html and POLITE in html
    assert f"Approve edit #{revision.id}" in html

    decided = console.post(
        f"/console/edits/{revision.id}/decision",
        data={"csrf_token": csrf_token_of(page), "action": "reject", "reason": "Off topic"},
    )
    assert decided.status_code == 302
    listed = console.get(decided.headers["Location"]).get_data(as_text=True)
    assert f"Edit #{revision.id} rejected." in listed
    assert HELD_TEXT not in listed
    assert own(client, posted)["edit"]["reasons"] == ["Off topic"]

    history = console.get(f"/console/comments/{posted['id']}/history")
    assert history.status_code == 200
    text = history.get_data(as_text=True)
    assert "Original: approved" in text and f"Edit #{revision.id}: rejected" in text
    assert "moderator:mona" in text and HELD_TEXT in text


# --- Privacy -----------------------------------------------------------------------------------


def test_deleting_a_comment_drops_its_edits_and_its_kept_original(client, site, run_worker):
    posted = approved(client, run_worker)
    edit(client, posted["id"], posted["delete_token"])
    run_worker()
    assert len(revisions_of(posted["id"])) == 2
    deleted = client.delete(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    )
    assert deleted.status_code == 204
    assert revisions_of(posted["id"]) == []


def test_privacy_export_lists_edits_and_erase_removes_them(client, site, run_worker):
    from service.core import privacy

    key = "reader-key-1"
    posted = approved(client, run_worker, commenter_key=key)
    edit(client, posted["id"], posted["delete_token"])
    run_worker()
    [exported] = privacy.export(key)["comments"]
    assert [(e["original"], e["status"]) for e in exported["edits"]] == [
        (True, "approved"),
        (False, "approved"),
    ]
    assert exported["edits"][1]["body_text"] == NEW_TEXT
    privacy.erase(key)
    assert revisions_of(posted["id"]) == []


def test_edits_are_refused_once_the_article_or_site_is_closed(client, site, run_worker):
    posted = approved(client, run_worker)
    comment = db.session.get(Comment, posted["id"])
    comment.article.is_closed = True
    db.session.commit()
    closed = edit(client, posted["id"], posted["delete_token"])
    assert closed.status_code == 409
    assert closed.json["error"]["message"] == "Comments on this article are closed."


def test_edits_count_against_the_sites_submit_limit(client, site, run_worker):
    posted = approved(client, run_worker)
    site = demo()
    site.rate_limits = {"submit": "2/minute"}
    db.session.commit()
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 202
    assert edit(client, posted["id"], posted["delete_token"]).status_code == 202
    limited = edit(client, posted["id"], posted["delete_token"])
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
