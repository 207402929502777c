"""Sites administration: the admin API (settings, validation, permissions, moderators, the
operators' log), a policy change reaching the real worker, and the `sites` commands."""

from __future__ import annotations

import dataclasses
import json

import pytest

from service.extensions import db
from service.models import OperatorAction, Site, User
from service.schemas.sites import PolicySchema
from workers.scoring.policy import Policy

from .helpers import (
    POLITE,
    assert_field_error,
    csrf_token_of,
    reasons_of,
    row_count,
    status_of,
    submit,
)

API = "/api/v1/admin"

EVERY_SETTING = {
    "key": "news",
    "name": "The News",
    "allowed_origins": ["https://News.example/", "http://localhost:8000"],
    "language": "he",
    "min_comment_length": 10,
    "max_comment_length": 2000,
    "auto_close_days": 30,
    "rate_limits": {"submit": "3/minute;20/hour", "report": "5/minute"},
    "policy": {
        "mode": "pre",
        "toxicity_hold": 0.4,
        "toxicity_reject": 0.8,
        "spam_hold": 0.6,
        "spam_reject": 0.95,
        "new_commenter_holds": 2,
        "hold_links": True,
        "banned_words": ["Idiot*", " moron ", "idiot*"],
        "suspect_words": ["sc?m", "cheap  PILLS"],
        "allowed_domains": ["Example.org"],
        "denied_domains": ["spam.example", "SPAM.example."],
        "velocity_limit": 3,
        "trusted_after": 10,
        "trusted_hold": 0.85,
        "record_days": 60,
        "rejection_rate_hold": 0.5,
        "rejection_rate_min": 4,
    },
}


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def people(site, make_user, api_token):
    """Tokens of olga (operator) and mia (moderator of demo)."""
    return {
        "olga": api_token(make_user("olga", role="operator")),
        "mia": api_token(make_user("mia", sites=[site])),
    }


@pytest.fixture
def call(client, people):
    """call(who, method, path, **kwargs): an admin API request with that person's token."""

    def request(who: str | None, method: str, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers["Authorization"] = f"Bearer {people.get(who, who)}"
        prefix = "" if path.startswith("/api/") else API
        return client.open(prefix + path, method=method, headers=headers, **kwargs)

    return request


def create(call, **settings) -> dict:
    response = call("olga", "POST", "/sites", json={"key": "news", **settings})
    assert response.status_code == 201, response.json
    return response.json


def actions(action: str | None = None) -> list[OperatorAction]:
    query = db.select(OperatorAction).order_by(OperatorAction.id)
    if action:
        query = query.where(OperatorAction.action == action)
    return list(db.session.scalars(query))


# --- Creating, reading, listing ---------------------------------------------------------------


def test_create_with_every_setting_and_read_it_back(call, app):
    created = create(call, **{k: v for k, v in EVERY_SETTING.items() if k != "key"})
    assert created["key"] == "news"
    assert created["name"] == "The News"
    assert created["allowed_origins"] == ["https://news.example", "http://localhost:8000"]
    assert created["language"] == "he"
    assert (created["min_comment_length"], created["max_comment_length"]) == (10, 2000)
    assert created["auto_close_days"] == 30
    assert created["rate_limits"] == {"submit": "3/minute;20/hour", "report": "5/minute"}
    assert created["effective_rate_limits"] == {
        "submit": "3/minute;20/hour",
        "report": "5/minute",
        "delete": app.config["RATE_LIMIT_DELETE"],
        "vote": app.config["RATE_LIMIT_VOTE"],
    }
    policy = created["effective_policy"]
    assert policy == created["policy"]  # every setting is the site's own
    assert policy["banned_words"] == ["idiot*", "moron"]
    assert policy["suspect_words"] == ["sc?m", "cheap pills"]
    assert policy["allowed_domains"] == ["example.org"]
    assert policy["denied_domains"] == ["spam.example"]
    assert (policy["mode"], policy["toxicity_hold"], policy["velocity_limit"]) == ("pre", 0.4, 3)
    assert (created["moderators"], created["closed"], created["closed_at"]) == ([], False, None)

    assert call("olga", "GET", "/sites/news").json == created
    listed = call("olga", "GET", "/sites").json["sites"]
    assert [item["key"] for item in listed] == ["demo", "news"]
    assert listed[1] == created
    stored = db.session.scalar(db.select(Site).where(Site.key == "news"))
    assert stored.policy["banned_words"] == ["idiot*", "moron"]


def test_a_new_site_takes_the_defaults(call, app):
    created = create(call)
    assert created["name"] == "news"
    assert created["allowed_origins"] == []
    assert created["language"] == "en"
    assert (created["min_comment_length"], created["max_comment_length"]) == (1, 5000)
    assert created["auto_close_days"] is None
    assert created["policy"] == {} and created["rate_limits"] == {}
    defaults = Policy(
        toxicity_hold=app.config["TOXICITY_HOLD"],
        toxicity_reject=app.config["TOXICITY_REJECT"],
        spam_hold=app.config["SPAM_HOLD"],
        spam_reject=app.config["SPAM_REJECT"],
    )
    assert created["effective_policy"] == defaults.to_dict()
    assert created["effective_rate_limits"] == {
        kind: app.config[f"RATE_LIMIT_{kind.upper()}"]
        for kind in ("submit", "report", "delete", "vote")
    }
    assert created["created_at"].endswith("+00:00")


def test_the_effective_policy_follows_the_configured_defaults(app_factory, migrated, people):
    other = app_factory(TOXICITY_HOLD=0.3, RATE_LIMIT_SUBMIT="2/minute")
    with other.app_context():
        response = other.test_client().get(
            f"{API}/sites/demo", headers={"Authorization": f"Bearer {people['olga']}"}
        )
    assert response.json["effective_policy"]["toxicity_hold"] == 0.3
    assert response.json["effective_rate_limits"]["submit"] == "2/minute"


def test_the_policy_schema_covers_every_policy_setting():
    assert set(PolicySchema().fields) == {field.name for field in dataclasses.fields(Policy)}


# --- Changing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"name": "  Renamed  "}, "name", "Renamed"),
        ({"allowed_origins": ["HTTPS://A.example:443"]}, "allowed_origins", ["https://a.example"]),
        ({"allowed_origins": []}, "allowed_origins", []),
        ({"language": "he"}, "language", "he"),
        ({"min_comment_length": 20}, "min_comment_length", 20),
        ({"max_comment_length": 300}, "max_comment_length", 300),
        ({"auto_close_days": 14}, "auto_close_days", 14),
        ({"auto_close_days": None}, "auto_close_days", None),
    ],
)
def test_patch_changes_one_setting_and_keeps_the_others(call, change, field, expected):
    before = create(call, name="News", auto_close_days=7, allowed_origins=["https://b.example"])
    response = call("olga", "PATCH", "/sites/news", json=change)
    assert response.status_code == 200, response.json
    assert response.json[field] == expected
    others = {k: v for k, v in response.json.items() if k != field}
    assert others == {k: v for k, v in before.items() if k != field}
    assert call("olga", "GET", "/sites/news").json == response.json


