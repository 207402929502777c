"""The OpenAPI document, the one JSON error shape for 404/405/500, and odd inputs never 500."""

import base64
import json

import pytest

from service.models import Comment
from service.widget.demo import DEMO_ARTICLE

from .helpers import POLITE, comments_url, row_count, submit

COMMENTS_PATH = "/api/v1/sites/{site}/articles/{article}/comments"
COMMENT_PATH = "/api/v1/comments/{comment_id}"
COUNTS_PATH = "/api/v1/sites/{site}/counts"


def assert_error_shape(response, status: int | None = None, code: str | None = None) -> dict:
    """Check a response is a JSON error in the shape; return its "error" object."""
    if status is not None:
        assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/json", response.data[:500]
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    for field, messages in error["fields"].items():
        assert isinstance(field, str)
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages), error
    if code is not None:
        assert error["code"] == code, error
    return error


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def resolve(document: dict, node: dict) -> dict:
    """Follow a local $ref (possibly several) to the object it names."""
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node
        target = document
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def test_openapi_document_is_version_3(openapi):
    assert openapi["openapi"].startswith("3.")
    assert openapi["info"]["title"] == "Talkback"
    assert openapi["info"]["version"] == "v1"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        (COMMENTS_PATH, {"get", "post"}),
        (COMMENT_PATH, {"get", "patch", "delete"}),
        (COUNTS_PATH, {"get"}),
        ("/healthz", {"get"}),
    ],
)
def test_openapi_documents_every_public_path_and_method(openapi, path, methods):
    assert path in openapi["paths"], sorted(openapi["paths"])
    documented = set(openapi["paths"][path]) & {"get", "post", "put", "patch", "delete"}
    assert documented == methods


def test_openapi_error_schema_is_the_error_shape(openapi):
    schemas = openapi["components"]["schemas"]
    error = schemas["Error"]
    assert set(error["properties"]) == {"error"}
    detail = resolve(openapi, error["properties"]["error"])
    assert set(detail["properties"]) == {"code", "message", "fields"}
    assert detail["properties"]["code"]["type"] == "string"
    assert detail["properties"]["message"]["type"] == "string"
    fields = detail["properties"]["fields"]
    assert fields["type"] == "object"
    assert fields["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    # The default and validation error responses point at it.
    responses = openapi["components"]["responses"]
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        schema = responses[name]["content"]["application/json"]["schema"]
        assert resolve(openapi, schema) is error


def _operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_every_operation_defaults_to_the_error_shape(openapi):
    error = openapi["components"]["schemas"]["Error"]
    for path, method, operation in _operations(openapi):
        default = resolve(openapi, operation["responses"]["default"])
        assert resolve(openapi, default["content"]["application/json"]["schema"]) is error, (
            path,
            method,
        )


def test_every_documented_4xx_response_has_the_error_shape(openapi):
    error = openapi["components"]["schemas"]["Error"]
    undocumented = []
    for path, method, operation in _operations(openapi):
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            schema = resolve(openapi, response).get("content", {}).get("application/json", {})
            schema = resolve(openapi, schema.get("schema", {}))
            # The error shape itself, or (a stale decision's 409) the same `error` and more.
            if (
                schema is not error
                and schema.get("properties", {}).get("error") != (error["properties"]["error"])
            ):
                undocumented.append(f"{method.upper()} {path} {status}")
    assert undocumented == []


def test_the_stale_decision_409_documents_its_current_state(openapi):
    operation = openapi["paths"]["/api/v1/moderation/comments/{comment_id}/decision"]["post"]
    response = resolve(openapi, operation["responses"]["409"])
    schema = resolve(openapi, response["content"]["application/json"]["schema"])
    assert set(schema["properties"]) == {"error", "current"}
    assert set(schema["required"]) == {"current"}


def test_submit_request_body_requires_name_and_body_and_forbids_unknown_fields(openapi):
    post = openapi["paths"][COMMENTS_PATH]["post"]
    assert post["requestBody"]["required"] is True
    schema = resolve(openapi, post["requestBody"]["content"]["application/json"]["schema"])
    assert schema["type"] == "object"
    # author_name is required of anonymous readers only (a signed-in reader's comes from the
    # session), so the service checks it, not the schema (test_sso.py).
    assert sorted(schema["required"]) == ["body"]
    assert schema["additionalProperties"] is False
    assert {"author_name", "body", "author_email", "title", "parent_id"} <= set(
        schema["properties"]
    )
    assert schema["properties"]["body"]["maxLength"] == 5000
    assert schema["properties"]["author_name"]["maxLength"] == 60


def test_undocumented_field_is_rejected_as_the_document_says(client, site):
    response = client.post(
        comments_url(), json={"author_name": "Dana", "body": POLITE, "extra": "x"}
    )
    error = assert_error_shape(response, 422, "validation_error")
    assert "extra" in error["fields"]
    assert row_count(Comment) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/nope",
        "/api/v1/nope",
        "/api/v1/sites/demo",
        "/api/v1/sites/demo/articles/a1",
        "/api/v1/comments/abc",
        "/api/v1/comments/-1",
        "/api/v2/sites/demo/counts?articles=a1",
    ],
)
def test_unknown_url_is_a_404_in_the_error_shape(client, site, url):
    error = assert_error_shape(client.get(url), 404, "not_found")
    assert error["message"] == "There is nothing at this address."


