"""Schemas of the admin API for sites: a site's settings, its moderation policy, its moderators,
and the operators' log."""

from __future__ import annotations

import re

from limits import parse_many
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from service.core.origins import InvalidOriginError, normalize_origin
from service.schemas.fields import StrictBoolean, TrimmedString, UTCDateTime
from service.schemas.moderation import NaiveUTCDateTime

LANGUAGES = ("en", "he")
# Who may post on a site (Site.sign_in; service/core/comments.py applies it).
SIGN_IN_POLICIES = ("anonymous", "required", "links")
# Anchored at both ends: validate.Regexp only matches at the start.
SITE_KEY_PATTERN = re.compile(r"[a-z0-9_-]{2,64}\Z")
KEY_RULE = "Use 2 to 64 lowercase letters, digits, '-' or '_'."
NAME_MAX = 200
# The submit schema caps a comment's body at this many characters, so a site can't allow more.
BODY_MAX = 5000
AUTO_CLOSE_MAX_DAYS = 3650
# An edit window longer than a day would let old threads change under their readers.
EDIT_WINDOW_MAX_SECONDS = 86400
ORIGINS_MAX = 100
WORD_MAX_LENGTH = 100
LIST_MAX = 2000
RATE_LIMIT_KINDS = ("submit", "report", "delete", "vote")
RATE_LIMIT_MAX_LENGTH = 200
SCORES = ("toxicity", "spam")
TRUSTED_AFTER_MAX = 10000
RECORD_DAYS_MAX = 3650
MODERATORS_MAX = 200
ACTIONS_LIMIT_MAX = 500

DOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
WILDCARDS = "*?"


def _one_of(choices, meaning: str = "") -> validate.OneOf:
    return validate.OneOf(list(choices), error=f"Use one of: {', '.join(choices)}{meaning}.")


def _single_line(value: str) -> None:
    if not value.isprintable():
        raise ValidationError("Must be one line of printable text.")


def _strings(value) -> list[str]:
    """Return the value if it is a list of strings, or raise the error a person can act on."""
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Give a list of strings.")
    return list(value)


class _StringList(fields.List):
    """A list of strings, each normalised by `normalize` (which raises ValueError with a message),
    deduplicated in order; errors are messages on the list itself, quoting the bad entry."""

    max_items = LIST_MAX

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def normalize(self, value: str) -> str:
        raise NotImplementedError

    def _deserialize(self, value, attr, data, **kwargs):
        entries, problems = [], []
        for item in _strings(value):
            try:
                entries.append(self.normalize(item))
            except ValueError as error:
                problems.append(str(error))
        if problems:
            raise ValidationError(problems)
        entries = list(dict.fromkeys(entries))
        if len(entries) > self.max_items:
            raise ValidationError(
                f"At most {self.max_items:,} entries; this list has {len(entries):,}."
            )
        return entries


class OriginList(_StringList):
    """Origins (scheme://host[:port]) whose pages may embed the site, normalised as browsers send
    them."""

    max_items = ORIGINS_MAX

    def normalize(self, value: str) -> str:
        try:
            return normalize_origin(value)
        except InvalidOriginError as error:
            raise ValueError(str(error)) from None


def normalize_word(value: str) -> str:
    """Return a word-list entry as stored: trimmed, single spaces, lowercase."""
    return " ".join(value.split()).lower()


class WordList(_StringList):
    """Words or phrases; '*' stands for any letters and '?' for one."""

    def normalize(self, value: str) -> str:
        word = normalize_word(value)
        if not word:
            raise ValueError("Entries can't be empty.")
        if len(word) > WORD_MAX_LENGTH:
            raise ValueError(f"'{word[:20]}…' is longer than {WORD_MAX_LENGTH} characters.")
        if not word.isprintable():
            raise ValueError(f"{word!r} contains control characters.")
        # The matcher ignores an entry of wildcards alone; refuse it rather than store a no-op.
        if not any(char.isalnum() for char in word):
            raise ValueError(f"'{word}' needs a letter or digit besides the wildcards * and ?.")
        return word


