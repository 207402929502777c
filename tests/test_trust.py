"""Graduated trust in the moderation engine: trusted commenters, hold bans (a watchlist), holds on
a bad recent record and per-article pre-moderation; the pure decision first, then end to end
through the real API, database, Redis and RQ worker, re-scoring, and the cost of a batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from service.extensions import db
from service.models import Article, Ban, BanKind, BanTarget, Comment, CommentStatus, Site, utcnow
from workers.moderation import commenter_records, site_policy
from workers.rescore import rescore_comment
from workers.scoring import Policy, Scores
from workers.scoring.policy import (
    APPROVED,
    AWAITS_MODERATOR,
    HELD,
    REJECTED,
    CommenterRecord,
    decide,
    reasons_for_author,
)

from .helpers import POLITE, add, expire, lift, make_site, reasons_of, send, set_policy, status_of

TRUSTED_KEY = "trusted-reader-01"
INSULT = "You are a complete idiot and everyone here knows it."
TRUST_REASON = "trusted commenter: 14 approved, none rejected in 90 days; held only at 0.80"
TRUSTING = Policy(trusted_after=10)
TRUSTED = CommenterRecord(identity=TRUSTED_KEY, approved=14, decided_recent=6)
# Distinct texts: the same words twice would count as near-duplicates (spam) and be held.
REMARKS = [
    "The timetable in this piece matches what I saw at the station this morning.",
    "Good to see the council publish the full figures for once.",
    "My neighbour drives that road daily and says the new lights help.",
    "Could the paper follow up on how the repairs are funded next year?",
    "The photographs of the harbour at dawn are beautiful.",
    "Interesting interview; the engineer explained the delays clearly.",
    "I remember when the old ferry ran every twenty minutes.",
    "Thank you for including the cycling routes in the map.",
    "The school run will be easier with the reopened lane.",
    "A fair summary of both sides of the debate on the tolls.",
    "Looking forward to the open day at the museum next month.",
    "The weather section has been spot on this week.",
]
_remark = iter(range(10**6))


@pytest.fixture
def token(make_user, api_token) -> str:
    """An operator's API token."""
    return api_token(make_user("olga", "operator"))


# --- The pure decision --------------------------------------------------------------------------


def test_a_trusted_commenter_is_approved_below_the_trusted_threshold():
    decision = decide(Scores(0.62, 0.55), TRUSTING, TRUSTED)
    assert decision.status == APPROVED
    assert decision.reasons[:3] == (
        TRUST_REASON,
        "toxicity 0.62 below trusted commenter's hold threshold 0.80",
        "spam 0.55 below trusted commenter's hold threshold 0.80",
    )
    # The same comment from anyone else waits for a moderator.
    assert decide(Scores(0.62, 0.55), TRUSTING, CommenterRecord(identity="k")).status == HELD


def test_a_trusted_commenter_is_held_at_the_trusted_threshold():
    decision = decide(Scores(0.85, 0.1), TRUSTING, TRUSTED)
    assert decision.status == HELD
    assert decision.reasons[0] == "toxicity 0.85 ≥ trusted commenter's hold threshold 0.80"
    assert TRUST_REASON in decision.reasons
    # Just below it: shown with enough digits never to read as reaching it.
    assert decide(Scores(0.7999, 0.1), TRUSTING, TRUSTED).reasons[1] == (
        "toxicity 0.7999 below trusted commenter's hold threshold 0.80"
    )


