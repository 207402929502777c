"""Fuzzing: schemathesis generates requests from the OpenAPI document the app serves and checks
every answer (no server errors, documented status codes, bodies and headers as published).

One test per operation runs in-process (WSGI) on the run's real database and Redis, signed in as
an operator, with sites, comments in every status, a reply chain and a ban seeded so that path,
query and body parameters name real rows part of the time. `make fuzz-ci` is the bounded,
reproducible pass CI runs; `make fuzz` a longer one with a random seed. Knobs:

- TALKBACK_FUZZ_EXAMPLES: generated examples per operation in the fuzzing phase (default 20);
  the explicit examples and schemathesis' coverage cases come on top.
- TALKBACK_FUZZ_SEED: an integer seed (default 14, so CI is reproducible), or "random" (`make
  fuzz` picks a random one itself and prints it first, so a failure can be rerun).
"""

from __future__ import annotations

import os
import secrets

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from service import create_app
from service.core import bans, webhooks
from service.core.moderation import moderator_actor
from service.extensions import db
from service.models import Site, WebhookDelivery, utcnow

from .helpers import make_comment, post_comment

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("TALKBACK_FUZZ_EXAMPLES", "20"))
_SEED = os.environ.get("TALKBACK_FUZZ_SEED", "14")
SEED = secrets.randbelow(2**32) if _SEED == "random" else int(_SEED)

# Never the limiting factor: rate limits answer 429 (documented), which would hide the paths
# behind them. test_rate_limits tests the limits themselves.
GENEROUS = "1000000/minute"
RATE_LIMITS = dict.fromkeys(
    (
        "RATE_LIMIT_SUBMIT",
        "RATE_LIMIT_REPORT",
        "RATE_LIMIT_DELETE",
        "RATE_LIMIT_VOTE",
        "RATE_LIMIT_LOGIN",
    ),
    GENEROUS,
)

SITE = "demo"
CLOSED_SITE = "closed-gazette"
ARTICLE = "a1"
MODERATOR = "mia"
QUEUES = ("held", "reported", "pending", "approved", "rejected")


class CurrentApp:
    """A WSGI app handing each request to the current test's app (schemathesis keeps one)."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        """Serve the request with the current app."""
        return self.app(environ, start_response)


# Serving the OpenAPI document needs no database or Redis: an app of its own serves it at import,
# and each test points CURRENT at an app on the test database. (schemathesis' lazy
# from_fixture loader would build the schema from a fixture, but it fails on pytest 9.)
CURRENT = CurrentApp(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}))
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        # Test data only: show the exact request (emails, keys) so a failure can be replayed.
        "output": {"sanitization": {"enabled": False}},
        # Every default check runs. positive_data_acceptance also takes 422 here: the API checks
        # rules JSON Schema cannot state (opaque cursors, IP and domain syntax, limits that
        # depend on each other, rows that must exist) and says which field is wrong; valid
        # data must still never get a 400, 415 or 5xx.
        "checks": {
            "positive_data_acceptance": {
                # 5xx as in the default: not_a_server_error reports those.
                "expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 422, 429, "5xx"]
            }
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", CURRENT, config=CONFIG)


@schemathesis.check
def status_code_documented(ctx, response, case):
    """The status is one the operation documents itself, not only through `default`.

    flask-smorest documents a `default` error response on every operation, which makes
    schemathesis' status_code_conformance accept any status; this check does not.
    """
    documented = {str(code) for code in case.operation.responses.status_codes} - {"default"}
    status = response.status_code
    if status >= 500:
        return  # not_a_server_error reports these
    if case.method.upper() != case.operation.method.upper():
        return  # a probe with a method the path lacks (405): unsupported_method checks those
    if str(status) not in documented and f"{str(status)[0]}XX" not in documented:
        raise AssertionError(
            f"Undocumented status code {status} for {case.operation.label} "
            f"(documented: {', '.join(sorted(documented))})"
        )


# The rows seeded for the current test; the strategies below read them when they draw.
ROWS: dict = {
    "comment_ids": [0],
    "own_id": [0],
    "approved_ids": [0],
    "ban_ids": [0],
    "webhook_ids": [0],
    "delivery_ids": [0],
    "token": "",
}
# A webhook URL that registers without the network (private addresses are allowed in the run).
WEBHOOK_URL = "http://127.0.0.1:9/talkback"


def _one_of(name: str) -> st.SearchStrategy:
    """A seeded row's id, chosen when drawing (the rows exist only once the fixture ran)."""
    return st.integers(min_value=0, max_value=31).map(lambda i: ROWS[name][i % len(ROWS[name])])


# Mostly the open site: the closed one answers 409 to every change.
SITES = st.sampled_from([SITE, SITE, SITE, CLOSED_SITE])
KNOWN = {
    "site": SITES,
    "key": SITES,
    "article": st.just(ARTICLE),
    "queue": st.sampled_from(QUEUES),
    # The comment posted with a delete token half the time (GET and DELETE need it).
    "comment_id": _one_of("own_id") | _one_of("comment_ids"),
    "parent_id": st.none() | _one_of("approved_ids"),
    "ban_id": _one_of("ban_ids"),
    "moderator": st.just(MODERATOR),
    "webhook_id": _one_of("webhook_ids"),
    "webhook": _one_of("webhook_ids"),
    "delivery_id": _one_of("delivery_ids"),
    "url": st.just(WEBHOOK_URL),
}


