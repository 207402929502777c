"""The moderation API: who sees and decides what; queues, decisions, undo, events, audit."""

from __future__ import annotations

import base64
import json

import pytest

from service.core import moderation
from service.core.learning import DOCUMENTS
from service.extensions import db
from service.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Report,
    ReportReason,
    Site,
    SpamFeature,
    utcnow,
)

from .helpers import (
    comments_url,
    count_queries,
    csrf_token_of,
    make_comment,
    make_site,
    status_of,
)

API = "/api/v1/moderation"
QUEUE_NAMES = ["held", "reported", "pending", "approved", "rejected"]

# --- Seeding ----------------------------------------------------------------------------------


def add_report(comment: Comment, reason: str = "abusive", note: str | None = None) -> None:
    db.session.add(
        Report(
            comment_id=comment.id,
            site_id=comment.site_id,
            reason=ReportReason(reason),
            note=note,
            created_at=utcnow(),
        )
    )
    db.session.commit()


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def sites(app):
    """Two sites: A (moderated by alice) and B (moderated by bob)."""
    return make_site("site-a"), make_site("site-b")


@pytest.fixture
def people(sites, make_user, api_token):
    """Tokens of alice (moderator of A), bob (moderator of B), olga (operator)."""
    site_a, site_b = sites
    alice = make_user("alice", sites=[site_a])
    bob = make_user("bob", sites=[site_b])
    olga = make_user("olga", role="operator")
    return {
        "alice": api_token(alice),
        "bob": api_token(bob),
        "olga": api_token(olga),
        "carol": api_token(make_user("carol", sites=[site_a])),
    }


