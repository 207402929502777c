"""Schemas of the moderation API: queue cards, decisions, undo, events, audit and summary."""

from datetime import UTC

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from service.core.moderation import ACTIONS, QUEUES, SORTS
from service.models import MAX_ID
from service.schemas.comments import COMMENTER_KEY
from service.schemas.errors import ErrorSchema
from service.schemas.fields import StrictBoolean, TrimmedString, UTCDateTime

STATUSES = ["pending", "held", "approved", "rejected", "deleted"]
BULK_MAX = 100
SITE_KEY = validate.Length(min=1, max=64)


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(list(choices), error="Must be one of: " + ", ".join(choices) + ".")


def _single_line(value: str) -> None:
    if not value.isprintable():
        raise ValidationError("Must be one line of printable text.")


class NaiveUTCDateTime(fields.DateTime):
    """An ISO 8601 time in the query; with an offset it is converted, without one it is UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment


# --- Queues -----------------------------------------------------------------------------------


class QueueQuerySchema(Schema):
    """Query arguments of a queue page."""

    class Meta:
        unknown = EXCLUDE

    site = fields.String(load_default=None, validate=SITE_KEY)
    article = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The site's own article id; needs `site`."},
    )
    commenter = fields.String(load_default=None, validate=COMMENTER_KEY)
    sort = fields.String(
        load_default=None,
        validate=_one_of(SORTS),
        metadata={
            "description": "Default: oldest for held and pending, newest for the others "
            "(reported: by the latest report). riskiest: max(toxicity, spam) first."
        },
    )
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=300))


class CardArticleSchema(Schema):
    """The article a comment is on."""

    id = fields.String()
    title = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    premoderated = fields.Boolean(
        metadata={"description": "Every new comment on the article waits for a moderator."}
    )


class CardParentSchema(Schema):
    """The comment a reply answers."""

    id = fields.Integer()
    author_name = fields.String()
    body_html = fields.String()


class RecentCommentSchema(Schema):
    """One of the commenter's other recent comments."""

    id = fields.Integer()
    status = fields.String()
    title = fields.String(allow_none=True)
    excerpt = fields.String(metadata={"description": "Plain text; escape it when shown."})
    created_at = UTCDateTime()


class CommenterSchema(Schema):
    """What the commenter's key says about them on the sites the caller moderates."""

    key = fields.String(allow_none=True)
    approved = fields.Integer()
    rejected = fields.Integer()
    recent = fields.List(fields.Nested(RecentCommentSchema))


class CardReportsSchema(Schema):
    """Readers' reports no moderator has dealt with yet."""

    count = fields.Integer()
    reasons = fields.Dict(keys=fields.String(), values=fields.Integer())
    notes = fields.List(
        fields.String(), metadata={"description": "Newest first, at most 5; plain text."}
    )


class CardSchema(Schema):
    """A comment as a moderator sees it, with what they need to decide."""

    id = fields.Integer()
    status = fields.String()
    site = fields.String()
    article = fields.Nested(CardArticleSchema)
    parent = fields.Nested(CardParentSchema, allow_none=True)
    author_name = fields.String()
    title = fields.String(allow_none=True)
    body_html = fields.String()
    created_at = UTCDateTime()
    decided_at = UTCDateTime(allow_none=True)
    toxicity = fields.Float(allow_none=True)
    spam = fields.Float(allow_none=True)
    likes = fields.Integer(metadata={"description": "Readers' likes (published comments)."})
    dislikes = fields.Integer()
    reasons = fields.List(fields.String())
    highlights = fields.List(
        fields.String(), metadata={"description": "Words the reasons quote, to mark in the text."}
    )
    commenter = fields.Nested(CommenterSchema)
    reports = fields.Nested(CardReportsSchema)
    shadow = fields.Boolean(
        metadata={"description": "Sent under a shadow ban: only its author sees it published."}
    )
    featured = fields.Boolean(metadata={"description": "An editors' pick, shown above its thread."})
    edited_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "When an approved edit last replaced the text (null: never)."},
    )
    ban_targets = fields.List(
        fields.String(),
        metadata={
            "description": "What a ban by this comment can match on (sso_id, commenter_key, "
            "email, ip, network, email_domain): what was stored with it."
        },
    )
    sso_id = fields.String(
        allow_none=True,
        metadata={"description": "A signed-in author's id in the publisher's login (SSO)."},
    )
    badges = fields.List(fields.String(), metadata={"description": "A signed-in author's badges."})


class QueueCountsSchema(Schema):
    """How many comments each queue holds under the same filters."""

    held = fields.Integer()
    reported = fields.Integer()
    pending = fields.Integer()
    approved = fields.Integer()
    rejected = fields.Integer()


class QueuePageSchema(Schema):
    """A page of a queue."""

    queue = fields.String(metadata={"enum": list(QUEUES)})
    counts = fields.Nested(QueueCountsSchema)
    comments = fields.List(fields.Nested(CardSchema))
    next_cursor = fields.String(allow_none=True)


# --- Decisions --------------------------------------------------------------------------------


class _DecisionWords(Schema):
    """Why: a short reason (e.g. "spam", "abusive", "off-topic") and a longer note."""

    class Meta:
        unknown = RAISE

    reason = TrimmedString(
        load_default=None,
        validate=[validate.Length(max=200), _single_line],
        metadata={"description": '"spam" on a rejection also teaches the site\'s spam model.'},
    )
    note = TrimmedString(load_default=None, validate=validate.Length(max=1000))


class DecisionSchema(_DecisionWords):
    """Approve or reject one comment, if it is still in the status the moderator saw."""

    action = fields.String(required=True, validate=_one_of(ACTIONS))
    expected_status = fields.String(required=True, validate=_one_of(STATUSES))


