"""What an external scorer (Akismet...) answered: the type scoring reads, without the HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExternalVerdict:
    """One scorer's answer: spam, ham, or failed (with why), and a sentence for moderators."""

    scorer: str  # e.g. "Akismet"
    outcome: str  # "spam" | "ham" | "failed"
    reason: str  # a sentence a moderator understands
    discard: bool = False  # Akismet's `X-akismet-pro-tip: discard` (blatant spam)
    failure_policy: str = "open"  # copied from the scorer: "open" or "closed"
