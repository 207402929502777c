"""Sign-in with the publisher's login (SSO): keys, tokens, sessions, and what a signed-in reader
can do (issue 15, item 1). Real Redis (jti replay), real database, real RQ worker."""

from __future__ import annotations

import base64
import json
import secrets
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.core import privacy, sso
from service.extensions import db
from service.models import Comment, OperatorAction, Site, SsoKey

from .helpers import POLITE, comments_url, status_of

SESSION_URL = "/api/v1/sites/demo/session"
SECRET = "s3cret-" + "x" * 40


def now() -> int:
    return int(time.time())


def claims(**extra) -> dict:
    """The claims of a good token, with changes (a value of None leaves the claim out)."""
    base = {
        "sub": "u-42",
        "name": "Noa Levi",
        "email": "noa@example.com",
        "badges": ["subscriber"],
        "iat": now(),
        "exp": now() + 300,
        "jti": secrets.token_urlsafe(12),
    }
    base.update(extra)
    return {name: value for name, value in base.items() if value is not None}


def hs_token(secret: str = SECRET, kid: str | None = "k1", **extra) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims(**extra), secret, algorithm="HS256", headers=headers)


@pytest.fixture
def hs_key(site):
    """The demo site trusts HS256 tokens signed with SECRET under kid k1."""
    sso.add_key("demo", "HS256", actor="test", kid="k1", secret=SECRET)
    return SECRET


def exchange(client, token: str):
    return client.post(SESSION_URL, json={"token": token})


def signed_in(client, **extra) -> dict:
    """Exchange a good token and return the session answer."""
    response = exchange(client, hs_token(**extra))
    assert response.status_code == 200, response.json
    return response.json


def auth(session: str) -> dict:
    return {"Authorization": f"Bearer {session}"}


def refused(client, token: str, fragment: str) -> dict:
    """Assert the token is refused with a 401 whose message contains the fragment."""
    response = exchange(client, token)
    assert response.status_code == 401, response.json
    assert fragment in response.json["error"]["message"], response.json["error"]["message"]
    return response.json


# --- Keys ------------------------------------------------------------------------------------


def test_hs256_secret_is_stored_encrypted_and_never_listed(client, hs_key):
    key = db.session.query(SsoKey).one()
    assert SECRET not in (key.secret_encrypted or "")
    assert key.public_key is None
    listed = sso.key_dict(key)
    assert "secret" not in listed and SECRET not in json.dumps(listed, default=str)
    assert db.session.query(OperatorAction).filter_by(action="sso.key.add").count() == 1


def test_generated_secret_is_shown_once_and_verifies(client, site):
    _, secret = sso.add_key("demo", "HS256", actor="test", kid="gen")
    assert secret and len(secret) >= 32
    assert signed_in_with(client, secret, "gen")["reader"]["id"] == "u-42"


def signed_in_with(client, secret: str, kid: str) -> dict:
    response = exchange(client, hs_token(secret=secret, kid=kid))
    assert response.status_code == 200, response.json
    return response.json


def test_short_secret_and_bad_pem_are_refused(app, site):
    with pytest.raises(Exception, match="at least 32 bytes"):
        sso.add_key("demo", "HS256", actor="test", secret="short")
    with pytest.raises(Exception, match="not a PEM public key"):
        sso.add_key("demo", "RS256", actor="test", public_key="-----BEGIN PUBLIC KEY-----\nx")


# --- Exchanging a token for a session ---------------------------------------------------------


def test_good_token_gives_a_session_bound_to_the_site(client, hs_key):
    answer = signed_in(client)
    assert answer["reader"] == {"id": "u-42", "name": "Noa Levi", "badges": ["subscriber"]}
    assert answer["expires_at"].endswith("+00:00")
    # The session is our own token: the publisher's secret does not verify it.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(answer["session"], SECRET, algorithms=["HS256"], audience="talkback:site:demo")


def test_site_without_keys_refuses_tokens(client, site):
    refused(client, hs_token(), "This site does not accept sign-in tokens")


