"""Match word lists and harmful phrasings on normalized text, quoting what the author wrote."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .normalize import Normalized, normalize


@dataclass(frozen=True)
class Match:
    """A list entry or pattern found in a comment: the normalized words and what was written."""

    entry: str
    matched: str
    original: str


def quote(match: Match) -> str:
    """Quote what the author wrote, and how it reads when it was disguised."""
    written = match.original.strip(".,;:!?'\"()[]")
    if written.casefold() == match.matched:
        return f"“{written}”"
    return f"“{match.matched}” (written “{written}”)"


def _entry_pattern(entry: str) -> str | None:
    """Compile a list entry: words separated by spaces, '*' any letters, '?' one letter."""
    words = []
    for raw_word in entry.split():
        # Normalize the entry like comments are normalized, keeping its wildcards.
        parts = re.split(r"([*?])", raw_word.casefold())
        pattern = ""
        for part in parts:
            if part == "*":
                pattern += r"\w*"
            elif part == "?":
                pattern += r"\w"
            elif part:
                pattern += "".join(re.escape(word.text) for word in normalize(part).words)
        if pattern:
            words.append(pattern)
    if not words or all(word in (r"\w*", "") for word in words):
        return None
    return r"(?<!\S)" + " ".join(words) + r"(?!\S)"


class WordList:
    """A site's list of words or phrases with wildcards, matched on normalized words."""

    def __init__(self, entries: Iterable[str]):
        self.entries = tuple(entry.strip() for entry in entries if entry and entry.strip())
        compiled = [(entry, _entry_pattern(entry)) for entry in self.entries]
        self._patterns = [(entry, re.compile(pattern)) for entry, pattern in compiled if pattern]

    def find(self, text: Normalized) -> list[Match]:
        """Return every entry found in the text, once each, in list order."""
        return [
            match
            for entry, pattern in self._patterns
            if (match := _first(pattern, text, entry)) is not None
        ]


@lru_cache(maxsize=256)
def word_list(entries: tuple[str, ...]) -> WordList:
    """Return a compiled word list, cached: sites' lists change rarely."""
    return WordList(entries)


def _first(pattern: re.Pattern, text: Normalized, entry: str) -> Match | None:
    joined = text.text
    found = pattern.search(joined)
    if found is None:
        return None
    return Match(entry=entry, matched=found.group(0), original=_original(text, joined, found))


def _original(text: Normalized, joined: str, found: re.Match) -> str:
    """Return the original fragments of the words a match on the joined text covers."""
    first = joined.count(" ", 0, found.start())
    last = joined.count(" ", 0, max(found.start(), found.end() - 1))
    originals: list[str] = []
    for word in text.words[first : last + 1]:
        if not originals or originals[-1] != word.original:
            originals.append(word.original)
    return " ".join(originals)


@dataclass(frozen=True)
class Harm:
    """A kind of harmful phrasing the model tends to miss, and how toxic it makes a comment."""

    kind: str
    score: float
    patterns: tuple[re.Pattern, ...]

    def find(self, text: Normalized) -> Match | None:
        """Return the first phrase of this kind in the text, or None."""
        joined = text.text
        for pattern in self.patterns:
            found = pattern.search(joined)
            if found:
                original = _original(text, joined, found)
                return Match(entry=self.kind, matched=found.group(0), original=original)
        return None


def _phrases(*patterns: str) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(r"(?<!\S)" + pattern + r"(?!\S)") for pattern in patterns)


WILL = (
    r"(?:will|ll|shall|am going to|m going to|going to|gonna|m gonna|am gonna|m coming to|m gunna)"
)
HARM_VERB = r"(?:kill|hurt|shoot|stab|murder|rape|strangle|beat|burn|slit|gut|behead|butcher)"
PEOPLE = r"(?:you|your family|your kids|your children|your wife|him|her|them|u)"

