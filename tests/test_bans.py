"""Bans and suspensions through the real API: every target, scope, kind and expiry; matching of
normalized emails and networks; rejecting existing comments; the one-click ban; who may do what;
validation; the operators' log; and the `flask bans` commands."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from service.core import operator_log
from service.extensions import db
from service.models import Article, AuditEntry, Ban, Comment, OperatorAction, utcnow

from .helpers import (
    BANS_ADMIN,
    add,
    audit_trail,
    bearer,
    expire,
    lift,
    make_site,
    post_ban,
    row_count,
    send,
    set_policy,
    status_of,
)

# target → (the value an operator bans, what the banned reader's submission carries, its IP)
CASES = {
    "commenter_key": ("reader-key-0001", {"commenter_key": "reader-key-0001"}, None),
    "email": ("joe@example.org", {"author_email": "joe@example.org"}, None),
    "ip": ("203.0.113.7", {}, "203.0.113.7"),
    "network": ("203.0.113.0/24", {}, "203.0.113.99"),
    "email_domain": ("spam.example", {"author_email": "anyone@spam.example"}, None),
}


# --- Helpers ----------------------------------------------------------------------------------


def future(days: int = 3) -> str:
    return (utcnow() + timedelta(days=days)).isoformat() + "Z"


def comment(comment_id: int) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


def assert_refused(response, public_reason: str | None = None) -> None:
    assert response.status_code == 403, response.json
    assert response.json["error"]["code"] == "banned"
    if public_reason:
        assert public_reason in response.json["error"]["message"]


def assert_accepted(response, shadow: bool = False) -> int:
    assert response.status_code == 202, response.json
    assert comment(response.json["id"]).shadow is shadow
    return response.json["id"]


def field_errors(response) -> dict:
    assert response.status_code == 422, response.json
    return response.json["error"]["fields"]


@pytest.fixture
def operator(make_user):
    return make_user("olga", "operator")


@pytest.fixture
def token(operator, api_token) -> str:
    """An operator's API token."""
    return api_token(operator)


# --- Every target, scope, kind and expiry -----------------------------------------------------


@pytest.mark.parametrize("expiry", ["permanent", "until", "expired"])
@pytest.mark.parametrize("kind", ["hard", "shadow"])
@pytest.mark.parametrize("scope", ["site", "all"])
@pytest.mark.parametrize("target", list(CASES))
def test_ban_applies_by_target_scope_kind_and_expiry(
    client, site, token, target, scope, kind, expiry
):
    value, fields, ip = CASES[target]
    body = {"target": target, "value": value, "kind": kind, "public_reason": "Repeated abuse."}
    body.update({"site": "demo"} if scope == "site" else {"all": True})
    if expiry != "permanent":
        body["until"] = future()
    ban = add(client, token, **body)
    assert ban["site"] == ("demo" if scope == "site" else None)
    assert ban["active"] is True
    if expiry == "expired":
        expire(ban["id"])

    response = send(client, ip=ip, **fields)
    if expiry == "expired":
        assert_accepted(response, shadow=False)
    elif kind == "hard":
        assert_refused(response, "Repeated abuse.")
        if expiry == "until":
            assert " until " in response.json["error"]["message"]
        assert row_count(Comment) == 0
        assert row_count(Article) == 0
    else:
        assert_accepted(response, shadow=True)

    # Someone else (another key, address, network and domain) is never caught by it.
    other = send(client, commenter_key="someone-else-01", author_email="dana@news.example")
    assert_accepted(other, shadow=False)


def test_a_ban_on_another_site_does_not_apply(client, site, token):
    make_site("other")
    for target, (value, _, _) in CASES.items():
        add(client, token, site="other", target=target, value=value)
    for _, fields, ip in CASES.values():
        assert_accepted(send(client, ip=ip, **fields))
        assert_refused(send(client, ip=ip, site="other", **fields))


def test_a_lifted_ban_no_longer_applies(client, site, token):
    value, fields, ip = CASES["email"]
    ban = add(client, token, site="demo", target="email", value=value)
    assert_refused(send(client, ip=ip, **fields))
    response = lift(client, token, ban["id"])
    assert response.status_code == 200, response.json
    assert response.json["active"] is False
    assert response.json["state"] == "lifted"
    assert response.json["lifted_by"] == "moderator:olga"
    assert_accepted(send(client, ip=ip, **fields))