@pytest.mark.parametrize(
    ("scores", "policy", "status", "first"),
    [
        (Scores(0.95, 0.1), TRUSTING, REJECTED, "toxicity 0.95 ≥ reject threshold 0.90"),
        (
            Scores(0.1, 0.1, rejects=("banned word “scum” (listed as “scum*”)",)),
            TRUSTING,
            REJECTED,
            "banned word “scum” (listed as “scum*”)",
        ),
        (
            Scores(0.1, 0.1, rejects=("link to a denied domain (spam.example)",)),
            TRUSTING,
            REJECTED,
            "link to a denied domain (spam.example)",
        ),
        (
            Scores(0.1, 0.1, holds=("Akismet failed; held because it is set to fail closed",)),
            TRUSTING,
            HELD,
            "Akismet failed; held because it is set to fail closed",
        ),
        (
            Scores(0.1, 0.1, holds=("suspect word “toll” (listed as “toll”)",)),
            TRUSTING,
            HELD,
            "suspect word “toll” (listed as “toll”)",
        ),
        (
            Scores(0.1, 0.1),
            Policy(trusted_after=10, mode="pre"),
            HELD,
            "the site pre-moderates every comment",
        ),
    ],
)
def test_trust_never_lifts_a_forced_hold_or_a_rejection(scores, policy, status, first):
    decision = decide(scores, policy, TRUSTED)
    assert decision.status == status
    assert decision.reasons[0] == first
    assert TRUST_REASON in decision.reasons


def test_one_rejection_in_the_window_ends_trust_and_says_so():
    record = CommenterRecord(identity="k", approved=14, decided_recent=6, rejected_recent=1)
    decision = decide(Scores(0.62, 0.1), TRUSTING, record)
    assert decision.status == HELD
    assert decision.reasons[0] == "toxicity 0.62 ≥ hold threshold 0.50"
    assert "not trusted: 14 approved, but 1 rejected in the last 90 days" in decision.reasons


def test_trust_needs_enough_published_comments_a_known_commenter_and_the_setting():
    scores = Scores(0.62, 0.1)
    assert decide(scores, TRUSTING, CommenterRecord(identity="k", approved=9)).status == HELD
    assert decide(scores, TRUSTING, CommenterRecord(identity=None, approved=50)).status == HELD
    assert decide(scores, Policy(), TRUSTED).status == HELD  # trusted_after 0: off
    # A trusted threshold below the site's own hold threshold never loosens anything.
    strict = Policy(trusted_after=10, trusted_hold=0.3)
    assert decide(scores, strict, TRUSTED).reasons[0] == "toxicity 0.62 ≥ hold threshold 0.50"


def test_a_bad_recent_record_holds_once_there_are_enough_decisions():
    policy = Policy(rejection_rate_hold=0.5, rejection_rate_min=3)
    record = CommenterRecord(identity="k", approved=1, decided_recent=4, rejected_recent=3)
    decision = decide(Scores(0.1, 0.1), policy, record)
    assert decision.status == HELD
    assert decision.reasons[0] == (
        "held: 3 of this commenter's 4 decisions in 90 days were rejections (≥ 50 %)"
    )
    exactly = CommenterRecord(identity="k", decided_recent=4, rejected_recent=2)
    assert decide(Scores(0.1, 0.1), policy, exactly).status == HELD
    below = CommenterRecord(identity="k", decided_recent=4, rejected_recent=1)
    assert decide(Scores(0.1, 0.1), policy, below).status == APPROVED
    too_few = CommenterRecord(identity="k", decided_recent=2, rejected_recent=2)
    assert decide(Scores(0.1, 0.1), policy, too_few).status == APPROVED
    assert decide(Scores(0.1, 0.1), Policy(), record).status == APPROVED  # 0: off
    odd = Policy(rejection_rate_hold=0.35, record_days=30)
    assert decide(Scores(0.1, 0.1), odd, record).reasons[0] == (
        "held: 3 of this commenter's 4 decisions in 30 days were rejections (≥ 35 %)"
    )


def test_hold_bans_hold_whoever_sent_it_and_the_author_never_reads_the_list():
    record = CommenterRecord(always_hold=("hold #12 on IP 203.0.113.x",))
    decision = decide(Scores(0.1, 0.1), Policy(), record)
    assert decision.status == HELD
    assert decision.reasons[0] == "always held: hold #12 on IP 203.0.113.x"
    # A hold is not a rejection: the strictest verdict still wins.
    assert decide(Scores(0.95, 0.1), Policy(), record).status == REJECTED
    shown = reasons_for_author(decision.reasons)
    assert shown[0] == AWAITS_MODERATOR
    assert not any("hold #" in reason or "always" in reason for reason in shown)
    assert shown[1:] == list(decision.reasons[1:])


