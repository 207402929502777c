"""Signed webhooks: a site's endpoints, the events they get, and the outbox of deliveries.

An event (a comment published, rejected, deleted or edited, a report, a ban) adds one delivery
row per subscribed endpoint in the SAME transaction as the change itself, so nothing is lost
when Redis is down; once the transaction commits, a delivery job per endpoint is queued
(`webhooks` queue), and the sweeper queues it again for deliveries that are due (retries) or
whose job was lost. The job (workers/webhooks.py) sends an endpoint's deliveries oldest first
and stops at the first failure: a receiver that was down gets the events later, in order.

Every body is signed like Stripe's: `Talkback-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`, with a second v1 made with the previous secret while a rotation overlaps.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import and_, event, func, select, update
from sqlalchemy.orm import Session

from service.core import secrets_box
from service.core.operator_log import record_action
from service.core.queues import redis_connection
from service.errors import NotFoundError, UnprocessableError
from service.extensions import db
from service.models import (
    MAX_ID,
    Ban,
    Comment,
    CommentStatus,
    DeliveryStatus,
    Report,
    Site,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)

EVENTS = (
    "comment.published",
    "comment.rejected",
    "comment.deleted",
    "comment.edited",
    "report.created",
    "ban.created",
)
WEBHOOK_QUEUE = "webhooks"
DELIVER_JOB = "workers.webhooks.deliver_endpoint"
SIGNATURE_HEADER = "Talkback-Signature"
SECRET_PREFIX = "whsec_"
URL_MAX = 2000
RESPONSE_KEPT = 1024
# A delivery being sent is leased this long: another job for the endpoint waits meanwhile.
LEASE_SECONDS = 120
# Endpoint ids whose deliveries the current transaction added: queued once it commits.
PENDING_ENDPOINTS = "talkback_webhook_endpoints"
# The sweeper queues an endpoint's job at most this often while an earlier one may still wait.
SWEEP_MARKER = "talkback:webhooks:swept:"

log = logging.getLogger(__name__)


class UnsafeAddressError(Exception):
    """A webhook URL's host is (or resolves to) an address the SSRF guard refuses."""


# --- Secrets -----------------------------------------------------------------------------------


def _encrypt(secret: str) -> str:
    return secrets_box.encrypt(secret, secrets_box.WEBHOOK_SECRETS)


def _decrypt(token: str | None) -> str | None:
    secret = secrets_box.decrypt(token, secrets_box.WEBHOOK_SECRETS)
    if token and secret is None:
        log.error("a webhook secret can't be decrypted (SECRET_KEY changed?): rotate it")
    return secret


