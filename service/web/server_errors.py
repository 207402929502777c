"""The answers gunicorn gives by itself (a request it cannot parse: 400, 414, 431, ...) in
Talkback's JSON error shape, not gunicorn's HTML page.

gunicorn writes those answers through `gunicorn.util.write_error` before any application code
runs, and has no setting or hook for their body; `install()` (called from gunicorn.conf.py)
replaces that one function. The messages are ours: gunicorn's own text echoes the raw request.
"""

from __future__ import annotations

import json

MESSAGES = {
    400: "The request could not be read.",
    403: "The request is not allowed.",
    414: "The address is too long.",
    417: "The request's Expect header cannot be met.",
    431: "The request's headers are too large.",
    500: "Something went wrong on our side; nothing you sent was lost. Please try again.",
    501: "The request's transfer coding is not supported.",
}


def error_bytes(status: int, reason: str) -> bytes:
    """Return a whole HTTP response (status line to body) in the JSON error shape."""
    code = reason.lower().replace(" ", "_") or "error"
    message = MESSAGES.get(status) or MESSAGES[500 if status >= 500 else 400]
    body = json.dumps({"error": {"code": code, "message": message, "fields": {}}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock, status_int, reason, mesg) -> None:
    """gunicorn's write_error, answering in the JSON error shape (mesg is not sent back)."""
    from gunicorn import util

    util.write_nonblock(sock, error_bytes(int(status_int), str(reason)))


def install() -> None:
    """Make gunicorn's own error answers JSON in this process and the workers it forks."""
    from gunicorn import util

    util.write_error = write_json_error