def test_a_pre_moderated_article_holds_everything_even_what_would_be_rejected():
    record = CommenterRecord(identity="k", approved=14, article_premoderated=True)
    decision = decide(Scores(0.95, 0.1), TRUSTING, record)
    assert decision.status == HELD
    assert decision.reasons[:2] == (
        "the article is pre-moderated",
        "toxicity 0.95 ≥ reject threshold 0.90",
    )
    assert decide(Scores(0.1, 0.1), Policy(), CommenterRecord()).status == APPROVED


def test_the_new_commenter_hold_reads_the_record():
    policy = Policy(new_commenter_holds=2)
    held = decide(Scores(0.1, 0.1), policy, CommenterRecord(identity="k", approved=1))
    assert held.reasons[0] == "new commenter: 1 published before, the site holds the first 2"
    assert decide(Scores(0.1, 0.1), policy, CommenterRecord(identity=None)).status == APPROVED
    assert decide(Scores(0.1, 0.1), policy, prior_comments=0).status == HELD  # older form


# --- End to end ---------------------------------------------------------------------------------


def past(
    site: str,
    key: str,
    *,
    approved: int = 0,
    rejected: int = 0,
    days_ago: float = 1,
) -> None:
    """Store a commenter's earlier comments, decided `days_ago` days ago."""
    site_id = db.session.scalar(select(Site.id).where(Site.key == site))
    article = db.session.scalar(
        select(Article).where(Article.site_id == site_id, Article.external_id == "earlier")
    )
    if article is None:
        article = Article(site_id=site_id, external_id="earlier")
        db.session.add(article)
        db.session.flush()
    when = utcnow() - timedelta(days=days_ago)
    for status, count in ((CommentStatus.APPROVED, approved), (CommentStatus.REJECTED, rejected)):
        for _ in range(count):
            db.session.add(
                Comment(
                    site_id=site_id,
                    article_id=article.id,
                    status=status,
                    author_name="Earlier",
                    body_html="<p>Earlier words.</p>",
                    body_text="Earlier words.",
                    text_hash="0" * 64,
                    reasons=[],
                    commenter_key=key,
                    delete_token_hash="0" * 64,
                    created_at=when,
                    decided_at=when,
                )
            )
    db.session.commit()


def moderated(client, run_worker, **fields) -> int:
    """Submit a comment (202; a fresh remark unless `body` is given), run the real worker, and
    return its id."""
    fields.setdefault("body", REMARKS[next(_remark) % len(REMARKS)])
    response = send(client, **fields)
    assert response.status_code == 202, response.json
    run_worker()
    return response.json["id"]


# Everyone's comments are held (every score is ≥ 0), except a trusted commenter's.
HOLD_ALL_BUT_TRUSTED = {"toxicity_hold": 0.0, "spam_hold": 0.0, "trusted_after": 3}


def test_a_trusted_commenter_is_published_where_others_are_held(client, site, run_worker):
    set_policy("demo", HOLD_ALL_BUT_TRUSTED)
    past("demo", TRUSTED_KEY, approved=3)
    trusted = moderated(client, run_worker, commenter_key=TRUSTED_KEY)
    stranger = moderated(client, run_worker, commenter_key="new-reader-0001")
    anonymous = moderated(client, run_worker)
    assert status_of(trusted) == "approved"
    assert reasons_of(trusted)[0] == (
        "trusted commenter: 3 approved, none rejected in 90 days; held only at 0.80"
    )
    assert reasons_of(trusted)[1].startswith("toxicity ")
    assert "below trusted commenter's hold threshold 0.80" in reasons_of(trusted)[1]
    assert status_of(stranger) == "held" and status_of(anonymous) == "held"
    assert "≥ hold threshold 0.00" in reasons_of(stranger)[0]
    # Their record grows with each published comment: now 4.
    again = moderated(client, run_worker, commenter_key=TRUSTED_KEY, body="Another fine point.")
    assert reasons_of(again)[0].startswith("trusted commenter: 4 approved")