def test_the_refusal_names_the_end_of_a_suspension(client, site, token):
    add(client, token, site="demo", target="ip", value="203.0.113.7", until="2099-07-01")
    message = send(client, ip="203.0.113.7").json["error"]["message"]
    assert message == "You can't post comments here until 2099-07-02 00:00 UTC."


# --- Networks and addresses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("banned", "label", "sender", "caught"),
    [
        ("2001:db8:1::/48", "2001:db8:1::/48", "2001:db8:1:ffff::5", True),
        ("2001:db8:1::/48", "2001:db8:1::/48", "2001:db8:2::5", False),
        # One address stands for its /48.
        ("2001:db8:1:2::9", "2001:db8:1::/48", "2001:0db8:0001:00aa::1", True),
        ("2001:db8:1:2::9", "2001:db8:1::/48", "2001:db8:1001::1", False),
        ("203.0.113.0/24", "203.0.113.0/24", "::ffff:203.0.113.200", True),
        ("203.0.113.77", "203.0.113.0/24", "203.0.113.1", True),
        ("203.0.113.0/24", "203.0.113.0/24", "203.0.114.1", False),
    ],
)
def test_network_bans_cover_a_slash_24_or_a_slash_48(
    client, site, token, banned, label, sender, caught
):
    ban = add(client, token, site="demo", target="network", value=banned)
    assert ban["label"] == label
    response = send(client, ip=sender)
    if caught:
        assert_refused(response)
    else:
        assert_accepted(response)


@pytest.mark.parametrize(
    ("banned", "label", "sender", "caught"),
    [
        ("203.0.113.7", "203.0.113.x", "203.0.113.7", True),
        ("203.0.113.7", "203.0.113.x", "::ffff:203.0.113.7", True),
        ("::ffff:203.0.113.7", "203.0.113.x", "203.0.113.7", True),
        ("203.0.113.7", "203.0.113.x", "203.0.113.8", False),
        ("2001:db8:1::7", "2001:db8:1::…", "2001:0DB8:1:0::7", True),
        ("2001:db8:1::7", "2001:db8:1::…", "2001:db8:1::8", False),
    ],
)
def test_ip_bans_match_one_address_in_any_spelling(
    client, site, token, banned, label, sender, caught
):
    ban = add(client, token, site="demo", target="ip", value=banned)
    assert ban["label"] == label
    response = send(client, ip=sender)
    if caught:
        assert_refused(response)
    else:
        assert_accepted(response)


# --- Emails and domains -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("banned", "label", "sender", "caught"),
    [
        ("J.O.E+news@GMAIL.com", "j…@gmail.com", "joe@gmail.com", True),
        ("joe@gmail.com", "j…@gmail.com", "J.o.e+spam@googlemail.com", True),
        ("joe@googlemail.com", "j…@gmail.com", "JOE@gmail.com", True),
        # Outlook ignores +tags but not dots.
        ("jo.e@outlook.com", "j…@outlook.com", "Jo.E+tag@outlook.com", True),
        ("jo.e@outlook.com", "j…@outlook.com", "joe@outlook.com", False),
        # A company's own domain keeps +tags and dots: they may be different mailboxes.
        ("joe+news@company.example", "j…@company.example", "JOE+news@Company.Example", True),
        ("joe+news@company.example", "j…@company.example", "joe@company.example", False),
        ("j.oe@company.example", "j…@company.example", "joe@company.example", False),
    ],
)
def test_email_bans_match_the_normalized_address(
    client, site, token, banned, label, sender, caught
):
    ban = add(client, token, site="demo", target="email", value=banned)
    assert ban["label"] == label
    assert "joe" not in ban["label"]
    response = send(client, author_email=sender)
    if caught:
        assert_refused(response)
    else:
        assert_accepted(response)


