"""Graduated trust as operators and moderators set it up: the policy settings and their
validation in the admin API, the CLI and the console; hold bans in the API, CLI and console;
per-article pre-moderation through the moderation API, the CLI and the console, and the
operators' log entries they all write."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import Article, Ban, OperatorAction, Site, UserRole

from .helpers import (
    POLITE,
    assert_field_error,
    ban_form,
    csrf_token_of,
    field_error,
    form_of,
    reasons_of,
    row_count,
    status_of,
    text,
)

SITES = "/api/v1/admin/sites"
BANS = "/api/v1/admin/bans"
MODERATION = "/api/v1/moderation"
EDIT_FORM = "/console/sites/demo"
PREMODERATION = "/console/sites/demo/premoderation"
RECORD_SETTINGS = {
    "trusted_after": 10,
    "trusted_hold": 0.85,
    "record_days": 30,
    "rejection_rate_hold": 0.5,
    "rejection_rate_min": 4,
}


@pytest.fixture
def tokens(site, make_user, api_token) -> dict[str, str]:
    """API tokens of olga (operator), mia (moderator of demo) and noa (moderator of other)."""
    other = Site(key="other", name="Other Times")
    db.session.add(other)
    db.session.commit()
    return {
        "olga": api_token(make_user("olga", role=UserRole.OPERATOR)),
        "mia": api_token(make_user("mia", sites=["demo"])),
        "noa": api_token(make_user("noa", sites=["other"])),
    }


@pytest.fixture
def call(client, tokens):
    """call(who, method, path, **kwargs): an API request with that person's token (or none)."""

    def request(who: str | None, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    return request


@pytest.fixture
def operator(client, tokens, login):
    """A test client logged in to the console as the operator olga."""
    login(client, "olga")
    return client


def actions(prefix: str = "") -> list[OperatorAction]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OperatorAction)
            .where(OperatorAction.action.startswith(prefix))
            .order_by(OperatorAction.id)
        )
    )


def article(key: str, external_id: str) -> Article | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Article)
        .join(Site, Site.id == Article.site_id)
        .where(Site.key == key, Article.external_id == external_id)
    )


# --- Policy settings in the admin API -------------------------------------------------------------


def test_the_record_settings_have_defaults_that_change_nothing(call):
    policy = call("olga", "GET", f"{SITES}/demo").json["effective_policy"]
    assert {name: policy[name] for name in RECORD_SETTINGS} == {
        "trusted_after": 0,
        "trusted_hold": 0.8,
        "record_days": 90,
        "rejection_rate_hold": 0.0,
        "rejection_rate_min": 3,
    }


def test_the_record_settings_are_set_merged_logged_and_reset(call):
    response = call("olga", "PATCH", f"{SITES}/demo", json={"policy": RECORD_SETTINGS})
    assert response.status_code == 200, response.json
    assert response.json["policy"] == RECORD_SETTINGS
    assert {k: response.json["effective_policy"][k] for k in RECORD_SETTINGS} == RECORD_SETTINGS
    [update] = actions("site.update")
    assert update.details["policy.trusted_after"] == {"from": None, "to": 10}
    assert update.details["policy.rejection_rate_hold"] == {"from": None, "to": 0.5}
    reset = call("olga", "PATCH", f"{SITES}/demo", json={"policy": {"trusted_hold": None}})
    assert reset.json["effective_policy"]["trusted_hold"] == 0.8
    assert "trusted_hold" not in reset.json["policy"]


@pytest.mark.parametrize(
    ("policy", "field", "fragment"),
    [
        ({"trusted_hold": 1.5}, "policy.trusted_hold", "from 0 to 1"),
        ({"trusted_hold": "high"}, "policy.trusted_hold", "number"),
        ({"trusted_hold": 0.4}, "policy.trusted_hold", "must not be below the toxicity hold"),
        (
            {"trusted_after": 5, "spam_hold": 0.6, "trusted_hold": 0.55},
            "policy.trusted_hold",
            "spam hold threshold (0.6)",
        ),
        # Turning trust on with a hold threshold above the default trusted one (0.8).
        (
            {"trusted_after": 5, "toxicity_hold": 0.85},
            "policy.toxicity_hold",
            "(0.8) must not be below the toxicity hold threshold (0.85)",
        ),
        ({"trusted_after": -1}, "policy.trusted_after", "0 to 10000"),
        ({"trusted_after": 2.5}, "policy.trusted_after", "integer"),
        ({"trusted_after": "5"}, "policy.trusted_after", "integer"),
        ({"record_days": 0}, "policy.record_days", "1 to 3650"),
        ({"record_days": 3651}, "policy.record_days", "1 to 3650"),
        ({"rejection_rate_hold": 1.2}, "policy.rejection_rate_hold", "0 to 1"),
        ({"rejection_rate_hold": -0.1}, "policy.rejection_rate_hold", "0 to 1"),
        ({"rejection_rate_min": 0}, "policy.rejection_rate_min", "1 to 10000"),
        ({"trusted": True}, "policy.trusted", "trusted_after"),
    ],
)
def test_invalid_record_settings_name_the_field_and_change_nothing(call, policy, field, fragment):
    before = call("olga", "GET", f"{SITES}/demo").json
    response = call("olga", "PATCH", f"{SITES}/demo", json={"policy": policy})
    assert_field_error(response, field, fragment)
    assert call("olga", "GET", f"{SITES}/demo").json == before
    assert actions() == []