def test_an_insult_from_a_trusted_commenter_is_held(client, site, run_worker):
    set_policy("demo", {"trusted_after": 3, "trusted_hold": 0.7, "toxicity_reject": 1.0})
    past("demo", TRUSTED_KEY, approved=3)
    insult = moderated(client, run_worker, commenter_key=TRUSTED_KEY, body=INSULT)
    assert status_of(insult) == "held"
    assert "≥ trusted commenter's hold threshold 0.70" in reasons_of(insult)[0]
    assert "trusted commenter: 3 approved, none rejected in 90 days; held only at 0.70" in (
        reasons_of(insult)
    )


def test_trust_still_rejects_banned_words(client, site, run_worker):
    set_policy("demo", {**HOLD_ALL_BUT_TRUSTED, "banned_words": ["bridge*"]})
    past("demo", TRUSTED_KEY, approved=3)
    banned = moderated(client, run_worker, commenter_key=TRUSTED_KEY, body="The bridges are fine")
    assert status_of(banned) == "rejected"
    assert "banned word “bridges” (listed as “bridge*”)" in reasons_of(banned)


@pytest.mark.parametrize(("days_ago", "status"), [(10, "held"), (100, "approved")])
def test_a_rejection_in_the_window_ends_trust_until_it_is_old(
    client, site, run_worker, days_ago, status
):
    set_policy("demo", HOLD_ALL_BUT_TRUSTED)
    past("demo", TRUSTED_KEY, approved=5, days_ago=200)
    past("demo", TRUSTED_KEY, rejected=1, days_ago=days_ago)
    posted = moderated(client, run_worker, commenter_key=TRUSTED_KEY)
    assert status_of(posted) == status
    if status == "held":
        assert "not trusted: 5 approved, but 1 rejected in the last 90 days" in reasons_of(posted)
    else:
        assert reasons_of(posted)[0].startswith("trusted commenter: 5 approved, none rejected")


def test_the_record_window_is_the_sites_own(client, site, run_worker):
    set_policy("demo", {**HOLD_ALL_BUT_TRUSTED, "record_days": 7})
    past("demo", TRUSTED_KEY, approved=3, days_ago=30)
    past("demo", TRUSTED_KEY, rejected=1, days_ago=10)
    posted = moderated(client, run_worker, commenter_key=TRUSTED_KEY)
    assert status_of(posted) == "approved"
    assert reasons_of(posted)[0] == (
        "trusted commenter: 3 approved, none rejected in 7 days; held only at 0.80"
    )


def test_a_record_on_another_site_counts_for_nothing(client, site, run_worker):
    make_site("other")
    set_policy("demo", HOLD_ALL_BUT_TRUSTED)
    past("other", TRUSTED_KEY, approved=10)
    assert status_of(moderated(client, run_worker, commenter_key=TRUSTED_KEY)) == "held"


# target → (what the operator bans, what the submission carries, the reason's words)
HOLD_CASES = {
    "commenter_key": (
        "watched-reader-1",
        {"commenter_key": "watched-reader-1"},
        "on commenter key watched-reader-1",
    ),
    "email": ("Joe@Example.org", {"author_email": "joe@example.org"}, "on email j…@example.org"),
    "ip": ("203.0.113.7", {"ip": "203.0.113.7"}, "on IP 203.0.113.x"),
    "network": ("203.0.113.0/24", {"ip": "203.0.113.99"}, "on network 203.0.113.0/24"),
    "email_domain": (
        "watch.example",
        {"author_email": "anyone@watch.example"},
        "on email domain watch.example",
    ),
}


@pytest.mark.parametrize("target", HOLD_CASES)
def test_a_hold_ban_accepts_the_comment_and_the_worker_holds_it(
    client, site, token, run_worker, target
):
    value, fields, words = HOLD_CASES[target]
    ban = add(client, token, site="demo", target=target, value=value, kind="hold")
    response = send(client, body=REMARKS[0], **fields)
    assert response.status_code == 202, response.json
    stored = db.session.get(Comment, response.json["id"])
    assert stored.shadow is False and stored.status == CommentStatus.PENDING
    run_worker()
    assert status_of(response.json["id"]) == "held"
    assert reasons_of(response.json["id"])[0] == f"always held: hold #{ban['id']} {words}"
    # A bystander is not held.
    assert status_of(moderated(client, run_worker, body="A bystander's view.")) == "approved"


