"""Schemas of authors' edits as moderators see and decide them (the moderation API)."""

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from service.core.moderation.edits import EDIT_ACTIONS, EDIT_STATUSES
from service.schemas.fields import TrimmedString, UTCDateTime
from service.schemas.moderation import SITE_KEY


class EditsQuerySchema(Schema):
    """Query arguments of the edits list."""

    class Meta:
        unknown = EXCLUDE

    site = fields.String(load_default=None, validate=SITE_KEY)
    status = fields.String(
        load_default="held",
        validate=validate.OneOf(EDIT_STATUSES, error=f"Use one of: {', '.join(EDIT_STATUSES)}."),
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class TextSchema(Schema):
    """A comment's text: its title and sanitized body."""

    title = fields.String(allow_none=True)
    body_html = fields.String()


class RevisionSchema(Schema):
    """One text of a comment: its original, or an author's edit with its decision."""

    id = fields.Integer(allow_none=True)
    original = fields.Boolean(metadata={"description": "The text before the first edit."})
    status = fields.String()
    title = fields.String(allow_none=True)
    body_html = fields.String()
    toxicity = fields.Float(allow_none=True)
    spam = fields.Float(allow_none=True)
    reasons = fields.List(fields.String())
    created_at = UTCDateTime()
    decided_at = UTCDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)


class EditCardSchema(RevisionSchema):
    """An edit waiting for a moderator, with the comment's current (published) text."""

    comment_id = fields.Integer()
    comment_status = fields.String()
    site = fields.String()
    article = fields.String()
    author_name = fields.String()
    current = fields.Nested(TextSchema)


class EditsPageSchema(Schema):
    """Edits in one status, oldest first."""

    edits = fields.List(fields.Nested(EditCardSchema))


class HistorySchema(Schema):
    """A comment's texts in order: the original, then every edit."""

    comment_id = fields.Integer()
    status = fields.String()
    edited_at = UTCDateTime(allow_none=True)
    current = fields.Nested(TextSchema)
    revisions = fields.List(fields.Nested(RevisionSchema))


class EditDecisionSchema(Schema):
    """Approve or reject an edit; `reason` is shown to its author, `note` only in the audit."""

    class Meta:
        unknown = RAISE

    action = fields.String(
        required=True,
        validate=validate.OneOf(list(EDIT_ACTIONS), error="Use approve or reject."),
    )
    reason = TrimmedString(load_default=None, validate=validate.Length(max=200))
    note = TrimmedString(load_default=None, validate=validate.Length(max=1000))
