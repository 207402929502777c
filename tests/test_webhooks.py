"""Signed webhooks against a real HTTP receiver in the test process, with real RQ workers.

The receiver records the raw bodies and headers it gets and can answer 500 or be stopped; the
signatures are checked with the reference check of docs/integrations.md, run from the doc itself.
Time is moved by rewriting next_attempt_at in the database, never by sleeping.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest

from service.core import webhooks
from service.core.bans import add_ban
from service.core.operator_log import list_actions
from service.extensions import db
from service.models import DeliveryStatus, Site, WebhookDelivery, WebhookEndpoint, utcnow
from workers.sweeper import sweep_webhooks

from .helpers import approved, bearer, decide, free_port, make_comment
from .webhook_support import Receiver, run_webhook_worker, verify

ADMIN = "/api/v1/admin/sites/demo/webhooks"
DELIVERIES = "/api/v1/admin/sites/demo/webhook-deliveries"
NEW_TEXT = "Update: the restoration finished this morning, thanks to the crews for the work."


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def deliver(app):
    """Run a real RQ worker on the webhooks queue until it is empty."""
    return run_webhook_worker


@pytest.fixture
def endpoint(site, receiver):
    """An endpoint of the demo site for every event at the local receiver (allowed private)."""
    created, secret = webhooks.create_endpoint(
        "demo", receiver.url, list(webhooks.EVENTS), actor="cli", allow_private=True
    )
    return {"id": created.id, "secret": secret}


@pytest.fixture
def operator(make_user, api_token):
    return bearer(api_token(make_user("olga", role="operator")))


def make_due(endpoint_id: int | None = None) -> None:
    """Pretend the retry delay has passed: every waiting delivery is due now."""
    query = db.update(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    db.session.execute(query.values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def sweep(app) -> int | None:
    app.config["SWEEP_INTERVAL_SECONDS"] = 0.001  # no once-per-interval marker between sweeps
    count = sweep_webhooks()
    time.sleep(0.01)
    return count


def demo() -> Site:
    """The demo site in the current session (workers' runs end the session)."""
    return db.session.scalar(db.select(Site).where(Site.key == "demo"))


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id)))


# --- Signatures ----------------------------------------------------------------------------------


