"""One way for every command to turn the service layer's errors into click's 'Error: ...'."""

import contextlib
from collections.abc import Iterator, Mapping
from typing import Literal

import click

from service.errors import TalkbackError
from service.extensions import db

# How the error's per-field messages (TalkbackError.fields) are shown:
# - "ignore": only the error's message;
# - "instead": one line per field message, "OPTION: message", instead of the error's message;
# - "lines": the error's message, then each field message that adds to it on a line of its own
#   (prefixed "OPTION: " when the field is in `options`);
# - "inline": the same, on one line, separated by spaces.
FieldsStyle = Literal["ignore", "instead", "lines", "inline"]


def error_text(
    error: TalkbackError,
    options: Mapping[str, str] | None = None,
    fields: FieldsStyle = "ignore",
) -> str:
    """Spell out a service error for the terminal, naming each field by its option."""
    options = options or {}
    if fields == "ignore":
        return error.message
    if fields == "instead":
        if not error.fields:
            return error.message
        return "\n".join(
            f"{options.get(field, field)}: {message}"
            for field, messages in error.fields.items()
            for message in messages
        )
    details = [
        f"{options[field]}: {message}" if field in options else message
        for field, messages in error.fields.items()
        for message in messages
        if message != error.message
    ]
    return ("\n" if fields == "lines" else " ").join([error.message, *details])


@contextlib.contextmanager
def service_errors(
    options: Mapping[str, str] | None = None,
    *,
    fields: FieldsStyle = "ignore",
) -> Iterator[None]:
    """Roll back and stop the command with the service error's text (see `error_text`)."""
    try:
        yield
    except TalkbackError as error:
        db.session.rollback()
        raise click.ClickException(error_text(error, options, fields)) from None