@pytest.mark.parametrize(
    ("banned", "label", "sender", "caught"),
    [
        ("spam.example", "spam.example", "x@SPAM.example", True),
        ("@Spam.Example", "spam.example", "y@spam.example", True),
        ("someone@spam.example", "spam.example", "z@spam.example", True),
        ("googlemail.com", "gmail.com", "joe@gmail.com", True),
        ("spam.example", "spam.example", "x@notspam.example", False),
        ("spam.example", "spam.example", "x@mail.spam.example", False),
    ],
)
def test_email_domain_bans(client, site, token, banned, label, sender, caught):
    ban = add(client, token, site="demo", target="email_domain", value=banned)
    assert ban["label"] == label
    response = send(client, author_email=sender)
    if caught:
        assert_refused(response)
    else:
        assert_accepted(response)


# --- Rejecting existing comments --------------------------------------------------------------


def test_reject_existing_takes_down_the_targets_comments_in_scope(client, site, token, run_worker):
    make_site("other")
    key = {"commenter_key": "troll-key-0001"}
    set_policy("demo", {"mode": "pre"})  # every comment waits for a moderator: held
    held = assert_accepted(send(client, article="a1", body="The bridge reopens on Monday.", **key))
    run_worker()
    set_policy("demo", {})
    approved = assert_accepted(send(client, article="a2", body="Lovely photos, thank you.", **key))
    bystander = assert_accepted(send(client, commenter_key="reader-ok-0001"))
    elsewhere = assert_accepted(send(client, site="other", **key))
    run_worker()
    pending = assert_accepted(send(client, article="a3", body="Is the ferry running?", **key))
    assert [status_of(i) for i in (held, approved, bystander, elsewhere, pending)] == [
        "held",
        "approved",
        "approved",
        "approved",
        "pending",
    ]

    ban = add(
        client,
        token,
        site="demo",
        target="commenter_key",
        value="troll-key-0001",
        reason="spam run",
        reject_existing=True,
    )

    assert ban["rejected_count"] == 3
    for comment_id, before in ((held, "held"), (approved, "approved"), (pending, "pending")):
        assert status_of(comment_id) == "rejected"
        assert audit_trail(comment_id)[-1] == ("moderator:olga", before, "rejected")
    reasons = db.session.scalars(
        db.select(AuditEntry.reason).where(AuditEntry.to_status == "rejected")
    )
    assert set(reasons) == {f"ban #{ban['id']}: spam run"}
    assert status_of(bystander) == "approved"
    assert status_of(elsewhere) == "approved"
    # The worker's job for the pending one finds nothing left to decide.
    run_worker()
    assert status_of(pending) == "rejected"
    assert len(audit_trail(pending)) == 2


def test_reject_existing_on_all_sites_and_without_it(client, site, token, run_worker):
    make_site("other")
    email = {"author_email": "troll@example.org"}
    first = assert_accepted(send(client, **email))
    second = assert_accepted(send(client, site="other", **email))
    run_worker()
    ban = add(client, token, site="demo", target="email", value="troll@example.org")
    assert ban["rejected_count"] == 0
    assert status_of(first) == "approved"
    ban = add(
        client, token, all=True, target="email", value="troll@example.org", reject_existing=True
    )
    assert ban["rejected_count"] == 2
    assert [status_of(first), status_of(second)] == ["rejected", "rejected"]


# --- One-click ban from a moderation card -----------------------------------------------------


@pytest.mark.parametrize(
    ("target", "label", "same_person"),
    [
        ("commenter_key", "commenter", {"commenter_key": "troll-key-0001"}),
        ("email", "email", {"author_email": "T.roll+x@gmail.com"}),
        ("ip", "IP", {"ip": "203.0.113.7"}),
        ("network", "network", {"ip": "203.0.113.250"}),
        ("email_domain", "email domain", {"author_email": "other@gmail.com"}),
    ],
)
def test_one_click_ban_by_comment(
    client, site, make_user, api_token, run_worker, target, label, same_person
):
    moderator = make_user("mona", "moderator", sites=[site])
    token = api_token(moderator)
    troll = assert_accepted(
        send(
            client, ip="203.0.113.7", commenter_key="troll-key-0001", author_email="troll@gmail.com"
        )
    )
    run_worker()

    ban = add(client, token, target=target, comment_id=troll, kind="shadow", reject_existing=True)

    assert ban["site"] == "demo"  # a one-click ban covers the comment's site
    assert ban["label"] == f"{label} of comment #{troll}"
    assert ban["kind"] == "shadow"
    assert ban["rejected_count"] == 1
    assert status_of(troll) == "rejected"
    assert_accepted(send(client, **same_person), shadow=True)


