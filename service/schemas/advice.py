"""Schemas of threshold advice: its options, applying it, and the advice as the API shows it."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from service.schemas.fields import UTCDateTime

# The thresholds advice covers, as the policy names them.
THRESHOLDS = ("toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject")
DEFAULT_DAYS = 90
MAX_DAYS = 365
# Percentages: what a suggested hold threshold may let through of what moderators rejected, and
# what a suggested reject threshold may reject of what they approved.
DEFAULT_HOLD_TOLERANCE = 2.0
DEFAULT_REJECT_TOLERANCE = 1.0
MAX_TOLERANCE = 50.0
FINGERPRINT_MAX = 64


def _tolerance(default: float, description: str) -> fields.Float:
    return fields.Float(
        load_default=default,
        validate=validate.Range(
            min=0, max=MAX_TOLERANCE, error=f"Use a percentage from 0 to {MAX_TOLERANCE:g}."
        ),
        metadata={"description": description},
    )


class AdviceOptionsSchema(Schema):
    """Which decisions the advice reads, and how much error its suggestions may allow."""

    class Meta:
        unknown = EXCLUDE
        ordered = True

    days = fields.Integer(
        load_default=DEFAULT_DAYS,
        validate=validate.Range(
            min=1, max=MAX_DAYS, error=f"Use a number of days from 1 to {MAX_DAYS}."
        ),
        metadata={"description": "Read the decisions moderators made in the last N days."},
    )
    hold_tolerance = _tolerance(
        DEFAULT_HOLD_TOLERANCE,
        "Percent: a suggested hold threshold lets through (auto-approves) at most this share of "
        "what moderators rejected.",
    )
    reject_tolerance = _tolerance(
        DEFAULT_REJECT_TOLERANCE,
        "Percent: a suggested reject threshold auto-rejects at most this share of what "
        "moderators approved.",
    )


class AdviceApplySchema(AdviceOptionsSchema):
    """Apply the advice computed now; `fingerprint` makes it refuse (409) if it changed."""

    class Meta:
        unknown = RAISE
        ordered = True

    thresholds = fields.List(
        fields.String(validate=validate.OneOf(THRESHOLDS, error=f"Use {', '.join(THRESHOLDS)}.")),
        load_default=None,
        validate=validate.Length(min=1, max=len(THRESHOLDS), error="Name 1 to 4 thresholds."),
        metadata={"description": "Apply only these suggestions (default: every one there is)."},
    )
    fingerprint = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=FINGERPRINT_MAX),
        metadata={
            "description": "The advice's fingerprint as you read it: if the advice computed now "
            "differs, nothing is applied and the answer is 409."
        },
    )


class ShareSchema(Schema):
    """How many of a kind of decision, and their share of all of that kind."""

    class Meta:
        ordered = True

    count = fields.Integer()
    share = fields.Float(metadata={"description": "From 0 to 1."})


class OutcomeSchema(Schema):
    """What a threshold would have done to the comments moderators decided."""

    class Meta:
        ordered = True

    at = fields.Float(metadata={"description": "The threshold."})
    approved = fields.Nested(
        ShareSchema,
        metadata={
            "description": "Of what moderators approved: auto-approved (hold) or auto-rejected "
            "(reject)."
        },
    )
    rejected = fields.Nested(
        ShareSchema,
        metadata={"description": "Of what moderators rejected, the same."},
    )
    text = fields.String(
        metadata={
            "example": "at 0.62, 91 % of what moderators approved would "
            "have been auto-approved and 1 % of what they rejected"
        }
    )


class ThresholdAdviceSchema(Schema):
    """One threshold: in force now, suggested, and what each would have done."""

    class Meta:
        ordered = True

    name = fields.String(metadata={"example": "toxicity_hold"})
    kind = fields.String(metadata={"description": "hold or reject."})
    current = fields.Float()
    suggested = fields.Float(allow_none=True, metadata={"description": "null: no suggestion."})
    change = fields.Boolean(metadata={"description": "Whether the suggestion differs."})
    at_current = fields.Nested(OutcomeSchema, allow_none=True)
    at_suggested = fields.Nested(OutcomeSchema, allow_none=True)
    note = fields.String(metadata={"description": "How the suggestion was chosen."})


class ScoreAdviceSchema(Schema):
    """The advice for one score's two thresholds."""

    class Meta:
        ordered = True

    score = fields.String(metadata={"description": "toxicity or spam."})
    approved = fields.Integer(metadata={"description": "Approvals with this score."})
    rejected = fields.Integer(
        metadata={"description": "Rejections counted for this score (spam: reason 'spam')."}
    )
    enough = fields.Boolean(metadata={"description": "Whether there are enough to advise."})
    message = fields.String()
    thresholds = fields.List(fields.Nested(ThresholdAdviceSchema))


class SampleSchema(Schema):
    """The decisions the advice reads: each comment's latest decision by a person."""

    class Meta:
        ordered = True

    approved = fields.Integer()
    rejected = fields.Integer()
    rejected_as_spam = fields.Integer()
    decided_from = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "The status comments had before the decision (held, ...)."},
    )


class ChangeSchema(Schema):
    """A threshold's value now and after the change."""

    class Meta:
        ordered = True

    from_ = fields.Float(data_key="from", attribute="from")
    to = fields.Float()


class AdviceSchema(Schema):
    """Threshold advice for a site, computed from moderators' decisions."""

    class Meta:
        ordered = True

    site = fields.String()
    days = fields.Integer()
    since = UTCDateTime()
    computed_at = UTCDateTime()
    hold_tolerance = fields.Float()
    reject_tolerance = fields.Float()
    min_approved = fields.Integer()
    min_rejected = fields.Integer()
    mode = fields.String(metadata={"description": "The site's moderation mode (pre or post)."})
    sample = fields.Nested(SampleSchema)
    scores = fields.List(fields.Nested(ScoreAdviceSchema))
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ChangeSchema),
        metadata={"description": "The suggestions that differ from the thresholds in force."},
    )
    fingerprint = fields.String(
        metadata={"description": "Send it back when applying to refuse a changed advice."}
    )
    caveats = fields.List(fields.String(), metadata={"description": "What the figures can't say."})


class AdviceAppliedSchema(Schema):
    """What applying changed, the thresholds now in force, and the advice that was applied."""

    class Meta:
        ordered = True

    applied = fields.Dict(keys=fields.String(), values=fields.Nested(ChangeSchema))
    thresholds = fields.Dict(keys=fields.String(), values=fields.Float())
    advice = fields.Nested(AdviceSchema)
