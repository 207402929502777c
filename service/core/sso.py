"""Sign-in with the publisher's own login (SSO): the site's keys, the publisher's tokens, and the
reader sessions they are exchanged for.

A publisher's login signs a short JWT about the reader (sub, name, badges, exp, iat, jti) with a
key the site registered here: an HS256 secret (kept encrypted) or an RS256/ES256 public key. The
widget exchanges that token once (its jti is then spent) for a Talkback reader session, our own
JWT signed with a key derived from SECRET_KEY and bound to the site, which it sends as
`Authorization: Bearer` on later calls. The algorithm is always the key's, never the token's.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select

from service.core import secrets_box
from service.core.hashing import hash_email, hash_email_domain
from service.core.operator_log import record_action
from service.core.queues import redis_connection
from service.core.sanitize import has_visible_text, plain_text
from service.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    SessionExpiredError,
    UnauthorizedError,
    UnprocessableError,
)
from service.extensions import db
from service.models import Site, SsoKey, utcnow

ALGORITHMS = ("HS256", "RS256", "ES256")
KID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
# RFC 7518 3.2: an HS256 key must be at least as long as the hash (32 bytes).
HS256_MIN_BYTES = 32
RSA_MIN_BITS = 2048
SUB_MAX = 64
NAME_MAX = 60
EMAIL_MAX = 254
JTI_MAX = 200
BADGES_MAX = 5
BADGE_MAX = 24
SESSION_ISSUER = "talkback"
REPLAY_PREFIX = "talkback:sso:jti:"
NO_KEYS = "This site does not accept sign-in tokens."
BAD_SIGNATURE = "The sign-in token's signature does not match any of this site's keys."


@dataclass(frozen=True)
class Reader:
    """A reader signed in with the publisher's login, as their session tells it."""

    site_id: int
    sso_id: str
    name: str
    badges: tuple[str, ...] = ()
    email_hash: str | None = None
    email_domain_hash: str | None = None
    # The token's email, encrypted (service.core.secrets_box): only notification mail uses it.
    email_encrypted: str | None = None


@dataclass(frozen=True)
class Session:
    """A reader session handed to the widget in exchange for a publisher's token."""

    session: str
    reader: Reader
    expires_at: datetime


# --- Keys --------------------------------------------------------------------------------------


def _fingerprint(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:16]