def test_one_click_ban_needs_the_data_on_the_comment(client, site, token):
    plain = assert_accepted(send(client))  # no key, no email
    for target in ("commenter_key", "email", "email_domain"):
        errors = field_errors(post_ban(client, token, target=target, comment_id=plain, reason="x"))
        assert "target" in errors, target
    # Once the retention job has purged the comment's IP hash, there is no IP to ban.
    db.session.execute(
        db.update(Comment).where(Comment.id == plain).values(ip_hash=None, network_hash=None)
    )
    db.session.commit()
    errors = field_errors(post_ban(client, token, target="ip", comment_id=plain, reason="x"))
    assert "purged" in errors["target"][0]
    assert row_count(Ban) == 0


def test_one_click_ban_of_an_unknown_comment_is_404(client, site, token):
    response = post_ban(client, token, target="ip", comment_id=999999, reason="x")
    assert response.status_code == 404
    assert "comment_id" in response.json["error"]["fields"]


def test_an_operators_one_click_ban_can_cover_every_site(client, site, token):
    make_site("other")
    troll = assert_accepted(send(client, commenter_key="troll-key-0001"))
    ban = add(client, token, target="commenter_key", comment_id=troll, all=True)
    assert ban["site"] is None
    assert_refused(send(client, site="other", commenter_key="troll-key-0001"))


# --- Who may do what --------------------------------------------------------------------------


def test_anonymous_callers_get_401(client, site, token):
    ban = add(client, token, site="demo", target="ip", value="203.0.113.7")
    responses = [
        client.get(BANS_ADMIN),
        client.post(BANS_ADMIN, json={"site": "demo", "target": "ip", "value": "1.2.3.4"}),
        client.get(f"{BANS_ADMIN}/{ban['id']}"),
        client.post(f"{BANS_ADMIN}/{ban['id']}/lift"),
        client.get(BANS_ADMIN, headers=bearer("not-a-token")),
    ]
    assert [response.status_code for response in responses] == [401] * 5
    assert all(response.json["error"]["code"] == "unauthorized" for response in responses)
    assert row_count(Ban) == 1


def test_moderators_ban_and_lift_on_their_own_sites_only(client, site, token, make_user, api_token):
    other = make_site("other")
    mona = api_token(make_user("mona", "moderator", sites=[site]))
    value = {"target": "commenter_key", "value": "troll-key-0001"}

    own = add(client, mona, site="demo", **value)
    assert own["created_by"] == "moderator:mona"
    assert post_ban(client, mona, site="other", reason="x", **value).status_code == 403
    refused_all = post_ban(client, mona, all=True, reason="x", **value)
    assert refused_all.status_code == 403
    assert "all" in refused_all.json["error"]["fields"]
    assert row_count(Ban) == 1

    everywhere = add(client, token, all=True, **value)
    theirs = add(client, token, site="other", **value)
    # Moderators see the all-site bans (they apply on their sites too) but can't lift them.
    listed = client.get(BANS_ADMIN, headers=bearer(mona)).json["bans"]
    assert [ban["id"] for ban in listed] == [everywhere["id"], own["id"]]
    assert client.get(f"{BANS_ADMIN}/{everywhere['id']}", headers=bearer(mona)).status_code == 200
    assert lift(client, mona, everywhere["id"]).status_code == 403
    assert client.get(f"{BANS_ADMIN}/{theirs['id']}", headers=bearer(mona)).status_code == 403
    assert lift(client, mona, theirs["id"]).status_code == 403
    assert client.get(f"{BANS_ADMIN}?site=other", headers=bearer(mona)).status_code == 403
    assert lift(client, mona, own["id"]).status_code == 200

    # A one-click ban on another site's comment is refused too.
    foreign = assert_accepted(send(client, site="other", commenter_key="troll-key-0002"))
    response = post_ban(client, mona, target="commenter_key", comment_id=foreign, reason="x")
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Ban, everywhere["id"]).lifted_at is None
    assert other.id == db.session.get(Ban, theirs["id"]).site_id