@pytest.mark.parametrize(
    ("setting", "value", "stored"),
    [
        ("mode", "pre", "pre"),
        ("toxicity_hold", 0.3, 0.3),
        ("toxicity_reject", 0.7, 0.7),
        ("spam_hold", 0.2, 0.2),
        ("spam_reject", 0.6, 0.6),
        ("new_commenter_holds", 3, 3),
        ("hold_links", True, True),
        ("banned_words", ["Idiot*", "IDIOT*", " dum?  head "], ["idiot*", "dum? head"]),
        ("suspect_words", ["scam"], ["scam"]),
        ("allowed_domains", ["Wikipedia.org", "bücher.de"], ["wikipedia.org", "bücher.de"]),
        ("denied_domains", ["spam.example."], ["spam.example"]),
        ("velocity_limit", 10, 10),
    ],
)
def test_patch_sets_every_policy_setting(call, setting, value, stored):
    create(call, policy={"velocity_limit": 4} if setting != "velocity_limit" else {})
    response = call("olga", "PATCH", "/sites/news", json={"policy": {setting: value}})
    assert response.status_code == 200, response.json
    assert response.json["policy"][setting] == stored
    assert response.json["effective_policy"][setting] == stored
    if setting != "velocity_limit":  # merged, not replaced
        assert response.json["policy"]["velocity_limit"] == 4


def test_null_puts_a_policy_setting_or_rate_limit_back_to_its_default(call, app):
    create(
        call,
        policy={"toxicity_hold": 0.3, "banned_words": ["x*y"]},
        rate_limits={"submit": "1/minute", "delete": "2/minute"},
    )
    response = call(
        "olga",
        "PATCH",
        "/sites/news",
        json={"policy": {"toxicity_hold": None}, "rate_limits": {"submit": None}},
    )
    assert response.status_code == 200, response.json
    assert response.json["policy"] == {"banned_words": ["x*y"]}
    assert response.json["effective_policy"]["toxicity_hold"] == app.config["TOXICITY_HOLD"]
    assert response.json["rate_limits"] == {"delete": "2/minute"}
    assert response.json["effective_rate_limits"]["submit"] == app.config["RATE_LIMIT_SUBMIT"]


