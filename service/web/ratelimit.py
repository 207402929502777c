"""Rate limits on submit, report, delete and the console login (Flask-Limiter, counted in Redis).

Each public action is limited per site, separately per IP address (keyed hash, never the address)
and per commenter key; the limit strings come from the site's own settings or the config
defaults. Counting happens in Redis, so every API process shares one budget. Every attempt
counts, a refused or invalid one too: the limiter runs before the request body is validated.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, has_app_context, request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from limits import parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage

from service.core.hashing import hash_ip
from service.core.queues import sentinel_settings
from service.schemas.comments import COMMENTER_KEY
from service.web.request_site import request_site
from service.web.responses import error_response

log = logging.getLogger(__name__)

ACTIONS = ("submit", "report", "delete", "vote")
# The HTTP methods of each limited action: its view shares an endpoint with unlimited reads.
# An author's edit (PATCH) is a submission of new text, under the submit limit.
ACTION_METHODS = {
    "submit": ("POST", "PATCH"),
    "report": ("POST",),
    "delete": ("DELETE",),
    "sign_in": ("POST",),
    "vote": ("PUT", "DELETE"),
}
# Redis keys start with this, next to the queue's; tests clear "talkback:*" between tests.
KEY_PREFIX = "talkback:ratelimit"
MESSAGES = {
    "submit": "You're posting too fast. Please wait {seconds} seconds and try again.",
    "report": "You're sending reports too fast. Please wait {seconds} seconds and try again.",
    "delete": "You're deleting comments too fast. Please wait {seconds} seconds and try again.",
    "sign_in": "Too many sign-ins. Please wait {seconds} seconds and try again.",
    "vote": "You're voting too fast. Please wait {seconds} seconds and try again.",
    "login": "Too many login attempts from your network. "
    "Please wait {seconds} seconds and try again.",
    "other": "Too many requests. Please wait {seconds} seconds and try again.",
}
EXTENSION = "talkback_ratelimit"
LOCAL_EXTENSION = "talkback_ratelimit_local"
# After Redis fails, limits are counted in the process for this long before Redis is tried
# again: a dead Redis costs one timeout per process every few seconds, not one per request.
LOCAL_SECONDS = 5.0
SITE_CACHE = "talkback.ratelimit_site"
NO_SITE = "none"


class _LocalCounting:
    """The same limits counted in this process's memory, while the shared Redis is unreachable."""

    def __init__(self, strategy) -> None:
        self.strategy = type(strategy)(MemoryStorage())
        self.until = 0.0  # time.monotonic() before which Redis is not tried again

    def active(self) -> bool:
        """Whether limits are counted here (Redis failed less than LOCAL_SECONDS ago)."""
        return time.monotonic() < self.until


class _PerAppLimiter(Limiter):
    """A Limiter whose limits are declared once, at import, but that counts in each app's own
    storage (tests build many apps; a process in production builds one).

    When that storage (Redis) fails, the request's limits are counted again in the process's
    memory, and so are the next few seconds' (LOCAL_SECONDS): limits stay enforced, per process
    rather than shared, instead of letting everything through.
    """

    def init_app(self, app: Flask) -> None:
        """Set the limiter up for an app and keep the app's strategy (and storage) with it."""
        # Flask-Limiter merges each app's storage options into one dict kept on the limiter:
        # start from none, so one app's options (a Sentinel's) never reach another's storage.
        self._storage_options = {}
        super().init_app(app)
        app.extensions[EXTENSION] = self._limiter
        app.extensions[LOCAL_EXTENSION] = _LocalCounting(self._limiter)

    @property
    def limiter(self):
        """The rate-limiting strategy of the current app, bound to that app's storage."""
        if has_app_context() and EXTENSION in current_app.extensions:
            local = current_app.extensions[LOCAL_EXTENSION]
            if local.active():
                return local.strategy
            return current_app.extensions[EXTENSION]
        return super().limiter

    @property
    def storage(self):
        """The current app's storage."""
        return self.limiter.storage

    def _check_request_limit(self, callable_name=None, in_middleware=True) -> None:
        try:
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)
        except StorageError as error:
            log.warning(
                "rate limits counted in this process only for %.0f s: their Redis is "
                "unreachable (%s)",
                LOCAL_SECONDS,
                error.storage_error,
            )
            current_app.extensions[LOCAL_EXTENSION].until = time.monotonic() + LOCAL_SECONDS
            # Limits this request already passed are counted again, locally.
            self.context.seen_limits.clear()
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


def _client_ip_hash() -> str:
    return hash_ip(request.remote_addr or "unknown")


limiter = _PerAppLimiter(
    key_func=_client_ip_hash,
    strategy="fixed-window",
    # Errors are caught (and logged as warnings) by _check_request_limit, not swallowed silently.
    swallow_errors=False,
    headers_enabled=False,
)


def storage_uri(config) -> str:
    """Return where limits are counted: RATELIMIT_STORAGE_URI, else the queue's Redis (through
    its sentinels when REDIS_SENTINELS is set)."""
    uri = config.get("RATELIMIT_STORAGE_URI")
    if not uri and (sentinel := sentinel_settings(config)):
        # The limits library's spelling: redis+sentinel://host:port,host:port/master.
        hosts = ",".join(
            f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            for host, port in sentinel.addresses
        )
        return f"redis+sentinel://{hosts}/{sentinel.master}"
    uri = uri or config["REDIS_URL"]
    # redis-py spells a socket unix:///path; the limits library wants redis+unix:///path.
    if uri.startswith("unix://"):
        uri = "redis+" + uri
    return uri