@pytest.fixture
def call(client, people):
    """call(who, method, path, **kwargs): a moderation API request with that person's token."""

    def request(who: str | None, method: str, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers["Authorization"] = f"Bearer {people.get(who, who)}"
        return client.open(API + path, method=method, headers=headers, **kwargs)

    return request


def decide(call, who, comment_id, action="approve", expected="held", **extra):
    return call(
        who,
        "POST",
        f"/comments/{comment_id}/decision",
        json={"action": action, "expected_status": expected, **extra},
    )


# --- Authentication and sites -----------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/queues/held", None),
    ("GET", "/events", None),
    ("GET", "/audit", None),
    ("GET", "/summary", None),
    ("POST", "/decisions", {"action": "approve", "items": [{"id": 1, "expected_status": "held"}]}),
    ("POST", "/comments/1/decision", {"action": "approve", "expected_status": "held"}),
    ("POST", "/comments/1/undo", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("who", [None, "tb_not-a-real-token", ""])
def test_every_endpoint_needs_a_valid_token(call, method, path, body, who):
    response = call(who, method, path, json=body)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(call, people, app):
    from service.core import accounts
    from service.models import ApiToken

    token_id = db.session.scalar(db.select(ApiToken.id).order_by(ApiToken.id))  # alice's
    assert call("alice", "GET", "/queues/held").status_code == 200
    accounts.revoke_token(token_id)
    response = call("alice", "GET", "/queues/held")
    assert response.status_code == 401
    assert "revoked" in response.json["error"]["message"]


def test_a_deactivated_account_is_refused(call, people):
    from service.core import accounts

    accounts.set_active(accounts.get_user("alice"), False)
    assert call("alice", "GET", "/queues/held").status_code == 401


@pytest.fixture
def spread(sites):
    """One held, approved, rejected, pending and reported comment on each site."""
    made = {}
    for site in sites:
        for status in ("held", "approved", "rejected", "pending"):
            made[(site.key, status)] = make_comment(site, status, key=f"key-{site.key}-01")
        reported = make_comment(site, "approved")
        add_report(reported)
        made[(site.key, "reported")] = reported
    return made


@pytest.mark.parametrize("queue", QUEUE_NAMES)
def test_moderators_see_only_their_sites_in_lists_and_counts(call, spread, queue):
    for who, own, other in (("alice", "site-a", "site-b"), ("bob", "site-b", "site-a")):
        page = call(who, "GET", f"/queues/{queue}").json
        assert {card["site"] for card in page["comments"]} == {own}
        ids = {card["id"] for card in page["comments"]}
        assert spread[(own, queue)].id in ids
        assert spread[(other, queue)].id not in ids
        # approved holds the reported one too
        expected = {"held": 1, "reported": 1, "pending": 1, "approved": 2, "rejected": 1}
        assert page["counts"] == expected


@pytest.mark.parametrize("queue", QUEUE_NAMES)
def test_operators_see_every_site(call, spread, queue):
    page = call("olga", "GET", f"/queues/{queue}").json
    assert {card["site"] for card in page["comments"]} == {"site-a", "site-b"}
    assert page["counts"] == {"held": 2, "reported": 2, "pending": 2, "approved": 4, "rejected": 2}


@pytest.mark.parametrize(
    "path",
    [
        "/queues/held?site=site-b",
        "/events?site=site-b",
        "/audit?site=site-b",
        "/summary?site=site-b",
    ],
)
def test_filtering_on_another_moderators_site_is_403(call, spread, path):
    response = call("alice", "GET", path)
    assert response.status_code == 403
    assert response.json["error"]["message"] == "You don't moderate this site."
    assert call("bob", "GET", path).status_code == 200
    assert call("olga", "GET", path).status_code == 200


def test_unknown_site_is_404(call, spread):
    assert call("olga", "GET", "/queues/held?site=nope").status_code == 404


@pytest.mark.parametrize("status", ["held", "approved", "rejected", "pending"])
def test_deciding_on_another_site_is_403_and_changes_nothing(call, spread, status):
    comment = spread[("site-b", status)]
    action = "approve" if status != "approved" else "reject"
    response = decide(call, "alice", comment.id, action, status)
    assert response.status_code == 403
    assert status_of(comment.id) == status
    assert call("alice", "POST", f"/comments/{comment.id}/undo").status_code == 403


def test_deciding_a_missing_comment_is_404(call, spread):
    response = decide(call, "olga", 999999)
    assert response.status_code == 404
    assert response.json["error"]["message"] == "There is no such comment."


def test_events_audit_and_summary_leave_out_other_sites(call, spread):
    held_a, held_b = spread[("site-a", "held")], spread[("site-b", "held")]
    start = call("alice", "GET", "/events").json["last"]
    assert decide(call, "bob", held_b.id).status_code == 200
    assert decide(call, "alice", held_a.id, "reject").status_code == 200
    events = call("alice", "GET", f"/events?after={start}").json["events"]
    assert [e["comment_id"] for e in events] == [held_a.id]
    audit = call("alice", "GET", "/audit").json["entries"]
    assert {entry["site"] for entry in audit} == {"site-a"}
    assert held_b.id not in {entry["comment_id"] for entry in audit}
    actors = [m["actor"] for m in call("alice", "GET", "/summary").json["moderators"]]
    assert actors == ["moderator:alice"]
    everyone = [m["actor"] for m in call("olga", "GET", "/summary").json["moderators"]]
    assert everyone == ["moderator:alice", "moderator:bob"]


def test_the_console_session_works_too_and_posts_need_its_csrf_token(
    app, client, people, spread, login
):
    login(client, "alice")
    assert client.get(f"{API}/queues/held").status_code == 200
    held = spread[("site-a", "held")]
    body = {"action": "approve", "expected_status": "held"}
    refused = client.post(f"{API}/comments/{held.id}/decision", json=body)
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "csrf_failed"
    token = csrf_token_of(client.get("/console/account"))
    response = client.post(
        f"{API}/comments/{held.id}/decision", json=body, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.json


# --- Queues -----------------------------------------------------------------------------------


def test_a_card_has_everything_the_console_shows(call, sites):
    site_a, _ = sites
    parent = make_comment(site_a, "approved", body="The bridge reopens on Monday.")
    earlier = make_comment(site_a, "rejected", key="reader-key-1", body="Buy cheap watches now")
    make_comment(site_a, "approved", key="reader-key-1")
    comment = make_comment(
        site_a,
        "held",
        key="reader-key-1",
        parent=parent,
        toxicity=0.62,
        spam=0.2,
        reasons=[
            "toxicity 0.62 ≥ hold threshold 0.50",
            "suspect word “moron” (listed as “moron*”)",
            "toxicity: insult: “idiot” (written “1d10t”)",
        ],
    )
    card = call("alice", "GET", "/queues/held").json["comments"][0]
    assert list(card) == [
        "id",
        "status",
        "site",
        "article",
        "parent",
        "author_name",
        "title",
        "body_html",
        "created_at",
        "decided_at",
        "toxicity",
        "spam",
        "likes",
        "dislikes",
        "reasons",
        "highlights",
        "commenter",
        "reports",
        "shadow",
        "featured",
        "edited_at",
        "ban_targets",
        "sso_id",
        "badges",
    ]
    assert card["id"] == comment.id
    assert card["status"] == "held"
    assert card["site"] == "site-a"
    assert card["article"] == {
        "id": "a1",
        "title": "Article a1",
        "url": "https://site-a.example/a1",
        "premoderated": False,
    }
    assert card["parent"] == {
        "id": parent.id,
        "author_name": parent.author_name,
        "body_html": "<p>The bridge reopens on Monday.</p>",
    }
    assert card["toxicity"] == 0.62
    assert card["highlights"] == ["moron", "idiot", "1d10t"]
    assert card["created_at"].endswith("+00:00")
    commenter = card["commenter"]
    assert commenter["key"] == "reader-key-1"
    # Only the commenter key was stored with it, so that is all a ban by this card can match.
    assert card["ban_targets"] == ["commenter_key"]
    assert card["shadow"] is False
    assert (commenter["approved"], commenter["rejected"]) == (1, 1)
    assert [item["id"] for item in commenter["recent"]][-1] == earlier.id
    assert comment.id not in [item["id"] for item in commenter["recent"]]
    assert commenter["recent"][-1]["excerpt"] == "Buy cheap watches now"
    assert card["reports"] == {
        "count": 0,
        "reasons": {"abusive": 0, "spam": 0, "off_topic": 0, "other": 0},
        "notes": [],
    }
    assert card["shadow"] is False


def test_recent_shows_at_most_three_other_comments(call, sites):
    site_a, _ = sites
    for _ in range(5):
        make_comment(site_a, "approved", key="reader-key-2")
    card = call("alice", "GET", "/queues/approved?limit=1").json["comments"][0]
    assert len(card["commenter"]["recent"]) == 3
    assert card["commenter"]["approved"] == 5


def test_reported_queue_shows_open_reports_newest_first(call, sites):
    site_a, _ = sites
    first, second = make_comment(site_a, "approved"), make_comment(site_a, "approved")
    add_report(first, "abusive", "Insults another reader")
    add_report(second, "spam")
    add_report(first, "other", "Wrong about the toll")
    page = call("alice", "GET", "/queues/reported").json
    assert [card["id"] for card in page["comments"]] == [first.id, second.id]
    reports = page["comments"][0]["reports"]
    assert reports["count"] == 2
    assert reports["reasons"] == {"abusive": 1, "spam": 0, "off_topic": 0, "other": 1}
    assert reports["notes"] == ["Wrong about the toll", "Insults another reader"]
    oldest = call("alice", "GET", "/queues/reported?sort=oldest").json["comments"]
    assert [card["id"] for card in oldest] == [second.id, first.id]


def test_approving_a_reported_comment_dismisses_its_reports_and_undo_brings_them_back(call, sites):
    site_a, _ = sites
    comment = make_comment(site_a, "approved")
    add_report(comment)
    response = decide(call, "alice", comment.id, "approve", "approved", reason="fair comment")
    assert response.status_code == 200
    page = call("alice", "GET", "/queues/reported").json
    assert page["comments"] == [] and page["counts"]["reported"] == 0
    assert call("alice", "POST", f"/comments/{comment.id}/undo").status_code == 200
    assert call("alice", "GET", "/queues/reported").json["counts"]["reported"] == 1
    # A new report after a dismissal brings it back too.
    decide(call, "alice", comment.id, "approve", "approved")
    add_report(comment, "spam")
    card = call("alice", "GET", "/queues/reported").json["comments"][0]
    assert card["reports"]["count"] == 1


def test_rejecting_a_reported_comment_takes_it_off_the_queue(call, sites):
    site_a, _ = sites
    comment = make_comment(site_a, "approved")
    add_report(comment)
    assert decide(call, "alice", comment.id, "reject", "approved").json["status"] == "rejected"
    assert call("alice", "GET", "/queues/reported").json["counts"]["reported"] == 0


def test_queue_sorts(call, sites):
    site_a, _ = sites
    old = make_comment(site_a, "held", age=300, toxicity=0.55, spam=0.1)
    risky = make_comment(site_a, "held", age=200, toxicity=0.6, spam=0.85)
    new = make_comment(site_a, "held", age=100, toxicity=0.7, spam=0.2)

    def order(query=""):
        page = call("alice", "GET", f"/queues/held{query}").json
        return [card["id"] for card in page["comments"]]

    assert order() == [old.id, risky.id, new.id]  # held: oldest first by default
    assert order("?sort=newest") == [new.id, risky.id, old.id]
    assert order("?sort=riskiest") == [risky.id, new.id, old.id]


@pytest.mark.parametrize("sort", ["oldest", "newest", "riskiest"])
def test_queue_pages_with_cursors(call, sites, sort):
    site_a, _ = sites
    made = {make_comment(site_a, "held", toxicity=0.5 + i / 100).id for i in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        query = f"?sort={sort}&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = call("alice", "GET", f"/queues/held{query}").json
        seen += [card["id"] for card in page["comments"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(made) and len(seen) == 7


def test_queue_filters_by_article_and_commenter_and_counts_follow(call, sites):
    site_a, _ = sites
    on_a1 = make_comment(site_a, "held", article="a1", key="reader-key-3")
    on_a2 = make_comment(site_a, "held", article="a2")
    make_comment(site_a, "approved", article="a2", key="reader-key-3")
    page = call("alice", "GET", "/queues/held?site=site-a&article=a2").json
    assert [card["id"] for card in page["comments"]] == [on_a2.id]
    assert page["counts"]["held"] == 1 and page["counts"]["approved"] == 1
    page = call("alice", "GET", "/queues/held?commenter=reader-key-3").json
    assert [card["id"] for card in page["comments"]] == [on_a1.id]
    assert page["counts"] == {"held": 1, "reported": 0, "pending": 0, "approved": 1, "rejected": 0}
    missing = call("alice", "GET", "/queues/held?site=site-a&article=nope")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("/queues/held?limit=0", 422, "limit"),
        ("/queues/held?limit=101", 422, "limit"),
        ("/queues/held?sort=loudest", 422, "sort"),
        ("/queues/held?article=a1", 422, "site"),
        ("/queues/held?cursor=not-a-cursor", 422, "cursor"),
        ("/queues/held?commenter=x", 422, "commenter"),
        ("/events?after=-1", 422, "after"),
        ("/events?after=abc", 422, "after"),
        ("/audit?since=yesterday", 422, "since"),
        ("/audit?cursor=bad", 422, "cursor"),
        ("/summary?until=2026-13-01", 422, "until"),
    ],
)
def test_bad_queries_are_4xx_json_naming_the_field(call, spread, query, status, field):
    response = call("olga", "GET", query)
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"]


def test_a_cursor_of_another_sort_is_refused(call, sites):
    site_a, _ = sites
    for _ in range(3):
        make_comment(site_a, "held")
    cursor = call("alice", "GET", "/queues/held?limit=1").json["next_cursor"]
    response = call("alice", "GET", f"/queues/held?sort=riskiest&cursor={cursor}")
    assert response.status_code == 422
    assert "cursor" in response.json["error"]["fields"]
    forged = base64.urlsafe_b64encode(json.dumps(["oldest", "x", 1]).encode()).decode()
    assert call("alice", "GET", f"/queues/held?cursor={forged}").status_code == 422


def test_an_unknown_queue_is_404(call, spread):
    response = call("alice", "GET", "/queues/deleted")
    assert response.status_code == 404
    assert "held, reported" in response.json["error"]["message"]


def test_a_queue_page_costs_a_fixed_number_of_queries(call, sites, app):
    site_a, _ = sites
    parent = make_comment(site_a, "approved")

    def fill(n):
        for i in range(n):
            comment = make_comment(
                site_a, "held", article=f"art-{i % 4}", key=f"reader-key-{i:03d}", parent=parent
            )
            add_report(comment, note="look")

    fill(3)
    call("alice", "GET", "/queues/held")  # the token's first use stamps last_used_at
    with count_queries() as small:
        assert len(call("alice", "GET", "/queues/held").json["comments"]) == 3
    fill(20)
    with count_queries() as large:
        assert len(call("alice", "GET", "/queues/held").json["comments"]) == 23
    assert len(large) == len(small), "\n\n".join([*large, "-----", *small])
    # auth (token, user, sites) and the queue's 8: page, counts by status, reported count,
    # parents, commenter counts, commenter's recent comments, report counts, report notes
    assert len(large) == 11, "\n".join(large)


# --- Decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("held", "approve", "approved"),
        ("held", "reject", "rejected"),
        ("pending", "approve", "approved"),
        ("pending", "reject", "rejected"),
        ("approved", "reject", "rejected"),
        ("approved", "approve", "approved"),
        ("rejected", "approve", "approved"),
    ],
)
def test_decisions_from_each_status(call, sites, status, action, after):
    site_a, _ = sites
    comment = make_comment(site_a, status)
    response = decide(call, "alice", comment.id, action, status, reason="abusive", note="Why")
    assert response.status_code == 200, response.json
    body = response.json
    assert list(body) == ["id", "status", "previous_status", "undo_until"]
    assert (body["id"], body["status"], body["previous_status"]) == (comment.id, after, status)
    assert body["undo_until"].endswith("+00:00")
    assert status_of(comment.id) == after
    entry = db.session.scalars(
        db.select(AuditEntry)
        .where(AuditEntry.comment_id == comment.id)
        .order_by(AuditEntry.id.desc())
    ).first()
    assert (entry.actor, entry.from_status, entry.to_status) == ("moderator:alice", status, after)
    assert entry.reason == "abusive\nWhy"
    # The automatic reasons stay on the comment for the next moderator to read.
    assert db.session.get(Comment, comment.id).reasons == comment.reasons


def test_rejecting_a_rejected_comment_is_409(call, sites):
    comment = make_comment(sites[0], "rejected")
    response = decide(call, "alice", comment.id, "reject", "rejected")
    assert response.status_code == 409
    assert response.json["current"] == {"status": "rejected", "decided_by": "worker"}


def test_two_moderators_deciding_at_once_the_second_gets_409(call, sites):
    comment = make_comment(sites[0], "held")
    assert decide(call, "alice", comment.id, "approve", "held").status_code == 200
    response = decide(call, "carol", comment.id, "reject", "held")
    assert response.status_code == 409
    assert response.json == {
        "error": {
            "code": "conflict",
            "message": "Another moderator already approved this comment.",
            "fields": {},
        },
        "current": {"status": "approved", "decided_by": "moderator:alice"},
    }
    assert status_of(comment.id) == "approved"


def test_a_stale_decision_loses_the_race_in_the_update_itself(call, sites, monkeypatch):
    comment = make_comment(sites[0], "held")
    real = moderation.record_decisions

    def colleague_first(records, expected, *, actor):
        # Another moderator's decision lands between our read and our update.
        db.session.connection().execute(
            db.update(Comment).where(Comment.id == comment.id).values(status="rejected")
        )
        return real(records, expected, actor=actor)

    monkeypatch.setattr(moderation, "record_decisions", colleague_first)
    response = decide(call, "alice", comment.id)
    assert response.status_code == 409
    assert response.json["current"]["status"] == "rejected"


def test_deciding_a_deleted_comment_is_409(call, sites, client):
    comment = make_comment(sites[0], "approved")
    db.session.get(Comment, comment.id).status = CommentStatus.DELETED
    db.session.commit()
    response = decide(call, "alice", comment.id, "reject", "approved")
    assert response.status_code == 409
    assert response.json["error"]["message"] == "The author deleted this comment."
    assert decide(call, "alice", comment.id, "reject", "deleted").status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "ban", "expected_status": "held"}, "action"),
        ({"action": "approve"}, "expected_status"),
        ({"expected_status": "held"}, "action"),
        ({"action": "approve", "expected_status": "reported"}, "expected_status"),
        ({"action": "approve", "expected_status": "held", "reason": "x" * 201}, "reason"),
        ({"action": "approve", "expected_status": "held", "reason": "a\nb"}, "reason"),
        ({"action": "approve", "expected_status": "held", "note": "x" * 1001}, "note"),
        ({"action": "approve", "expected_status": "held", "colour": "red"}, "colour"),
    ],
)
def test_bad_decisions_are_422_naming_the_field(call, spread, body, field):
    comment = spread[("site-a", "held")]
    response = call("alice", "POST", f"/comments/{comment.id}/decision", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert status_of(comment.id) == "held"


def test_a_body_that_is_not_json_is_400(call, spread):
    comment = spread[("site-a", "held")]
    response = call(
        "alice",
        "POST",
        f"/comments/{comment.id}/decision",
        data="{not json",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"


def test_bulk_decisions_apply_each_item_on_its_own(call, sites):
    site_a, site_b = sites
    held = make_comment(site_a, "held")
    pending = make_comment(site_a, "pending")
    stale = make_comment(site_a, "approved")
    foreign = make_comment(site_b, "held")
    response = call(
        "alice",
        "POST",
        "/decisions",
        json={
            "action": "reject",
            "reason": "spam",
            "items": [
                {"id": held.id, "expected_status": "held"},
                {"id": stale.id, "expected_status": "held"},
                {"id": foreign.id, "expected_status": "held"},
                {"id": 999999, "expected_status": "held"},
                {"id": pending.id, "expected_status": "pending"},
            ],
        },
    )
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [(r["id"], r["status"]) for r in results] == [
        (held.id, "rejected"),
        (stale.id, None),
        (foreign.id, None),
        (999999, None),
        (pending.id, "rejected"),
    ]
    assert [r["error"] and r["error"]["code"] for r in results] == [
        None,
        "conflict",
        "forbidden",
        "not_found",
        None,
    ]
    assert results[1]["error"]["current"] == {"status": "approved", "decided_by": "worker"}
    assert status_of(held.id) == status_of(pending.id) == "rejected"
    assert status_of(stale.id) == "approved" and status_of(foreign.id) == "held"


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"id": i, "expected_status": "held"} for i in range(1, 102)], "items"),
        ([], "items"),
        ([{"id": 1}], "items"),
        ([{"id": 1, "expected_status": "held"}] * 2, "items"),
        ([{"id": "1", "expected_status": "held"}], "items"),
    ],
)
def test_bad_bulk_requests_are_422(call, spread, items, field):
    response = call("olga", "POST", "/decisions", json={"action": "approve", "items": items})
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_a_hundred_items_are_fine(call, sites):
    ids = [make_comment(sites[0], "held").id for _ in range(100)]
    items = [{"id": i, "expected_status": "held"} for i in ids]
    response = call("alice", "POST", "/decisions", json={"action": "approve", "items": items})
    assert response.status_code == 200
    assert {r["status"] for r in response.json["results"]} == {"approved"}


