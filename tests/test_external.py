"""External scorers: the Akismet adapter against a real local server speaking comment-check."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from workers.external import (
    AkismetScorer,
    ExternalRequest,
    ExternalVerdict,
    external_scorer_counts,
    reset_external_scorer_counts,
    run_external_scorers,
    scorers_from_config,
)

from .helpers import DISCARD_WORD, GUARANTEED_SPAM_AUTHOR, SPAM_WORD, TEST_KEY, FakeAkismet

SITE = "https://news.example"
TIMEOUT = 0.3


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    reset_external_scorer_counts()
    yield
    reset_external_scorer_counts()


def make_request(**overrides) -> ExternalRequest:
    values = {
        "text": "Thoughtful point about the budget.",
        "author_name": "Dana",
        "author_email": None,
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "referrer": "https://news.example/politics",
        "permalink": "https://news.example/politics/budget-2025",
        "site_url": SITE,
        "lang": "en",
    }
    values.update(overrides)
    return ExternalRequest(**values)


def make_scorer(fake: FakeAkismet, **options) -> AkismetScorer:
    options = {"endpoint": fake.url, "timeout": TIMEOUT, **options}
    return AkismetScorer(options.pop("api_key", TEST_KEY), SITE, **options)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/1.1/comment-check"


# What was sent.


def test_sends_the_documented_form_fields(fake_akismet):
    verdict = make_scorer(fake_akismet).check(make_request())

    assert verdict == ExternalVerdict("Akismet", "ham", "Akismet says this is not spam")
    [received] = fake_akismet.received
    assert received.path == "/1.1/comment-check"
    assert received.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert received.headers["User-Agent"] == "Talkback/0.1 | Akismet/1.0"
    assert received.form == {
        "api_key": TEST_KEY,
        "blog": SITE,
        "user_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "referrer": "https://news.example/politics",
        "permalink": "https://news.example/politics/budget-2025",
        "comment_type": "comment",
        "comment_author": "Dana",
        "comment_content": "Thoughtful point about the budget.",
        "blog_lang": "en",
        "blog_charset": "UTF-8",
    }


def test_utf8_text_and_missing_fields_left_out(fake_akismet):
    hebrew = "תגובה מעניינת על התקציב & 100% נכון"
    request = make_request(
        text=hebrew,
        author_name="דנה",
        author_email="dana@example.org",
        user_agent=None,
        referrer=None,
        permalink=None,
        lang="he",
    )
    make_scorer(fake_akismet, is_test=True).check(request)

    [received] = fake_akismet.received
    # Percent-encoded UTF-8 on the wire, decoded back to the same text.
    assert "%D7%AA%D7%92%D7%95%D7%91%D7%94" in received.body.decode("ascii")
    assert received.form["comment_content"] == hebrew
    assert received.form["comment_author"] == "דנה"
    assert received.form["comment_author_email"] == "dana@example.org"
    assert received.form["blog_lang"] == "he"
    assert received.form["is_test"] == "1"
    for left_out in ("user_agent", "referrer", "permalink"):
        assert left_out not in received.form


# Answers.


def test_spam_by_content_and_by_documented_test_author(fake_akismet):
    scorer = make_scorer(fake_akismet)

    by_content = scorer.check(make_request(text=f"Buy {SPAM_WORD} now"))
    by_author = scorer.check(make_request(author_name=GUARANTEED_SPAM_AUTHOR))

    for verdict in (by_content, by_author):
        assert verdict.outcome == "spam"
        assert verdict.reason == "Akismet says this is spam"
        assert verdict.discard is False


def test_blatant_spam_is_discardable(fake_akismet):
    verdict = make_scorer(fake_akismet).check(make_request(text=f"Win at {DISCARD_WORD}"))

    assert verdict.outcome == "spam"
    assert verdict.discard is True
    assert "discard" in verdict.reason


def test_invalid_key_fails_with_akismets_explanation(fake_akismet):
    verdict = make_scorer(fake_akismet, api_key="wrong-key").check(make_request())

    assert verdict.outcome == "failed"
    assert verdict.reason == (
        "Akismet rejected the request as invalid: We were unable to verify your API key."
    )


def test_missing_required_field_fails_with_akismets_explanation(fake_akismet):
    verdict = make_scorer(fake_akismet, failure_policy="closed").check(make_request(ip=None))

    assert "user_ip" not in fake_akismet.received[0].form
    assert verdict.outcome == "failed"
    assert verdict.reason == 'Akismet rejected the request as invalid: Empty "user_ip" value'
    assert verdict.failure_policy == "closed"


# Failures: never an exception, always a verdict.


def test_timeout_returns_promptly(fake_akismet):
    fake_akismet.mode = "slow"
    started = time.monotonic()
    verdict = make_scorer(fake_akismet).check(make_request())
    elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT + 0.5
    assert verdict.outcome == "failed"
    assert verdict.reason == f"Akismet could not be reached (timed out after {TIMEOUT} s)"


def test_http_error_fails(fake_akismet):
    fake_akismet.mode = "error"
    verdict = make_scorer(fake_akismet).check(make_request())

    assert verdict.outcome == "failed"
    assert verdict.reason == "Akismet answered with an error (HTTP 500)"


def test_unexpected_body_fails(fake_akismet):
    fake_akismet.mode = "garbage"
    verdict = make_scorer(fake_akismet).check(make_request())

    assert verdict.outcome == "failed"
    assert verdict.reason.startswith("Akismet gave an unexpected answer ('<html>Service")


def test_connection_closed_without_answer_fails(fake_akismet):
    fake_akismet.mode = "hangup"
    verdict = make_scorer(fake_akismet).check(make_request())

    assert verdict.outcome == "failed"
    assert verdict.reason == "Akismet could not be reached (connection closed without an answer)"


def test_refused_connection_fails(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    scorer = AkismetScorer(TEST_KEY, SITE, endpoint=closed_port_url(), timeout=TIMEOUT)

    verdict = scorer.check(make_request())

    assert verdict.outcome == "failed"
    assert verdict.reason == "Akismet could not be reached (connection refused)"


# Running scorers: counters and logs.


def test_counts_and_logs_every_outcome(fake_akismet, caplog):
    caplog.set_level(logging.DEBUG, logger="workers.external")
    scorer = make_scorer(fake_akismet)

    run_external_scorers([scorer], make_request())
    run_external_scorers([scorer], make_request(text=f"{SPAM_WORD} {SPAM_WORD}"))
    fake_akismet.mode = "error"
    [verdict] = run_external_scorers([scorer], make_request())

    assert verdict.outcome == "failed"
    assert external_scorer_counts() == {"Akismet": {"calls": 3, "spam": 1, "ham": 1, "failed": 1}}
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 2
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (
        "external scorer Akismet failed: Akismet answered with an error (HTTP 500); "
        "1 of 3 calls failed; failing open, the comment is scored without it"
    )


def test_failing_closed_is_logged_as_held(fake_akismet, caplog):
    fake_akismet.mode = "garbage"
    scorer = make_scorer(fake_akismet, failure_policy="closed")

    run_external_scorers([scorer], make_request())
    run_external_scorers([scorer], make_request())

    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 2
    assert (
        "2 of 2 calls failed; failing closed, the comment is held for a moderator" in (messages[-1])
    )


class BrokenScorer:
    """A scorer with a bug: raises instead of answering."""

    name = "Broken"
    timeout = 1.0
    failure_policy = "closed"

    def check(self, request: ExternalRequest) -> ExternalVerdict:
        raise RuntimeError("boom")


class CountingScorer:
    """An in-process scorer that answers instantly: spam when the text says so."""

    name = "Local"
    timeout = 1.0
    failure_policy = "open"

    def check(self, request: ExternalRequest) -> ExternalVerdict:
        outcome = "spam" if "spam" in request.text else "ham"
        return ExternalVerdict(self.name, outcome, f"local says {outcome}")


def test_a_raising_scorer_becomes_a_failed_verdict(caplog):
    verdicts = run_external_scorers([BrokenScorer(), CountingScorer()], make_request())

    assert [v.outcome for v in verdicts] == ["failed", "ham"]
    assert verdicts[0].failure_policy == "closed"
    assert "RuntimeError('boom')" in verdicts[0].reason
    assert external_scorer_counts()["Broken"] == {"calls": 1, "spam": 0, "ham": 0, "failed": 1}
    assert any("failing closed" in r.getMessage() for r in caplog.records)


def test_counters_are_thread_safe():
    scorer = CountingScorer()
    requests = [make_request(text="spam" if i % 4 == 0 else "fine") for i in range(400)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda request: run_external_scorers([scorer], request), requests))

    assert external_scorer_counts() == {
        "Local": {"calls": 400, "spam": 100, "ham": 300, "failed": 0}
    }


# Configuration.


def test_off_by_default():
    assert scorers_from_config({}) == []
    assert scorers_from_config({"AKISMET_API_KEY": "", "AKISMET_SITE_URL": SITE}) == []


def test_configured_akismet():
    [scorer] = scorers_from_config(
        {
            "AKISMET_API_KEY": TEST_KEY,
            "AKISMET_SITE_URL": SITE,
            "AKISMET_ENDPOINT": "http://127.0.0.1:9/1.1/comment-check",
            "AKISMET_TIMEOUT_SECONDS": "1.5",
            "AKISMET_FAILURE_POLICY": "closed",
            "AKISMET_IS_TEST": "true",
        }
    )

    assert isinstance(scorer, AkismetScorer)
    assert (scorer.api_key, scorer.site_url) == (TEST_KEY, SITE)
    assert scorer.endpoint == "http://127.0.0.1:9/1.1/comment-check"
    assert (scorer.timeout, scorer.failure_policy, scorer.is_test) == (1.5, "closed", True)


def test_configured_defaults():
    [scorer] = scorers_from_config({"AKISMET_API_KEY": TEST_KEY, "AKISMET_SITE_URL": SITE})

    assert scorer.endpoint == "https://rest.akismet.com/1.1/comment-check"
    assert (scorer.timeout, scorer.failure_policy, scorer.is_test) == (2.0, "open", False)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "AKISMET_SITE_URL must be set"),
        ({"AKISMET_FAILURE_POLICY": "maybe"}, "AKISMET_FAILURE_POLICY must be 'open' or 'closed'"),
        ({"AKISMET_TIMEOUT_SECONDS": "soon"}, "AKISMET_TIMEOUT_SECONDS must be a positive"),
        ({"AKISMET_TIMEOUT_SECONDS": 0}, "AKISMET_TIMEOUT_SECONDS must be a positive"),
        ({"AKISMET_IS_TEST": "perhaps"}, "AKISMET_IS_TEST must be true or false"),
    ],
)
def test_bad_settings_name_the_setting(settings, message):
    config = {"AKISMET_API_KEY": TEST_KEY, "AKISMET_SITE_URL": SITE, **settings}
    if not settings:
        del config["AKISMET_SITE_URL"]

    with pytest.raises(ValueError, match=message):
        scorers_from_config(config)
