"""Threshold advice from moderators' decisions: the arithmetic, the sample it reads, the admin
API (reading, applying, permissions, staleness), the `moderation advise` command and the console
page with its one-click apply."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from service.core import advice, moderation
from service.errors import ForbiddenError
from service.extensions import db
from service.models import OperatorAction, Site, utcnow

from .helpers import csrf_token_of, decide, form_of, held, make_comment, scores, text

API = "/api/v1/admin/sites"
ADVICE = f"{API}/demo/threshold-advice"
APPLY = f"{ADVICE}/apply"
PAGE = "/console/sites/demo/advice"


# --- The arithmetic, on lists with known answers ------------------------------------------------


def test_the_hold_suggestion_is_the_highest_step_that_lets_through_at_most_the_tolerance():
    rejected = scores(0.30, 0.01, 100)  # 0.30 .. 1.29 (the top ones can't be auto-approved)
    assert advice.suggest_hold(rejected, 0) == 0.30  # nothing rejected below it
    assert advice.suggest_hold(rejected, 2) == 0.32  # 0.30 and 0.31 get through: 2 of 100
    assert advice.suggest_hold(rejected, 2.9) == 0.32  # a third would be 3 %
    assert advice.suggest_hold([0.8] * 50, 2) == 0.80  # ties: all or none of them
    assert advice.suggest_hold([0.0] * 10, 2) == 0.0  # nothing can be auto-approved


def test_the_reject_suggestion_is_the_lowest_step_that_rejects_at_most_the_tolerance():
    approved = scores(0.00, 0.01, 100)  # 0.00 .. 0.99
    assert advice.suggest_reject(approved, 0) == 1.0  # 0.99 was approved: only 1.0 rejects none
    assert advice.suggest_reject(approved, 1) == 0.99  # one of a hundred
    assert advice.suggest_reject(approved, 5) == 0.95
    assert advice.suggest_reject([1.0] * 30, 1) is None  # every threshold rejects them all


def test_a_tolerance_that_is_a_whole_number_of_decisions_allows_exactly_that_many():
    # 2 % of 150 is 3, although 2 * 150 / 100 in floating point is 2.9999999999999996.
    rejected = scores(0.01, 0.01, 150)
    assert advice.suggest_hold(rejected, 2) == 0.04


def test_outcomes_count_below_a_hold_and_at_or_above_a_reject_threshold():
    approved, rejected = [0.1, 0.2, 0.5, 0.6], [0.5, 0.7, 0.9, 0.95]
    hold = advice.outcome("hold", 0.5, approved, rejected)
    assert hold["approved"] == {"count": 2, "share": 0.5}
    assert hold["rejected"] == {"count": 0, "share": 0.0}
    assert hold["text"] == (
        "at 0.50, 50 % of what moderators approved would have been auto-approved and 0 % of what "
        "they rejected"
    )
    reject = advice.outcome("reject", 0.9, approved, rejected, spam=True)
    assert (reject["approved"]["count"], reject["rejected"]["count"]) == (0, 2)
    assert reject["text"].endswith("auto-rejected and 50 % of what they rejected as spam")


@pytest.mark.parametrize(
    ("share", "shown"),
    [(0, "0 %"), (1, "100 %"), (0.91, "91 %"), (0.004, "0.4 %"), (0.0001, "0.1 %"),
     (0.9996, "99.9 %"), (1 / 60, "2 %")],
)  # fmt: skip
def test_percentages_never_round_some_to_none_or_most_to_all(share, shown):
    assert advice.percent(share) == shown


# --- Reading results (seeding: scores/held/decide in helpers.py, `decided` in conftest.py) ---


def thresholds_of(result: dict) -> dict[str, dict]:
    return {item["name"]: item for entry in result["scores"] for item in entry["thresholds"]}


def site_policy_row(key: str = "demo") -> dict:
    db.session.expire_all()
    return dict(db.session.scalar(db.select(Site).where(Site.key == key)).policy or {})


def log_entries(action: str = advice.ACTION) -> list[OperatorAction]:
    db.session.expire_all()
    query = db.select(OperatorAction).where(OperatorAction.action == action)
    return list(db.session.scalars(query.order_by(OperatorAction.id)))


# --- The service ----------------------------------------------------------------------------------


def test_the_advice_on_a_known_set_of_decisions(decided):
    result = advice.threshold_advice("demo")
    assert result["sample"] == {
        "approved": 40,
        "rejected": 32,
        "rejected_as_spam": 12,
        "decided_from": {"held": 72, "approved": 0, "rejected": 0, "pending": 0},
    }
    toxicity, spam = result["scores"]
    assert (toxicity["approved"], toxicity["rejected"], toxicity["enough"]) == (40, 20, True)
    assert (spam["approved"], spam["rejected"], spam["enough"]) == (40, 12, True)
    found = thresholds_of(result)

    hold = found["toxicity_hold"]
    assert (hold["current"], hold["suggested"], hold["change"]) == (0.5, 0.55, True)
    assert hold["at_current"]["text"] == (
        "at 0.50, 75 % of what moderators approved would have been auto-approved and 0 % of what "
        "they rejected"
    )
    # 35 of 40 approvals (0.20 .. 0.54) are below 0.55, and none of the rejections.
    assert hold["at_suggested"]["approved"] == {"count": 35, "share": 0.875}
    assert hold["at_suggested"]["rejected"] == {"count": 0, "share": 0.0}
    assert hold["at_suggested"]["text"].startswith("at 0.55, 88 % of what moderators approved")

    reject = found["toxicity_reject"]
    assert (reject["current"], reject["suggested"]) == (0.9, 0.6)
    assert reject["at_current"]["rejected"] == {"count": 2, "share": 0.1}  # 0.91 and 0.93
    assert reject["at_suggested"]["text"] == (
        "at 0.60, 0 % of what moderators approved would have been auto-rejected and 85 % of what "
        "they rejected"
    )

    # The spam suggestions crossed (hold 0.70 above reject 0.06) and were swapped.
    assert (found["spam_hold"]["suggested"], found["spam_reject"]["suggested"]) == (0.06, 0.7)
    assert "crossed and were swapped" in spam["message"]
    assert found["spam_reject"]["at_suggested"]["text"].endswith(
        "and 100 % of what they rejected as spam"
    )
    assert result["changes"] == {
        "toxicity_hold": {"from": 0.5, "to": 0.55},
        "toxicity_reject": {"from": 0.9, "to": 0.6},
        "spam_hold": {"from": 0.5, "to": 0.06},
        "spam_reject": {"from": 0.9, "to": 0.7},
    }
    assert re.fullmatch(r"[0-9a-f]{16}", result["fingerprint"])


def test_the_advice_is_honest_about_its_sample(decided):
    caveats = " ".join(advice.threshold_advice("demo")["caveats"])
    assert "Moderators mostly decide what the policy holds" in caveats
    assert "of these 72 decisions, 72 were on held comments" in caveats
    assert "not in the sample" in caveats
    assert "rejections with the reason “spam” count for the spam score" in caveats


def test_without_a_reject_suggestion_the_hold_stays_below_the_current_reject(site):
    # Moderators approved comments at the top score itself: no reject threshold spares them.
    decide([held(site, 1.0, 0.05) for _ in range(30)], "approve")
    decide([held(site, 1.0, 0.05) for _ in range(10)], "reject", "abusive")
    found = thresholds_of(advice.threshold_advice("demo"))
    assert found["toxicity_reject"]["suggested"] is None
    assert found["toxicity_reject"]["note"].startswith("no reject threshold auto-rejects")
    assert found["toxicity_hold"]["suggested"] == 0.9  # 1.0 would be above the reject threshold
    assert found["toxicity_hold"]["note"].startswith("lowered from 1.00 to the reject threshold")


def test_tolerances_move_the_suggestions(decided):
    # 10 % of 20 rejections may get through: the two lowest (0.55, 0.57), so hold at 0.59.
    found = thresholds_of(advice.threshold_advice("demo", {"hold_tolerance": 10}))
    assert found["toxicity_hold"]["suggested"] == 0.59
    # 5 % of 40 approvals may be rejected: the two highest (0.58, 0.59), so reject at 0.58.
    found = thresholds_of(advice.threshold_advice("demo", {"reject_tolerance": 5}))
    assert found["toxicity_reject"]["suggested"] == 0.58


def test_too_few_decisions_is_refused_politely(site):
    decide([held(site, 0.1 + i / 100, 0.05) for i in range(12)], "approve")
    decide([held(site, 0.7, 0.05) for _ in range(3)], "reject", "abusive")
    result = advice.threshold_advice("demo")
    toxicity, spam = result["scores"]
    assert toxicity["enough"] is False
    assert toxicity["message"] == (
        "not enough decisions yet: 12 approved, 3 rejected in 90 days (advice needs at least 30 "
        "approved and 10 rejected)"
    )
    assert spam["message"].startswith("not enough decisions yet: 12 approved, 0 rejected as spam")
    assert all(item["suggested"] is None for item in toxicity["thresholds"] + spam["thresholds"])
    assert result["changes"] == {}


def test_only_the_window_counts(decided):
    later = utcnow() + timedelta(days=89)
    assert advice.threshold_advice("demo", now=later)["sample"]["approved"] == 40
    result = advice.threshold_advice("demo", {"days": 30}, now=utcnow() + timedelta(days=31))
    assert result["sample"]["approved"] == 0
    assert result["scores"][0]["message"].startswith("not enough decisions yet: 0 approved")


def test_each_comment_counts_once_with_its_decision_that_stands(app, site, decided, client):
    extra = [held(site, 0.3, 0.05) for _ in range(3)]
    decide(extra, "approve", who="mia")
    # A colleague removes one later: it counts as rejected, once.
    moderation.decide(extra[0], "reject", "approved", "moderator:noa", reason="abusive")
    # An undone decision doesn't count at all.
    moderation.undo(extra[1], "moderator:mia")
    sample = advice.threshold_advice("demo")["sample"]
    assert (sample["approved"], sample["rejected"]) == (40 + 1, 32 + 1)
    assert sample["decided_from"]["approved"] == 1


def test_rejections_by_a_ban_and_unscored_comments_are_left_out(
    site, decided, make_user, api_token, client
):
    token = api_token(make_user("olga", role="operator"))
    make_comment(site, "approved", toxicity=0.05, spam=0.05, key="k-troll-0001")
    response = client.post(
        "/api/v1/admin/bans",
        headers={"Authorization": f"Bearer {token}"},
        json={"site": "demo", "target": "commenter_key", "value": "k-troll-0001",
              "reason": "trolling", "reject_existing": True},
    )  # fmt: skip
    assert response.status_code == 201, response.json
    assert response.json["rejected_count"] == 1
    unscored = make_comment(site, "pending").id
    moderation.decide(unscored, "approve", "pending", "moderator:mia")
    result = advice.threshold_advice("demo")
    assert result["sample"]["rejected"] == 32  # not the ban's rejection
    assert result["sample"]["approved"] == 41  # the unscored approval is a decision...
    assert result["scores"][0]["approved"] == 40  # ...but not evidence about a score


def test_moderators_of_another_site_may_not_read_it(site, decided):
    other = Site(key="other", name="Other")
    db.session.add(other)
    db.session.commit()
    with pytest.raises(ForbiddenError):
        advice.threshold_advice("demo", site_ids={other.id})
    assert advice.threshold_advice("demo", site_ids={site.id})["site"] == "demo"


# --- The admin API ------------------------------------------------------------------------------


@pytest.fixture
def people(site, make_user, api_token):
    """Tokens of olga (operator), mia (moderator of demo) and bob (moderator of another site)."""
    other = Site(key="other", name="Other")
    db.session.add(other)
    db.session.commit()
    return {
        "olga": api_token(make_user("olga", role="operator")),
        "mia": api_token(make_user("mia", sites=[site])),
        "bob": api_token(make_user("bob", sites=[other])),
    }


@pytest.fixture
def call(client, people):
    """call(who, method, path, **kwargs): a request with that person's token (None: nobody)."""

    def request(who: str | None, method: str, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers["Authorization"] = f"Bearer {people[who]}"
        return client.open(path, method=method, headers=headers, **kwargs)

    return request


def test_the_api_gives_the_advice_to_operators_and_the_sites_moderators(call, decided):
    for who in ("olga", "mia"):
        response = call(who, "GET", ADVICE)
        assert response.status_code == 200, response.json
        body = response.json
        assert body["site"] == "demo" and body["days"] == 90
        assert body["since"].endswith("+00:00")
        assert body["changes"]["toxicity_hold"] == {"from": 0.5, "to": 0.55}
        hold = body["scores"][0]["thresholds"][0]
        assert hold["at_suggested"]["text"].startswith("at 0.55, 88 %")
    assert call("olga", "GET", ADVICE + "?days=7&hold_tolerance=10").json["days"] == 7


@pytest.mark.parametrize(
    ("who", "method", "path", "status"),
    [
        (None, "GET", ADVICE, 401),
        (None, "POST", APPLY, 401),
        ("bob", "GET", ADVICE, 403),
        ("bob", "POST", APPLY, 403),
        ("mia", "POST", APPLY, 403),
        ("olga", "GET", f"{API}/nope/threshold-advice", 404),
        ("olga", "POST", f"{API}/nope/threshold-advice/apply", 404),
    ],
)
def test_who_may_read_and_apply(call, decided, who, method, path, status):
    response = call(who, method, path, json={} if method == "POST" else None)
    assert response.status_code == status, response.json
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert site_policy_row() == {}
    assert log_entries() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("days=0", "days"),
        ("days=366", "days"),
        ("days=ninety", "days"),
        ("hold_tolerance=-1", "hold_tolerance"),
        ("reject_tolerance=51", "reject_tolerance"),
        ("reject_tolerance=nan", "reject_tolerance"),
    ],
)
def test_bad_options_are_422_naming_the_field(call, query, field):
    response = call("olga", "GET", f"{ADVICE}?{query}")
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_applying_writes_the_thresholds_and_logs_the_advice(call, decided):
    read = call("olga", "GET", ADVICE).json
    response = call("olga", "POST", APPLY, json={"fingerprint": read["fingerprint"]})
    assert response.status_code == 200, response.json
    assert response.json["applied"] == read["changes"]
    assert response.json["thresholds"] == {
        "toxicity_hold": 0.55,
        "toxicity_reject": 0.6,
        "spam_hold": 0.06,
        "spam_reject": 0.7,
    }
    assert site_policy_row() == response.json["thresholds"]
    (entry,) = log_entries()
    assert entry.actor == "moderator:olga" and entry.subject == "demo"
    assert entry.details["policy.toxicity_hold"] == {"from": None, "to": 0.55}
    figures = entry.details["advice"]
    assert figures["days"] == 90 and figures["fingerprint"] == read["fingerprint"]
    assert figures["sample"] == {"approved": 40, "rejected": 32, "rejected_as_spam": 12}
    assert figures["thresholds"]["toxicity_hold"] == {
        "from": 0.5,
        "to": 0.55,
        "approved": {"count": 35, "share": 0.875},
        "rejected": {"count": 0, "share": 0.0},
    }
    assert entry.details["advice.toxicity_hold"].startswith("at 0.55, 88 % of what moderators")
    assert log_entries("site.update") == []  # one entry, under its own action
    # The advice is now in force: reading it again suggests no change, and applying does nothing.
    again = call("olga", "GET", ADVICE).json
    assert again["changes"] == {}
    response = call("olga", "POST", APPLY, json={"fingerprint": again["fingerprint"]})
    assert (response.status_code, response.json["applied"]) == (200, {})
    assert len(log_entries()) == 1


