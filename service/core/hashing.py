"""Keyed hashes of personal data and the one-time delete tokens."""

import hashlib
import hmac
import ipaddress
import secrets

from flask import current_app


def keyed_hash(value: str) -> str:
    """Return the HMAC-SHA256 of a value under the server secret, so the value is never stored."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


# Providers that deliver "name+anything@" to "name@"; Gmail also ignores dots in the name.
PLUS_TAG_DOMAINS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "yandex.ru",
        "yandex.com",
    }
)
DOTLESS_DOMAINS = frozenset({"gmail.com"})
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
# Network bans cover the block one subscriber usually holds: a /24 of IPv4, a /48 of IPv6.
NETWORK_PREFIX = {4: 24, 6: 48}


def normalize_email(email: str) -> str:
    """Return the address one mailbox is reached by: lowercase, and without dots or +tags where
    the provider ignores them (so j.o.e+news@gmail.com and joe@gmail.com are one person)."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    domain = DOMAIN_ALIASES.get(domain, domain)
    if domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def mask_email(address: str) -> str:
    """Return "j…@gmail.com" for an address, normalized: enough to recognise, not to reach."""
    local, _, domain = normalize_email(address).rpartition("@")
    return f"{local[:1]}…@{domain}"


def email_domain(email: str) -> str:
    """Return the normalized domain of an email address (or of a bare domain)."""
    domain = email.strip().lower().rpartition("@")[2].strip(".")
    return DOMAIN_ALIASES.get(domain, domain)


def hash_email(email: str) -> str:
    """Return the keyed hash of an email address after normalize_email."""
    return keyed_hash("email:" + normalize_email(email))


def hash_email_domain(email_or_domain: str) -> str:
    """Return the keyed hash of an email address's domain (or of a bare domain)."""
    return keyed_hash("email-domain:" + email_domain(email_or_domain))


def canonical_ip(address: str) -> str:
    """Return an address in one spelling (IPv4-mapped IPv6 as IPv4); unparseable ones as given."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    return str(parsed)


def hash_ip(address: str) -> str:
    """Return the keyed hash of an IP address."""
    return keyed_hash("ip:" + canonical_ip(address))


def network_of(address: str) -> str | None:
    """Return the /24 (IPv4) or /48 (IPv6) network holding an address, or None if unparseable."""
    try:
        parsed = ipaddress.ip_address(canonical_ip(address))
    except ValueError:
        return None
    network = ipaddress.ip_network(f"{parsed}/{NETWORK_PREFIX[parsed.version]}", strict=False)
    return str(network)


def hash_network(network: str) -> str:
    """Return the keyed hash of a network in the form network_of gives."""
    return keyed_hash("net:" + network)


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
