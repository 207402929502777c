"""Privacy: exporting and erasing what is held about a commenter, and the IP-hash retention."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service.cli import privacy as cli_privacy
from service.core import privacy
from service.core.hashing import hash_email, hash_ip
from service.errors import UnprocessableError
from service.extensions import db
from service.models import (
    AuditEntry,
    Ban,
    BanKind,
    BanTarget,
    Comment,
    CommentStatus,
    OperatorAction,
    Report,
    utcnow,
)
from workers import sweeper

from .helpers import POLITE, audit_trail, comments_url

KEY = "reader-key-joe1"
OTHER_KEY = "reader-key-ann2"
IP = "198.51.100.23"


def post(client, ip: str = IP, **fields) -> dict:
    """Submit a comment from an address and return the 202 body."""
    payload = {"author_name": "Joe", "body": POLITE, **fields}
    response = client.post(comments_url(), json=payload, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 202, response.json
    return response.json


def publish(comment_id: int) -> None:
    published = db.session.get(Comment, comment_id)
    published.status = CommentStatus.APPROVED
    # As the worker writes them: reasons may quote the text.
    published.reasons = ["toxicity 0.12 below hold threshold 0.50", "spam: link to “example.org”"]
    db.session.commit()


def comment(comment_id: int) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


def actions(action: str) -> list[OperatorAction]:
    db.session.expire_all()
    query = select(OperatorAction).where(OperatorAction.action == action)
    return list(db.session.scalars(query.order_by(OperatorAction.id)))


def ban(site_id: int | None, target: BanTarget, value: str, label: str) -> None:
    db.session.add(
        Ban(
            site_id=site_id,
            target_type=target,
            target_value=value,
            target_label=label,
            kind=BanKind.SHADOW,
            reason="posts the same link everywhere",
            created_by="moderator:mia",
        )
    )
    db.session.commit()


@pytest.fixture
def joe(client, site):
    """Joe's data: two comments (one published), a report he made, a ban on his key."""
    first = post(client, commenter_key=KEY, author_email="joe@gmail.com", title="Bridges")["id"]
    publish(first)
    second = post(client, commenter_key=KEY)["id"]
    ann = post(client, "203.0.113.5", commenter_key=OTHER_KEY, author_name="Ann")["id"]
    publish(ann)
    response = client.post(
        f"/api/v1/comments/{ann}/reports",
        json={"reason": "other", "note": "Off topic", "commenter_key": KEY},
        environ_base={"REMOTE_ADDR": IP},
    )
    assert response.status_code == 202
    ban(site.id, BanTarget.COMMENTER_KEY, KEY, KEY)
    return {"first": first, "second": second, "ann": ann}


# --- Export --------------------------------------------------------------------------------


def test_export_by_commenter_key_holds_everything_and_no_hash(joe):
    data = privacy.export(KEY)
    assert data["commenter"] == f"commenter {KEY}"
    assert [c["id"] for c in data["comments"]] == [joe["first"], joe["second"]]
    first = data["comments"][0]
    assert first["site"] == "demo" and first["article"] == "a1"
    assert first["status"] == "approved" and first["title"] == "Bridges"
    assert first["author_name"] == "Joe" and first["body_text"] == POLITE
    assert first["stored_hashes"] == ["email", "email_domain", "ip", "network"]
    assert first["history"][0]["actor"] == "author"
    assert first["history"][0]["to_status"] == "pending"
    assert first["created_at"].endswith("Z") and first["shadow"] is False
    assert data["comments"][1]["stored_hashes"] == ["ip", "network"]  # sent without an email
    assert data["reports"] == [
        {
            "id": data["reports"][0]["id"],
            "comment_id": joe["ann"],
            "site": "demo",
            "reason": "other",
            "note": "Off topic",
            "created_at": data["reports"][0]["created_at"],
            "stored_hashes": ["ip"],
        }
    ]
    [held_ban] = data["bans"]
    assert held_ban["site"] == "demo" and held_ban["kind"] == "shadow" and held_ban["active"]
    assert held_ban["target"] == KEY and "moderator" not in json.dumps(held_ban)
    text = json.dumps(data)
    for secret in (hash_ip(IP), hash_email("joe@gmail.com"), "joe@gmail.com", IP, "Ann"):
        assert secret not in text
    [logged] = actions("privacy.export")
    assert logged.subject == f"commenter {KEY}" and logged.actor == "cli"
    assert logged.details == {"comments": 2, "reports": 1, "bans": 1}