def test_applied_thresholds_are_the_policy_the_worker_reads(call, decided, site):
    from service.core.sites import site_policy

    call("olga", "POST", APPLY, json={"thresholds": ["toxicity_hold", "toxicity_reject"]})
    db.session.expire_all()
    policy = site_policy(db.session.get(Site, site.id))
    assert (policy.toxicity_hold, policy.toxicity_reject) == (0.55, 0.6)
    assert (policy.spam_hold, policy.spam_reject) == (0.5, 0.9)


def test_a_stale_fingerprint_is_409_and_changes_nothing(call, decided, site):
    read = call("olga", "GET", ADVICE).json
    # Meanwhile moderators reject a low-scored comment: the toxicity hold suggestion moves.
    decide([held(site, 0.21, 0.05)], "reject", "abusive")
    response = call("olga", "POST", APPLY, json={"fingerprint": read["fingerprint"]})
    assert response.status_code == 409, response.json
    assert "fingerprint" in response.json["error"]["fields"]
    assert "changed since you read it" in response.json["error"]["message"]
    assert site_policy_row() == {}
    assert log_entries() == []
    # Without a fingerprint the advice of the moment is applied.
    response = call("olga", "POST", APPLY, json={"thresholds": ["toxicity_hold"]})
    assert response.json["applied"] == {"toxicity_hold": {"from": 0.5, "to": 0.21}}


