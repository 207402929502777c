"""Rate limits on submit, report, delete and the console login, counted in a real Redis."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from redis import Redis

from service.core.hashing import hash_ip
from service.extensions import db
from service.models import Comment, CommentStatus, Site

from .helpers import (
    DEFAULT_PASSWORD,
    POLITE,
    comments_url,
    csrf_token_of,
    free_port,
    row_count,
    submit,
    wait_until_healthy,
)

IP_A, IP_B, IP_C, IP_D = "198.51.100.7", "198.51.100.8", "203.0.113.9", "2001:db8::5"
ORIGIN = "https://news.example"


@pytest.fixture
def limited(app_factory, migrated, site):
    """A client of an app with low limits: 3 submissions, 2 reports, 2 deletes a minute."""
    app = app_factory(
        RATE_LIMIT_SUBMIT="3/minute",
        RATE_LIMIT_REPORT="2/minute",
        RATE_LIMIT_DELETE="2/minute",
        RATE_LIMIT_LOGIN="2/minute",
    )
    return app.test_client()


def post(client, ip: str = IP_A, site: str = "demo", headers=None, **fields):
    """Submit a comment from an IP address; return the response."""
    payload = {"author_name": "Dana", "body": POLITE, **fields}
    return client.post(
        comments_url("a1", site), json=payload, headers=headers, environ_base={"REMOTE_ADDR": ip}
    )


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def published(client) -> int:
    """Submit a comment (under the suite's high limits) and publish it; return its id."""
    comment_id = submit(client)["id"]
    db.session.get(Comment, comment_id).status = CommentStatus.APPROVED
    db.session.commit()
    return comment_id


def report(client, comment_id: int, ip: str = IP_A, **payload):
    return client.post(
        f"/api/v1/comments/{comment_id}/reports",
        json={"reason": "spam", **payload},
        environ_base={"REMOTE_ADDR": ip},
    )


# --- Submit --------------------------------------------------------------------------------


def test_each_ip_address_has_its_own_budget(limited):
    first = [post(limited, IP_A) for _ in range(4)]
    assert statuses(first) == [202, 202, 202, 429]
    assert post(limited, IP_B).status_code == 202
    assert post(limited, IP_D).status_code == 202  # IPv6 too
    assert post(limited, IP_A).status_code == 429
    assert row_count(Comment) == 5


def test_a_breach_answers_429_with_retry_after_and_a_readable_message(limited, site):
    site.allowed_origins = [ORIGIN]
    db.session.commit()
    for _ in range(3):
        assert post(limited).status_code == 202
    refused = post(limited, headers={"Origin": ORIGIN})
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert refused.json == {
        "error": {
            "code": "rate_limited",
            "message": f"You're posting too fast. Please wait {seconds} seconds and try again.",
            "fields": {},
        }
    }
    # The widget runs on the news site's pages: it must be able to read Retry-After.
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert row_count(Comment) == 3  # the refused one left no trace


def test_redis_counts_hashes_never_addresses(limited, redis_url):
    post(limited, IP_A, commenter_key="reader-key-1")
    keys = [key.decode() for key in Redis.from_url(redis_url).scan_iter("talkback:ratelimit:*")]
    assert keys, "the limiter wrote nothing to Redis"
    assert not any(IP_A in key for key in keys)
    assert any(hash_ip(IP_A) in key for key in keys)
    assert any("reader-key-1" in key for key in keys)


def test_commenter_keys_share_their_ip_budget_and_have_their_own(limited):
    # Same address, different keys: the address's budget still runs out.
    same_ip = [post(limited, IP_A, commenter_key=f"reader-key-{n}") for n in range(4)]
    assert statuses(same_ip) == [202, 202, 202, 429]
    # Same key, different addresses: the key's budget runs out across them.
    same_key = [post(limited, ip, commenter_key="roaming-key") for ip in (IP_B, IP_C, IP_D)]
    assert statuses(same_key) == [202, 202, 202]
    assert post(limited, "192.0.2.44", commenter_key="roaming-key").status_code == 429
    assert post(limited, "192.0.2.44", commenter_key="another-key").status_code == 202
    assert post(limited, "192.0.2.44").status_code == 202  # no key: the address alone counts


def test_sites_have_their_own_budgets_and_overrides(limited, site):
    db.session.add(Site(key="other", name="Other", rate_limits={"submit": "1/minute"}))
    db.session.add(Site(key="broken", name="Broken", rate_limits={"submit": "lots"}))
    db.session.commit()
    assert statuses([post(limited, site="other") for _ in range(2)]) == [202, 429]
    # The other site's breach takes nothing from demo's default budget of 3.
    assert statuses([post(limited, site="demo") for _ in range(4)]) == [202, 202, 202, 429]
    # An override that is not a limit falls back to the default.
    assert statuses([post(limited, site="broken") for _ in range(4)]) == [202, 202, 202, 429]


def test_every_attempt_counts_even_invalid_ones(limited):
    invalid = [post(limited, body="") for _ in range(3)]
    assert statuses(invalid) == [422, 422, 422]
    assert post(limited).status_code == 429
    # Unknown sites answer 404 but count too, so nobody probes for free.
    unknown = [post(limited, IP_B, site="nope") for _ in range(4)]
    assert statuses(unknown) == [404, 404, 404, 429]


def test_reading_is_never_limited(limited):
    for _ in range(4):
        post(limited)
    for _ in range(5):
        assert limited.get(comments_url()).status_code == 200


def test_invalid_default_limits_stop_the_app_from_starting(app_factory, migrated):
    with pytest.raises(ValueError, match="RATE_LIMIT_SUBMIT = 'plenty'"):
        app_factory(RATE_LIMIT_SUBMIT="plenty")


# --- Report and delete ---------------------------------------------------------------------


def test_reports_are_limited_per_ip_and_per_key(limited, client):
    ids = [published(client) for _ in range(5)]
    assert statuses([report(limited, ids[n], IP_A) for n in range(3)]) == [202, 202, 429]
    refused = report(limited, ids[3], IP_A)
    seconds = refused.headers["Retry-After"]
    assert refused.json["error"]["code"] == "rate_limited"
    assert refused.json["error"]["message"] == (
        f"You're sending reports too fast. Please wait {seconds} seconds and try again."
    )
    assert report(limited, ids[3], IP_B).status_code == 202
    keyed = [
        report(limited, ids[n], ip, commenter_key="reporter-key")
        for n, ip in enumerate((IP_C, IP_D, "192.0.2.50"))
    ]
    assert statuses(keyed) == [202, 202, 429]


def test_reports_on_different_sites_have_separate_budgets(limited, client, site):
    db.session.add(Site(key="other", name="Other"))
    db.session.commit()
    ours = [published(client) for _ in range(3)]
    theirs_id = submit(client, site="other")["id"]
    db.session.get(Comment, theirs_id).status = CommentStatus.APPROVED
    db.session.commit()
    assert statuses([report(limited, comment_id) for comment_id in ours]) == [202, 202, 429]
    assert report(limited, theirs_id).status_code == 202


def test_deletes_are_limited_per_ip(limited, client):
    made = [submit(client) for _ in range(4)]

    def delete(comment, ip=IP_A):
        return limited.delete(
            f"/api/v1/comments/{comment['id']}",
            headers={"X-Delete-Token": comment["delete_token"]},
            environ_base={"REMOTE_ADDR": ip},
        )

    assert statuses([delete(comment) for comment in made[:3]]) == [204, 204, 429]
    refused = delete(made[2])
    assert refused.json["error"]["message"].startswith("You're deleting comments too fast.")
    assert int(refused.headers["Retry-After"]) >= 1
    assert delete(made[2], IP_B).status_code == 204
    # Reading one's own comment is not a delete: never limited.
    for _ in range(3):
        response = limited.get(
            f"/api/v1/comments/{made[3]['id']}",
            headers={"X-Delete-Token": made[3]["delete_token"]},
            environ_base={"REMOTE_ADDR": IP_A},
        )
        assert response.status_code == 200


# --- Redis outage --------------------------------------------------------------------------


def test_a_redis_outage_keeps_limits_counted_in_the_process_and_logs_once(
    app_factory, migrated, site, caplog
):
    # Nothing listens on port 1: every count fails at once, as when Redis is down.
    app = app_factory(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATE_LIMIT_SUBMIT="1/minute")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="service.web.ratelimit"):
        answers = [post(client) for _ in range(3)]
        other_reader = post(client, ip=IP_B)
    assert statuses(answers) == [202, 429, 429]
    assert answers[1].json["error"]["code"] == "rate_limited"
    assert other_reader.status_code == 202
    assert client.get(comments_url()).status_code == 200
    warnings = [
        record
        for record in caplog.records
        if record.name == "service.web.ratelimit" and record.levelno == logging.WARNING
    ]
    # Redis is tried again only after a few seconds: one warning, not one per request.
    assert len(warnings) == 1
    assert "counted in this process only" in warnings[0].getMessage()
    assert row_count(Comment) == 2


