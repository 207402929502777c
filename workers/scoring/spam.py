"""First spam heuristics: links, shouting, repeated characters, duplicates of recent comments."""

import re
from dataclasses import dataclass

URL_PATTERN = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Digits are left out: "1000000 readers" is a number, not a stretched word.
REPEATED_CHARACTER = re.compile(r"([^\s\d])\1{5,}")
# Shouting only counts on enough letters that "OK" or an acronym isn't flagged.
SHOUTING_MIN_LETTERS = 20
SHOUTING_SHARE = 0.7


@dataclass(frozen=True)
class Signal:
    """One spam signal: how much it weighs (0..1) and what a moderator should read."""

    weight: float
    reason: str


def link_signal(text: str) -> Signal | None:
    """Weigh the links in a comment: one is common, several are what spam looks like."""
    links = len(URL_PATTERN.findall(text))
    if links == 0:
        return None
    weight = {1: 0.25, 2: 0.5}.get(links, 0.75)
    return Signal(weight, f"{links} link{'s' if links > 1 else ''}")


def shouting_signal(text: str) -> Signal | None:
    """Flag text written mostly in capital letters (links aside: URLs are mostly lower case)."""
    letters = [char for char in URL_PATTERN.sub(" ", text) if char.isalpha()]
    cased = [char for char in letters if char.isupper() or char.islower()]
    if len(cased) < SHOUTING_MIN_LETTERS:
        return None
    share = sum(char.isupper() for char in cased) / len(cased)
    if share < SHOUTING_SHARE:
        return None
    return Signal(0.35, f"{share:.0%} capital letters")


def repetition_signal(text: str) -> Signal | None:
    """Flag a character repeated six or more times in a row (e.g. '!!!!!!' or 'soooooo')."""
    match = REPEATED_CHARACTER.search(text)
    if not match:
        return None
    return Signal(0.2, f"repeated characters ({match.group(0)[:12]!r})")


def duplicate_signal(recent_duplicates: int) -> Signal | None:
    """Flag text identical to comments recently posted on the same site."""
    if recent_duplicates <= 0:
        return None
    weight = 0.6 if recent_duplicates == 1 else 0.95
    plural = "s" if recent_duplicates > 1 else ""
    return Signal(weight, f"same text as {recent_duplicates} recent comment{plural} on this site")


def combine(signals: list[Signal]) -> float:
    """Combine independent signals into one score: 1 - Π(1 - weight)."""
    remaining = 1.0
    for signal in signals:
        remaining *= 1.0 - signal.weight
    return 1.0 - remaining
