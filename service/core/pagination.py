"""Keyset-pagination cursors: opaque base64 JSON lists, encoded and checked in one place.

A cursor is `urlsafe_b64encode(json.dumps([...]))` without padding. `decode_cursor` checks it
against a shape (one entry per value: a literal tag, `ID`, `datetime` or `float`) and raises the
same 422 for every way a cursor can be wrong, naming the `cursor` parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime

from service.errors import UnprocessableError
from service.models import MAX_ID


class _RowId:
    """The shape entry of a row id: a JSON integer in 1..MAX_ID."""

    def __repr__(self) -> str:
        return "ID"


ID = _RowId()
UNCHANGED = "Use the next_cursor of a previous page, unchanged."
INVALID = "The cursor is not valid."


def encode_cursor(values: Sequence) -> str:
    """Return the opaque cursor of a keyset position (datetimes as ISO 8601)."""
    items = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(items).encode()).decode().rstrip("=")


def _check(value, kind):
    """Return one decoded value checked against its kind, or raise ValueError / TypeError."""
    if kind is ID:
        # JSON's true is a Python int too; a row id never is a bool.
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
            raise ValueError("cursor id out of range")
        return value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError("cursor key is not a number")
        return float(value)
    if value != kind:
        raise ValueError("cursor of another kind")
    return value


def decode_cursor(cursor: str, shape: Sequence, hint: str = UNCHANGED) -> tuple:
    """Return a cursor's values checked against `shape`, or raise 422 naming `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = tuple(json.loads(raw))
        if len(values) != len(shape):
            raise ValueError("cursor of another shape")
        pairs = list(zip(values, shape, strict=True))
        # Tags and ids first, then the keys' conversions: the order the callers always checked.
        for value, kind in pairs:
            if not isinstance(kind, type):
                _check(value, kind)
        return tuple(_check(value, kind) for value, kind in pairs)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise UnprocessableError(INVALID, {"cursor": [hint]}) from None
