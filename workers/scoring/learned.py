"""The learned spam model: naive Bayes over words, word pairs and character n-grams.

Pure: features and probabilities from counts. Where the counts live (the database per site, or
memory for evaluation) is the caller's business. A built-in seed of generic comment spam and
ordinary comments is always added to the counts, so a new site gets a usable model on day one
and its own decisions take over as they accumulate.
"""

from __future__ import annotations

import csv
import heapq
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path

from .normalize import Normalized, normalize
from .spam import link_domains

SEED_CORPUS = Path(__file__).with_name("seed_corpus.csv")
# Additive smoothing: a feature seen once in spam is evidence, not proof.
ALPHA = 0.5
# Naive Bayes adds up correlated evidence as if it were independent, and every word brings
# several overlapping character n-grams; only the strongest clues count (as in Graham's "A Plan
# for Spam"), so a long comment can't pile up weak ones.
MAX_EVIDENCE = 15
# A site's spam is much the same whatever the page, while its ordinary comments are about the
# page, so an innocent comment on a new topic carries words the model has mostly seen in spam.
# As the site's own decisions come to dominate the generic seed, demand up to this much net
# evidence (in nats) before leaning to spam; then temper the rest into a probability.
# These were chosen across the five folds of the YouTube leave-one-video-out evaluation.
SPAM_MARGIN = 10.0
MARGIN_DECISIONS = 200
TEMPERATURE = 3.0
MAX_FEATURES = 400
# Character n-grams of each word (marked at its edges) catch misspelled and run-together spam
# words ("subscribbe", "freemoney"); hashed into buckets so a site's table stays bounded.
CHAR_N = 5
CHAR_BUCKETS = 1 << 18
CHAR_PREFIX = "c:"


def features(text: Normalized, domains: Iterable[str] = ()) -> list[str]:
    """Return a comment's distinct features: words, word pairs, linked domains, char n-grams."""
    words = [word.text for word in text.words if len(word.text) < 40]
    # Domains first: a long comment's features are capped, and its links are the best clues.
    found = dict.fromkeys(f"domain:{domain}" for domain in domains)
    if found:
        found["has:link"] = None
    found.update(dict.fromkeys(words))
    found.update(dict.fromkeys(f"{a} {b}" for a, b in pairwise(words)))
    found.update(dict.fromkeys(char_grams(words)))
    return list(found)[:MAX_FEATURES]


def char_grams(words: Iterable[str]) -> list[str]:
    """Return the hashed character n-gram features of words (' subs' becomes e.g. 'c:0b3f2')."""
    grams = []
    for word in dict.fromkeys(words):
        marked = f" {word} "
        grams += (
            f"{CHAR_PREFIX}{zlib.crc32(marked[i : i + CHAR_N].encode()) % CHAR_BUCKETS:05x}"
            for i in range(len(marked) - CHAR_N + 1)
        )
    return grams


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
            # A few hundred examples say little about word fragments: only a site's own
            # decisions are enough to learn character n-grams from.
            kept = [f for f in comment_features(row["text"]) if not f.startswith(CHAR_PREFIX)]
            counts.learn(kept, row["label"] == "spam")
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
    norm = math.log(ham_total + smoothing) - math.log(spam_total + smoothing)
    evidence = []
    for feature in feature_list:
        site_spam, site_ham = site.features.get(feature, (0, 0))
        seed_spam, seed_ham = seed.features.get(feature, (0, 0))
        spam, ham = site_spam + seed_spam, site_ham + seed_ham
        if spam <= 0 and ham <= 0:
            continue  # never seen: no evidence either way
        evidence.append(math.log(spam + ALPHA) - math.log(ham + ALPHA) + norm)
    decisions = decisions_in(site)
    margin = SPAM_MARGIN * decisions / (decisions + MARGIN_DECISIONS)
    log_odds = sum(heapq.nlargest(MAX_EVIDENCE, evidence, key=abs)) - margin
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, log_odds / TEMPERATURE))))


def decisions_in(counts: Counts) -> int:
    """Return how many labelled comments a site's counts hold."""
    return max(0, counts.spam_documents) + max(0, counts.ham_documents)