# --- Learning and undo ------------------------------------------------------------------------


def documents(site: Site) -> tuple[int, int]:
    """The site's learned model: (spam, ham) document counts."""
    db.session.expire_all()
    row = db.session.get(SpamFeature, (site.id, DOCUMENTS))
    return (row.spam, row.ham) if row else (0, 0)


def test_decisions_teach_the_spam_model_and_undo_takes_it_back(call, sites):
    site_a, _ = sites
    ham, spam, abusive = (make_comment(site_a, "held") for _ in range(3))
    assert decide(call, "alice", ham.id, "approve").status_code == 200
    assert documents(site_a) == (0, 1)
    assert decide(call, "alice", spam.id, "reject", reason="Spam").status_code == 200
    assert documents(site_a) == (1, 1)
    # A rejection for another reason says nothing about spam.
    assert decide(call, "alice", abusive.id, "reject", reason="abusive").status_code == 200
    assert documents(site_a) == (1, 1)
    assert call("alice", "POST", f"/comments/{spam.id}/undo").status_code == 200
    assert documents(site_a) == (0, 1)
    assert call("alice", "POST", f"/comments/{ham.id}/undo").status_code == 200
    assert documents(site_a) == (0, 0)
    assert call("alice", "POST", f"/comments/{abusive.id}/undo").status_code == 200
    assert documents(site_a) == (0, 0)


