"""/metrics in Prometheus' text format, behind a bearer token, and each request's latency."""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from service.core.metrics import REQUEST_SECONDS, BacklogCollector
from service.web.responses import error_response

bp = Blueprint("metrics", __name__)
STARTED = "talkback.started"
# Read at scrape time, in the scraping process: queue depth and the oldest pending comment.
BACKLOG = CollectorRegistry()
BACKLOG.register(BacklogCollector())


def init_app(app: Flask) -> None:
    """Time every request, and serve /metrics when a token is configured."""
    app.before_request(_start)
    app.after_request(_observe)
    app.register_blueprint(bp)


def _start() -> None:
    request.environ[STARTED] = time.perf_counter()


def _observe(response: Response) -> Response:
    started = request.environ.get(STARTED)
    if started is not None:
        REQUEST_SECONDS.labels(
            endpoint=request.endpoint or "(no route)",
            method=request.method,
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
    return response


def _registry() -> CollectorRegistry:
    """The registry to expose: every process's files in multiprocess mode, else this process."""
    folder = current_app.config["METRICS_MULTIPROC_DIR"]
    if not folder:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    return registry


@bp.get("/metrics")
def metrics():
    """Prometheus scrape: needs `Authorization: Bearer <TALKBACK_METRICS_TOKEN>`."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        return error_response(404, "not_found", "Metrics are off: set TALKBACK_METRICS_TOKEN.")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return error_response(
            401,
            "unauthorized",
            "Send the metrics token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = generate_latest(_registry()) + generate_latest(BACKLOG)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
