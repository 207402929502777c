"""The operators' audit log: sites, bans and privacy actions, who did them and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.extensions import db
from service.models import OperatorAction

CLI_ACTOR = "cli"


def record_action(actor: str, action: str, subject: str, details: dict | None = None) -> None:
    """Add an entry to the operators' audit log; the caller commits with the change itself."""
    db.session.add(
        OperatorAction(actor=actor, action=action, subject=subject, details=details or {})
    )


def list_actions(
    *,
    action_prefix: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[OperatorAction]:
    """Return the newest entries first, optionally of one kind ("ban", "site.update") or actor."""
    query = select(OperatorAction)
    if action_prefix:
        query = query.where(OperatorAction.action.startswith(action_prefix))
    if actor:
        query = query.where(OperatorAction.actor == actor)
    if since:
        query = query.where(OperatorAction.created_at >= since)
    return list(
        db.session.scalars(
            query.order_by(OperatorAction.created_at.desc(), OperatorAction.id.desc()).limit(limit)
        )
    )


def list_actors() -> list[str]:
    """Return every actor that has an entry in the log, sorted."""
    return list(
        db.session.scalars(select(OperatorAction.actor).distinct().order_by(OperatorAction.actor))
    )


def action_dict(entry: OperatorAction) -> dict:
    """Return an entry as JSON-ready data."""
    return {
        "id": entry.id,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
        "created_at": entry.created_at,
    }
