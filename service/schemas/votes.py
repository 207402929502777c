"""Schemas of readers' votes on comments (likes and dislikes)."""

from marshmallow import RAISE, Schema, fields, validate

from service.schemas.comments import COMMENTER_KEY


class VoteSchema(Schema):
    """A reader's like or dislike of a published comment."""

    class Meta:
        unknown = RAISE

    value = fields.String(
        required=True,
        validate=validate.OneOf(["like", "dislike"]),
        metadata={"description": '"dislike" only where the site enables dislikes.'},
    )
    # The widget keeps one for every reader; a signed-in reader's vote (Authorization: Bearer
    # <session>) counts by their SSO id instead.
    commenter_key = fields.String(
        required=True,
        validate=COMMENTER_KEY,
        metadata={"description": "The widget's per-reader key: one vote per key and comment."},
    )


class VoteWithdrawSchema(Schema):
    """Whose vote to take back."""

    class Meta:
        unknown = RAISE

    commenter_key = fields.String(required=True, validate=COMMENTER_KEY)


class VoteCountsSchema(Schema):
    """A comment's counts after the vote, and the reader's own vote (null: none)."""

    likes = fields.Integer()
    dislikes = fields.Integer()
    vote = fields.String(allow_none=True, metadata={"enum": ["like", "dislike", None]})
