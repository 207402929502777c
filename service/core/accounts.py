"""Service layer for moderator and operator accounts: passwords, logins, API tokens, sites."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import select, update

from service.core.hashing import hash_ip
from service.errors import ConflictError, NotFoundError, TalkbackError, UnprocessableError
from service.extensions import db
from service.models import ApiToken, Site, User, UserRole, utcnow

log = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[a-z0-9_.-]{3,40}")
PASSWORD_MIN_LENGTH = 8
# argon2 hashes whatever it is given; a cap keeps one login from costing much more than another.
PASSWORD_MAX_LENGTH = 200
TOKEN_PREFIX = "tb_"
TOKEN_NAME_MAX_LENGTH = 100

# Lockout: this many failures in a row lock the username for LOCKOUT_DURATION.
MAX_FAILED_LOGINS = 5
LOCKOUT_DURATION = timedelta(minutes=15)
# Slow-down: each failure beyond the third waits SLOWDOWN_STEP seconds more, up to SLOWDOWN_MAX.
SLOWDOWN_AFTER = 3
SLOWDOWN_STEP = 0.5
SLOWDOWN_MAX = 2.0
# last_used_at is a hint for people, not an audit trail: write it at most once a minute per token.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)

WRONG_CREDENTIALS = "That username and password don't match an account. Check both and try again."

# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile): PASSWORD_HASH_COST
# "standard", the production cost.
_hasher = PasswordHasher()
# The hasher of each PASSWORD_HASH_COST in use, and a throwaway hash made with it (_burn_time).
_hashers: dict[str, PasswordHasher] = {"standard": _hasher}
_dummy_hashes: dict[str, str] = {}
# Time.sleep, named so tests can skip the slow-down's waiting while still checking its length.
_sleep = time.sleep
# The argon2 parameters PASSWORD_HASH_COST may set, by their names in the PHC string.
_COST_PARAMETERS = {"t": "time_cost", "m": "memory_cost", "p": "parallelism"}


class AuthenticationError(TalkbackError):
    """A login that did not succeed, with the message to show the person logging in."""

    status = 401
    code = "unauthorized"


def normalize_username(username: str) -> str:
    """Return the stored form of a username (trimmed, lowercase)."""
    return (username or "").strip().lower()


def password_hasher(cost: str = "standard") -> PasswordHasher:
    """Return the argon2id hasher of a PASSWORD_HASH_COST setting.

    "standard" is argon2-cffi's default (RFC 9106 low-memory profile); otherwise the setting names
    parameters as a hash's PHC string does, e.g. "t=1,m=1024,p=1" (time cost, memory in KiB,
    parallelism), and those it leaves out keep their default.
    """
    hasher = _hashers.get(cost)
    if hasher is None:
        hasher = _hashers[cost] = PasswordHasher(**_cost_parameters(cost))
    return hasher


def _cost_parameters(cost: str) -> dict[str, int]:
    problem = (
        f"TALKBACK_PASSWORD_HASH_COST must be 'standard' or argon2 parameters such as "
        f"'t=1,m=1024,p=1', not {cost!r}"
    )
    parameters: dict[str, int] = {}
    for part in cost.split(","):
        name, _, value = part.strip().partition("=")
        if name not in _COST_PARAMETERS or name in parameters or not value.strip().isdigit():
            raise ValueError(problem)
        parameters[name] = int(value)
    time_cost = parameters.get("t", _hasher.time_cost)
    memory_cost = parameters.get("m", _hasher.memory_cost)
    parallelism = parameters.get("p", _hasher.parallelism)
    if time_cost < 1 or parallelism < 1 or memory_cost < 8 * parallelism:
        raise ValueError(f"{problem} (t and p at least 1, m at least 8 * p)")
    return {_COST_PARAMETERS[name]: value for name, value in parameters.items()}


def _app_cost() -> str:
    """The current app's PASSWORD_HASH_COST ("standard" outside an app)."""
    if not has_app_context():
        return "standard"
    return current_app.config.get("PASSWORD_HASH_COST", "standard")


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password (never store the password itself)."""
    return password_hasher(_app_cost()).hash(password)


def _check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise UnprocessableError(
            "A username has 3 to 40 characters: letters a-z, digits, '.', '_' or '-'.",
            {"username": ["Use 3 to 40 characters: letters a-z, digits, '.', '_' or '-'."]},
        )
    return name


def _check_password(password: str) -> None:
    if not password or len(password) < PASSWORD_MIN_LENGTH:
        message = f"A password needs at least {PASSWORD_MIN_LENGTH} characters."
        raise UnprocessableError(message, {"password": [message]})
    if len(password) > PASSWORD_MAX_LENGTH:
        message = f"A password may have at most {PASSWORD_MAX_LENGTH} characters."
        raise UnprocessableError(message, {"password": [message]})


def generate_password() -> str:
    """Return a random password to print for a new account (about 120 bits)."""
    return secrets.token_urlsafe(15)


def find_user(username: str) -> User | None:
    """Return the account with this username (any case), or None."""
    return db.session.scalar(select(User).where(User.username == normalize_username(username)))


def get_user(username: str) -> User:
    """Return the account with this username, or raise NotFoundError."""
    user = find_user(username)
    if user is None:
        raise NotFoundError(f"There is no account '{normalize_username(username)}'.")
    return user


def _resolve_sites(sites: Iterable[Site | str | int]) -> list[Site]:
    """Turn Site objects, site keys or site ids into Site rows, or name the unknown ones."""
    resolved, unknown = [], []
    for item in sites:
        if isinstance(item, Site):
            resolved.append(item)
            continue
        column = Site.id if isinstance(item, int) else Site.key
        site = db.session.scalar(select(Site).where(column == item))
        if site is None:
            unknown.append(str(item))
        else:
            resolved.append(site)
    if unknown:
        raise NotFoundError(f"There is no site {', '.join(repr(key) for key in unknown)}.")
    return list({site.id: site for site in resolved}.values())


def create_user(
    username: str,
    password: str,
    role: UserRole | str = UserRole.MODERATOR,
    sites: Iterable[Site | str | int] = (),
) -> User:
    """Create and commit an active account; sites (Site objects, keys or ids) are for moderators."""
    name = _check_username(username)
    _check_password(password)
    try:
        role = UserRole(role)
    except ValueError:
        raise UnprocessableError(
            "The role must be 'operator' or 'moderator'.", {"role": ["Unknown role."]}
        ) from None
    if find_user(name) is not None:
        raise ConflictError(f"The username '{name}' is taken.")
    user = User(username=name, password_hash=hash_password(password), role=role)
    user.sites = _resolve_sites(sites)
    db.session.add(user)
    db.session.commit()
    log.info("account %s created (%s)", name, role.value)
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password, lift any lockout and log out the account's other sessions."""
    _check_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_version = (user.session_version or 0) + 1
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Activate or deactivate an account; deactivating ends its sessions (tokens stop too)."""
    user.is_active = active
    user.session_version = (user.session_version or 0) + 1
    db.session.commit()


def assign_sites(user: User, sites: Iterable[Site | str | int]) -> None:
    """Replace the sites a moderator works on (Site objects, keys or ids)."""
    user.sites = _resolve_sites(sites)
    db.session.commit()


def slowdown_seconds(failed_logins: int) -> float:
    """Return how long to wait before answering a failed login, given the failures so far."""
    return min(SLOWDOWN_MAX, max(0, failed_logins - SLOWDOWN_AFTER) * SLOWDOWN_STEP)


def _verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher(_app_cost()).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _burn_time(password: str) -> None:
    """Verify against a throwaway hash, so an unknown username takes as long as a wrong password."""
    cost = _app_cost()
    if cost not in _dummy_hashes:
        _dummy_hashes[cost] = password_hasher(cost).hash(secrets.token_urlsafe(16))
    _verify_password(_dummy_hashes[cost], password)


def _locked_message(until: datetime) -> str:
    minutes = max(1, round((until - utcnow()).total_seconds() / 60))
    return (
        f"Too many failed logins: this account is locked for {LOCKOUT_DURATION.seconds // 60} "
        f"minutes. Try again after {until:%H:%M} UTC (in about {minutes} minute"
        f"{'s' if minutes != 1 else ''})."
    )


def authenticate(username: str, password: str, ip: str | None = None) -> User:
    """Check a login; return the user, or raise AuthenticationError with a message to show.

    Counts failures per username: 5 in a row lock it for 15 minutes, and each failure beyond
    the third is answered more slowly. Failures are logged with the keyed hash of the address.
    """
    name = normalize_username(username)
    who = f"{name[:40]!r} from {hash_ip(ip)[:12] if ip else 'unknown address'}"
    password = password or ""
    user = find_user(name) if name else None
    if user is None:
        _burn_time(password[:PASSWORD_MAX_LENGTH])
        log.warning("failed login for unknown account %s", who)
        raise AuthenticationError(WRONG_CREDENTIALS)

    now = utcnow()
    if user.locked_until is not None:
        if user.locked_until > now:
            log.warning("login refused for locked account %s", who)
            _sleep(SLOWDOWN_MAX)
            raise AuthenticationError(_locked_message(user.locked_until))
        # The lock has run out: start counting afresh.
        user.failed_logins = 0
        user.locked_until = None
        db.session.commit()

    if len(password) > PASSWORD_MAX_LENGTH or not _verify_password(user.password_hash, password):
        failures = _record_failure(user, now)
        log.warning("failed login %d for account %s", failures, who)
        _sleep(slowdown_seconds(failures))
        if failures >= MAX_FAILED_LOGINS:
            raise AuthenticationError(_locked_message(user.locked_until))
        raise AuthenticationError(WRONG_CREDENTIALS)

    if not user.is_active:
        log.warning("login refused for deactivated account %s", who)
        raise AuthenticationError("This account is deactivated. Ask an operator to reactivate it.")
    if password_hasher(_app_cost()).check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # parameters were raised since it was set
    user.failed_logins = 0
    user.last_login_at = now
    db.session.commit()
    log.info("login of account %s", who)
    return user


def _record_failure(user: User, now: datetime) -> int:
    """Count one failed login atomically (parallel guesses all count); lock at the limit."""
    db.session.execute(
        update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
    )
    db.session.commit()
    db.session.refresh(user)
    if user.failed_logins >= MAX_FAILED_LOGINS and user.locked_until is None:
        user.locked_until = now + LOCKOUT_DURATION
        db.session.commit()
    return user.failed_logins


def hash_api_token(token: str) -> str:
    """Return the stored form of an API token (SHA-256 hex)."""
    # Plain SHA-256 is enough: tokens are 240 random bits, there is nothing to guess.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create and commit an API token for a user; return it and the token string (shown once)."""
    name = (name or "").strip() or f"token {utcnow():%Y-%m-%d %H:%M}"
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        message = f"A token name may have at most {TOKEN_NAME_MAX_LENGTH} characters."
        raise UnprocessableError(message, {"name": [message]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(30)  # 30 bytes → 40 URL-safe characters
    api_token = ApiToken(user_id=user.id, name=name, token_hash=hash_api_token(token))
    db.session.add(api_token)
    db.session.commit()
    log.info("API token %d (%s) created for account %s", api_token.id, name, user.username)
    return api_token, token


def list_tokens(user: User) -> list[ApiToken]:
    """Return a user's API tokens, newest first (revoked ones included)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(token_id: int, user: User | None = None) -> ApiToken:
    """Revoke an API token (only the user's own when a user is given); revoking twice is fine."""
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None or (user is not None and api_token.user_id != user.id):
        raise NotFoundError(f"There is no API token {token_id}.")
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        db.session.commit()
        log.info("API token %d revoked", token_id)
    return api_token


def verify_token(token: str | None) -> User | None:
    """Return the active user a presented API token belongs to, or None (unknown or revoked)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_api_token(token)
    api_token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    )
    # The lookup is by hash (an index, not a comparison of secrets); compare again in constant
    # time anyway so no code path compares the secret byte by byte.
    if api_token is None or not hmac.compare_digest(api_token.token_hash, digest):
        return None
    user = api_token.user
    if not user.is_active:
        return None
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_TOUCH_INTERVAL:
        api_token.last_used_at = now
        db.session.commit()
    return user


def list_users() -> list[User]:
    """Return every account, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def ensure_admin(username: str, password: str | None) -> tuple[bool, str | None]:
    """Make sure an operator account exists (for `make run`); return (created, new password).

    A new account gets `password`, or a generated one. An existing account keeps its password
    unless `password` is given, which resets it (and lifts a lockout). The returned password is
    None when it did not change.
    """
    user = find_user(username)
    if user is None:
        password = password or generate_password()
        create_user(username, password, UserRole.OPERATOR)
        return True, password
    if password:
        set_password(user, password)
        return False, password
    return False, None