def test_a_hold_ban_holds_a_trusted_commenter_too(client, site, token, run_worker):
    set_policy("demo", {"trusted_after": 3})
    past("demo", TRUSTED_KEY, approved=3)
    ban = add(client, token, site="demo", target="commenter_key", value=TRUSTED_KEY, kind="hold")
    posted = moderated(client, run_worker, commenter_key=TRUSTED_KEY)
    assert status_of(posted) == "held"
    assert reasons_of(posted)[0] == f"always held: hold #{ban['id']} on commenter key {TRUSTED_KEY}"


def test_a_one_click_hold_ban_names_the_comment_it_came_from(client, site, token, run_worker):
    first = moderated(client, run_worker, author_email="joe@example.org", ip="203.0.113.7")
    ban = add(client, token, target="email", comment_id=first, kind="hold")
    second = moderated(client, run_worker, author_email="joe@example.org", body="Again, me.")
    assert reasons_of(second)[0] == f"always held: hold #{ban['id']} on email of comment #{first}"


def test_hold_bans_end_when_lifted_or_expired_and_keep_to_their_scope(
    client, site, token, run_worker
):
    make_site("other")
    key = "watched-reader-2"
    elsewhere = add(client, token, site="other", target="commenter_key", value=key, kind="hold")
    assert status_of(moderated(client, run_worker, commenter_key=key)) == "approved"
    assert status_of(moderated(client, run_worker, commenter_key=key, site="other")) == "held"

    everywhere = add(client, token, all=True, target="commenter_key", value=key, kind="hold")
    held = moderated(client, run_worker, commenter_key=key, body="Held on demo now.")
    assert status_of(held) == "held"
    assert reasons_of(held)[0] == f"always held: hold #{everywhere['id']} on commenter key {key}"

    assert lift(client, token, everywhere["id"]).status_code == 200
    assert status_of(moderated(client, run_worker, commenter_key=key, body="Free.")) == "approved"
    expire(elsewhere["id"])
    other = moderated(client, run_worker, commenter_key=key, site="other", body="Free there.")
    assert status_of(other) == "approved"


def test_several_hold_bans_are_all_named(client, site, token, run_worker):
    by_key = add(
        client, token, site="demo", target="commenter_key", value="watched-3x", kind="hold"
    )
    by_ip = add(client, token, all=True, target="ip", value="203.0.113.7", kind="hold")
    posted = moderated(client, run_worker, commenter_key="watched-3x", ip="203.0.113.7")
    assert reasons_of(posted)[:2] == [
        f"always held: hold #{by_key['id']} on commenter key watched-3x",
        f"always held: hold #{by_ip['id']} on IP 203.0.113.x",
    ]


def test_a_hard_ban_still_refuses_and_a_shadow_ban_still_hides_beside_a_hold_ban(
    client, site, token, run_worker
):
    add(client, token, site="demo", target="ip", value="203.0.113.7", kind="hold")
    add(client, token, site="demo", target="commenter_key", value="shadowed-reader", kind="shadow")
    shadowed = send(client, ip="203.0.113.7", commenter_key="shadowed-reader")
    assert shadowed.status_code == 202
    assert db.session.get(Comment, shadowed.json["id"]).shadow is True
    add(client, token, site="demo", target="commenter_key", value="refused-reader", kind="hard")
    refused = send(client, ip="203.0.113.7", commenter_key="refused-reader")
    assert refused.status_code == 403


