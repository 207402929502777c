"""A site's moderation policy, and turning scores into a decision with every reason in words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .score import Scores

APPROVED, HELD, REJECTED = "approved", "held", "rejected"
SEVERITY = {APPROVED: 0, HELD: 1, REJECTED: 2}
PRE_MODERATION, POST_MODERATION = "pre", "post"


@dataclass(frozen=True)
class Policy:
    """How a site moderates: the defaults are post-moderation with two thresholds per score."""

    # "pre": every comment waits for a moderator; "post": scores decide, moderators review.
    mode: str = POST_MODERATION
    # At or above *_hold a comment waits for a moderator; at or above *_reject it is rejected.
    toxicity_hold: float = 0.5
    toxicity_reject: float = 0.9
    spam_hold: float = 0.5
    spam_reject: float = 0.9
    # Hold the first N comments of a commenter key the site hasn't published before.
    new_commenter_holds: int = 0
    hold_links: bool = False
    # Matched on normalized words; '*' stands for any letters, '?' for one.
    banned_words: tuple[str, ...] = ()
    suspect_words: tuple[str, ...] = ()
    # Links to allowed domains don't count as spam; links to denied domains reject.
    allowed_domains: tuple[str, ...] = ()
    denied_domains: tuple[str, ...] = ()
    # Comments per velocity window (per commenter key, and per IP address) that look automated.
    velocity_limit: int = 5

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, **defaults: Any) -> Policy:
        """Build a policy from stored settings; missing keys take `defaults`, then ours."""
        known = {field.name for field in fields(cls)}
        values = {**defaults, **{k: v for k, v in (data or {}).items() if k in known}}
        for name in ("banned_words", "suspect_words", "allowed_domains", "denied_domains"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as JSON-ready settings."""
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}


@dataclass(frozen=True)
class Decision:
    """The outcome for one comment and the reasons a moderator or author can read."""

    status: str
    reasons: tuple[str, ...]


def _number(value: float, *thresholds: float) -> str:
    """Format a score so it never reads as being on the other side of a threshold."""
    for digits in (2, 3, 4):
        text = f"{value:.{digits}f}"
        if all((value >= limit) == (float(text) >= limit) for limit in thresholds):
            return text
    return f"{value:.6f}"


def _verdict(name: str, value: float, hold: float, reject: float) -> tuple[str, str]:
    shown = _number(value, hold, reject)
    if value >= reject:
        return REJECTED, f"{name} {shown} ≥ reject threshold {reject:.2f}"
    if value >= hold:
        return HELD, f"{name} {shown} ≥ hold threshold {hold:.2f}"
    return APPROVED, f"{name} {shown} below hold threshold {hold:.2f}"


def decide(scores: Scores, policy: Policy, *, prior_comments: int | None = None) -> Decision:
    """Decide a comment: the strictest verdict wins, and every reason that applied is kept.

    `prior_comments` is how many comments the commenter has had published on the site before
    (None when unknown, e.g. no commenter key: the new-commenter hold doesn't apply).
    """
    verdicts = [
        _verdict("toxicity", scores.toxicity, policy.toxicity_hold, policy.toxicity_reject),
        _verdict("spam", scores.spam, policy.spam_hold, policy.spam_reject),
    ]
    verdicts += [(REJECTED, reason) for reason in scores.rejects]
    verdicts += [(HELD, reason) for reason in scores.holds]
    if (
        policy.new_commenter_holds > 0
        and prior_comments is not None
        and prior_comments < policy.new_commenter_holds
    ):
        verdicts.append(
            (
                HELD,
                f"new commenter: {prior_comments} published before, "
                f"the site holds the first {policy.new_commenter_holds}",
            )
        )
    status = max((verdict for verdict, _ in verdicts), key=SEVERITY.__getitem__)
    if policy.mode == PRE_MODERATION:
        # Pre-moderation: nothing is published or rejected without a person.
        verdicts.insert(0, (HELD, "the site pre-moderates every comment"))
        status = HELD
    # The deciding reasons first, then the rest, then the signals behind the scores.
    ordered = sorted(verdicts, key=lambda item: -SEVERITY[item[0]])
    reasons = [reason for _, reason in ordered]
    reasons += [f"toxicity: {reason}" for reason in scores.toxicity_reasons]
    reasons += [f"spam: {reason}" for reason in scores.spam_reasons]
    return Decision(status=status, reasons=tuple(dict.fromkeys(reasons)))
