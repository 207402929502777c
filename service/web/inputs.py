"""Input no field may carry: the NUL character, refused for every request before any view runs
(422 naming the field; 404 in the path, where no address holds one).

PostgreSQL cannot store NUL in text (psycopg raises DataError: a 500), SQLite stores it and every
later reader trips over it, and no person types one. Refusing it once here, for the path, query,
form and JSON body alike, keeps it out of every field, present and future.
"""

from __future__ import annotations

from flask import Flask, request

from service.web.responses import error_response

NUL = "\x00"
MESSAGE = "Must not contain the NUL character (\\u0000)."


def _nul_in_json(data) -> str | None:
    """Return the dotted path of the first JSON string (value or key) holding NUL, if any."""
    stack = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return path or "json"
        elif isinstance(value, dict):
            if any(NUL in key for key in value):
                return next(f"{path}.{key}" if path else key for key in value if NUL in key)
            # Reversed onto the stack, so the first field in the body is named first.
            stack.extend(
                (f"{path}.{key}" if path else key, item) for key, item in reversed(value.items())
            )
        elif isinstance(value, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            )
    return None


def _field_with_nul() -> str | None:
    """Return the name of the first part of the request that holds NUL, if any."""
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            return name
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if NUL in name or NUL in value:
                return name
    if request.is_json:
        # Cached by Flask; a body that is not JSON at all is left to the view's own 400.
        try:
            return _nul_in_json(request.get_json(silent=True))
        except RecursionError:  # nested too deeply to parse: the view answers 400
            return None
    return None


def _reject_nul():
    if NUL in request.path:
        # No address holds NUL: there is nothing there, as for any other unknown key.
        return error_response(404, "not_found", "There is nothing at this address.")
    field = _field_with_nul()
    if field is not None:
        return error_response(
            422, "validation_error", f"Please correct: {field}.", {field: [MESSAGE]}
        )
    return None


def init_app(app: Flask) -> None:
    """Refuse, with a 422 naming the field, any request whose input holds the NUL character."""
    app.before_request(_reject_nul)
