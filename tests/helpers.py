"""Helpers shared by the test modules (fixtures live in conftest.py, browser helpers in
browser_support.py): API calls, seeding, console forms, bans, the fake Akismet server and the
sanitizer's attack tables."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.config import database_url
from service.core import moderation
from service.core.comments import DecisionRecord, record_decisions
from service.core.hashing import text_fingerprint
from service.extensions import db
from service.models import Article, AuditEntry, Ban, Comment, CommentStatus, Site, utcnow

REPO_ROOT = Path(__file__).resolve().parent.parent
POLITE = "Thanks for the clear report, the timeline of the restoration was really useful."


def comments_url(article: str = "a1", site: str = "demo") -> str:
    """Return the comments URL of an article."""
    return f"/api/v1/sites/{site}/articles/{article}/comments"


def post_comment(client, article: str = "a1", site: str = "demo", **fields):
    """Submit a comment with sensible defaults and return the response."""
    payload = {"author_name": "Dana", "body": POLITE, **fields}
    return client.post(comments_url(article, site), json=payload)


def submit(client, article: str = "a1", **fields) -> dict:
    """Submit a comment that must be accepted, and return the 202 body."""
    response = post_comment(client, article, **fields)
    assert response.status_code == 202, response.json
    return response.json


def approved(client, run_worker, article: str = "a1", **fields) -> dict:
    """Submit a polite comment and run the worker so it is approved."""
    body = submit(client, article, **fields)
    run_worker()
    assert status_of(body["id"]) == "approved", reasons_of(body["id"])
    return body


def status_of(comment_id: int) -> str:
    """Return a comment's status as stored."""
    db.session.expire_all()
    return db.session.get(Comment, comment_id).status.value


def reasons_of(comment_id: int) -> list[str]:
    """Return a comment's stored moderation reasons."""
    db.session.expire_all()
    return db.session.get(Comment, comment_id).reasons


def audit_trail(comment_id: int) -> list[tuple[str, str | None, str]]:
    """Return (actor, from, to) for each audit entry of a comment, oldest first."""
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.comment_id == comment_id).order_by(AuditEntry.id)
    )
    return [(entry.actor, entry.from_status, entry.to_status) for entry in entries]


@contextlib.contextmanager
def count_queries():
    """Count the SQL statements run inside the block (savepoints aside)."""
    statements: list[str] = []

    def before(_conn, _cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def row_count(model) -> int:
    """Count the rows of a model's table."""
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- Accounts and console pages -----------------------------------------------------------------

# The password make_user gives an account unless told otherwise (login's default too).
DEFAULT_PASSWORD = "correct horse battery"


def csrf_token_of(response) -> str:
    """Return the CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, f"no CSRF token on the page (status {response.status_code})"
    return match.group(1)


class _Forms(HTMLParser):
    """Collect each form's action and the values a browser would send for it."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.forms.append({"action": attrs.get("action"), "method": method, "fields": []})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button"):
                fields.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                fields.append((self._select, value))
                self._select = None  # first selected option wins

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        if tag == "select" and self._select:
            # Nothing selected: browsers send the first option.
            self.forms[-1]["fields"].append((self._select, self._first_option or ""))
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            name, value = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, value + data)


def form_of(page: str, action: str) -> dict[str, str | list[str]]:
    """Return what submitting the page's POST form with this action would send, as a browser
    does (a name given several times, like checkboxes, maps to a list)."""
    parser = _Forms()
    parser.feed(page)
    for form in parser.forms:
        if form["action"] == action and form["method"] == "post":
            data: dict[str, str | list[str]] = {}
            for name, value in form["fields"]:
                # Browsers drop the newline that starts a textarea's content.
                value = value.removeprefix("\n")
                if name not in data:
                    data[name] = value
                elif isinstance(data[name], list):
                    data[name].append(value)
                else:
                    data[name] = [data[name], value]
            return data
    raise AssertionError(f"no form posting to {action}")