def test_rate_limits_are_merged(call):
    create(call, rate_limits={"submit": "1/minute"})
    response = call("olga", "PATCH", "/sites/news", json={"rate_limits": {"report": "4 per hour"}})
    assert response.json["rate_limits"] == {"submit": "1/minute", "report": "4 per hour"}


def test_an_empty_patch_changes_nothing_and_logs_nothing(call):
    before = create(call)
    response = call("olga", "PATCH", "/sites/news", json={})
    assert response.status_code == 200
    assert response.json == before
    assert actions("site.update") == []


# --- Validation -------------------------------------------------------------------------------

INVALID_CHANGES = [
    ({"allowed_origins": ["ftp://files.example"]}, "allowed_origins", "ftp://files.example"),
    ({"allowed_origins": ["https://news.example/path"]}, "allowed_origins", "without a path"),
    ({"allowed_origins": "https://news.example"}, "allowed_origins", "list"),
    ({"policy": {"toxicity_hold": 0.95}}, "policy.toxicity_hold", "reject threshold (0.9)"),
    (
        {"policy": {"toxicity_hold": 0.8, "toxicity_reject": 0.7}},
        "policy.toxicity_hold",
        "must not be above",
    ),
    ({"policy": {"spam_reject": 0.3}}, "policy.spam_reject", "hold threshold (0.5)"),
    ({"policy": {"toxicity_hold": 1.5}}, "policy.toxicity_hold", "0 to 1"),
    ({"policy": {"spam_hold": "high"}}, "policy.spam_hold", "number"),
    ({"policy": {"strictness": 1}}, "policy.strictness", "Not a policy setting"),
    ({"policy": {"mode": "sometimes"}}, "policy.mode", "pre"),
    ({"policy": {"new_commenter_holds": -1}}, "policy.new_commenter_holds", "0 to 1000"),
    ({"policy": {"velocity_limit": 0}}, "policy.velocity_limit", "1 to 10000"),
    ({"policy": {"hold_links": "maybe"}}, "policy.hold_links", "boolean"),
    ({"policy": {"banned_words": "idiot"}}, "policy.banned_words", "list of strings"),
    ({"policy": {"banned_words": ["*"]}}, "policy.banned_words", "letter or digit"),
    ({"policy": {"banned_words": ["  "]}}, "policy.banned_words", "can't be empty"),
    ({"policy": {"suspect_words": ["x" * 101]}}, "policy.suspect_words", "100 characters"),
    (
        {"policy": {"banned_words": [f"word{n}" for n in range(2001)]}},
        "policy.banned_words",
        "At most 2,000",
    ),
    (
        {"policy": {"denied_domains": ["https://spam.example/x"]}},
        "policy.denied_domains",
        "without http://",
    ),
    ({"policy": {"allowed_domains": ["*.example.org"]}}, "policy.allowed_domains", "'*.'"),
    ({"policy": {"allowed_domains": ["localhost"]}}, "policy.allowed_domains", "host name"),
    ({"policy": {"allowed_domains": ["bad_name.example"]}}, "policy.allowed_domains", "host name"),
    ({"policy": "strict"}, "policy", "Invalid input type"),
    ({"rate_limits": {"submit": "lots"}}, "rate_limits.submit", "'lots' is not a rate limit"),
    ({"rate_limits": {"report": "0/minute"}}, "rate_limits.report", "at least 1"),
    ({"rate_limits": {"delete": ""}}, "rate_limits.delete", "5/minute"),
    ({"rate_limits": {"upload": "5/minute"}}, "rate_limits.upload", "submit, report, delete"),
    ({"language": "fr"}, "language", "en, he"),
    ({"min_comment_length": 300, "max_comment_length": 200}, "min_comment_length", "above"),
    ({"max_comment_length": 5}, "max_comment_length", "minimum length (10)"),
    ({"max_comment_length": 5001}, "max_comment_length", "1 to 5000"),
    ({"min_comment_length": 0}, "min_comment_length", "1 to 5000"),
    ({"min_comment_length": "5"}, "min_comment_length", "integer"),
    ({"auto_close_days": 0}, "auto_close_days", "1 to 3650"),
    ({"auto_close_days": 3651}, "auto_close_days", "1 to 3650"),
    ({"name": "  "}, "name", "1 to 200 characters"),
    ({"name": "n" * 201}, "name", "1 to 200 characters"),
    ({"name": "a\nb"}, "name", "one line"),
    ({"colour": "red"}, "colour", "Unknown field"),
    ({"key": "renamed"}, "key", "Unknown field"),
]


