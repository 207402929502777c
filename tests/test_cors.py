"""CORS on the public API: granted only to origins the request's site allows; the CLI for them."""

import pytest
from sqlalchemy import event

from service.core.origins import InvalidOriginError, normalize_origin
from service.extensions import db
from service.models import Comment, CommentStatus, Site

from .helpers import comments_url, submit

ORIGIN = "https://news.example"
OTHER = "https://evil.example"
CORS_HEADERS = {
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
}


@pytest.fixture
def embeddable(site) -> Site:
    """The site `demo`, embeddable from ORIGIN."""
    site.allowed_origins = [ORIGIN]
    db.session.commit()
    return site


def cors_headers(response) -> dict:
    return {name: value for name, value in response.headers if name in CORS_HEADERS}


def assert_granted(response, origin: str = ORIGIN) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == origin, dict(response.headers)
    assert "Origin" in response.vary
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, Retry-After"
    assert "Access-Control-Allow-Credentials" not in response.headers


def assert_not_granted(response) -> None:
    assert cors_headers(response) == {}, dict(response.headers)


def publish(comment_id: int) -> None:
    """Mark a comment approved, as the worker would."""
    db.session.get(Comment, comment_id).status = CommentStatus.APPROVED
    db.session.commit()


def origin(value: str = ORIGIN) -> dict:
    return {"Origin": value}


# --- Grants on every public route ---------------------------------------------------------


def test_allowed_origin_gets_the_grant_on_every_public_route(client, embeddable):
    response = client.post(
        comments_url(), json={"author_name": "Dana", "body": "Useful report."}, headers=origin()
    )
    assert response.status_code == 202
    assert_granted(response)
    posted = response.json
    own = f"/api/v1/comments/{posted['id']}"
    token = {"X-Delete-Token": posted["delete_token"], **origin()}

    response = client.get(own, headers=token)
    assert response.status_code == 200
    assert_granted(response)

    publish(posted["id"])
    response = client.get(comments_url(), headers=origin())
    assert response.status_code == 200
    assert response.json["count"] == 1
    assert_granted(response)
    assert response.headers["ETag"]

    response = client.get("/api/v1/sites/demo/counts?articles=a1", headers=origin())
    assert response.json == {"counts": {"a1": 1}}
    assert_granted(response)

    response = client.post(f"{own}/reports", json={"reason": "spam"}, headers=origin())
    assert response.status_code == 202
    assert_granted(response)

    response = client.delete(own, headers=token)
    assert response.status_code == 204
    assert_granted(response)


def test_errors_are_granted_too_so_the_widget_can_read_them(client, embeddable):
    response = client.post(comments_url(), json={"body": "No name"}, headers=origin())
    assert response.status_code == 422
    assert_granted(response)
    posted = submit(client)
    response = client.get(f"/api/v1/comments/{posted['id']}", headers=origin())
    assert response.status_code == 403
    assert_granted(response)
    # A pending comment can't be reported; the 404 still reaches the page.
    response = client.post(
        f"/api/v1/comments/{posted['id']}/reports", json={"reason": "spam"}, headers=origin()
    )
    assert response.status_code == 404
    assert_granted(response)


def test_an_origin_the_site_does_not_list_gets_no_cors_headers(client, embeddable):
    posted = submit(client)
    publish(posted["id"])
    own = f"/api/v1/comments/{posted['id']}"
    for response in (
        client.get(comments_url(), headers=origin(OTHER)),
        client.get("/api/v1/sites/demo/counts?articles=a1", headers=origin(OTHER)),
        client.get(own, headers={"X-Delete-Token": posted["delete_token"], **origin(OTHER)}),
        client.post(f"{own}/reports", json={"reason": "spam"}, headers=origin(OTHER)),
        client.post(
            comments_url(), json={"author_name": "D", "body": "Hi there"}, headers=origin(OTHER)
        ),
    ):
        assert response.status_code < 300
        assert_not_granted(response)


@pytest.mark.parametrize("sent", ["null", "http://news.example", "https://news.example:8443"])
def test_near_misses_and_opaque_origins_are_not_granted(client, embeddable, sent):
    assert_not_granted(client.get(comments_url(), headers=origin(sent)))


def test_a_site_with_no_origins_grants_nobody(client, site):
    assert_not_granted(client.get(comments_url(), headers=origin()))


def test_unknown_site_is_not_granted_and_still_a_404(client, embeddable):
    response = client.get(comments_url(site="nope"), headers=origin())
    assert response.status_code == 404
    assert_not_granted(response)


# --- Comment routes use the comment's site -------------------------------------------------