def test_undo_within_the_window_restores_the_status_with_an_audit_entry(call, sites):
    comment = make_comment(sites[0], "held")
    decide(call, "alice", comment.id, "reject", reason="abusive")
    response = call("alice", "POST", f"/comments/{comment.id}/undo")
    assert response.status_code == 200
    assert response.json == {"id": comment.id, "status": "held"}
    assert status_of(comment.id) == "held"
    last = db.session.scalars(
        db.select(AuditEntry)
        .where(AuditEntry.comment_id == comment.id)
        .order_by(AuditEntry.id.desc())
    ).first()
    assert (last.actor, last.from_status, last.to_status) == ("moderator:alice", "rejected", "held")
    assert last.reason.startswith("undo of decision #")
    # Undoing twice: the latest entry is the undo itself, nothing left to undo.
    assert call("alice", "POST", f"/comments/{comment.id}/undo").status_code == 409
    # And the comment can be decided again.
    assert decide(call, "carol", comment.id, "approve", "held").status_code == 200


def test_undo_after_the_window_is_409(app, call, sites):
    app.config["UNDO_SECONDS"] = 0
    comment = make_comment(sites[0], "held")
    decide(call, "alice", comment.id)
    response = call("alice", "POST", f"/comments/{comment.id}/undo")
    assert response.status_code == 409
    assert "within 0 seconds" in response.json["error"]["message"]
    assert status_of(comment.id) == "approved"