def test_while_trust_is_on_a_hold_threshold_cant_pass_the_trusted_one(call):
    on = call("olga", "PATCH", f"{SITES}/demo", json={"policy": {"trusted_after": 5}})
    assert on.status_code == 200, on.json
    response = call("olga", "PATCH", f"{SITES}/demo", json={"policy": {"toxicity_hold": 0.85}})
    assert_field_error(response, "policy.toxicity_hold", "must not be below the toxicity hold")
    # Raised together, both are fine.
    both = {"toxicity_hold": 0.85, "trusted_hold": 0.88}
    assert call("olga", "PATCH", f"{SITES}/demo", json={"policy": both}).status_code == 200


def test_while_trust_is_off_the_hold_thresholds_stay_free(call):
    response = call("olga", "PATCH", f"{SITES}/demo", json={"policy": {"toxicity_hold": 0.85}})
    assert response.status_code == 200, response.json
    # Turning it on then needs a trusted threshold at least as high.
    on = call("olga", "PATCH", f"{SITES}/demo", json={"policy": {"trusted_after": 5}})
    assert_field_error(on, "policy.trusted_hold", "(0.8) must not be below the toxicity hold")


def test_a_new_site_is_refused_with_a_bad_record_setting(call):
    response = call(
        "olga", "POST", SITES, json={"key": "news", "policy": {"rejection_rate_min": 0}}
    )
    assert_field_error(response, "policy.rejection_rate_min", "1 to 10000")
    assert row_count(Site) == 2


def test_a_policy_set_through_the_api_reaches_the_worker(call, client, run_worker):
    policy = {"toxicity_hold": 0.0, "spam_hold": 0.0, "trusted_hold": 0.8, "trusted_after": 1}
    assert call("olga", "PATCH", f"{SITES}/demo", json={"policy": policy}).status_code == 200
    url = "/api/v1/sites/demo/articles/a1/comments"
    first = client.post(url, json={"author_name": "Dana", "body": POLITE, "commenter_key": "k" * 8})
    run_worker()
    assert status_of(first.json["id"]) == "held"
    call(
        "mia",
        "POST",
        f"{MODERATION}/comments/{first.json['id']}/decision",
        json={"action": "approve", "expected_status": "held"},
    )
    second = client.post(
        url, json={"author_name": "Dana", "body": "And one more thing.", "commenter_key": "k" * 8}
    )
    run_worker()
    assert status_of(second.json["id"]) == "approved"
    assert reasons_of(second.json["id"])[0] == (
        "trusted commenter: 1 approved, none rejected in 90 days; held only at 0.80"
    )


# --- Hold bans in the admin API -------------------------------------------------------------------


def test_a_hold_ban_is_added_listed_and_logged(call):
    body = {"site": "demo", "target": "commenter_key", "value": "watched-key-01", "kind": "hold"}
    response = call("mia", "POST", BANS, json={**body, "reason": "Watch for doxxing"})
    assert response.status_code == 201, response.json
    assert response.json["kind"] == "hold" and response.json["public_reason"] is None
    listed = call("mia", "GET", f"{BANS}?site=demo").json["bans"]
    assert [(ban["id"], ban["kind"]) for ban in listed] == [(response.json["id"], "hold")]
    [entry] = actions("ban.add")
    assert entry.details["kind"] == "hold" and entry.actor == "moderator:mia"


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"kind": "hold", "public_reason": "You are watched"}, "public_reason", "never shown"),
        ({"kind": "watch"}, "kind", "hard, shadow, hold"),
    ],
)
def test_bad_hold_bans_are_refused_naming_the_field(call, body, field, fragment):
    ban = {"site": "demo", "target": "ip", "value": "203.0.113.7", "reason": "x", **body}
    response = call("olga", "POST", BANS, json=ban)
    assert response.status_code == 422, response.json
    assert fragment in " ".join(response.json["error"]["fields"][field])
    assert row_count(Ban) == 0 and actions() == []