def new_secret() -> str:
    """Return a fresh signing secret (shown to the operator once)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """Return the secrets that sign an endpoint's deliveries now: the current one, and the
    previous one while its rotation overlap lasts."""
    now = now or utcnow()
    found = [_decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires is not None and now < expires:
        found.append(_decrypt(endpoint.previous_secret_encrypted))
    return [secret for secret in found if secret]


def sign(body: bytes, secrets_: list[str], timestamp: int) -> str:
    """Return the Talkback-Signature value: t=<timestamp> and one v1 per secret."""
    signed = str(timestamp).encode() + b"." + body
    parts = [f"t={timestamp}"]
    for secret in secrets_:
        digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        parts.append(f"v1={digest}")
    return ",".join(parts)


# --- The SSRF guard ----------------------------------------------------------------------------


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Say why an address is refused, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _refusal(address.ipv4_mapped) or "an IPv4-mapped IPv6 address"
        if address in ipaddress.IPv6Network("fc00::/7"):
            return "a unique local (private) address"
    for name, flag in (
        ("loopback", address.is_loopback),
        ("private", address.is_private),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
    ):
        if flag:
            return f"a {name} address"
    if not address.is_global:
        return "not a public address"
    return None


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve a host and return its addresses, refusing all if any is not public.

    Every address is checked (not just the first): a name that resolves to one public and one
    private address could be answered either way on the next lookup.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeAddressError(f"the host '{host}' does not resolve ({error})") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        why = None if allow_private else _refusal(address)
        if why is not None:
            raise UnsafeAddressError(
                f"'{host}' resolves to {address}, {why}; webhooks go to public addresses only"
            )
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise UnsafeAddressError(f"the host '{host}' has no address")
    return addresses


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the checked addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: list[str]


def parse_url(url: str) -> tuple[str, str, int, str]:
    """Split a webhook URL into scheme, host, port and path (with query); raise ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise ValueError("The URL has no host.")
    if parts.username or parts.password:
        raise ValueError("Leave credentials out of the URL (the signature authenticates us).")
    if parts.fragment:
        raise ValueError("A webhook URL has no #fragment.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError("The URL's port is not valid.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def allows_private(endpoint: WebhookEndpoint) -> bool:
    """Whether this endpoint may get deliveries at private addresses (per endpoint or global)."""
    return bool(endpoint.allow_private or current_app.config["WEBHOOKS_ALLOW_PRIVATE"])


def target(endpoint: WebhookEndpoint) -> Target:
    """Resolve and check an endpoint's URL now (delivery time): DNS may have changed."""
    try:
        scheme, host, port, path = parse_url(endpoint.url)
    except ValueError as error:
        raise UnsafeAddressError(str(error)) from None
    return Target(
        scheme, host, port, path, resolve(host, port, allow_private=allows_private(endpoint))
    )


def _check_url(url: str, allow_private: bool) -> str:
    """Check a URL at registration, or raise 422 naming `url`."""
    url = url.strip()
    try:
        if len(url) > URL_MAX:
            raise ValueError(f"Use at most {URL_MAX} characters.")
        _, host, port, _ = parse_url(url)
        resolve(
            host, port, allow_private=allow_private or current_app.config["WEBHOOKS_ALLOW_PRIVATE"]
        )
    except (ValueError, UnsafeAddressError) as error:
        raise UnprocessableError("The webhook URL can't be used.", {"url": [str(error)]}) from None
    return url


def _checked(*checks):
    """Run every check; raise one 422 naming all the fields that failed, else return results."""
    results, fields = [], {}
    for check in checks:
        try:
            results.append(check())
        except UnprocessableError as error:
            fields.update(error.fields)
    if fields:
        raise UnprocessableError("Please correct: " + ", ".join(sorted(fields)) + ".", fields)
    return results


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        message = "Choose one or more of: " + ", ".join(EVENTS) + "."
        raise UnprocessableError("Unknown or no events.", {"events": [message]})
    return [name for name in EVENTS if name in events]


# --- Endpoints (operators) ---------------------------------------------------------------------


def _site(site_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise NotFoundError(f"There is no site '{site_key}'.")
    return site


def get_endpoint(site_key: str, endpoint_id: int) -> WebhookEndpoint:
    """Return one of a site's endpoints, or 404."""
    site = _site(site_key)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) if 1 <= endpoint_id <= MAX_ID else None
    if endpoint is None or endpoint.site_id != site.id:
        raise NotFoundError(f"Site '{site.key}' has no webhook {endpoint_id}.")
    return endpoint


def list_endpoints(site_key: str) -> list[WebhookEndpoint]:
    """Return a site's endpoints, oldest first."""
    site = _site(site_key)
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.site_id == site.id)
            .order_by(WebhookEndpoint.id)
        )
    )


