"""A site's moderation policy, and turning scores into a decision with every reason in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from .scores import Scores

APPROVED, HELD, REJECTED = "approved", "held", "rejected"
SEVERITY = {APPROVED: 0, HELD: 1, REJECTED: 2}
PRE_MODERATION, POST_MODERATION = "pre", "post"
# A hold ban's reasons start with this: moderators read them, the comment's author never does
# (reasons_for_author), so a watchlist is not revealed to the people on it.
ALWAYS_HELD = "always held: "
# What the author reads instead of a watchlist reason.
AWAITS_MODERATOR = "waiting for a moderator's review"
ARTICLE_PRE_MODERATED = "the article is pre-moderated"


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
    # Graduated trust. A commenter with at least `trusted_after` published comments (0: off) and
    # no rejection in the last `record_days` days is held only when a score reaches
    # `trusted_hold`; forced holds and rejections still apply.
    trusted_after: int = 0
    trusted_hold: float = 0.8
    record_days: int = 90
    # Hold a commenter whose decided comments of the last `record_days` days are at least this
    # share rejections (0: off), once they have `rejection_rate_min` of them.
    rejection_rate_hold: float = 0.0
    rejection_rate_min: int = 3

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
class CommenterRecord:
    """What the site knows of a comment's author, and of its article, when it is decided.

    `identity` names whose record it is: the commenter key today (a signed-in reader's account
    can take its place); None means unknown (no key), and the rules that read a commenter's
    record (new commenter, trusted, rejection rate) don't apply. Hold bans and article
    pre-moderation apply whoever sent the comment.
    """

    identity: str | None = None
    # Their comments the site has published (approved now), over all time.
    approved: int = 0
    # Their comments decided (approved or rejected now) in the last `record_days` days, and how
    # many of those were rejected.
    decided_recent: int = 0
    rejected_recent: int = 0
    # One line per hold ban covering them ("hold #12 on commenter key k-123"): moderators only.
    always_hold: tuple[str, ...] = ()
    article_premoderated: bool = False


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


def _verdict(
    name: str, value: float, hold: float, reject: float, trusted_hold: float | None = None
) -> tuple[str, str]:
    """Judge one score; `trusted_hold` is the trusted commenter's hold threshold, if they are."""
    limits = (hold, reject) if trusted_hold is None else (hold, reject, trusted_hold)
    shown = _number(value, *limits)
    if value >= reject:
        return REJECTED, f"{name} {shown} ≥ reject threshold {reject:.2f}"
    # Trust only ever loosens a hold: a trusted threshold below the site's own changes nothing.
    if trusted_hold is not None and trusted_hold > hold and value >= hold:
        threshold = f"trusted commenter's hold threshold {trusted_hold:.2f}"
        if value >= trusted_hold:
            return HELD, f"{name} {shown} ≥ {threshold}"
        return APPROVED, f"{name} {shown} below {threshold}"
    if value >= hold:
        return HELD, f"{name} {shown} ≥ hold threshold {hold:.2f}"
    return APPROVED, f"{name} {shown} below hold threshold {hold:.2f}"


def _trust(policy: Policy, record: CommenterRecord) -> tuple[bool, str | None]:
    """Return whether the commenter is trusted, and the reason that says so (or why not)."""
    if policy.trusted_after <= 0 or record.identity is None:
        return False, None
    if record.approved < policy.trusted_after:
        return False, None
    if record.rejected_recent:
        return False, (
            f"not trusted: {record.approved} approved, but {record.rejected_recent} rejected "
            f"in the last {policy.record_days} days"
        )
    return True, (
        f"trusted commenter: {record.approved} approved, none rejected in "
        f"{policy.record_days} days; held only at {policy.trusted_hold:.2f}"
    )


def _record_holds(policy: Policy, record: CommenterRecord) -> list[str]:
    """Return the holds the commenter's record calls for: hold bans, new commenter, bad record."""
    holds = [f"{ALWAYS_HELD}{reason}" for reason in record.always_hold]
    if record.identity is None:
        return holds
    if policy.new_commenter_holds > 0 and record.approved < policy.new_commenter_holds:
        holds.append(
            f"new commenter: {record.approved} published before, "
            f"the site holds the first {policy.new_commenter_holds}"
        )
    decided, rejected = record.decided_recent, record.rejected_recent
    if (
        policy.rejection_rate_hold > 0
        and decided >= max(policy.rejection_rate_min, 1)
        and rejected / decided >= policy.rejection_rate_hold
    ):
        holds.append(
            f"held: {rejected} of this commenter's {decided} decisions in "
            f"{policy.record_days} days were rejections "
            f"(≥ {policy.rejection_rate_hold * 100:g} %)"
        )
    return holds


def decide(
    scores: Scores,
    policy: Policy,
    record: CommenterRecord | None = None,
    *,
    prior_comments: int | None = None,
) -> Decision:
    """Decide a comment: the strictest verdict wins, and every reason that applied is kept.

    `record` is what the site knows of the commenter and the article (None: nothing). The older
    `prior_comments` (how many of their comments the site has published; None when unknown)
    stands for a record with that count alone.
    """
    if record is None:
        record = CommenterRecord(
            identity=None if prior_comments is None else "", approved=prior_comments or 0
        )
    trusted, trust_reason = _trust(policy, record)
    trusted_hold = policy.trusted_hold if trusted else None
    verdicts = [
        _verdict(
            "toxicity", scores.toxicity, policy.toxicity_hold, policy.toxicity_reject, trusted_hold
        ),
        _verdict("spam", scores.spam, policy.spam_hold, policy.spam_reject, trusted_hold),
    ]
    if trusted:
        # First among the approving reasons: when the comment is published, trust is why.
        verdicts.insert(0, (APPROVED, trust_reason))
    verdicts += [(REJECTED, reason) for reason in scores.rejects]
    verdicts += [(HELD, reason) for reason in scores.holds]
    verdicts += [(HELD, reason) for reason in _record_holds(policy, record)]
    if trust_reason and not trusted:
        verdicts.append((APPROVED, trust_reason))
    status = max((verdict for verdict, _ in verdicts), key=SEVERITY.__getitem__)
    # Pre-moderation, of the whole site or of the article: nothing is published or rejected
    # without a person, so that is what decides.
    forced = []
    if policy.mode == PRE_MODERATION:
        forced.append("the site pre-moderates every comment")
    if record.article_premoderated:
        forced.append(ARTICLE_PRE_MODERATED)
    if forced:
        status = HELD
    # The deciding reasons first, then the rest, then the signals behind the scores.
    ordered = sorted(verdicts, key=lambda item: -SEVERITY[item[0]])
    reasons = forced + [reason for _, reason in ordered]
    reasons += [f"toxicity: {reason}" for reason in scores.toxicity_reasons]
    reasons += [f"spam: {reason}" for reason in scores.spam_reasons]
    return Decision(status=status, reasons=tuple(dict.fromkeys(reasons)))


def reasons_for_author(reasons: Iterable[str]) -> list[str]:
    """Return the reasons a comment's author may read: a watchlist is never named to them."""
    shown = [AWAITS_MODERATOR if reason.startswith(ALWAYS_HELD) else reason for reason in reasons]
    return list(dict.fromkeys(shown))
