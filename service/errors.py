"""Errors the service layer raises; the API turns each into the JSON error shape."""


class TalkbackError(Exception):
    """A request the service cannot carry out, with the HTTP status and code to answer with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFoundError(TalkbackError):
    """The site, article or comment does not exist (or is not the caller's to see)."""

    status = 404
    code = "not_found"


class ForbiddenError(TalkbackError):
    """The caller is not allowed to do this, e.g. a wrong delete token."""

    status = 403
    code = "forbidden"


class ConflictError(TalkbackError):
    """The request clashes with the current state, e.g. the article is closed."""

    status = 409
    code = "conflict"


class UnprocessableError(TalkbackError):
    """The input is well-formed but cannot be accepted, e.g. a reply to a hidden comment."""

    status = 422
    code = "validation_error"


class BannedError(ForbiddenError):
    """A hard ban covers the submitter; the message is meant for them and the widget shows it."""

    code = "banned"


class UnauthorizedError(TalkbackError):
    """A sign-in token or reader session that is missing, invalid, expired or replayed."""

    status = 401
    code = "unauthorized"


class SignInRequiredError(UnauthorizedError):
    """The site (or its links policy) takes this comment only from a signed-in reader."""

    code = "sign_in_required"


class SessionExpiredError(UnauthorizedError):
    """The reader's session is no longer valid: the widget asks the page to sign in again."""

    code = "session_expired"


class ServiceUnavailableError(TalkbackError):
    """A dependency (Redis) is down and the request can't be checked safely: try again."""

    status = 503
    code = "unavailable"
