"""Normalize comment text against filter evasion, keeping what each word was written as.

Every matcher (the toxicity model, word lists, patterns, the learned spam model) works on the
normalized words: case-folded, NFKC, look-alike letters mapped to Latin, zero-width characters
dropped, leetspeak decoded (`1d10t` → idiot), letters joined across spacing and punctuation
(`k i l l`, `f.u.c.k`), masked letters resolved (`f***`) and stretched letters shrunk
(`idiooooot`). Each word keeps the original fragment it came from, so reasons can quote it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

# Invisible characters used to split a word so a filter misses it.
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
)

# Cyrillic and Greek letters that look like Latin ones; only mapped inside words that also hold
# Latin letters, so Russian or Greek text stays as written.
CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁԛԝһкмтвнɡіїӏαβεικμνορτυχϲ",
    "aeopcyxijsdqwhkmtbhgiiiabeikmvoptuxc",
)
LATIN = re.compile(r"[a-z]")

# Leetspeak, decoded only where it sits inside or at the start of a word (see _decode_leet).
LEET = str.maketrans("0134578@$!|", "oieastbasil")
LEET_CHARS = "0134578@$!|"

# Words joined across separators: three or more single characters split by a space or a
# punctuation mark, e.g. "k i l l", "f.u.c.k", "s-t-u-p-i-d".
SPACED_RUN = re.compile(r"(?<![\w*])(?:[\w*][ .\-_·•,/\\]{1,2}){2,}[\w*](?![\w*])")
# A word-ish token: letters, digits, leet symbols and masks.
TOKEN = re.compile(r"[\w@$!|*#]+")
STRETCHED = re.compile(r"(\D)\1{2,}")
# Written with a tripled letter on purpose: shrinking "www" would hide a spelled-out web
# address ("www casino dot com").
UNSTRETCHED = frozenset(["www"])


def listed(words: str) -> tuple[str, ...]:
    """Split a word list written as text (easier to read and edit than a list of strings)."""
    return tuple(words.split())


# Words masked with '*' or '#' are resolved against this list (same length, same letters
# where shown). Kept short: the common profanity and insults readers mask.
MASKABLE = listed(
    "fuck fucking fucker fucked motherfucker shit shitty bullshit bitch bastard asshole ass "
    "arse dick cunt twat wanker prick piss pissed crap damn idiot idiots moron morons stupid "
    "retard retarded loser slut whore scum pig pigs dumb jerk"
)
# Words that spaced-out runs are split back into (plus MASKABLE).
JOINABLE = listed(
    "kill killing die dead yourself you your go get out hang shoot rape stupid idiot moron "
    "loser scum trash garbage vermin hate i will we find where live to and up shut off the a "
    "an is are fat ugly"
)


@dataclass(frozen=True)
class Word:
    """One normalized word and the original fragment it was written as."""

    text: str
    original: str


@dataclass(frozen=True)
class Normalized:
    """A comment's normalized words; `text` joins them with single spaces."""

    words: tuple[Word, ...]
    # The text as written, for matchers that need the punctuation normalizing drops
    # ("example[.]com", "cheap-pills dot com").
    raw: str = ""

    @property
    def text(self) -> str:
        """The normalized words joined by single spaces."""
        return " ".join(word.text for word in self.words)

    def disguised(self) -> list[Word]:
        """Return the words written differently from how they normalize (evasion attempts)."""
        return [word for word in self.words if _is_disguised(word)]

    def readable(self) -> str:
        """Return the text as written, each disguised fragment replaced by how it reads.

        The sentence encoder reads this: punctuation and word order stay, so context does,
        while "k i l l  y0urself" reaches it as "kill yourself".
        """
        pieces: list[str] = []
        cursor = 0
        index = 0
        words = self.words
        while index < len(words):
            # Words split out of one fragment ("sh1t-for-brains") are replaced together.
            end = index + 1
            while end < len(words) and words[end].original == words[index].original:
                end += 1
            group = words[index:end]
            original = group[0].original
            if any(_is_disguised(word) for word in group):
                found = self.raw.find(original, cursor)
                if found >= 0:
                    pieces.append(self.raw[cursor:found])
                    pieces.append(" ".join(word.text for word in group))
                    cursor = found + len(original)
            index = end
        pieces.append(self.raw[cursor:])
        return "".join(pieces)