def test_operators_see_and_lift_everything(client, site, token, make_user, api_token):
    make_site("other")
    mona = api_token(make_user("mona", "moderator", sites=[site]))
    by_moderator = add(client, mona, site="demo", target="ip", value="203.0.113.7")
    other = add(client, token, site="other", target="ip", value="203.0.113.7")
    listed = client.get(BANS_ADMIN, headers=bearer(token)).json["bans"]
    assert {ban["id"] for ban in listed} == {by_moderator["id"], other["id"]}
    assert lift(client, token, by_moderator["id"]).status_code == 200
    assert lift(client, token, other["id"]).status_code == 200


# --- Listing ----------------------------------------------------------------------------------


def test_list_filters_by_site_state_and_target(client, site, token):
    make_site("other")
    on_demo = add(client, token, site="demo", target="ip", value="203.0.113.7")
    everywhere = add(client, token, all=True, target="email", value="joe@example.org")
    on_other = add(client, token, site="other", target="ip", value="203.0.113.8")
    lifted = add(client, token, site="demo", target="email_domain", value="spam.example")
    lift(client, token, lifted["id"])
    expired = add(client, token, site="demo", target="ip", value="203.0.113.9", until=future())
    expire(expired["id"])

    def ids(query: str = "") -> list[int]:
        response = client.get(f"{BANS_ADMIN}{query}", headers=bearer(token))
        assert response.status_code == 200, response.json
        return [ban["id"] for ban in response.json["bans"]]

    assert ids() == [on_other["id"], everywhere["id"], on_demo["id"]]
    assert ids("?site=demo") == [everywhere["id"], on_demo["id"]]
    assert ids("?active=false") == [expired["id"], lifted["id"]]
    assert len(ids("?active=all")) == 5
    assert ids("?target=ip&active=all") == [expired["id"], on_other["id"], on_demo["id"]]
    shown = client.get(f"{BANS_ADMIN}/{expired['id']}", headers=bearer(token)).json
    assert (shown["state"], shown["active"]) == ("expired", False)
    assert client.get(f"{BANS_ADMIN}/424242", headers=bearer(token)).status_code == 404
    assert client.get(f"{BANS_ADMIN}?site=nowhere", headers=bearer(token)).status_code == 404
    assert "active" in field_errors(client.get(f"{BANS_ADMIN}?active=maybe", headers=bearer(token)))


def test_the_ban_shows_what_operators_need_and_no_personal_data(client, site, token):
    ban = add(
        client,
        token,
        site="demo",
        target="email",
        value="Jane.Doe@example.org",
        kind="shadow",
        until="2099-12-31T10:00:00+02:00",
        reason="  sock puppet  ",
        public_reason="Please read the rules.",
    )
    assert ban == {
        "id": ban["id"],
        "site": "demo",
        "target": "email",
        "label": "j…@example.org",
        "kind": "shadow",
        "reason": "sock puppet",
        "public_reason": "Please read the rules.",
        "until": "2099-12-31T08:00:00+00:00",
        "created_by": "moderator:olga",
        "created_at": ban["created_at"],
        "lifted_at": None,
        "lifted_by": None,
        "rejected_count": 0,
        "active": True,
        "state": "active",
    }
    stored = db.session.get(Ban, ban["id"])
    assert "jane" not in stored.target_value.lower()
    assert len(stored.target_value) == 64