def test_export_by_email_matches_the_normalized_address(joe, site):
    ban(None, BanTarget.EMAIL, hash_email("joe@gmail.com"), "j…@gmail.com")
    data = privacy.export("J.Oe+news@GMail.com")
    assert [c["id"] for c in data["comments"]] == [joe["first"]]
    assert data["commenter"] == "email j…@gmail.com"
    assert data["commenter_keys"] == [KEY]
    assert data["reports"] == []  # reports carry a commenter key, never an email
    assert [(b["site"], b["target"]) for b in data["bans"]] == [(None, "j…@gmail.com")]
    [logged] = actions("privacy.export")
    assert "joe" not in logged.subject


def test_a_commenter_nobody_knows_exports_empty(site):
    data = privacy.export("never-seen-key")
    assert (data["comments"], data["reports"], data["bans"]) == ([], [], [])


def test_export_refuses_what_is_neither_a_key_nor_an_email(app):
    with pytest.raises(UnprocessableError, match="commenter key"):
        privacy.export("short")
    with pytest.raises(UnprocessableError, match="not an email"):
        privacy.export("joe@localhost")


# --- Erase ---------------------------------------------------------------------------------


def test_erase_leaves_a_tombstone_that_holds_up_the_replies_of_others(client, joe):
    reply = post(
        client, "203.0.113.5", commenter_key=OTHER_KEY, author_name="Ann", parent_id=joe["first"]
    )["id"]
    publish(reply)
    assert privacy.erase(KEY) == {"comments": 2, "reports": 1, "votes": 0}

    for comment_id in (joe["first"], joe["second"]):
        erased = comment(comment_id)
        assert erased.status == CommentStatus.DELETED
        assert (erased.author_name, erased.title, erased.body_html, erased.body_text) == (
            "",
            None,
            "",
            "",
        )
        personal = (
            erased.commenter_key,
            erased.email_hash,
            erased.email_domain_hash,
            erased.ip_hash,
            erased.network_hash,
        )
        assert personal == (None, None, None, None, None)
        assert erased.reasons == []
    assert audit_trail(joe["first"])[-1] == ("privacy", "approved", "deleted")
    assert audit_trail(joe["second"])[-1] == ("privacy", "pending", "deleted")
    reason = db.session.scalar(
        select(AuditEntry.reason)
        .where(AuditEntry.comment_id == joe["first"])
        .order_by(AuditEntry.id.desc())
    )
    assert reason == "erased on the commenter's request"

    # The thread keeps its shape: a tombstone with Ann's visible reply under it.
    thread = client.get(comments_url()).json
    tombstone = next(c for c in thread["comments"] if c["id"] == joe["first"])
    assert tombstone["deleted"] is True and tombstone["author_name"] is None
    assert [r["id"] for r in tombstone["replies"]] == [reply]
    assert tombstone["replies"][0]["author_name"] == "Ann"
    assert comment(joe["ann"]).commenter_key == OTHER_KEY  # others keep theirs

    [made] = db.session.scalars(select(Report)).all()
    assert (made.reporter_key, made.ip_hash) == (None, None)
    assert made.note == "Off topic"  # what the report said is about Ann's comment
    assert db.session.scalar(select(Ban.target_value)) == KEY  # bans stay in force
    [logged] = actions("privacy.erase")
    assert logged.subject == f"commenter {KEY}"
    assert logged.details == {"comments": 2, "reports": 1, "votes": 0}
    assert privacy.export(KEY)["comments"] == []