def test_the_undo_window_comes_from_the_environment(monkeypatch):
    import importlib

    import service.config

    monkeypatch.setenv("TALKBACK_UNDO_SECONDS", "4.5")
    try:
        assert importlib.reload(service.config).Config.UNDO_SECONDS == 4.5
    finally:
        monkeypatch.delenv("TALKBACK_UNDO_SECONDS")
        importlib.reload(service.config)


def test_only_the_moderator_who_decided_can_undo(call, sites):
    comment = make_comment(sites[0], "held")
    decide(call, "alice", comment.id)
    response = call("carol", "POST", f"/comments/{comment.id}/undo")
    assert response.status_code == 409
    assert "Only the moderator who made" in response.json["error"]["message"]
    assert call("olga", "POST", f"/comments/{comment.id}/undo").status_code == 409
    assert status_of(comment.id) == "approved"


def test_undo_is_refused_once_someone_changed_the_comment(call, sites):
    comment = make_comment(sites[0], "held")
    decide(call, "alice", comment.id)
    decide(call, "carol", comment.id, "reject", "approved")
    assert call("alice", "POST", f"/comments/{comment.id}/undo").status_code == 409
    assert status_of(comment.id) == "rejected"


def test_undo_is_refused_when_the_author_deleted_it_meanwhile(call, sites):
    comment = make_comment(sites[0], "held")
    decide(call, "alice", comment.id)
    # A change that wrote no audit entry still moves updated_at, which undo checks.
    stored = db.session.get(Comment, comment.id)
    stored.title = "edited"
    db.session.commit()
    response = call("alice", "POST", f"/comments/{comment.id}/undo")
    assert response.status_code == 409
    assert "changed after your decision" in response.json["error"]["message"]


