"""Score a comment's text for toxicity and spam, with a reason in words for every signal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import spam
from .learned import Counts, decisions_in, features, spam_probability
from .lexicon import find_harms, quote, word_list
from .normalize import Normalized, normalize
from .policy import Policy
from .toxicity import toxicity_score

if TYPE_CHECKING:
    from workers.external import ExternalVerdict


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs to know beyond the text: recent activity and the site's model."""

    # Other recent comments on the site with (nearly) the same text.
    near_duplicates: int = 0
    duplicate_window_seconds: int = 3600
    # Comments in the velocity window from the same commenter key and from the same IP address.
    commenter_recent: int = 0
    ip_recent: int = 0
    velocity_window_seconds: int = 600
    # The site's learned spam counts (None: the built-in seed only).
    learned: Counts | None = None
    # Verdicts of external scorers (Akismet...), when any are configured.
    external: tuple[ExternalVerdict, ...] = field(default=())


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


def score_comment(
    text: str,
    context: ScoringContext | None = None,
    policy: Policy | None = None,
    *,
    normalized: Normalized | None = None,
) -> Scores:
    """Score a comment's plain text under a site's policy (pass `normalized` if at hand)."""
    context = context or ScoringContext()
    policy = policy or Policy()
    normalized = normalized or normalize(text)
    rejects: list[str] = []
    holds: list[str] = []

    toxicity = toxicity_score(normalized.text)
    toxicity_reasons = []
    disguised = normalized.disguised()
    for harm, match in find_harms(normalized):
        toxicity = max(toxicity, harm.score)
        toxicity_reasons.append(f"{harm.kind}: {quote(match)}")
    for match in word_list(policy.banned_words).find(normalized):
        toxicity = max(toxicity, 0.95)
        rejects.append(f"banned word {quote(match)} (listed as “{match.entry}”)")
    for match in word_list(policy.suspect_words).find(normalized):
        toxicity = max(toxicity, 0.6)
        holds.append(f"suspect word {quote(match)} (listed as “{match.entry}”)")
    if disguised and toxicity >= policy.toxicity_hold:
        written = ", ".join(f"“{word.original}”" for word in disguised[:3])
        toxicity_reasons.append(f"words disguised to dodge filters: {written}")

    signals, domains = spam.link_signals(text, policy.allowed_domains, policy.denied_domains)
    signals += spam.contact_signals(text)
    signals += [
        signal
        for signal in (
            spam.disguised_link_signal(normalized),
            spam.promotional_signal(normalized),
            spam.shouting_signal(text),
            spam.repetition_signal(text),
            spam.near_duplicate_signal(context.near_duplicates, context.duplicate_window_seconds),
            spam.velocity_signal(
                context.commenter_recent,
                "this commenter",
                context.velocity_window_seconds,
                policy.velocity_limit,
            ),
            spam.velocity_signal(
                context.ip_recent,
                "this IP address",
                context.velocity_window_seconds,
                policy.velocity_limit,
            ),
        )
        if signal is not None
    ]
    site_counts = context.learned or Counts()
    learned = spam.learned_signal(
        spam_probability(features(normalized, domains), site_counts), decisions_in(site_counts)
    )
    if learned is not None:
        signals.append(learned)
    for verdict in context.external:
        if verdict.outcome == "spam":
            signals.append(spam.Signal(0.99 if verdict.discard else 0.9, verdict.reason))
        elif verdict.outcome == "failed" and verdict.failure_policy == "closed":
            holds.append(f"{verdict.reason}; held because it is set to fail closed")
    if policy.hold_links and domains:
        holds.append("has a link, and the site holds comments with links")
    rejects += [signal.reason for signal in signals if signal.rejects]
    return Scores(
        toxicity=toxicity,
        spam=spam.combine(signals),
        toxicity_reasons=tuple(toxicity_reasons),
        spam_reasons=tuple(signal.reason for signal in signals),
        rejects=tuple(rejects),
        holds=tuple(holds),
    )
