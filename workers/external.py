"""External scorers (Akismet today) behind one small interface, plus their failure counters.

An external scorer is a network call, so it can be slow, down or misconfigured. `check` therefore
never raises: every problem becomes a "failed" verdict with a sentence a moderator understands,
and the scorer's failure policy says what to do about it ("open": score the comment without it;
"closed": hold the comment for a moderator). `run_external_scorers` counts calls and outcomes per
scorer so a failing integration shows up in the logs (and later in metrics) instead of silently
letting spam through.
"""

from __future__ import annotations

import http.client
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from workers.scoring.verdicts import ExternalVerdict

log = logging.getLogger(__name__)

AKISMET_ENDPOINT = "https://rest.akismet.com/1.1/comment-check"
# Akismet asks clients to identify themselves as "Application/version | Library/version".
USER_AGENT = "Talkback/0.1 | Akismet/1.0"
FAILURE_POLICIES = ("open", "closed")
OUTCOMES = ("spam", "ham", "failed")
# A comment-check answer is one short word; anything longer is not an answer worth reading.
MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class ExternalRequest:
    """What an external scorer may be told about one comment."""

    text: str  # plain text of the comment
    author_name: str
    author_email: str | None  # usually None: Talkback only stores a hash
    ip: str | None  # may be None (e.g. a comment re-scored later)
    user_agent: str | None
    referrer: str | None
    permalink: str | None  # article URL
    site_url: str  # the site's home URL (Akismet's `blog`)
    lang: str | None = None  # e.g. "en", "he"


class ExternalScorer(Protocol):
    """A remote spam check: `check` answers a verdict and never raises."""

    name: str
    timeout: float
    failure_policy: str  # "open" | "closed"

    def check(self, request: ExternalRequest) -> ExternalVerdict: ...


class AkismetScorer:
    """Akismet's comment-check call (https://akismet.com/developers/detailed-docs/comment-check/)."""

    name = "Akismet"

    def __init__(
        self,
        api_key: str,
        site_url: str,
        *,
        endpoint: str = AKISMET_ENDPOINT,
        timeout: float = 2.0,
        failure_policy: str = "open",
        is_test: bool = False,
    ) -> None:
        if failure_policy not in FAILURE_POLICIES:
            raise ValueError(f"failure_policy must be 'open' or 'closed', not {failure_policy!r}")
        self.api_key = api_key
        self.site_url = site_url
        self.endpoint = endpoint
        self.timeout = timeout
        self.failure_policy = failure_policy
        self.is_test = is_test

    def form(self, request: ExternalRequest) -> dict[str, str]:
        """Return the comment-check form fields for one comment, empty ones left out."""
        fields = {
            "api_key": self.api_key,
            # The request's site wins: one Talkback instance serves several news sites.
            "blog": request.site_url or self.site_url,
            # user_ip is required by Akismet, but it is still left out when unknown: Akismet then
            # answers "invalid" with its own explanation, which is the failure reported.
            "user_ip": request.ip,
            "user_agent": request.user_agent,
            "referrer": request.referrer,
            "permalink": request.permalink,
            "comment_type": "comment",
            "comment_author": request.author_name,
            "comment_author_email": request.author_email,
            "comment_content": request.text,
            "blog_lang": request.lang,
            "blog_charset": "UTF-8",
            "is_test": "1" if self.is_test else None,
        }
        return {key: value for key, value in fields.items() if value}

    def check(self, request: ExternalRequest) -> ExternalVerdict:
        """Ask Akismet about one comment; any failure becomes a "failed" verdict."""
        body = urllib.parse.urlencode(self.form(request), encoding="utf-8").encode("ascii")
        http_request = urllib.request.Request(
            self.endpoint,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout) as response:
                headers = response.headers
                answer = response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as error:
            error.close()  # an HTTPError holds the open response; close it now
            return self._failed(f"{self.name} answered with an error (HTTP {error.code})")
        except urllib.error.URLError as error:
            return self._failed(f"{self.name} could not be reached ({self._why(error.reason)})")
        except (OSError, http.client.HTTPException) as error:
            # Timeouts while waiting for the answer and dropped connections arrive unwrapped.
            return self._failed(f"{self.name} could not be reached ({self._why(error)})")
        return self._verdict(answer, headers)

    def _verdict(self, answer: bytes, headers: Mapping[str, str]) -> ExternalVerdict:
        text = answer.decode("utf-8", errors="replace").strip()
        alert = headers.get("X-akismet-alert-msg")
        if text in ("true", "false"):
            if alert:
                # The answer still counts, but the account needs attention (e.g. over its quota).
                log.warning("%s account alert: %s", self.name, alert)
            if text == "false":
                return self._answer("ham", f"{self.name} says this is not spam")
            discard = headers.get("X-akismet-pro-tip", "").strip().lower() == "discard"
            reason = f"{self.name} says this is spam"
            if discard:
                reason = f"{self.name} says this is blatant spam, safe to discard"
            return self._answer("spam", reason, discard=discard)
        explanation = headers.get("X-akismet-debug-help") or alert
        if text == "invalid":
            why = f": {explanation}" if explanation else ""
            return self._failed(f"{self.name} rejected the request as invalid{why}")
        snippet = text[:60] or "an empty answer"
        why = f"; {explanation}" if explanation else ""
        return self._failed(f"{self.name} gave an unexpected answer ({snippet!r}{why})")

    def _why(self, error: object) -> str:
        if isinstance(error, TimeoutError):
            return f"timed out after {float(self.timeout)} s"
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, http.client.RemoteDisconnected):
            return "connection closed without an answer"
        return str(error) or type(error).__name__

    def _answer(self, outcome: str, reason: str, *, discard: bool = False) -> ExternalVerdict:
        return ExternalVerdict(self.name, outcome, reason, discard, self.failure_policy)

    def _failed(self, reason: str) -> ExternalVerdict:
        return self._answer("failed", reason)