def test_nothing_to_undo_on_an_automatic_decision(call, sites):
    comment = make_comment(sites[0], "approved")
    response = call("alice", "POST", f"/comments/{comment.id}/undo")
    assert response.status_code == 409


# --- Events -----------------------------------------------------------------------------------


def test_events_start_with_the_last_id_and_list_what_happened_since(call, sites):
    site_a, _ = sites
    comment = make_comment(site_a, "held")
    start = call("alice", "GET", "/events").json
    assert start["events"] == [] and start["last"] > 0
    decide(call, "carol", comment.id)
    answer = call("alice", "GET", f"/events?after={start['last']}").json
    (only,) = answer["events"]
    assert list(only) == ["id", "comment_id", "from_status", "to_status", "actor", "at"]
    assert (only["comment_id"], only["from_status"], only["to_status"], only["actor"]) == (
        comment.id,
        "held",
        "approved",
        "moderator:carol",
    )
    assert answer["last"] == only["id"]
    again = call("alice", "GET", f"/events?after={answer['last']}").json
    assert again == {"events": [], "last": answer["last"]}


def test_events_come_at_most_200_at_a_time(call, sites):
    start = call("olga", "GET", "/events").json["last"]
    for _ in range(110):  # two audit entries each
        make_comment(sites[0], "held")
    first = call("olga", "GET", f"/events?after={start}").json
    assert len(first["events"]) == 200
    rest = call("olga", "GET", f"/events?after={first['last']}").json
    assert len(rest["events"]) == 20


