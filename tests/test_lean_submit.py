"""What a submission costs: statements per comment whatever the bans, one Redis round trip for
all its rate-limit windows and one for its job; top-level comments without a root_id."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from redis.connection import AbstractConnection

from service.core import comments
from service.core.hashing import hash_ip
from service.core.queues import moderation_queue
from service.errors import BannedError
from service.extensions import db
from service.models import (
    Article,
    AuditEntry,
    Ban,
    BanKind,
    BanTarget,
    Comment,
    utcnow,
)
from service.schemas.comments import CommentSubmitSchema

from .helpers import (
    POLITE,
    approved,
    comments_url,
    insert_early_article,
    insert_early_comment,
    make_site,
    post_comment,
    row_count,
    submit,
    temporary_database,
)

IP = "198.51.100.7"
KEY = "reader-key-0001"
BEFORE_ROOTS_WITHOUT_ROOT_ID = "45938c24bbdd"


@pytest.fixture
def statements(app):
    """The SQL statements the app's engine sends while a test runs (SAVEPOINTs included)."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def redis_commands(monkeypatch):
    """What each Redis round trip of the app sends (the commands still go to the real Redis)."""
    sent: list[bytes] = []
    send = AbstractConnection.send_packed_command

    def recording(self, command, check_health=True):
        parts = command if isinstance(command, list | tuple) else [command]
        sent.append(b"".join(bytes(part) for part in parts))
        return send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", recording)
    return sent


def submit_directly(article: str = "a1", **fields) -> comments.Submitted:
    """Submit through the service, as the view does, with the schema's defaults."""
    data = CommentSubmitSchema().load({"author_name": "Dana", "body": POLITE, **fields})
    return comments.submit_comment("demo", article, data, comments.Client(ip=IP))


def post(client, ip: str = IP, **fields):
    """Submit a comment to demo's article a1 from an IP address; return the response."""
    payload = {"author_name": "Dana", "body": POLITE, **fields}
    return client.post(comments_url(), json=payload, environ_base={"REMOTE_ADDR": ip})


def kinds(sent: list[str]) -> list[str]:
    """Name each statement by what it does: "SELECT", "INSERT INTO comments", ..."""
    named = []
    for statement in sent:
        words = statement.split()
        named.append(" ".join(words[:3]) if words[0] == "INSERT" else words[0])
    return named


def ban(site_id: int | None, target: BanTarget, value: str, kind: BanKind, **extra) -> None:
    db.session.add(
        Ban(
            site_id=site_id,
            target_type=target,
            target_value=value,
            target_label="test",
            kind=kind,
            reason="test",
            created_by="test",
            **extra,
        )
    )
    db.session.commit()


# --- Statements per submission -------------------------------------------------------------


def test_a_comment_on_a_known_article_is_one_select_and_two_inserts(app, site, statements):
    submit_directly()  # the article's first comment creates it
    statements.clear()
    submit_directly(commenter_key=KEY, author_email="dana@example.com")
    assert kinds(statements) == ["SELECT", "INSERT INTO comments", "INSERT INTO audit_entries"]


def test_a_reply_costs_no_more_than_a_top_level_comment(app, site, client, run_worker, statements):
    root = approved(client, run_worker)
    statements.clear()
    submit_directly(parent_id=root["id"])
    assert kinds(statements) == ["SELECT", "INSERT INTO comments", "INSERT INTO audit_entries"]


def test_bans_in_force_add_no_statement_until_one_matches(app, site, statements):
    other = make_site("other")
    submit_directly()
    # Bans of every kind and scope, on other people: none matches Dana.
    for number in range(20):
        ban(None, BanTarget.COMMENTER_KEY, f"banned-key-{number:04d}", BanKind.HARD)
        ban(site.id, BanTarget.IP, hash_ip(f"203.0.113.{number}"), BanKind.SHADOW)
    # Dana's own bans, but not in force here: on another site, expired, lifted, or a hold.
    ban(other.id, BanTarget.COMMENTER_KEY, KEY, BanKind.HARD)
    ban(site.id, BanTarget.COMMENTER_KEY, KEY, BanKind.HARD, expires_at=utcnow())
    ban(None, BanTarget.IP, hash_ip(IP), BanKind.HARD, lifted_at=utcnow(), lifted_by="test")
    ban(site.id, BanTarget.IP, hash_ip(IP), BanKind.HOLD)
    statements.clear()
    accepted = submit_directly(commenter_key=KEY)
    assert kinds(statements) == ["SELECT", "INSERT INTO comments", "INSERT INTO audit_entries"]
    assert db.session.get(Comment, accepted.id).shadow is False

    ban(None, BanTarget.IP, hash_ip(IP), BanKind.SHADOW)
    statements.clear()
    shadowed = submit_directly(commenter_key=KEY)
    assert kinds(statements) == ["SELECT", "INSERT INTO comments", "INSERT INTO audit_entries"]
    assert db.session.get(Comment, shadowed.id).shadow is True


