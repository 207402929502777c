"""Turn scores into a decision (approve, hold or reject) with every reason in words."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .score import Scores

APPROVED, HELD, REJECTED = "approved", "held", "rejected"


@dataclass(frozen=True)
class Thresholds:
    """Scores at or above *_hold wait for a moderator; at or above *_reject are rejected."""

    toxicity_hold: float = 0.5
    toxicity_reject: float = 0.9
    spam_hold: float = 0.5
    spam_reject: float = 0.9


@dataclass(frozen=True)
class Decision:
    """The outcome for one comment and the reasons a moderator or author can read."""

    status: str
    reasons: tuple[str, ...]


def _verdict(name: str, value: float, hold: float, reject: float) -> tuple[str, str]:
    if value >= reject:
        return REJECTED, f"{name} {value:.2f} ≥ reject threshold {reject:.2f}"
    if value >= hold:
        return HELD, f"{name} {value:.2f} ≥ hold threshold {hold:.2f}"
    return APPROVED, f"{name} {value:.2f} below hold threshold {hold:.2f}"


def decide(scores: "Scores", thresholds: Thresholds) -> Decision:
    """Decide a comment: the strictest of the toxicity and spam verdicts wins."""
    verdicts = [
        _verdict("toxicity", scores.toxicity, thresholds.toxicity_hold, thresholds.toxicity_reject),
        _verdict("spam", scores.spam, thresholds.spam_hold, thresholds.spam_reject),
    ]
    severity = {APPROVED: 0, HELD: 1, REJECTED: 2}
    status = max((verdict for verdict, _ in verdicts), key=severity.__getitem__)
    reasons = [reason for _, reason in verdicts]
    if scores.spam_reasons:
        reasons.append("spam signals: " + ", ".join(scores.spam_reasons))
    return Decision(status=status, reasons=tuple(reasons))