def test_a_fingerprint_survives_decisions_that_change_no_suggestion(call, decided, site):
    read = call("olga", "GET", ADVICE).json
    decide([held(site, 0.3, 0.05)], "approve")
    response = call("olga", "POST", APPLY, json={"fingerprint": read["fingerprint"]})
    assert response.status_code == 200, response.json
    # The log has the figures of the moment it was applied (41 approvals now).
    assert log_entries()[0].details["advice"]["sample"]["approved"] == 41


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"thresholds": ["toxicity_middle"]}, "thresholds"),
        ({"thresholds": []}, "thresholds"),
        ({"thresholds": "toxicity_hold"}, "thresholds"),
        ({"fingerprint": ""}, "fingerprint"),
        ({"days": 0}, "days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_apply_requests_are_422_naming_the_field(call, body, field):
    response = call("olga", "POST", APPLY, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert site_policy_row() == {}


def test_applying_a_threshold_without_a_suggestion_is_422(call, site):
    decide([held(site, 0.2, 0.05) for _ in range(5)], "approve")
    response = call("olga", "POST", APPLY, json={"thresholds": ["spam_reject"]})
    assert response.status_code == 422
    (message,) = response.json["error"]["fields"]["thresholds"]
    assert message.startswith("There is no suggestion for spam_reject: not enough decisions yet")
    # Asking for nothing in particular applies what there is: nothing.
    response = call("olga", "POST", APPLY)
    assert (response.status_code, response.json["applied"]) == (200, {})


def test_the_sites_own_checks_still_apply(call, decided):
    # With the reject threshold at 0.52, the suggested hold (0.55) alone would be above it.
    patch = call("olga", "PATCH", f"{API}/demo", json={"policy": {"toxicity_reject": 0.52}})
    assert patch.status_code == 200
    response = call("olga", "POST", APPLY, json={"thresholds": ["toxicity_hold"]})
    assert response.status_code == 422
    (message,) = response.json["error"]["fields"]["thresholds"]
    assert "must not be above its reject threshold (0.52)" in message
    assert site_policy_row() == {"toxicity_reject": 0.52}
    assert log_entries() == []


def test_the_console_session_needs_its_csrf_token_to_apply(client, people, login, decided):
    login(client, "olga")
    assert client.get(ADVICE).status_code == 200
    response = client.post(APPLY, json={})
    assert (response.status_code, response.json["error"]["code"]) == (400, "csrf_failed")
    token = csrf_token_of(client.get("/console/sites"))
    response = client.post(APPLY, json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.json
    assert log_entries()[0].actor == "moderator:olga"


def test_the_endpoints_are_in_the_openapi_document_with_bearer_security(client):
    document = client.get("/api/v1/openapi.json").json
    paths = {
        "/api/v1/admin/sites/{key}/threshold-advice": ("get", {"401", "403", "404", "422"}),
        "/api/v1/admin/sites/{key}/threshold-advice/apply": (
            "post",
            {"401", "403", "404", "409", "422"},
        ),
    }
    for path, (method, statuses) in paths.items():
        operation = document["paths"][path][method]
        assert operation["security"] == [{"apiToken": []}]
        assert statuses <= set(operation["responses"])
    body = document["paths"]["/api/v1/admin/sites/{key}/threshold-advice/apply"]["post"]
    assert body["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AdviceApply"
    )
    query = document["paths"]["/api/v1/admin/sites/{key}/threshold-advice"]["get"]["parameters"]
    assert {"days", "hold_tolerance", "reject_tolerance"} <= {item["name"] for item in query}


# --- The command --------------------------------------------------------------------------------


def test_advise_prints_the_advice_in_words(cli, decided):
    result = cli("moderation", "advise", "--site", "demo")
    assert result.exit_code == 0, result.output
    assert "72 decisions: 40 approved, 32 rejected (12 as spam)." in result.output
    assert "Toxicity: 40 approved, 20 rejected in 90 days." in result.output
    assert (
        "suggested  at 0.55, 88 % of what moderators approved would have been auto-approved and "
        "0 % of what they rejected"
    ) in result.output
    assert "Keep in mind:" in result.output
    assert "--apply" in result.output
    assert site_policy_row() == {} and log_entries() == []


def test_advise_apply_sets_the_thresholds_as_the_cli(cli, decided):
    result = cli("moderation", "advise", "--site", "demo", "--apply", "--only", "toxicity_hold")
    assert result.exit_code == 0, result.output
    assert "Applied: toxicity_hold 0.50 → 0.55 (in the operators' log as " in result.output
    assert site_policy_row() == {"toxicity_hold": 0.55}
    (entry,) = log_entries()
    assert entry.actor == "cli"
    result = cli("moderation", "advise", "--site", "demo", "--apply", "--only", "toxicity_hold")
    assert "Nothing to apply: the thresholds already match the advice." in result.output


def test_advise_with_too_few_decisions(cli, site):
    result = cli("moderation", "advise", "--site", "demo", "--days", "30", "--apply")
    assert result.exit_code == 0, result.output
    assert "Toxicity: not enough decisions yet: 0 approved, 0 rejected in 30 days" in result.output
    assert "Nothing to apply: there are not enough decisions" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--site", "nope"], "There is no site 'nope'."),
        (["--site", "demo", "--days", "0"], "--days: Use a number of days from 1 to 365."),
        (["--site", "demo", "--only", "spam_hold"], "--only goes with --apply."),
        (["--site", "demo", "--apply", "--only", "spam_hold"], "There is no suggestion"),
    ],
)
def test_advise_errors(cli, site, args, fragment):
    result = cli("moderation", "advise", *args)
    assert result.exit_code != 0
    assert fragment in result.output


# --- The console ----------------------------------------------------------------------------------


@pytest.fixture
def accounts(site, make_user):
    other = Site(key="other", name="Other")
    db.session.add(other)
    db.session.commit()
    make_user("olga", role="operator")
    make_user("mia", sites=[site])
    make_user("bob", sites=[other])


def test_the_site_page_links_to_the_advice(client, login, accounts):
    login(client, "olga")
    assert f'href="{PAGE}"' in client.get("/console/sites/demo").get_data(as_text=True)


def test_operators_read_the_advice_and_apply_it_in_one_click(client, login, accounts, decided):
    login(client, "olga")
    page = client.get(PAGE)
    assert page.status_code == 200
    shown = text(page)
    assert "72 comments decided by moderators in the last 90 days" in shown
    assert "At 0.55, 88 % of what moderators approved would have been auto-approved" in shown
    assert "Moderators mostly decide what the policy holds" in shown
    form = form_of(page.get_data(as_text=True), f"{PAGE}")
    assert form["thresholds"] == ["toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject"]
    form["thresholds"] = ["toxicity_hold", "toxicity_reject"]  # untick the spam ones
    response = client.post(PAGE, data=form)
    assert response.status_code == 302
    assert site_policy_row() == {"toxicity_hold": 0.55, "toxicity_reject": 0.6}
    (entry,) = log_entries()
    assert entry.actor == "moderator:olga"
    after = text(client.get(response.location))
    assert "Applied: toxicity hold 0.50 → 0.55, toxicity reject 0.90 → 0.60." in after


def test_a_stale_page_shows_the_new_advice_instead_of_applying(
    client, login, accounts, decided, site
):
    login(client, "olga")
    form = form_of(client.get(PAGE).get_data(as_text=True), PAGE)
    decide([held(site, 0.21, 0.05)], "reject", "abusive")
    response = client.post(PAGE, data=form)
    assert response.status_code == 409
    shown = text(response)
    assert "Nothing was applied." in shown and "changed since you read it" in shown
    assert "At 0.21, " in shown  # the advice as it is now
    assert site_policy_row() == {} and log_entries() == []


def test_unticking_everything_applies_nothing(client, login, accounts, decided):
    login(client, "olga")
    form = form_of(client.get(PAGE).get_data(as_text=True), PAGE)
    del form["thresholds"]
    response = client.post(PAGE, data=form)
    assert response.status_code == 422
    assert "Tick the thresholds to change." in text(response)
    assert site_policy_row() == {}


def test_the_form_needs_its_csrf_token(client, login, accounts, decided):
    login(client, "olga")
    form = form_of(client.get(PAGE).get_data(as_text=True), PAGE)
    del form["csrf_token"]
    assert client.post(PAGE, data=form).status_code == 400
    assert site_policy_row() == {}


def test_the_sites_moderators_read_it_without_the_apply_form(client, login, accounts, decided):
    login(client, "mia")
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "At 0.55, 88 %" in text(page)
    assert f'method="post" action="{PAGE}"' not in html
    assert "Only operators can apply the advice" in text(page)
    assert f'href="{PAGE}"' in client.get("/console/summary?site=demo").get_data(as_text=True)
    token = csrf_token_of(page)
    response = client.post(PAGE, data={"csrf_token": token, "thresholds": "toxicity_hold"})
    assert response.status_code == 403
    assert site_policy_row() == {}


def test_moderators_of_another_site_and_strangers_are_kept_out(client, login, accounts):
    assert client.get(PAGE).status_code == 302  # to the login page
    login(client, "bob")
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "You don't moderate this site" in text(response)


def test_bad_options_show_beside_their_field(client, login, accounts, decided):
    login(client, "olga")
    response = client.get(PAGE + "?days=0&hold_tolerance=lots")
    assert response.status_code == 422
    shown = text(response)
    assert "Use a number of days from 1 to 365." in shown
    assert 'id="f-days-error"' in shown and 'id="f-hold-tolerance-error"' in shown
    assert client.get(PAGE + "?days=30").status_code == 200