def test_signed_deliveries_verify_with_the_reference_check(site, endpoint, receiver, deliver):
    comment = make_comment(site, "held")
    comment_id, text = comment.id, comment.body_text
    decide([comment_id], "approve")
    deliver()

    assert receiver.events() == ["comment.published"]
    sent = receiver.requests[0]
    body, headers = sent["body"], sent["headers"]
    assert sent["path"] == "/hooks/talkback?source=test"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["talkback-event"] == "comment.published"
    signature = headers["talkback-signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    assert verify(body, signature, endpoint["secret"])
    # A wrong secret, a changed body or an old timestamp fail the same check.
    assert not verify(body, signature, webhooks.new_secret())
    assert not verify(body.replace(b"approved", b"rejected"), signature, endpoint["secret"])
    assert not verify(body, signature, endpoint["secret"], now=time.time() + 301)

    payload = json.loads(body)
    assert payload["type"] == "comment.published" and payload["site"] == "demo"
    assert payload["id"].startswith("evt_") and headers["talkback-event-id"] == payload["id"]
    data = payload["data"]
    assert data["id"] == comment_id and data["status"] == "approved"
    assert data["body_text"] == text
    # No personal data in any form.
    text = body.decode()
    for secret_field in ("email", "ip_hash", "network_hash", "commenter_key", "delete_token"):
        assert secret_field not in text
    (row,) = deliveries()
    assert row.status == DeliveryStatus.SUCCEEDED and row.attempts == 1
    assert row.last_status_code == 200 and row.last_response == "ok"
    assert headers["talkback-delivery"] == str(row.id)
    # The stored body is the exact bytes sent.
    assert row.body.encode() == body


def test_each_event_type_is_delivered(client, site, endpoint, receiver, deliver, run_worker):
    posted = approved(client, run_worker)  # the worker approves: published
    deliver()
    assert receiver.events() == ["comment.published"]

    response = client.patch(
        f"/api/v1/comments/{posted['id']}",
        json={"body": NEW_TEXT},
        headers={"X-Delete-Token": posted["delete_token"]},
    )
    assert response.status_code == 202, response.json
    run_worker()
    reported = client.post(f"/api/v1/comments/{posted['id']}/reports", json={"reason": "spam"})
    assert reported.status_code in (201, 202, 204), reported.json
    held_id = make_comment(demo(), "held").id
    decide([held_id], "reject", "abusive")
    deleted = client.delete(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    )
    assert deleted.status_code == 204
    other_id = make_comment(demo(), "held", key="k" * 32).id
    add_ban(
        actor="operator:olga",
        site_ids=None,
        site_key="demo",
        target="commenter_key",
        comment_id=other_id,
        reason="spam run",
        reject_existing=True,
    )
    deliver()

    assert receiver.events() == [
        "comment.published",
        "comment.edited",
        "report.created",
        "comment.rejected",
        "comment.deleted",
        "comment.rejected",
        "ban.created",
    ]
    payloads = receiver.payloads()
    assert payloads[1]["data"]["body_text"] == NEW_TEXT
    assert payloads[1]["data"]["edited_at"] is not None
    assert payloads[2]["data"]["comment_id"] == posted["id"]
    assert payloads[2]["data"]["reason"] == "spam"
    assert payloads[3]["data"]["id"] == held_id
    assert payloads[4]["data"]["id"] == posted["id"]
    assert payloads[4]["data"]["body_text"] == "" and payloads[4]["data"]["author_name"] == ""
    assert payloads[5]["data"]["id"] == other_id
    ban = payloads[6]["data"]
    assert ban["target"] == "commenter_key" and ban["reason"] == "spam run"
    assert "label" not in ban and "k" * 32 not in json.dumps(payloads)
    for sent in receiver.requests:
        assert verify(sent["body"], sent["headers"]["talkback-signature"], endpoint["secret"])


def test_an_endpoint_gets_only_its_events_and_shadow_comments_are_never_sent(
    site, receiver, deliver
):
    webhooks.create_endpoint(
        "demo", receiver.url, ["comment.rejected"], actor="cli", allow_private=True
    )
    published, rejected, shadow = (make_comment(site, "held") for _ in range(3))
    shadow.shadow = True
    db.session.commit()
    decide([published.id, shadow.id], "approve")
    rejected_id = rejected.id
    decide([rejected_id], "reject", "abusive")
    deliver()
    assert receiver.events() == ["comment.rejected"]
    assert receiver.payloads()[0]["data"]["id"] == rejected_id


# --- A receiver that is down ---------------------------------------------------------------------


def test_a_receiver_down_for_a_while_gets_the_events_later_in_order(
    app, site, endpoint, receiver, deliver
):
    receiver.status = 500
    receiver.answer = b"database is down"
    comments = [make_comment(site, "held").id for _ in range(3)]
    for comment_id in comments:
        decide([comment_id], "approve")
    deliver()
    # The first delivery failed; the two after it waited (no newer event overtakes it).
    assert len(receiver.requests) == 1
    first, second, third = deliveries()
    assert first.status == DeliveryStatus.PENDING and first.attempts == 1
    assert first.last_status_code == 500 and first.last_response == "database is down"
    assert first.next_attempt_at > utcnow() + timedelta(seconds=50)  # 1 minute later
    assert second.attempts == third.attempts == 0

    # Nothing is sent before the retry is due, however often the sweeper runs.
    assert sweep(app) == 0
    deliver()
    assert len(receiver.requests) == 1

    # Still down at the second attempt; then stopped altogether (connection refused).
    make_due()
    assert sweep(app) == 1
    deliver()
    assert len(receiver.requests) == 2
    receiver.stop()
    make_due()
    sweep(app)
    deliver()
    first = deliveries()[0]
    assert first.attempts == 3 and first.last_status_code is None
    assert "refused" in first.last_error.lower() or "connect" in first.last_error.lower()
    assert first.next_attempt_at > utcnow() + timedelta(minutes=29)  # the 30-minute step

    # Back up: everything arrives, oldest first.
    receiver.start()
    receiver.status = 200
    make_due()
    sweep(app)
    deliver()
    ids = [p["data"]["id"] for p in receiver.payloads()]
    assert ids == [comments[0], comments[0], comments[0], comments[1], comments[2]]
    assert [d.status for d in deliveries()] == [DeliveryStatus.SUCCEEDED] * 3


def test_after_the_last_attempt_a_delivery_fails_shows_in_the_log_and_resends(
    app, client, site, endpoint, receiver, deliver, operator
):
    app.config["WEBHOOK_RETRY_SCHEDULE"] = (60, 300)  # three attempts
    receiver.status = 503
    receiver.answer = b"x" * 3000
    comment_id = make_comment(site, "held").id
    decide([comment_id], "approve")
    deliver()
    for _ in range(2):
        make_due()
        sweep(app)
        deliver()
    (failed,) = deliveries()
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == 3
    assert failed.next_attempt_at is None
    assert len(receiver.requests) == 3
    # Every attempt sent the same body, each signed afresh.
    assert len({r["body"] for r in receiver.requests}) == 1

    log = client.get(DELIVERIES, headers=operator)
    assert log.status_code == 200
    (shown,) = log.json["deliveries"]
    assert shown["status"] == "failed" and shown["attempts"] == 3
    assert shown["last_status_code"] == 503 and len(shown["last_response"]) == 1024
    assert shown["payload"]["data"]["id"] == comment_id
    assert client.get(DELIVERIES + "?status=failed", headers=operator).json["deliveries"]
    assert not client.get(DELIVERIES + "?status=pending", headers=operator).json["deliveries"]

    # A later event is no longer held back by the failed one.
    receiver.status = 200
    resent = client.post(f"{DELIVERIES}/{failed.id}/resend", headers=operator)
    assert resent.status_code == 202
    assert resent.json["resent_from"] == failed.id and resent.json["status"] == "pending"
    deliver()
    assert len(receiver.requests) == 4
    assert receiver.requests[3]["body"] == receiver.requests[0]["body"]  # same event, same id
    assert receiver.requests[3]["headers"]["talkback-delivery"] == str(resent.json["id"])
    statuses = {d.id: d.status for d in deliveries()}
    assert statuses == {failed.id: DeliveryStatus.FAILED, resent.json["id"]: "succeeded"}
    assert any(a.action == "webhook.resend" for a in list_actions())
    assert client.post(f"{DELIVERIES}/999999/resend", headers=operator).status_code == 404


# --- The SSRF guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_loopback_and_private_addresses_are_refused_at_registration(client, site, operator, url):
    response = client.post(
        ADMIN, json={"url": url, "events": ["comment.published"]}, headers=operator
    )
    assert response.status_code == 422
    assert "public addresses only" in response.json["error"]["fields"]["url"][0]
    assert db.session.scalar(db.select(db.func.count(WebhookEndpoint.id))) == 0


def test_bad_urls_and_events_are_named(client, site, operator):
    for url in ("ftp://example.com/x", "https://user:pw@example.com/x", "not a url"):
        response = client.post(
            ADMIN, json={"url": url, "events": ["ban.created"]}, headers=operator
        )
        assert response.status_code == 422 and "url" in response.json["error"]["fields"], url
    response = client.post(
        ADMIN, json={"url": "https://example.com/x", "events": ["comment.liked"]}, headers=operator
    )
    assert response.status_code == 422 and "events" in response.json["error"]["fields"]


def test_private_addresses_need_the_operators_consent_also_at_delivery(
    app, client, site, receiver, deliver, operator
):
    created = client.post(
        ADMIN,
        json={"url": receiver.url, "events": ["comment.published"], "allow_private": True},
        headers=operator,
    )
    assert created.status_code == 201, created.json
    # The URL was allowed when registered; by delivery time it is not (as when a public name's
    # DNS changes to a private address): checked again before connecting, nothing is sent.
    db.session.execute(db.update(WebhookEndpoint).values(allow_private=False))
    db.session.commit()
    comment = make_comment(site, "held")
    decide([comment.id], "approve")
    deliver()
    assert receiver.requests == []
    (row,) = deliveries()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.last_error.startswith("refused:") and "loopback" in row.last_error

    # The global development switch allows it.
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    make_due()
    sweep(app)
    deliver()
    assert receiver.events() == ["comment.published"]
    # Withdrawing an endpoint's consent while its URL is private is refused, naming the URL.
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    db.session.execute(db.update(WebhookEndpoint).values(allow_private=True))
    db.session.commit()
    webhook_id = created.json["id"]
    withdrawn = client.patch(
        f"{ADMIN}/{webhook_id}", json={"allow_private": False}, headers=operator
    )
    assert withdrawn.status_code == 422 and "url" in withdrawn.json["error"]["fields"]


# --- Rotation ------------------------------------------------------------------------------------


def test_secret_rotation_signs_with_both_during_the_overlap_then_only_the_new(
    client, site, endpoint, receiver, deliver, operator
):
    old = endpoint["secret"]
    rotated = client.post(f"{ADMIN}/{endpoint['id']}/rotate", json={}, headers=operator)
    assert rotated.status_code == 200
    new = rotated.json["secret"]
    assert new != old and new.startswith("whsec_") and rotated.json["rotating_until"]
    decide([make_comment(site, "held").id], "approve")
    deliver()
    signature = receiver.requests[0]["headers"]["talkback-signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}", signature)
    body = receiver.requests[0]["body"]
    assert verify(body, signature, new) and verify(body, signature, old)

    # The overlap is over: only the new secret signs.
    db.session.execute(
        db.update(WebhookEndpoint).values(previous_secret_expires_at=utcnow() - timedelta(1))
    )
    db.session.commit()
    decide([make_comment(demo(), "held").id], "approve")
    deliver()
    signature = receiver.requests[1]["headers"]["talkback-signature"]
    body = receiver.requests[1]["body"]
    assert signature.count("v1=") == 1
    assert verify(body, signature, new) and not verify(body, signature, old)
    listed = client.get(ADMIN, headers=operator).json["webhooks"]
    assert listed[0]["rotating_until"] is None and "secret" not in listed[0]
    assert [a.action for a in list_actions(action_prefix="webhook")] == [
        "webhook.rotate",
        "webhook.add",
    ]


# --- The outbox ----------------------------------------------------------------------------------


def test_nothing_is_lost_when_redis_is_down_at_the_time_of_the_event(
    app, app_factory, site, endpoint, receiver, deliver
):
    comment = make_comment(site, "held")
    down = app_factory(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_SOCKET_TIMEOUT=0.2)
    with down.app_context():
        decide([comment.id], "approve")  # commits; queueing the job fails (logged)
        db.session.remove()
    assert len(webhooks.webhook_queue()) == 0
    (row,) = deliveries()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    deliver()
    assert receiver.requests == []

    # Redis is back: the sweeper finds the due delivery and queues its endpoint.
    assert sweep(app) == 1
    deliver()
    assert receiver.events() == ["comment.published"]
    assert deliveries()[0].status == DeliveryStatus.SUCCEEDED


def test_an_event_rolled_back_with_its_change_is_never_sent(site, endpoint, receiver, deliver):
    comment = make_comment(site, "held")
    webhooks.emit_comment("comment.published", comment)
    db.session.rollback()
    deliver()
    assert deliveries() == [] and receiver.requests == []


# --- Managing endpoints --------------------------------------------------------------------------


def test_operators_manage_endpoints_through_the_admin_api(
    app, client, site, receiver, operator, make_user, api_token
):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    created = client.post(
        ADMIN, json={"url": receiver.url, "events": ["ban.created"]}, headers=operator
    )
    assert created.status_code == 201
    webhook = created.json
    assert webhook["secret"].startswith("whsec_") and webhook["events"] == ["ban.created"]
    listed = client.get(ADMIN, headers=operator).json["webhooks"]
    assert [w["id"] for w in listed] == [webhook["id"]] and "secret" not in listed[0]
    stored = db.session.get(WebhookEndpoint, webhook["id"])
    assert webhook["secret"] not in stored.secret_encrypted  # encrypted at rest

    changed = client.patch(
        f"{ADMIN}/{webhook['id']}",
        json={"events": ["comment.published", "ban.created"], "active": False},
        headers=operator,
    )
    assert changed.status_code == 200
    assert changed.json["events"] == ["comment.published", "ban.created"]
    assert changed.json["active"] is False
    assert client.get(f"{ADMIN}/{webhook['id']}", headers=operator).json["active"] is False
    assert (
        client.patch(f"{ADMIN}/{webhook['id']}", json={"color": 1}, headers=operator).status_code
        == 422
    )

    moderator = bearer(api_token(make_user("mia", sites=[site])))
    assert client.get(ADMIN, headers=moderator).status_code == 403
    assert client.get(ADMIN).status_code == 401
    assert client.get("/api/v1/admin/sites/nope/webhooks", headers=operator).status_code == 404
    assert client.get(f"{ADMIN}/424242", headers=operator).status_code == 404

    assert client.delete(f"{ADMIN}/{webhook['id']}", headers=operator).status_code == 204
    assert client.get(ADMIN, headers=operator).json["webhooks"] == []
    actions = [a.action for a in list_actions(action_prefix="webhook")]
    assert actions == ["webhook.remove", "webhook.update", "webhook.add"]
    assert all(a.actor == "moderator:olga" for a in list_actions(action_prefix="webhook"))


def test_a_paused_endpoint_gets_no_events_while_paused(
    app, client, site, endpoint, receiver, deliver, operator
):
    paused = client.patch(f"{ADMIN}/{endpoint['id']}", json={"active": False}, headers=operator)
    assert paused.status_code == 200
    decide([make_comment(site, "held").id], "approve")
    deliver()
    assert receiver.requests == []  # not subscribed while paused: no delivery recorded
    assert deliveries() == []


def test_the_cli_manages_webhooks_and_their_deliveries(app, cli, site, receiver, deliver):
    added = cli("webhooks", "add", "demo", "http://127.0.0.1:9/x")
    assert added.exit_code != 0 and "public addresses only" in added.output
    added = cli(
        "webhooks", "add", "demo", receiver.url, "--event", "comment.published", "--allow-private"
    )
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    webhook_id = db.session.scalar(db.select(WebhookEndpoint.id))
    listed = cli("webhooks", "list", "demo")
    assert receiver.url in listed.output and "comment.published" in listed.output
    assert secret not in listed.output

    decide([make_comment(demo(), "held").id], "approve")
    deliver()
    assert verify(
        receiver.requests[0]["body"], receiver.requests[0]["headers"]["talkback-signature"], secret
    )
    log = cli("webhooks", "deliveries", "demo")
    assert "comment.published" in log.output and "succeeded" in log.output
    delivery_id = deliveries()[0].id
    resent = cli("webhooks", "resend", "demo", str(delivery_id))
    assert resent.exit_code == 0 and f"a resend of {delivery_id}" in resent.output
    deliver()
    assert len(receiver.requests) == 2

    rotated = cli("webhooks", "rotate", "demo", str(webhook_id))
    assert rotated.exit_code == 0 and rotated.output.strip().splitlines()[-1] != secret
    updated = cli("webhooks", "update", "demo", str(webhook_id), "--paused")
    assert updated.exit_code == 0
    assert db.session.get(WebhookEndpoint, webhook_id).active is False
    removed = cli("webhooks", "remove", "demo", str(webhook_id))
    assert removed.exit_code == 0
    assert cli("webhooks", "list", "demo").output.startswith("Site 'demo' has no webhooks.")
    assert cli("webhooks", "remove", "demo", str(webhook_id)).exit_code != 0
    assert [a.actor for a in list_actions(action_prefix="webhook")] == ["cli"] * 5


def test_erasing_a_commenter_tells_receivers_their_published_comments_are_deleted(
    site, endpoint, receiver, deliver
):
    from service.core.privacy import erase

    published = make_comment(site, "approved", key="erase-me-1234").id
    make_comment(demo(), "held", key="erase-me-1234")  # never published: nothing to tell
    deliver()
    assert receiver.events() == ["comment.published"]
    erase("erase-me-1234")
    deliver()
    assert receiver.events() == ["comment.published", "comment.deleted"]
    data = receiver.payloads()[1]["data"]
    assert data["id"] == published and data["status"] == "deleted"
    assert data["body_text"] == data["author_name"] == "" and data["reasons"] == []


def test_a_redirect_is_a_failure_and_is_not_followed(site, endpoint, receiver, deliver):
    receiver.status = 307  # the Location-less answer is enough: nothing may follow it
    decide([make_comment(site, "held").id], "approve")
    deliver()
    assert len(receiver.requests) == 1
    (row,) = deliveries()
    assert row.status == DeliveryStatus.PENDING and row.last_status_code == 307


def test_https_connects_to_the_checked_address_and_still_verifies_the_host_name(
    site, tmp_path, monkeypatch, deliver
):
    from .webhook_support import TlsReceiver, self_signed_certificate

    trusted, key = self_signed_certificate(tmp_path, "localhost")
    other, other_key = self_signed_certificate(tmp_path, "elsewhere.test")
    # The receivers' certificates are the only ones this process trusts (OpenSSL's variable).
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(Path(trusted).read_text() + Path(other).read_text())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    good, wrong_name = TlsReceiver(trusted, key), TlsReceiver(other, other_key)
    for receiver in (good, wrong_name):
        receiver.start()
    try:
        for receiver in (good, wrong_name):
            webhooks.create_endpoint(
                "demo", receiver.url, ["comment.published"], actor="cli", allow_private=True
            )
        decide([make_comment(site, "held").id], "approve")
        deliver()
        # Connected to 127.0.0.1 (the address checked), verified as "localhost" (the URL's).
        assert good.events() == ["comment.published"]
        assert wrong_name.requests == []
        by_endpoint = {d.endpoint_id: d for d in deliveries()}
        statuses = sorted(d.status.value for d in by_endpoint.values())
        assert statuses == ["pending", "succeeded"]
        refused = next(d for d in by_endpoint.values() if d.status == DeliveryStatus.PENDING)
        assert "certificate" in refused.last_error.lower() or "ssl" in refused.last_error.lower()
    finally:
        for receiver in (good, wrong_name):
            receiver.stop()
