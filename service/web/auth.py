"""Who is calling: API tokens and console sessions, the decorators that require them, CSRF and
the console's security headers."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

from service.core import accounts
from service.core.moderation import moderator_actor
from service.errors import ForbiddenError
from service.extensions import db
from service.models import User
from service.web.responses import error_response

csrf = CSRFProtect()

# Blueprints whose requests never carry cookies (readers' browsers call them cross-origin), so
# there is no session for a forged request to ride on: no CSRF token needed.
# The mail links' pages (service/widget/mail_pages.py) carry no session either: the token in
# the URL is the credential, and RFC 8058's one-click POST comes from the reader's mail client.
CSRF_EXEMPT_BLUEPRINTS = frozenset({"public", "health", "mail"})

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
CSRF_FAILED = "This form's security token is missing or has expired. Reload the page and try again."

SESSION_USER_KEY = "user_id"
SESSION_VERSION_KEY = "session_version"
AUTH_ENVIRON_KEY = "talkback.auth"


class TalkbackSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Mark the cookie Secure when configured to, or when this request is HTTPS."""
        # ProxyFix (TALKBACK_PROXY_COUNT) makes request.is_secure honour X-Forwarded-Proto.
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (bool(request) and request.is_secure)


def init_app(app: Flask) -> None:
    """Install sessions, CSRF protection and the `current_user` template helper on the app."""
    app.session_interface = TalkbackSessionInterface()
    # CSRFProtect checks nothing by itself (WTF_CSRF_CHECK_DEFAULT is off): _protect decides
    # which requests need a token, since Bearer-token requests are exempt per request.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(_forget_csrf_cache)
    app.before_request(_protect)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.context_processor(lambda: {"current_user": current_user})


def _forget_csrf_cache() -> None:
    """Drop Flask-WTF's per-request CSRF cache from g before each request."""
    # g lives as long as the app context, and a test (or a CLI) that keeps one app context
    # open across requests would otherwise hand one client's token to another.
    g.pop("csrf_token", None)
    g.pop("csrf_valid", None)


def _bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer` header ("" if malformed), or None."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _protect() -> None:
    """Require a CSRF token on state-changing requests that a browser's cookies could authorise."""
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    # No view will run (404, 405): let routing answer, nothing can change.
    if request.routing_exception is not None:
        return
    if request.blueprint in CSRF_EXEMPT_BLUEPRINTS:
        return
    # A Bearer request is authenticated by its header alone (never by the session, see
    # current_user), and a cross-site page cannot make a browser send such a header.
    if _bearer_token() is not None:
        return
    # An API call without a logged-in session has no cookie to abuse: it answers 401, not a
    # CSRF error. Console forms are checked regardless (the login form too: login CSRF).
    if request.path.startswith("/api/") and SESSION_USER_KEY not in session:
        return
    csrf.protect()


def _csrf_failed(error: CSRFError):
    """Answer a refused CSRF check: JSON on the API, a page in the console."""
    if request.path.startswith("/api/"):
        return error_response(400, "csrf_failed", CSRF_FAILED)
    response = current_app.make_response(
        (render_template("console/error.html", title="Please reload", message=CSRF_FAILED), 400)
    )
    return console_security_headers(response)


def current_user() -> User | None:
    """Return the user of this request: from a Bearer API token, or else the console session."""
    return _authenticated()[0]


def auth_method() -> str | None:
    """Return how this request's user was authenticated: "token", "session" or None."""
    return _authenticated()[1]


def _authenticated() -> tuple[User | None, str | None]:
    # Cached on the request, not on g: tests reuse one app context across many requests.
    if AUTH_ENVIRON_KEY not in request.environ:
        request.environ[AUTH_ENVIRON_KEY] = _load_user()
    return request.environ[AUTH_ENVIRON_KEY]


def _load_user() -> tuple[User | None, str | None]:
    token = _bearer_token()
    if token is not None:
        # A request that presents a token stands or falls by it: no falling back to a cookie.
        user = accounts.verify_token(token)
        return user, "token" if user else None
    user_id = session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None, None
    user = db.session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or session.get(SESSION_VERSION_KEY) != user.session_version
    ):
        return None, None
    return user, "session"


def current_site_ids() -> set[int] | None:
    """Return the ids of the sites the signed-in user moderates (None: all, for operators)."""
    return current_user().site_ids()


def current_actor() -> str:
    """Return the signed-in user's name as the audit logs write it ("moderator:<username>")."""
    return moderator_actor(current_user().username)


def log_in(user: User) -> None:
    """Start a console session for the user, dropping everything the old session held."""
    # A fresh session (and so a fresh CSRF token): a cookie planted before login is worth nothing.
    session.clear()
    g.pop("csrf_token", None)  # pages rendered after this must carry the new session's token
    session.permanent = True
    session[SESSION_USER_KEY] = user.id
    session[SESSION_VERSION_KEY] = user.session_version
    request.environ[AUTH_ENVIRON_KEY] = (user, "session")


def log_out() -> None:
    """End the console session."""
    session.clear()
    request.environ[AUTH_ENVIRON_KEY] = (None, None)


def operators_only(message: str):
    """Return a before_request hook that refuses moderators with a 403 carrying `message`
    (register it after require_api_user, which refuses anonymous callers)."""

    def refuse_moderators() -> None:
        user = current_user()
        if user is not None and not user.is_operator:
            raise ForbiddenError(message)

    return refuse_moderators


def require_api_user():
    """before_request for the moderation API: a 401 JSON error when nobody is authenticated."""
    if current_user() is not None:
        return None
    if _bearer_token():
        message = "This API token is not valid: it may have been revoked, or its account is off."
    elif _bearer_token() == "":
        message = "Send the API token as 'Authorization: Bearer <token>'."
    else:
        message = (
            "Log in to the console, or send an API token as 'Authorization: Bearer <token>' "
            "(create one on your account page, /console/account)."
        )
    return error_response(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="talkback"'}
    )


def api_user_required(view):
    """Decorate an API view so it answers 401 (JSON) unless a user is authenticated."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        refused = require_api_user()
        return refused if refused is not None else view(*args, **kwargs)

    return wrapper


def _login_redirect():
    path = request.full_path if request.query_string else request.path
    return redirect(url_for("console_auth.login", next=path))


def login_required(view):
    """Decorate a console page: without a logged-in session, redirect to the login page."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None or auth_method() != "session":
            return _login_redirect()
        return view(*args, **kwargs)

    return wrapper


def operator_required(view):
    """Decorate an operator-only console page: log in first, and a 403 page for moderators."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = current_user()
        if user is None or auth_method() != "session":
            return _login_redirect()
        if not user.is_operator:
            page = render_template(
                "console/error.html",
                title="Operators only",
                message="This page is for operators. Ask an operator if you need something here.",
            )
            return page, 403
        return view(*args, **kwargs)

    return wrapper


def forbidden(message: str):
    """Refuse the request with 403 (the API answers it in the JSON error shape)."""
    raise ForbiddenError(message)


def safe_next(target: str | None, default: str) -> str:
    """Return target if it is a path on this site, else default (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    # Browsers treat a backslash like a slash ("/\\evil.example"), and control characters
    # can hide either: refuse them all.
    if "\\" in target or any(ord(char) < 32 for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def console_security_headers(response):
    """after_request for console blueprints: a strict CSP, no framing, no caching."""
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response
