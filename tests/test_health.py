"""The health check: 200 when the database and Redis answer, 503 naming what is down."""

import time

import pytest

from service.extensions import db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # port 1: connection refused at once


def test_healthy_service_answers_200_with_every_dependency_ok(client):
    # No site or data needed: a fresh deployment is healthy.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.fixture
def app_without_redis(app_factory, migrated):
    app = app_factory(REDIS_URL=UNREACHABLE_REDIS)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_unreachable_redis_answers_503_naming_redis(app_without_redis):
    started = time.monotonic()
    response = app_without_redis.test_client().get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "redis": "unreachable"}
    assert elapsed < 5, f"a refused connection should fail fast, took {elapsed:.1f}s"


def test_unreachable_database_answers_503_naming_the_database(app_factory, tmp_path):
    # A SQLite file in a folder that does not exist cannot be opened.
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable", "redis": "ok"}
