"""Pure scoring: text and context in, scores and reasons out; no Flask, RQ or SQL here."""

from .policy import Decision, Policy, decide
from .score import Scores, ScoringContext, score_comment

__all__ = ["Decision", "Policy", "Scores", "ScoringContext", "decide", "score_comment"]