@pytest.mark.parametrize(("change", "field", "fragment"), INVALID_CHANGES)
def test_invalid_changes_name_the_field_and_change_nothing(call, change, field, fragment):
    before = create(call, min_comment_length=10)
    response = call("olga", "PATCH", "/sites/news", json=change)
    assert_field_error(response, field, fragment)
    assert response.json["error"]["code"] == "validation_error"
    assert call("olga", "GET", "/sites/news").json == before
    assert actions("site.update") == []


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [item for item in INVALID_CHANGES if item[1] not in ("key", "max_comment_length")],
)
def test_invalid_settings_refuse_a_new_site(call, change, field, fragment):
    response = call("olga", "POST", "/sites", json={"key": "news", **change})
    assert_field_error(response, field, fragment)
    assert row_count(Site) == 1  # demo only
    assert actions() == []


@pytest.mark.parametrize("body", [[], "news", 5])
def test_a_body_that_is_not_an_object_is_refused(call, body):
    for method, path in (("POST", "/sites"), ("PATCH", "/sites/demo")):
        response = call("olga", method, path, json=body)
        assert response.status_code == 422
        assert response.json["error"]["message"] == "Send the settings as a JSON object."
    assert actions() == []


@pytest.mark.parametrize("key", ["x", "News", "has space", "a/b", "k" * 65, "", 12])
def test_invalid_keys_are_refused(call, key):
    response = call("olga", "POST", "/sites", json={"key": key})
    assert_field_error(response, "key")
    assert row_count(Site) == 1


def test_a_key_is_required(call):
    assert_field_error(call("olga", "POST", "/sites", json={"name": "News"}), "key", "Missing")


def test_a_duplicate_key_is_409_naming_the_key(call):
    create(call, name="News")
    response = call("olga", "POST", "/sites", json={"key": "news", "name": "Other"})
    assert_field_error(response, "key", "taken", status=409)
    assert response.json["error"]["message"] == "Site 'news' already exists."
    assert call("olga", "GET", "/sites/news").json["name"] == "News"
    assert len(actions("site.create")) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/sites/nope", None),
        ("PATCH", "/sites/nope", {"name": "x"}),
        ("POST", "/sites/nope/close", None),
        ("POST", "/sites/nope/reopen", None),
        ("PUT", "/sites/nope/moderators", {"moderators": []}),
    ],
)
def test_unknown_sites_are_404(call, method, path, body):
    response = call("olga", method, path, json=body)
    assert response.status_code == 404
    assert response.json["error"]["message"] == "There is no site 'nope'."


