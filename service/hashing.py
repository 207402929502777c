"""Keyed hashes of personal data and the one-time delete tokens."""

import hashlib
import hmac
import secrets

from flask import current_app


def keyed_hash(value: str) -> str:
    """Return the HMAC-SHA256 of a value under the server secret, so the value is never stored."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def hash_email(email: str) -> str:
    """Return the keyed hash of an email address, case-insensitively."""
    return keyed_hash("email:" + email.strip().lower())


def hash_ip(address: str) -> str:
    """Return the keyed hash of an IP address."""
    return keyed_hash("ip:" + address.strip())


def new_delete_token() -> tuple[str, str]:
    """Return a fresh delete token and the hash to store in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """Return the stored form of a delete token."""
    # A plain SHA-256 suffices: the token is 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    """Tell whether a presented delete token is the one whose hash is stored, in constant time."""
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)


def text_fingerprint(text: str) -> str:
    """Return a hash of text with case and spacing folded, for exact-duplicate lookups."""
    folded = " ".join(text.casefold().split())
    return hashlib.sha256(folded.encode()).hexdigest()
