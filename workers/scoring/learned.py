"""The learned spam model: naive Bayes over word n-grams, trained by moderators' decisions.

Pure: features and probabilities from counts. Where the counts live (the database per site, or
memory for evaluation) is the caller's business. A built-in seed of generic comment spam and
ordinary comments is always added to the counts, so a new site gets a usable model on day one
and its own decisions take over as they accumulate.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path

from .normalize import Normalized, normalize
from .spam import link_domains

SEED_CORPUS = Path(__file__).with_name("seed_corpus.csv")
# Laplace smoothing: a feature seen once in spam is evidence, not proof.
ALPHA = 0.1
# Naive Bayes adds up correlated evidence as if it were independent, which makes it far too
# sure of itself; dividing the log-odds tempers that into a usable probability.
TEMPERATURE = 3.0
MAX_FEATURES = 400


def features(text: Normalized, domains: Iterable[str] = ()) -> list[str]:
    """Return a comment's distinct features: words, word pairs and linked domains."""
    words = [word.text for word in text.words if len(word.text) < 40]
    found = dict.fromkeys(words)
    found.update(dict.fromkeys(f"{a} {b}" for a, b in pairwise(words)))
    found.update(dict.fromkeys(f"domain:{domain}" for domain in domains))
    if any(True for _ in domains):
        found["has:link"] = None
    return list(found)[:MAX_FEATURES]


def comment_features(text: str, normalized: Normalized | None = None) -> list[str]:
    """Return the features of a comment's plain text (pass `normalized` if already at hand)."""
    return features(normalized or normalize(text), link_domains(text))


@dataclass
class Counts:
    """How many spam and ham comments held each feature, and the class totals."""

    spam_documents: int = 0
    ham_documents: int = 0
    # Sums of the per-feature counts of each class, and how many distinct features there are.
    spam_total: int = 0
    ham_total: int = 0
    vocabulary: int = 0
    features: dict[str, tuple[int, int]] = field(default_factory=dict)

    def learn(self, feature_list: Iterable[str], is_spam: bool, weight: int = 1) -> None:
        """Count one labelled comment (a negative weight forgets one)."""
        feature_list = list(feature_list)
        if is_spam:
            self.spam_documents += weight
            self.spam_total += weight * len(feature_list)
        else:
            self.ham_documents += weight
            self.ham_total += weight * len(feature_list)
        for feature in feature_list:
            spam, ham = self.features.get(feature, (0, 0))
            updated = (spam + weight, ham) if is_spam else (spam, ham + weight)
            # The vocabulary counts features seen at all: one appears, or is forgotten.
            self.vocabulary += (updated != (0, 0)) - ((spam, ham) != (0, 0))
            self.features[feature] = updated


@cache
def seed_counts() -> Counts:
    """Return the counts of the built-in seed corpus (generic spam and ordinary comments)."""
    counts = Counts()
    with SEED_CORPUS.open(encoding="utf-8", newline="") as seed:
        for row in csv.DictReader(seed):
            counts.learn(comment_features(row["text"]), row["label"] == "spam")
    return counts


def spam_probability(
    feature_list: Iterable[str], site: Counts, *, seed: Counts | None = None
) -> float:
    """Return P(spam) for a comment's features from the site's counts plus the seed's."""
    seed = seed_counts() if seed is None else seed
    spam_total = site.spam_total + seed.spam_total
    ham_total = site.ham_total + seed.ham_total
    if spam_total <= 0 or ham_total <= 0:
        return 0.5
    # Multinomial naive Bayes over feature occurrences. Classes weigh the same whatever their
    # share of the decisions: sites reject far fewer comments than they approve, and that base
    # rate shouldn't drown the evidence in the text.
    smoothing = ALPHA * max(1, site.vocabulary + seed.vocabulary)
    spam_norm = math.log(spam_total + smoothing)
    ham_norm = math.log(ham_total + smoothing)
    log_odds = 0.0
    for feature in feature_list:
        site_spam, site_ham = site.features.get(feature, (0, 0))
        seed_spam, seed_ham = seed.features.get(feature, (0, 0))
        spam, ham = site_spam + seed_spam, site_ham + seed_ham
        if spam <= 0 and ham <= 0:
            continue  # never seen: no evidence either way
        log_odds += math.log(spam + ALPHA) - spam_norm - math.log(ham + ALPHA) + ham_norm
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, log_odds / TEMPERATURE))))


def decisions_in(counts: Counts) -> int:
    """Return how many labelled comments a site's counts hold."""
    return max(0, counts.spam_documents) + max(0, counts.ham_documents)
