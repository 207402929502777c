"""Schemas of the public comment API (DESIGN: public API contract v1)."""

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from service.schemas.fields import EmailAddress, TrimmedString, UTCDateTime
from workers.scoring.policy import reasons_for_author

COMMENTER_KEY = validate.Regexp(
    r"^[A-Za-z0-9_-]{8,64}\Z", error="Must be 8 to 64 letters, digits, '-' or '_'."
)


class CommentSubmitSchema(Schema):
    """What a reader sends to post a comment or a reply."""

    class Meta:
        unknown = RAISE

    author_name = TrimmedString(
        load_default=None,
        validate=validate.Length(min=1, max=60),
        metadata={
            "description": "Required unless the reader is signed in (Authorization: Bearer "
            "<session>): then the session's name is used and this is ignored."
        },
    )
    author_email = EmailAddress(
        load_default=None, validate=validate.Length(max=254), metadata={"format": "email"}
    )
    title = TrimmedString(load_default=None, validate=validate.Length(max=120))
    body = TrimmedString(required=True, validate=validate.Length(min=1, max=5000))
    parent_id = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    commenter_key = fields.String(load_default=None, validate=COMMENTER_KEY)
    # "uri", JSON Schema's name for it (apispec writes "url", which no validator knows).
    article_url = fields.Url(
        load_default=None,
        schemes={"http", "https"},
        validate=validate.Length(max=2000),
        metadata={"format": "uri", "pattern": "^https?://"},
    )
    article_title = TrimmedString(load_default=None, validate=validate.Length(max=300))
    # E-mail notifications (docs/integrations.md): need author_email, or a signed-in reader
    # whose token has one; ignored while the service has no SMTP server configured.
    notify_replies = fields.Boolean(
        load_default=False,
        metadata={"description": "Mail me when a reply to this comment is published."},
    )
    notify_decision = fields.Boolean(
        load_default=False,
        metadata={"description": "Mail me whether this comment is published (and why not)."},
    )
    notify_digest = fields.String(
        load_default=None,
        validate=validate.OneOf(["off", "hourly", "daily"]),
        metadata={"description": "Replies one mail each (off) or gathered hourly or daily."},
    )


class SubmittedSchema(Schema):
    """The answer to a submission; the delete token is shown this once only."""

    id = fields.Integer()
    status = fields.String()
    delete_token = fields.String(
        metadata={"description": "Keep it: it is the only way to delete the comment later."}
    )


class ThreadQuerySchema(Schema):
    """Query arguments of the reader's thread."""

    class Meta:
        unknown = EXCLUDE  # cache-busting query strings must not break the page

    sort = fields.String(
        load_default="newest",
        validate=validate.OneOf(["newest", "oldest", "top"]),
        metadata={"description": "top: by a confidence score of likes (Wilson lower bound)."},
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class ThreadCommentSchema(Schema):
    """One approved comment (or a tombstone) with its visible replies."""

    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    author_name = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    body_html = fields.String(allow_none=True)
    created_at = UTCDateTime()
    deleted = fields.Boolean(
        metadata={"description": "A tombstone: the author deleted it, replies remain."}
    )
    featured = fields.Boolean(metadata={"description": "An editors' pick."})
    edited_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "When an approved edit last replaced the text (null: never)."},
    )
    badges = fields.List(
        fields.String(),
        metadata={"description": "A signed-in author's badges from the publisher (e.g. staff)."},
    )
    likes = fields.Integer(metadata={"description": "At most VOTE_COUNTS_SECONDS old."})
    dislikes = fields.Integer(metadata={"description": "Only where the site enables dislikes."})
    replies = fields.List(fields.Nested(lambda: ThreadCommentSchema()))


class PickSchema(Schema):
    """An editors' pick as listed above the thread (its replies stay in place)."""

    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    author_name = fields.String()
    title = fields.String(allow_none=True)
    body_html = fields.String()
    created_at = UTCDateTime()


class ArticleSchema(Schema):
    """The article a thread belongs to."""

    id = fields.String()
    url = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    closed = fields.Boolean()


class SiteInfoSchema(Schema):
    """What the widget needs to know about the site: its language and comment length limits."""

    language = fields.String(metadata={"description": "Used when the page doesn't say its own."})
    min_comment_length = fields.Integer()
    max_comment_length = fields.Integer()
    edit_window_seconds = fields.Integer(
        metadata={"description": "Authors may edit a comment this long after posting; 0: never."}
    )
    sign_in = fields.String(
        metadata={"description": "anonymous, required or links: who may post (SSO sign-in)."}
    )
    dislikes_enabled = fields.Boolean(metadata={"description": "Readers may dislike comments."})
    notifications = fields.Boolean(
        metadata={"description": "The service sends e-mail: readers may opt in (notify_replies)."}
    )


