"""MinHash signatures of comments, to find near-duplicates among many recent comments quickly.

A signature is BANDS times ROWS minimum hashes of the comment's word shingles. Two comments whose
signatures agree on every row of at least one band are candidates; the share of agreeing rows
estimates their Jaccard similarity. With 8 bands of 4 rows, comments 80 % alike become
candidates 98.5 % of the time, and 30 % alike only 6 % of the time.
"""

from __future__ import annotations

import hashlib
import random
import struct

from .normalize import Normalized

BANDS, ROWS = 8, 4
# Near-duplicate: at least this share of signature rows agree (estimated Jaccard similarity).
NEAR_DUPLICATE_SIMILARITY = 0.7
SHINGLE_WORDS = 3
_MASK = (1 << 64) - 1
# A stored signature keeps each row's low 32 bits: comparing rows asks only whether they are
# equal, and two different rows agree on 32 bits once in four billion. It halves what a
# comment leaves in Redis for the duplicate window.
_STORED_MASK = (1 << 32) - 1
# Fixed seeds: signatures must compare across processes and restarts.
_SALT_SOURCE = random.Random(20261124)
_SALTS = tuple(_SALT_SOURCE.getrandbits(64) for _ in range(BANDS * ROWS))


def _shingles(text: Normalized) -> set[str]:
    words = [word.text for word in text.words]
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def signature(text: Normalized) -> tuple[int, ...]:
    """Return the MinHash signature of a comment's normalized words (empty for no words)."""
    hashes = [
        int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for shingle in _shingles(text)
    ]
    if not hashes:
        return ()
    # XOR with a salt is a cheap stand-in for independent hash functions over 64-bit hashes.
    return tuple(min(value ^ salt for value in hashes) for salt in _SALTS)


def band_keys(sig: tuple[int, ...]) -> list[str]:
    """Return one short key per band; equal keys mean the band's rows all agree."""
    return (
        [
            hashlib.blake2b(
                struct.pack(f">{ROWS}Q", *sig[band * ROWS : (band + 1) * ROWS]), digest_size=8
            ).hexdigest()
            for band in range(BANDS)
        ]
        if sig
        else []
    )


def similarity(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    """Estimate the Jaccard similarity of two comments from their signatures."""
    if not first or len(first) != len(second):
        return 0.0
    return sum(a == b for a, b in zip(first, second, strict=True)) / len(first)


def pack(sig: tuple[int, ...]) -> bytes:
    """Serialize a signature for storage."""
    return struct.pack(f">{len(sig)}Q", *sig)


def unpack(data: bytes) -> tuple[int, ...]:
    """Read a stored signature."""
    return struct.unpack(f">{len(data) // 8}Q", data)


def stored(sig: tuple[int, ...]) -> tuple[int, ...]:
    """Return a signature as it is stored (each row's low 32 bits), to compare with stored ones."""
    return tuple(value & _STORED_MASK for value in sig)


def pack_stored(sig: tuple[int, ...]) -> bytes:
    """Serialize a signature compactly for the duplicate window (4 bytes a row)."""
    return struct.pack(f">{len(sig)}I", *stored(sig))


def unpack_stored(data: bytes) -> tuple[int, ...]:
    """Read a signature serialized by pack_stored."""
    return struct.unpack(f">{len(data) // 4}I", data)