def create_endpoint(
    site_key: str, url: str, events: list[str], *, actor: str, allow_private: bool = False
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; return it and its signing secret (shown this once)."""
    site = _site(site_key)
    url, events = _checked(lambda: _check_url(url, allow_private), lambda: _check_events(events))
    secret = new_secret()
    endpoint = WebhookEndpoint(
        site_id=site.id,
        url=url,
        events=events,
        secret_encrypted=_encrypt(secret),
        allow_private=allow_private,
        active=True,
        created_by=actor,
    )
    db.session.add(endpoint)
    db.session.flush()
    record_action(
        actor,
        "webhook.add",
        f"site {site.key}",
        {"webhook": endpoint.id, "url": url, "events": events, "allow_private": allow_private},
    )
    db.session.commit()
    return endpoint, secret


def update_endpoint(
    site_key: str,
    endpoint_id: int,
    *,
    actor: str,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    allow_private: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL, events, active flag or private-address consent."""
    endpoint = get_endpoint(site_key, endpoint_id)
    changes = {}
    if allow_private is not None and allow_private != endpoint.allow_private:
        changes["allow_private"] = [endpoint.allow_private, allow_private]
        endpoint.allow_private = allow_private
    if url is not None:
        url = _check_url(url, endpoint.allow_private)
        if url != endpoint.url:
            changes["url"] = [endpoint.url, url]
            endpoint.url = url
    elif "allow_private" in changes and not endpoint.allow_private:
        # Withdrawing consent must not leave a private URL behind.
        _check_url(endpoint.url, False)
    if events is not None:
        events = _check_events(events)
        if events != endpoint.events:
            changes["events"] = [endpoint.events, events]
            endpoint.events = events
    if active is not None and active != endpoint.active:
        changes["active"] = [endpoint.active, active]
        endpoint.active = active
    if changes:
        record_action(
            actor, "webhook.update", f"site {site_key}", {"webhook": endpoint.id, **changes}
        )
        db.session.commit()
        if endpoint.active:
            enqueue_endpoint(endpoint.id)
    return endpoint


def rotate_secret(
    site_key: str, endpoint_id: int, *, actor: str, overlap_hours: float | None = None
) -> tuple[WebhookEndpoint, str]:
    """Give an endpoint a new secret; the old one keeps signing too for the overlap period."""
    endpoint = get_endpoint(site_key, endpoint_id)
    hours = current_app.config["WEBHOOK_ROTATION_HOURS"] if overlap_hours is None else overlap_hours
    secret = new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = utcnow() + timedelta(hours=hours)
    endpoint.secret_encrypted = _encrypt(secret)
    record_action(
        actor,
        "webhook.rotate",
        f"site {site_key}",
        {
            "webhook": endpoint.id,
            "previous_valid_until": endpoint.previous_secret_expires_at.isoformat() + "Z",
        },
    )
    db.session.commit()
    return endpoint, secret


def delete_endpoint(site_key: str, endpoint_id: int, *, actor: str) -> None:
    """Remove an endpoint and its delivery log."""
    endpoint = get_endpoint(site_key, endpoint_id)
    db.session.execute(
        WebhookDelivery.__table__.delete().where(WebhookDelivery.endpoint_id == endpoint.id)
    )
    db.session.delete(endpoint)
    record_action(
        actor, "webhook.remove", f"site {site_key}", {"webhook": endpoint_id, "url": endpoint.url}
    )
    db.session.commit()


def endpoint_dict(endpoint: WebhookEndpoint) -> dict:
    """Return an endpoint as lists show it: never a secret."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "allow_private": endpoint.allow_private,
        "rotating_until": endpoint.previous_secret_expires_at
        if endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > utcnow()
        else None,
        "created_by": endpoint.created_by,
        "created_at": endpoint.created_at,
    }


# --- Deliveries (the log) ----------------------------------------------------------------------


def list_deliveries(
    site_key: str, *, endpoint_id: int | None = None, status: str | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    """Return a site's deliveries, newest first (optionally one endpoint's, or one status)."""
    site = _site(site_key)
    query = (
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(WebhookEndpoint.site_id == site.id)
    )
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == DeliveryStatus(status))
    return list(db.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def delivery_dict(delivery: WebhookDelivery) -> dict:
    """Return a delivery as the log shows it."""
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event": delivery.event,
        "event_id": delivery.event_id,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at
        if delivery.status == DeliveryStatus.PENDING
        else None,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "last_response": delivery.last_response,
        "resent_from": delivery.resent_from,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "payload": json.loads(delivery.body),
    }


def resend(site_key: str, delivery_id: int, *, actor: str) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same event id and body.

    It goes at the end of the endpoint's line (receivers dedupe on the event id).
    """
    site = _site(site_key)
    original = db.session.get(WebhookDelivery, delivery_id) if 1 <= delivery_id <= MAX_ID else None
    if original is None or original.endpoint.site_id != site.id:
        raise NotFoundError(f"Site '{site.key}' has no webhook delivery {delivery_id}.")
    copy = WebhookDelivery(
        endpoint_id=original.endpoint_id,
        event=original.event,
        event_id=original.event_id,
        body=original.body,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        resent_from=original.id,
    )
    db.session.add(copy)
    db.session.flush()
    record_action(
        actor,
        "webhook.resend",
        f"site {site.key}",
        {"webhook": original.endpoint_id, "delivery": original.id, "new_delivery": copy.id},
    )
    _after_commit_enqueue(db.session, [original.endpoint_id])
    db.session.commit()
    return copy


# --- Events (the outbox) -----------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def comment_data(comment: Comment, site_key: str) -> dict:
    """A comment as the moderation API shows it, without personal data (no hashes, no keys)."""
    article = comment.article
    return {
        "id": comment.id,
        "site": site_key,
        "article_id": article.external_id,
        "article_url": article.url,
        "article_title": article.title,
        "parent_id": comment.parent_id,
        "root_id": comment.root_id,
        "status": comment.status.value,
        "author_name": comment.author_name,
        "signed_in": comment.sso_id is not None,
        "badges": list(comment.badges or []),
        "title": comment.title,
        "body_html": comment.body_html,
        "body_text": comment.body_text,
        "reasons": list(comment.reasons or []),
        "created_at": _iso(comment.created_at),
        "decided_at": _iso(comment.decided_at),
        "edited_at": _iso(comment.edited_at),
    }


