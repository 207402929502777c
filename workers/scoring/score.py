"""Score a comment's text for toxicity and spam, with a reason in words for every signal.

Two readers look at every comment. The semantic model (semantic.py) reads its meaning: six
heads over an adapted sentence encoder. The lexical signals read its surface: the profanity
model (toxicity.py), hand-written harmful phrasings (lexicon.py), the site's word lists, and
the spam heuristics (links, contact details, promotional phrases...). A blend fitted on the
development set turns the heads and the lexical signals into one toxicity and one spam score;
then the site's word lists and the context (near-duplicates, velocity, the site's learned
model, external scorers, blocked domains) have their say on top, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import semantic, spam
from .learned import Counts, decisions_in, features, spam_probability
from .lexicon import find_harms, is_quoted, quote, word_list
from .normalize import Normalized, normalize
from .policy import Policy
from .scores import Scores
from .semantic import HEAD_WORDS, Reading
from .toxicity import toxicity_score

if TYPE_CHECKING:
    from .verdicts import ExternalVerdict

# A head at or above this appears in a moderator's reasons ("threat 0.91").
SHOWN_READING = 0.5
# The profanity model's say appears in the reasons from here on.
SHOWN_LEXICAL = 0.5


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs to know beyond the text: recent activity and the site's model."""

    # Other recent comments on the site with (nearly) the same text.
    near_duplicates: int = 0
    duplicate_window_seconds: int = 3600
    # Other comments in the velocity window from the same commenter key, IP address and network,
    # and how many the address and the network usually send in such a window.
    commenter_recent: int = 0
    ip_recent: int = 0
    ip_usual: float = 0.0
    network_recent: int = 0
    network_usual: float = 0.0
    velocity_window_seconds: int = 600
    # The site's learned spam counts (None: the built-in seed only).
    learned: Counts | None = None
    # Verdicts of external scorers (Akismet...), when any are configured.
    external: tuple[ExternalVerdict, ...] = field(default=())
    # A reader signed in with the publisher's login (SSO) and their publisher id: for rules
    # that trust signed-in readers with a good record (none uses it yet).
    signed_in: bool = False
    sso_id: str | None = None


def score_comment(
    text: str,
    context: ScoringContext | None = None,
    policy: Policy | None = None,
    *,
    normalized: Normalized | None = None,
    reading: Reading | None = None,
    semantic_model: bool = True,
) -> Scores:
    """Score a comment's plain text under a site's policy.

    Pass `normalized` and `reading` when they are at hand (a worker reads a batch of comments
    with one model call); `semantic_model=False` scores with the lexical signals alone.
    """
    context = context or ScoringContext()
    policy = policy or Policy()
    normalized = normalized or normalize(text)
    if reading is None and semantic_model:
        (reading,) = semantic.read([normalized.readable()])
    rejects: list[str] = []
    holds: list[str] = []

    toxicity, toxicity_reasons = _toxicity(normalized, reading)
    disguised = normalized.disguised()
    for match in word_list(policy.banned_words).find(normalized):
        toxicity = max(toxicity, 0.95)
        rejects.append(f"banned word {quote(match)} (listed as “{match.entry}”)")
    for match in word_list(policy.suspect_words).find(normalized):
        toxicity = max(toxicity, 0.6)
        holds.append(f"suspect word {quote(match)} (listed as “{match.entry}”)")
    if disguised and toxicity >= policy.toxicity_hold:
        written = ", ".join(f"“{word.original}”" for word in disguised[:3])
        toxicity_reasons.append(f"words disguised to dodge filters: {written}")

    text_signals, blocked, domains = text_spam_signals(text, normalized, policy)
    text_spam = spam.combine(text_signals)
    spam_reasons = [signal.reason for signal in text_signals]
    if reading is not None:
        text_spam = semantic.blend("spam", spam_features(reading, text_spam))
        if reading.spam >= SHOWN_READING:
            spam_reasons.insert(0, f"the model reads it as spam ({reading.spam:.2f})")

    context_signals = [
        signal
        for signal in (
            spam.near_duplicate_signal(context.near_duplicates, context.duplicate_window_seconds),
            spam.velocity_signal(
                context.commenter_recent,
                "this commenter",
                context.velocity_window_seconds,
                policy.velocity_limit,
            ),
            _address_signal(context, policy),
        )
        if signal is not None
    ]
    site_counts = context.learned or Counts()
    learned = spam.learned_signal(
        spam_probability(features(normalized, domains), site_counts), decisions_in(site_counts)
    )
    if learned is not None:
        context_signals.append(learned)
    for verdict in context.external:
        if verdict.outcome == "spam":
            context_signals.append(spam.Signal(0.99 if verdict.discard else 0.9, verdict.reason))
        elif verdict.outcome == "failed" and verdict.failure_policy == "closed":
            holds.append(f"{verdict.reason}; held because it is set to fail closed")
    context_signals += blocked
    if policy.hold_links and domains:
        holds.append("has a link, and the site holds comments with links")
    rejects += [signal.reason for signal in blocked]
    spam_reasons += [signal.reason for signal in context_signals]
    return Scores(
        toxicity=toxicity,
        spam=1.0 - (1.0 - text_spam) * (1.0 - spam.combine(context_signals)),
        toxicity_reasons=tuple(toxicity_reasons),
        spam_reasons=tuple(spam_reasons),
        rejects=tuple(rejects),
        holds=tuple(holds),
        reading=reading,
    )