def test_bad_signature(client, hs_key):
    refused(client, hs_token(secret="another-secret-" + "y" * 40), "signature does not match")


def test_wrong_key_without_kid(client, hs_key):
    refused(client, hs_token(secret="another-secret-" + "y" * 40, kid=None), "does not match")


def test_unknown_kid(client, hs_key):
    refused(client, hs_token(kid="nope"), "names a key ('nope') this site doesn't have")


def test_expired(client, hs_key):
    refused(client, hs_token(iat=now() - 600, exp=now() - 120), "has expired")


def test_expired_within_leeway_is_accepted(client, hs_key):
    signed_in(client, iat=now() - 600, exp=now() - 30)  # leeway 60 s


def test_not_yet_valid_nbf(client, hs_key):
    refused(client, hs_token(nbf=now() + 600), "not valid yet")


def test_iat_in_the_future_beyond_leeway(client, hs_key):
    refused(client, hs_token(iat=now() + 600, exp=now() + 900), "not valid yet")


def test_iat_in_the_future_within_leeway_is_accepted(client, hs_key):
    signed_in(client, iat=now() + 30, nbf=now() + 30)


def test_iat_too_old(client, hs_key):
    refused(client, hs_token(iat=now() - 2 * 86400, exp=now() + 300), "issued too long ago")


def test_replayed_jti(client, hs_key):
    token = hs_token(jti="once")
    assert exchange(client, token).status_code == 200
    refused(client, token, "already used")
    # Another token with the same jti is a replay too.
    refused(client, hs_token(jti="once"), "already used")


@pytest.mark.parametrize("claim", ["sub", "jti", "iat", "exp", "name"])
def test_missing_claims(client, hs_key, claim):
    refused(client, hs_token(**{claim: None}), f"has no '{claim}' claim")


def test_bad_badges_and_email(client, hs_key):
    refused(client, hs_token(badges="staff"), "'badges' claim must be a list")
    refused(client, hs_token(badges=["x" * 40]), "'badges' claim must be a list")
    refused(client, hs_token(email="not-an-email"), "'email' claim is not an email")


def _unsigned(payload: dict, alg: str = "none", kid: str | None = None) -> str:
    header = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_alg_none_is_refused(client, hs_key):
    refused(client, _unsigned(claims()), "algorithm 'none' is not accepted")
    refused(client, _unsigned(claims(), kid="k1"), "says algorithm 'none' but its key 'k1'")


def test_not_a_jwt(client, hs_key):
    refused(client, "garbage", "not a JWT")


def _rsa():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, pem.decode()