def report_data(report: Report) -> dict:
    """A reader's report as moderators see it (never the reporter's key or address hash)."""
    return {
        "id": report.id,
        "comment_id": report.comment_id,
        "reason": report.reason.value,
        "note": report.note,
        "created_at": _iso(report.created_at),
    }


def ban_data(ban: Ban, site_key: str | None) -> dict:
    """A ban without its target's value or label (those are personal data)."""
    return {
        "id": ban.id,
        "site": site_key,
        "target": ban.target_type.value,
        "kind": ban.kind.value,
        "reason": ban.reason,
        "public_reason": ban.public_reason,
        "until": _iso(ban.expires_at),
        "created_by": ban.created_by,
        "created_at": _iso(ban.created_at),
        "rejected_count": ban.rejected_count,
    }


def _subscribed(site_ids: list[int] | None, event_name: str) -> list[tuple[WebhookEndpoint, str]]:
    """Active endpoints of these sites (None: every site) that take this event, with site keys."""
    query = (
        select(WebhookEndpoint, Site.key)
        .join(Site, WebhookEndpoint.site_id == Site.id)
        .where(WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)
    )
    if site_ids is not None:
        query = query.where(WebhookEndpoint.site_id.in_(site_ids))
    return [(e, key) for e, key in db.session.execute(query) if event_name in (e.events or [])]


def body_of(event_id: str, event_name: str, created: int, site_key: str, data: dict) -> str:
    """Return the exact JSON body of an event (compact, UTF-8, keys in a fixed order)."""
    payload = {"id": event_id, "type": event_name, "created": created, "site": site_key}
    payload["data"] = data
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def emit(event_name: str, site_ids: list[int] | None, make_data) -> int:
    """Add a delivery of an event for each subscribed endpoint, in the caller's transaction.

    `make_data(site_key)` builds the event's data; it is called only when someone listens.
    The caller commits; the endpoints' jobs are queued after that commit. Returns how many.
    """
    subscribed = _subscribed(site_ids, event_name)
    if not subscribed:
        return 0
    now = utcnow()
    created = int(time.time())
    rows, by_site = [], {}
    for endpoint, site_key in subscribed:
        if site_key not in by_site:
            # One event per site: every endpoint of the site gets the same id and body.
            event_id = "evt_" + secrets.token_hex(12)
            by_site[site_key] = (
                event_id,
                body_of(event_id, event_name, created, site_key, make_data(site_key)),
            )
        event_id, body = by_site[site_key]
        rows.append(
            {
                "endpoint_id": endpoint.id,
                "event": event_name,
                "event_id": event_id,
                "body": body,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    db.session.execute(WebhookDelivery.__table__.insert(), rows)
    _after_commit_enqueue(db.session, [row["endpoint_id"] for row in rows])
    return len(rows)


def emit_comment(event_name: str, comment: Comment) -> int:
    """Emit a comment event (never for a shadow comment: the public never sees it)."""
    if comment.shadow:
        return 0
    return emit(event_name, [comment.site_id], lambda key: comment_data(comment, key))


def emit_decided_comments(decided: list[tuple[int, CommentStatus, CommentStatus]]) -> int:
    """Emit published/rejected/deleted events for recorded decisions (id, from, to); a deletion
    only of a comment that was published (receivers never knew of the others)."""
    wanted = {
        CommentStatus.APPROVED: "comment.published",
        CommentStatus.REJECTED: "comment.rejected",
        CommentStatus.DELETED: "comment.deleted",
    }
    decided = [
        item
        for item in decided
        if item[2] in wanted
        and (item[2] != CommentStatus.DELETED or item[1] == CommentStatus.APPROVED)
    ]
    if not decided or not _any_endpoint():
        return 0
    total = 0
    for comment_id, _, to_status in decided:
        comment = db.session.get(Comment, comment_id)
        db.session.refresh(comment)
        total += emit_comment(wanted[to_status], comment)
    return total


def _any_endpoint() -> bool:
    """Whether any site has an active endpoint (the common case without webhooks costs one
    indexed query per transaction that decides comments)."""
    return (
        db.session.scalar(
            select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True)).limit(1)
        )
        is not None
    )


def _after_commit_enqueue(session: Session, endpoint_ids: list[int]) -> None:
    session.info.setdefault(PENDING_ENDPOINTS, set()).update(endpoint_ids)


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    """Queue the delivery jobs of what the committed transaction added."""
    endpoint_ids = session.info.pop(PENDING_ENDPOINTS, set())
    if endpoint_ids and has_app_context():
        for endpoint_id in sorted(endpoint_ids):
            enqueue_endpoint(endpoint_id)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(PENDING_ENDPOINTS, None)