def normalize_domain(value: str) -> str:
    """Return a link domain as stored (lowercase host name), or raise ValueError saying why."""
    domain = value.strip().lower().rstrip(".")
    shown = value.strip()
    if not domain:
        raise ValueError("Entries can't be empty.")
    if domain.startswith("*."):
        raise ValueError(
            f"'{shown}': write the domain without '*.'; its subdomains are included anyway."
        )
    if any(char in domain for char in "/:@ "):
        raise ValueError(
            f"'{shown}' is not a host name: write it like example.com, without http:// or a path."
        )
    try:  # international names are checked in their ASCII form, and stored as written
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"'{shown}' is not a valid host name.") from None
    labels = ascii_domain.split(".")
    if (
        len(ascii_domain) > 253
        or len(labels) < 2
        or not all(DOMAIN_LABEL.fullmatch(label) for label in labels)
    ):
        raise ValueError(f"'{shown}' is not a valid host name (like example.com).")
    return domain


class DomainList(_StringList):
    """Host names; each covers its subdomains too."""

    def normalize(self, value: str) -> str:
        return normalize_domain(value)


class RateLimit(fields.String):
    """A Flask-Limiter limit string: "5/minute", "5 per minute", several joined by ';'."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        example = "write it like 5/minute, or 5/minute;30/hour for several"
        if not text or len(text) > RATE_LIMIT_MAX_LENGTH:
            raise ValidationError(f"Give a rate limit: {example}.")
        try:
            items = parse_many(text)
        except ValueError:
            raise ValidationError(f"'{text}' is not a rate limit: {example}.") from None
        if any(item.amount < 1 for item in items):
            raise ValidationError(
                f"'{text}' allows nothing: use at least 1 per period (close the site to stop "
                "comments)."
            )
        return text


class SiteRateLimitsSchema(Schema):
    """Per-site rate limits; a missing one (or null, to remove it) takes the configured default."""

    class Meta:
        unknown = RAISE

    error_messages = {  # noqa: RUF012 (marshmallow's class attribute)
        "unknown": f"Not a rate limit; use {', '.join(RATE_LIMIT_KINDS)}."
    }

    submit = RateLimit(allow_none=True, metadata={"example": "5/minute;30/hour"})
    report = RateLimit(allow_none=True, metadata={"example": "10/minute;60/hour"})
    delete = RateLimit(allow_none=True, metadata={"example": "10/minute;60/hour"})
    vote = RateLimit(allow_none=True, metadata={"example": "30/minute;300/hour"})


def _threshold(description: str) -> fields.Float:
    return fields.Float(
        allow_none=True,
        validate=validate.Range(min=0, max=1, error="Use a number from 0 to 1."),
        metadata={"description": description},
    )


class PolicySchema(Schema):
    """Moderation settings to change; the rest are kept. null puts a setting back to its default."""

    class Meta:
        unknown = RAISE
        ordered = True

    error_messages = {  # noqa: RUF012 (marshmallow's class attribute)
        "unknown": "Not a policy setting; use mode, toxicity_hold, toxicity_reject, spam_hold, "
        "spam_reject, new_commenter_holds, hold_links, banned_words, suspect_words, "
        "allowed_domains, denied_domains, velocity_limit, trusted_after, trusted_hold, "
        "record_days, rejection_rate_hold or rejection_rate_min."
    }

    mode = fields.String(
        allow_none=True,
        validate=_one_of(("pre", "post"), " ('pre': every comment waits for a moderator)"),
        metadata={"description": "pre: every comment waits for a moderator; post: scores decide."},
    )
    toxicity_hold = _threshold("At or above this toxicity a comment waits for a moderator.")
    toxicity_reject = _threshold("At or above this toxicity a comment is rejected.")
    spam_hold = _threshold("At or above this spam score a comment waits for a moderator.")
    spam_reject = _threshold("At or above this spam score a comment is rejected.")
    new_commenter_holds = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0, max=1000, error="Use a whole number from 0 to 1000."),
        metadata={"description": "Hold the first N comments of a commenter new to the site."},
    )
    hold_links = StrictBoolean(
        allow_none=True,
        metadata={"description": "Hold every comment with a link to a domain not allowed."},
    )
    banned_words = WordList(
        allow_none=True,
        metadata={"description": "Reject comments with these words ('*' any letters, '?' one)."},
    )
    suspect_words = WordList(
        allow_none=True,
        metadata={"description": "Hold comments with these words ('*' any letters, '?' one)."},
    )
    allowed_domains = DomainList(
        allow_none=True,
        metadata={"description": "Links to these domains (and subdomains) don't count as spam."},
    )
    denied_domains = DomainList(
        allow_none=True,
        metadata={"description": "Comments linking to these domains (or subdomains) are rejected."},
    )
    velocity_limit = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=10000, error="Use a whole number from 1 to 10000."),
        metadata={"description": "Comments per velocity window that look automated."},
    )
    trusted_after = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(
            min=0, max=TRUSTED_AFTER_MAX, error=f"Use a whole number from 0 to {TRUSTED_AFTER_MAX}."
        ),
        metadata={
            "description": "A commenter with this many published comments and no rejection in "
            "record_days is trusted (0: nobody is)."
        },
    )
    trusted_hold = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0, max=1, error="Use a number from 0 to 1."),
        metadata={
            "description": "A trusted commenter's comment is held only at or above this score "
            "(not below the hold thresholds)."
        },
    )
    record_days = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(
            min=1, max=RECORD_DAYS_MAX, error=f"Use a number of days from 1 to {RECORD_DAYS_MAX}."
        ),
        metadata={
            "description": "Days of a commenter's decisions that trust and the rejection "
            "rate look at."
        },
    )
    rejection_rate_hold = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0, max=1, error="Use a number from 0 to 1 (0: off)."),
        metadata={
            "description": "Hold a commenter whose decided comments in record_days are at "
            "least this share rejections (0: off)."
        },
    )
    rejection_rate_min = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(
            min=1, max=TRUSTED_AFTER_MAX, error=f"Use a whole number from 1 to {TRUSTED_AFTER_MAX}."
        ),
        metadata={
            "description": "Decided comments a commenter needs before the rejection rate counts."
        },
    )


class _SiteSettingsSchema(Schema):
    """The settings an operator can give when creating or changing a site."""

    class Meta:
        unknown = RAISE
        ordered = True

    name = TrimmedString(
        validate=[
            validate.Length(
                min=1, max=NAME_MAX, error=f"Give a name of 1 to {NAME_MAX} characters."
            ),
            _single_line,
        ]
    )
    allowed_origins = OriginList(
        metadata={"description": "Origins (scheme://host[:port]) whose pages may embed the site."}
    )
    language = fields.String(validate=_one_of(LANGUAGES))
    min_comment_length = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=BODY_MAX, error=f"Use a number from 1 to {BODY_MAX}."),
        metadata={"description": "Characters of text, markup removed."},
    )
    max_comment_length = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=BODY_MAX, error=f"Use a number from 1 to {BODY_MAX}."),
        metadata={"description": "Characters of text, markup removed."},
    )
    auto_close_days = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(
            min=1,
            max=AUTO_CLOSE_MAX_DAYS,
            error=f"Use a number of days from 1 to {AUTO_CLOSE_MAX_DAYS}, or null for never.",
        ),
        metadata={"description": "Articles take no comments this long after their first one."},
    )
    edit_window_seconds = fields.Integer(
        strict=True,
        validate=validate.Range(
            min=0,
            max=EDIT_WINDOW_MAX_SECONDS,
            error=f"Use a number of seconds from 0 to {EDIT_WINDOW_MAX_SECONDS} (0: no editing).",
        ),
        metadata={"description": "Authors may edit a comment this long after posting; 0: never."},
    )
    sign_in = fields.String(
        validate=_one_of(SIGN_IN_POLICIES),
        metadata={
            "description": "Who may post: anonymous (anyone), required (readers signed in with "
            "the publisher's login), links (sign-in needed to post a link)."
        },
    )
    dislikes_enabled = StrictBoolean(
        metadata={"description": "Readers may dislike comments too (likes are always on)."}
    )
    queue_alert_minutes = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(
            min=1, max=7 * 24 * 60, error="Use a number of minutes from 1 to 10080, or null."
        ),
        metadata={
            "description": "Mail opted-in moderators when the held queue's oldest comment "
            "waits longer than this (null: never)."
        },
    )
    rate_limits = fields.Nested(SiteRateLimitsSchema)
    policy = fields.Nested(PolicySchema)


class SiteCreateSchema(_SiteSettingsSchema):
    """A new site: its key, and any settings that differ from the defaults."""

    key = fields.String(
        required=True,
        validate=validate.Regexp(SITE_KEY_PATTERN, error=KEY_RULE),
        metadata={"description": "Used in embed URLs; can't be changed later.", "example": "news"},
    )


class SiteUpdateSchema(_SiteSettingsSchema):
    """Settings to change; the ones left out are kept, and the policy is merged."""


class ModeratorsSchema(Schema):
    """The usernames of the site's moderators (the list replaces the current one)."""

    class Meta:
        unknown = RAISE

    moderators = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=validate.Length(max=MODERATORS_MAX),
    )