class ThreadSchema(Schema):
    """A page of an article's thread."""

    site = fields.Nested(SiteInfoSchema)
    article = fields.Nested(ArticleSchema)
    count = fields.Integer(metadata={"description": "Approved comments on the article."})
    comments = fields.List(fields.Nested(ThreadCommentSchema))
    next_cursor = fields.String(allow_none=True)
    featured = fields.List(
        fields.Nested(PickSchema),
        metadata={
            "description": "First page only: the editors' picks, newest pick first (at most 10)."
        },
    )


class LiveSchema(Schema):
    """What an open page polls to know whether its thread has new comments."""

    version = fields.String(
        metadata={"description": "Changes whenever `approved` or `latest` does (also the ETag)."}
    )
    approved = fields.Integer(
        metadata={"description": "Approved visible comments on the article, replies included."}
    )
    latest = fields.Integer(
        allow_none=True, metadata={"description": "The newest approved comment's id, if any."}
    )


class OwnCommentSchema(Schema):
    """The author's view of their own comment, in any status."""

    id = fields.Integer()
    status = fields.String()
    article = fields.String(attribute="article.external_id")
    parent_id = fields.Integer(allow_none=True)
    author_name = fields.String()
    title = fields.String(allow_none=True)
    body_html = fields.String()
    reasons = fields.Method(
        "_reasons",
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "The automatic decision's reasons, as the author may read them.",
        },
    )
    created_at = UTCDateTime()
    decided_at = UTCDateTime(allow_none=True)
    edited_at = UTCDateTime(allow_none=True)
    editable_until = UTCDateTime(
        allow_none=True, metadata={"description": "Null when the site turned editing off."}
    )
    edit = fields.Nested(lambda: OwnEditSchema(), allow_none=True)
    badges = fields.Function(
        lambda comment: comment.badges or [],
        metadata={"type": "array", "items": {"type": "string"}},
    )

    def _reasons(self, comment) -> list[str]:
        # A hold ban (a watchlist) shows as waiting for a moderator, never as a list.
        return reasons_for_author(comment.reasons or [])


class CommentEditSchema(Schema):
    """An author's new text for their comment (sanitized and checked like a submission)."""

    class Meta:
        unknown = RAISE

    title = TrimmedString(load_default=None, validate=validate.Length(max=120))
    body = TrimmedString(required=True, validate=validate.Length(min=1, max=5000))


class EditedSchema(Schema):
    """The answer to an edit: moderated like a new comment before readers see it."""

    id = fields.Integer()
    status = fields.String(metadata={"description": "The comment's status."})
    edit_status = fields.String(
        allow_none=True,
        metadata={
            "description": "The edit's status when the comment is published (readers keep the "
            "approved text until it is approved); null when the comment itself was still "
            "undecided and its text was replaced."
        },
    )
    editable_until = UTCDateTime()


class OwnEditSchema(Schema):
    """The author's latest edit of a published comment and its decision."""

    id = fields.Integer()
    status = fields.String(
        metadata={"description": "pending, held, approved, rejected or superseded."}
    )
    title = fields.String(allow_none=True)
    body_html = fields.String()
    reasons = fields.Method(
        "_reasons",
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "Why it was held or not published, as the author may read it.",
        },
    )
    created_at = UTCDateTime()
    decided_at = UTCDateTime(allow_none=True)

    def _reasons(self, revision) -> list[str]:
        return reasons_for_author(revision.reasons or [])


class DeleteTokenHeaderSchema(Schema):
    """The delete token an author got on submission."""

    class Meta:
        unknown = EXCLUDE

    token = fields.String(data_key="X-Delete-Token", load_default=None)


class CountsQuerySchema(Schema):
    """Which articles to count: comma-separated article ids."""

    class Meta:
        unknown = EXCLUDE

    articles = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class CountsSchema(Schema):
    """Approved comment counts per article id."""

    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class SessionRequestSchema(Schema):
    """A publisher's sign-in token to exchange for a reader session."""

    class Meta:
        unknown = RAISE

    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=8000),
        metadata={"description": "The JWT the publisher's login signed (HS256, RS256 or ES256)."},
    )


class ReaderSchema(Schema):
    """A signed-in reader as the widget shows them."""

    id = fields.String(attribute="sso_id", metadata={"description": "The publisher's user id."})
    name = fields.String()
    badges = fields.List(fields.String())


class SessionSchema(Schema):
    """A reader session: send it as `Authorization: Bearer <session>` until it expires."""

    session = fields.String()
    reader = fields.Nested(ReaderSchema)
    expires_at = UTCDateTime()