def _sometimes_known(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Draw as generated, or with the known names replaced by seeded rows (2 times in 3)."""

    def known(values):
        if not isinstance(values, dict):
            return st.just(values)
        chosen = {name: KNOWN[name] for name in values if name in KNOWN}
        return st.fixed_dictionaries(chosen).map(lambda drawn: {**values, **drawn})

    return st.one_of(strategy, strategy.flatmap(known), strategy.flatmap(known))


@schema.hook
def before_generate_path_parameters(context, strategy):
    """Path parameters: seeded sites, articles, comments and bans, 2 times in 3."""
    return _sometimes_known(strategy)


@schema.hook
def before_generate_query(context, strategy):
    """Query arguments: a seeded site or moderator, 2 times in 3."""
    return _sometimes_known(strategy)


@schema.hook
def before_generate_body(context, strategy):
    """JSON bodies: seeded comments as parents or ban targets, 2 times in 3."""
    return _sometimes_known(strategy)


# Coverage-phase cases are built before the test's fixtures run, so the auth provider gives a
# placeholder that before_call swaps for the seeded operator's token; schemathesis still knows the
# header, and leaves it out or mangles it for its negative cases.
PLACEHOLDER = "seeded-operator-token"


# Not on the public API: there a Bearer header is a reader's session (SSO), and an operator's
# token is refused as one (401).
@schema.auth(refresh_interval=None, retry_on=[]).skip_for(tag="public")
class OperatorToken:
    """A Bearer header for the operator each test seeds."""

    def get(self, case, context):
        """The placeholder; before_call swaps in the real token."""
        return PLACEHOLDER

    def set(self, case, token, context):
        """Send it as a Bearer token."""
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.hook  # a global hook (schemathesis has no per-schema before_call)
def before_call(context, case, kwargs):
    """Swap the placeholder for the token seeded for this test."""
    if case.headers and case.headers.get("Authorization") == f"Bearer {PLACEHOLDER}":
        case.headers["Authorization"] = f"Bearer {ROWS['token']}"


# Each operation's answers in this run, for the last test.
STATUSES: dict[str, list[int]] = {}


@schema.hook
def after_call(context, case, response):
    """Remember the status, for test_every_operation_reached_its_view."""
    STATUSES.setdefault(case.operation.label, []).append(response.status_code)


@pytest.fixture
def seeded(app, site, make_user, api_token) -> dict:
    """Rows for the fuzzer to find: comments in every status, a reply chain, a ban, a token."""
    db.session.add(Site(key=CLOSED_SITE, name="Closed Gazette", closed_at=utcnow()))
    db.session.commit()
    operator = make_user("olga", role="operator")
    make_user(MODERATOR, role="moderator", sites=[site])
    comments = [make_comment(site, status) for status in QUEUES if status != "reported"]
    chain = [comments[-2]]  # replies under the approved comment
    for _ in range(3):
        chain.append(make_comment(site, "approved", parent=chain[-1]))
    own = post_comment(app.test_client(), ARTICLE).get_json()
    ban, _ = bans.add_ban(
        actor=moderator_actor("olga"),
        site_ids=None,
        site_key=SITE,
        target="email",
        value="troll@example.com",
        reason="seeded for the fuzzer",
    )
    ROWS["comment_ids"] = [comment.id for comment in comments + chain] + [own["id"]]
    ROWS["own_id"] = [own["id"]]
    ROWS["approved_ids"] = [comment.id for comment in chain]
    ROWS["ban_ids"] = [ban.id]
    endpoint, _ = webhooks.create_endpoint(
        SITE, WEBHOOK_URL, ["ban.created"], actor="cli", allow_private=True
    )
    ROWS["webhook_ids"] = [endpoint.id]
    bans.add_ban(  # one delivery in the endpoint's log, to resend
        actor=moderator_actor("olga"),
        site_ids=None,
        site_key=SITE,
        target="email",
        value="spammer@example.com",
        reason="seeded for the fuzzer",
    )
    ROWS["delivery_ids"] = list(db.session.scalars(db.select(WebhookDelivery.id)))
    ROWS["token"] = api_token(operator)
    return {"own": own}


@pytest.fixture
def fuzz_app(app_factory, seeded):
    """An app on the test database that answers unhandled errors with a 500, as in production."""
    CURRENT.app = app_factory(
        # A 500 answer is what the checks look for; TESTING would raise the exception instead.
        TESTING=False,
        PROPAGATE_EXCEPTIONS=False,
        SERVER_NAME=None,  # answer whatever host the WSGI client uses
        WEBHOOKS_ALLOW_PRIVATE=True,  # WEBHOOK_URL is a loopback address
        **RATE_LIMITS,
    )
    return CURRENT.app


@schema.parametrize()
@settings(
    deadline=None,  # a request on a loaded shared machine can take a while; not a failure
    # The fixtures are per operation on purpose: every example of an operation sees its rows.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_operation_answers_as_documented(case, fuzz_app, seeded):
    # The seeded comment's delete token, when a request about it sends one.
    own = seeded["own"]
    asks_token = case.headers and "X-Delete-Token" in case.headers
    if asks_token and (case.path_parameters or {}).get("comment_id") == own["id"]:
        case.headers["X-Delete-Token"] = own["delete_token"]
    case.call_and_validate()


def test_every_operation_reached_its_view():
    """Each operation answered 2xx at least once: the token, the seeded rows and the examples
    got past authentication and lookups, so the checks above saw more than error answers."""
    operations = [result.ok().label for result in schema.get_all_operations()]
    if set(STATUSES) != set(operations):
        pytest.skip("only some operations were fuzzed in this run")
    never = [label for label in operations if not any(200 <= s < 300 for s in STATUSES[label])]
    assert not never, f"never answered 2xx: {never}"
