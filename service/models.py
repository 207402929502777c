"""Database models: sites, articles, comments, readers' reports, the append-only audit logs,
bans, and the accounts of moderators and operators."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import db

# Ids are 32-bit integers in the database: anything larger cannot name a row.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime (how every timestamp is stored)."""
    # Naive UTC because SQLite has no time zones; the API adds the "Z" when it serialises.
    return datetime.now(UTC).replace(tzinfo=None)


class CommentStatus(enum.StrEnum):
    """Where a comment is in its life (see DESIGN: life of a comment)."""

    PENDING = "pending"
    APPROVED = "approved"
    HELD = "held"
    REJECTED = "rejected"
    DELETED = "deleted"


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


def string_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """Return a column type storing an enum's values as short strings (no native DB enum, so
    adding a value needs no ALTER TYPE)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=16,
        values_callable=_enum_values,
        validate_strings=True,
        name=name,
    )


class Site(db.Model):
    """A publication that embeds Talkback, addressed in URLs by its short key."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The moderation policy's settings (workers.scoring.Policy); missing keys take the defaults.
    policy: Mapped[dict] = mapped_column(JSON, default=dict)
    # Normalised origins ("https://www.example.com") whose pages may call the public API from a
    # browser (service/cors.py); empty means none, so a new site is not embeddable by accident.
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The widget's language when the page doesn't say ("en" or "he").
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Comment length limits in characters of text (after markup is removed).
    min_comment_length: Mapped[int] = mapped_column(default=1, server_default="1")
    max_comment_length: Mapped[int] = mapped_column(default=5000, server_default="5000")
    # Articles take no new comments this many days after their first one (None: never).
    auto_close_days: Mapped[int | None]
    # Authors may edit a comment this many seconds after posting it (0: editing is off).
    edit_window_seconds: Mapped[int] = mapped_column(default=300, server_default="300")
    # Per-site overrides of the rate limits ({"submit": "5/minute;30/hour", ...}); see config.
    rate_limits: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # Readers may dislike comments as well as like them (likes are always on).
    dislikes_enabled: Mapped[bool] = mapped_column(default=False, server_default="0")
    # A closed site keeps its threads readable (and reportable) but takes no new comments.
    closed_at: Mapped[datetime | None]
    # Who may post: "anonymous" (anyone), "required" (readers signed in with the publisher's
    # login, service/core/sso.py) or "links" (sign-in required to post a comment with a link).
    sign_in: Mapped[str] = mapped_column(
        String(16), default="anonymous", server_default="anonymous"
    )
    # Moderators who opted in get a mail when the held queue's oldest comment waits longer
    # than this many minutes (None: no alerts).
    queue_alert_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_closed(self) -> bool:
        """Whether the site has been closed by an operator."""
        return self.closed_at is not None


class SpamFeature(db.Model):
    """The learned spam model of a site: how many spam and ham comments held each feature.

    Rows whose feature starts with '#' hold the model's totals (see workers.scoring.learned).
    """

    __tablename__ = "spam_features"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    feature: Mapped[str] = mapped_column(String(200), primary_key=True)
    spam: Mapped[int] = mapped_column(default=0)
    ham: Mapped[int] = mapped_column(default=0)


