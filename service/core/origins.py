"""Web origins as browsers send them: what a site allows its widget to be embedded from."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")


class InvalidOriginError(ValueError):
    """An origin an operator typed is not scheme://host[:port]."""


def normalize_origin(value: str) -> str:
    """Return an origin as browsers serialise it (lowercase, no default port), or raise."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise InvalidOriginError(f"'{value}' is not a valid origin ({error}).") from None
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise InvalidOriginError(f"'{value}' must start with http:// or https://.")
    if not parts.hostname:
        raise InvalidOriginError(f"'{value}' has no host name.")
    if parts.username is not None or parts.password is not None:
        raise InvalidOriginError(f"'{value}' must not contain a user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise InvalidOriginError(
            f"'{value}' must be only scheme://host[:port], without a path, query or fragment."
        )
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    else:
        try:  # browsers send international domain names in their ASCII (punycode) form
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidOriginError(f"'{value}' has an invalid host name.") from None
        if not HOST_NAME.fullmatch(host):
            raise InvalidOriginError(f"'{value}' has an invalid host name.")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"
