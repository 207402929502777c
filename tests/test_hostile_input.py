"""Public input that used to answer 500 (issue 14, findings 3-5): integers Python won't read,
booleans where ids belong, the NUL character in any field, a database that is down, and the 409
of a stale decision that the published schema did not allow."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from service.models import Comment, Report

from .helpers import bearer, comments_url, csrf_token_of, make_comment, row_count, submit
from .test_errors_and_openapi import assert_error_shape

MODERATION = "/api/v1/moderation"


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
def operator_token(make_user, api_token):
    return api_token(make_user("olga", role="operator"))


def test_an_integer_of_5000_digits_is_a_400_naming_the_body(client, site):
    body = '{"author_name": "Dana", "body": "Hello there", "parent_id": %s}' % ("9" * 5000)

    response = client.post(comments_url(), data=body, content_type="application/json")

    error = assert_error_shape(response, 400, "bad_request")
    assert error["fields"] == {"json": ["The JSON body holds a number too long to read."]}
    assert row_count(Comment) == 0


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_parent_id_is_a_422(client, site, value):
    response = client.post(
        comments_url(), json={"author_name": "Dana", "body": "Hello there", "parent_id": value}
    )

    assert assert_error_shape(response, 422)["fields"] == {"parent_id": ["Not a valid integer."]}


def test_a_thread_cursor_whose_id_is_true_is_a_422(client, site):
    submit(client)

    response = client.get(comments_url() + "?cursor=" + _cursor(["2024-01-01T00:00:00", True]))

    assert set(assert_error_shape(response, 422)["fields"]) == {"cursor"}


@pytest.mark.parametrize("queue", ["held", "reported", "approved"])
def test_a_queue_cursor_whose_id_is_true_is_a_422(client, site, operator_token, queue):
    make_comment(site, "held")
    for values in ([True], ["x", True], [1.0, True], ["2024-01-01T00:00:00", True]):
        response = client.get(
            f"{MODERATION}/queues/{queue}?cursor={_cursor(values)}", headers=bearer(operator_token)
        )
        assert set(assert_error_shape(response, 422)["fields"]) == {"cursor"}, values


def test_nul_in_a_report_note_is_a_422_and_stores_nothing(client, site):
    comment = make_comment(site, "approved")

    response = client.post(
        f"/api/v1/comments/{comment.id}/reports", json={"reason": "spam", "note": "a\x00b"}
    )

    assert assert_error_shape(response, 422)["fields"] == {
        "note": ["Must not contain the NUL character (\\u0000)."]
    }
    assert row_count(Report) == 0


def test_nul_in_a_moderator_list_is_a_422(client, site, operator_token):
    response = client.put(
        "/api/v1/admin/sites/demo/moderators",
        json={"moderators": ["ok-name", "a\x00b"]},
        headers=bearer(operator_token),
    )

    assert set(assert_error_shape(response, 422)["fields"]) == {"moderators.1"}


@pytest.mark.parametrize(
    ("where", "kwargs"),
    [
        ("author_name", {"json": {"author_name": "Da\x00na", "body": "Hello there"}}),
        ("title", {"json": {"author_name": "Dana", "title": "\x00", "body": "Hello there"}}),
        ("key\x00", {"json": {"author_name": "Dana", "body": "Hello there", "key\x00": 1}}),
    ],
)
def test_nul_anywhere_in_a_submission_is_a_422_naming_the_field(client, site, where, kwargs):
    response = client.post(comments_url(), **kwargs)

    assert set(assert_error_shape(response, 422)["fields"]) == {where}
    assert row_count(Comment) == 0


def test_nul_in_a_query_argument_or_a_console_form_is_a_422(client, site):
    assert set(assert_error_shape(client.get(comments_url() + "?x%00=1"), 422)["fields"]) == {
        "x\x00"
    }
    token = csrf_token_of(client.get("/console/login"))
    response = client.post(
        "/console/login",
        data={"csrf_token": token, "username": "ad\x00min", "password": "whatever"},
    )
    assert set(assert_error_shape(response, 422)["fields"]) == {"username"}


# --- The database down ----------------------------------------------------------------------


@pytest.fixture
def app_without_database(app_factory, database, tmp_path):
    """An app whose database cannot be reached: a closed port, or a file in a missing folder."""
    if database.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/missing/folder/talkback.db"
    else:
        url = "postgresql://postgres@127.0.0.1:9/test?connect_timeout=2"
    return app_factory(
        SQLALCHEMY_DATABASE_URI=url, READ_CACHE_SECONDS=0, TESTING=False, PROPAGATE_EXCEPTIONS=False
    )


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("GET", comments_url(), {}),
        ("POST", comments_url(), {"json": {"author_name": "Dana", "body": "Hello there"}}),
        ("GET", "/api/v1/sites/demo/counts?articles=a1", {}),
        ("POST", "/api/v1/comments/1/reports", {"json": {"reason": "spam"}}),
    ],
)
def test_a_database_that_is_down_answers_503_with_retry_after(
    app_without_database, method, url, kwargs
):
    response = app_without_database.test_client().open(url, method=method, **kwargs)

    error = assert_error_shape(response, 503, "unavailable")
    assert "try again" in error["message"]
    assert response.headers["Retry-After"] == "5"


def test_the_sweeper_keeps_running_while_the_database_is_down(app_without_database, caplog):
    from workers.sweeper import run_sweeper

    rounds = []
    with app_without_database.app_context(), caplog.at_level(logging.WARNING):
        run_sweeper(0.01, should_stop=lambda: rounds.append(1) or len(rounds) > 3)

    assert len(rounds) == 4
    unreachable = [r for r in caplog.records if "database unreachable" in r.getMessage()]
    assert len(unreachable) == 3


def test_the_409_of_a_stale_decision_matches_its_published_schema(client, site, operator_token):
    comment = make_comment(site, "approved")

    response = client.post(
        f"{MODERATION}/comments/{comment.id}/decision",
        json={"action": "reject", "expected_status": "held"},
        headers=bearer(operator_token),
    )

    assert response.status_code == 409
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/moderation/comments/{comment_id}/decision"]["post"]
    reference = operation["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert set(response.json) <= set(schema["properties"])
    assert set(response.json["current"]) <= set(
        spec["components"]["schemas"]["CurrentState"]["properties"]
    )
    assert response.json["current"] == {"status": "approved", "decided_by": "worker"}
