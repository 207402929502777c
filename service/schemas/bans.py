"""Schemas of the admin API for bans: adding, listing and lifting them."""

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from service.core.bans import PUBLIC_REASON_MAX, REASON_MAX, SCOPE_HELP, VALUE_MAX, parse_until
from service.models import MAX_ID, BanKind, BanTarget
from service.schemas.fields import StrictBoolean, TrimmedString, UTCDateTime

TARGETS = [member.value for member in BanTarget]
KINDS = [member.value for member in BanKind]
STATES = ["true", "false", "all"]
SITE_KEY = validate.Length(min=1, max=64)


def _one_of(choices: list[str]) -> validate.OneOf:
    return validate.OneOf(choices, error="Must be one of: " + ", ".join(choices) + ".")


class Until(fields.Field):
    """When a ban ends: an ISO date (through that day, UTC) or date and time; naive UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Give the date as a string, e.g. 2030-07-01.")
        try:
            return parse_until(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


class BanCreateSchema(Schema):
    """A new ban: where, on what, what kind, until when and why."""

    class Meta:
        unknown = RAISE

    site = fields.String(
        load_default=None,
        allow_none=True,
        validate=SITE_KEY,
        metadata={
            "description": "The site's key. Omit it (and `all`) on a one-click ban by "
            "`comment_id` to ban on the comment's site."
        },
    )
    all = StrictBoolean(
        load_default=False,
        metadata={"description": "Ban on every site (operators only)."},
    )
    target = fields.String(required=True, validate=_one_of(TARGETS))
    value = TrimmedString(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=VALUE_MAX),
        metadata={
            "description": "The commenter key, email address, IP address, network (a /24 of "
            "IPv4 or a /48 of IPv6, or one address in it) or email domain. Or give comment_id."
        },
    )
    comment_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Ban the target of this comment's author (one-click ban)."},
    )
    kind = fields.String(
        load_default=BanKind.HARD.value,
        validate=_one_of(KINDS),
        metadata={
            "description": "hard: submissions refused (403). shadow: accepted, shown to "
            "their author only. hold: accepted (202), and every one held for a moderator; the "
            "commenter is never told (a watchlist)."
        },
    )
    until = Until(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Omit for a permanent ban. A date (2030-07-01) bans through that day "
            "(UTC); a date and time without an offset is UTC.",
            "type": "string",
            "example": "2030-07-01",
        },
    )
    reason = TrimmedString(
        required=True,
        validate=[
            validate.Length(min=1, error="Say why (moderators see it; the commenter doesn't)."),
            validate.Length(max=REASON_MAX),
        ],
    )
    public_reason = TrimmedString(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=PUBLIC_REASON_MAX),
        metadata={
            "description": "Shown to a hard-banned commenter by the widget. Not allowed on a "
            "hold ban, which its commenter is never shown."
        },
    )
    reject_existing = StrictBoolean(
        load_default=False,
        metadata={
            "description": "Also reject the target's pending, held and approved comments "
            "in the ban's scope."
        },
    )

    @validates_schema
    def _one_target_and_scope(self, data, **kwargs):
        errors = {}
        has_value, has_comment = data.get("value") is not None, data.get("comment_id") is not None
        if has_value and has_comment:
            message = "Give either value or comment_id, not both."
            errors.update(value=[message], comment_id=[message])
        elif not has_value and not has_comment:
            errors["value"] = ["Give the value to ban, or the comment_id of one of their comments."]
        if data.get("site") is not None and data.get("all"):
            errors["site"] = ['Give either site or "all": true, not both.']
        elif data.get("site") is None and not data.get("all") and not has_comment:
            errors["site"] = [SCOPE_HELP]
        if errors:
            raise ValidationError(errors)


class BanQuerySchema(Schema):
    """Filters of the ban list."""

    class Meta:
        unknown = EXCLUDE  # as every query of the API (webargs drops unknown query args anyway)

    site = fields.String(
        load_default=None,
        validate=SITE_KEY,
        metadata={"description": "Bans that apply on this site: its own and the all-site ones."},
    )
    active = fields.String(
        load_default="true",
        validate=_one_of(STATES),
        metadata={"description": "true: in force; false: lifted or expired; all: both."},
    )
    target = fields.String(load_default=None, validate=_one_of(TARGETS))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class BanSchema(Schema):
    """A ban as operators and moderators see it (never an email or address in clear)."""

    id = fields.Integer()
    site = fields.String(allow_none=True, metadata={"description": "null: every site."})
    target = fields.String(metadata={"enum": TARGETS})
    label = fields.String(metadata={"example": "j…@gmail.com"})
    kind = fields.String(metadata={"enum": KINDS})
    reason = fields.String()
    public_reason = fields.String(allow_none=True)
    until = UTCDateTime(allow_none=True, metadata={"description": "null: permanent."})
    created_by = fields.String()
    created_at = UTCDateTime()
    lifted_at = UTCDateTime(allow_none=True)
    lifted_by = fields.String(allow_none=True)
    rejected_count = fields.Integer(
        metadata={"description": "Existing comments rejected when the ban was added."}
    )
    active = fields.Boolean()
    state = fields.String(metadata={"enum": ["active", "expired", "lifted"]})


class BanListSchema(Schema):
    """Bans, newest first."""

    bans = fields.List(fields.Nested(BanSchema))