# --- The queue and the delivery job's steps ----------------------------------------------------


def webhook_queue(connection=None) -> Queue:
    """Return the RQ queue that delivery jobs go through (workers listen to it after moderation)."""
    return Queue(WEBHOOK_QUEUE, connection=connection or redis_connection())


def enqueue_endpoint(endpoint_id: int) -> bool:
    """Queue a delivery job for an endpoint; False (logged) when Redis is unreachable: the
    deliveries are in the database and the sweeper queues the job later."""
    try:
        webhook_queue().enqueue(
            DELIVER_JOB,
            endpoint_id,
            job_timeout=current_app.config["JOB_TIMEOUT_SECONDS"]
            + int(current_app.config["WEBHOOK_TIMEOUT_SECONDS"]) * 4,
            result_ttl=0,
            failure_ttl=24 * 3600,
        )
    except RedisError as error:
        log.warning("could not queue webhook deliveries of endpoint %s: %s", endpoint_id, error)
        return False
    return True


def claim_next(endpoint_id: int) -> WebhookDelivery | None:
    """Lease the endpoint's oldest waiting delivery if it is due; None when there is none, or
    when the oldest is not due yet (a retry later) or leased by another job: a newer delivery
    never overtakes an older one of the same endpoint."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.active:
        db.session.rollback()
        return None
    head = db.session.scalar(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )
    now = utcnow()
    if head is None or (head.next_attempt_at is not None and head.next_attempt_at > now):
        db.session.rollback()
        return None
    deliveries = WebhookDelivery.__table__
    # The conditional update is the lock: of two jobs only one leases the delivery.
    result = db.session.execute(
        update(deliveries)
        .where(
            deliveries.c.id == head.id,
            deliveries.c.status == DeliveryStatus.PENDING,
            deliveries.c.attempts == head.attempts,
        )
        .values(
            attempts=head.attempts + 1,
            next_attempt_at=now + timedelta(seconds=LEASE_SECONDS),
        )
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    db.session.refresh(head)
    return head


def record_attempt(
    delivery: WebhookDelivery,
    *,
    status_code: int | None,
    error: str | None,
    response: str | None,
) -> bool:
    """Record an attempt's outcome; schedule the retry or give up; return whether it succeeded."""
    now = utcnow()
    succeeded = status_code is not None and 200 <= status_code < 300
    delivery.last_status_code = status_code
    delivery.last_error = error
    delivery.last_response = None if response is None else response[:RESPONSE_KEPT]
    if succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    else:
        schedule = current_app.config["WEBHOOK_RETRY_SCHEDULE"]
        if delivery.attempts > len(schedule):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + timedelta(seconds=schedule[delivery.attempts - 1])
    db.session.commit()
    return succeeded


def due_endpoint_ids(limit: int = 500) -> list[int]:
    """Endpoints whose oldest waiting delivery is due (a retry, or a job lost with Redis)."""
    head = (
        select(WebhookDelivery.endpoint_id, func.min(WebhookDelivery.id).label("first_id"))
        .where(WebhookDelivery.status == DeliveryStatus.PENDING)
        .group_by(WebhookDelivery.endpoint_id)
        .subquery()
    )
    query = (
        select(head.c.endpoint_id)
        .join(WebhookDelivery, and_(WebhookDelivery.id == head.c.first_id))
        .join(WebhookEndpoint, WebhookEndpoint.id == head.c.endpoint_id)
        .where(WebhookEndpoint.active.is_(True), WebhookDelivery.next_attempt_at <= utcnow())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def sweep_deliveries(interval_seconds: float) -> int | None:
    """Queue a job for each endpoint with a due delivery, at most once per interval each;
    return how many, or None when Redis failed (the rest wait for the next sweep)."""
    queued = 0
    ids = due_endpoint_ids()
    try:
        connection = redis_connection()
        for endpoint_id in ids:
            marker = f"{SWEEP_MARKER}{endpoint_id}"
            if not connection.set(marker, "1", nx=True, px=max(1, int(interval_seconds * 1000))):
                continue
            if not enqueue_endpoint(endpoint_id):
                return None
            queued += 1
    except RedisError as error:
        log.warning("sweeper: redis unreachable for webhooks, will retry: %s", error)
        return None
    if queued:
        log.info("sweeper: queued webhook deliveries of %d endpoint(s)", queued)
    return queued
