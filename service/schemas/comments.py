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

    author_name = TrimmedString(required=True, validate=validate.Length(min=1, max=60))
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
    likes = fields.Integer(metadata={"description": "At most VOTE_COUNTS_SECONDS old."})
    dislikes = fields.Integer(metadata={"description": "Only where the site enables dislikes."})
    replies = fields.List(fields.Nested(lambda: ThreadCommentSchema()))


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
    dislikes_enabled = fields.Boolean(metadata={"description": "Readers may dislike comments."})


class ThreadSchema(Schema):
    """A page of an article's thread."""

    site = fields.Nested(SiteInfoSchema)
    article = fields.Nested(ArticleSchema)
    count = fields.Integer(metadata={"description": "Approved comments on the article."})
    comments = fields.List(fields.Nested(ThreadCommentSchema))
    next_cursor = fields.String(allow_none=True)


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

    def _reasons(self, comment) -> list[str]:
        # A hold ban (a watchlist) shows as waiting for a moderator, never as a list.
        return reasons_for_author(comment.reasons or [])


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