def _site(site_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise NotFoundError(f"There is no site '{site_key}'.")
    return site


def _check_kid(site: Site, kid: str | None, algorithm: str) -> str:
    """Return the given key id (or a new one), refusing a malformed or already used one."""
    if kid is None:
        kid = f"{algorithm.lower()}-{utcnow():%Y%m%d}-{secrets.token_hex(3)}"
    if not KID_PATTERN.fullmatch(kid):
        message = "Use 1 to 64 letters, digits, '.', '-' or '_'."
        raise UnprocessableError("The key id is not valid.", {"kid": [message]})
    taken = db.session.scalar(select(SsoKey.id).where(SsoKey.site_id == site.id, SsoKey.kid == kid))
    if taken is not None:
        raise ConflictError(f"Site '{site.key}' already has a key '{kid}' (keys are never reused).")
    return kid


def _load_public_key(algorithm: str, pem: str):
    """Parse a PEM public key and check it suits the algorithm, or raise 422 naming `public_key`."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UnprocessableError(
            "The public key is not a PEM public key.",
            {"public_key": ["Paste the key as PEM ('-----BEGIN PUBLIC KEY-----' ...)."]},
        ) from None
    if algorithm == "RS256":
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < RSA_MIN_BITS:
            message = f"RS256 needs an RSA public key of at least {RSA_MIN_BITS} bits."
            raise UnprocessableError(message, {"public_key": [message]})
    elif not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        message = "ES256 needs an EC public key on the P-256 curve."
        raise UnprocessableError(message, {"public_key": [message]})
    return key


def add_key(
    site_key: str,
    algorithm: str,
    *,
    actor: str,
    kid: str | None = None,
    secret: str | None = None,
    public_key: str | None = None,
) -> tuple[SsoKey, str | None]:
    """Add a signing key to a site; returns it and, for HS256, the secret (shown this once).

    HS256 takes the given secret (at least 32 bytes) or generates one; RS256/ES256 take a PEM
    public key.
    """
    if algorithm not in ALGORITHMS:
        message = "Must be one of: " + ", ".join(ALGORITHMS) + "."
        raise UnprocessableError("Unknown algorithm.", {"algorithm": [message]})
    site = _site(site_key)
    kid = _check_kid(site, kid, algorithm)
    key = SsoKey(site_id=site.id, kid=kid, algorithm=algorithm, created_by=actor)
    if algorithm == "HS256":
        if public_key:
            message = "HS256 uses a shared secret, not a public key."
            raise UnprocessableError(message, {"public_key": [message]})
        secret = secret or secrets.token_urlsafe(48)
        if len(secret.encode()) < HS256_MIN_BYTES:
            message = f"Use a secret of at least {HS256_MIN_BYTES} bytes (RFC 7518)."
            raise UnprocessableError(message, {"secret": [message]})
        key.secret_encrypted = secrets_box.encrypt(secret, secrets_box.SSO_SECRETS)
        key.fingerprint = _fingerprint(secret.encode())
    else:
        if secret:
            message = f"{algorithm} verifies with a public key; the secret stays with you."
            raise UnprocessableError(message, {"secret": [message]})
        if not public_key:
            message = f"Give the {algorithm} public key (PEM)."
            raise UnprocessableError(message, {"public_key": [message]})
        loaded = _load_public_key(algorithm, public_key)
        der = loaded.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key.public_key = loaded.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        key.fingerprint = _fingerprint(der)
    db.session.add(key)
    record_action(
        actor,
        "sso.key.add",
        f"site {site.key}",
        {"kid": kid, "algorithm": algorithm, "fingerprint": key.fingerprint},
    )
    db.session.commit()
    return key, secret if algorithm == "HS256" else None


def list_keys(site_key: str) -> list[SsoKey]:
    """Return a site's keys, active and retired, oldest first."""
    site = _site(site_key)
    return list(
        db.session.scalars(
            select(SsoKey).where(SsoKey.site_id == site.id).order_by(SsoKey.created_at, SsoKey.id)
        )
    )


def key_dict(key: SsoKey) -> dict:
    """Return what lists show of a key: never its secret."""
    return {
        "kid": key.kid,
        "algorithm": key.algorithm,
        "fingerprint": key.fingerprint,
        "public_key": key.public_key,
        "active": key.is_active,
        "created_by": key.created_by,
        "created_at": key.created_at,
        "retired_at": key.retired_at,
    }


def retire_key(site_key: str, kid: str, *, actor: str) -> SsoKey:
    """Stop accepting tokens signed with a key (retiring twice is fine)."""
    site = _site(site_key)
    key = db.session.scalar(select(SsoKey).where(SsoKey.site_id == site.id, SsoKey.kid == kid))
    if key is None:
        raise NotFoundError(f"Site '{site.key}' has no key '{kid}'.")
    if key.retired_at is None:
        key.retired_at = utcnow()
        record_action(actor, "sso.key.retire", f"site {site.key}", {"kid": kid})
        db.session.commit()
    return key


def _verifying_material(key: SsoKey):
    if key.algorithm == "HS256":
        secret = secrets_box.decrypt(key.secret_encrypted, secrets_box.SSO_SECRETS)
        if secret is None:
            # SECRET_KEY changed since the key was added: the secret is lost, not a reader's
            # fault; operators add it again (operators.md).
            current_app.logger.error(
                "sso key %s of site %s can't be decrypted", key.kid, key.site_id
            )
            return None
        return secret.encode()
    return serialization.load_pem_public_key(key.public_key.encode())


# --- Publisher tokens --------------------------------------------------------------------------


def _refuse(message: str) -> UnauthorizedError:
    return UnauthorizedError(message, {"token": [message]})


def _candidate_keys(site: Site, header: dict) -> list[SsoKey]:
    """Pick the keys that may verify a token: the one its kid names, else the site's active keys
    of its algorithm. Raises 401 with the reason when none can."""
    keys = list(db.session.scalars(select(SsoKey).where(SsoKey.site_id == site.id)))
    active = [key for key in keys if key.is_active]
    alg = header.get("alg")
    kid = header.get("kid")
    if not keys or (not active and kid is None):
        raise _refuse(NO_KEYS)
    if kid is not None:
        named = next((key for key in keys if key.kid == kid), None)
        if named is None:
            raise _refuse(
                f"The sign-in token names a key ('{str(kid)[:64]}') this site doesn't have."
            )
        if not named.is_active:
            raise _refuse(f"The sign-in token was signed with a retired key ('{named.kid}').")
        if alg != named.algorithm:
            raise _refuse(
                f"The sign-in token says algorithm '{str(alg)[:16]}' but its key "
                f"'{named.kid}' is {named.algorithm}."
            )
        return [named]
    if alg not in ALGORITHMS:
        raise _refuse(f"The sign-in token's algorithm '{str(alg)[:16]}' is not accepted.")
    matching = [key for key in active if key.algorithm == alg]
    if not matching:
        raise _refuse(BAD_SIGNATURE)
    return matching


def _claim_text(claims: dict, name: str, max_length: int, required: bool) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        if required:
            raise _refuse(f"The sign-in token has no '{name}' claim.")
        return None
    if not isinstance(value, str) or len(value) > max_length or not value.isprintable():
        raise _refuse(
            f"The sign-in token's '{name}' claim must be text of at most {max_length} characters."
        )
    return value


def _badges(claims: dict) -> tuple[str, ...]:
    value = claims.get("badges")
    if value is None:
        return ()
    rule = (
        f"The sign-in token's 'badges' claim must be a list of at most {BADGES_MAX} "
        f"short texts ({BADGE_MAX} characters each)."
    )
    if not isinstance(value, list) or len(value) > BADGES_MAX:
        raise _refuse(rule)
    badges = []
    for badge in value:
        if not isinstance(badge, str) or not 0 < len(badge.strip()) <= BADGE_MAX:
            raise _refuse(rule)
        badge = plain_text(badge.strip())
        if not has_visible_text(badge):
            raise _refuse(rule)
        if badge not in badges:
            badges.append(badge)
    return tuple(badges)


def _decode(token: str, key: SsoKey, leeway: int) -> dict | None:
    """Verify a token with one key; None when the signature doesn't match it."""
    material = _verifying_material(key)
    if material is None:
        return None
    try:
        return jwt.decode(
            token,
            material,
            algorithms=[key.algorithm],  # the key's, never the token's
            options={"require": ["exp", "iat", "sub", "jti"], "verify_aud": False},
            leeway=leeway,
        )
    except jwt.InvalidSignatureError:
        return None
    except jwt.ExpiredSignatureError:
        raise _refuse("The sign-in token has expired.") from None
    except jwt.ImmatureSignatureError:
        raise _refuse(
            "The sign-in token is not valid yet (its nbf or iat is in the future)."
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise _refuse(f"The sign-in token has no '{error.claim}' claim.") from None
    except jwt.InvalidAlgorithmError:
        raise _refuse(f"The sign-in token is not signed with {key.algorithm}.") from None
    except jwt.InvalidTokenError as error:
        raise _refuse(f"The sign-in token is not valid: {error}.") from None


def _spend_jti(site: Site, jti: str, expires: int, leeway: int) -> None:
    """Accept each jti once per site: remembered until the token could no longer be used."""
    now = int(utcnow().replace(tzinfo=UTC).timestamp())
    name = REPLAY_PREFIX + f"{site.id}:" + hashlib.sha256(jti.encode()).hexdigest()[:32]
    try:
        fresh = redis_connection().set(name, 1, nx=True, ex=max(1, expires - now + leeway))
    except RedisError:
        # Never accept a token unchecked: a replay would go through while Redis is away.
        raise ServiceUnavailableError(
            "Signing in is briefly unavailable; please try again in a moment."
        ) from None
    if not fresh:
        raise _refuse("The sign-in token was already used; sign in again for a new one.")


def verify_token(site: Site, token: str) -> dict:
    """Verify a publisher's sign-in token for a site and spend its jti; return its claims.

    Every refusal is an UnauthorizedError whose message says what is wrong.
    """
    config = current_app.config
    leeway = config["SSO_LEEWAY_SECONDS"]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise _refuse("The sign-in token is not a JWT (header.payload.signature).") from None
    claims = None
    for key in _candidate_keys(site, header):
        claims = _decode(token, key, leeway)
        if claims is not None:
            break
    if claims is None:
        raise _refuse(BAD_SIGNATURE)
    now = utcnow().replace(tzinfo=UTC).timestamp()
    if claims["iat"] < now - config["SSO_MAX_TOKEN_AGE_SECONDS"] - leeway:
        raise _refuse("The sign-in token was issued too long ago; sign in again.")
    claims["sub"] = _claim_text(claims, "sub", SUB_MAX, True)
    _claim_text(claims, "jti", JTI_MAX, True)
    name = plain_text(_claim_text(claims, "name", 200, True)).strip()[:NAME_MAX]
    if not has_visible_text(name):
        raise _refuse("The sign-in token's 'name' claim has no visible text.")
    claims["name"] = name
    email = _claim_text(claims, "email", EMAIL_MAX, False)
    if email is not None and ("@" not in email or "." not in email.rpartition("@")[2]):
        raise _refuse("The sign-in token's 'email' claim is not an email address.")
    claims["badges"] = _badges(claims)
    # Remembered until the token is refused anyway: expired, or older than the maximum age.
    usable_until = min(int(claims["exp"]), int(claims["iat"]) + config["SSO_MAX_TOKEN_AGE_SECONDS"])
    _spend_jti(site, claims["jti"], usable_until, leeway)
    return claims


# --- Reader sessions ---------------------------------------------------------------------------


def _session_key() -> bytes:
    return secrets_box.derive_key(secrets_box.SSO_SESSIONS)


def _audience(site_key: str) -> str:
    return f"talkback:site:{site_key}"


def start_session(site_key: str, token: str) -> Session:
    """Exchange a publisher's sign-in token for a reader session on the site."""
    site = _site(site_key)
    claims = verify_token(site, token)
    config = current_app.config
    now = int(utcnow().replace(tzinfo=UTC).timestamp())
    expires = now + config["SSO_SESSION_SECONDS"]
    expires = min(max(expires, int(claims["exp"])), now + config["SSO_SESSION_MAX_SECONDS"])
    email = claims.get("email")
    reader = Reader(
        site_id=site.id,
        sso_id=claims["sub"],
        name=claims["name"],
        badges=claims["badges"],
        email_hash=hash_email(email) if email else None,
        email_domain_hash=hash_email_domain(email) if email else None,
        email_encrypted=secrets_box.encrypt(email) if email else None,
    )
    payload = {
        "iss": SESSION_ISSUER,
        "aud": _audience(site.key),
        "sid": site.id,
        "sub": reader.sso_id,
        "name": reader.name,
        "badges": list(reader.badges),
        "eh": reader.email_hash,
        "edh": reader.email_domain_hash,
        "ee": reader.email_encrypted,
        "iat": now,
        "exp": expires,
    }
    session = jwt.encode(payload, _session_key(), algorithm="HS256")
    return Session(session, reader, datetime.fromtimestamp(expires, UTC).replace(tzinfo=None))


def read_session(session: str, site_key: str | None) -> Reader:
    """Return the reader of a session for a site (None: any site, the caller compares site_id),
    or raise SessionExpiredError."""
    options = {"require": ["exp", "sub", "sid", "aud", "iss"]}
    if site_key is None:
        options["verify_aud"] = False
    try:
        claims = jwt.decode(
            session,
            _session_key(),
            algorithms=["HS256"],
            audience=_audience(site_key) if site_key is not None else None,
            issuer=SESSION_ISSUER,
            options=options,
        )
    except jwt.ExpiredSignatureError:
        raise SessionExpiredError("Your sign-in has expired; please sign in again.") from None
    except jwt.InvalidAudienceError:
        raise SessionExpiredError("This sign-in belongs to another site; sign in again.") from None
    except jwt.InvalidTokenError:
        raise SessionExpiredError(
            "The sign-in session is not valid; please sign in again."
        ) from None
    return Reader(
        site_id=claims["sid"],
        sso_id=claims["sub"],
        name=claims.get("name") or "",
        badges=tuple(claims.get("badges") or ()),
        email_hash=claims.get("eh"),
        email_domain_hash=claims.get("edh"),
        email_encrypted=claims.get("ee"),
    )


def make_token(secret: str, claims: dict, *, kid: str | None = None) -> str:
    """Sign an HS256 sign-in token as a publisher's login would (the demo page, docs, tests)."""
    now = int(utcnow().replace(tzinfo=UTC).timestamp())
    payload = {"iat": now, "exp": now + 300, "jti": secrets.token_urlsafe(16), **claims}
    return jwt.encode(payload, secret, algorithm="HS256", headers={"kid": kid} if kid else None)
