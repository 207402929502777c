"""Toxicity from the bundled alt-profanity-check model (a local linear model, no network)."""

from functools import cache


@cache
def _model():
    # Imported lazily: loading scikit-learn and the model takes about a second, paid once.
    from profanity_check import predict_prob

    return predict_prob


def load_model() -> None:
    """Load the model now, so the first comment doesn't pay for it."""
    _model()


def toxicity_score(text: str) -> float:
    """Return the probability (0..1) that the text is offensive."""
    if not text.strip():
        return 0.0
    return float(_model()([text])[0])
