"""Bans and suspensions: who may not comment (hard) or is quietly hidden (shadow), and where."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_

from .errors import BannedError
from .extensions import db
from .hashing import hash_email, hash_email_domain, hash_ip, hash_network, network_of
from .models import Ban, BanKind, BanTarget, Site, utcnow


@dataclass(frozen=True)
class Identity:
    """What a submission tells about its author, already hashed (commenter key as given)."""

    commenter_key: str | None = None
    email_hash: str | None = None
    email_domain_hash: str | None = None
    ip_hash: str | None = None
    network_hash: str | None = None

    def targets(self) -> list[tuple[str, str]]:
        """Return the (target type, value) pairs a ban could match this identity on."""
        pairs = [
            (BanTarget.COMMENTER_KEY, self.commenter_key),
            (BanTarget.EMAIL, self.email_hash),
            (BanTarget.EMAIL_DOMAIN, self.email_domain_hash),
            (BanTarget.IP, self.ip_hash),
            (BanTarget.NETWORK, self.network_hash),
        ]
        return [(target.value, value) for target, value in pairs if value]


def identity_of(commenter_key: str | None, email: str | None, ip: str | None) -> Identity:
    """Hash a submitter's details the way comments and bans store them."""
    network = network_of(ip) if ip else None
    return Identity(
        commenter_key=commenter_key,
        email_hash=hash_email(email) if email else None,
        email_domain_hash=hash_email_domain(email) if email else None,
        ip_hash=hash_ip(ip) if ip else None,
        network_hash=hash_network(network) if network else None,
    )


def active_bans_matching(site_id: int, identity: Identity) -> list[Ban]:
    """Return the bans in force on this site (or on all sites) that match the identity."""
    targets = identity.targets()
    if not targets:
        return []
    now = utcnow()
    return list(
        db.session.scalars(
            select(Ban)
            .where(
                tuple_(Ban.target_type, Ban.target_value).in_(targets),
                or_(Ban.site_id == site_id, Ban.site_id.is_(None)),
                Ban.lifted_at.is_(None),
                or_(Ban.expires_at.is_(None), Ban.expires_at > now),
            )
            .order_by(Ban.id)
        )
    )


def check_submission(site: Site, identity: Identity) -> bool:
    """Raise BannedError if a hard ban covers the submitter; return whether a shadow ban does."""
    bans = active_bans_matching(site.id, identity)
    hard = [ban for ban in bans if ban.kind == BanKind.HARD]
    if hard:
        raise BannedError(banned_message(hard[0]))
    return bool(bans)


def banned_message(ban: Ban) -> str:
    """Return what the widget tells a hard-banned reader: until when, and the public reason."""
    message = "You can't post comments here"
    if ban.expires_at is not None:
        message += f" until {ban.expires_at:%Y-%m-%d %H:%M} UTC"
    message += "."
    if ban.public_reason:
        message += f" Reason: {ban.public_reason}"
    return message