class Article(db.Model):
    """A page comments hang on, created on its first comment, named by the site's own id."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("site_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(300))
    is_closed: Mapped[bool] = mapped_column(default=False)
    # A hot story: every new comment on it waits for a moderator (switched by its moderators).
    premoderated: Mapped[bool] = mapped_column(default=False, server_default="0")
    # sort=top ranks by scores frozen per ranking epoch (service.core.votes): the epoch a
    # cursor names, and when the article's scores were last recomputed.
    rank_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    ranked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()


class Comment(db.Model):
    """A reader's comment or reply; only its sanitized form is stored."""

    __tablename__ = "comments"
    __table_args__ = (
        # The reader's thread page: approved comments of one article in time order.
        Index("ix_comments_article_status_created", "article_id", "status", "created_at"),
        # The sweeper: pending comments by age.
        Index("ix_comments_status_created", "status", "created_at"),
        # Exact-duplicate lookups: the same text recently on the same site.
        Index("ix_comments_site_text_hash_created", "site_id", "text_hash", "created_at"),
        # Moderators' queues and their counts: one site's comments in a status, by age.
        Index("ix_comments_site_status_created", "site_id", "status", "created_at"),
        # sort=top: an article's comments by their frozen confidence score (keyset paging).
        Index("ix_comments_article_top", "article_id", "top_score", "id"),
        # An imported comment once per site and source: a second run of an import adds nothing.
        # Partial: comments posted here (no import id) take no room in it.
        Index(
            "uq_comments_site_import",
            "site_id",
            "import_source",
            "import_id",
            unique=True,
            postgresql_where=text("import_id IS NOT NULL"),
            sqlite_where=text("import_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    # A reply's top-level comment (NULL for a top-level comment itself, so a submission is one
    # INSERT): loads a whole thread in one query.
    root_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    status: Mapped[CommentStatus] = mapped_column(
        string_enum(CommentStatus, "comment_status"),
        default=CommentStatus.PENDING,
    )
    author_name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str | None] = mapped_column(String(120))
    body_html: Mapped[str] = mapped_column(Text)
    # Markup-free text, kept for scoring and for moderators' searches.
    body_text: Mapped[str] = mapped_column(Text)
    # SHA-256 of the normalised text, so duplicate detection is an index lookup.
    text_hash: Mapped[str] = mapped_column(String(64))
    toxicity_score: Mapped[float | None]
    spam_score: Mapped[float | None]
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A random id the widget keeps per reader; ties their comments together.
    commenter_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # HMAC-SHA256 with the server secret: never the address itself.
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Keyed hashes of the address's network (/24 IPv4, /48 IPv6) and of the email's domain, so
    # network and domain bans can find a commenter's comments without storing either in clear.
    network_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    email_domain_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Sent under a shadow ban: only its author (by the delete token) and moderators ever see it.
    shadow: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The publisher's opaque user id (the sign-in token's `sub`) of a signed-in author, and the
    # badges their token gave (e.g. ["subscriber"]); NULL for anonymous comments.
    sso_id: Mapped[str | None] = mapped_column(String(64), index=True)
    badges: Mapped[list[str] | None] = mapped_column(JSON)
    # SHA-256 of the delete token handed to the author once.
    delete_token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None]
    # An editors' pick: when and by whom it was featured (NULL: not featured).
    featured_at: Mapped[datetime | None]
    featured_by: Mapped[str | None] = mapped_column(String(100))
    # When an approved edit last replaced the published text (None: never edited).
    edited_at: Mapped[datetime | None]
    # Readers' votes, counted in SQL by service.core.votes (never read-modify-write).
    likes: Mapped[int] = mapped_column(default=0, server_default="0")
    dislikes: Mapped[int] = mapped_column(default=0, server_default="0")
    # The Wilson lower bound of likes, frozen at the article's rank_epoch, and the one before:
    # sort=top pages by these, so a cursor stays valid while votes arrive.
    top_score: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    prev_top_score: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Where an imported comment came from ("disqus", "wordpress", "talkback") and its id there
    # (service.core.imports); NULL for comments posted here.
    import_source: Mapped[str | None] = mapped_column(String(16))
    import_id: Mapped[str | None] = mapped_column(String(100))

    article: Mapped[Article] = relationship()


