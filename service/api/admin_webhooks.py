"""The admin API for a site's webhooks: /api/v1/admin/sites/<key>/webhooks (operators only)."""

from flask.views import MethodView

from service.api import Blueprint, documented_errors
from service.api.moderation import SECURITY, UNAUTHORIZED
from service.core import webhooks
from service.schemas import webhooks as schemas
from service.web import auth

bp = Blueprint(
    "admin_webhooks",
    __name__,
    url_prefix="/api/v1/admin",
    description="Signed webhooks a site sends to other systems (operators only).",
)
bp.before_request(auth.require_api_user)

FORBIDDEN = "Only operators can manage a site's webhooks."
bp.before_request(auth.operators_only(FORBIDDEN))


_errors = documented_errors(
    bp,
    {
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: "There is no such site, webhook or delivery.",
        422: "Invalid input (e.g. a URL at a private address); `fields` names it.",
    },
)


@bp.route("/sites/<string:key>/webhooks")
class Webhooks(MethodView):
    """A site's webhook endpoints."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.WebhookListSchema)
    @_errors(401, 403, 404)
    def get(self, key):
        """List the site's endpoints (never a secret)."""
        return {"webhooks": [webhooks.endpoint_dict(e) for e in webhooks.list_endpoints(key)]}

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.WebhookCreateSchema)
    @bp.response(201, schemas.WebhookSecretSchema)
    @_errors(401, 403, 404, 422)
    def post(self, data, key):
        """Register an endpoint; its signing secret is shown this once."""
        endpoint, secret = webhooks.create_endpoint(
            key,
            data["url"],
            data["events"],
            actor=auth.current_actor(),
            allow_private=data["allow_private"],
        )
        return {**webhooks.endpoint_dict(endpoint), "secret": secret}


@bp.route("/sites/<string:key>/webhooks/<int:webhook_id>")
class Webhook(MethodView):
    """One endpoint."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.WebhookSchema)
    @_errors(401, 403, 404)
    def get(self, key, webhook_id):
        """Show an endpoint."""
        return webhooks.endpoint_dict(webhooks.get_endpoint(key, webhook_id))

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.WebhookUpdateSchema)
    @bp.response(200, schemas.WebhookSchema)
    @_errors(401, 403, 404, 422)
    def patch(self, data, key, webhook_id):
        """Change an endpoint's URL, events, active flag or private-address consent."""
        endpoint = webhooks.update_endpoint(key, webhook_id, actor=auth.current_actor(), **data)
        return webhooks.endpoint_dict(endpoint)

    @bp.doc(security=SECURITY)
    @bp.response(204)
    @_errors(401, 403, 404)
    def delete(self, key, webhook_id):
        """Remove an endpoint and its delivery log."""
        webhooks.delete_endpoint(key, webhook_id, actor=auth.current_actor())


@bp.route("/sites/<string:key>/webhooks/<int:webhook_id>/rotate")
class RotateWebhookSecret(MethodView):
    """Rotating an endpoint's secret."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.WebhookRotateSchema)
    @bp.response(200, schemas.WebhookSecretSchema)
    @_errors(401, 403, 404, 422)
    def post(self, data, key, webhook_id):
        """Give the endpoint a new secret (shown once); the old one also signs for a while."""
        endpoint, secret = webhooks.rotate_secret(
            key, webhook_id, actor=auth.current_actor(), overlap_hours=data["overlap_hours"]
        )
        return {**webhooks.endpoint_dict(endpoint), "secret": secret}


@bp.route("/sites/<string:key>/webhook-deliveries")
class Deliveries(MethodView):
    """A site's delivery log."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.DeliveryQuerySchema, location="query")
    @bp.response(200, schemas.DeliveryListSchema)
    @_errors(401, 403, 404, 422)
    def get(self, query, key):
        """List deliveries, newest first, with each one's last response."""
        found = webhooks.list_deliveries(
            key,
            endpoint_id=query.get("webhook"),
            status=query.get("status"),
            limit=query["limit"],
        )
        return {"deliveries": [webhooks.delivery_dict(d) for d in found]}


@bp.route("/sites/<string:key>/webhook-deliveries/<int:delivery_id>/resend")
class Resend(MethodView):
    """Sending a delivery's event again."""

    @bp.doc(security=SECURITY)
    @bp.response(202, schemas.DeliverySchema)
    @_errors(401, 403, 404)
    def post(self, key, delivery_id):
        """Queue the same event (same id and body) to the same endpoint as a new delivery."""
        return webhooks.delivery_dict(webhooks.resend(key, delivery_id, actor=auth.current_actor()))
