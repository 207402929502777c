"""The moderation job end to end: real worker, real scores, one decision per comment."""

import threading

from service.core.queues import MODERATE_JOB, moderation_queue
from service.extensions import db
from service.models import Comment
from workers.jobs import moderate

from .helpers import audit_trail, comments_url, reasons_of, status_of, submit


def test_polite_comment_is_approved_and_served(client, site, run_worker):
    posted = submit(client)
    run_worker()
    assert status_of(posted["id"]) == "approved"
    assert audit_trail(posted["id"]) == [
        ("author", None, "pending"),
        ("worker", "pending", "approved"),
    ]
    row = db.session.get(Comment, posted["id"])
    # The semantic model's probabilities are never exactly 0; no spam signal fired either.
    assert row.toxicity_score < 0.5 and row.spam_score < 0.5
    assert not any(reason.startswith("spam: ") for reason in row.reasons)
    assert row.decided_at is not None
    assert [c["id"] for c in client.get(comments_url()).json["comments"]] == [posted["id"]]


def test_insult_is_never_served_and_the_author_sees_why(client, site, run_worker):
    posted = submit(client, body="you are a worthless idiot")
    run_worker()
    assert status_of(posted["id"]) in {"held", "rejected"}
    assert client.get(comments_url()).json["comments"] == []
    own = client.get(
        f"/api/v1/comments/{posted['id']}", headers={"X-Delete-Token": posted["delete_token"]}
    ).json
    assert own["status"] in {"held", "rejected"}
    assert any(reason.startswith("toxicity") and "threshold" in reason for reason in own["reasons"])


def test_markup_attack_is_served_as_text(client, site, run_worker):
    posted = submit(client, body="<img src=x onerror=alert(1)>hello")
    run_worker()
    [served] = client.get(comments_url()).json["comments"]
    assert served["id"] == posted["id"]
    assert "hello" in served["body_html"]
    assert "<img" not in served["body_html"] and "onerror" not in served["body_html"]


def test_exact_duplicate_on_the_site_is_held_as_spam(client, site, run_worker):
    text = "The mayor's statement about the bridge tolls was clear and fair today"
    first = submit(client, article="a", body=text)
    second = submit(client, article="b", body=text.upper().replace(" ", "   "))
    run_worker()
    assert status_of(first["id"]) == "approved"
    assert status_of(second["id"]) == "held"
    assert "spam: near-duplicate of 1 comment in the last hour" in reasons_of(second["id"])


def test_link_heavy_shouting_is_held_or_rejected(client, site, run_worker):
    posted = submit(
        client,
        body="BUY NOW!!!!!!! THE BEST DEALS ON WATCHES AT https://rolex-outlet.shop "
        "https://watchdeals.top https://cheapwatch.biz",
    )
    run_worker()
    assert status_of(posted["id"]) in {"held", "rejected"}
    reasons = " ".join(reasons_of(posted["id"]))
    assert "3 links" in reasons and "capital letters" in reasons


def test_a_job_delivered_twice_decides_once(client, site, run_worker):
    posted = submit(client)
    # A second delivery of the same comment, as after a sweeper retry racing the first job.
    moderation_queue().enqueue(MODERATE_JOB, posted["id"])
    run_worker()
    trail = audit_trail(posted["id"])
    assert [entry for entry in trail if entry[0] == "worker"] == [("worker", "pending", "approved")]


def test_concurrent_deliveries_decide_once(app, client, site):
    posted = submit(client)
    results = []

    def deliver():
        with app.app_context():
            results.append(moderate(posted["id"]))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("approved") == 1
    assert all(r == "approved" or r.startswith("skipped") for r in results)
    assert len([entry for entry in audit_trail(posted["id"]) if entry[0] == "worker"]) == 1


def test_job_for_a_missing_comment_is_a_no_op(app):
    assert moderate(123456) == "skipped: not pending"
