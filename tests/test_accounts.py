"""Accounts: passwords, logins with lockout, sessions, CSRF, API tokens, the CLI and `make run`."""

from __future__ import annotations

import hashlib
import inspect
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from flask import jsonify
from sqlalchemy import select

from service.cli import launch as launcher
from service.core import accounts
from service.extensions import db
from service.models import ApiToken, Site, User, UserRole, utcnow
from service.web import auth

from .helpers import DEFAULT_PASSWORD, csrf_token_of

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record the login slow-down's waits instead of waiting."""
    waits: list[float] = []
    monkeypatch.setattr(accounts, "_sleep", waits.append)
    return waits


@pytest.fixture
def alice(make_user, site) -> User:
    """A moderator of the demo site."""
    return make_user("alice", sites=[site])


def _post_login(client, username: str, password: str, **extra):
    token = csrf_token_of(client.get("/console/login"))
    data = {"csrf_token": token, "username": username, "password": password, **extra}
    return client.post("/console/login", data=data)


def _set_cookie(response) -> str:
    cookies = [v for v in response.headers.getlist("Set-Cookie") if "talkback_session=" in v]
    assert cookies, "no session cookie was set"
    return cookies[-1]


def _account_form_token(client) -> str:
    return csrf_token_of(client.get("/console/account"))


# Passwords


def test_passwords_are_stored_as_argon2id_hashes(alice):
    assert alice.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in alice.password_hash
    stored = db.session.execute(select(User.password_hash)).scalar_one()
    assert stored == alice.password_hash
    assert accounts.authenticate("alice", DEFAULT_PASSWORD).id == alice.id


def test_production_hashes_use_argon2id_with_the_rfc_defaults():
    # The suite's apps hash cheaply (PASSWORD_HASH_COST in conftest); the service's own default,
    # "standard", is argon2-cffi's default.
    default = PasswordHasher()
    assert default.type == Type.ID
    assert default.time_cost >= 2 and default.memory_cost >= 64 * 1024
    assert accounts.PasswordHasher is PasswordHasher
    source = inspect.getsource(accounts)
    assert "_hasher = PasswordHasher()" in source


def test_the_password_hash_cost_is_a_setting_of_the_app(app):
    assert accounts.password_hasher("standard") is accounts._hasher
    assert accounts.hash_password("a password").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    cheap = accounts.password_hasher("t=2, m=2048")
    assert (cheap.time_cost, cheap.memory_cost, cheap.parallelism) == (2, 2048, 4)
    for wrong in ("", "cheap", "t=1,x=2", "t=1,t=2", "m=-5", "t=0", "m=8,p=2"):
        with pytest.raises(ValueError, match="TALKBACK_PASSWORD_HASH_COST"):
            accounts.password_hasher(wrong)


def test_usernames_are_lowercase_and_checked(make_user):
    assert make_user("Bob.Smith").username == "bob.smith"
    assert accounts.find_user("BOB.SMITH") is not None
    with pytest.raises(accounts.UnprocessableError, match="3 to 40 characters"):
        make_user("no spaces")
    with pytest.raises(accounts.ConflictError, match="taken"):
        make_user("bob.smith")
    with pytest.raises(accounts.UnprocessableError, match="at least 8"):
        make_user("carol", password="short")


def test_site_permissions(make_user, site):
    other = Site(key="other", name="Other")
    db.session.add(other)
    db.session.commit()
    moderator = make_user("mod", sites=["demo"])
    operator = make_user("opr", role="operator")
    assert moderator.site_ids() == {site.id}
    assert moderator.can_moderate(site.id) and not moderator.can_moderate(other.id)
    assert operator.is_operator and operator.site_ids() is None and operator.can_moderate(other.id)
    accounts.assign_sites(moderator, [other])
    assert moderator.site_ids() == {other.id}
    with pytest.raises(accounts.NotFoundError, match="no site 'nope'"):
        accounts.assign_sites(moderator, ["nope"])


