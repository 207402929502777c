"""The one JSON error shape every endpoint answers with."""

from marshmallow import Schema, fields


class ErrorDetailSchema(Schema):
    """What went wrong, for people and for programs."""

    code = fields.String(metadata={"example": "validation_error"})
    message = fields.String(metadata={"example": "Please correct the fields shown."})
    fields = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"example": {"author_name": ["Missing data for required field."]}},
    )


class ErrorSchema(Schema):
    """Every error: {"error": {"code", "message", "fields"}}."""

    error = fields.Nested(ErrorDetailSchema)
