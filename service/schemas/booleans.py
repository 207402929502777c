"""The boolean field the request schemas use (its place is fields.py, beside the other shared
field types, once that module is free to change)."""

from marshmallow import fields


class StrictBoolean(fields.Boolean):
    """JSON true or false only, as the OpenAPI document (type: boolean) says.

    marshmallow's Boolean also takes 1, 0, "yes", "on" and the like, so the API accepted requests
    its published schema forbids.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
