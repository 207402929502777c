"""What a comment means: toxicity and spam heads over the adapted sentence encoder.

The encoder (encoder.py) is all-MiniLM-L6-v2 with Talkback's low-rank adapter merged in; six
logistic heads read its mean-pooled output: toxic, threat, insult, identity hate, sexual and
spam. A comment longer than one window is read window by window and each head keeps its
highest probability, so one threatening sentence in a long rant still counts. The adapter and
heads ship with the code in `adapter.npz` (trained by `workers/scoring/training.py`, see
docs/quality.md); the base weights come from the installed package.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .encoder import Encoder

ADAPTER = Path(__file__).with_name("adapter.npz")
HEADS = ("toxic", "threat", "insult", "identity_hate", "sexual", "spam")
# How each head reads in a moderator's reason.
HEAD_WORDS = {
    "toxic": "toxic",
    "threat": "threat",
    "insult": "insult",
    "identity_hate": "identity hate",
    "sexual": "sexual harassment",
    "spam": "spam",
}


@dataclass(frozen=True)
class Reading:
    """The model's probabilities (0..1) that a comment is each kind of harm, and spam."""

    toxic: float = 0.0
    threat: float = 0.0
    insult: float = 0.0
    identity_hate: float = 0.0
    sexual: float = 0.0
    spam: float = 0.0

    def harms(self) -> dict[str, float]:
        """Return the toxicity heads by name (everything but spam)."""
        return {head: getattr(self, head) for head in HEADS if head != "spam"}


class SemanticModel:
    """The adapted encoder and its heads, loaded once per process."""

    def __init__(self, threads: int = 1, adapter: Path = ADAPTER):
        with np.load(adapter) as stored:
            tensors = {name: stored[name] for name in stored.files}
        self.info = json.loads(tensors.pop("info").tobytes().decode())
        if tuple(self.info["heads"]) != HEADS:
            raise ValueError(f"{adapter}: heads {self.info['heads']} are not {HEADS}")
        self.weights = tensors.pop("head.W").astype(np.float32)
        self.bias = tensors.pop("head.b").astype(np.float32)
        self.encoder = Encoder(threads=threads, adapter=tensors)

    def read(self, texts: Sequence[str]) -> list[Reading]:
        """Return what the model reads in each text (texts as normalize().readable() gives)."""
        if not texts:
            return []
        readings = []
        for encoded in self.encoder.encode(list(texts)):
            logits = encoded.windows @ self.weights.T + self.bias
            # The most alarming window speaks for the comment, head by head.
            peak = 1.0 / (1.0 + np.exp(-logits.max(axis=0)))
            readings.append(Reading(*(float(value) for value in peak)))
        return readings


# A logit this far out is certainty either way; clipping keeps one head from swamping a blend.
MAX_LOGIT = 8.0
# Until a blend is fitted, each score is its head alone.
DEFAULT_BLENDS = {"toxicity": {"bias": 0.0, "toxic": 1.0}, "spam": {"bias": 0.0, "spam": 1.0}}


def logit(probability: float) -> float:
    """Return the log-odds of a probability, clipped to ±MAX_LOGIT."""
    if probability <= 0.0:
        return -MAX_LOGIT
    if probability >= 1.0:
        return MAX_LOGIT
    return max(-MAX_LOGIT, min(MAX_LOGIT, math.log(probability / (1.0 - probability))))


@cache
def blends(adapter: Path = ADAPTER) -> dict[str, dict[str, float]]:
    """Return the fitted blends (weights by feature, and a bias) from the adapter's description."""
    with np.load(adapter) as stored:
        info = json.loads(stored["info"].tobytes().decode())
    return info.get("blends", DEFAULT_BLENDS)


def blend(score: str, features: Mapping[str, float]) -> float:
    """Turn named features (head logits, lexical signals) into one 0..1 score."""
    weights = blends()[score]
    total = weights["bias"] + sum(
        weight * features.get(name, 0.0) for name, weight in weights.items() if name != "bias"
    )
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, total))))


@cache
def shared_model(threads: int = 1) -> SemanticModel:
    """Return the process's model, built on first use (a few seconds) and kept."""
    return SemanticModel(threads=threads)


def load_model(threads: int = 1) -> None:
    """Load the model now, so the first comment doesn't pay for it."""
    shared_model(threads)


def read(texts: Sequence[str], threads: int = 1) -> list[Reading]:
    """Return what the shared model reads in each text."""
    return shared_model(threads).read(texts)