class DecisionResultSchema(Schema):
    """A decision that was applied."""

    id = fields.Integer()
    status = fields.String()
    previous_status = fields.String()
    undo_until = UTCDateTime()


class CurrentStateSchema(Schema):
    """Where the comment is now, and who put it there."""

    status = fields.String()
    decided_by = fields.String(allow_none=True)


class BulkItemSchema(Schema):
    """One comment of a bulk decision."""

    class Meta:
        unknown = RAISE

    id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    expected_status = fields.String(required=True, validate=_one_of(STATUSES))


class BulkDecisionSchema(_DecisionWords):
    """The same decision for up to 100 comments."""

    action = fields.String(required=True, validate=_one_of(ACTIONS))
    items = fields.List(
        fields.Nested(BulkItemSchema),
        required=True,
        validate=validate.Length(min=1, max=BULK_MAX),
    )

    @validates_schema
    def _distinct(self, data, **kwargs):
        ids = [item["id"] for item in data.get("items", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("List each comment once.", "items")


class BulkErrorSchema(Schema):
    """Why one item of a bulk decision was not applied."""

    code = fields.String()
    message = fields.String()
    current = fields.Nested(CurrentStateSchema)


class StaleDecisionSchema(ErrorSchema):
    """The 409 of a decision on a comment that moved on: the error and where the comment is now."""

    current = fields.Nested(CurrentStateSchema, required=True)


class BulkResultSchema(Schema):
    """One item's outcome: the new status, or the error."""

    id = fields.Integer()
    status = fields.String(allow_none=True)
    error = fields.Nested(BulkErrorSchema, allow_none=True)


class BulkResultsSchema(Schema):
    """Every item's outcome, in the order sent."""

    results = fields.List(fields.Nested(BulkResultSchema))


class UndoneSchema(Schema):
    """The comment's status after an undo."""

    id = fields.Integer()
    status = fields.String()


# --- Events, audit, summary -------------------------------------------------------------------


class EventsQuerySchema(Schema):
    """Where the console's last poll ended."""

    class Meta:
        unknown = EXCLUDE

    after = fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "The `last` of the previous answer; omit it to start."},
    )
    site = fields.String(load_default=None, validate=SITE_KEY)


class EventSchema(Schema):
    """One status change."""

    id = fields.Integer()
    comment_id = fields.Integer()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String()
    at = UTCDateTime()


class EventsSchema(Schema):
    """Status changes after `after`, oldest first, at most 200."""

    events = fields.List(fields.Nested(EventSchema))
    last = fields.Integer(metadata={"description": "Pass it as `after` next time."})


class _PeriodQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    site = fields.String(load_default=None, validate=SITE_KEY)
    since = NaiveUTCDateTime(load_default=None, metadata={"description": "ISO 8601, inclusive."})
    until = NaiveUTCDateTime(load_default=None, metadata={"description": "ISO 8601, exclusive."})


class AuditQuerySchema(_PeriodQuery):
    """Filters and paging of the audit log."""

    moderator = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "A username: only that account's entries."},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class AuditEntrySchema(Schema):
    """One entry of the audit log."""

    id = fields.Integer()
    at = UTCDateTime()
    actor = fields.String()
    comment_id = fields.Integer()
    site = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reason = fields.String(allow_none=True)


class AuditPageSchema(Schema):
    """A page of the audit log, newest first."""

    entries = fields.List(fields.Nested(AuditEntrySchema))
    next_cursor = fields.String(allow_none=True)


class SummaryQuerySchema(_PeriodQuery):
    """Which sites and period to summarise."""


class ModeratorSummarySchema(Schema):
    """One moderator's decisions in the period (undone ones count only as undone)."""

    actor = fields.String()
    approved = fields.Integer()
    rejected = fields.Integer()
    undone = fields.Integer()
    overturned = fields.Integer(
        metadata={"description": "Automatic approvals rejected, or rejections approved."}
    )
    overturned_by_reason = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"example": {"toxicity ≥ reject threshold": 3}},
    )


class AutomaticSummarySchema(Schema):
    """The automatic decisions in the period."""

    approved = fields.Integer()
    held = fields.Integer()
    rejected = fields.Integer()


class SummarySchema(Schema):
    """Moderators' work and how often they overturned the automatic decisions."""

    moderators = fields.List(fields.Nested(ModeratorSummarySchema))
    automatic = fields.Nested(AutomaticSummarySchema)


class PremoderationSchema(Schema):
    """Switch an article's pre-moderation."""

    class Meta:
        unknown = RAISE

    premoderated = StrictBoolean(
        required=True,
        metadata={"description": "true: every new comment on the article waits for a moderator."},
    )


class ClosingSchema(Schema):
    """Close an article to new comments, or reopen it."""

    class Meta:
        unknown = RAISE

    closed = StrictBoolean(
        required=True,
        metadata={"description": "true: the thread stays readable but takes no new comments."},
    )


class ArticlePremoderationSchema(Schema):
    """An article, whether it is pre-moderated and whether it is closed by hand."""

    site = fields.String()
    article = fields.String(metadata={"description": "The site's own article id."})
    title = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    premoderated = fields.Boolean()
    closed = fields.Boolean(metadata={"description": "Closed by hand to new comments."})


class PremoderatedArticlesSchema(Schema):
    """A site's pre-moderated articles, the latest created first."""

    articles = fields.List(fields.Nested(ArticlePremoderationSchema))


class FeatureResultSchema(Schema):
    """A comment's editors' pick state after featuring or unfeaturing it."""

    id = fields.Integer()
    featured = fields.Boolean()
    featured_at = UTCDateTime(allow_none=True)
    featured_by = fields.String(allow_none=True)