def _address_signal(context: ScoringContext, policy: Policy) -> spam.Signal | None:
    """Weigh the address's volume, or else its network's: one burst counts once, not twice."""
    address = spam.address_volume_signal(
        context.ip_recent,
        context.ip_usual,
        "this IP address",
        context.velocity_window_seconds,
        policy.velocity_limit,
    )
    return address or spam.address_volume_signal(
        context.network_recent,
        context.network_usual,
        "this network",
        context.velocity_window_seconds,
        policy.velocity_limit * spam.NETWORK_LIMIT_FACTOR,
    )


def text_spam_signals(
    text: str, normalized: Normalized, policy: Policy
) -> tuple[list[spam.Signal], list[spam.Signal], list[str]]:
    """Return the text's spam evidence, its blocked-domain signals (they reject whatever the
    text says), and the domains it links to that aren't allowed."""
    link_signals, domains = spam.link_signals(text, policy.allowed_domains, policy.denied_domains)
    blocked = [signal for signal in link_signals if signal.rejects]
    evidence = [signal for signal in link_signals if not signal.rejects]
    evidence += spam.contact_signals(text)
    evidence += [
        signal
        for signal in (
            spam.disguised_link_signal(normalized),
            spam.promotional_signal(normalized),
            spam.shouting_signal(text),
            spam.repetition_signal(text),
        )
        if signal is not None
    ]
    return evidence, blocked, domains


def spam_features(reading: Reading, text_spam: float) -> dict[str, float]:
    """Return the spam blend's inputs: the model's spam head and the text's heuristics."""
    return {"spam": semantic.logit(reading.spam), "signals": semantic.logit(text_spam)}


def toxicity_features(reading: Reading, lexical: float, harmful: bool) -> dict[str, float]:
    """Return the toxicity blend's inputs: the harm heads, the profanity model, the phrasings."""
    return {
        **{head: semantic.logit(value) for head, value in reading.harms().items()},
        "lexical": semantic.logit(lexical),
        "harm": 1.0 if harmful else 0.0,
    }


def _toxicity(normalized: Normalized, reading: Reading | None) -> tuple[float, list[str]]:
    """Blend the model's heads with the profanity model and harmful phrasings; say why."""
    lexical = toxicity_score(normalized.text)
    harms = find_harms(normalized)
    reasons = []
    if reading is not None:
        shown = sorted(
            ((value, head) for head, value in reading.harms().items() if value >= SHOWN_READING),
            reverse=True,
        )
        if shown:
            reasons.append(
                "the model reads it as "
                + ", ".join(f"{HEAD_WORDS[head]} {value:.2f}" for value, head in shown)
            )
    if lexical >= SHOWN_LEXICAL:
        reasons.append(f"offensive words (profanity model {lexical:.2f})")
    quoted = [is_quoted(match, normalized) for _, match in harms]
    reasons += [
        f"{harm.kind}{', in quotation marks' if inside else ''}: {quote(match)}"
        for (harm, match), inside in zip(harms, quoted, strict=True)
    ]
    if reading is None:
        # The lexical engine alone, as it was before the semantic model.
        return max([lexical, *(harm.score for harm, _ in harms)]), reasons
    # A phrasing written as the author's own words scores at least what it scores alone: the
    # model misses some short, bare threats ("I will find where you live"). One in quotation
    # marks is usually reported speech ("he shouted 'I'll kill you'") and only feeds the blend.
    said = [harm.score for (harm, _), inside in zip(harms, quoted, strict=True) if not inside]
    blended = semantic.blend("toxicity", toxicity_features(reading, lexical, bool(harms)))
    return max([blended, *said]), reasons