def test_rs256_and_es256_keys_verify(client, site):
    private, pem = _rsa()
    sso.add_key("demo", "RS256", actor="test", kid="rsa", public_key=pem)
    token = jwt.encode(claims(), private, algorithm="RS256", headers={"kid": "rsa"})
    assert exchange(client, token).status_code == 200
    ec_private = ec.generate_private_key(ec.SECP256R1())
    ec_pem = (
        ec_private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    sso.add_key("demo", "ES256", actor="test", kid="ec", public_key=ec_pem)
    # Without a kid: the site's active ES256 keys are tried.
    assert exchange(client, jwt.encode(claims(), ec_private, algorithm="ES256")).status_code == 200
    with pytest.raises(Exception, match="P-256"):
        sso.add_key("demo", "ES256", actor="test", public_key=pem)


def _confused_token(pem: str, kid: str | None) -> str:
    """An HS256 token whose HMAC secret is the RSA public key's PEM (the classic confusion)."""
    import hashlib
    import hmac

    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}

    def part(data) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims())}"
    signature = hmac.new(pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def test_hs_rs_confusion_is_refused(client, site):
    _, pem = _rsa()
    sso.add_key("demo", "RS256", actor="test", kid="rsa", public_key=pem)
    stored = db.session.query(SsoKey).one().public_key
    refused(client, _confused_token(stored, "rsa"), "says algorithm 'HS256' but its key 'rsa'")
    refused(client, _confused_token(stored, None), "signature does not match")


def test_rotation_old_and_new_verify_until_the_old_is_retired(client, hs_key):
    new_secret = "new-secret-" + "z" * 40
    sso.add_key("demo", "HS256", actor="test", kid="k2", secret=new_secret)
    assert exchange(client, hs_token(kid="k1")).status_code == 200
    assert exchange(client, hs_token(secret=new_secret, kid="k2")).status_code == 200
    # Without a kid both active HS256 keys are tried.
    assert exchange(client, hs_token(kid=None)).status_code == 200
    assert exchange(client, hs_token(secret=new_secret, kid=None)).status_code == 200
    sso.retire_key("demo", "k1", actor="test")
    refused(client, hs_token(kid="k1"), "signed with a retired key ('k1')")
    refused(client, hs_token(kid=None), "signature does not match")
    assert exchange(client, hs_token(secret=new_secret, kid="k2")).status_code == 200


def test_redis_down_answers_503_and_accepts_nothing(app_factory, app, site):
    sso.add_key("demo", "HS256", actor="test", kid="k1", secret=SECRET)
    down = app_factory(REDIS_URL="redis://127.0.0.1:1/0", REDIS_SOCKET_TIMEOUT=0.2)
    with down.app_context():
        response = down.test_client().post(SESSION_URL, json={"token": hs_token()})
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "unavailable"


# --- The signed-in reader ---------------------------------------------------------------------


def test_name_comes_from_the_session_and_cannot_be_spoofed(client, hs_key, run_worker):
    session = signed_in(client)["session"]
    response = client.post(
        comments_url(),
        json={"author_name": "The Editor", "author_email": "boss@example.com", "body": POLITE},
        headers=auth(session),
    )
    assert response.status_code == 202, response.json
    comment = db.session.get(Comment, response.json["id"])
    assert comment.author_name == "Noa Levi"
    assert comment.sso_id == "u-42" and comment.badges == ["subscriber"]
    from service.core.hashing import hash_email

    assert comment.email_hash == hash_email("noa@example.com")
    run_worker()
    thread = client.get(comments_url()).json
    (shown,) = thread["comments"]
    assert shown["author_name"] == "Noa Levi" and shown["badges"] == ["subscriber"]


def test_signed_in_reader_needs_no_name(client, hs_key):
    session = signed_in(client)["session"]
    response = client.post(comments_url(), json={"body": POLITE}, headers=auth(session))
    assert response.status_code == 202, response.json
    # Anonymous readers still need one.
    response = client.post(comments_url(), json={"body": POLITE})
    assert response.status_code == 422 and "author_name" in response.json["error"]["fields"]


def test_bad_or_foreign_session_is_a_401(client, hs_key):
    response = client.post(comments_url(), json={"body": POLITE}, headers=auth("nonsense"))
    assert response.status_code == 401 and response.json["error"]["code"] == "session_expired"
    db.session.add(Site(key="other", name="Other"))
    db.session.commit()
    session = signed_in(client)["session"]
    response = client.post(comments_url(site="other"), json={"body": POLITE}, headers=auth(session))
    assert response.status_code == 401
    assert "another site" in response.json["error"]["message"]


def test_expired_session_is_refused(app, client, hs_key):
    app.config["SSO_SESSION_SECONDS"] = 1
    session = signed_in(client, exp=now() + 1)["session"]
    time.sleep(2.2)
    response = client.post(comments_url(), json={"body": POLITE}, headers=auth(session))
    assert response.status_code == 401 and response.json["error"]["code"] == "session_expired"
    assert "expired" in response.json["error"]["message"]


def test_sign_in_required_policy(client, hs_key):
    db.session.query(Site).filter_by(key="demo").update({"sign_in": "required"})
    db.session.commit()
    response = client.post(comments_url(), json={"author_name": "Dana", "body": POLITE})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "sign_in_required"
    session = signed_in(client)["session"]
    response = client.post(comments_url(), json={"body": POLITE}, headers=auth(session))
    assert response.status_code == 202
    assert client.get(comments_url()).json["site"]["sign_in"] == "required"


def test_links_policy(client, hs_key):
    db.session.query(Site).filter_by(key="demo").update({"sign_in": "links"})
    db.session.commit()
    plain = client.post(comments_url(), json={"author_name": "Dana", "body": POLITE})
    assert plain.status_code == 202
    linked = {"author_name": "Dana", "body": POLITE + " see https://example.com/x"}
    response = client.post(comments_url(), json=linked)
    assert response.status_code == 401 and response.json["error"]["code"] == "sign_in_required"
    assert "link" in response.json["error"]["message"]
    session = signed_in(client)["session"]
    response = client.post(comments_url(), json=linked, headers=auth(session))
    assert response.status_code == 202


def test_sign_in_setting_through_the_admin_api(client, site, make_user, api_token):
    token = api_token(make_user("olga", role="operator"))
    url = "/api/v1/admin/sites/demo"
    response = client.patch(url, json={"sign_in": "links"}, headers=auth(token))
    assert response.status_code == 200 and response.json["sign_in"] == "links"
    response = client.patch(url, json={"sign_in": "maybe"}, headers=auth(token))
    assert response.status_code == 422 and "sign_in" in response.json["error"]["fields"]


def test_own_comment_by_session_without_delete_token(client, hs_key):
    session = signed_in(client)["session"]
    posted = client.post(comments_url(), json={"body": POLITE}, headers=auth(session)).json
    own = f"/api/v1/comments/{posted['id']}"
    shown = client.get(own, headers=auth(session))
    assert shown.status_code == 200 and shown.json["badges"] == ["subscriber"]
    # Another signed-in reader of the same site is not the author.
    other = signed_in(client, sub="u-7", name="Other")["session"]
    assert client.delete(own, headers=auth(other)).status_code == 403
    assert client.delete(own, headers=auth(session)).status_code == 204
    assert status_of(posted["id"]) == "deleted"


def test_ban_by_sso_id_refuses_the_reader(client, hs_key, make_user, api_token):
    token = api_token(make_user("olga", role="operator"))
    body = {"target": "sso_id", "value": "u-42", "site": "demo", "reason": "trolling"}
    response = client.post("/api/v1/admin/bans", json=body, headers=auth(token))
    assert response.status_code == 201, response.json
    session = signed_in(client)["session"]
    response = client.post(comments_url(), json={"body": POLITE}, headers=auth(session))
    assert response.status_code == 403 and response.json["error"]["code"] == "banned"
    # Someone else signed in is not banned.
    other = signed_in(client, sub="u-7", name="Other")["session"]
    assert (
        client.post(comments_url(), json={"body": POLITE}, headers=auth(other)).status_code == 202
    )
    # An SSO id means something on one site only.
    del body["site"]
    response = client.post("/api/v1/admin/bans", json=body, headers=auth(token))
    assert response.status_code == 422 and "site" in response.json["error"]["fields"]


def test_one_click_ban_by_sso_id_covers_the_comments_site(client, hs_key, make_user, api_token):
    token = api_token(make_user("olga", role="operator"))
    session = signed_in(client)["session"]
    posted = client.post(comments_url(), json={"body": POLITE}, headers=auth(session)).json
    body = {"target": "sso_id", "comment_id": posted["id"], "reason": "trolling"}
    response = client.post("/api/v1/admin/bans", json=body, headers=auth(token))
    assert response.status_code == 201, response.json
    assert response.json["site"] == "demo"


def test_privacy_export_and_erase_by_sso_id(client, hs_key):
    session = signed_in(client)["session"]
    posted = client.post(comments_url(), json={"body": POLITE}, headers=auth(session)).json
    client.post(comments_url(), json={"author_name": "Dana", "body": POLITE + " again"})
    data = privacy.export("sso:demo:u-42")
    assert [c["id"] for c in data["comments"]] == [posted["id"]]
    assert data["comments"][0]["sso_id"] == "u-42"
    assert privacy.erase("sso:demo:u-42")["comments"] == 1
    comment = db.session.get(Comment, posted["id"])
    db.session.refresh(comment)
    assert comment.sso_id is None and comment.author_name == "" and comment.badges is None
    with pytest.raises(Exception, match="sso:SITE:SUB"):
        privacy.export("sso:nosite:u-42")


def test_keys_admin_api(client, site, make_user, api_token):
    token = api_token(make_user("olga", role="operator"))
    url = "/api/v1/admin/sites/demo/sso-keys"
    created = client.post(url, json={"algorithm": "HS256", "kid": "k9"}, headers=auth(token))
    assert created.status_code == 201, created.json
    secret = created.json["secret"]
    assert len(secret) >= 32
    listed = client.get(url, headers=auth(token)).json["keys"]
    assert [key["kid"] for key in listed] == ["k9"] and "secret" not in listed[0]
    assert secret not in json.dumps(listed)
    again = client.post(url, json={"algorithm": "HS256", "kid": "k9"}, headers=auth(token))
    assert again.status_code == 409
    bad = client.post(url, json={"algorithm": "RS256", "public_key": "x"}, headers=auth(token))
    assert bad.status_code == 422 and "public_key" in bad.json["error"]["fields"]
    retired = client.post(f"{url}/k9/retire", headers=auth(token))
    assert retired.status_code == 200 and retired.json["active"] is False
    moderator = api_token(make_user("mia", sites=["demo"]))
    assert client.get(url, headers=auth(moderator)).status_code == 403


def test_keys_cli(cli, site, tmp_path):
    result = cli("sso", "add", "demo", "--kid", "cli1")
    assert result.exit_code == 0, result.output
    assert "shown this once" in result.output
    _, pem = _rsa()
    path = tmp_path / "key.pem"
    path.write_text(pem)
    result = cli("sso", "add", "demo", "--algorithm", "RS256", "--public-key-file", str(path))
    assert result.exit_code == 0, result.output
    listed = cli("sso", "list", "demo").output
    assert "cli1  HS256" in listed and "RS256" in listed
    assert cli("sso", "retire", "demo", "cli1").exit_code == 0
    assert "retired" in cli("sso", "list", "demo").output
    result = cli("sites", "set", "demo", "--sign-in", "required")
    assert result.exit_code == 0, result.output
    assert "sign-in: anonymous -> required" in result.output
    result = cli("privacy", "export", "sso:demo:nobody")
    assert result.exit_code == 0, result.output


def test_policy_sees_the_signed_in_identity(client, hs_key, run_worker):
    """The moderation job passes the identity to scoring (ScoringContext.signed_in/sso_id)."""
    from workers.scoring.score import ScoringContext

    assert ScoringContext(signed_in=True, sso_id="u-42").sso_id == "u-42"
    session = signed_in(client)["session"]
    posted = client.post(comments_url(), json={"body": POLITE}, headers=auth(session)).json
    run_worker()
    assert status_of(posted["id"]) == "approved"


def test_cors_preflight_allows_authorization(client, site):
    site.allowed_origins = ["https://news.example"]
    db.session.commit()
    response = client.options(
        SESSION_URL,
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_keys_in_the_console(client, site, make_user, login):
    from .helpers import csrf_token_of

    make_user("olga", role="operator")
    login(client, "olga")
    page = client.get("/console/sites/demo")
    assert "No keys: the site accepts no sign-in tokens." in page.get_data(as_text=True)
    token = csrf_token_of(page)
    added = client.post(
        "/console/sites/demo/sso-keys",
        data={"csrf_token": token, "algorithm": "HS256", "kid": "console-1"},
    )
    text = added.get_data(as_text=True)
    assert added.status_code == 200 and "Copy it now: it is never shown again." in text
    secret = text.split("Copy it now: it is never shown again.")[1].split("<code>")[1]
    secret = secret.split("</code>")[0]
    assert exchange(client, hs_token(secret=secret, kid="console-1")).status_code == 200
    # The secret is never shown again.
    assert secret not in client.get("/console/sites/demo").get_data(as_text=True)
    bad = client.post(
        "/console/sites/demo/sso-keys",
        data={"csrf_token": token, "algorithm": "RS256", "public_key": "nope"},
    )
    assert bad.status_code == 422 and "Paste the key as PEM" in bad.get_data(as_text=True)
    retired = client.post(
        "/console/sites/demo/sso-keys/console-1/retire", data={"csrf_token": token}
    )
    assert retired.status_code == 302
    refused(client, hs_token(secret=secret, kid="console-1"), "retired key")
    saved = client.post(
        "/console/sites/demo",
        data={**_edit_form(client), "csrf_token": token, "sign_in": "required"},
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.query(Site).filter_by(key="demo").one().sign_in == "required"


def _edit_form(client) -> dict:
    from .helpers import form_of

    return form_of(client.get("/console/sites/demo").get_data(as_text=True), "/console/sites/demo")


def test_demo_page_signs_in_a_demo_reader(client, site):
    import re

    plain = client.get("/demo").get_data(as_text=True)
    assert "Sign in as a demo reader" in plain and "data-sso-token" not in plain
    page = client.get("/demo?reader=1").get_data(as_text=True)
    demo_token = re.search(r'data-sso-token="([^"]+)"', page).group(1)
    answer = exchange(client, demo_token)
    assert answer.status_code == 200, answer.json
    assert answer.json["reader"] == {
        "id": "demo-reader-1",
        "name": "Demo Reader",
        "badges": ["subscriber"],
    }
    # The key is added once; later pages sign with it.
    client.get("/demo?reader=1")
    assert db.session.query(SsoKey).count() == 1


def test_moderation_cards_show_the_sso_id_and_badges(client, hs_key, make_user, api_token):
    token = api_token(make_user("olga", role="operator"))
    session = signed_in(client)["session"]
    client.post(comments_url(), json={"body": POLITE}, headers=auth(session))
    client.post(comments_url(), json={"author_name": "Dana", "body": POLITE + " too"})
    cards = client.get("/api/v1/moderation/queues/pending", headers=auth(token)).json["comments"]
    by_name = {card["author_name"]: card for card in cards}
    assert by_name["Noa Levi"]["sso_id"] == "u-42"
    assert by_name["Noa Levi"]["badges"] == ["subscriber"]
    assert "sso_id" in by_name["Noa Levi"]["ban_targets"]
    assert by_name["Dana"]["sso_id"] is None and by_name["Dana"]["badges"] == []


def test_a_spent_jti_is_kept_only_while_the_token_could_be_used(client, hs_key):
    from service.core.queues import redis_connection

    signed_in(client, jti="short", exp=now() + 120)
    signed_in(client, jti="long", exp=now() + 30 * 86400)
    ttls = {
        name.decode(): redis_connection().ttl(name)
        for name in redis_connection().scan_iter(match="talkback:sso:jti:*")
    }
    assert len(ttls) == 2
    assert sorted(ttls.values())[0] <= 120 + 60
    # Refused anyway once older than SSO_MAX_TOKEN_AGE (24 h): not kept for 30 days.
    assert sorted(ttls.values())[1] <= 86400 + 60


def test_ban_by_sso_id_from_the_command_line(cli, client, hs_key):
    result = cli("bans", "add", "--site", "demo", "--sso-id", "u-42", "--reason", "trolling")
    assert result.exit_code == 0, result.output
    assert "hard ban of sso_id u-42 on site demo" in result.output
    session = signed_in(client)["session"]
    response = client.post(comments_url(), json={"body": POLITE}, headers=auth(session))
    assert response.status_code == 403
    result = cli("bans", "add", "--all", "--sso-id", "u-42", "--reason", "trolling")
    assert result.exit_code != 0 and "choose the site" in result.output


def test_signing_out_checks_the_session(client, hs_key):
    session = signed_in(client)["session"]
    assert client.delete(SESSION_URL, headers=auth(session)).status_code == 204
    assert client.delete(SESSION_URL).status_code == 204  # nothing to forget
    response = client.delete(SESSION_URL, headers=auth("forged"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "session_expired"
    assert client.delete("/api/v1/sites/nosuch/session").status_code == 404