class EffectivePolicySchema(Schema):
    """Every moderation setting as the worker applies it (the site's own, or the default)."""

    class Meta:
        ordered = True

    mode = fields.String()
    toxicity_hold = fields.Float()
    toxicity_reject = fields.Float()
    spam_hold = fields.Float()
    spam_reject = fields.Float()
    new_commenter_holds = fields.Integer()
    hold_links = fields.Boolean()
    banned_words = fields.List(fields.String())
    suspect_words = fields.List(fields.String())
    allowed_domains = fields.List(fields.String())
    denied_domains = fields.List(fields.String())
    velocity_limit = fields.Integer()
    trusted_after = fields.Integer()
    trusted_hold = fields.Float()
    record_days = fields.Integer()
    rejection_rate_hold = fields.Float()
    rejection_rate_min = fields.Integer()


class SiteSchema(Schema):
    """A site with every setting."""

    class Meta:
        ordered = True

    key = fields.String()
    name = fields.String()
    allowed_origins = fields.List(fields.String())
    language = fields.String()
    min_comment_length = fields.Integer()
    max_comment_length = fields.Integer()
    auto_close_days = fields.Integer(allow_none=True)
    edit_window_seconds = fields.Integer()
    sign_in = fields.String()
    dislikes_enabled = fields.Boolean()
    queue_alert_minutes = fields.Integer(allow_none=True)
    rate_limits = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "The site's own rate limits (the others take the default)."},
    )
    effective_rate_limits = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "submit, report, delete and vote limits as applied."},
    )
    policy = fields.Dict(
        metadata={"description": "The site's own policy settings (the others take the default)."}
    )
    effective_policy = fields.Nested(EffectivePolicySchema)
    moderators = fields.List(fields.String(), metadata={"description": "Usernames."})
    closed = fields.Boolean()
    closed_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class SiteListSchema(Schema):
    """Every site, by key."""

    sites = fields.List(fields.Nested(SiteSchema))


class OperatorActionsQuerySchema(Schema):
    """Filters of the operators' log."""

    class Meta:
        unknown = EXCLUDE

    action = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=40),
        metadata={"description": 'A prefix: "site" for every site action, "site.update", "ban".'},
    )
    actor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": 'Exactly, e.g. "moderator:olga" or "cli".'},
    )
    since = NaiveUTCDateTime(load_default=None, metadata={"description": "ISO 8601, inclusive."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=ACTIONS_LIMIT_MAX))


class OperatorActionSchema(Schema):
    """One entry of the operators' log."""

    id = fields.Integer()
    actor = fields.String()
    action = fields.String()
    subject = fields.String()
    details = fields.Dict(
        metadata={"description": 'For updates: {field: {"from": old, "to": new}}.'}
    )
    created_at = UTCDateTime()


class OperatorActionsSchema(Schema):
    """Entries of the operators' log, newest first."""

    actions = fields.List(fields.Nested(OperatorActionSchema))
