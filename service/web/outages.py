"""The database unreachable: answer 503 with Retry-After (the client may simply try again), not 500.

A restart or failover of PostgreSQL takes seconds; every request in that window fails to get a
connection (OperationalError, or InterfaceError on a connection the server dropped). Nothing was
written, so the honest answer is "try again shortly". Other database errors stay 500s: they are
bugs, and are logged as such.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from service.extensions import db
from service.web.responses import error_response

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = "The service is briefly unavailable; nothing was saved. Please try again in a moment."


def _unavailable(error: Exception):
    # The session's connection is broken; drop it so the next request starts clean.
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()
    log.warning("database unavailable, answering 503: %s", str(error).splitlines()[0][:200])
    return error_response(
        503, "unavailable", MESSAGE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def init_app(app: Flask) -> None:
    """Answer 503 + Retry-After when the database cannot be reached."""
    for kind in (OperationalError, InterfaceError, PoolTimeoutError):
        app.register_error_handler(kind, _unavailable)
