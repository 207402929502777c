"""The RQ job that sends an endpoint's webhook deliveries: oldest first, signed, pinned to the
address the SSRF guard checked, stopping at the first failure so that order is kept."""

import logging
import time

import urllib3
from flask import current_app
from urllib3.exceptions import HTTPError

from service.core import webhooks
from service.core.webhooks import UnsafeAddressError
from service.models import WebhookDelivery

from .jobs import _app

log = logging.getLogger(__name__)

USER_AGENT = "Talkback-Webhooks/1"


def deliver_endpoint(endpoint_id: int) -> str:
    """Send the endpoint's due deliveries in order of creation until one fails or none is due.

    A long backlog is sent in slices of about JOB_TIMEOUT seconds: the job then queues itself
    again (behind any waiting moderation job) instead of running into its own timeout.
    """
    app = _app()
    with app.app_context():
        sent, started = 0, time.monotonic()
        budget = app.config["JOB_TIMEOUT_SECONDS"]
        while True:
            if sent and time.monotonic() - started > budget:
                webhooks.enqueue_endpoint(endpoint_id)
                return f"sent {sent}, the rest queued again"
            delivery = webhooks.claim_next(endpoint_id)
            if delivery is None:
                return f"sent {sent}"
            if not _attempt(delivery):
                # The rest wait behind it: the sweeper queues the endpoint again when it is due.
                return f"sent {sent}, delivery {delivery.id} failed (attempt {delivery.attempts})"
            sent += 1


def _attempt(delivery: WebhookDelivery) -> bool:
    """Make one attempt at a leased delivery and record its outcome."""
    endpoint = delivery.endpoint
    body = delivery.body.encode()
    try:
        target = webhooks.target(endpoint)
    except UnsafeAddressError as error:
        return webhooks.record_attempt(
            delivery, status_code=None, error=f"refused: {error}", response=None
        )
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Talkback-Event": delivery.event,
        "Talkback-Event-Id": delivery.event_id,
        "Talkback-Delivery": str(delivery.id),
        webhooks.SIGNATURE_HEADER: webhooks.sign(
            body, webhooks.signing_secrets(endpoint), int(time.time())
        ),
    }
    status, error, response = _post(target, headers, body)
    ok = webhooks.record_attempt(delivery, status_code=status, error=error, response=response)
    log.info(
        "webhook delivery %s (%s) to endpoint %s: %s",
        delivery.id,
        delivery.event,
        endpoint.id,
        status if error is None else error,
    )
    return ok


def _post(target: webhooks.Target, headers: dict, body: bytes):
    """POST to the first checked address that connects; return (status, error, response)."""
    timeout = urllib3.Timeout(total=current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    error = None
    for address in target.addresses:
        # Connect to the address we checked, never to a fresh lookup (DNS rebinding), while TLS
        # still verifies the certificate against the URL's host name (SNI too).
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
                timeout=timeout,
                retries=False,
                maxsize=1,
            )
        else:
            pool = urllib3.HTTPConnectionPool(
                address, target.port, timeout=timeout, retries=False, maxsize=1
            )
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers={**headers, "Host": host_header},
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                text = response.read(webhooks.RESPONSE_KEPT, decode_content=True)
            finally:
                response.release_conn()
            return response.status, None, text.decode("utf-8", "replace")
        except (HTTPError, OSError) as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
        finally:
            pool.close()
    return None, error, None