def test_the_author_sees_their_comment_awaits_moderation_never_the_watchlist(
    client, site, token, run_worker
):
    ban = add(
        client,
        token,
        site="demo",
        target="commenter_key",
        value="watched-reader-4",
        kind="hold",
        reason="doxxing suspicion",
    )
    response = send(client, commenter_key="watched-reader-4", body=REMARKS[1])
    run_worker()
    own = client.get(
        f"/api/v1/comments/{response.json['id']}",
        headers={"X-Delete-Token": response.json["delete_token"]},
    )
    assert own.status_code == 200
    assert own.json["status"] == "held"
    assert own.json["reasons"][0] == AWAITS_MODERATOR
    text = own.get_data(as_text=True).lower()
    for secret in ("always held", f"hold #{ban['id']}", "ban", "watch", "doxxing", "list"):
        assert secret not in text
    # Moderators read the rule and the ban on the card.
    assert reasons_of(response.json["id"])[0].startswith(f"always held: hold #{ban['id']}")


def test_a_bad_recent_record_holds_from_the_minimum_on(client, site, run_worker):
    set_policy("demo", {"rejection_rate_hold": 0.5, "rejection_rate_min": 3})
    past("demo", "rough-reader-01", approved=1, rejected=1)
    # Two decisions: under the minimum of three, so the rate doesn't count yet.
    assert status_of(moderated(client, run_worker, commenter_key="rough-reader-01")) == "approved"
    past("demo", "rough-reader-01", rejected=1)
    # Four decided now (the one just approved counts), two of them rejections.
    posted = moderated(client, run_worker, commenter_key="rough-reader-01", body="Try again.")
    assert status_of(posted) == "held"
    assert reasons_of(posted)[0] == (
        "held: 2 of this commenter's 4 decisions in 90 days were rejections (≥ 50 %)"
    )


def test_old_rejections_dont_count_towards_the_rate(client, site, run_worker):
    set_policy("demo", {"rejection_rate_hold": 0.5})
    past("demo", "rough-reader-02", rejected=5, days_ago=120)
    past("demo", "rough-reader-02", approved=3, days_ago=5)
    assert status_of(moderated(client, run_worker, commenter_key="rough-reader-02")) == "approved"


def test_pre_moderating_an_article_holds_its_comments_until_switched_off(
    client, site, run_worker, make_user, api_token
):
    bearer = {"Authorization": f"Bearer {api_token(make_user('mia', sites=['demo']))}"}
    url = "/api/v1/moderation/sites/demo/articles/hot-story/premoderation"
    # The article has no comment yet: switching it creates it.
    switched = client.put(url, json={"premoderated": True}, headers=bearer)
    assert switched.status_code == 200, switched.json
    assert switched.json == {
        "site": "demo",
        "article": "hot-story",
        "title": None,
        "url": None,
        "premoderated": True,
        "closed": False,
    }
    held = moderated(client, run_worker, article="hot-story")
    assert status_of(held) == "held"
    assert reasons_of(held)[0] == "the article is pre-moderated"
    assert status_of(moderated(client, run_worker, article="calm-story")) == "approved"
    off = client.put(url, json={"premoderated": False}, headers=bearer)
    assert off.status_code == 200 and off.json["premoderated"] is False
    later = moderated(client, run_worker, article="hot-story", body="Calmer now.")
    assert status_of(later) == "approved"
    assert status_of(held) == "held"  # what was held waits for a moderator


def test_rescoring_reads_the_record_as_it_is_now(app, client, site, token, run_worker):
    ban = add(
        client, token, site="demo", target="commenter_key", value="watched-reader-5", kind="hold"
    )
    posted = moderated(client, run_worker, commenter_key="watched-reader-5")
    assert status_of(posted) == "held"
    assert rescore_comment(posted) == "still held"
    lift(client, token, ban["id"])
    assert rescore_comment(posted) == "approved"

    set_policy("demo", HOLD_ALL_BUT_TRUSTED)
    waiting = moderated(client, run_worker, commenter_key=TRUSTED_KEY)
    assert status_of(waiting) == "held"
    past("demo", TRUSTED_KEY, approved=3)
    result = app.test_cli_runner().invoke(args=["moderation", "rescore", "--site", "demo"])
    assert result.exit_code == 0, result.output
    assert status_of(waiting) == "approved"
    assert reasons_of(waiting)[0].startswith("trusted commenter: 3 approved")


# --- The cost of a batch --------------------------------------------------------------------------


