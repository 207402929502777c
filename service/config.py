"""Every setting Talkback reads, with its default and why; the only module that reads os.environ."""

import os
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-change-me"

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The embedded default database lives in instance/ (Flask's instance folder) of the checkout.
INSTANCE_DIR = Path(os.environ.get("TALKBACK_INSTANCE_DIR", PROJECT_DIR / "instance"))
# Alembic scripts; an installed package (e.g. in the container image) points here explicitly.
MIGRATIONS_DIR = Path(os.environ.get("TALKBACK_MIGRATIONS_DIR", PROJECT_DIR / "migrations"))


def database_url(url: str) -> str:
    """Return a database URL that uses psycopg 3 for PostgreSQL (the driver we install)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redis_sentinels(value: str) -> list[tuple[str, int]]:
    """Parse REDIS_SENTINELS ("host:port,host:port,...") into addresses; "" means no Sentinel."""
    addresses = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"REDIS_SENTINELS = {value!r}: {item!r} is not host:port; expected a "
                "comma-separated list such as 'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379'."
            )
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Settings read from the environment when the class is defined."""

    # "production" refuses to start with the default secret; anything else is a developer machine.
    TALKBACK_ENV = os.environ.get("TALKBACK_ENV", "development")
    # Signs sessions and keys the hashes of emails and IP addresses (HMAC), so it must stay stable.
    SECRET_KEY = os.environ.get("TALKBACK_SECRET_KEY", DEFAULT_SECRET_KEY)

    # SQLite under instance/ by default; PostgreSQL in production, e.g.
    # postgresql+psycopg://user:password@host:5432/talkback (postgresql:// works too).
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'talkback.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    # The queue, and later rate limits and caches; `make run` points it at an embedded Redis.
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    # Fail fast when Redis is down so a submission still answers 202 quickly (the sweeper retries).
    REDIS_SOCKET_TIMEOUT = _env_float("TALKBACK_REDIS_TIMEOUT", 1.0)
    # Redis Sentinel: when set, every client (queue, workers, sweeper, read cache, rate limits)
    # asks these sentinels for the current master of REDIS_SENTINEL_MASTER, and follows a
    # failover. REDIS_URL then gives only the database number and the master's password
    # (redis://:password@ignored/0); REDIS_SENTINEL_PASSWORD is the sentinels' own, if any.
    REDIS_SENTINELS = redis_sentinels(os.environ.get("REDIS_SENTINELS", ""))
    REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER") or "mymaster"
    REDIS_SENTINEL_PASSWORD = os.environ.get("REDIS_SENTINEL_PASSWORD", "")

    # Reverse proxies in front of the API; their X-Forwarded-For entries are trusted, no others.
    PROXY_COUNT = _env_int("TALKBACK_PROXY_COUNT", 0)
    # /metrics answers only with `Authorization: Bearer <this>`; unset, it is off (404).
    METRICS_TOKEN = os.environ.get("TALKBACK_METRICS_TOKEN", "")
    # prometheus-client's multiprocess mode (gunicorn, workers in other processes): one shared
    # folder, emptied before the processes start; the library reads the same variable.
    METRICS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

    # Moderation: a score at or above *_HOLD waits for a moderator, at or above *_REJECT is
    # rejected outright, below *_HOLD is approved.
    TOXICITY_HOLD = _env_float("TALKBACK_TOXICITY_HOLD", 0.5)
    TOXICITY_REJECT = _env_float("TALKBACK_TOXICITY_REJECT", 0.9)
    SPAM_HOLD = _env_float("TALKBACK_SPAM_HOLD", 0.5)
    SPAM_REJECT = _env_float("TALKBACK_SPAM_REJECT", 0.9)
    # (Nearly) identical text posted on the same site within this window counts as a duplicate.
    DUPLICATE_WINDOW_SECONDS = _env_int("TALKBACK_DUPLICATE_WINDOW", 3600)
    # Posting velocity is counted per commenter key and per IP address over this window.
    VELOCITY_WINDOW_SECONDS = _env_int("TALKBACK_VELOCITY_WINDOW", 600)
    # External scorers are off unless configured. Akismet: set the key and the site's URL;
    # "open" ignores Akismet when it fails, "closed" holds the comment for a moderator.
    AKISMET_API_KEY = os.environ.get("TALKBACK_AKISMET_KEY", "")
    AKISMET_SITE_URL = os.environ.get("TALKBACK_AKISMET_SITE_URL", "")
    AKISMET_ENDPOINT = os.environ.get(
        "TALKBACK_AKISMET_ENDPOINT", "https://rest.akismet.com/1.1/comment-check"
    )
    AKISMET_TIMEOUT_SECONDS = _env_float("TALKBACK_AKISMET_TIMEOUT", 2.0)
    AKISMET_FAILURE_POLICY = os.environ.get("TALKBACK_AKISMET_FAILURE_POLICY", "open")
    # A moderation job that runs longer than this is killed and retried by the sweeper.
    JOB_TIMEOUT_SECONDS = _env_int("TALKBACK_JOB_TIMEOUT", 60)
    # A job with a backlog behind it moderates up to this many comments in one transaction and
    # one Redis round trip (1 turns batching off).
    MODERATION_BATCH_SIZE = max(1, _env_int("TALKBACK_MODERATION_BATCH", 50))
    # CPU threads each worker gives the semantic model (ONNX Runtime). One per worker process
    # scales best: run as many workers as cores (docs/operators.md, "Scaling").
    MODEL_THREADS = max(1, _env_int("TALKBACK_MODEL_THREADS", 1))

    # The sweeper re-enqueues comments still pending this long after submission (outbox retry).
    SWEEP_AFTER_SECONDS = _env_float("TALKBACK_SWEEP_AFTER", 10.0)
    SWEEP_INTERVAL_SECONDS = _env_float("TALKBACK_SWEEP_INTERVAL", 5.0)

    # A moderator may take back their own decision this long after making it (the console's
    # undo button), as long as nobody has changed the comment since.
    UNDO_SECONDS = _env_float("TALKBACK_UNDO_SECONDS", 10.0)

    # Console sessions: a signed cookie (SECRET_KEY) that scripts can't read and that other sites'
    # forms don't carry; Secure whenever the request is HTTPS (service.web.auth), and always in
    # production (a TLS proxy may not say so in X-Forwarded-Proto), unless
    # TALKBACK_SECURE_COOKIES=0 says otherwise.
    SESSION_COOKIE_NAME = "talkback_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = (
        os.environ.get("TALKBACK_SECURE_COOKIES", "1" if TALKBACK_ENV == "production" else "0")
        == "1"
    )
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Cost of the argon2id password hashes: "standard" is argon2-cffi's default (RFC 9106
    # low-memory profile: t=3, m=65536 KiB, p=4); anything else names parameters as in a hash,
    # e.g. "t=1,m=1024,p=1", which only test suites should use. A login rehashes a password
    # stored with other parameters.
    PASSWORD_HASH_COST = os.environ.get("TALKBACK_PASSWORD_HASH_COST", "standard")
    # The demo article pages (/demo, /demo/he, /demo/list): `make run` turns them on; a
    # production deployment has no use for them.
    DEMO_PAGES = os.environ.get("TALKBACK_DEMO_PAGES", "0") == "1"
    # CSRF tokens live as long as the session: a console tab left open for hours still works.
    WTF_CSRF_TIME_LIMIT = None

    # Rate limits (Flask-Limiter syntax, ";" between several) per site and per IP address and,
    # separately, per commenter key; a site's own settings override these. Counted in Redis so
    # every API process shares them; while Redis is down each process counts them on its own.
    RATE_LIMIT_SUBMIT = os.environ.get("TALKBACK_RATE_LIMIT_SUBMIT", "5/minute;30/hour")
    RATE_LIMIT_REPORT = os.environ.get("TALKBACK_RATE_LIMIT_REPORT", "10/minute;60/hour")
    RATE_LIMIT_DELETE = os.environ.get("TALKBACK_RATE_LIMIT_DELETE", "10/minute;60/hour")
    # Reader sign-ins (SSO token exchanges) per site and IP address; no per-site override.
    RATE_LIMIT_SIGN_IN = os.environ.get("TALKBACK_RATE_LIMIT_SIGN_IN", "30/minute;300/hour")
    RATE_LIMIT_VOTE = os.environ.get("TALKBACK_RATE_LIMIT_VOTE", "30/minute;300/hour")
    # Console logins per IP address, against password guessing across accounts.
    RATE_LIMIT_LOGIN = os.environ.get("TALKBACK_RATE_LIMIT_LOGIN", "10/minute;100/hour")
    # Where the limits are counted (redis://, rediss:// or unix:///path); the queue's Redis
    # (REDIS_URL) unless set.
    RATELIMIT_STORAGE_URI = os.environ.get("TALKBACK_RATELIMIT_STORAGE_URL") or None

    # SSO sign-in (service/core/sso.py): clock skew tolerated on a publisher's token (exp, nbf,
    # iat); a token issued longer ago than SSO_MAX_TOKEN_AGE is refused however long its exp;
    # the reader session a token is exchanged for lasts SSO_SESSION_SECONDS (or until the
    # token's own exp if later, at most SSO_SESSION_MAX_SECONDS).
    SSO_LEEWAY_SECONDS = _env_int("TALKBACK_SSO_LEEWAY", 60)
    SSO_MAX_TOKEN_AGE_SECONDS = _env_int("TALKBACK_SSO_MAX_TOKEN_AGE", 24 * 3600)
    SSO_SESSION_SECONDS = _env_int("TALKBACK_SSO_SESSION_SECONDS", 12 * 3600)
    SSO_SESSION_MAX_SECONDS = _env_int("TALKBACK_SSO_SESSION_MAX_SECONDS", 7 * 24 * 3600)

    # Webhooks (service/core/webhooks.py): a receiver must answer 2xx within WEBHOOK_TIMEOUT;
    # a failed attempt is retried after each of WEBHOOK_RETRY_SCHEDULE's delays in seconds
    # (1 m, 5 m, 30 m, 2 h, 5 h, 10 h, 10 h: 8 attempts over about 28 hours), then the delivery
    # is marked failed. A rotated secret keeps signing beside the new one this many hours.
    WEBHOOK_TIMEOUT_SECONDS = _env_float("TALKBACK_WEBHOOK_TIMEOUT", 10.0)
    WEBHOOK_RETRY_SCHEDULE = tuple(
        int(part)
        for part in os.environ.get(
            "TALKBACK_WEBHOOK_RETRY_SCHEDULE", "60,300,1800,7200,18000,36000,36000"
        ).split(",")
        if part.strip()
    )
    WEBHOOK_ROTATION_HOURS = _env_float("TALKBACK_WEBHOOK_ROTATION_HOURS", 24.0)
    # Deliver to loopback and private addresses on every endpoint (development and tests only;
    # in production an operator allows it per endpoint, knowingly).
    WEBHOOKS_ALLOW_PRIVATE = os.environ.get("TALKBACK_WEBHOOKS_ALLOW_PRIVATE", "0") == "1"

    # Privacy: IP address and network hashes are erased from comments and reports this many
    # days after they were written (they only serve bans, velocity and abuse investigation).
    IP_RETENTION_DAYS = _env_int("TALKBACK_IP_RETENTION_DAYS", 30)

    # Requests larger than this answer 413; a comment is at most 5,000 characters.
    MAX_CONTENT_LENGTH = 256 * 1024

    # Public read path: page size and how long browsers and CDNs may reuse a thread.
    PAGE_SIZE_DEFAULT = 20
    PAGE_SIZE_MAX = 100
    THREAD_MAX_AGE_SECONDS = _env_int("TALKBACK_THREAD_MAX_AGE", 10)
    # A CDN in front (s-maxage) may keep a thread as long, then serve it stale while it asks
    # again with If-None-Match (a 304 from the read cache costs almost nothing).
    THREAD_SHARED_MAX_AGE_SECONDS = _env_int("TALKBACK_THREAD_SHARED_MAX_AGE", 5)
    THREAD_STALE_WHILE_REVALIDATE_SECONDS = _env_int("TALKBACK_THREAD_STALE_WHILE_REVALIDATE", 30)
    # Rendered thread pages and counts stay in Redis this long (0 turns the read cache off).
    # Every change readers can see replaces its article's version, so this only bounds how long
    # a page could stay stale if Redis was unreachable when a change was published.
    READ_CACHE_SECONDS = _env_int("TALKBACK_READ_CACHE_SECONDS", 300)
    COUNTS_MAX_ARTICLES = 100
    # The live "N new comments" poll: browsers and CDNs may reuse an answer this long (a few
    # seconds late is fine for a hint, and a CDN then answers most of a hot thread's polls).
    LIVE_MAX_AGE_SECONDS = _env_int("TALKBACK_LIVE_MAX_AGE", 5)
    # Votes: at most this many distinct readers per address hash may vote on one comment
    # (anti-stuffing; beyond it a vote is refused with 403).
    VOTE_IP_CAP = _env_int("TALKBACK_VOTE_IP_CAP", 5)
    # Votes never replace an article's version: cached pages carry counts at most this many
    # seconds old, and a thread that gets votes is re-rendered at most once per this period.
    VOTE_COUNTS_SECONDS = _env_int("TALKBACK_VOTE_COUNTS_SECONDS", 15)
    # sort=top recomputes an article's scores at most this often (a new ranking epoch); a
    # cursor stays valid for its epoch and the next one, so at least this long.
    RANK_EPOCH_SECONDS = _env_int("TALKBACK_RANK_EPOCH_SECONDS", 300)

    # E-mail notifications (service/core/mail.py): off unless MAIL_SMTP_HOST is set. Mail goes
    # out from RQ jobs, never in a request. MAIL_SMTP_SECURITY is "starttls", "ssl" or "none".
    MAIL_SMTP_HOST = os.environ.get("TALKBACK_SMTP_HOST", "")
    MAIL_SMTP_PORT = _env_int("TALKBACK_SMTP_PORT", 587)
    MAIL_SMTP_USER = os.environ.get("TALKBACK_SMTP_USER", "")
    MAIL_SMTP_PASSWORD = os.environ.get("TALKBACK_SMTP_PASSWORD", "")
    MAIL_SMTP_SECURITY = os.environ.get("TALKBACK_SMTP_SECURITY", "starttls")
    MAIL_SMTP_TIMEOUT_SECONDS = _env_float("TALKBACK_SMTP_TIMEOUT", 10.0)
    MAIL_FROM = os.environ.get("TALKBACK_MAIL_FROM", "")
    # Links in mail (confirm, unsubscribe) start with this, e.g. https://comments.example.com.
    PUBLIC_URL = os.environ.get("TALKBACK_PUBLIC_URL", "")
    # An optional mailto: unsubscribe address for List-Unsubscribe besides the one-click URL.
    MAIL_UNSUBSCRIBE_MAILTO = os.environ.get("TALKBACK_MAIL_UNSUBSCRIBE_MAILTO", "")
    # At most this many mails per recipient per hour; beyond it, replies wait for the digest.
    MAIL_RATE_PER_HOUR = _env_int("TALKBACK_MAIL_RATE_PER_HOUR", 10)
    # A failed send is tried again after 1, 2, 4 ... minutes, this many times in all, then
    # marked failed in the outbox (never dropped silently).
    MAIL_MAX_ATTEMPTS = max(1, _env_int("TALKBACK_MAIL_MAX_ATTEMPTS", 8))
    MAIL_RETRY_BASE_SECONDS = _env_float("TALKBACK_MAIL_RETRY_BASE", 60.0)

    # flask-smorest: the OpenAPI document is served at /api/v1/openapi.json.
    API_TITLE = "Talkback"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