WRONG_METHODS = [
    ("PUT", comments_url(), {"GET", "POST"}),
    ("PATCH", comments_url(), {"GET", "POST"}),
    ("DELETE", comments_url(), {"GET", "POST"}),
    ("DELETE", "/api/v1/sites/demo/counts", {"GET"}),
    ("POST", "/api/v1/sites/demo/counts", {"GET"}),
    ("POST", "/api/v1/comments/1", {"GET", "DELETE"}),
    ("PUT", "/api/v1/comments/1", {"GET", "DELETE"}),
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/demo", {"GET"}),  # the demo page only reads; the widget posts to the API
]


@pytest.mark.parametrize(("method", "url", "allowed"), WRONG_METHODS)
def test_wrong_method_is_a_405_in_the_error_shape(client, site, method, url, allowed):
    error = assert_error_shape(client.open(url, method=method), 405, "method_not_allowed")
    assert error["message"] == "This address does not accept that method."


@pytest.mark.parametrize(("method", "url", "allowed"), WRONG_METHODS)
def test_405_says_which_methods_are_allowed(client, site, method, url, allowed):
    # RFC 9110 section 15.5.6: a 405 response MUST carry an Allow header.
    response = client.open(url, method=method)
    assert response.status_code == 405
    assert "Allow" in response.headers, dict(response.headers)
    assert allowed <= {part.strip() for part in response.headers["Allow"].split(",")}


SECRET = "db password is hunter2 at /srv/talkback/service/secret.py line 42"


