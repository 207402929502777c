"""Encryption at rest of what must stay usable (e-mail addresses to send to): Fernet under a
key derived from SECRET_KEY with HKDF, one key per purpose."""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# Changing SECRET_KEY makes stored addresses unreadable (they are dropped, never sent wrongly).
MAIL_ADDRESSES = b"talkback mail addresses"


def _fernet(purpose: bytes) -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str, purpose: bytes = MAIL_ADDRESSES) -> str:
    """Return a Fernet token of a value under the purpose's key."""
    return _fernet(purpose).encrypt(value.encode()).decode()


def decrypt(token: str | None, purpose: bytes = MAIL_ADDRESSES) -> str | None:
    """Return the value of a token, or None when it is missing or not ours (another key)."""
    if not token:
        return None
    try:
        return _fernet(purpose).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
