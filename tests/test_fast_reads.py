"""The fast read path: cache hits answered before Flask, byte for byte as the view answers them."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from werkzeug.test import Client
from werkzeug.wrappers import Response

from service.extensions import db
from service.web.fastread import FastReads

from .helpers import comments_url, count_queries, make_comment

ORIGIN = "https://news.example"


@pytest.fixture
def thread(app, site):
    """A site that allows ORIGIN, with three approved comments on a1."""
    site.allowed_origins = [ORIGIN]
    db.session.commit()
    return [make_comment(site, "approved").id for _ in range(3)]


@pytest.fixture
def flask_only(app):
    """A client of the app behind the fast path: what the view itself answers."""
    assert isinstance(app.wsgi_app, FastReads)
    return Client(app.wsgi_app.wsgi_app, Response)


@pytest.fixture
def dispatched(app):
    """How many requests reached Flask's own dispatch."""
    seen = []
    app.before_request(lambda: seen.append(1) and None)
    return seen


def answer(response) -> tuple:
    headers = sorted((name, value) for name, value in response.headers if name != "Date")
    return response.status_code, headers, response.get_data()


def first_page_cursor(client) -> str:
    return client.get(comments_url() + "?sort=oldest&limit=2").json["next_cursor"]


@pytest.mark.parametrize(
    "query",
    ["", "?sort=oldest&limit=2", "?sort=newest&limit=100", "?limit=2&utm_source=mail", "CURSOR"],
)
@pytest.mark.parametrize(
    "headers", [{}, {"Origin": ORIGIN}, {"Origin": "https://elsewhere.example"}, "ETAG"]
)
def test_a_hit_is_answered_exactly_as_the_view_answers_it(
    client, flask_only, thread, dispatched, query, headers
):
    if query == "CURSOR":
        query = f"?sort=oldest&limit=2&cursor={first_page_cursor(client)}"
    url = comments_url() + query
    warm = client.get(url, headers={"Origin": ORIGIN})
    assert warm.status_code == 200
    if headers == "ETAG":
        headers = {"If-None-Match": warm.headers["ETag"], "Origin": ORIGIN}
    dispatched.clear()
    with count_queries() as statements:
        fast = client.get(url, headers=headers)
    assert dispatched == [] and statements == [], "a hit never reaches Flask or the database"
    slow = flask_only.get(url, headers=headers)
    assert dispatched == [1]
    assert answer(fast) == answer(slow)
    assert fast.status_code == (304 if "If-None-Match" in headers else 200)


@pytest.mark.parametrize(
    "query, status",
    [
        ("?limit=0", 422),
        ("?limit=101", 422),
        ("?limit=ten", 422),
        ("?sort=best", 422),
        ("?cursor=not-a-cursor", 422),
        ("?limit=2&limit=3", 200),  # repeated: left to the schema
        ("?limit=+2", 200),  # unusual spelling: left to the schema
    ],
)
def test_anything_unusual_goes_to_flask(client, thread, dispatched, query, status):
    client.get(comments_url() + query)  # whatever could be cached, is
    dispatched.clear()
    response = client.get(comments_url() + query)
    assert response.status_code == status
    assert dispatched == [1]
    if status == 422:
        assert response.json["error"]["code"] == "validation_error"


def test_misses_unknown_sites_and_new_origins_go_to_flask(client, thread, dispatched):
    assert client.get(comments_url()).status_code == 200  # a miss: Flask renders and stores
    assert client.get(comments_url(site="nowhere")).status_code == 404
    assert len(dispatched) == 2
    # Cached before any Origin was seen: the site's origins are looked up by Flask once.
    dispatched.clear()
    granted = client.get(comments_url(), headers={"Origin": ORIGIN})
    assert granted.headers["Access-Control-Allow-Origin"] == ORIGIN
    again = client.get(comments_url(), headers={"Origin": ORIGIN})
    assert again.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert dispatched == [1]
    assert client.head(comments_url()).status_code == 200
    assert dispatched == [1, 1]


def test_a_changed_site_is_never_answered_from_its_old_origins(client, thread, cli):
    client.get(comments_url(), headers={"Origin": ORIGIN})
    assert cli("sites", "origins", "demo", "--remove", ORIGIN).exit_code == 0
    response = client.get(comments_url(), headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_hits_are_counted_in_the_request_metrics(client, thread):
    labels = {"endpoint": "public.ArticleComments", "method": "GET", "status": "2xx"}
    name = "talkback_http_request_duration_seconds_count"
    client.get(comments_url())
    before = REGISTRY.get_sample_value(name, labels) or 0
    for _ in range(3):
        client.get(comments_url())
    assert REGISTRY.get_sample_value(name, labels) == before + 3