# Threats are held for a person (reporting sometimes quotes them); incitement to self-harm and
# calls to exterminate people are rejected; dehumanizing comparisons are held.
HARMS = (
    Harm(
        "incitement to self-harm",
        0.96,
        _phrases(
            r"(?:go |just |please |should |why don t you |you should )?(?:kill|hang|shoot|off) "
            r"(?:yourself|urself|your self|yourselves)",
            r"kys",
            r"(?:go|just|please) (?:die|drown)",
            r"(?:go )?(?:jump|throw yourself) (?:off|from|in front of) (?:a|the) "
            r"(?:bridge|cliff|building|roof|train|bus)",
            r"drink (?:some )?bleach",
            r"slit your (?:wrists|throat)",
            r"end your (?:life|miserable life)",
            r"nobody would miss you",
            r"(?:the )?world (?:would be|is) better (?:off )?without you",
            r"do (?:us|everyone|the world) a favou?r and (?:die|disappear|kill yourself)",
            r"unalive yourself",
            r"hope (?:you|u|your \w+|someone|somebody) (?:\w+ ){0,4}(?:dies?|die in|burns? down|"
            r"runs? (?:you|u) over|chokes?|gets? (?:killed|shot|hit|cancer|run over|stabbed))",
            r"drop dead",
            r"waste of (?:oxygen|skin|air)",
        ),
    ),
    Harm(
        "a call to exterminate people",
        0.96,
        _phrases(
            r"(?:should|must|need to|needs to|ought to) be (?:exterminated|eradicated|gassed|"
            r"wiped out|wiped off the map|put down|culled)",
            r"(?:exterminate|eradicate|gas|cull) (?:them|these people|those people|them all)",
            r"wipe (?:them|these people|those people) (?:all )?out",
        ),
    ),
    Harm(
        "a threat",
        0.85,
        _phrases(
            rf"i {WILL} (?:find|hunt|track|come for|come after|visit) (?:you|where you live|"
            r"your family|your house|your kids|your address)",
            r"(?:i|we) know where (?:you|u) live",
            rf"(?:i|we) {WILL} {HARM_VERB} {PEOPLE}",
            rf"(?:someone|somebody|people) (?:should|needs to|ought to|will|has to) {HARM_VERB} "
            rf"{PEOPLE}",
            r"(?:put|puts|putting) a bullet (?:in|through)",
            r"you (?:will|ll) (?:get what s coming|get what is coming|pay for this|regret this)",
            r"watch your back",
            r"(?:should|ought to|deserves? to|needs? to) be (?:\w+ ){0,4}(?:shot|hanged|hung|"
            r"killed|executed|lynched|beaten|stabbed|murdered|raped|run over|run down|burned|"
            r"burnt|strung up|put down|beaten up)",
            r"(?:i|we) know (?:where|what car|what school) (?:\w+ ){0,3}(?:lives?|drives?|goes)",
            r"if i knew where (?:you|u) lived?",
            r"be careful (?:walking|driving|going) home",
            r"(?:shame|pity) if something (?:happened|were to happen|was to happen)",
            r"tick tock",
            r"i (?:ll|will) (?:break|smash|snap|cut) your",
            r"put (?:you|u) in (?:hospital|the hospital|a wheelchair|the ground|a coffin)",
            r"pay (?:you|u|him|her) a (?:little )?visit",
            r"(?:coming|come) for (?:you|u|your family)",
            r"(?:post|share|leak|publish) (?:your|his|her) (?:home )?address",
            r"teach (?:\w+ ){0,2}a lesson (?:\w+ ){0,2}(?:won t|will never|never) forget",
            rf"(?:someone|somebody|people|we) (?:should|needs to|ought to|has to|must) "
            rf"(?:\w+ )?(?:torch|burn down|bomb|blow up|{HARM_VERB})",
            r"(?:watch|see) (?:\w+ ){0,3}get (?:lynched|shot|killed|hanged|beaten)",
            r"(?:deserves?|need|needs) to (?:die|be dead|hang)",
            r"(?:sleep with one eye open|you re dead|you are dead meat|you re dead meat)",
        ),
    ),
    Harm(
        "a personal insult",
        0.75,
        _phrases(
            r"(?:halfwits?|brain ?dead|wankers?|tossers?|cretins?|imbeciles?|dimwits?|numpty|"
            r"pillocks?|paedos?|pedos?|nonces?|tarts?|slags?|scumbags?|degenerates?|"
            r"inbreds?|knuckle ?draggers?|mouth ?breathers?|knobs?|twats?|sluts?|whores?|"
            r"spineless \w+|too thick to)",
            r"scum like (?:you|u|them)",
            r"(?:you|u) (?:are|re) (?:a |an |such a |such an )?(?:\w+ )?(?:idiot|moron|"
            r"loser|clown|joke|disgrace|embarrassment|waste of space|piece of)",
        ),
    ),
    Harm(
        "dehumanizing language",
        0.8,
        _phrases(
            r"sub ?humans?",
            r"untermensch\w*",
            r"(?:are|is|re|these|those|such|like|bunch of|pack of|filthy|dirty|nothing but|"
            r"just|all) (?:\w+ )?(?:vermin|parasites|cockroaches|roaches|rats|animals|savages|"
            r"beasts|filth|scum|infestation|plague|insects|maggots|lice|apes)",
        ),
    ),
)


def find_harms(text: Normalized) -> list[tuple[Harm, Match]]:
    """Return each kind of harmful phrasing found in the text, with its first match."""
    return [(harm, match) for harm in HARMS if (match := harm.find(text)) is not None]


# A passage in quotation marks. A straight or curly single quote opens only where no letter
# precedes it and closes only where none follows, so "don't" (and its curly form) stays a word.
QUOTATION = re.compile(
    r"\"([^\"]+)\"|“([^”]+)”|«([^»]+)»|(?<!\w)['\u2018](.+?)['\u2019](?!\w)", re.S
)


def is_quoted(match: Match, text: Normalized) -> bool:
    """Whether a phrase found in the text sits inside quotation marks (reported speech)."""
    return any(
        match.matched in normalize(next(part for part in found.groups() if part)).text
        for found in QUOTATION.finditer(text.raw)
    )
