"""Schemas of the admin API for a site's SSO keys (sign-in with the publisher's login)."""

from marshmallow import RAISE, Schema, fields, validate

from service.schemas.fields import UTCDateTime

ALGORITHMS = ("HS256", "RS256", "ES256")


class SsoKeyCreateSchema(Schema):
    """A new key: HS256 with a secret (generated when left out) or RS256/ES256 with a public key."""

    class Meta:
        unknown = RAISE

    algorithm = fields.String(
        required=True,
        validate=validate.OneOf(ALGORITHMS, error="Must be one of: HS256, RS256, ES256."),
    )
    kid = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^[A-Za-z0-9._-]{1,64}\Z", error="Use 1 to 64 letters, digits, '.', '-' or '_'."
        ),
        metadata={
            "description": "The JWT header's kid that picks this key (generated if left out)."
        },
    )
    secret = fields.String(
        load_default=None,
        validate=validate.Length(min=32, max=512),
        metadata={"description": "HS256 only: the shared secret (at least 32 bytes)."},
    )
    public_key = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=8000),
        metadata={"description": "RS256/ES256 only: the PEM public key."},
    )


class SsoKeySchema(Schema):
    """A key as lists show it: never its secret."""

    class Meta:
        ordered = True

    kid = fields.String()
    algorithm = fields.String()
    fingerprint = fields.String(metadata={"description": "SHA-256 of the key, first 16 hex."})
    public_key = fields.String(allow_none=True)
    active = fields.Boolean()
    created_by = fields.String()
    created_at = UTCDateTime()
    retired_at = UTCDateTime(allow_none=True)


class SsoKeyCreatedSchema(SsoKeySchema):
    """A new key; an HS256 secret is shown this once."""

    secret = fields.String(
        allow_none=True,
        metadata={"description": "HS256: give it to the publisher's login now; never shown again."},
    )


class SsoKeyListSchema(Schema):
    """A site's keys, oldest first."""

    keys = fields.List(fields.Nested(SsoKeySchema))
