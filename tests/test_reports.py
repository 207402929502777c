"""Readers' reports of published comments, and the moderators' reported queue."""

import pytest
from sqlalchemy.exc import IntegrityError

from service.core.hashing import hash_ip
from service.extensions import db
from service.models import AuditEntry, Comment, CommentStatus, Report, Site

from .helpers import approved, comments_url, row_count, submit

QUEUE = "/api/v1/moderation/queues/reported"
KEY_A = "reader-key-aaaa"
KEY_B = "reader-key-bbbb"


def publish(comment_id: int, status: CommentStatus = CommentStatus.APPROVED) -> None:
    """Give a comment a status directly, as the worker or a moderator would."""
    db.session.get(Comment, comment_id).status = status
    db.session.commit()


def published(client, article: str = "a1", **fields) -> int:
    """Submit a comment and publish it; return its id."""
    comment_id = submit(client, article, **fields)["id"]
    publish(comment_id)
    return comment_id


def report(client, comment_id, ip: str = "127.0.0.1", **payload):
    """Report a comment from an address (each anonymous reader is told apart by its address)."""
    return client.post(
        f"/api/v1/comments/{comment_id}/reports",
        json=payload,
        environ_base={"REMOTE_ADDR": ip},
    )


def reports_of(comment_id: int) -> list[Report]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(Report).where(Report.comment_id == comment_id).order_by(Report.id)
        )
    )


@pytest.fixture
def moderator(client, make_user, api_token):
    """GET the moderation API as an operator (every site)."""
    token = api_token(make_user("olga", role="operator"))

    def get(url: str = QUEUE, **query):
        return client.get(url, query_string=query, headers={"Authorization": f"Bearer {token}"})

    return get


# --- Reporting -------------------------------------------------------------------------------


def test_report_is_accepted_and_stored(client, site, run_worker):
    site_id = site.id
    comment_id = approved(client, run_worker)["id"]
    audit_before = row_count(AuditEntry)
    response = report(client, comment_id, reason="abusive", note="  Insults another reader.  ")
    assert response.status_code == 202
    assert response.json == {"status": "received"}
    (stored,) = reports_of(comment_id)
    assert stored.reason.value == "abusive"
    assert stored.note == "Insults another reader."
    assert stored.site_id == site_id
    assert stored.reporter_key is None
    # The address only as a keyed hash, like comments.
    assert stored.ip_hash == hash_ip("127.0.0.1")
    assert stored.created_at is not None
    # Reports change no status and write no audit entries.
    assert row_count(AuditEntry) == audit_before
    assert db.session.get(Comment, comment_id).status == CommentStatus.APPROVED


def test_reporter_key_is_stored(client, site):
    comment_id = published(client)
    assert report(client, comment_id, reason="spam", commenter_key=KEY_A).status_code == 202
    assert [r.reporter_key for r in reports_of(comment_id)] == [KEY_A]


def test_a_repeat_report_by_the_same_reader_is_accepted_and_stored_once(client, site):
    comment_id = published(client)
    first = report(client, comment_id, reason="spam", commenter_key=KEY_A)
    again = report(client, comment_id, reason="abusive", commenter_key=KEY_A)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json == first.json == {"status": "received"}
    # The first report stands.
    assert [r.reason.value for r in reports_of(comment_id)] == ["spam"]


def test_reports_by_different_readers_all_count(client, site):
    comment_id = published(client)
    report(client, comment_id, reason="spam", commenter_key=KEY_A)
    report(client, comment_id, reason="spam", commenter_key=KEY_B)
    # Without a key, readers are told apart by their address (its keyed hash).
    report(client, comment_id, reason="off_topic", ip="203.0.113.7")
    report(client, comment_id, reason="off_topic", ip="198.51.100.9")
    assert len(reports_of(comment_id)) == 4
    # The same key may report another comment.
    other_id = published(client, body="A second, different comment.")
    assert report(client, other_id, reason="spam", commenter_key=KEY_A).status_code == 202
    assert len(reports_of(other_id)) == 1