def field_error(page: str, field_id: str) -> str:
    """Return the text of the error paragraph beside a field ('' if none)."""
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else ""


def text(response) -> str:
    """Return a page with its character references resolved (Jinja escapes ' as &#39;)."""
    return unescape(response.get_data(as_text=True))


def ban_form(client, **fields) -> dict:
    data = form_of(text(client.get("/console/bans")), "/console/bans")
    data.update(fields)
    return data


def assert_field_error(response, field: str, fragment: str = "", status: int = 422) -> None:
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert field in error["fields"], error
    messages = " ".join(error["fields"][field])
    assert fragment in messages, messages


# --- Seeding sites, comments and decisions -------------------------------------------------------

_sequence = iter(range(1, 10**6))


def make_site(key: str) -> Site:
    site = Site(key=key, name=key.title())
    db.session.add(site)
    db.session.commit()
    return site


def article_of(site: Site, external_id: str = "a1") -> Article:
    article = db.session.scalar(
        db.select(Article).where(Article.site_id == site.id, Article.external_id == external_id)
    )
    if article is None:
        article = Article(
            site_id=site.id,
            external_id=external_id,
            title=f"Article {external_id}",
            url=f"https://{site.key}.example/{external_id}",
        )
        db.session.add(article)
        db.session.commit()
    return article


