"""Score a comment's text for toxicity and spam, with a reason in words for every signal."""

from dataclasses import dataclass

from . import spam
from .toxicity import toxicity_score


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs to know beyond the text itself."""

    # Comments on the same site with the same text within the duplicate window.
    recent_duplicates: int = 0


@dataclass(frozen=True)
class Scores:
    """Toxicity and spam on a 0..1 scale, and the spam signals that made up the spam score."""

    toxicity: float
    spam: float
    spam_reasons: tuple[str, ...]


def score_comment(text: str, context: ScoringContext) -> Scores:
    """Score a comment's plain text."""
    signals = [
        signal
        for signal in (
            spam.link_signal(text),
            spam.shouting_signal(text),
            spam.repetition_signal(text),
            spam.duplicate_signal(context.recent_duplicates),
        )
        if signal is not None
    ]
    return Scores(
        toxicity=toxicity_score(text),
        spam=spam.combine(signals),
        spam_reasons=tuple(signal.reason for signal in signals),
    )
