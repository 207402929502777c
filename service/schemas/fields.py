"""Field types shared by the schemas."""

from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from marshmallow import ValidationError, fields


class UTCDateTime(fields.DateTime):
    """A stored naive-UTC timestamp, written as ISO 8601 with its offset ("+00:00")."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class TrimmedString(fields.String):
    """A string with surrounding whitespace removed before the length checks run."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class EmailAddress(fields.String):
    """An email address checked for syntax only (no DNS look-ups), normalised by email-validator."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValidationError(f"Not a valid email address: {error}") from error


class StrictBoolean(fields.Boolean):
    """JSON true or false only, as the OpenAPI document (type: boolean) says.

    marshmallow's Boolean also takes 1, 0, "yes", "on" and the like, so the API accepted requests
    its published schema forbids.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