def _pending(client, count: int, start: int) -> list[int]:
    """Submit comments from distinct commenters on two sites and two articles."""
    ids = []
    for n in range(start, start + count):
        response = send(
            client,
            site="demo" if n % 2 else "other",
            article="hot-story" if n % 3 == 0 else "calm-story",
            ip=f"203.0.{n % 250}.7",
            commenter_key=f"batch-reader-{n:04d}",
            author_email=f"reader{n}@example.org",
        )
        assert response.status_code == 202, response.json
        ids.append(response.json["id"])
    return ids


def _statements_for_records(ids: list[int]) -> tuple[int, list]:
    comments = list(db.session.scalars(select(Comment).where(Comment.id.in_(ids))))
    policies = {site.id: site_policy(site) for site in db.session.scalars(select(Site))}
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        records = commenter_records(comments, policies)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements), records


def test_a_batch_costs_the_same_few_queries_for_the_records_whatever_its_size(client, site, token):
    make_site("other")
    set_policy("demo", {"trusted_after": 2, "rejection_rate_hold": 0.5, "new_commenter_holds": 1})
    set_policy("other", {"trusted_after": 1, "record_days": 30})
    for n in range(0, 60, 7):
        past("demo" if n % 2 else "other", f"batch-reader-{n:04d}", approved=2, rejected=n % 3)
    add(client, token, all=True, target="commenter_key", value="batch-reader-0003", kind="hold")
    add(client, token, site="demo", target="email", value="reader5@example.org", kind="hold")
    add(client, token, site="other", target="network", value="203.0.8.0/24", kind="hold")
    for key in ("demo", "other"):
        db.session.add(
            Article(
                site_id=db.session.scalar(select(Site.id).where(Site.key == key)),
                external_id="hot-story",
                premoderated=True,
            )
        )
    db.session.commit()

    small, _ = _statements_for_records(_pending(client, 4, start=0))
    large, records = _statements_for_records(_pending(client, 50, start=4))
    assert small == large <= 3
    by_key = {record.identity: record for record in records}
    assert by_key["batch-reader-0007"].approved == 2
    assert by_key["batch-reader-0007"].rejected_recent == 1
    assert by_key["batch-reader-0005"].always_hold[0].endswith("on email r…@example.org")
    assert by_key["batch-reader-0008"].always_hold[0].endswith("on network 203.0.8.0/24")
    assert by_key["batch-reader-0006"].article_premoderated is True
    assert by_key["batch-reader-0005"].article_premoderated is False


def test_hold_bans_of_other_kinds_and_sites_are_not_matched(client, site, token):
    make_site("other")
    ids = _pending(client, 2, start=1)  # reader 1 on demo, reader 2 on other
    db.session.add_all(
        [
            Ban(
                site_id=None,
                target_type=BanTarget.COMMENTER_KEY,
                target_value="batch-reader-0001",
                target_label="batch-reader-0001",
                kind=BanKind.SHADOW,
                reason="shadow, not hold",
                created_by="test",
            ),
            Ban(
                site_id=db.session.scalar(select(Site.id).where(Site.key == "demo")),
                target_type=BanTarget.COMMENTER_KEY,
                target_value="batch-reader-0002",
                target_label="batch-reader-0002",
                kind=BanKind.HOLD,
                reason="on demo only",
                created_by="test",
            ),
        ]
    )
    db.session.commit()
    _, records = _statements_for_records(ids)
    assert [record.always_hold for record in records] == [(), ()]


def test_a_comment_without_a_key_has_no_record_but_can_be_held_by_address(
    client, site, token, run_worker
):
    set_policy("demo", {"new_commenter_holds": 3, "trusted_after": 1, "rejection_rate_hold": 0.1})
    assert status_of(moderated(client, run_worker, body=POLITE)) == "approved"
    ban = add(client, token, site="demo", target="ip", value="203.0.113.7", kind="hold")
    posted = moderated(client, run_worker, ip="203.0.113.7", body="From a watched address.")
    assert reasons_of(posted) and reasons_of(posted)[0] == (
        f"always held: hold #{ban['id']} on IP 203.0.113.x"
    )