def test_an_anonymous_reader_reporting_again_from_the_same_address_is_kept_once(client, site):
    comment_id = published(client)
    for _ in range(20):
        assert report(client, comment_id, reason="spam", ip="203.0.113.7").status_code == 202
    assert report(client, comment_id, reason="abusive", ip="203.0.113.7").status_code == 202

    assert [r.reason.value for r in reports_of(comment_id)] == ["spam"]
    # A key of its own makes it another reader's report, as before.
    report(client, comment_id, reason="abusive", ip="203.0.113.7", commenter_key=KEY_A)
    assert len(reports_of(comment_id)) == 2


def test_the_database_keeps_anonymous_reports_one_per_address(client, site):
    comment_id = published(client)
    report(client, comment_id, reason="spam", ip="203.0.113.7")
    twin = reports_of(comment_id)[0]

    # What two racing requests would insert: the partial unique index refuses the second.
    db.session.add(
        Report(
            comment_id=comment_id,
            site_id=twin.site_id,
            reason=twin.reason,
            ip_hash=twin.ip_hash,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_report_racing_its_twin_is_still_accepted_once(client, site, monkeypatch):
    from service.core import reports

    comment_id = published(client)
    report(client, comment_id, reason="spam", commenter_key=KEY_A)
    # As if the twin committed between our check and our insert: the unique constraint decides.
    real = reports._already_reported
    calls = []

    def first_check_misses(*args):
        calls.append(args)
        return False if len(calls) == 1 else real(*args)

    monkeypatch.setattr(reports, "_already_reported", first_check_misses)
    response = report(client, comment_id, reason="abusive", commenter_key=KEY_A)
    assert response.status_code == 202
    assert len(calls) == 2
    assert [r.reason.value for r in reports_of(comment_id)] == ["spam"]


@pytest.mark.parametrize(
    "status", [CommentStatus.PENDING, CommentStatus.HELD, CommentStatus.REJECTED]
)
def test_only_published_comments_can_be_reported(client, site, status):
    comment_id = submit(client)["id"]
    publish(comment_id, status)
    response = report(client, comment_id, reason="spam")
    assert response.status_code == 404
    # The same answer as for a comment that does not exist: nothing about hidden ones leaks.
    assert response.json["error"]["message"] == "There is no such comment."
    assert row_count(Report) == 0


def test_a_deleted_comment_cannot_be_reported(client, site):
    posted = submit(client)
    publish(posted["id"])
    client.delete(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    )
    assert report(client, posted["id"], reason="spam").status_code == 404
    assert row_count(Report) == 0


@pytest.mark.parametrize("comment_id", ["424242", str(2**31), str(2**63), "0"])
def test_reporting_a_missing_comment_is_404(client, site, comment_id):
    response = report(client, comment_id, reason="spam")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_reporting_at_a_non_numeric_id_is_404(client, site):
    assert client.post("/api/v1/comments/abc/reports", json={"reason": "spam"}).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "reason"),
        ({"reason": "boring"}, "reason"),
        ({"reason": "SPAM"}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": ["spam"]}, "reason"),
        ({"reason": "other"}, "note"),
        ({"reason": "other", "note": "   "}, "note"),
        ({"reason": "other", "note": None}, "note"),
        ({"reason": "spam", "note": "x" * 501}, "note"),
        ({"reason": "spam", "note": 5}, "note"),
        ({"reason": "spam", "commenter_key": "short"}, "commenter_key"),
        ({"reason": "spam", "commenter_key": "has spaces in it"}, "commenter_key"),
        ({"reason": "spam", "extra": 1}, "extra"),
    ],
)
def test_bad_reports_are_422_naming_the_field_and_store_nothing(client, site, payload, field):
    comment_id = published(client)
    response = report(client, comment_id, **payload)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert row_count(Report) == 0