def test_the_openapi_document_describes_hold_bans_and_pre_moderation(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    kind = schemas["BanCreate"]["properties"]["kind"]
    assert kind["enum"] == ["hard", "shadow", "hold"] and "hold:" in kind["description"]
    switch = spec["paths"][f"{MODERATION}/sites/{{site}}/articles/{{article}}/premoderation"]["put"]
    assert {"200", "401", "403", "404", "422"} <= set(switch["responses"])
    assert switch["security"] == [{"apiToken": []}]
    listing = spec["paths"][f"{MODERATION}/sites/{{site}}/premoderated-articles"]["get"]
    assert "200" in listing["responses"]
    assert "premoderated" in schemas["CardArticle"]["properties"]
    own = schemas["OwnComment"]["properties"]["reasons"]
    assert own["type"] == "array" and own["items"] == {"type": "string"}
    assert {"trusted_after", "trusted_hold", "record_days"} <= set(schemas["Policy"]["properties"])


# --- Per-article pre-moderation in the moderation API ---------------------------------------------


def switch(call, who: str, site: str, article_id: str, on: bool = True):
    url = f"{MODERATION}/sites/{site}/articles/{article_id}/premoderation"
    return call(who, "PUT", url, json={"premoderated": on})


def test_moderators_switch_their_sites_articles_and_it_is_logged(call):
    assert switch(call, "mia", "demo", "hot-story").status_code == 200
    assert article("demo", "hot-story").premoderated is True
    assert switch(call, "mia", "demo", "hot-story").status_code == 200  # again: no change
    assert switch(call, "olga", "demo", "hot-story", on=False).json["premoderated"] is False
    logged = actions("article.")
    assert [(entry.action, entry.actor) for entry in logged] == [
        ("article.premoderate", "moderator:mia"),
        ("article.unpremoderate", "moderator:olga"),
    ]
    assert logged[0].subject == "demo article hot-story"
    assert logged[0].details == {
        "site": "demo",
        "article": "hot-story",
        "premoderated": {"from": False, "to": True},
    }
    assert logged[1].details["premoderated"] == {"from": True, "to": False}


def test_an_existing_article_keeps_its_title_and_is_listed(call, client):
    client.post(
        "/api/v1/sites/demo/articles/bridge/comments",
        json={"author_name": "Dana", "body": POLITE, "article_title": "Bridge reopens"},
    )
    switched = switch(call, "mia", "demo", "bridge")
    assert switched.json["title"] == "Bridge reopens"
    switch(call, "mia", "demo", "second-story")
    listed = call("mia", "GET", f"{MODERATION}/sites/demo/premoderated-articles")
    assert listed.status_code == 200
    assert [item["article"] for item in listed.json["articles"]] == ["second-story", "bridge"]
    assert row_count(Article) == 2


@pytest.mark.parametrize(
    ("who", "site_key", "article_id", "body", "status", "field"),
    [
        (None, "demo", "a1", {"premoderated": True}, 401, None),
        ("noa", "demo", "a1", {"premoderated": True}, 403, "site"),
        ("mia", "nowhere", "a1", {"premoderated": True}, 404, None),
        ("mia", "demo", "a" * 201, {"premoderated": True}, 422, "article"),
        ("mia", "demo", "a1", {}, 422, "premoderated"),
        ("mia", "demo", "a1", {"premoderated": "maybe"}, 422, "premoderated"),
        ("mia", "demo", "a1", {"premoderated": True, "until": "2030-01-01"}, 422, "until"),
    ],
)
def test_switching_is_refused_cleanly(call, who, site_key, article_id, body, status, field):
    url = f"{MODERATION}/sites/{site_key}/articles/{article_id}/premoderation"
    response = call(who, "PUT", url, json=body)
    assert response.status_code == status, response.json
    if field:
        assert field in response.json["error"]["fields"]
    assert row_count(Article) == 0 and actions() == []


def test_listing_is_for_the_sites_moderators(call):
    assert call("noa", "GET", f"{MODERATION}/sites/demo/premoderated-articles").status_code == 403
    assert call(None, "GET", f"{MODERATION}/sites/demo/premoderated-articles").status_code == 401
    assert call("noa", "GET", f"{MODERATION}/sites/other/premoderated-articles").json == {
        "articles": []
    }


def test_the_card_says_whether_its_article_is_pre_moderated(call, client, run_worker):
    switch(call, "mia", "demo", "hot-story")
    client.post(
        "/api/v1/sites/demo/articles/hot-story/comments",
        json={"author_name": "Dana", "body": POLITE},
    )
    run_worker()
    [card] = call("mia", "GET", f"{MODERATION}/queues/held?site=demo").json["comments"]
    assert card["article"]["premoderated"] is True
    assert card["reasons"][0] == "the article is pre-moderated"


# --- The CLI --------------------------------------------------------------------------------------


def test_cli_premoderates_lists_and_stops(cli, site):
    result = cli("sites", "premoderate", "demo", "hot-story")
    assert result.exit_code == 0, result.output
    assert "Article 'hot-story' on 'demo' is pre-moderated" in result.output
    listed = cli("sites", "premoderate", "demo")
    assert listed.output.strip() == "hot-story"
    stopped = cli("sites", "premoderate", "demo", "hot-story", "--off")
    assert "no longer pre-moderated" in stopped.output
    assert "pre-moderates no article" in cli("sites", "premoderate", "demo").output
    assert [(entry.action, entry.actor) for entry in actions("article.")] == [
        ("article.premoderate", "cli"),
        ("article.unpremoderate", "cli"),
    ]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("sites", "premoderate", "nowhere", "a1"), "There is no site 'nowhere'."),
        (("sites", "premoderate", "demo", " "), "ARTICLE_ID: Must be 1 to 200"),
        (("sites", "premoderate", "demo", "--off"), "Say which article"),
    ],
)
def test_cli_premoderate_errors_are_clear_and_change_nothing(cli, site, args, words):
    result = cli(*args)
    assert result.exit_code != 0
    assert words in result.output
    assert row_count(Article) == 0 and actions() == []