class RevisionStatus(enum.StrEnum):
    """Where an author's edit of a published comment is in its moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    HELD = "held"
    REJECTED = "rejected"
    # Replaced by a newer edit before it was decided.
    SUPERSEDED = "superseded"


class CommentRevision(db.Model):
    """A text of a published comment: its original (kept at the first edit) or an author's
    proposed edit, moderated like a new comment while readers keep the approved text."""

    __tablename__ = "comment_revisions"
    __table_args__ = (
        # The sweeper: pending revisions by age.
        Index("ix_comment_revisions_status_created", "status", "created_at"),
        # Moderators' edits queue: one site's held edits by age.
        Index("ix_comment_revisions_site_status_created", "site_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    # The text the comment had before its first edit, kept so moderators see the whole history.
    original: Mapped[bool] = mapped_column(default=False, server_default="0")
    title: Mapped[str | None] = mapped_column(String(120))
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[RevisionStatus] = mapped_column(
        string_enum(RevisionStatus, "revision_status"), default=RevisionStatus.PENDING
    )
    toxicity_score: Mapped[float | None]
    spam_score: Mapped[float | None]
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    # "worker", "moderator:<name>", "author" (superseded) or None while undecided.
    decided_by: Mapped[str | None] = mapped_column(String(100))


class CommentVote(db.Model):
    """One reader's like (+1) or dislike (-1) of a published comment."""

    __tablename__ = "comment_votes"
    __table_args__ = (
        UniqueConstraint("comment_id", "voter"),
        # The per-address cap: distinct voters of a comment from one address hash.
        Index("ix_comment_votes_comment_ip", "comment_id", "ip_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    # "sso:<site id>:<sub>" for a signed-in reader, else "key:<commenter key>".
    voter: Mapped[str] = mapped_column(String(80))
    value: Mapped[int]
    # HMAC-SHA256 with the server secret: never the address itself.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(db.Model):
    """One status change of a comment: who made it, from what, to what, why and when."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    # "worker", "author", "sweeper", later "moderator:<name>".
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ReportReason(enum.StrEnum):
    """Why a reader reports a comment."""

    ABUSIVE = "abusive"
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class Report(db.Model):
    """A reader's report of a published comment, for moderators to look at."""

    __tablename__ = "reports"
    __table_args__ = (
        # One report per reader and comment: per commenter key, and without one per address
        # hash (NULLs never collide in the first constraint, hence the partial index).
        UniqueConstraint("comment_id", "reporter_key"),
        Index(
            "uq_reports_comment_anonymous_ip",
            "comment_id",
            "ip_hash",
            unique=True,
            postgresql_where=text("reporter_key IS NULL"),
            sqlite_where=text("reporter_key IS NULL"),
        ),
        # The reported queue: a site's reports by time.
        Index("ix_reports_site_created", "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    reason: Mapped[ReportReason] = mapped_column(string_enum(ReportReason, "report_reason"))
    note: Mapped[str | None] = mapped_column(String(500))
    # The reporting reader's commenter key, when the widget sent one.
    reporter_key: Mapped[str | None] = mapped_column(String(64))
    # HMAC-SHA256 with the server secret: never the address itself.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserRole(enum.StrEnum):
    """What an account may do: operators everything, moderators their assigned sites."""

    OPERATOR = "operator"
    MODERATOR = "moderator"


# Which sites a moderator works on (operators need no rows: they moderate every site).
site_moderators = Table(
    "site_moderators",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # The reverse lookup (who moderates this site) needs its own index.
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(db.Model):
    """A moderator's or operator's account for the console and the moderation API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lowercase (service.core.accounts normalises), so the unique constraint is case-blind.
    username: Mapped[str] = mapped_column(String(40), unique=True)
    # argon2id, in the PHC string format argon2-cffi writes (parameters and salt included).
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[UserRole] = mapped_column(
        string_enum(UserRole, "user_role"),
        default=UserRole.MODERATOR,
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    # Consecutive failed logins; reset by a successful one. Drives the slow-down and lockout.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Stored in the session cookie next to the user id; bumping it (password change,
    # deactivation) logs out every browser that holds an older cookie.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    sites: Mapped[list[Site]] = relationship(secondary=site_moderators, order_by=Site.key)

    @property
    def is_operator(self) -> bool:
        """Whether this account is an operator (all sites, operator pages)."""
        return self.role == UserRole.OPERATOR

    def site_ids(self) -> set[int] | None:
        """Return the ids of the sites this user moderates, or None for all sites (operators)."""
        if self.is_operator:
            return None
        return {site.id for site in self.sites}

    def can_moderate(self, site_id: int) -> bool:
        """Whether this user may see and decide on the given site's comments."""
        ids = self.site_ids()
        return ids is None or site_id in ids


class ApiToken(db.Model):
    """A personal token for the moderation API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 hex of the token: a stolen database does not hand out working tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class BanTarget(enum.StrEnum):
    """What a ban matches on."""

    COMMENTER_KEY = "commenter_key"
    EMAIL = "email"
    IP = "ip"
    NETWORK = "network"
    EMAIL_DOMAIN = "email_domain"
    # A signed-in reader's publisher id on the ban's site (never on all sites: ids are per site).
    SSO_ID = "sso_id"


class BanKind(enum.StrEnum):
    """Hard bans refuse submissions; shadow bans accept them and show them to nobody else; hold
    bans (a watchlist) accept them and hold every one for a moderator."""

    HARD = "hard"
    SHADOW = "shadow"
    HOLD = "hold"


class Ban(db.Model):
    """A ban or suspension of a commenter on one site or on all of them."""

    __tablename__ = "bans"
    __table_args__ = (Index("ix_bans_target", "target_type", "target_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: every site.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    target_type: Mapped[BanTarget] = mapped_column(string_enum(BanTarget, "ban_target"))
    # The commenter key itself, or the keyed hash of the email, address, network or domain
    # (service.core.hashing), the same hash the matching comments carry.
    target_value: Mapped[str] = mapped_column(String(64))
    # What operators see in lists: a masked email, the network, "IP of comment #12".
    target_label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[BanKind] = mapped_column(
        string_enum(BanKind, "ban_kind"),
        default=BanKind.HARD,
    )
    # For moderators and operators only.
    reason: Mapped[str] = mapped_column(Text)
    # Shown to the banned reader by the widget (hard bans only).
    public_reason: Mapped[str | None] = mapped_column(String(300))
    # None: permanent. Expired bans stop applying with no job to run.
    expires_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    # How many existing comments were rejected when the ban was added.
    rejected_count: Mapped[int] = mapped_column(default=0)

    site: Mapped[Site | None] = relationship()

    def is_active(self, now: datetime | None = None) -> bool:
        """Whether the ban applies now: not lifted and not expired."""
        now = now or utcnow()
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > now)


class SsoKey(db.Model):
    """A key a site's login signs reader tokens with: an HS256 secret (encrypted with a key
    derived from SECRET_KEY) or an RS256/ES256 public key. Several may be active (rotation)."""

    __tablename__ = "sso_keys"
    __table_args__ = (UniqueConstraint("site_id", "kid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # The token header's `kid` that picks this key.
    kid: Mapped[str] = mapped_column(String(64))
    # HS256, RS256 or ES256: always taken from here, never from a token.
    algorithm: Mapped[str] = mapped_column(String(8))
    # Fernet token of the HS256 secret; NULL for public keys.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # The PEM of an RS256/ES256 public key; NULL for HS256.
    public_key: Mapped[str | None] = mapped_column(Text)
    # SHA-256 (hex, first 16) of the secret or of the public key's DER: tells keys apart in lists.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        """Whether tokens signed with this key are still accepted."""
        return self.retired_at is None


class OperatorAction(db.Model):
    """One change an operator or moderator made outside comment decisions: sites, bans, privacy."""

    __tablename__ = "operator_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "operator:<name>", "moderator:<name>" or "cli" for the flask commands.
    actor: Mapped[str] = mapped_column(String(100))
    # e.g. "site.create", "site.update", "site.close", "ban.add", "ban.lift", "privacy.erase".
    action: Mapped[str] = mapped_column(String(40), index=True)
    # What was acted on, e.g. "site ynet", "ban 12".
    subject: Mapped[str] = mapped_column(String(200))
    # The change itself (fields before/after, ban options); never personal data in clear.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MailRecipient(db.Model):
    """An e-mail address a reader opted in with on a site: encrypted (mail must reach it), with
    its keyed hash for lookups, its double opt-in and its site-wide unsubscribe."""

    __tablename__ = "mail_recipients"
    __table_args__ = (UniqueConstraint("site_id", "email_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # HMAC-SHA256 of the normalised address (service.core.hashing.hash_email); stays on erase.
    email_hash: Mapped[str] = mapped_column(String(64))
    # Fernet token of the address (service.core.secrets_box); NULL once erased.
    email_encrypted: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the latest confirmation link's token; NULL once confirmed.
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    confirmed_at: Mapped[datetime | None]
    # Stops every mail to this address from this site (the unsubscribe link, RFC 8058).
    unsubscribed_at: Mapped[datetime | None]
    # "off" (a mail per event), "hourly" or "daily" (replies gathered into one mail).
    digest: Mapped[str] = mapped_column(String(8), default="off", server_default="off")
    last_digest_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailSubscription(db.Model):
    """What the author of a comment asked to be told about it: replies, and its decision."""

    __tablename__ = "mail_subscriptions"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("mail_recipients.id", ondelete="CASCADE"), index=True
    )
    replies: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailOutbox(db.Model):
    """One mail to send (or sent, failed, dropped): written in the transaction that caused it,
    sent by an RQ job after the commit, retried with backoff, never lost silently."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # A reader's address, or (queue alerts) a moderator's account.
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_recipients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # "confirm", "reply", "decision", "digest" or "queue_alert".
    kind: Mapped[str] = mapped_column(String(16))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    # At most one row per key: a reply is mailed once however often it is approved.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    # The digest's comment ids, a queue alert's numbers.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # pending, sending, sent, failed, dropped, unconfirmed (waits for the double opt-in),
    # digest (waits for the recipient's digest), digested (sent in one).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class ModeratorMailSetting(db.Model):
    """A moderator's opt-in to queue alerts: a mail when a queue waits longer than its site's
    queue_alert_minutes."""

    __tablename__ = "moderator_mail_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email_encrypted: Mapped[str | None] = mapped_column(Text)
    queue_alerts: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditLogIsAppendOnlyError(RuntimeError):
    """Raised when code tries to change or remove an audit entry."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
@event.listens_for(OperatorAction, "before_update")
@event.listens_for(OperatorAction, "before_delete")
def _forbid_audit_changes(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnlyError(f"audit entry {target.id} is append-only")


class WebhookEndpoint(db.Model):
    """A receiver a site's operators registered for some events (service/core/webhooks.py).

    Its signing secret is kept encrypted with a key derived from SECRET_KEY; after a rotation the
    previous secret still signs (a second v1) until `previous_secret_expires_at`.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    # An operator's explicit consent to deliver to loopback or private addresses (SSRF guard).
    allow_private: Mapped[bool] = mapped_column(default=False, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship()


class DeliveryStatus(enum.StrEnum):
    """Where a webhook delivery is: waiting (first try or a retry), done, or given up."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(db.Model):
    """One event for one endpoint: the outbox row, written in the transaction of the change."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The delivery job: an endpoint's oldest waiting delivery (order of creation).
        Index("ix_webhook_deliveries_endpoint_status_id", "endpoint_id", "status", "id"),
        # The sweeper: waiting deliveries that are due.
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(40), index=True)
    # The exact body sent (UTF-8 JSON): every attempt and a resend send the same bytes.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        string_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The start of the receiver's last answer (at most 1 KB), for the delivery log.
    last_response: Mapped[str | None] = mapped_column(Text)
    # A resend's original delivery.
    resent_from: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()
