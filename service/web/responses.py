"""The JSON error shape every API error answers with."""

from __future__ import annotations

from flask import jsonify


def error_response(status: int, code: str, message: str, fields: dict | None = None, headers=None):
    """Build a response in the JSON error shape."""
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response
