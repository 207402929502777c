"""The console's operator pages through the Flask test client: sites, bans and the operators'
log, their permissions, CSRF, errors beside their fields, and the log entries they write."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from service.extensions import db
from service.models import Ban, Comment, OperatorAction, Site, User, UserRole

from .helpers import (
    POLITE,
    ban_form,
    csrf_token_of,
    field_error,
    form_of,
    post_comment,
    row_count,
    status_of,
    submit,
    text,
)

EDIT_FORM = "/console/sites/demo"


def actions(action: str | None = None) -> list[OperatorAction]:
    db.session.expire_all()
    query = db.select(OperatorAction).order_by(OperatorAction.id)
    if action:
        query = query.where(OperatorAction.action == action)
    return list(db.session.scalars(query))


@pytest.fixture
def olga(make_user):
    return make_user("olga", role=UserRole.OPERATOR)


@pytest.fixture
def operator(client, olga, site, login):
    """A test client logged in as the operator olga."""
    login(client, "olga")
    return client


@pytest.fixture
def mia(make_user, site):
    return make_user("mia", sites=["demo"])


@pytest.fixture
def moderator(app, mia, login):
    """A test client logged in as mia, moderator of demo."""
    client = app.test_client()
    login(client, "mia")
    return client


def other_site() -> Site:
    other = Site(key="other", name="Other Times")
    db.session.add(other)
    db.session.commit()
    return other


# ------------------------------------------------------------------------- who sees what


def test_operator_sees_the_operator_pages_and_their_links(operator):
    queue = text(operator.get("/console/queue/held"))
    for link in ("/console/sites", "/console/bans", "/console/log"):
        assert f'href="{link}"' in queue
    for path in ("/console/sites", EDIT_FORM, "/console/bans", "/console/log"):
        response = operator.get(path)
        assert response.status_code == 200, path
        html = text(response)
        # The console's strict CSP holds: no inline script or style anywhere.
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    sites_page = text(operator.get("/console/sites"))
    assert "Demo Daily" in sites_page and f'href="{EDIT_FORM}"' in sites_page


def test_moderator_gets_403_on_sites_and_log_but_works_bans(moderator, site):
    queue = text(moderator.get("/console/queue/held"))
    assert 'href="/console/bans"' in queue
    assert 'href="/console/sites"' not in queue and 'href="/console/log"' not in queue
    for path in ("/console/sites", EDIT_FORM, "/console/log"):
        response = moderator.get(path)
        assert response.status_code == 403, path
        assert "This page is for operators." in text(response)
    token = csrf_token_of(moderator.get("/console/bans"))
    refused = [
        moderator.post("/console/sites", data={"csrf_token": token, "key": "mine"}),
        moderator.post(EDIT_FORM, data={"csrf_token": token, "name": "Mine now"}),
        moderator.post(f"{EDIT_FORM}/close", data={"csrf_token": token}),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    db.session.expire_all()
    assert db.session.get(Site, site.id).name == "Demo Daily" and not site.is_closed
    assert row_count(Site) == 1 and actions() == []
    assert moderator.get("/console/bans").status_code == 200


def test_the_pages_need_a_login(client, site):
    for path in ("/console/sites", EDIT_FORM, "/console/bans", "/console/log"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/console/login?next=" in response.headers["Location"]


def test_forms_without_a_csrf_token_are_refused(operator, site):
    ban = Ban(
        site_id=site.id,
        target_type="commenter_key",
        target_value="key-00000001",
        target_label="key-00000001",
        reason="test",
        created_by="cli",
    )
    db.session.add(ban)
    db.session.commit()
    posts = {
        "/console/sites": {"key": "forged", "name": "Forged"},
        EDIT_FORM: {"name": "Forged"},
        f"{EDIT_FORM}/close": {},
        "/console/bans": {"target": "email", "value": "x@example.com", "scope": "demo"},
        f"/console/bans/{ban.id}/lift": {},
    }
    for path, data in posts.items():
        response = operator.post(path, data=data)
        assert response.status_code == 400, path
        assert "security token is missing" in text(response)
    db.session.expire_all()
    assert row_count(Site) == 1 and db.session.get(Site, site.id).name == "Demo Daily"
    assert not db.session.get(Site, site.id).is_closed
    assert row_count(Ban) == 1 and db.session.get(Ban, ban.id).lifted_at is None
    assert actions() == []


# ------------------------------------------------------------------------------- sites


def test_operator_creates_a_site_through_the_form(operator, mia):
    token = csrf_token_of(operator.get("/console/sites"))
    response = operator.post(
        "/console/sites",
        data={
            "csrf_token": token,
            "key": "news",
            "name": "The News",
            "allowed_origins": "https://News.Example\r\n\r\nhttp://localhost:8080/\r\n",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/sites/news")
    news = db.session.scalar(db.select(Site).where(Site.key == "news"))
    assert news.name == "The News"
    assert news.allowed_origins == ["https://news.example", "http://localhost:8080"]
    [entry] = actions("site.create")
    assert (entry.actor, entry.subject) == ("moderator:olga", "news")
    page = text(operator.get("/console/sites/news"))
    assert "Site “The News” (news) created." in page
    listing = text(operator.get("/console/sites"))
    assert "https://news.example" in listing and "The News" in listing


def test_create_form_shows_errors_beside_their_fields_and_keeps_the_input(operator):
    token = csrf_token_of(operator.get("/console/sites"))
    data = {
        "csrf_token": token,
        "key": "news",
        "name": "The News",
        "allowed_origins": "news.example/path",
    }
    response = operator.post("/console/sites", data=data)
    assert response.status_code == 422
    html = text(response)
    assert "must start with http:// or https://" in field_error(html, "f-allowed-origins")
    assert field_error(html, "f-key") == ""
    assert 'aria-invalid="true"' in html and "news.example/path</textarea>" in html
    assert 'value="The News"' in html
    assert row_count(Site) == 1 and actions() == []

    taken = operator.post("/console/sites", data={**data, "key": "demo", "allowed_origins": ""})
    assert taken.status_code == 422
    assert "The key 'demo' is taken" in field_error(text(taken), "f-key")
    bad_key = operator.post("/console/sites", data={**data, "key": "No Spaces!"})
    assert "lowercase letters" in field_error(text(bad_key), "f-key")
    assert row_count(Site) == 1 and actions() == []


def test_saving_the_edit_form_unchanged_changes_and_logs_nothing(operator, site):
    page = text(operator.get(EDIT_FORM))
    form = form_of(page, EDIT_FORM)
    # Every setting is on the form, showing the effective (default) policy.
    assert form["policy.toxicity_hold"] == "0.5" and form["policy.mode"] == "post"
    assert form["max_comment_length"] == "5000" and form["language"] == "en"
    response = operator.post(EDIT_FORM, data=form)
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    # Defaults stay unset, so they keep following the configuration.
    assert stored.policy in ({}, None) and stored.rate_limits in ({}, None)
    assert actions() == []


def test_operator_edits_every_setting_through_the_form(operator, site, mia, make_user):
    make_user("noam")
    form = form_of(text(operator.get(EDIT_FORM)), EDIT_FORM)
    form.update(
        {
            "name": "Demo Daily Online",
            "language": "he",
            "allowed_origins": "https://demo.example\nhttps://www.demo.example",
            "min_comment_length": "10",
            "max_comment_length": "2000",
            "auto_close_days": "30",
            "rate_limits.submit": "3/minute;20/hour",
            "policy.mode": "pre",
            "policy.toxicity_hold": "0.4",
            "policy.spam_reject": "0.95",
            "policy.new_commenter_holds": "2",
            "policy.hold_links": "on",
            "policy.velocity_limit": "8",
            "policy.banned_words": "Idiot*\nmoron",
            "policy.suspect_words": "clown*",
            "policy.allowed_domains": "example.org",
            "policy.denied_domains": "spam.example",
            "moderators": ["mia", "noam"],
        }
    )
    response = operator.post(EDIT_FORM, data=form)
    assert response.status_code == 302
    assert "Settings saved." in text(operator.get(EDIT_FORM))
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    assert stored.name == "Demo Daily Online" and stored.language == "he"
    assert stored.allowed_origins == ["https://demo.example", "https://www.demo.example"]
    assert (stored.min_comment_length, stored.max_comment_length) == (10, 2000)
    assert stored.auto_close_days == 30
    assert stored.rate_limits == {"submit": "3/minute;20/hour"}
    assert stored.policy == {
        "mode": "pre",
        "toxicity_hold": 0.4,
        "spam_reject": 0.95,
        "new_commenter_holds": 2,
        "hold_links": True,
        "velocity_limit": 8,
        "banned_words": ["idiot*", "moron"],
        "suspect_words": ["clown*"],
        "allowed_domains": ["example.org"],
        "denied_domains": ["spam.example"],
    }
    moderators = db.session.scalars(db.select(User).where(User.sites.any(Site.id == site.id)))
    assert sorted(user.username for user in moderators) == ["mia", "noam"]
    [update] = actions("site.update")
    assert update.actor == "moderator:olga" and update.subject == "demo"
    assert update.details["policy.toxicity_hold"] == {"from": None, "to": 0.4}
    assert "policy.spam_hold" not in update.details  # untouched settings are not logged
    [staffing] = actions("site.moderators")
    assert staffing.details == {"moderators": {"from": ["mia"], "to": ["mia", "noam"]}}

    # The form shows what is stored; clearing a rate limit puts the default back.
    again = form_of(text(operator.get(EDIT_FORM)), EDIT_FORM)
    assert again["policy.banned_words"] == "idiot*\nmoron"
    assert again["rate_limits.submit"] == "3/minute;20/hour"
    assert again["moderators"] == ["mia", "noam"]
    again["rate_limits.submit"] = ""
    again["moderators"] = "mia"
    assert operator.post(EDIT_FORM, data=again).status_code == 302
    db.session.expire_all()
    assert db.session.get(Site, site.id).rate_limits == {}
    assert db.session.get(User, mia.id).sites[0].key == "demo"
    assert db.session.scalar(db.select(User).where(User.username == "noam")).sites == []


def test_operator_turns_dislikes_on_and_off_on_the_site_page(operator, site):
    form = form_of(text(operator.get(EDIT_FORM)), EDIT_FORM)
    assert "dislikes_enabled" not in form  # unticked by default
    form.update({"dislikes_enabled": "on", "rate_limits.vote": "20/minute"})
    assert operator.post(EDIT_FORM, data=form).status_code == 302
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    assert stored.dislikes_enabled is True and stored.rate_limits == {"vote": "20/minute"}
    [update] = actions("site.update")
    assert update.details["dislikes_enabled"] == {"from": False, "to": True}
    again = form_of(text(operator.get(EDIT_FORM)), EDIT_FORM)
    assert again["dislikes_enabled"] == "on"
    del again["dislikes_enabled"]  # unticking sends nothing
    assert operator.post(EDIT_FORM, data=again).status_code == 302
    db.session.expire_all()
    assert db.session.get(Site, site.id).dislikes_enabled is False


def test_edit_form_shows_each_error_beside_its_field_and_saves_nothing(operator, site):
    form = form_of(text(operator.get(EDIT_FORM)), EDIT_FORM)
    cases = {
        "f-policy-toxicity-hold": ({"policy.toxicity_hold": "1.5"}, "from 0 to 1"),
        "f-policy-spam-hold": ({"policy.spam_hold": "0.95"}, "must not be above its reject"),
        "f-rate-limits-submit": ({"rate_limits.submit": "lots"}, "is not a rate limit"),
        "f-allowed-origins": ({"allowed_origins": "https://ok.example\nnope"}, "'nope'"),
        "f-min-comment-length": ({"min_comment_length": "ten"}, "Enter a whole number."),
        "f-max-comment-length": ({"max_comment_length": "9000"}, "from 1 to 5000"),
        "f-policy-denied-domains": ({"policy.denied_domains": "http://x.example/"}, "host name"),
    }
    for field_id, (change, message) in cases.items():
        response = operator.post(EDIT_FORM, data={**form, **change})
        assert response.status_code == 422, field_id
        html = text(response)
        assert message in field_error(html, field_id), (field_id, field_error(html, field_id))
        assert "Nothing was saved." in html
        # What was typed is shown again, to correct.
        typed = next(iter(change.values())).split("\n")[-1]
        assert typed in html
        others = re.findall(r'<p class="field-error" id="([^"]+)-error">', html)
        assert others == [field_id]
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    assert stored.policy in ({}, None) and stored.allowed_origins in ([], None)
    assert actions() == []


def test_operator_closes_and_reopens_a_site(operator, client, site):
    token = csrf_token_of(operator.get(EDIT_FORM))
    closed = operator.post(f"{EDIT_FORM}/close", data={"csrf_token": token})
    assert closed.status_code == 302 and closed.headers["Location"].endswith(EDIT_FORM)
    page = text(operator.get(EDIT_FORM))
    assert "The site is closed" in page and "Reopen site" in page
    db.session.expire_all()
    assert db.session.get(Site, site.id).is_closed
    assert post_comment(client).status_code == 409
    # Closing twice says so instead of failing.
    operator.post(f"{EDIT_FORM}/close", data={"csrf_token": token})
    assert "already closed" in text(operator.get(EDIT_FORM))

    reopened = operator.post(f"{EDIT_FORM}/reopen", data={"csrf_token": token})
    assert reopened.status_code == 302
    assert "The site is open again." in text(operator.get(EDIT_FORM))
    db.session.expire_all()
    assert not db.session.get(Site, site.id).is_closed
    assert post_comment(client).status_code == 202
    assert [entry.action for entry in actions()] == ["site.close", "site.reopen"]


def test_unknown_site_is_a_404_page(operator):
    assert operator.get("/console/sites/nope").status_code == 404


# -------------------------------------------------------------------------------- bans


def test_operator_adds_and_lifts_a_ban_through_the_forms(operator, client, site):
    until = (date.today() + timedelta(days=7)).isoformat()
    response = operator.post(
        "/console/bans",
        data=ban_form(
            operator,
            target="email",
            value="Jo.Doe+news@gmail.com",
            scope="demo",
            until=until,
            reason="Insults in every thread",
            public_reason="Repeated insults",
        ),
    )
    assert response.status_code == 302
    listing = text(operator.get("/console/bans"))
    [ban] = db.session.scalars(db.select(Ban)).all()
    assert f"Ban #{ban.id} added: j…@gmail.com." in listing
    assert "Jo.Doe" not in listing and "jodoe@gmail.com" not in listing
    assert "Insults in every thread" in listing and "Repeated insults" in listing
    assert ban.target_type.value == "email" and ban.kind.value == "hard"
    assert ban.expires_at.date() == date.today() + timedelta(days=8)  # through that day
    assert ban.created_by == "moderator:olga"
    # The ban applies: the same mailbox, spelled differently, is refused with the public reason.
    refused = post_comment(client, author_email="jodoe@gmail.com")
    assert refused.status_code == 403 and "Repeated insults" in refused.json["error"]["message"]

    token = csrf_token_of(operator.get("/console/bans"))
    lifted = operator.post(f"/console/bans/{ban.id}/lift", data={"csrf_token": token})
    assert lifted.status_code == 302
    page = text(operator.get("/console/bans"))
    assert f"Ban #{ban.id} on j…@gmail.com lifted." in page
    assert f'data-ban="{ban.id}"' not in page  # active bans only, by default
    history = text(operator.get("/console/bans?show=all"))
    assert f'data-ban="{ban.id}"' in history and "lifted by olga" in history
    assert post_comment(client, author_email="jodoe@gmail.com").status_code == 202
    assert [entry.action for entry in actions()] == ["ban.add", "ban.lift"]
    assert all(entry.actor == "moderator:olga" for entry in actions())
    assert "Jo.Doe" not in str(actions()[0].details)

    again = operator.post(f"/console/bans/{ban.id}/lift", data={"csrf_token": token})
    assert "already lifted" in text(operator.get(again.headers["Location"]))


def test_ban_form_rejects_existing_comments_and_shadow_bans(operator, client, site):
    first = submit(client, commenter_key="troll-key-0001")["id"]
    second = submit(client, commenter_key="troll-key-0001", body=POLITE + " Again.")["id"]
    other = submit(client, commenter_key="fine-key-00001")["id"]
    response = operator.post(
        "/console/bans",
        data=ban_form(
            operator,
            target="commenter_key",
            value="troll-key-0001",
            scope="*",
            kind="shadow",
            reason="Spam waves",
            reject_existing="on",
        ),
    )
    assert response.status_code == 302
    assert "2 existing comment(s) rejected." in text(operator.get("/console/bans"))
    assert [status_of(first), status_of(second), status_of(other)] == [
        "rejected",
        "rejected",
        "pending",
    ]
    [ban] = db.session.scalars(db.select(Ban)).all()
    assert ban.site_id is None and ban.kind.value == "shadow" and ban.rejected_count == 2
    # A shadow-banned commenter is accepted (202) and their comment is stored as a shadow.
    accepted = submit(client, commenter_key="troll-key-0001", body=POLITE + " Once more.")
    assert db.session.get(Comment, accepted["id"]).shadow is True
    assert "All sites" in text(operator.get("/console/bans"))


def test_ban_form_shows_errors_beside_their_fields(operator, site):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    cases = {
        "f-reason": ({"reason": ""}, "Say why"),
        "f-value": ({"target": "ip", "value": "999.1.1.1"}, "is not an IP address"),
        "f-until": ({"until": yesterday}, "Must be in the future"),
        "f-public-reason": ({"public_reason": "x" * 301}, "300 characters or fewer"),
    }
    base = {"target": "email", "value": "a@example.com", "scope": "demo", "reason": "Abuse"}
    for field_id, (change, message) in cases.items():
        response = operator.post("/console/bans", data=ban_form(operator, **{**base, **change}))
        assert response.status_code == 422, field_id
        html = text(response)
        assert message in field_error(html, field_id), (field_id, html[-3000:])
        assert "Nothing was saved." in html
    network = operator.post(
        "/console/bans",
        data=ban_form(operator, **{**base, "target": "network", "value": "203.0.0.0/16"}),
    )
    assert "A /16 can't be banned." in field_error(text(network), "f-value")
    # The typed value is kept, and the chosen target still selected.
    assert 'value="203.0.0.0/16"' in text(network)
    assert '<option value="network" selected>' in text(network)
    assert row_count(Ban) == 0 and actions() == []


def test_moderator_bans_only_on_their_sites(moderator, site):
    other = other_site()
    page = text(moderator.get("/console/bans"))
    form = form_of(page, "/console/bans")
    assert form["scope"] == "demo"
    assert 'value="*"' not in page and 'value="other"' not in page  # no "All sites" for them
    base = {**form, "target": "commenter_key", "value": "someone-00001", "reason": "Abuse"}
    everywhere = moderator.post("/console/bans", data={**base, "scope": "*"})
    assert "Only operators can ban from all sites." in field_error(text(everywhere), "f-scope")
    elsewhere = moderator.post("/console/bans", data={**base, "scope": "other"})
    assert "You don't moderate this site." in field_error(text(elsewhere), "f-scope")
    assert row_count(Ban) == 0

    assert moderator.post("/console/bans", data=base).status_code == 302
    [ban] = db.session.scalars(db.select(Ban)).all()
    assert ban.site_id == site.id and ban.created_by == "moderator:mia"

    # All-site bans apply on their sites too: listed, but only operators lift them.
    everywhere_ban = Ban(
        site_id=None,
        target_type="commenter_key",
        target_value="everywhere-01",
        target_label="everywhere-01",
        reason="Operators' ban",
        created_by="cli",
    )
    elsewhere_ban = Ban(
        site_id=other.id,
        target_type="commenter_key",
        target_value="elsewhere-001",
        target_label="elsewhere-001",
        reason="Another site's ban",
        created_by="cli",
    )
    db.session.add_all([everywhere_ban, elsewhere_ban])
    db.session.commit()
    listing = text(moderator.get("/console/bans"))
    assert "everywhere-01" in listing and "elsewhere-001" not in listing
    assert f"/console/bans/{everywhere_ban.id}/lift" not in listing
    assert f"/console/bans/{ban.id}/lift" in listing
    token = csrf_token_of(moderator.get("/console/bans"))
    moderator.post(f"/console/bans/{everywhere_ban.id}/lift", data={"csrf_token": token})
    assert "Only operators can lift a ban on all sites." in text(moderator.get("/console/bans"))
    moderator.post(f"/console/bans/{elsewhere_ban.id}/lift", data={"csrf_token": token})
    assert "You don't moderate this site." in text(moderator.get("/console/bans"))
    db.session.expire_all()
    assert everywhere_ban.lifted_at is None and elsewhere_ban.lifted_at is None


def test_bans_list_filters_by_site(operator, site):
    other = other_site()
    for site_id, key in ((site.id, "demo-ban-0001"), (other.id, "other-ban-001")):
        db.session.add(
            Ban(
                site_id=site_id,
                target_type="commenter_key",
                target_value=key,
                target_label=key,
                reason="r",
                created_by="cli",
            )
        )
    db.session.commit()
    everything = text(operator.get("/console/bans"))
    assert "demo-ban-0001" in everything and "other-ban-001" in everything
    only_other = text(operator.get("/console/bans?site=other"))
    assert "demo-ban-0001" not in only_other and "other-ban-001" in only_other


def test_cards_say_what_a_ban_can_match_and_never_the_values(operator, client, site):
    email = {"author_email": "reader@example.com", "commenter_key": "reader-key-01"}
    with_email = submit(client, **email)["id"]
    without = submit(client)["id"]
    answer = operator.get("/api/v1/moderation/queues/pending")
    cards = {card["id"]: card for card in answer.json["comments"]}
    assert cards[with_email]["ban_targets"] == [
        "commenter_key",
        "email",
        "ip",
        "network",
        "email_domain",
    ]
    assert cards[without]["ban_targets"] == ["ip", "network"]
    assert "reader@example.com" not in answer.get_data(as_text=True)


def test_queue_page_has_the_ban_dialog_with_all_sites_for_operators_only(operator, moderator):
    for client, operators_only in ((operator, True), (moderator, False)):
        html = text(client.get("/console/queue/held"))
        assert "<dialog" in html and "data-ban-dialog" in html
        assert 'for="ban-reason"' in html and 'id="ban-reason"' in html
        assert ('<option value="all">All sites</option>' in html) is operators_only


# ------------------------------------------------------------------------- the operators' log


def test_log_lists_actions_and_filters_by_kind_and_actor(operator, cli, site):
    token = csrf_token_of(operator.get("/console/sites"))
    operator.post("/console/sites", data={"csrf_token": token, "key": "news"})
    operator.post(
        "/console/bans",
        data=ban_form(
            operator, target="network", value="203.0.113.9", scope="demo", reason="Bot farm"
        ),
    )
    result = cli("bans", "add", "--site", "demo", "--email-domain", "spam.example", "--reason", "x")
    assert result.exit_code == 0, result.output
    page = text(operator.get("/console/log"))
    assert page.count("<tr data-action=") == 3
    assert "site.create" in page and "203.0.113.0/24" in page and "spam.example" in page
    bans_only = text(operator.get("/console/log?action=ban."))
    assert bans_only.count("<tr data-action=") == 2 and "site.create" not in bans_only
    from_cli = text(operator.get("/console/log?actor=cli"))
    assert from_cli.count("<tr data-action=") == 1 and "spam.example" in from_cli
    assert '<option value="cli">cli</option>' in page
    assert text(operator.get("/console/log?actor=nobody")).count("<tr data-action=") == 0
