"""The HTTP API: flask-smorest with Talkback's one JSON error shape."""

import logging

import flask_smorest
from flask_smorest import Api
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import HTTPException

from service.errors import TalkbackError
from service.schemas.errors import ErrorSchema
from service.web.responses import error_response

log = logging.getLogger(__name__)

# Messages a person can act on, for the HTTP errors Flask raises by itself.
HTTP_MESSAGES = {
    400: "The request could not be read.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request is too large.",
    415: "Send the request body as JSON (Content-Type: application/json).",
    422: "Please correct the fields shown.",
    500: "Something went wrong on our side; nothing you sent was lost. Please try again.",
}


def _flatten_webargs_messages(messages: dict) -> dict[str, list[str]]:
    """Turn webargs' {location: {field: [...]}} into {field: [...]}."""
    fields: dict[str, list[str]] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            for field, field_errors in errors.items():
                fields[str(field)] = _as_strings(field_errors)
        else:
            fields[location] = _as_strings(errors)
    return fields


def _as_strings(errors) -> list[str]:
    if isinstance(errors, dict):  # nested (e.g. a list item's errors): keep their words
        return [f"{key}: {', '.join(_as_strings(value))}" for key, value in errors.items()]
    if isinstance(errors, list | tuple):
        return [str(error) for error in errors]
    return [str(errors)]


class TalkbackParser(FlaskParser):
    """webargs' parser, answering 400 (not 500) to JSON Python refuses to parse: nested too
    deeply, or with an integer longer than Python converts (4,300 digits)."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})
        except ValueError:  # JSONDecodeError is handled by webargs; this is the digit limit
            abort(400, messages={"json": ["The JSON body holds a number too long to read."]})


BAD_JSON = "The body is not JSON (or not UTF-8), or is nested too deeply."


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint that parses requests with TalkbackParser."""

    ARGUMENTS_PARSER = TalkbackParser()

    def arguments(self, schema, *, location="json", **kwargs):
        """Parse and document a view's arguments; a JSON body also documents its 400."""
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse
        # flask-smorest documents the 422 of invalid fields, not the 400 of an unreadable body.
        document = self.alt_response(400, schema=ErrorSchema, description=BAD_JSON)
        return lambda view: document(parse(view))


class TalkbackApi(Api):
    """flask-smorest's Api answering every error, 404 and 405 included, in one JSON shape."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        super()._register_error_handlers()
        self._app.register_error_handler(TalkbackError, self.handle_talkback_error)

    def handle_http_exception(self, error: HTTPException):
        """Answer an HTTP error (including webargs validation errors) in the JSON shape."""
        status = error.code or 500
        if status >= 500:
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.exception("unhandled error", exc_info=original)
        data = getattr(error, "data", None) or {}
        fields = _flatten_webargs_messages(data.get("messages", {}))
        if status == 400 and fields:
            message = "The request body is not valid JSON."
            code = "bad_request"
        elif status == 422:
            message = HTTP_MESSAGES[422]
            code = "validation_error"
            if fields:
                message = f"Please correct: {', '.join(sorted(fields))}."
        else:
            message = data.get("message") or HTTP_MESSAGES.get(status) or error.description
            code = (error.name or "error").lower().replace(" ", "_")
        # Keep the exception's own headers (e.g. Allow on a 405), but not its HTML content type.
        headers = {
            name: value for name, value in error.get_headers() if name.lower() != "content-type"
        }
        headers.update(data.get("headers") or {})
        return error_response(status, code, message, fields, headers)

    def handle_talkback_error(self, error: TalkbackError):
        """Answer an error raised by the service layer."""
        return error_response(error.status, error.code, error.message, error.fields)


def documented_errors(blueprint, descriptions: dict[int, str]):
    """Return a decorator factory, errors(401, 404, ...), that documents a view's error answers."""

    def errors(*statuses: int):
        def decorate(view):
            for status in statuses:
                document = blueprint.alt_response(
                    status, schema=ErrorSchema, description=descriptions[status]
                )
                view = document(view)
            return view

        return decorate

    return errors