# --- Audit ------------------------------------------------------------------------------------


def test_audit_lists_entries_with_filters_and_pages(call, sites):
    site_a, _ = sites
    first, second = make_comment(site_a, "held"), make_comment(site_a, "held")
    decide(call, "alice", first.id, "reject", reason="off-topic", note="About the weather")
    decide(call, "carol", second.id)
    entries = call("alice", "GET", "/audit?moderator=alice").json["entries"]
    (entry,) = entries
    assert list(entry) == [
        "id",
        "at",
        "actor",
        "comment_id",
        "site",
        "from_status",
        "to_status",
        "reason",
    ]
    assert entry["actor"] == "moderator:alice"
    assert (entry["comment_id"], entry["site"]) == (first.id, "site-a")
    assert (entry["from_status"], entry["to_status"]) == ("held", "rejected")
    assert entry["reason"] == "off-topic\nAbout the weather"
    everything = call("alice", "GET", "/audit").json["entries"]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    # Paging
    seen, cursor = [], None
    while True:
        page = call("alice", "GET", "/audit?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["id"] for e in page.json["entries"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in everything]
    # Time window
    at = everything[0]["at"]
    assert (
        call("alice", "GET", "/audit", query_string={"since": at}).json["entries"][0]["id"]
        == (everything[0]["id"])
    )
    assert (
        call("alice", "GET", "/audit", query_string={"until": "2000-01-01T00:00:00Z"}).json[
            "entries"
        ]
        == []
    )


# --- Summary ----------------------------------------------------------------------------------


def test_summary_counts_decisions_undos_and_overturns_by_reason(call, sites):
    site_a, _ = sites
    auto_rejected = make_comment(
        site_a,
        "rejected",
        toxicity=0.93,
        reasons=["toxicity 0.93 ≥ reject threshold 0.90", "spam 0.10 below hold threshold 0.50"],
    )
    auto_rejected_2 = make_comment(
        site_a, "rejected", toxicity=0.97, reasons=["toxicity 0.97 ≥ reject threshold 0.90"]
    )
    auto_approved = make_comment(site_a, "approved")
    held = make_comment(site_a, "held")
    undone = make_comment(site_a, "rejected", reasons=["banned word “x” (listed as “x”)"])
    decide(call, "alice", auto_rejected.id, "approve", "rejected")
    decide(call, "alice", auto_rejected_2.id, "approve", "rejected")
    decide(call, "alice", auto_approved.id, "reject", "approved")
    decide(call, "alice", held.id, "reject", "held")  # held isn't a final automatic decision
    decide(call, "carol", undone.id, "approve", "rejected")
    call("carol", "POST", f"/comments/{undone.id}/undo")
    summary = call("olga", "GET", "/summary").json
    assert summary["automatic"] == {"approved": 1, "held": 1, "rejected": 3}
    alice, carol = summary["moderators"]
    assert alice == {
        "actor": "moderator:alice",
        "approved": 2,
        "rejected": 2,
        "undone": 0,
        "overturned": 3,
        "overturned_by_reason": {
            "toxicity ≥ reject threshold": 2,
            "toxicity below hold threshold": 1,
        },
    }
    assert carol == {
        "actor": "moderator:carol",
        "approved": 0,
        "rejected": 0,
        "undone": 1,
        "overturned": 0,
        "overturned_by_reason": {},
    }
    later = call("olga", "GET", "/summary", query_string={"since": "2999-01-01T00:00:00+02:00"})
    assert later.json == {"moderators": [], "automatic": {"approved": 0, "held": 0, "rejected": 0}}


def test_reason_kinds_drop_the_numbers():
    assert moderation.reason_kind("toxicity 0.93 ≥ reject threshold 0.90; spam 0.1") == (
        "toxicity ≥ reject threshold"
    )
    assert moderation.reason_kind(None) == "(no reason recorded)"


# --- Nothing leaks ----------------------------------------------------------------------------


def test_public_endpoints_show_no_moderation_data(client, call, sites):
    site_a, _ = sites
    comment = make_comment(site_a, "held", toxicity=0.6)
    decide(call, "alice", comment.id, reason="fine", note="Private moderator note")
    response = client.get(comments_url("a1", "site-a"))
    thread = response.get_data(as_text=True)
    assert comment.body_html in thread
    for private in ("Private moderator note", "moderator:alice", "toxicity", "reasons"):
        assert private not in thread
    # The score must not appear as any JSON value (a text search would match timestamps).
    assert 0.6 not in list(json_values(response.get_json()))


def json_values(document):
    """Yield every scalar value in a parsed JSON document."""
    if isinstance(document, dict):
        for value in document.values():
            yield from json_values(value)
    elif isinstance(document, list):
        for value in document:
            yield from json_values(value)
    else:
        yield document


def test_the_moderation_api_never_grants_cors(call, client, sites):
    site_a, _ = sites
    site_a.allowed_origins = ["https://site-a.example"]
    db.session.commit()
    headers = {"Origin": "https://site-a.example"}
    response = call("alice", "GET", "/queues/held", headers=dict(headers))
    assert response.status_code == 200
    assert not [h for h in response.headers if h[0].lower().startswith("access-control")]
    preflight = client.options(
        f"{API}/comments/1/decision",
        headers={**headers, "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_the_openapi_document_describes_the_moderation_api(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = {path for path in spec["paths"] if path.startswith(API)}
    assert paths == {
        f"{API}/queues/{{queue}}",
        f"{API}/comments/{{comment_id}}/decision",
        f"{API}/decisions",
        f"{API}/comments/{{comment_id}}/undo",
        f"{API}/comments/{{comment_id}}/feature",
        f"{API}/events",
        f"{API}/audit",
        f"{API}/summary",
        f"{API}/sites/{{site}}/articles/{{article}}/premoderation",
        f"{API}/sites/{{site}}/articles/{{article}}/closing",
        f"{API}/sites/{{site}}/premoderated-articles",
        f"{API}/edits",
        f"{API}/edits/{{revision_id}}/decision",
        f"{API}/comments/{{comment_id}}/history",
    }
    decision = spec["paths"][f"{API}/comments/{{comment_id}}/decision"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(decision["responses"])
    assert decision["security"] == [{"apiToken": []}]
    assert spec["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