def test_unknown_reason_lists_the_reasons(client, site):
    response = report(client, published(client), reason="boring")
    assert response.json["error"]["fields"]["reason"] == [
        "Must be one of: abusive, spam, off_topic, other."
    ]


def test_a_note_of_500_characters_and_other_with_a_note_are_fine(client, site):
    comment_id = published(client)
    assert report(client, comment_id, reason="spam", note="x" * 500).status_code == 202
    assert (
        report(client, comment_id, reason="other", note="Wrong facts", ip="203.0.113.7").status_code
        == 202
    )
    assert [r.note for r in reports_of(comment_id)] == ["x" * 500, "Wrong facts"]


def test_a_body_that_is_not_a_json_object_is_rejected(client, site):
    comment_id = published(client)
    url = f"/api/v1/comments/{comment_id}/reports"
    assert client.post(url, data="{", content_type="application/json").status_code == 400
    assert client.post(url, json=["spam"]).status_code == 422
    assert row_count(Report) == 0


def test_public_endpoints_show_nothing_of_reports(client, site):
    posted = submit(client)
    publish(posted["id"])
    report(client, posted["id"], reason="abusive", note="secret note", commenter_key=KEY_A)
    thread = client.get(comments_url())
    own = client.get(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    )
    counts = client.get("/api/v1/sites/demo/counts?articles=a1")
    for response in (thread, own, counts):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        # (POLITE, the comment's text, says "report" itself.)
        for word in ("report_count", "notes", "abusive", "secret note", KEY_A):
            assert word not in text, (word, text)


# --- The reported queue -----------------------------------------------------------------------


def test_empty_queue(moderator, site):
    response = moderator()
    assert response.status_code == 200
    assert response.json["comments"] == [] and response.json["next_cursor"] is None
    assert response.json["counts"]["reported"] == 0


def test_queue_lists_reported_comments_with_counts_reasons_and_notes(client, site, moderator):
    quiet = published(client, body="Nobody minds this one.")
    first = published(client, title="Toll", body="First <b>reported</b> comment.")
    second = published(client, "a2", body="Second reported comment.")
    report(client, first, reason="abusive", commenter_key=KEY_A)
    report(client, first, reason="abusive", commenter_key=KEY_B, note="Name-calling")
    report(client, first, reason="other", note="Wrong about the toll")
    report(client, second, reason="spam")
    report(client, first, reason="spam", commenter_key=KEY_A)  # a repeat: not counted

    response = moderator(site="demo")
    assert response.status_code == 200
    body = response.json
    assert body["queue"] == "reported"
    assert body["counts"]["reported"] == 2
    assert body["next_cursor"] is None
    # Most recently reported first.
    assert [item["id"] for item in body["comments"]] == [second, first]
    assert quiet not in [item["id"] for item in body["comments"]]
    item = body["comments"][1]
    assert item["site"] == "demo"
    assert item["article"]["id"] == "a1"
    assert item["author_name"] == "Dana"
    assert item["title"] == "Toll"
    assert item["body_html"] == "First <b>reported</b> comment."
    assert item["status"] == "approved"
    assert item["reports"] == {
        "count": 3,
        "reasons": {"abusive": 2, "spam": 0, "off_topic": 0, "other": 1},
        # Newest first.
        "notes": ["Wrong about the toll", "Name-calling"],
    }
    assert body["comments"][0]["reports"] == {
        "count": 1,
        "reasons": {"abusive": 0, "spam": 1, "off_topic": 0, "other": 0},
        "notes": [],
    }


def test_a_new_report_moves_a_comment_to_the_top(client, site, moderator):
    first, second = published(client), published(client, body="Another comment here.")
    report(client, first, reason="spam")
    report(client, second, reason="spam")
    assert [c["id"] for c in moderator().json["comments"]] == [second, first]
    report(client, first, reason="abusive", ip="203.0.113.7")
    assert [c["id"] for c in moderator().json["comments"]] == [first, second]