# --- Permissions ------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/sites", None),
    ("POST", "/sites", {"key": "news"}),
    ("GET", "/sites/demo", None),
    ("PATCH", "/sites/demo", {"name": "Hijacked"}),
    ("POST", "/sites/demo/close", None),
    ("POST", "/sites/demo/reopen", None),
    ("PUT", "/sites/demo/moderators", {"moderators": []}),
    ("GET", "/actions", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_anonymous_callers_get_401(call, method, path, body):
    response = call(None, method, path, json=body)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_moderators_get_403_and_change_nothing(call, method, path, body):
    response = call("mia", method, path, json=body)
    assert response.status_code == 403
    assert "operators" in response.json["error"]["message"]
    assert row_count(Site) == 1
    demo = db.session.scalar(db.select(Site).where(Site.key == "demo"))
    assert (demo.name, demo.closed_at) == ("Demo Daily", None)
    assert actions() == []


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_operators_may_use_every_endpoint(call, method, path, body):
    response = call("olga", method, path, json=body)
    # Reopening an open site is a conflict, not a refusal.
    expected = 409 if path.endswith("/reopen") else 201 if method == "POST" and body else 200
    assert response.status_code == expected, response.json


def test_the_console_session_of_an_operator_works_with_its_csrf_token(client, login, people):
    login(client, "olga")
    assert client.get(f"{API}/sites").status_code == 200
    refused = client.patch(f"{API}/sites/demo", json={"name": "Renamed"})
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "csrf_failed"
    token = csrf_token_of(client.get("/console/account"))
    response = client.patch(
        f"{API}/sites/demo", json={"name": "Renamed"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.json
    assert response.json["name"] == "Renamed"


# --- Moderators -------------------------------------------------------------------------------


def test_assigned_moderators_see_the_sites_queue_and_no_other(call, make_user, api_token):
    create(call)
    nina = make_user("nina")
    token = api_token(nina)
    queue = "/api/v1/moderation/queues/held?site="
    assert call(token, "GET", queue + "news").status_code == 403

    response = call("olga", "PUT", "/sites/news/moderators", json={"moderators": ["Nina", "mia"]})
    assert response.status_code == 200, response.json
    assert response.json["moderators"] == ["mia", "nina"]
    assert call(token, "GET", queue + "news").status_code == 200
    assert call(token, "GET", queue + "demo").status_code == 403
    # mia keeps her other site.
    assert call("mia", "GET", queue + "demo").status_code == 200

    response = call("olga", "PUT", "/sites/news/moderators", json={"moderators": ["mia"]})
    assert response.json["moderators"] == ["mia"]
    assert call(token, "GET", queue + "news").status_code == 403
    db.session.expire_all()
    assert [site.key for site in db.session.get(User, nina.id).sites] == []
    assert call("olga", "GET", "/sites/demo").json["moderators"] == ["mia"]


def test_unknown_accounts_and_operators_cant_be_assigned(call, make_user):
    create(call)
    make_user("root", role="operator")
    unknown = call("olga", "PUT", "/sites/news/moderators", json={"moderators": ["mia", "ghost"]})
    assert_field_error(unknown, "moderators", "There is no account 'ghost'.")
    operator = call("olga", "PUT", "/sites/news/moderators", json={"moderators": ["root"]})
    assert_field_error(operator, "moderators", "'root' is an operator")
    assert "see every site" in operator.json["error"]["fields"]["moderators"][0]
    missing = call("olga", "PUT", "/sites/news/moderators", json={})
    assert_field_error(missing, "moderators", "Missing")
    assert call("olga", "GET", "/sites/news").json["moderators"] == []
    assert actions("site.moderators") == []


# --- The operators' log -----------------------------------------------------------------------


def test_every_change_is_logged_with_what_changed(call):
    create(call, name="News", policy={"toxicity_hold": 0.4})
    call(
        "olga",
        "PATCH",
        "/sites/news",
        json={
            "name": "The News",
            "language": "en",  # unchanged: not logged
            "policy": {"toxicity_hold": 0.6, "mode": "post", "banned_words": ["idiot*"]},
            "rate_limits": {"submit": "2/minute"},
        },
    )
    call("olga", "POST", "/sites/news/close")
    call("olga", "POST", "/sites/news/reopen")
    call("olga", "PUT", "/sites/news/moderators", json={"moderators": ["mia"]})

    entries = actions()
    assert [entry.action for entry in entries] == [
        "site.create",
        "site.update",
        "site.close",
        "site.reopen",
        "site.moderators",
    ]
    assert {entry.actor for entry in entries} == {"moderator:olga"}
    assert {entry.subject for entry in entries} == {"news"}
    assert entries[0].details["name"] == "News"
    assert entries[0].details["policy.toxicity_hold"] == 0.4
    assert entries[1].details == {
        "name": {"from": "News", "to": "The News"},
        "policy.toxicity_hold": {"from": 0.4, "to": 0.6},
        "policy.mode": {"from": None, "to": "post"},
        "policy.banned_words": {"from": None, "to": ["idiot*"]},
        "rate_limits.submit": {"from": None, "to": "2/minute"},
    }
    closed_at = entries[2].details["closed_at"]["to"]
    assert entries[2].details == {"closed_at": {"from": None, "to": closed_at}}
    assert entries[3].details == {"closed_at": {"from": closed_at, "to": None}}
    assert entries[4].details == {"moderators": {"from": [], "to": ["mia"]}}


def test_the_actions_endpoint_lists_newest_first_with_filters(call):
    create(call)
    call("olga", "PATCH", "/sites/news", json={"name": "One"})
    call("olga", "PATCH", "/sites/news", json={"name": "Two"})
    call("olga", "POST", "/sites/news/close")

    listed = call("olga", "GET", "/actions").json["actions"]
    assert [item["action"] for item in listed] == [
        "site.close",
        "site.update",
        "site.update",
        "site.create",
    ]
    assert listed[1]["details"] == {"name": {"from": "One", "to": "Two"}}
    assert listed[1]["actor"] == "moderator:olga"
    assert listed[1]["subject"] == "news"
    assert listed[1]["created_at"].endswith("+00:00")

    updates = call("olga", "GET", "/actions?action=site.update&limit=1").json["actions"]
    assert [item["details"]["name"]["to"] for item in updates] == ["Two"]
    assert len(call("olga", "GET", "/actions?action=site").json["actions"]) == 4
    assert call("olga", "GET", "/actions?action=ban").json["actions"] == []
    assert call("olga", "GET", "/actions?actor=cli").json["actions"] == []
    assert len(call("olga", "GET", "/actions?actor=moderator:olga").json["actions"]) == 4
    future = call("olga", "GET", "/actions?since=2999-01-01T00:00:00Z").json["actions"]
    assert future == []


@pytest.mark.parametrize(
    ("query", "field"), [("limit=501", "limit"), ("limit=0", "limit"), ("since=soon", "since")]
)
def test_bad_action_queries_name_the_field(call, query, field):
    assert_field_error(call("olga", "GET", f"/actions?{query}"), field)


# --- Closing ----------------------------------------------------------------------------------


def test_close_and_reopen(call):
    create(call)
    closed = call("olga", "POST", "/sites/news/close")
    assert closed.status_code == 200
    assert closed.json["closed"] is True
    assert closed.json["closed_at"].endswith("+00:00")
    again = call("olga", "POST", "/sites/news/close")
    assert again.status_code == 409
    assert "already closed" in again.json["error"]["message"]
    reopened = call("olga", "POST", "/sites/news/reopen")
    assert (reopened.json["closed"], reopened.json["closed_at"]) == (False, None)
    assert call("olga", "POST", "/sites/news/reopen").status_code == 409
    assert len(actions("site.close")) == 1 and len(actions("site.reopen")) == 1


# --- The worker applies the new policy --------------------------------------------------------


def test_a_banned_word_added_through_the_api_rejects_the_next_comment(call, client, run_worker):
    before = submit(client, body=f"{POLITE} The zorblaxian lobby was busy.")
    run_worker()
    assert status_of(before["id"]) == "approved"

    response = call("olga", "PATCH", "/sites/demo", json={"policy": {"banned_words": ["Zorblax*"]}})
    assert response.status_code == 200, response.json
    after = submit(
        client, article="a2", body="Honestly the zorblaxians in the council were right today."
    )
    run_worker()
    assert status_of(after["id"]) == "rejected"
    assert any(
        "banned word" in reason and "zorblax*" in reason for reason in reasons_of(after["id"])
    )


def test_pre_moderation_set_through_the_api_holds_the_next_comment(call, client, run_worker):
    call("olga", "PATCH", "/sites/demo", json={"policy": {"mode": "pre"}})
    held = submit(client)
    run_worker()
    assert status_of(held["id"]) == "held"
    assert "the site pre-moderates every comment" in reasons_of(held["id"])


# --- OpenAPI ----------------------------------------------------------------------------------


def test_the_admin_endpoints_are_in_the_openapi_document_with_bearer_security(client):
    document = client.get("/api/v1/openapi.json").json
    expected = {
        "/api/v1/admin/sites": {"get", "post"},
        "/api/v1/admin/sites/{key}": {"get", "patch"},
        "/api/v1/admin/sites/{key}/close": {"post"},
        "/api/v1/admin/sites/{key}/reopen": {"post"},
        "/api/v1/admin/sites/{key}/moderators": {"put"},
        "/api/v1/admin/actions": {"get"},
    }
    for path, methods in expected.items():
        operations = document["paths"][path]
        assert methods <= set(operations), (path, sorted(operations))
        for method in methods:
            assert operations[method]["security"] == [{"apiToken": []}]
            assert {"401", "403"} <= set(operations[method]["responses"])
    body = document["paths"]["/api/v1/admin/sites/{key}"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/SiteUpdate")
    policy = document["components"]["schemas"]["Policy"]
    assert policy["additionalProperties"] is False
    assert set(policy["properties"]) == {field.name for field in dataclasses.fields(Policy)}


# --- The `sites` commands ---------------------------------------------------------------------


def site_row(key: str = "news") -> Site:
    db.session.expire_all()
    return db.session.scalar(db.select(Site).where(Site.key == key))


def test_cli_create_with_a_language_is_logged_as_the_cli(cli):
    result = cli("sites", "create", "news", "--name", "News", "--language", "he")
    assert result.exit_code == 0, result.output
    assert site_row().language == "he"
    (entry,) = actions()
    assert (entry.actor, entry.action, entry.subject) == ("cli", "site.create", "news")
    assert entry.details["language"] == "he"


def test_cli_create_refuses_an_uppercase_key(cli):
    result = cli("sites", "create", "News")
    assert result.exit_code != 0
    assert "KEY: Use 2 to 64 lowercase letters" in result.output
    assert row_count(Site) == 0


def test_cli_show_prints_every_setting(cli, app):
    cli("sites", "create", "news", "--name", "News", "--origin", "https://a.example")
    cli("sites", "set", "news", "--policy", "toxicity_hold=0.4", "--rate-limit", "submit=2/minute")
    result = cli("sites", "show", "news")
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert lines[0] == "Site 'news'"
    assert "name News" in lines
    assert "state open" in lines
    assert "origins https://a.example" in lines
    assert "comment length 1 to 5000 characters" in lines
    assert "auto-close never" in lines
    assert "moderators (none; operators moderate every site)" in lines
    assert "rate limit submit 2/minute" in lines
    assert f"rate limit report {app.config['RATE_LIMIT_REPORT']} (default)" in lines
    assert "policy toxicity_hold 0.4" in lines
    assert f"policy toxicity_reject {app.config['TOXICITY_REJECT']} (default)" in lines
    assert "policy banned_words (none) (default)" in lines
    assert "policy mode post (default)" in lines
    assert cli("sites", "show", "nope").output.strip() == "Error: There is no site 'nope'."


def test_cli_set_changes_settings_and_prints_them(cli):
    cli("sites", "create", "news")
    result = cli(
        "sites",
        "set",
        "news",
        "--name",
        "The News",
        "--language",
        "he",
        "--min-length",
        "5",
        "--max-length",
        "900",
        "--auto-close-days",
        "30",
        "--rate-limit",
        "submit=5/minute",
        "--rate-limit",
        "report=3/minute;10/hour",
        "--policy",
        "toxicity_hold=0.6",
        "--policy",
        "mode=pre",
        "--policy",
        'banned_words=["Idiot*", "moron"]',
        "--policy",
        "hold_links=true",
    )
    assert result.exit_code == 0, result.output
    assert "Site 'news' updated:" in result.output
    assert "name: news -> The News" in result.output
    assert "policy toxicity_hold: 0.5  (default) -> 0.6" in result.output
    site = site_row()
    assert (site.name, site.language, site.auto_close_days) == ("The News", "he", 30)
    assert (site.min_comment_length, site.max_comment_length) == (5, 900)
    assert site.rate_limits == {"submit": "5/minute", "report": "3/minute;10/hour"}
    assert site.policy == {
        "toxicity_hold": 0.6,
        "mode": "pre",
        "banned_words": ["idiot*", "moron"],
        "hold_links": True,
    }
    (entry,) = actions("site.update")
    assert entry.actor == "cli"
    assert entry.details["policy.toxicity_hold"] == {"from": None, "to": 0.6}

    reset = cli(
        "sites",
        "set",
        "news",
        "--no-auto-close",
        "--rate-limit",
        "submit=default",
        "--policy",
        "mode=default",
    )
    assert reset.exit_code == 0, reset.output
    site = site_row()
    assert site.auto_close_days is None
    assert site.rate_limits == {"report": "3/minute;10/hour"}
    assert "mode" not in site.policy
    unchanged = cli("sites", "set", "news", "--language", "he")
    assert "nothing changed" in unchanged.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--policy", "toxicity_hold=0.95"), "--policy toxicity_hold: The toxicity hold"),
        (("--policy", "strictness=1"), "--policy strictness: Not a policy setting"),
        (("--policy", "toxicity_hold"), "'toxicity_hold' is not NAME=VALUE"),
        (("--rate-limit", "submit=lots"), "--rate-limit submit: 'lots' is not a rate limit"),
        (("--rate-limit", "upload=5/minute"), "--rate-limit upload: Not a rate limit"),
        (("--language", "fr"), "--language: Use one of: en, he."),
        (("--min-length", "50", "--max-length", "10"), "--min-length: The minimum length (50)"),
        (("--auto-close-days", "0"), "--auto-close-days: Use a number of days from 1"),
        (("--auto-close-days", "3", "--no-auto-close"), "not both"),
        ((), "Nothing to change"),
    ],
)
def test_cli_set_errors_name_the_option_and_change_nothing(cli, args, fragment):
    cli("sites", "create", "news")
    result = cli("sites", "set", "news", *args)
    assert result.exit_code != 0
    assert fragment in result.output, result.output
    site = site_row()
    assert (site.policy, site.rate_limits, site.language) == ({}, {}, "en")
    assert actions("site.update") == []


def test_cli_words_adds_removes_and_lists(cli):
    cli("sites", "create", "news")
    added = cli("sites", "words", "news", "--banned", "--add", "Idiot*", "--add", "moron")
    assert added.exit_code == 0, added.output
    assert added.output.splitlines() == ["idiot*", "moron"]
    suspect = cli("sites", "words", "news", "--suspect", "--add", "sc?m")
    assert suspect.output.splitlines() == ["sc?m"]
    removed = cli("sites", "words", "news", "--banned", "--remove", "IDIOT*", "--remove", "nope")
    assert removed.exit_code == 0, removed.output
    assert "moron" in removed.output.splitlines()
    assert "Not on the list (nothing to remove): nope" in removed.output
    assert site_row().policy == {"banned_words": ["moron"], "suspect_words": ["sc?m"]}
    assert cli("sites", "words", "news", "--banned").output.splitlines() == ["moron"]
    bad = cli("sites", "words", "news", "--banned", "--add", "*")
    assert bad.exit_code != 0
    assert "--add: '*' needs a letter or digit" in bad.output
    assert "Say which list" in cli("sites", "words", "news", "--add", "x").output


def test_cli_domains_adds_removes_and_lists(cli):
    cli("sites", "create", "news")
    result = cli("sites", "domains", "news", "--deny", "--add", "Spam.example", "--add", "x.test")
    assert result.output.splitlines() == ["spam.example", "x.test"]
    result = cli("sites", "domains", "news", "--deny", "--remove", "SPAM.example")
    assert result.output.splitlines() == ["x.test"]
    allowed = cli("sites", "domains", "news", "--allow", "--add", "wikipedia.org")
    assert allowed.output.splitlines() == ["wikipedia.org"]
    assert site_row().policy == {"denied_domains": ["x.test"], "allowed_domains": ["wikipedia.org"]}
    bad = cli("sites", "domains", "news", "--deny", "--add", "https://spam.example/x")
    assert bad.exit_code != 0
    assert "--add: 'https://spam.example/x' is not a host name" in bad.output
    emptied = cli("sites", "domains", "news", "--allow", "--remove", "wikipedia.org")
    assert "allowed_domains is empty" in emptied.output


def test_cli_moderators_shows_sets_and_clears(cli, make_user, site):
    make_user("mia", sites=[site])
    make_user("root", role="operator")
    cli("sites", "create", "news")
    assert "has no moderators" in cli("sites", "moderators", "news").output
    result = cli("sites", "moderators", "news", "--set", "mia")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["mia"]
    assert cli("sites", "moderators", "news").output.splitlines() == ["mia"]
    assert [
        s.key for s in db.session.scalar(db.select(User).where(User.username == "mia")).sites
    ] == [
        "demo",
        "news",
    ]
    unknown = cli("sites", "moderators", "news", "--set", "ghost")
    assert unknown.exit_code != 0
    assert "--set: There is no account 'ghost'." in unknown.output
    operator = cli("sites", "moderators", "news", "--set", "root")
    assert "'root' is an operator" in operator.output
    cleared = cli("sites", "moderators", "news", "--clear")
    assert "has no moderators" in cleared.output
    assert [entry.actor for entry in actions("site.moderators")] == ["cli", "cli"]


def test_cli_close_reopen_and_list(cli):
    cli("sites", "create", "news", "--name", "News", "--origin", "https://a.example")
    cli("sites", "create", "arts", "--name", "Arts")
    closed = cli("sites", "close", "news")
    assert closed.exit_code == 0, closed.output
    assert "Site 'news' is closed" in closed.output
    assert site_row().is_closed
    assert cli("sites", "list").output.splitlines() == [
        "arts\tArts",
        "news\tNews\tclosed\thttps://a.example",
    ]
    assert "state closed since" in " ".join(cli("sites", "show", "news").output.split())
    again = cli("sites", "close", "news")
    assert again.exit_code != 0 and "already closed" in again.output
    reopened = cli("sites", "reopen", "news")
    assert reopened.exit_code == 0 and "open again" in reopened.output
    assert not site_row().is_closed
    assert cli("sites", "list").output.splitlines()[1] == "news\tNews\thttps://a.example"
    assert "is not closed" in cli("sites", "reopen", "news").output
    assert [entry.action for entry in actions()][-2:] == ["site.close", "site.reopen"]


def test_cli_origins_changes_are_logged(cli):
    cli("sites", "create", "news")
    cli("sites", "origins", "news", "--add", "https://a.example")
    (entry,) = actions("site.update")
    assert entry.details == {"allowed_origins": {"from": [], "to": ["https://a.example"]}}
    assert json.dumps(entry.details)  # plain JSON, as stored