def _is_disguised(word: Word) -> bool:
    # A number is not an evasion, whatever symbol it was written with ("$500").
    if word.text.isdigit():
        return False
    original = word.original.casefold().strip(".,;:!?'\"()[]")
    return original != word.text and word.text not in original.split()


def normalize(raw: str) -> Normalized:
    """Normalize a comment's plain text for matching."""
    text, origin = _fold_characters(raw)
    words: list[Word] = []
    position = 0
    for run in SPACED_RUN.finditer(text):
        words.extend(_words(text, origin, raw, position, run.start()))
        # "_" is a word character to the regex engine but a separator here ("i_d_i_o_t").
        joined = re.sub(r"[^\w*]|_", "", run.group(0))
        original = raw[origin[run.start()] : origin[run.end() - 1] + 1]
        for part in _segment(_shrink(_unmask(_decode_leet(joined)))):
            words.append(Word(part, original))
        position = run.end()
    words.extend(_words(text, origin, raw, position, len(text)))
    return Normalized(tuple(words), raw)


def _fold_characters(raw: str) -> tuple[str, list[int]]:
    """Case-fold, NFKC and drop invisible characters; map each output char to its source index."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(raw):
        if char in INVISIBLE:
            continue
        for folded in unicodedata.normalize("NFKC", char).casefold():
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _words(text: str, origin: list[int], raw: str, start: int, end: int) -> list[Word]:
    words = []
    for match in TOKEN.finditer(text, start, end):
        token = match.group(0)
        original = raw[origin[match.start()] : origin[match.end() - 1] + 1]
        token = _unconfuse(token)
        for part in re.split(r"[_#]+", _shrink(_unmask(_decode_leet(token)))):
            part = part.strip("*@$!|")
            if part:
                words.append(Word(part, original))
    return words


def _unconfuse(token: str) -> str:
    mapped = token.translate(CONFUSABLES)
    # Only a word that mixes scripts is disguised; whole-Cyrillic words are real Russian.
    return mapped if mapped != token and LATIN.search(token) else token


def _decode_leet(token: str) -> str:
    """Decode leet characters that sit among letters, leaving numbers like 2024 or covid19."""
    if not any(char.isalpha() for char in token) or not any(c in LEET_CHARS for c in token):
        return token
    # A trailing run of digits after letters is a number suffix (covid19, g20), not leet; a
    # single trailing leet digit (ar3, w3) is decoded.
    match = re.fullmatch(r"(.*?[^\d])(\d{2,}|[269])", token)
    head, tail = (match.group(1), match.group(2)) if match else (token, "")
    if not any(char.isalpha() for char in head):
        return token
    # Trailing '!', '@' and '|' are punctuation ("1d10t!"), and so is a single trailing '$'
    # ("US$"); a run of them stands for letters ("a$$", "bo$$").
    head = head.rstrip("!@|")
    if not head.endswith("$$"):
        head = head.rstrip("$")
    return head.translate(LEET) + tail


@cache
def _mask_patterns() -> list[tuple[re.Pattern, str]]:
    return [(re.compile("^" + "." * len(word) + "$"), word) for word in MASKABLE]


def _unmask(token: str) -> str:
    """Resolve a masked word (f***, sh*t, a**hole) to the listed word it can only be."""
    if "*" not in token and "#" not in token:
        return token
    core = token.strip("*#")
    if not core or not any(char.isalpha() for char in core):
        return token
    shown = re.sub(r"[*#]", ".", token)
    for word in MASKABLE:
        if len(word) == len(token) and re.fullmatch(shown, word):
            return word
    return token


def _shrink(token: str) -> str:
    """Shrink letters stretched three or more times to one (idiooooot → idiot)."""
    return token if token in UNSTRETCHED else STRETCHED.sub(r"\1", token)


@cache
def _joinable() -> frozenset[str]:
    return frozenset(JOINABLE) | frozenset(MASKABLE)


def _segment(joined: str) -> list[str]:
    """Split letters joined from a spaced run back into known words, if they all are."""
    known = _joinable()
    if joined in known or len(joined) > 40:
        return [joined]
    # Fewest known words that make up the whole run (dynamic programming over prefixes).
    best: list[list[str] | None] = [[]] + [None] * len(joined)
    for end in range(1, len(joined) + 1):
        for start in range(max(0, end - 14), end):
            prefix = best[start]
            if prefix is not None and joined[start:end] in known:
                candidate = [*prefix, joined[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[-1] or [joined]
