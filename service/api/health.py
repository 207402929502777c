"""Liveness and readiness: is the database reachable, is Redis?"""

import logging

from flask.views import MethodView
from marshmallow import Schema, fields
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.api import Blueprint
from service.core.queues import redis_connection
from service.extensions import db

bp = Blueprint("health", __name__, description="Health checks for load balancers and compose.")
log = logging.getLogger(__name__)


class HealthSchema(Schema):
    """Overall status and each dependency's."""

    status = fields.String(metadata={"example": "ok"})
    database = fields.String(metadata={"example": "ok"})
    redis = fields.String(metadata={"example": "ok"})


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("health check: database unreachable: %s", error)
        return "unreachable"


def _check_redis() -> str:
    try:
        redis_connection().ping()
        return "ok"
    except RedisError as error:
        log.warning("health check: redis unreachable: %s", error)
        return "unreachable"


@bp.route("/healthz")
class Health(MethodView):
    """Health of the API process and what it depends on."""

    @bp.response(200, HealthSchema)
    @bp.alt_response(503, schema=HealthSchema, description="The database or Redis is down.")
    def get(self):
        """Answer 200 when the database and Redis are reachable, 503 otherwise."""
        report = {"database": _check_database(), "redis": _check_redis()}
        healthy = all(value == "ok" for value in report.values())
        report["status"] = "ok" if healthy else "unavailable"
        return report, 200 if healthy else 503