def test_comment_routes_use_the_comments_site_not_the_callers(client, embeddable):
    db.session.add(Site(key="other", name="Other", allowed_origins=[OTHER]))
    db.session.commit()
    posted = submit(client)  # on `demo`
    publish(posted["id"])
    own = f"/api/v1/comments/{posted['id']}"
    token = {"X-Delete-Token": posted["delete_token"]}

    assert_not_granted(client.get(own, headers={**token, **origin(OTHER)}))
    report = {"reason": "spam"}
    assert_not_granted(client.post(f"{own}/reports", json=report, headers=origin(OTHER)))
    assert_not_granted(client.options(own, headers=preflight(OTHER, "DELETE")))
    assert_granted(client.get(own, headers={**token, **origin()}))
    # `other`'s origin does get its own site's routes.
    assert_granted(client.get(comments_url(site="other"), headers=origin(OTHER)), OTHER)


def test_unknown_comment_is_not_granted(client, embeddable):
    response = client.get("/api/v1/comments/424242", headers=origin())
    assert response.status_code == 404
    assert_not_granted(response)


# --- Preflight ------------------------------------------------------------------------------


def preflight(value: str = ORIGIN, method: str = "POST", headers: str = "content-type") -> dict:
    return {
        "Origin": value,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.mark.parametrize(
    ("url", "method", "headers"),
    [
        (comments_url(), "POST", "content-type"),
        (comments_url(), "GET", ""),
        ("/api/v1/sites/demo/counts", "GET", ""),
        ("COMMENT", "DELETE", "x-delete-token"),
        ("COMMENT", "GET", "x-delete-token"),
        ("COMMENT/reports", "POST", "content-type"),
    ],
)
def test_preflight_from_an_allowed_origin_is_granted(client, embeddable, url, method, headers):
    if url.startswith("COMMENT"):
        url = url.replace("COMMENT", f"/api/v1/comments/{submit(client)['id']}")
    response = client.options(url, headers=preflight(method=method, headers=headers))
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, PUT, PATCH, DELETE"
    assert (
        response.headers["Access-Control-Allow-Headers"]
        == "Content-Type, X-Delete-Token, Authorization"
    )
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.vary


@pytest.mark.parametrize(
    "url",
    [
        comments_url(),
        comments_url(site="nope"),
        "/api/v1/comments/424242",
        "/api/v1/comments/424242/reports",
        "/api/v1/comments/not-a-number",
        "/api/v1/moderation/queues/reported",
        "/api/v1/openapi.json",
    ],
)
def test_preflight_otherwise_is_a_bare_204(client, embeddable, url):
    for sent in (OTHER, ORIGIN) if "nope" in url or "424242" in url or "/v1/m" in url else (OTHER,):
        response = client.options(url, headers=preflight(sent))
        assert response.status_code == 204
        assert_not_granted(response)


def test_plain_options_without_a_preflight_is_left_to_flask(client, embeddable):
    response = client.options(comments_url())
    assert response.status_code == 200
    assert {"GET", "POST"} <= {method.strip() for method in response.headers["Allow"].split(",")}
    assert_not_granted(response)


# --- Normalisation, no Origin, other endpoints ---------------------------------------------


@pytest.mark.parametrize(
    ("stored", "sent"),
    [
        ("https://news.example/", "https://news.example"),
        ("HTTPS://NEWS.Example", "https://news.example"),
        ("https://news.example:443", "https://news.example"),
        ("https://news.example", "https://NEWS.example"),
        ("https://news.example", "https://news.example:443"),
        ("http://localhost:80", "http://localhost"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
    ],
)
def test_origins_are_compared_normalised(client, cli, site, stored, sent):
    assert cli("sites", "origins", "demo", "--add", stored).exit_code == 0
    response = client.get(comments_url(), headers=origin(sent))
    # The grant repeats the Origin header exactly as the browser sent it.
    assert response.headers.get("Access-Control-Allow-Origin") == sent


def test_requests_without_origin_are_unchanged(client, embeddable):
    response = client.get(comments_url())
    assert response.status_code == 200
    assert_not_granted(response)
    with_origin = client.get(comments_url(), headers=origin())
    assert with_origin.json == response.json
    assert with_origin.headers["ETag"] == response.headers["ETag"]
    # Caches must still keep answers for different origins apart.
    assert "Origin" in response.vary


@pytest.mark.parametrize(
    "url", ["/healthz", "/api/v1/openapi.json", "/api/v1/moderation/queues/reported"]
)
def test_health_openapi_and_moderation_get_no_grant(app_factory, migrated, url):
    app = app_factory()
    with app.app_context():
        db.session.add(Site(key="demo", name="Demo", allowed_origins=[ORIGIN]))
        db.session.commit()
        response = app.test_client().get(
            url, headers={"Authorization": "Bearer secret-token", **origin()}
        )
        # The moderation API refuses the unknown token (401), and still grants nothing.
        assert response.status_code in (200, 401, 503), response.data
        assert_not_granted(response)
        db.session.query(Site).delete()
        db.session.commit()


def test_the_check_costs_at_most_one_query(client, embeddable):
    statements = []

    def count(*args):
        statements.append(args[2])

    # The page itself is read (and cached) first: what is measured is the check alone.
    client.get(comments_url())
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get(comments_url(), headers=origin(OTHER))
        without = len(statements)
        statements.clear()
        client.get(comments_url())
        baseline = len(statements)
        statements.clear()
        client.get(comments_url(), headers=origin())
        granted = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert without <= baseline + 1
    assert granted <= baseline + 1


def test_an_operators_change_applies_to_the_next_request(client, cli, embeddable):
    assert_granted(client.get(comments_url(), headers=origin()))
    assert cli("sites", "origins", "demo", "--remove", ORIGIN).exit_code == 0
    assert_not_granted(client.get(comments_url(), headers=origin()))


# --- normalize_origin and the CLI -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.ynet.co.il", "https://www.ynet.co.il"),
        (" HTTPS://WWW.Ynet.co.il:443/ ", "https://www.ynet.co.il"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://example.com:443", "http://example.com:443"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://bücher.de", "https://xn--bcher-kva.de"),
    ],
)
def test_normalize_origin(value, expected):
    assert normalize_origin(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "ftp://example.com",
        "example.com",
        "https://",
        "https://example.com/path",
        "https://example.com/?q=1",
        "https://example.com#top",
        "https://user@example.com",
        "https://example.com:99999",
        "https://exa mple.com",
        "null",
        "*",
    ],
)
def test_invalid_origins_are_refused(value):
    with pytest.raises(InvalidOriginError):
        normalize_origin(value)