def sentinel_storage_options(config, uri: str) -> dict:
    """Return the limits library's options for a redis+sentinel:// storage: the same database,
    credentials and timeouts as the queue's client, and no reads from replicas (they lag)."""
    sentinel = sentinel_settings(config)
    if sentinel is None or not uri.startswith("redis+sentinel://"):
        return {}
    return {
        **sentinel.master_kwargs,
        "sentinel_kwargs": sentinel.sentinel_kwargs,
        "use_replicas": False,
    }


def init_app(app: Flask) -> None:
    """Count the app's rate limits in its Redis and answer breaches with 429."""
    for name in [f"RATE_LIMIT_{action.upper()}" for action in (*ACTIONS, "login")]:
        if not is_valid_limit(app.config[name]):
            raise ValueError(
                f"{name} = {app.config[name]!r} is not a rate limit such as '5/minute;30/hour'."
            )
    # Flask-Limiter's own settings: where to count, and how.
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config)
    timeout = app.config["REDIS_SOCKET_TIMEOUT"]
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        "key_prefix": KEY_PREFIX,
        # Storage failures arrive as one exception type, caught in _check_request_limit.
        "wrap_exceptions": True,
        # A Redis that hangs must not hang submissions: give up quickly and count locally.
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        **sentinel_storage_options(app.config, app.config["RATELIMIT_STORAGE_URI"]),
    }
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _rate_limited)


def is_valid_limit(value: str) -> bool:
    """Tell whether a string is a Flask-Limiter limit such as "5/minute;30/hour"."""
    try:
        return bool(parse_many(value))
    except (ValueError, TypeError):
        return False


def _rate_limited(error: RateLimitExceeded) -> Response:
    """Answer with the response built when the limit was breached."""
    if error.response is not None:
        return error.response
    return _json_response("other", 60)


def retry_after_seconds(breached: RequestLimit) -> int:
    """Return in how many whole seconds the breached limit's window lets requests through."""
    # window[0] is when the window ends (RequestLimit.reset_at adds a second to it).
    return max(1, math.ceil(breached.window[0] - time.time()))


def _json_response(action: str, seconds: int) -> Response:
    return error_response(
        429,
        "rate_limited",
        MESSAGES[action].format(seconds=seconds),
        headers={"Retry-After": str(seconds)},
    )


# --- The public API's limits ---------------------------------------------------------------


def _site_of_request() -> tuple[int | None, dict]:
    """Return the id and rate_limits of the site the request is about (cached per request)."""
    site = request_site()
    return (site.id, site.rate_limits) if site else (None, {})


def limit_for(action: str) -> str:
    """Return the limit string of an action on the request's site: its own, else the default."""
    default = current_app.config[f"RATE_LIMIT_{action.upper()}"]
    # Flask-Limiter also asks while other methods of the same endpoint (reading a thread) run;
    # answer those without a database query.
    if request.method not in ACTION_METHODS[action]:
        return default
    _, overrides = _site_of_request()
    value = overrides.get(action)
    if value and is_valid_limit(value):
        return value
    if value:
        log.warning("site rate limit %r for %s is not valid; using %r", value, action, default)
    return default


def _site_part() -> str:
    site_id, _ = _site_of_request()
    # Unknown sites and comments answer 404, but the attempts still count (in one bucket).
    return f"site:{site_id if site_id is not None else NO_SITE}"


def _ip_key() -> str:
    return f"{_site_part()}:ip:{_client_ip_hash()}"


def _commenter_key() -> str | None:
    """The commenter key the body carries, if it is one: anything else gets no key budget (and
    the schema's 422)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deeply to parse; the view answers 400
        return None
    key = body.get("commenter_key") if isinstance(body, dict) else None
    return key if isinstance(key, str) and COMMENTER_KEY.regex.fullmatch(key) else None


def _key_key() -> str:
    return f"{_site_part()}:key:{_commenter_key()}"


def _json_breach(action: str) -> Callable[[RequestLimit], Response]:
    def respond(breached: RequestLimit) -> Response:
        return _json_response(action, retry_after_seconds(breached))

    return respond


def limited(action: str, *, by_commenter_key: bool = True):
    """Decorate a public API view: limit it per site and IP hash, and per commenter key."""
    by_ip = limiter.limit(
        lambda: limit_for(action),
        key_func=_ip_key,
        on_breach=_json_breach(action),
    )
    if not by_commenter_key:
        return by_ip
    by_key = limiter.limit(
        lambda: limit_for(action),
        key_func=_key_key,
        exempt_when=lambda: _commenter_key() is None,
        on_breach=_json_breach(action),
    )

    def decorate(view):
        return by_ip(by_key(view))

    return decorate


# --- The console login ---------------------------------------------------------------------


def limited_login(page: Callable[[str], str]):
    """Decorate the login view: limit its POSTs per IP hash; `page(message)` renders the 429."""

    def respond(breached: RequestLimit) -> Response:
        seconds = retry_after_seconds(breached)
        body = page(MESSAGES["login"].format(seconds=seconds))
        return Response(body, status=429, headers={"Retry-After": str(seconds)})

    return limiter.limit(
        lambda: current_app.config["RATE_LIMIT_LOGIN"],
        key_func=lambda: f"login:ip:{_client_ip_hash()}",
        methods=["POST"],
        on_breach=respond,
    )