# --- Console login -------------------------------------------------------------------------


def test_logins_are_limited_per_ip_across_accounts(limited, make_user):
    make_user("alice")
    token = csrf_token_of(limited.get("/console/login"))

    def log_in(username, password="wrong password", ip=IP_A):
        data = {"csrf_token": token, "username": username, "password": password}
        return limited.post("/console/login", data=data, environ_base={"REMOTE_ADDR": ip})

    assert statuses([log_in("bob"), log_in("carol")]) == [200, 200]
    refused = log_in("alice", DEFAULT_PASSWORD)
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    seconds = int(refused.headers["Retry-After"])
    page = refused.get_data(as_text=True)
    assert f"Too many login attempts from your network. Please wait {seconds} seconds" in page
    assert 'value="alice"' in page  # the form is there again, with the username kept
    assert refused.headers["Content-Security-Policy"]
    # Another address logs in; showing the form is never limited.
    assert log_in("alice", DEFAULT_PASSWORD, ip=IP_B).status_code == 302
    assert limited.get("/console/login", environ_base={"REMOTE_ADDR": IP_A}).status_code in (
        200,
        302,
    )


# --- Two API processes sharing Redis -------------------------------------------------------


@pytest.fixture
def api_processes(database, redis_url, site, tmp_path):
    """Two `flask run` processes on the test database and Redis, with a limit of 3 a minute."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TALKBACK_") and key not in ("FLASK_APP", "FLASK_DEBUG")
    }
    env.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        TALKBACK_INSTANCE_DIR=str(tmp_path),
        TALKBACK_RATE_LIMIT_SUBMIT="3/minute",
    )
    flask = [sys.executable, "-m", "flask", "--app", "service", "run", "--host", "127.0.0.1"]
    processes, logs, urls = [], [], []
    try:
        for n in range(2):
            port = free_port()
            log = tmp_path / f"api-{n}.log"
            with log.open("wb") as output:
                processes.append(
                    subprocess.Popen(
                        [*flask, "--port", str(port), "--no-reload"],
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        cwd=Path(__file__).resolve().parent.parent,
                    )
                )
            logs.append(log)
            urls.append(f"http://127.0.0.1:{port}")
        for process, url, log in zip(processes, urls, logs, strict=True):
            wait_until_healthy(f"{url}/healthz", process, log)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _http_post(url: str, payload: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error), dict(error.headers)


def test_two_api_processes_share_one_budget(api_processes):
    payload = {"author_name": "Dana", "body": POLITE}
    answers = [_http_post(f"{api_processes[n % 2]}{comments_url()}", payload) for n in range(8)]
    # Alternating between the processes: 3 accepted in all, then both refuse.
    assert [status for status, _, _ in answers] == [202, 202, 202, 429, 429, 429, 429, 429]
    for _, body, headers in answers[3:]:
        assert body["error"]["code"] == "rate_limited"
        assert re.fullmatch(r"\d+", headers["Retry-After"])
    db.session.remove()
    assert row_count(Comment) == 3


def test_odd_site_keys_answer_404_not_500(limited):
    for site_key in ("de%00mo", "x" * 65):
        response = limited.post(
            f"/api/v1/sites/{site_key}/articles/a1/comments",
            json={"author_name": "Dana", "body": POLITE},
        )
        assert response.status_code == 404, response.json