# Per-scorer counts of calls and outcomes; RQ workers may score from several threads.
_counts: dict[str, dict[str, int]] = {}
_counts_lock = threading.Lock()

POLICY_EFFECT = {
    "open": "failing open, the comment is scored without it",
    "closed": "failing closed, the comment is held for a moderator",
}


def _record(verdict: ExternalVerdict) -> dict[str, int]:
    with _counts_lock:
        counts = _counts.setdefault(verdict.scorer, dict.fromkeys(("calls", *OUTCOMES), 0))
        counts["calls"] += 1
        counts[verdict.outcome] += 1
        return dict(counts)


def _safe_check(scorer: ExternalScorer, request: ExternalRequest) -> ExternalVerdict:
    name = getattr(scorer, "name", type(scorer).__name__)
    policy = getattr(scorer, "failure_policy", "open")
    try:
        verdict = scorer.check(request)
    except Exception as error:  # a bug in one scorer must not stop moderation
        log.exception("external scorer %s raised instead of answering", name)
        return ExternalVerdict(
            name, "failed", f"{name} failed unexpectedly ({error!r})", False, policy
        )
    if verdict.outcome not in OUTCOMES:
        reason = f"{name} gave an unknown outcome ({verdict.outcome!r})"
        return ExternalVerdict(name, "failed", reason, False, policy)
    return verdict


def run_external_scorers(
    scorers: Iterable[ExternalScorer], request: ExternalRequest
) -> list[ExternalVerdict]:
    """Run each scorer in turn and count the outcomes; never raises."""
    verdicts = []
    for scorer in scorers:
        verdict = _safe_check(scorer, request)
        counts = _record(verdict)
        if verdict.outcome == "failed":
            log.warning(
                "external scorer %s failed: %s; %d of %d calls failed; %s",
                verdict.scorer,
                verdict.reason,
                counts["failed"],
                counts["calls"],
                POLICY_EFFECT.get(verdict.failure_policy, POLICY_EFFECT["open"]),
            )
        else:
            log.debug(
                "external scorer %s: %s (%s)", verdict.scorer, verdict.outcome, verdict.reason
            )
        verdicts.append(verdict)
    return verdicts


def external_scorer_counts() -> dict[str, dict[str, int]]:
    """Return a copy of the per-scorer counters: calls, spam, ham, failed."""
    with _counts_lock:
        return {name: dict(counts) for name, counts in _counts.items()}


def reset_external_scorer_counts() -> None:
    """Forget all counters (for tests)."""
    with _counts_lock:
        _counts.clear()


def _setting_bool(config: Mapping, name: str) -> bool:
    value = config.get(name, False)
    if isinstance(value, bool):
        return value
    # Settings read from the environment arrive as strings.
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def scorers_from_config(config: Mapping) -> list[ExternalScorer]:
    """Build the configured external scorers; none unless AKISMET_API_KEY is set."""
    api_key = config.get("AKISMET_API_KEY")
    if not api_key:
        return []
    site_url = config.get("AKISMET_SITE_URL")
    if not site_url:
        raise ValueError("AKISMET_SITE_URL must be set (the site's home URL) with AKISMET_API_KEY")
    policy = config.get("AKISMET_FAILURE_POLICY") or "open"
    if policy not in FAILURE_POLICIES:
        raise ValueError(f"AKISMET_FAILURE_POLICY must be 'open' or 'closed', not {policy!r}")
    raw_timeout = config.get("AKISMET_TIMEOUT_SECONDS", 2.0)
    try:
        timeout = float(raw_timeout)
    except (TypeError, ValueError):
        timeout = 0.0
    if not timeout > 0:
        raise ValueError(f"AKISMET_TIMEOUT_SECONDS must be a positive number, not {raw_timeout!r}")
    return [
        AkismetScorer(
            api_key,
            site_url,
            endpoint=config.get("AKISMET_ENDPOINT") or AKISMET_ENDPOINT,
            timeout=timeout,
            failure_policy=policy,
            is_test=_setting_bool(config, "AKISMET_IS_TEST"),
        )
    ]
