"""Toxicity from the bundled alt-profanity-check model (a local linear model, no network).

The library's own `predict_prob([text])` costs milliseconds per call (2-7 ms, by machine), nearly
all of it scikit-learn overhead around a tiny sparse dot product. This module reads the fitted
vectorizer and calibrated classifiers once and replays the same arithmetic in plain Python:

    tokens  = findall(r"(?u)\\b\\w\\w+\\b", text.lower()), minus English stop words
    tfidf_t = count_t * idf_t / sqrt(sum over in-vocabulary terms (count * idf)^2)
    f_k     = sum_t tfidf_t * coef_k[t] + intercept_k         (one LinearSVC per CV fold)
    p       = mean_k 1 / (1 + exp(a_k * f_k + b_k))           (Platt calibration per fold)

The result equals the library's probability to within floating-point rounding (tests check
1e-6 against the library itself).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import mul

# exp() overflows above ~709.78; 1/(1+e^700) is already 1e-304, so clamping changes nothing.
_MAX_EXPONENT = 700.0

# The vectorizer settings the arithmetic above reproduces; anything else must fail loudly rather
# than score differently from the library.
_EXPECTED_VECTORIZER = {
    "analyzer": "word",
    "binary": False,
    "lowercase": True,
    "ngram_range": (1, 1),
    "norm": "l2",
    "preprocessor": None,
    "strip_accents": None,
    "sublinear_tf": False,
    "token_pattern": r"(?u)\b\w\w+\b",
    "tokenizer": None,
    "use_idf": True,
}


@dataclass(frozen=True, slots=True)
class _Model:
    token_findall: Callable[[str], list[str]]  # the vectorizer's token pattern
    # term -> (idf, (coef_1, ..., coef_K)): one dict lookup per token, no numpy at score time.
    terms: dict[str, tuple[float, tuple[float, ...]]]
    intercepts: tuple[float, ...]
    slopes: tuple[float, ...]  # Platt a_k
    offsets: tuple[float, ...]  # Platt b_k
    no_terms_probability: float  # text with no in-vocabulary term: intercepts only


def _platt_mean(
    decisions: Sequence[float], slopes: Sequence[float], offsets: Sequence[float]
) -> float:
    """Average the folds' calibrated probabilities, as CalibratedClassifierCV.predict_proba does."""
    # Binary case: P(toxic) = expit(-(a*f + b)) per fold, no renormalisation; sklearn's clip of
    # values just above 1.0 never applies, since this form cannot exceed 1.0.
    total = 0.0
    for f, a, b in zip(decisions, slopes, offsets, strict=True):
        total += 1.0 / (1.0 + math.exp(min(a * f + b, _MAX_EXPONENT)))
    return total / len(decisions)


@cache
def _model() -> _Model:
    # Imported lazily: loading scikit-learn and the pickled model takes about half a second, paid
    # once; building the tables below from it takes about 10 ms more.
    from profanity_check.profanity_check import model, vectorizer

    params = vectorizer.get_params()
    unexpected = {
        name: params[name] for name, value in _EXPECTED_VECTORIZER.items() if params[name] != value
    }
    if unexpected or model.method != "sigmoid" or list(model.classes_) != [0, 1]:
        raise RuntimeError(f"unsupported profanity_check model: {unexpected or model}")

    folds = model.calibrated_classifiers_
    coefs, intercepts, slopes, offsets = [], [], [], []
    for fold in folds:
        (calibrator,) = fold.calibrators  # binary: one calibrator, for the positive class
        coefs.append(fold.estimator.coef_[0].tolist())
        intercepts.append(float(fold.estimator.intercept_[0]))
        slopes.append(float(calibrator.a_))
        offsets.append(float(calibrator.b_))

    idf = vectorizer.idf_.tolist()
    stop_words = vectorizer.get_stop_words() or frozenset()
    # Stop words are dropped before the vocabulary lookup, so a stop word never counts, even if a
    # vocabulary happened to hold one (this one holds none).
    terms = {
        term: (idf[i], tuple(coef[i] for coef in coefs))
        for term, i in vectorizer.vocabulary_.items()
        if term not in stop_words
    }
    return _Model(
        token_findall=re.compile(params["token_pattern"]).findall,
        terms=terms,
        intercepts=tuple(intercepts),
        slopes=tuple(slopes),
        offsets=tuple(offsets),
        # An all-zero tf-idf row stays all zero after l2 normalisation: each decision is just
        # the intercept.
        no_terms_probability=_platt_mean(intercepts, slopes, offsets),
    )


def load_model() -> None:
    """Load the model now, so the first comment doesn't pay for it."""
    _model()


def toxicity_score(text: str) -> float:
    """Return the probability (0..1) that the text is offensive."""
    if not text.strip():
        return 0.0
    model = _model()
    terms = model.terms
    counts: dict[str, int] = {}
    for token in model.token_findall(text.lower()):
        if token in terms:
            counts[token] = counts.get(token, 0) + 1
    if not counts:
        return model.no_terms_probability

    weights = []  # count * idf per distinct term, before normalisation
    coef_rows = []
    for term, count in counts.items():
        idf, coefs = terms[term]
        weights.append(count * idf)
        coef_rows.append(coefs)
    norm = math.sqrt(sum(map(mul, weights, weights)))
    tfidf = [w / norm for w in weights]
    decisions = [
        sum(map(mul, tfidf, column)) + intercept
        for column, intercept in zip(zip(*coef_rows, strict=True), model.intercepts, strict=True)
    ]
    return _platt_mean(decisions, model.slopes, model.offsets)