def make_comment(
    site: Site,
    status: str = "held",
    *,
    article: str = "a1",
    body: str | None = None,
    key: str | None = None,
    toxicity: float | None = None,
    spam: float | None = None,
    reasons: list[str] | None = None,
    parent: Comment | None = None,
    age: int = 0,
    actor: str = "worker",
) -> Comment:
    """Store a comment as pending, then let `actor` decide it (with its audit row) if asked."""
    n = next(_sequence)
    text = body or f"Comment number {n} about the harbour bridge."
    now = utcnow() - timedelta(seconds=age)
    comment = Comment(
        site_id=site.id,
        article_id=article_of(site, article).id,
        parent_id=parent.id if parent else None,
        status=CommentStatus.PENDING,
        author_name=f"Author {n}",
        body_html=f"<p>{text}</p>",
        body_text=text,
        text_hash=text_fingerprint(text),
        reasons=[],
        commenter_key=key,
        delete_token_hash="0" * 64,
        created_at=now,
        updated_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    comment.root_id = (parent.root_id or parent.id) if parent else None
    db.session.add(AuditEntry(comment_id=comment.id, actor="author", to_status="pending"))
    db.session.commit()
    if status != "pending":
        record = DecisionRecord(
            comment.id,
            CommentStatus(status),
            reasons or [f"toxicity {toxicity or 0:.2f} below hold threshold 0.50"],
            toxicity=toxicity if toxicity is not None else 0.1,
            spam=spam if spam is not None else 0.1,
        )
        assert record_decisions([record], CommentStatus.PENDING, actor=actor) == [True]
        db.session.commit()
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def set_policy(key: str, policy: dict) -> None:
    db.session.execute(db.update(Site).where(Site.key == key).values(policy=policy))
    db.session.commit()


def scores(start: float, step: float, count: int) -> list[float]:
    """Evenly spaced scores, rounded to two decimals (so 0.55 is the float 0.55)."""
    return [round(start + step * i, 2) for i in range(count)]


def held(site: Site, toxicity: float, spam: float, key: str | None = None) -> int:
    """A comment the worker held with these scores; returns its id."""
    return make_comment(site, "held", toxicity=toxicity, spam=spam, key=key).id


def decide(ids: list[int], action: str, reason: str | None = None, who: str = "mia") -> None:
    """Decide held comments as a moderator would, through the moderation service."""
    items = [{"id": comment_id, "expected_status": "held"} for comment_id in ids]
    results = moderation.decide_many(action, items, moderation.moderator_actor(who), reason)
    assert all(result["error"] is None for result in results), results


# --- Bans through the admin API ------------------------------------------------------------------

BANS_ADMIN = "/api/v1/admin/bans"
BYSTANDER_IP = "198.51.100.1"


def send(client, ip: str | None = None, site: str = "demo", article: str = "a1", **fields):
    """Submit a comment from an IP address (a bystander's unless given); return the response."""
    payload = {"author_name": "Dana", "body": POLITE, **fields}
    return client.post(
        comments_url(article, site), json=payload, environ_base={"REMOTE_ADDR": ip or BYSTANDER_IP}
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def post_ban(client, token: str, **body):
    return client.post(BANS_ADMIN, json=body, headers=bearer(token))


def add(client, token: str, **body) -> dict:
    """Add a ban that must be accepted; return it."""
    body = {"reason": "trolling", **body}
    response = post_ban(client, token, **body)
    assert response.status_code == 201, response.json
    return response.json


def lift(client, token: str, ban_id: int):
    return client.post(f"{BANS_ADMIN}/{ban_id}/lift", headers=bearer(token))


def expire(ban_id: int) -> None:
    """Move a ban's end into the past, as if its time had run out."""
    db.session.execute(
        db.update(Ban).where(Ban.id == ban_id).values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()


# --- A fake Akismet: a real local server speaking comment-check --------------------------------

TEST_KEY = "test-key-123"
SPAM_WORD = "cheap-pills"
DISCARD_WORD = "casino-jackpot"
GUARANTEED_SPAM_AUTHOR = "akismet-guaranteed-spam"  # Akismet's documented test author


@dataclass
class Received:
    """One request as the fake Akismet saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]


@dataclass
class FakeAkismet:
    """Controls and records of the local comment-check server."""

    url: str
    mode: str = "normal"  # normal | slow | error | garbage | hangup
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class CommentCheckHandler(BaseHTTPRequestHandler):
    """Answers POST /1.1/comment-check the way rest.akismet.com documents it."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        fake: FakeAkismet = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True)
        form = dict(pairs)
        fake.received.append(Received(self.path, dict(self.headers), body, form))
        if fake.mode == "slow":
            fake.release.wait(5)  # longer than the client's timeout; teardown releases it
        elif fake.mode == "hangup":
            self.close_connection = True  # read the request, close without a word
            return
        elif fake.mode == "error":
            self.answer(b"Internal Server Error", status=500)
        elif fake.mode == "garbage":
            self.answer(b"<html>Service temporarily unavailable</html>")
        else:
            self.answer(*self.comment_check(form))

    @staticmethod
    def comment_check(form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        if form.get("api_key") != TEST_KEY:
            return b"invalid", {"X-akismet-debug-help": "We were unable to verify your API key."}
        for required in ("blog", "user_ip"):
            if not form.get(required):
                return b"invalid", {"X-akismet-debug-help": f'Empty "{required}" value'}
        content = form.get("comment_content", "")
        if DISCARD_WORD in content:
            return b"true", {"X-akismet-pro-tip": "discard"}
        if SPAM_WORD in content or form.get("comment_author") == GUARANTEED_SPAM_AUTHOR:
            return b"true", {}
        return b"false", {}

    def answer(self, body: bytes, headers: dict[str, str] | None = None, status: int = 200):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout test); nothing to answer

    def log_message(self, format, *args) -> None:
        pass  # keep the test output quiet


class JoiningServer(ThreadingHTTPServer):
    # Join handler threads on close so no socket outlives the test (ResourceWarning is an error).
    daemon_threads = False
    block_on_close = True


# --- Sanitizer attacks ---------------------------------------------------------------------------

# Hand-written hostile inputs; every one must come out with allowlisted markup only. The browser
# test (tests/test_sanitize_browser.py) loads this same list into Chromium.
ATTACKS: list[str] = [
    # Event handlers.
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)>hello",
    '<body onload="alert(1)">',
    "<b onmouseover=alert(1)>hover me</b>",
    '<input onfocus="alert(1)" autofocus>',
    "<p onclick=alert(1) style=color:red class=x id=y>clicky</p>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    '<a href="https://example.com" onmouseover="alert(1)">link</a>',
    "<strong/onmouseover=alert(1)>slash-separated</strong>",
    "<em\x0conmouseover=alert(1)>form feed separator</em>",
    "<b\nonclick\n=\nalert(1)>newlines</b>",
    # javascript: hrefs, plain and obfuscated.
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105'
    '&#0000112&#0000116&#0000058alert(1)">x</a>',
    '<a href="java&Tab;script:alert(1)">x</a>',
    '<a href="java&NewLine;script:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="java\x00script:alert(1)">x</a>',
    '<a href="java\u200bscript:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    "<a href=javascript:alert(1)>unquoted</a>",
    "<a href=`javascript:alert(1)`>backticks</a>",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="/relative/path">relative</a><a href="#frag">fragment</a><a href="//evil.test">pr</a>',
    '<a href="https://example.com" target="_blank" rel="opener" style="x" class="c">t</a>',
    '<a href="https://ok.test" href="javascript:alert(1)">duplicate href</a>',
    # SVG and MathML.
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><set attributeName="href" to="javascript:alert(1)"/></svg>',
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math><mtext><table><mglyph><svg><mtext><style><path id="</style><img onerror=alert(1) src>">',
    '<math href="javascript:alert(1)">CLICKME</math>',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    # Raw-text and parser-confusion elements.
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.test/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script>alert(1)",
    "<style>@import 'https://evil.test/x.css';</style>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="width: expression(alert(1));">ie</div>',
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "<title><img src=x onerror=alert(1)></title>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<noembed><img src=x onerror=alert(1)></noembed>",
    "<noframes><img src=x onerror=alert(1)></noframes>",
    "<template><img src=x onerror=alert(1)></template>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<iframe src=javascript:alert(1)></iframe>",
    '<object data="javascript:alert(1)"></object>',
    '<object data="data:text/html,<script>alert(1)</script>">',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<link rel="import" href="https://evil.test/x.html">',
    "<plaintext><img src=x onerror=alert(1)>",
    "<isindex type=image src=1 onerror=alert(1)>",
    # Comments, CDATA and declarations.
    "<!--<img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<!--><img src=x onerror=alert(1)>-->",
    "<![CDATA[<img src=x onerror=alert(1)>]]>",
    "<!DOCTYPE html><img src=x onerror=alert(1)>",
    '<?xml version="1.0"?><img src=x onerror=alert(1)>',
    # Unclosed and malformed tags.
    "<img src=x onerror=alert(1)//",
    '<a href="javascript:alert(1)"',
    '<a href="javascript:alert(1)">unclosed link',
    "<img src=x onerror=alert(1)",
    "<img src='x' onerror='alert(1)'",
    "<<img src=x onerror=alert(1)>>",
    "<img/src=x/onerror=alert(1)>",
    "<img src=`x` onerror=`alert(1)`>",
    '<img """><script>alert(1)</script>">',
    '<p title="a" "b" onclick=alert(1)>quotes</p>',
    "<b title='x' onclick='alert(1)' x='>'>attr-breaking</b>",
    '<a title="\'><img src=x onerror=alert(1)>">q</a>',
    '"><img src=x onerror=alert(1)>',
    "'><script>alert(1)</script>",
    "</p><img src=x onerror=alert(1)><p>",
    "<p><blockquote></p><img src=x onerror=alert(1)></blockquote>",
    "<a href='https://example.com'><a href='javascript:alert(1)'>nested</a></a>",
    # Polyglots.
    "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/"
    "</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
    "'\"--></style></script><script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)><!--",
    "<svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
    '-->\'"/></sCript><deTailS open x=">" ontoggle=(co\\u006efirm)``>',
    # Linkify edge cases: bare URLs must never become non-http(s) links.
    "javascript:alert(1) https://example.com",
    "javascript://example.com/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script> example.com",
    "ftp://example.com vbscript://example.com",
    'https://example.com/"onmouseover="alert(1)',
    "https://example.com/<img src=x onerror=alert(1)>",
    # Control, zero-width and bidi characters around markup.
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "<img\x00src=x\x00onerror=alert(1)>",
    "\x00<img src=x onerror=alert(1)>\x00",
    "<img src=x one\u200brror=alert(1)>",
    "\u202e<img src=x onerror=alert(1)>\u202c",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
]


def shared_xss_dir() -> Path:
    """Return the shared corpus directory, from TALKBACK_SHARED_DATA or beside the repo."""
    base = os.environ.get("TALKBACK_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data"
    return Path(base) / "xss"


def corpus_payloads() -> list[tuple[str, str]]:
    """Return (source, payload) for every payload in the shared corpus, or [] without it."""
    root = shared_xss_dir()
    if not root.is_dir():
        return []
    payloads = []
    # The corpus README says to split on "\n" only: some payloads hold \x0b, \x0c, \x1c-\x1e,
    # \x85 or \u2028, which str.splitlines() would also break on; xss_alert.txt has CRLF endings.
    text_files = sorted((root / "payloadsallthethings").glob("*.txt"))
    for path in [*text_files, root / "xss_payloads.txt"]:
        for n, line in enumerate(path.read_bytes().decode("utf-8").split("\n"), 1):
            line = line.removesuffix("\r")
            if line.strip():
                payloads.append((f"{path.name}:{n}", line))
    blns = root / "blns.jsonl"
    for n, line in enumerate(blns.read_bytes().decode("utf-8").split("\n"), 1):
        if line.strip():
            payloads.append((f"{blns.name}:{n}", json.loads(line)))
    return payloads


# --- Databases -----------------------------------------------------------------------------------


@contextlib.contextmanager
def temporary_database(tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database on the configured server; drop it afterwards."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_dir / f'talkback-{uuid.uuid4().hex[:8]}.db'}"
        return
    url = sa.make_url(database_url(server_url))
    name = f"talkback_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    """Wait up to 30 s for a process to answer 200 at url; fail the test with its log if not."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"API process exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"API process not healthy after 30 s:\n{log.read_text()[-3000:]}")


def insert_early_article() -> tuple[int, int]:
    """Store the site "demo" and its article "a1" in plain SQL, with only the columns the
    early schemas had (the models have grown since); return (site id, article id)."""
    site_id = db.session.execute(
        sa.text(
            "INSERT INTO sites (key, name, policy, allowed_origins, created_at)"
            " VALUES ('demo', 'Demo', '{}', '[]', CURRENT_TIMESTAMP) RETURNING id"
        )
    ).scalar_one()
    article_id = db.session.execute(
        sa.text(
            "INSERT INTO articles (site_id, external_id, is_closed, created_at)"
            " VALUES (:site, 'a1', false, CURRENT_TIMESTAMP) RETURNING id"
        ),
        {"site": site_id},
    ).scalar_one()
    return site_id, article_id


def insert_early_comment(site_id: int, article_id: int, parent_id: int | None = None) -> int:
    """Store an approved comment in plain SQL with the early schemas' columns; return its id."""
    return db.session.execute(
        sa.text(
            "INSERT INTO comments (site_id, article_id, parent_id, status, author_name,"
            " body_html, body_text, text_hash, reasons, delete_token_hash, created_at,"
            " updated_at) VALUES (:site, :article, :parent, 'approved', 'Dana', '<p>Hi</p>',"
            " 'Hi', :hash, '[]', :hash, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
        ),
        {"site": site_id, "article": article_id, "parent": parent_id, "hash": "0" * 64},
    ).scalar_one()