def test_unexpected_error_is_a_500_in_the_error_shape_without_the_exception(app_factory, migrated):
    app = app_factory(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError(SECRET)

    response = app.test_client().get("/test-only/boom")
    error = assert_error_shape(response, 500, "internal_server_error")
    text = response.get_data(as_text=True)
    for leak in ("hunter2", "RuntimeError", "Traceback", "secret.py", "boom"):
        assert leak not in text
    assert error["fields"] == {}
    assert "try again" in error["message"]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


HUGE = "99999999999999999999"
MEGABYTE = 1024 * 1024
TOKEN = {"X-Delete-Token": "x" * 64}
JSON = "application/json"
DEMO_COUNTS = "/api/v1/sites/demo/counts"


def odd(name: str, method: str, url: str, **kwargs):
    """One odd request: the test client's open() arguments, with a readable test id."""
    return pytest.param(method, url, kwargs, id=name)


def _submit_json(**fields) -> dict:
    return {"json": {"author_name": "Dana", "body": POLITE, **fields}}


ODD_REQUESTS = [
    # Comment ids beyond the integer columns (PostgreSQL INTEGER, SQLite's 64 bits).
    odd("comment-id-20-digits", "GET", f"/api/v1/comments/{HUGE}"),
    odd("comment-id-20-digits-token", "GET", f"/api/v1/comments/{HUGE}", headers=TOKEN),
    odd("delete-comment-id-20-digits", "DELETE", f"/api/v1/comments/{HUGE}", headers=TOKEN),
    odd("comment-id-2**63", "GET", "/api/v1/comments/9223372036854775808", headers=TOKEN),
    odd("comment-id-2**31", "GET", "/api/v1/comments/2147483648", headers=TOKEN),
    odd("comment-id-2**31-1", "GET", "/api/v1/comments/2147483647", headers=TOKEN),
    odd("comment-id-0", "GET", "/api/v1/comments/0", headers=TOKEN),
    odd("token-10k", "GET", "/api/v1/comments/1", headers={"X-Delete-Token": "x" * 10_000}),
    odd("token-latin1", "GET", "/api/v1/comments/1", headers={"X-Delete-Token": "é\u00ff"}),
    # Unicode, NUL and other odd site keys and article ids.
    odd("article-unicode", "GET", comments_url("שלום-✓-日本-🙂")),
    odd("post-article-unicode", "POST", comments_url("שלום-✓-日本-🙂"), **_submit_json()),
    odd("article-nul", "GET", comments_url("a%00b")),
    odd("post-article-nul", "POST", comments_url("a%00b"), **_submit_json()),
    odd("article-space", "GET", comments_url("%20")),
    odd("article-encoded-slash", "GET", comments_url("a%2Fb")),
    odd("article-invalid-utf8", "GET", comments_url("%ff%fe")),
    odd("article-5000-chars", "GET", comments_url("a" * 5000)),
    odd("site-nul", "GET", comments_url(site="de%00mo")),
    odd("site-emoji-counts", "GET", "/api/v1/sites/%F0%9F%99%82/counts?articles=a1"),
    # Repeated and odd query strings.
    odd("query-repeated", "GET", comments_url() + "?sort=newest&sort=oldest&limit=1&limit=500"),
    odd("limit-20-digits", "GET", comments_url() + f"?limit={HUGE}"),
    odd("limit-negative", "GET", comments_url() + "?limit=-1"),
    odd("limit-float", "GET", comments_url() + "?limit=1e3"),
    odd("cursor-nul", "GET", comments_url() + "?cursor=%00"),
    odd("cursor-5000-chars", "GET", comments_url() + "?cursor=" + "A" * 5000),
    odd(
        "cursor-id-infinity", "GET", comments_url() + "?cursor=" + _cursor('["2024-01-01", 1e999]')
    ),
    odd(
        "cursor-id-20-digits",
        "GET",
        comments_url() + "?cursor=" + _cursor(f'["2024-01-01", {HUGE}]'),
    ),
    odd(
        "cursor-year-9999",
        "GET",
        comments_url() + "?cursor=" + _cursor('["9999-12-31T23:59:59+14:00", 1]'),
    ),
    odd("cursor-object", "GET", comments_url() + "?cursor=" + _cursor('{"a": 1, "b": 2}')),
    odd("cursor-nested", "GET", comments_url() + "?cursor=" + _cursor("[" * 100)),
    odd("counts-repeated", "GET", DEMO_COUNTS + "?articles=a1&articles=a2"),
    odd("counts-10k-ids", "GET", DEMO_COUNTS + "?articles=" + ",".join(["a"] * 10_000)),
    odd("counts-only-commas", "GET", DEMO_COUNTS + "?articles=,,,"),
    odd("counts-nul-and-unicode", "GET", DEMO_COUNTS + "?articles=a%00b,שלום"),
    odd("counts-5000-char-id", "GET", DEMO_COUNTS + "?articles=" + "a" * 5000),
    odd("healthz-query", "GET", "/healthz?x=1&x=2"),
    odd("openapi-query-nul", "GET", "/api/v1/openapi.json?x=%00"),
    # Odd bodies.
    odd("body-1mb", "POST", comments_url(), **_submit_json(body="x" * MEGABYTE)),
    odd("unknown-field-1mb", "POST", comments_url(), **_submit_json(pad="x" * MEGABYTE)),
    odd("parent-id-10**20", "POST", comments_url(), **_submit_json(parent_id=10**20)),
    odd("parent-id-2**63", "POST", comments_url(), **_submit_json(parent_id=2**63)),
    odd("parent-id-2**31", "POST", comments_url(), **_submit_json(parent_id=2**31)),
    odd("body-nul", "POST", comments_url(), **_submit_json(body="a\u0000b")),
    odd("name-nul", "POST", comments_url(), **_submit_json(author_name="Da\u0000na")),
    odd("json-nested-arrays", "POST", comments_url(), data="[" * 100_000, content_type=JSON),
    odd("json-nested-objects", "POST", comments_url(), data='{"a": ' * 5000, content_type=JSON),
    odd("json-1mb-garbage", "POST", comments_url(), data="x" * MEGABYTE, content_type=JSON),
    odd(
        "json-utf16",
        "POST",
        comments_url(),
        data=json.dumps({"author_name": "D", "body": "b"}).encode("utf-16"),
        content_type=JSON,
    ),
    odd("text-plain", "POST", comments_url(), data="{}", content_type="text/plain"),
    odd("no-body", "POST", comments_url()),
    # The demo page goes through the same service.
    odd("demo-cursor-id-infinity", "GET", "/demo?cursor=" + _cursor('["2024-01-01", 1e999]')),
    odd("demo-cursor-nested-3000", "GET", "/demo?cursor=" + _cursor("[" * 3000)),
    odd("demo-cursor-id-20-digits", "GET", "/demo?cursor=" + _cursor(f'["2024-01-01", {HUGE}]')),
    odd("demo-query-repeated", "GET", "/demo?sort=oldest&sort=newest&cursor=%00"),
    odd("demo-body-1mb", "POST", "/demo", data={"author_name": "Dana", "body": "x" * MEGABYTE}),
    odd("demo-name-nul", "POST", "/demo", data={"author_name": "Da\u0000na", "body": POLITE}),
    odd("demo-body-nul", "POST", "/demo", data={"author_name": "Dana", "body": "a\u0000b"}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), ODD_REQUESTS)
def test_odd_input_never_causes_a_500_and_errors_keep_the_shape(client, site, method, url, kwargs):
    # Articles with a comment, so reads get as far as the database queries (cursor, counts).
    submit(client, article="a1")
    submit(client, article=DEMO_ARTICLE)
    response = client.open(url, method=method, **kwargs)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert_error_shape(response)