def test_a_hard_banned_submission_reads_and_writes_nothing_more(app, site, statements):
    ban(site.id, BanTarget.COMMENTER_KEY, KEY, BanKind.HARD, public_reason="Spam.")
    counts = (row_count(Comment), row_count(Article), row_count(AuditEntry))
    statements.clear()
    with pytest.raises(BannedError, match=r"Reason: Spam\."):
        submit_directly(article="a-new-article", commenter_key=KEY)
    # The query that found the site found the ban; the second reads its public reason.
    assert kinds(statements) == ["SELECT", "SELECT"]
    db.session.rollback()
    assert (row_count(Comment), row_count(Article), row_count(AuditEntry)) == counts


def test_a_reply_from_a_new_article_to_another_ones_comment_writes_nothing(
    client, site, run_worker
):
    root = approved(client, run_worker, article="a1")
    response = post_comment(client, article="a2", parent_id=root["id"])
    assert response.status_code == 422
    assert "another article" in response.json["error"]["fields"]["parent_id"][0]
    assert row_count(Article) == 1
    assert row_count(Comment) == 1


# --- root_id ----------------------------------------------------------------------------------


def test_top_level_comments_have_no_root_id_and_replies_their_top_level_ones(
    client, site, run_worker
):
    root = approved(client, run_worker)
    reply = approved(client, run_worker, parent_id=root["id"], body="A reply to the first.")
    nested = submit(client, parent_id=reply["id"], body="And a reply to the reply.")
    rows = {row.id: row for row in db.session.scalars(sa.select(Comment))}
    assert rows[root["id"]].root_id is None
    assert rows[reply["id"]].root_id == root["id"]
    assert rows[nested["id"]].root_id == root["id"]
    # The thread reads the same: the root with its reply (the nested one is still pending).
    thread = client.get("/api/v1/sites/demo/articles/a1/comments").json
    assert [node["id"] for node in thread["comments"]] == [root["id"]]
    assert [node["id"] for node in thread["comments"][0]["replies"]] == [reply["id"]]


def test_the_migration_clears_the_root_id_of_top_level_comments_only(app_factory, tmp_path):
    with temporary_database(tmp_path) as url:
        fresh = app_factory(SQLALCHEMY_DATABASE_URI=url)
        with fresh.app_context():
            # The migration changes data only: the models fit the schema before it too.
            upgrade(revision=BEFORE_ROOTS_WITHOUT_ROOT_ID)
            # Plain SQL with that revision's columns: the models have grown since.
            site_id, article_id = insert_early_article()
            ids: list[int] = []
            for parent in (None, 0, 1):  # a top-level comment, its reply, a reply to that
                parent_id = ids[parent] if parent is not None else None
                comment_id = insert_early_comment(site_id, article_id, parent_id)
                # As submissions stored them before: a top-level comment pointed at itself.
                db.session.execute(
                    sa.text("UPDATE comments SET root_id = :root WHERE id = :id"),
                    {"root": ids[0] if ids else comment_id, "id": comment_id},
                )
                ids.append(comment_id)
            db.session.commit()

            def root_ids() -> list[int | None]:
                query = sa.select(Comment.root_id).order_by(Comment.id)
                with db.engine.connect() as connection:
                    return list(connection.scalars(query))

            upgrade()
            assert root_ids() == [None, ids[0], ids[0]]
            downgrade(revision=BEFORE_ROOTS_WITHOUT_ROOT_ID)
            assert root_ids() == [ids[0], ids[0], ids[0]]
            db.session.remove()
            db.engine.dispose()


# --- Redis round trips ------------------------------------------------------------------------


def _round_trips(sent: list[bytes], marker: bytes) -> int:
    return sum(marker in command for command in sent)


def test_the_job_takes_one_round_trip(app_factory, migrated, site, redis_commands):
    app = app_factory()
    client = app.test_client()
    # The first request of a fresh Redis loads the scripts (and RQ asks the server's version).
    post(client, "192.0.2.1")
    redis_commands.clear()
    response = post(client, commenter_key=KEY)
    assert response.status_code == 202
    # The queue's registration, the job and its push travel in one transaction.
    [enqueueing] = [command for command in redis_commands if b"rq:job:" in command]
    assert b"MULTI" in enqueueing and b"SADD" in enqueueing and b"RPUSH" in enqueueing
    assert _round_trips(redis_commands, b"rq:") == 1
    with app.app_context():
        assert moderation_queue().job_ids[-1] == f"moderate-{response.json['id']}"