# --- Validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"target": "email", "value": "not-an-email"}, "value", "email"),
        ({"target": "email", "value": "joe@localhost"}, "value", "email"),
        ({"target": "network", "value": "203.0.0.0/16"}, "value", "/24"),
        ({"target": "network", "value": "2001:db8::/32"}, "value", "/48"),
        ({"target": "network", "value": "203.0.113.0/33"}, "value", "network"),
        ({"target": "ip", "value": "203.0.113.300"}, "value", "IP address"),
        ({"target": "ip", "value": "203.0.113.0/24"}, "value", "IP address"),
        ({"target": "commenter_key", "value": "short"}, "value", "8 to 64"),
        ({"target": "email_domain", "value": "not a domain"}, "value", "domain"),
        ({"target": "email_domain", "value": "localhost"}, "value", "domain"),
        ({"target": "ip", "value": "203.0.113.7", "until": "2001-01-01"}, "until", "future"),
        ({"target": "ip", "value": "203.0.113.7", "until": "next week"}, "until", "ISO 8601"),
        ({"target": "ip", "value": "203.0.113.7", "until": 5}, "until", "string"),
        ({"target": "ip", "value": "203.0.113.7", "reason": "   "}, "reason", "Say why"),
        ({"target": "ip", "value": "203.0.113.7", "reason": None}, "reason", "null"),
        (
            {"target": "ip", "value": "203.0.113.7", "public_reason": "x" * 301},
            "public_reason",
            "300",
        ),
        ({"target": "ip", "value": "203.0.113.7", "kind": "soft"}, "kind", "shadow"),
        ({"target": "person", "value": "203.0.113.7"}, "target", "commenter_key"),
        ({"value": "203.0.113.7"}, "target", "Missing"),
        ({"target": "ip", "value": "203.0.113.7", "comment_id": 1}, "comment_id", "not both"),
        ({"target": "ip"}, "value", "comment_id"),
        ({"target": "ip", "value": "203.0.113.7", "colour": "red"}, "colour", "Unknown"),
        ({"target": "ip", "value": "203.0.113.7", "site": None}, "site", "all"),
        ({"target": "ip", "value": "203.0.113.7", "all": True}, "site", "not both"),
        ({"target": "ip", "value": "203.0.113.7", "site": "nowhere"}, "site", "no site"),
        ({"target": "ip", "value": "x" * 321}, "value", "320"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, site, token, body, field, words):
    body = {"site": "demo", "reason": "trolling", **body}
    errors = field_errors(post_ban(client, token, **body))
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower(), errors
    assert row_count(Ban) == 0
    assert row_count(OperatorAction) == 0


def test_a_body_that_is_not_json_is_refused(client, site, token):
    response = client.post(BANS_ADMIN, data="site=demo", headers=bearer(token))
    assert response.status_code in (400, 415, 422)
    assert row_count(Ban) == 0


def test_a_date_alone_bans_through_that_day(client, site, token):
    ban = add(client, token, site="demo", target="ip", value="203.0.113.7", until="2099-07-01")
    assert ban["until"] == "2099-07-02T00:00:00+00:00"


# --- Lifting and the operators' log -----------------------------------------------------------


def test_lifting_twice_is_a_conflict_and_unknown_bans_404(client, site, token):
    ban = add(client, token, site="demo", target="ip", value="203.0.113.7")
    assert lift(client, token, ban["id"]).status_code == 200
    again = lift(client, token, ban["id"])
    assert again.status_code == 409
    assert "already lifted" in again.json["error"]["message"]
    assert lift(client, token, 424242).status_code == 404


def test_an_expired_ban_can_be_lifted_for_the_record(client, site, token):
    ban = add(client, token, site="demo", target="ip", value="203.0.113.7", until=future())
    expire(ban["id"])
    response = lift(client, token, ban["id"])
    assert response.status_code == 200
    assert response.json["state"] == "lifted"
    (entry,) = operator_log.list_actions(action_prefix="ban.lift")
    assert entry.details["had_expired"] is True


def test_adding_and_lifting_are_in_the_operators_log_without_personal_data(client, site, token):
    ban = add(
        client,
        token,
        site="demo",
        target="email",
        value="jane.doe@example.org",
        until="2099-01-01",
        reason="sock puppet",
        reject_existing=True,
    )
    lift(client, token, ban["id"])
    lifted, added = operator_log.list_actions(action_prefix="ban")
    assert (added.action, added.actor, added.subject) == (
        "ban.add",
        "moderator:olga",
        f"ban {ban['id']}",
    )
    assert added.details == {
        "target": "email",
        "label": "j…@example.org",
        "comment_id": None,
        "site": "demo",
        "kind": "hard",
        "until": "2099-01-02T00:00:00",
        "reject_existing": True,
        "rejected_count": 0,
        "reason": "sock puppet",
        "public_reason": None,
    }
    assert (lifted.action, lifted.actor, lifted.subject) == (
        "ban.lift",
        "moderator:olga",
        f"ban {ban['id']}",
    )
    assert lifted.details["site"] == "demo"
    assert "jane" not in json.dumps([added.details, lifted.details]).lower()


# --- The `flask bans` commands ----------------------------------------------------------------


