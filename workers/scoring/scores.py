"""What scoring answers: the two scores, the reasons behind them and any forced outcome."""

from __future__ import annotations

from dataclasses import dataclass

from .semantic import Reading


@dataclass(frozen=True)
class Scores:
    """Toxicity and spam on a 0..1 scale, the signals behind them, and forced outcomes."""

    toxicity: float
    spam: float
    toxicity_reasons: tuple[str, ...] = ()
    spam_reasons: tuple[str, ...] = ()
    # Reasons that reject or hold whatever the scores say (banned words, denied domains...).
    rejects: tuple[str, ...] = ()
    holds: tuple[str, ...] = ()
    # What the semantic model read (None when scoring without it).
    reading: Reading | None = None
