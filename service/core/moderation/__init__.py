"""The moderators' service layer: queues of comment cards, decisions, undo, events, audit, summary.

Independent of HTTP and of how the caller signed in: every function takes `site_ids`, the sites
the caller may moderate (None: every site, for operators), and decisions take `actor`, the name
the audit log records ("moderator:<username>").

Modules: scope (the caller's sites, actor names), cards (a comment as moderators see it),
queues (queue counts and pages), actions (approve, reject, bulk, undo) and trail (events, audit
pages, summary). Everything is re-exported here: import from service.core.moderation.
"""

from service.core.decisions import DecisionRecord, record_decisions
from service.core.moderation.actions import (
    ACTIONS,
    StaleDecisionError,
    decide,
    decide_many,
    is_spam_reason,
    undo,
)
from service.core.moderation.cards import (
    EXCERPT_LENGTH,
    NOTES_PER_CARD,
    QUOTED,
    RECENT_PER_COMMENTER,
    build_cards,
    highlights,
)
from service.core.moderation.queues import DECIDABLE, QUEUES, SORTS, list_queue, queue_counts
from service.core.moderation.scope import (
    FORBIDDEN_SITE,
    MODERATOR_PREFIX,
    UNDO_PREFIX,
    moderator_actor,
)
from service.core.moderation.trail import (
    AUTOMATIC_ACTORS,
    EVENTS_MAX,
    NUMBER,
    Period,
    audit,
    events,
    reason_kind,
    summary,
)

__all__ = [
    "ACTIONS",
    "AUTOMATIC_ACTORS",
    "DECIDABLE",
    "EVENTS_MAX",
    "EXCERPT_LENGTH",
    "FORBIDDEN_SITE",
    "MODERATOR_PREFIX",
    "NOTES_PER_CARD",
    "NUMBER",
    "QUEUES",
    "QUOTED",
    "RECENT_PER_COMMENTER",
    "SORTS",
    "UNDO_PREFIX",
    "DecisionRecord",
    "Period",
    "StaleDecisionError",
    "audit",
    "build_cards",
    "decide",
    "decide_many",
    "events",
    "highlights",
    "is_spam_reason",
    "list_queue",
    "moderator_actor",
    "queue_counts",
    "reason_kind",
    "record_decisions",
    "summary",
    "undo",
]
