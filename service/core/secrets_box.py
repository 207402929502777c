"""Keys derived from SECRET_KEY, one per purpose (HKDF-SHA256), and encryption at rest of what
must stay usable (e-mail addresses to send to, sign-in and webhook secrets) with Fernet.

A key never serves two purposes. Changing SECRET_KEY makes everything encrypted here unreadable:
decrypt answers None and the callers say what to do (addresses dropped, secrets added again).
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

MAIL_ADDRESSES = b"talkback mail addresses"
SSO_SECRETS = b"talkback sso secrets"
SSO_SESSIONS = b"talkback sso reader sessions"
WEBHOOK_SECRETS = b"talkback webhook secrets"


def derive_key(purpose: bytes) -> bytes:
    """Return the 32-byte key of one purpose, derived from SECRET_KEY (HKDF-SHA256)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def _fernet(purpose: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(purpose)))


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
