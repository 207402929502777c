"""The console's Webhooks page: endpoints, the delivery log with the last response, Resend; real
receiver, real worker, and axe-core over the page in headless Chromium."""

from __future__ import annotations

import re

import pytest

from service.extensions import db
from service.models import DeliveryStatus, OperatorAction, WebhookDelivery, WebhookEndpoint

from .browser_support import open_console_at, violations
from .helpers import csrf_token_of, decide, make_comment, text
from .webhook_support import Receiver, run_webhook_worker, verify

PAGE = "/console/sites/demo/webhooks"
ALL_EVENTS = [
    "comment.published",
    "comment.rejected",
    "comment.deleted",
    "comment.edited",
    "report.created",
    "ban.created",
]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def operator(client, make_user, site, login):
    make_user("olga", role="operator")
    login(client, "olga")
    return client


def post(client, path: str, **data):
    token = csrf_token_of(client.get(PAGE))
    return client.post(path, data={"csrf_token": token, **data})


def add(client, url: str, events=("comment.published",), allow_private: bool = True):
    data = {"url": url, "events": list(events)}
    if allow_private:
        data["allow_private"] = "1"
    return post(client, PAGE, **data)


def secret_on(page: str) -> str:
    return re.search(r"<code>(whsec_[A-Za-z0-9_-]+)</code>", page).group(1)


def test_the_site_page_links_to_its_webhooks(operator):
    assert PAGE in text(operator.get("/console/sites/demo"))


def test_an_operator_adds_a_webhook_and_sees_its_secret_once(operator, receiver):
    page = operator.get(PAGE)
    assert page.status_code == 200 and "No webhooks" in text(page)
    added = add(operator, receiver.url)
    assert added.status_code == 200
    secret = secret_on(text(added))
    assert "never shown again" in text(added)
    again = text(operator.get(PAGE))
    assert receiver.url in again and secret not in again
    endpoint = db.session.scalar(db.select(WebhookEndpoint))
    assert endpoint.events == ["comment.published"] and endpoint.allow_private
    assert db.session.scalar(db.select(OperatorAction.actor)) == "moderator:olga"


def test_a_private_url_without_consent_is_refused_beside_the_field(operator):
    refused = add(operator, "http://127.0.0.1:9/hook", allow_private=False)
    assert refused.status_code == 422
    page = text(refused)
    assert 'id="f-url-error"' in page and "public addresses only" in page
    assert 'value="http://127.0.0.1:9/hook"' in page  # what was typed stays
    assert db.session.scalar(db.select(db.func.count(WebhookEndpoint.id))) == 0
    neither = post(operator, PAGE, url="gopher://example.com/hook")
    assert neither.status_code == 422
    assert 'id="f-events-error"' in text(neither) and 'id="f-url-error"' in text(neither)


def test_the_log_shows_the_last_response_and_resend_delivers_again(app, operator, site, receiver):
    app.config["WEBHOOK_RETRY_SCHEDULE"] = ()  # one attempt, then failed
    secret = secret_on(text(add(operator, receiver.url, ALL_EVENTS)))
    receiver.status = 500
    receiver.answer = b"<h1>receiver exploded</h1>"
    decide([make_comment(site, "held").id], "approve")
    run_webhook_worker()
    (failed,) = db.session.scalars(db.select(WebhookDelivery)).all()
    assert failed.status == DeliveryStatus.FAILED
    page = operator.get(PAGE).get_data(as_text=True)
    assert "comment.published" in page and "failed · 1 attempt" in page
    assert "HTTP 500" in page
    assert "&lt;h1&gt;receiver exploded&lt;/h1&gt;" in page  # escaped, never markup

    receiver.status = 200
    resent = post(operator, f"/console/sites/demo/webhook-deliveries/{failed.id}/resend")
    assert resent.status_code == 302
    assert f"Delivery {failed.id} queued again" in text(operator.get(PAGE))
    run_webhook_worker()
    assert len(receiver.requests) == 2
    last = receiver.requests[-1]
    assert verify(last["body"], last["headers"]["talkback-signature"], secret)
    page = text(operator.get(PAGE))
    assert f"(resend of {failed.id})" in page and "succeeded · 1 attempt" in page


def test_rotate_pause_and_remove(operator, site, receiver):
    old = secret_on(text(add(operator, receiver.url)))
    webhook_id = db.session.scalar(db.select(WebhookEndpoint.id))
    rotated = post(operator, f"{PAGE}/{webhook_id}/rotate")
    new = secret_on(text(rotated))
    assert new != old and "old secret valid until" in text(rotated)
    assert post(operator, f"{PAGE}/{webhook_id}/active", active="0").status_code == 302
    assert "Paused" in text(operator.get(PAGE))
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, webhook_id).active is False
    assert post(operator, f"{PAGE}/{webhook_id}/delete").status_code == 302
    assert "No webhooks" in text(operator.get(PAGE))
    assert post(operator, f"{PAGE}/{webhook_id}/delete").status_code == 404


def test_moderators_and_strangers_cant_open_the_page(app, make_user, site, login, client):
    assert client.get(PAGE).status_code in (302, 401)
    make_user("mia", sites=[site])
    moderator = app.test_client()
    login(moderator, "mia")
    assert moderator.get(PAGE).status_code == 403
    assert operator_free_post(moderator) == 403


def operator_free_post(client) -> int:
    token = csrf_token_of(client.get("/console/bans"))
    return client.post(PAGE, data={"csrf_token": token, "url": "https://example.com/x"}).status_code


@pytest.mark.browser
def test_the_webhooks_page_passes_axe(app, server, axe_context, make_user, receiver):
    from service.core import webhooks

    make_user("olga", "operator")
    app.config["WEBHOOK_RETRY_SCHEDULE"] = ()
    webhooks.create_endpoint("demo", receiver.url, ALL_EVENTS, actor="cli", allow_private=True)
    receiver.status = 502
    receiver.answer = b"bad gateway"
    site = db.session.scalar(db.select(WebhookEndpoint)).site
    decide([make_comment(site, "held").id], "approve")
    run_webhook_worker()
    page = open_console_at(axe_context, server, "olga", PAGE)
    assert page.get_by_role("button", name=re.compile("Resend delivery")).count() == 1
    assert violations(page) == []
