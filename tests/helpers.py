"""Small helpers shared by the API tests."""

from service.extensions import db
from service.models import AuditEntry, Comment

POLITE = "Thanks for the clear report, the timeline of the restoration was really useful."


def comments_url(article: str = "a1", site: str = "demo") -> str:
    """Return the comments URL of an article."""
    return f"/api/v1/sites/{site}/articles/{article}/comments"


def post_comment(client, article: str = "a1", site: str = "demo", **fields):
    """Submit a comment with sensible defaults and return the response."""
    payload = {"author_name": "Dana", "body": POLITE, **fields}
    return client.post(comments_url(article, site), json=payload)


def submit(client, article: str = "a1", **fields) -> dict:
    """Submit a comment that must be accepted, and return the 202 body."""
    response = post_comment(client, article, **fields)
    assert response.status_code == 202, response.json
    return response.json


def approved(client, run_worker, article: str = "a1", **fields) -> dict:
    """Submit a polite comment and run the worker so it is approved."""
    body = submit(client, article, **fields)
    run_worker()
    assert status_of(body["id"]) == "approved", reasons_of(body["id"])
    return body


def status_of(comment_id: int) -> str:
    """Return a comment's status as stored."""
    db.session.expire_all()
    return db.session.get(Comment, comment_id).status.value


def reasons_of(comment_id: int) -> list[str]:
    """Return a comment's stored moderation reasons."""
    db.session.expire_all()
    return db.session.get(Comment, comment_id).reasons


def audit_trail(comment_id: int) -> list[tuple[str, str | None, str]]:
    """Return (actor, from, to) for each audit entry of a comment, oldest first."""
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.comment_id == comment_id).order_by(AuditEntry.id)
    )
    return [(entry.actor, entry.from_status, entry.to_status) for entry in entries]


def row_count(model) -> int:
    """Count the rows of a model's table."""
    return db.session.scalar(db.select(db.func.count()).select_from(model))