def test_cli_sets_and_shows_the_record_settings(cli, site):
    result = cli(
        "sites",
        "set",
        "demo",
        "--policy",
        "trusted_after=12",
        "--policy",
        "trusted_hold=0.9",
        "--policy",
        "rejection_rate_hold=0.6",
    )
    assert result.exit_code == 0, result.output
    assert "policy trusted_after: 0  (default) -> 12" in result.output
    assert "policy rejection_rate_hold: 0.0  (default) -> 0.6" in result.output
    shown = cli("sites", "show", "demo").output
    assert "policy record_days" in shown and "90  (default)" in shown
    refused = cli("sites", "set", "demo", "--policy", "trusted_hold=0.3")
    assert refused.exit_code != 0
    assert "--policy trusted_hold: The trusted commenters' hold threshold (0.3)" in refused.output


def test_cli_adds_a_hold_ban(cli, site):
    result = cli(
        "bans",
        "add",
        "--site",
        "demo",
        "--commenter-key",
        "watched-key-02",
        "--kind",
        "hold",
        "--reason",
        "watch",
    )
    assert result.exit_code == 0, result.output
    assert "hold ban of commenter_key watched-key-02 on site demo, permanent." in result.output
    assert "hold" in cli("bans", "list").output
    contradiction = cli(
        "bans",
        "add",
        "--all",
        "--ip",
        "203.0.113.7",
        "--shadow",
        "--kind",
        "hold",
        "--reason",
        "x",
    )
    assert contradiction.exit_code != 0 and "contradict" in contradiction.output
    silent = cli(
        "bans",
        "add",
        "--all",
        "--ip",
        "203.0.113.7",
        "--kind",
        "hold",
        "--reason",
        "x",
        "--public-reason",
        "We watch you",
    )
    assert silent.exit_code != 0 and "never shown to the commenter" in silent.output
    assert row_count(Ban) == 1


# --- The console ----------------------------------------------------------------------------------


def test_the_site_form_shows_and_saves_the_record_settings(operator):
    form = form_of(text(operator.get(EDIT_FORM)), EDIT_FORM)
    assert form["policy.trusted_after"] == "0" and form["policy.trusted_hold"] == "0.8"
    assert form["policy.record_days"] == "90" and form["policy.rejection_rate_min"] == "3"
    # Unchanged, nothing is stored: defaults keep following the configuration.
    assert operator.post(EDIT_FORM, data=form).status_code == 302
    assert actions() == []
    form.update(
        {
            "policy.trusted_after": "10",
            "policy.trusted_hold": "0.85",
            "policy.record_days": "30",
            "policy.rejection_rate_hold": "0.5",
            "policy.rejection_rate_min": "4",
        }
    )
    assert operator.post(EDIT_FORM, data=form).status_code == 302
    db.session.expire_all()
    stored = db.session.scalar(select(Site).where(Site.key == "demo")).policy
    assert stored == RECORD_SETTINGS
    [update] = actions("site.update")
    assert update.details["policy.trusted_hold"] == {"from": None, "to": 0.85}


