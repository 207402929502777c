"""The RQ job of an author's edit: score the proposed text like a new comment, decide, record."""

import logging

from service.core import edits
from service.models import RevisionStatus

from .jobs import _app
from .moderation import assess

log = logging.getLogger(__name__)


def moderate_revision(revision_id: int) -> str:
    """Score a pending edit and record the automatic decision, once.

    Recent-activity signals are left out (record_activity=False): an edit is a new version of
    the same comment, and would count as a near duplicate of its own original.
    """
    app = _app()
    with app.app_context():
        revision = edits.load_revision(revision_id)
        if revision is None:
            return "skipped: not pending"
        assessment = assess(edits.scoring_copy(revision), record_activity=False)
        decision = assessment.decision
        applied = edits.record_revision_decision(
            edits.RevisionDecision(
                revision_id,
                RevisionStatus(decision.status),
                list(decision.reasons),
                actor="worker",
                toxicity=assessment.scores.toxicity,
                spam=assessment.scores.spam,
            ),
            (RevisionStatus.PENDING,),
        )
        if not applied:
            return "skipped: decided elsewhere"
        log.info("edit %s %s: %s", revision_id, decision.status, "; ".join(decision.reasons))
        return decision.status
