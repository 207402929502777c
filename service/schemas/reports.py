"""Schemas of readers' reports and the moderators' reported queue."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from service.models import ReportReason
from service.schemas.comments import COMMENTER_KEY
from service.schemas.fields import TrimmedString

REASONS = [reason.value for reason in ReportReason]
NOTE_MAX = 500


class ReportSubmitSchema(Schema):
    """What a reader sends to report a published comment."""

    class Meta:
        unknown = RAISE

    reason = fields.String(
        required=True,
        validate=validate.OneOf(REASONS, error="Must be one of: " + ", ".join(REASONS) + "."),
    )
    note = TrimmedString(
        load_default=None,
        validate=validate.Length(max=NOTE_MAX),
        metadata={"description": "Plain text; required when reason is 'other'."},
    )
    commenter_key = fields.String(load_default=None, validate=COMMENTER_KEY)

    @validates_schema
    def _note_explains_other(self, data, **kwargs):
        if data.get("reason") == ReportReason.OTHER and not data.get("note"):
            raise ValidationError("Say what is wrong when the reason is 'other'.", "note")


class ReportReceivedSchema(Schema):
    """The answer to a report, the same whether it was new or a repeat."""

    status = fields.String(metadata={"example": "received"})