def test_comments_taken_down_leave_the_reported_queue(client, site, moderator):
    stays = published(client, body="Still published.")
    held = published(client, body="Held after reports.")
    rejected = published(client, body="Rejected after reports.")
    posted = submit(client, body="Deleted by its author.")
    publish(posted["id"])
    for comment_id in (stays, held, rejected, posted["id"]):
        report(client, comment_id, reason="abusive")
    publish(held, CommentStatus.HELD)
    publish(rejected, CommentStatus.REJECTED)
    client.delete(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    )
    # Readers no longer see them, so there is nothing left to review for their reports.
    assert [c["id"] for c in moderator().json["comments"]] == [stays]


def test_queue_pages_with_a_cursor(client, site, moderator):
    ids = [published(client, body=f"Comment number {n} of five.") for n in range(5)]
    for comment_id in ids:
        report(client, comment_id, reason="spam")
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = moderator(**query).json
        pages += 1
        assert len(body["comments"]) <= 2
        seen += [c["id"] for c in body["comments"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(ids))


def test_queue_filters_by_site_and_without_a_site_lists_all(client, site, moderator):
    db.session.add(Site(key="other", name="Other"))
    db.session.commit()
    here = published(client)
    response = client.post(
        comments_url(site="other"), json={"author_name": "Lee", "body": "Over on the other site."}
    )
    there = response.json["id"]
    publish(there)
    report(client, here, reason="spam")
    report(client, there, reason="spam")
    assert [c["id"] for c in moderator(site="demo").json["comments"]] == [here]
    assert [c["id"] for c in moderator(site="other").json["comments"]] == [there]
    everything = moderator().json["comments"]
    assert {(c["id"], c["site"]) for c in everything} == {(here, "demo"), (there, "other")}


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"site": "nope"}, 404, None),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 101}, 422, "limit"),
        ({"limit": "x"}, 422, "limit"),
        ({"cursor": "not-a-cursor"}, 422, "cursor"),
        ({"site": "k" * 65}, 422, "site"),
        ({"sort": "loudest"}, 422, "sort"),
    ],
)
def test_bad_queue_queries_answer_in_the_error_shape(moderator, site, query, status, field):
    response = moderator(**query)
    assert response.status_code == status, response.json
    if field:
        assert field in response.json["error"]["fields"]


def test_openapi_documents_reports_and_the_queue(client):
    document = client.get("/api/v1/openapi.json").json
    post = document["paths"]["/api/v1/comments/{comment_id}/reports"]["post"]
    assert {"202", "404", "422"} <= set(post["responses"])
    queue = document["paths"]["/api/v1/moderation/queues/{queue}"]["get"]
    assert queue["security"] == [{"apiToken": []}]
    assert {"200", "401", "403"} <= set(queue["responses"])
    scheme = document["components"]["securitySchemes"]["apiToken"]
    assert scheme == {"type": "http", "scheme": "bearer"}


# --- The CLI ----------------------------------------------------------------------------------


def test_cli_prints_the_reported_queue(app, client, site):
    comment_id = published(client, body="A comment <i>people</i> reported.")
    report(client, comment_id, reason="abusive", note="Rude to another reader")
    report(client, comment_id, reason="spam", ip="203.0.113.7")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["moderation", "reports", "--site", "demo"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "site", "status", "reports", "reasons"]
    assert lines[1].split()[:4] == [str(comment_id), "demo", "approved", "2"]
    assert lines[1].endswith("abusive 1, spam 1")
    assert "Dana on a1: A comment people reported." in lines[2]
    assert "- Rude to another reader" in lines[3]
    assert runner.invoke(args=["moderation", "reports"]).exit_code == 0


def test_cli_says_when_nothing_is_reported_and_refuses_an_unknown_site(app, site):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["moderation", "reports"]).output == "No reported comments.\n"
    result = runner.invoke(args=["moderation", "reports", "--site", "nope"])
    assert result.exit_code != 0
    assert "There is no site 'nope'." in result.output