@pytest.mark.parametrize(
    ("change", "field_id", "message"),
    [
        (
            {"policy.trusted_hold": "0.3", "policy.trusted_after": "5"},
            "f-policy-trusted-hold",
            "must not be below the toxicity hold threshold",
        ),
        ({"policy.trusted_after": "many"}, "f-policy-trusted-after", "Enter a whole number."),
        ({"policy.rejection_rate_hold": "2"}, "f-policy-rejection-rate-hold", "0 to 1"),
        ({"policy.record_days": "0"}, "f-policy-record-days", "1 to 3650"),
    ],
)
def test_the_site_form_shows_record_errors_beside_their_fields(operator, change, field_id, message):
    form = form_of(text(operator.get(EDIT_FORM)), EDIT_FORM)
    response = operator.post(EDIT_FORM, data={**form, **change})
    assert response.status_code == 422
    html = text(response)
    assert message in field_error(html, field_id), field_error(html, field_id)
    assert "Nothing was saved." in html
    assert actions() == []


def test_the_site_page_pre_moderates_articles_and_stops(operator):
    page = text(operator.get(EDIT_FORM))
    assert "No article is pre-moderated." in page
    form = form_of(page, PREMODERATION)
    assert form["premoderated"] == "on"
    form["article"] = "hot-story"
    response = operator.post(PREMODERATION, data=form)
    assert response.status_code == 302
    page = text(operator.get(response.headers["Location"]))
    assert "Article “hot-story” is pre-moderated" in page
    assert "<code>hot-story</code>" in page
    assert article("demo", "hot-story").premoderated is True
    assert 'aria-label="Stop pre-moderating hot-story"' in page
    token = csrf_token_of(operator.get(EDIT_FORM))
    stop = {"csrf_token": token, "article": "hot-story", "premoderated": "off"}
    assert operator.post(PREMODERATION, data=stop).status_code == 302
    assert article("demo", "hot-story").premoderated is False
    assert [entry.actor for entry in actions("article.")] == ["moderator:olga"] * 2
    log = text(operator.get("/console/log?action=article."))
    assert log.count("<tr data-action=") == 2 and "Articles" in log


def test_the_site_page_shows_a_bad_article_id_beside_its_field(operator):
    form = form_of(text(operator.get(EDIT_FORM)), PREMODERATION)
    response = operator.post(PREMODERATION, data={**form, "article": "x" * 201})
    assert response.status_code == 422
    html = text(response)
    assert "Must be 1 to 200 printable characters." in field_error(html, "f-article")
    assert "x" * 201 in html  # what was typed, to correct
    assert row_count(Article) == 0 and actions() == []


def test_moderators_cant_use_the_site_page_switch(client, tokens, login, app):
    moderator = app.test_client()
    login(moderator, "mia")
    token = csrf_token_of(moderator.get("/console/bans"))
    response = moderator.post(
        PREMODERATION, data={"csrf_token": token, "article": "a1", "premoderated": "on"}
    )
    assert response.status_code == 403
    assert row_count(Article) == 0


def test_the_bans_page_adds_a_hold_ban(operator):
    page = text(operator.get("/console/bans"))
    assert "Hold: accept their comments, and hold every one for a moderator" in page
    data = ban_form(
        operator,
        target="commenter_key",
        value="watched-key-03",
        scope="demo",
        kind="hold",
        reason="Watch",
    )
    assert operator.post("/console/bans", data=data).status_code == 302
    assert db.session.scalars(select(Ban.kind)).one().value == "hold"
    refused = operator.post(
        "/console/bans", data={**data, "value": "watched-key-04", "public_reason": "Watched"}
    )
    assert refused.status_code == 422
    assert "never shown to the commenter" in field_error(text(refused), "f-public-reason")


def test_the_queue_page_offers_hold_bans_and_the_article_toggle_script(operator):
    html = text(operator.get("/console/queue/held"))
    assert '<input type="radio" name="kind" value="hold">' in html
    response = operator.get("/static/console/console.js")
    script = response.get_data(as_text=True)
    response.close()
    assert "data-premoderate" in script and "/premoderation" in script