def test_cli_adds_lists_and_lifts_bans(cli, client, site, run_worker):
    troll = assert_accepted(send(client, author_email="troll@example.org"))
    run_worker()

    result = cli(
        "bans",
        "add",
        "--site",
        "demo",
        "--email",
        "troll@example.org",
        "--until",
        "2099-07-01",
        "--reject-existing",
        "--public-reason",
        "Abuse.",
        "--reason",
        "abuse",
    )
    assert result.exit_code == 0, result.output
    ban_id = db.session.scalars(db.select(Ban.id)).one()
    assert f"Ban #{ban_id}: hard ban of email t…@example.org on site demo" in result.output
    assert "until 2099-07-02 00:00 UTC" in result.output
    assert "Rejected 1 existing comment(s)." in result.output
    assert status_of(troll) == "rejected"
    assert audit_trail(troll)[-1] == ("cli", "approved", "rejected")
    assert_refused(send(client, author_email="troll@example.org"), "Abuse.")

    result = cli(
        "bans", "add", "--all", "--network", "2001:db8:1::/48", "--shadow", "--reason", "x"
    )
    assert result.exit_code == 0, result.output
    assert "shadow ban of network 2001:db8:1::/48 on all sites, permanent." in result.output

    listing = cli("bans", "list")
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split() == ["ID", "SITE", "TARGET", "LABEL", "KIND", "UNTIL", "STATE"]
    assert lines[1].split()[:5] == [
        str(ban_id + 1),
        "(all)",
        "network",
        "2001:db8:1::/48",
        "shadow",
    ]
    assert "2099-07-02 00:00 UTC" in lines[2]

    result = cli("bans", "lift", str(ban_id))
    assert result.exit_code == 0, result.output
    assert f"Lifted ban #{ban_id} (email t…@example.org on site demo)." in result.output
    assert str(ban_id) not in [line.split()[0] for line in cli("bans", "list").output.splitlines()]
    states = cli("bans", "list", "--all-states", "--site", "demo").output
    assert "lifted" in states
    again = cli("bans", "lift", str(ban_id))
    assert again.exit_code == 1
    assert "already lifted" in again.output
    assert "no such ban" in cli("bans", "lift", "4242").output

    actions = [(entry.action, entry.actor) for entry in operator_log.list_actions()]
    assert actions == [("ban.lift", "cli"), ("ban.add", "cli"), ("ban.add", "cli")]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--site", "demo", "--ip", "203.0.113.7", "--email", "a@b.example"], "exactly one target"),
        (["--site", "demo"], "exactly one target"),
        (["--ip", "203.0.113.7"], "--site KEY or --all"),
        (["--site", "demo", "--all", "--ip", "203.0.113.7"], "--site KEY or --all"),
        (["--site", "demo", "--network", "203.0.0.0/16"], "/24"),
        (["--site", "demo", "--email", "nope"], "Not a valid email address"),
        (["--site", "nowhere", "--ip", "203.0.113.7"], "There is no site 'nowhere'."),
        (["--site", "demo", "--ip", "203.0.113.7", "--until", "someday"], "ISO 8601"),
        (["--site", "demo", "--ip", "203.0.113.7", "--until", "2001-01-01"], "future"),
    ],
)
def test_cli_errors_are_clear_and_write_nothing(cli, site, args, words):
    result = cli("bans", "add", *args, "--reason", "x")
    assert result.exit_code != 0
    assert words in result.output
    assert row_count(Ban) == 0


def test_cli_list_without_bans(cli, site):
    assert cli("bans", "list").output == "No bans in force.\n"
    assert cli("bans", "list", "--all-states").output == "No bans.\n"


def test_the_ban_endpoints_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    operations = {
        ("/api/v1/admin/bans", "get"),
        ("/api/v1/admin/bans", "post"),
        ("/api/v1/admin/bans/{ban_id}", "get"),
        ("/api/v1/admin/bans/{ban_id}/lift", "post"),
    }
    for path, method in operations:
        operation = document["paths"][path][method]
        assert operation["security"] == [{"apiToken": []}], path
        assert "401" in operation["responses"], path
    assert "201" in document["paths"]["/api/v1/admin/bans"]["post"]["responses"]