def repeated(option: str, *values: str) -> list[str]:
    """Return an option given once per value: --origin a --origin b."""
    return [part for value in values for part in (option, value)]


def origins_of(key: str) -> list[str]:
    return db.session.scalar(db.select(Site.allowed_origins).where(Site.key == key))


def test_sites_create_with_origins_stores_them_normalised(cli):
    result = cli(
        "sites",
        "create",
        "news",
        *repeated(
            "--origin", "https://News.example/", "http://localhost:8000", "https://news.example:443"
        ),
    )
    assert result.exit_code == 0, result.output
    assert origins_of("news") == ["https://news.example", "http://localhost:8000"]


def test_sites_create_without_origins_says_none_are_allowed(cli):
    result = cli("sites", "create", "news")
    assert result.exit_code == 0
    assert "No origins allowed yet" in result.output
    assert origins_of("news") == []


def test_sites_create_refuses_an_invalid_origin_and_creates_nothing(cli):
    result = cli("sites", "create", "news", "--origin", "https://news.example/path")
    assert result.exit_code != 0
    assert "--origin" in result.output
    assert "without a path" in result.output
    assert db.session.scalar(db.select(Site).where(Site.key == "news")) is None


def test_exist_ok_adds_missing_origins_to_an_existing_site(cli):
    cli("sites", "create", "news", "--name", "News", "--origin", "https://a.example")
    result = cli(
        "sites",
        "create",
        "news",
        *repeated("--origin", "https://a.example", "https://b.example"),
        "--exist-ok",
    )
    assert result.exit_code == 0, result.output
    assert "already exists" in result.output
    assert "https://b.example" in result.output
    assert origins_of("news") == ["https://a.example", "https://b.example"]
    # Running it again changes nothing.
    again = cli("sites", "create", "news", "--origin", "https://b.example", "--exist-ok")
    assert again.exit_code == 0
    assert origins_of("news") == ["https://a.example", "https://b.example"]


def test_sites_origins_adds_removes_and_prints_the_list(cli):
    cli("sites", "create", "news", "--origin", "https://a.example")
    result = cli(
        "sites",
        "origins",
        "news",
        *repeated("--add", "https://b.example/", "http://localhost:8000"),
        *repeated("--remove", "HTTPS://A.EXAMPLE"),
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["https://b.example", "http://localhost:8000"]
    assert origins_of("news") == ["https://b.example", "http://localhost:8000"]
    shown = cli("sites", "origins", "news")
    assert shown.output.splitlines() == ["https://b.example", "http://localhost:8000"]
    emptied = cli(
        "sites",
        "origins",
        "news",
        *repeated("--remove", "https://b.example", "http://localhost:8000"),
    )
    assert "allows no origins" in emptied.output
    assert origins_of("news") == []


def test_sites_origins_errors_are_clear(cli):
    missing = cli("sites", "origins", "nope", "--add", "https://a.example")
    assert missing.exit_code != 0
    assert "There is no site 'nope'." in missing.output
    cli("sites", "create", "news")
    bad = cli("sites", "origins", "news", "--add", "mailto:x@example.com")
    assert bad.exit_code != 0
    assert "--add" in bad.output
    assert "http:// or https://" in bad.output


def test_sites_list_shows_origins(cli):
    cli(
        "sites",
        "create",
        "news",
        "--name",
        "News",
        *repeated("--origin", "https://a.example", "https://b.example"),
    )
    cli("sites", "create", "arts", "--name", "Arts")
    assert cli("sites", "list").output.splitlines() == [
        "arts\tArts",
        "news\tNews\thttps://a.example https://b.example",
    ]
