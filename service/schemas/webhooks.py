"""Schemas of the admin API for a site's webhooks: endpoints, their deliveries, resends."""

from marshmallow import RAISE, Schema, fields, validate

from service.core.webhooks import EVENTS
from service.schemas.fields import UTCDateTime

_EVENT = fields.String(
    validate=validate.OneOf(EVENTS, error="Must be one of: " + ", ".join(EVENTS) + ".")
)


class WebhookCreateSchema(Schema):
    """A new endpoint: where to POST, which events; the secret is generated and shown once."""

    class Meta:
        unknown = RAISE

    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "An http:// or https:// URL at a public address."},
    )
    events = fields.List(_EVENT, required=True, validate=validate.Length(min=1, max=len(EVENTS)))
    allow_private = fields.Boolean(
        load_default=False,
        metadata={"description": "Allow loopback and private addresses (an operator's choice)."},
    )


class WebhookUpdateSchema(Schema):
    """Changes to an endpoint; fields left out stay as they are."""

    class Meta:
        unknown = RAISE

    url = fields.String(validate=validate.Length(min=1, max=2000))
    events = fields.List(_EVENT, validate=validate.Length(min=1, max=len(EVENTS)))
    active = fields.Boolean()
    allow_private = fields.Boolean()


class WebhookRotateSchema(Schema):
    """A rotation: how long the previous secret keeps signing beside the new one."""

    class Meta:
        unknown = RAISE

    overlap_hours = fields.Float(
        load_default=None,
        validate=validate.Range(min=0, max=24 * 30),
        metadata={"description": "Hours the old secret stays valid (default 24)."},
    )


class WebhookSchema(Schema):
    """An endpoint as lists show it: never its secret."""

    class Meta:
        ordered = True

    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    allow_private = fields.Boolean()
    rotating_until = UTCDateTime(
        allow_none=True,
        metadata={"description": "Until when the previous secret also signs (a rotation)."},
    )
    created_by = fields.String()
    created_at = UTCDateTime()


class WebhookSecretSchema(WebhookSchema):
    """An endpoint with its new signing secret, shown this once."""

    secret = fields.String(metadata={"description": "Give it to the receiver; never shown again."})


class WebhookListSchema(Schema):
    """A site's endpoints, oldest first."""

    webhooks = fields.List(fields.Nested(WebhookSchema))


class DeliveryQuerySchema(Schema):
    """Filters of the delivery log."""

    class Meta:
        unknown = RAISE

    webhook = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(
        validate=validate.OneOf(
            ("pending", "succeeded", "failed"), error="Must be pending, succeeded or failed."
        )
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DeliverySchema(Schema):
    """One delivery of an event to an endpoint, with its last attempt's outcome."""

    class Meta:
        ordered = True

    id = fields.Integer()
    endpoint_id = fields.Integer()
    event = fields.String()
    event_id = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = UTCDateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_response = fields.String(
        allow_none=True, metadata={"description": "The first 1 KB of the receiver's last answer."}
    )
    resent_from = fields.Integer(allow_none=True)
    created_at = UTCDateTime()
    delivered_at = UTCDateTime(allow_none=True)
    payload = fields.Dict(metadata={"description": "The JSON body sent."})


class DeliveryListSchema(Schema):
    """Deliveries, newest first."""

    deliveries = fields.List(fields.Nested(DeliverySchema))