# Logging in


def test_login_starts_a_session_and_shows_the_account(client, alice, login):
    response = login(client, "alice")
    assert response.headers["Location"] in ("/console/", "/console/account")
    page = client.get("/console/account")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "alice" in text and "demo" in text
    assert '<meta name="csrf-token" content="' in text
    assert db.session.get(User, alice.id).last_login_at is not None


def test_wrong_password_and_unknown_user_get_the_same_message(client, alice, sleeps):
    wrong = _post_login(client, "alice", "not the password")
    unknown = _post_login(client, "nobody", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "don&#39;t match an account" in response.get_data(as_text=True)
    # The username stays in the form, the password does not.
    assert 'value="alice"' in wrong.get_data(as_text=True)
    assert "not the password" not in wrong.get_data(as_text=True)
    assert client.get("/console/account").status_code == 302


def test_five_failures_lock_the_account_for_15_minutes(client, alice, sleeps):
    for _ in range(4):
        assert "match an account" in _post_login(client, "alice", "wrong").get_data(as_text=True)
    fifth = _post_login(client, "alice", "wrong").get_data(as_text=True)
    assert "locked for 15 minutes" in fifth and "Try again after" in fifth
    # Even the right password is refused while locked.
    locked = _post_login(client, "alice", DEFAULT_PASSWORD)
    assert locked.status_code == 200
    assert "locked for 15 minutes" in locked.get_data(as_text=True)
    user = db.session.get(User, alice.id)
    assert user.failed_logins == 5
    assert timedelta(minutes=14) < user.locked_until - utcnow() <= timedelta(minutes=15)


def test_the_lock_runs_out(client, alice, sleeps, login):
    for _ in range(5):
        _post_login(client, "alice", "wrong")
    user = db.session.get(User, alice.id)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    login(client, "alice")
    user = db.session.get(User, alice.id)
    assert user.failed_logins == 0 and user.locked_until is None


def test_failures_beyond_the_third_are_answered_more_slowly(alice, sleeps):
    for _ in range(5):
        with pytest.raises(accounts.AuthenticationError):
            accounts.authenticate("alice", "wrong", "203.0.113.9")
    assert sleeps == [0, 0, 0, 0.5, 1.0]
    assert accounts.slowdown_seconds(20) == 2.0  # capped
    with pytest.raises(accounts.AuthenticationError, match="locked"):
        accounts.authenticate("alice", DEFAULT_PASSWORD)
    assert sleeps[-1] == 2.0


def test_failed_logins_are_logged_without_the_address(alice, sleeps, caplog):
    with pytest.raises(accounts.AuthenticationError):
        accounts.authenticate("alice", "wrong", "203.0.113.9")
    assert "failed login 1 for account 'alice'" in caplog.text
    assert "203.0.113.9" not in caplog.text


def test_a_success_resets_the_failure_count(alice, sleeps):
    for _ in range(3):
        with pytest.raises(accounts.AuthenticationError):
            accounts.authenticate("alice", "wrong")
    accounts.authenticate("alice", DEFAULT_PASSWORD)
    assert db.session.get(User, alice.id).failed_logins == 0


def test_a_deactivated_account_cannot_log_in_and_its_session_ends(client, alice, login):
    login(client, "alice")
    accounts.set_active(alice, False)
    assert client.get("/console/account").status_code == 302
    response = _post_login(client, "alice", DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert "deactivated" in response.get_data(as_text=True)


def test_login_clears_the_old_session(client, alice, login):
    client.get("/console/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        old_csrf = session["csrf_token"]
    login(client, "alice")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != old_csrf
        assert session["user_id"] == alice.id


def test_changing_the_password_logs_out_other_sessions(app, alice, login):
    first, second = app.test_client(), app.test_client()
    login(first, "alice")
    login(second, "alice")
    response = second.post(
        "/console/account/password",
        data={
            "csrf_token": _account_form_token(second),
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a brand new secret",
            "confirm_password": "a brand new secret",
        },
    )
    assert "Password changed" in response.get_data(as_text=True)
    assert second.get("/console/account").status_code == 200
    assert first.get("/console/account").status_code == 302
    assert accounts.authenticate("alice", "a brand new secret").id == alice.id


def test_logout_ends_the_session(client, alice, login):
    login(client, "alice")
    token = _account_form_token(client)
    response = client.post("/console/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")
    assert client.get("/console/account").status_code == 302


def test_console_pages_send_you_to_login_and_back(client, alice, login):
    response = client.get("/console/account?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/login?next=/console/account?x%3D1"
    response = login(client, "alice", next="/console/account?x=1")
    assert response.headers["Location"] == "/console/account?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/console/\r\nLocation: https://evil.example",
        "",
    ],
)
def test_next_never_leaves_the_site(client, alice, login, target):
    location = login(client, "alice", next=target).headers["Location"]
    assert location in ("/console/", "/console/account")


# Cookies, CSRF and headers


def test_session_cookie_flags_over_http(client, alice, login):
    cookie = _set_cookie(login(client, "alice"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Expires=" in cookie  # permanent: 12 hours


def test_session_cookie_is_secure_over_https(app, alice):
    https = app.test_client()
    response = https.get("/console/login", base_url="https://talkback.test")
    token = csrf_token_of(response)
    response = https.post(
        "/console/login",
        base_url="https://talkback.test",
        data={"csrf_token": token, "username": "alice", "password": DEFAULT_PASSWORD},
        headers={"Referer": "https://talkback.test/console/login"},
    )
    assert response.status_code == 302
    cookie = _set_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_can_be_forced_secure(app_factory, migrated, alice):
    secure_app = app_factory(SESSION_COOKIE_SECURE=True)
    response = secure_app.test_client().get("/console/login")
    assert "Secure" in _set_cookie(response)


def test_forms_without_a_csrf_token_are_refused(client, alice, login):
    refused = client.post("/console/login", data={"username": "alice", "password": "x"})
    assert refused.status_code == 400
    assert "security token" in refused.get_data(as_text=True)
    assert refused.headers["Content-Security-Policy"] == CSP
    login(client, "alice")
    assert client.post("/console/logout").status_code == 400
    assert client.post("/console/account/tokens", data={"name": "x"}).status_code == 400
    assert client.post("/console/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/console/account").status_code == 200  # still logged in
    assert db.session.scalar(select(ApiToken)) is None


def test_session_api_calls_need_the_csrf_header(client, alice, login):
    anonymous = client.post("/api/v1/moderation/comments/1/undo")
    assert anonymous.status_code == 401  # no session, nothing to forge: just unauthorized
    login(client, "alice")
    refused = client.post("/api/v1/moderation/comments/1/undo")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    token = _account_form_token(client)
    allowed = client.post("/api/v1/moderation/comments/1/undo", headers={"X-CSRFToken": token})
    assert allowed.status_code != 400


def test_bearer_requests_and_the_public_api_need_no_csrf_token(client, alice, api_token, site):
    token = api_token(alice)
    response = client.post(
        "/api/v1/moderation/comments/1/undo", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code != 400
    public = client.post(
        "/api/v1/sites/demo/articles/a1/comments", json={"author_name": "R", "body": "Hello"}
    )
    assert public.status_code == 202
    assert "Set-Cookie" not in public.headers
    # The read path stays cacheable by CDNs: sessions never touch it.
    thread = client.get("/api/v1/sites/demo/articles/a1/comments")
    assert "Set-Cookie" not in thread.headers and "Cookie" not in thread.headers.get("Vary", "")


@pytest.mark.parametrize("path", ["/console/login", "/console/account"])
def test_console_pages_send_security_headers(client, alice, login, path):
    if path != "/console/login":
        login(client, "alice")
    headers = client.get(path).headers
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_console_pages_have_no_inline_scripts_or_styles(client, alice, login):
    pages = [client.get("/console/login").get_data(as_text=True)]
    login(client, "alice")
    pages.append(client.get("/console/account").get_data(as_text=True))
    for html in pages:
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert "/static/console/console.css" in html


# API tokens


def test_a_new_token_is_shown_once_and_stored_hashed(client, alice, login):
    login(client, "alice")
    response = client.post(
        "/console/account/tokens",
        data={"csrf_token": _account_form_token(client), "name": "triage script"},
    )
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    value = html.split('id="new-token-value" readonly value="')[1].split('"')[0]
    assert value.startswith("tb_") and len(value) == 43
    assert "shown only once" in html
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "triage script"
    assert stored.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert value not in client.get("/console/account").get_data(as_text=True)
    assert accounts.verify_token(value).id == alice.id


def test_a_revoked_token_stops_working(client, alice, login, api_token):
    token = api_token(alice)
    login(client, "alice")
    token_id = db.session.scalar(select(ApiToken.id))
    response = client.post(
        f"/console/account/tokens/{token_id}/revoke",
        data={"csrf_token": _account_form_token(client)},
    )
    assert response.status_code == 302
    assert "Token revoked" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert accounts.verify_token(token) is None
    events = client.get("/api/v1/moderation/events", headers={"Authorization": f"Bearer {token}"})
    assert events.status_code == 401
    assert "not valid" in events.get_json()["error"]["message"]


def test_nobody_revokes_someone_elses_token(client, alice, make_user, api_token, login):
    bob = make_user("bob")
    token = api_token(bob)
    login(client, "alice")
    token_id = db.session.scalar(select(ApiToken.id))
    response = client.post(
        f"/console/account/tokens/{token_id}/revoke",
        data={"csrf_token": _account_form_token(client)},
    )
    assert response.status_code == 404
    assert accounts.verify_token(token).id == bob.id


def test_a_bearer_token_authenticates_api_requests(client, alice, api_token):
    token = api_token(alice)
    response = client.get("/api/v1/moderation/events", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None
    anonymous = client.get("/api/v1/moderation/events")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.get_json()["error"]["code"] == "unauthorized"


def test_current_user_from_token_or_session(app, alice, api_token):
    token = api_token(alice)
    with app.test_request_context("/", headers={"Authorization": f"Bearer {token}"}):
        assert auth.current_user().id == alice.id
        assert auth.auth_method() == "token"
    with app.test_request_context("/", headers={"Authorization": "Bearer tb_wrong"}):
        assert auth.current_user() is None
    with app.test_request_context("/"):
        assert auth.current_user() is None
    with app.test_request_context("/"):
        auth.log_in(alice)
        assert auth.current_user().id == alice.id and auth.auth_method() == "session"


def test_a_deactivated_users_tokens_stop_working(alice, api_token):
    token = api_token(alice)
    accounts.set_active(alice, False)
    assert accounts.verify_token(token) is None
    accounts.set_active(alice, True)
    assert accounts.verify_token(token).id == alice.id


def test_an_invalid_bearer_never_falls_back_to_the_session(client, alice, login):
    login(client, "alice")
    assert client.get("/api/v1/moderation/events").status_code == 200
    response = client.get("/api/v1/moderation/events", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_operator_only_pages(app, make_user, login):
    app.add_url_rule(
        "/console/test-operators",
        "test_operators",
        auth.operator_required(lambda: "operators' page"),
    )
    app.add_url_rule(
        "/test-api-user", "test_api_user", auth.api_user_required(lambda: jsonify(ok=True))
    )
    make_user("mod")
    make_user("root", role=UserRole.OPERATOR)
    moderator, operator = app.test_client(), app.test_client()
    assert moderator.get("/test-api-user").status_code == 401
    assert moderator.get("/console/test-operators").status_code == 302
    login(moderator, "mod")
    login(operator, "root")
    assert moderator.get("/console/test-operators").status_code == 403
    assert operator.get("/console/test-operators").get_data(as_text=True) == "operators' page"
    assert moderator.get("/test-api-user").get_json() == {"ok": True}


# The CLI


def test_cli_creates_accounts(cli, site):
    result = cli("users", "create-admin", "Root", "--password", "a long password")
    assert result.exit_code == 0, result.output
    assert "Created operator 'root' (all sites)." in result.output
    result = cli("users", "create-moderator", "mod", "--site", "demo")
    assert result.exit_code == 0, result.output
    generated = result.output.strip().splitlines()[-1].removeprefix("Password: ")
    assert accounts.authenticate("mod", generated).role == UserRole.MODERATOR
    assert accounts.authenticate("root", "a long password").is_operator
    listing = cli("users", "list").output
    assert "mod\tmoderator\tactive\tdemo" in listing
    assert "root\toperator\tactive\tall sites" in listing


def test_cli_explains_mistakes(cli, site):
    cli("users", "create-admin", "root", "--password", "a long password")
    taken = cli("users", "create-admin", "root", "--password", "a long password")
    assert taken.exit_code == 1 and "The username 'root' is taken." in taken.output
    unknown = cli("users", "create-moderator", "mod", "--site", "nope", "--password", "long enough")
    assert unknown.exit_code == 1 and "There is no site 'nope'." in unknown.output
    short = cli("users", "create-admin", "other", "--password", "short")
    assert "at least 8 characters" in short.output
    assert "There is no account 'ghost'." in cli("users", "create-token", "ghost").output
    assert "There is no API token 99." in cli("users", "revoke-token", "99").output


def test_cli_tokens(cli, client, site):
    cli("users", "create-moderator", "mod", "--site", "demo", "--password", "long enough")
    result = cli("users", "create-token", "mod", "--name", "nightly export")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/moderation/events", headers=headers).status_code == 200
    token_id = db.session.scalar(select(ApiToken.id))
    assert f"tokens {token_id}: nightly export" in cli("users", "list").output
    revoked = cli("users", "revoke-token", str(token_id))
    assert revoked.exit_code == 0 and "is revoked" in revoked.output
    assert client.get("/api/v1/moderation/events", headers=headers).status_code == 401


def test_cli_manages_accounts(cli, site, sleeps):
    cli("users", "create-moderator", "mod", "--site", "demo", "--password", "long enough")
    for _ in range(5):
        with pytest.raises(accounts.AuthenticationError):
            accounts.authenticate("mod", "wrong")
    result = cli("users", "set-password", "mod", "--password", "another password")
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("mod", "another password").username == "mod"  # lock lifted
    assert cli("users", "deactivate", "mod").exit_code == 0
    with pytest.raises(accounts.AuthenticationError, match="deactivated"):
        accounts.authenticate("mod", "another password")
    assert "deactivated" in cli("users", "list").output
    cli("users", "activate", "mod")
    db.session.add(Site(key="b", name="B"))
    db.session.commit()
    assert "'mod' moderates b." in cli("users", "assign", "mod", "--site", "b").output


# make run


def test_make_run_creates_the_admin_once(app, app_factory, monkeypatch):
    monkeypatch.setattr("service.create_app", lambda: app_factory())
    note = launcher.ensure_admin(None)
    password = note.rsplit(" ", 1)[-1]
    assert note.startswith("log in as admin with password ")
    assert accounts.authenticate("admin", password).is_operator
    assert "already exists, password unchanged" in launcher.ensure_admin(None)
    assert accounts.authenticate("admin", password)
    assert "its password is now TALKBACK_ADMIN_PASSWORD" in launcher.ensure_admin("from the env")
    assert accounts.authenticate("admin", "from the env")
