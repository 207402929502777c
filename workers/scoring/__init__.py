"""Pure scoring: text and context in, scores and reasons out; no Flask, RQ or SQL here."""

from .policy import Decision, Thresholds, decide
from .score import Scores, ScoringContext, score_comment

__all__ = ["Decision", "Scores", "ScoringContext", "Thresholds", "decide", "score_comment"]