def test_erase_by_email_and_in_batches(client, site, monkeypatch):
    monkeypatch.setattr(privacy, "BATCH_SIZE", 2)
    ids = [post(client, author_email="joe@gmail.com")["id"] for _ in range(5)]
    kept = post(client, author_email="ann@example.com")["id"]
    seen = []
    assert privacy.erase("JOE@gmail.com", progress=seen.append) == {
        "comments": 5,
        "reports": 0,
        "votes": 0,
    }
    assert seen == [2, 2, 1]
    assert {comment(i).status for i in ids} == {CommentStatus.DELETED}
    assert all(comment(i).email_hash is None for i in ids)
    assert comment(kept).status == CommentStatus.PENDING and comment(kept).author_name == "Joe"
    assert actions("privacy.erase")[0].subject == "email j…@gmail.com"


# --- Retention -----------------------------------------------------------------------------


def age(model, row_id: int, days: int) -> None:
    """Move a row's creation back in time, as if it had been written `days` ago."""
    db.session.execute(
        update(model).where(model.id == row_id).values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def test_purge_clears_only_ip_hashes_past_retention(app, joe):
    age(Comment, joe["first"], 31)
    report_id = db.session.scalar(select(Report.id))
    age(Report, report_id, 31)
    updated_at = comment(joe["first"]).updated_at
    assert app.config["IP_RETENTION_DAYS"] == 30

    assert privacy.purge_ip_hashes() == {"comments": 1, "reports": 1, "votes": 0}
    old = comment(joe["first"])
    assert (old.ip_hash, old.network_hash) == (None, None)
    assert old.email_hash == hash_email("joe@gmail.com")  # emails are not IP data
    assert old.updated_at == updated_at  # not a change of the comment
    assert comment(joe["second"]).ip_hash == hash_ip(IP)
    assert db.session.get(Report, report_id).ip_hash is None
    [logged] = actions("privacy.purge")
    assert logged.details == {"comments": 1, "reports": 1, "votes": 0}

    # Nothing left to purge: nothing logged.
    assert privacy.purge_ip_hashes() == {"comments": 0, "reports": 0, "votes": 0}
    assert len(actions("privacy.purge")) == 1
    # A shorter retention reaches the newer ones.
    assert privacy.purge_ip_hashes(older_than_days=0)["comments"] == 2


def test_the_sweeper_purges_at_most_once_an_hour(app, joe):
    age(Comment, joe["first"], 40)
    stops = iter([False, True])
    sweeper.run_sweeper(0, should_stop=lambda: next(stops))
    assert comment(joe["first"]).ip_hash is None
    [logged] = actions("privacy.purge")
    assert logged.actor == "sweeper"

    age(Comment, joe["second"], 40)
    just_now = time.monotonic()
    assert sweeper.purge_if_due(just_now) == just_now  # an hour has not passed
    assert comment(joe["second"]).ip_hash is not None
    later = just_now + sweeper.PURGE_INTERVAL_SECONDS + 1  # +1: float sums round
    assert sweeper.purge_if_due(just_now, now=later) == later
    assert comment(joe["second"]).ip_hash is None


# --- Commands ------------------------------------------------------------------------------


def test_export_command_writes_json_to_stdout_or_a_file(cli, joe, tmp_path):
    result = cli("privacy", "export", KEY)
    assert result.exit_code == 0, result.output
    assert [c["id"] for c in json.loads(result.output)["comments"]] == [joe["first"], joe["second"]]

    target = tmp_path / "joe.json"
    result = cli("privacy", "export", "joe@gmail.com", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert f"Wrote 1 comment(s), 0 report(s) and 0 ban(s) of email j…@gmail.com to {target}." in (
        result.output
    )
    assert json.loads(target.read_text())["comments"][0]["id"] == joe["first"]
    assert len(actions("privacy.export")) == 2


def test_export_command_explains_a_bad_commenter(cli, site):
    result = cli("privacy", "export", "x")
    assert result.exit_code == 1
    assert "Give a commenter key" in result.output
    assert actions("privacy.export") == []


def test_erase_command_shows_the_counts_and_asks_first(app, joe):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["privacy", "erase", KEY], input="n\n")
    assert refused.exit_code == 1
    assert "2 comment(s) will become empty tombstones" in refused.output
    assert "1 report(s) they made" in refused.output
    assert "1 ban(s) on them stay in force" in refused.output
    assert comment(joe["first"]).status == CommentStatus.APPROVED
    assert actions("privacy.erase") == []

    confirmed = runner.invoke(args=["privacy", "erase", KEY], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "Erased 2 comment(s) and 1 report(s)." in confirmed.output
    assert comment(joe["first"]).status == CommentStatus.DELETED


def test_erase_command_shows_progress_on_big_erasures(cli, client, site, monkeypatch):
    monkeypatch.setattr(cli_privacy, "PROGRESS_AFTER", 2)
    for _ in range(3):
        post(client, commenter_key=KEY)
    result = cli("privacy", "erase", KEY, "--yes")
    assert result.exit_code == 0, result.output
    assert "Erasing comments" in result.output
    assert "Erased 3 comment(s) and 0 report(s)." in result.output


def test_purge_command(cli, joe):
    age(Comment, joe["first"], 12)
    result = cli("privacy", "purge", "--days", "10")
    assert result.exit_code == 0, result.output
    assert "Purged IP hashes older than 10 days from 1 comment(s) and 0 report(s)." in (
        result.output
    )
    assert comment(joe["first"]).ip_hash is None
    assert cli("privacy", "purge", "--days", "-1").exit_code == 2
    assert "Purged IP hashes older than 30 days from 0" in cli("privacy", "purge").output


# --- The secret key --------------------------------------------------------------------------


def test_production_refuses_to_start_with_the_default_or_a_short_secret(app_factory, migrated):
    from service import InsecureConfigError
    from service.config import DEFAULT_SECRET_KEY

    for secret in (DEFAULT_SECRET_KEY, "short-but-not-default"):
        with pytest.raises(InsecureConfigError, match="TALKBACK_SECRET_KEY"):
            app_factory(TALKBACK_ENV="production", SECRET_KEY=secret)
    # A long random secret starts, and keys the hashes: another secret, another hash.
    strong = app_factory(TALKBACK_ENV="production", SECRET_KEY="x" * 48)
    other = app_factory(TALKBACK_ENV="production", SECRET_KEY="y" * 48)
    with strong.app_context():
        first = hash_ip("203.0.113.7")
    with other.app_context():
        assert hash_ip("203.0.113.7") != first


def test_votes_are_exported_erased_and_purged_with_the_rest(app, client, joe):
    from service.core import votes
    from service.models import CommentVote

    votes.cast_vote(joe["ann"], f"key:{KEY}", "like", IP)
    votes.cast_vote(joe["ann"], "key:someone-else-1", "like", "198.51.100.9")
    assert privacy.export(KEY)["votes"] == [
        {
            "comment_id": joe["ann"],
            "vote": "like",
            "created_at": privacy.export(KEY)["votes"][0]["created_at"],
            "stored_hashes": ["ip"],
        }
    ]
    assert privacy.erase(KEY)["votes"] == 1
    voters = set(db.session.scalars(select(CommentVote.voter)))
    assert f"key:{KEY}" not in voters and "key:someone-else-1" in voters
    assert any(voter.startswith("erased:") for voter in voters)
    assert comment(joe["ann"]).likes == 2  # still counted
    # The other voter's address hash goes once it is past retention.
    assert privacy.purge_ip_hashes(older_than_days=0)["votes"] == 1
    assert db.session.scalars(select(CommentVote.ip_hash)).all() == [None, None]
