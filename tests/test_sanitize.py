"""Table tests for the sanitizer: hand-written attacks, allowed markup, and the shared corpus."""

import threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest

from service.core.sanitize import ALLOWED_TAGS, LINK_REL, SanitizedBody, plain_text, sanitize_body

from .helpers import ATTACKS, corpus_payloads, shared_xss_dir

SAFE_HREF_PREFIXES = ("http://", "https://", "mailto:")


class _Audit(HTMLParser):
    """Record every tag, attribute, href and markup construct in the sanitizer's output."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        names = [name for name, _ in attrs]
        if tag != "a":
            if names:
                self.problems.append(f"attributes {names} on <{tag}>")
            return
        if sorted(names) != ["href", "rel"]:
            self.problems.append(f"attributes {names} on <a>")
        for name, value in attrs:
            value = value or ""
            if name == "href" and not value.lower().startswith(SAFE_HREF_PREFIXES):
                self.problems.append(f"href {value!r}")
            if name == "rel" and value != LINK_REL:
                self.problems.append(f"rel {value!r}")

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"end tag </{tag}>")

    def handle_comment(self, data):
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data):
        self.problems.append(f"unknown declaration {data!r}")


def audit(html: str) -> list[str]:
    """Return what is wrong with a piece of sanitizer output (an empty list when it is safe)."""
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser.problems


def check_payload(raw: str) -> list[str]:
    """Sanitize raw, then audit the output, its re-sanitized form and its plain text."""
    first = sanitize_body(raw)
    problems = audit(first.html)
    second = sanitize_body(first.html)
    problems += [f"second pass: {p}" for p in audit(second.html)]
    if second.html != first.html:
        problems.append(f"unstable: {first.html!r} -> {second.html!r}")
    if "\x00" in first.html or "\x00" in first.text:
        problems.append("NUL survived")
    return problems


@pytest.mark.parametrize("raw", ATTACKS, ids=[f"attack{i:03d}" for i in range(len(ATTACKS))])
def test_attack_is_neutralised(raw):
    result = sanitize_body(raw)
    assert isinstance(result, SanitizedBody)
    assert check_payload(raw) == [], result.html


def test_attack_table_is_large_and_unique():
    assert len(ATTACKS) >= 60
    assert len(set(ATTACKS)) == len(ATTACKS)


# Allowed markup and the conversions readers rely on.


@pytest.mark.parametrize(
    ("raw", "html"),
    [
        ("<b>bold</b>", "<b>bold</b>"),
        (
            "<i>i</i> <em>em</em> <strong>strong</strong>",
            "<i>i</i> <em>em</em> <strong>strong</strong>",
        ),
        ("<p>one</p><p>two<br>three</p>", "<p>one</p><p>two<br>three</p>"),
        ("<blockquote>quoted</blockquote>reply", "<blockquote>quoted</blockquote>reply"),
        (
            '<a href="https://example.com">x</a>',
            f'<a href="https://example.com" rel="{LINK_REL}">x</a>',
        ),
        (
            '<a href="https://example.com" rel="opener" target="_blank" title="t">x</a>',
            f'<a href="https://example.com" rel="{LINK_REL}">x</a>',
        ),
        (
            '<a href="mailto:editor@example.com">mail</a>',
            f'<a href="mailto:editor@example.com" rel="{LINK_REL}">mail</a>',
        ),
        (
            "see https://example.com/path?q=1 now",
            f'see <a href="https://example.com/path?q=1" rel="{LINK_REL}">'
            "https://example.com/path?q=1</a> now",
        ),
        (
            "example.com",
            f'<a href="http://example.com" rel="{LINK_REL}">example.com</a>',
        ),
        # An existing link's text is not linkified a second time.
        (
            '<a href="https://a.example.com">https://b.example.com</a>',
            f'<a href="https://a.example.com" rel="{LINK_REL}">https://b.example.com</a>',
        ),
        # Relative links and links without href are unwrapped, keeping their text.
        ('<a href="/about">about</a> <a name="x">anchor</a>', "about anchor"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ("<b>bad</b><script>alert(1)</script> <style>b{}</style>tail", "<b>bad</b> tail"),
        ("<span>inline</span> <u>under</u>", "inline under"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("line one\nline two", "line one<br>line two"),
        (
            "First paragraph,\nsecond line.\n\nSecond paragraph.\r\n\r\n\n  Third.  \n",
            "<p>First paragraph,<br>second line.</p><p>Second paragraph.</p><p>Third.</p>",
        ),
        ("<b>bold\n\nstill bold</b>\n\nafter", "<p><b>bold<br><br>still bold</b></p><p>after</p>"),
        # The reader's own block markup keeps their newlines as they are.
        ("<p>one</p>\n\n<p>two</p>", "<p>one</p>\n\n<p>two</p>"),
        ("a\x00b", "ab"),
        ("", ""),
        ("   \n\n  ", ""),
    ],
)
def test_allowed_markup_and_conversions(raw, html):
    assert sanitize_body(raw).html == html


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("<img src=x onerror=alert(1)>hello", "hello"),
        ("Fish &amp; chips &lt;3 &eacute;t&eacute; &#x263A;", "Fish & chips <3 été ☺"),
        ("  lots   of\tspace  \n\n\n  next  line ", "lots of space\nnext line"),
        ("<p>one</p><p>two<br>three</p><blockquote>four</blockquote>", "one\ntwo\nthree\nfour"),
        ("<script>alert(1)</script><style>x{}</style>visible", "visible"),
        ("see https://example.com/?a=1&amp;b=2", "see https://example.com/?a=1&b=2"),
        (
            "zero\u200bwidth\u200d and \u202ebidi\u202c",
            "zero\u200bwidth\u200d and \u202ebidi\u202c",
        ),
        ("non&nbsp;breaking", "non breaking"),
    ],
)
def test_plain_text_for_scoring(raw, text):
    assert sanitize_body(raw).text == text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Jane Doe", "Jane Doe"),
        ("<b>Jane</b>  <i>Doe</i>", "Jane Doe"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("a < b", "a < b"),
        ("<script>alert(1)</script>Jane", "Jane"),
        ("<img src=x onerror=alert(1)>Jane\n\tDoe\x00", "Jane Doe"),
        ("", ""),
    ],
)
def test_plain_text_field(raw, text):
    assert plain_text(raw) == text


def test_never_raises_on_odd_strings():
    odd = [
        "".join(chr(c) for c in range(32)),
        "\x00" * 10,
        "\ud800 lone \udfff surrogates",
        "\ufeff\ufffe\uffff",
        "<" * 500 + ">" * 500,
        "<a " * 300,
        "&" * 300 + "#" * 300 + ";",
        "\U0001f600" * 100,
        "x" * 100_000,
    ]
    for raw in odd:
        result = sanitize_body(raw)
        assert audit(result.html) == []
        assert "\x00" not in result.html + result.text
        # Everything must be storable as UTF-8.
        (result.html + result.text).encode("utf-8")
        plain_text(raw).encode("utf-8")


def test_threads_get_identical_results():
    # bleach's Cleaner is not thread-safe; the module keeps one per thread.
    inputs = [f"<b>{i}</b> https://example.com/{i}\n\n<script>x</script>" for i in range(200)]
    expected = [sanitize_body(raw) for raw in inputs]
    barrier = threading.Barrier(8)

    def run(_):
        barrier.wait()
        return [sanitize_body(raw) for raw in inputs]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for results in pool.map(run, range(8)):
            assert results == expected


# The shared attack corpus (not part of the repository).


def test_shared_corpus():
    root = shared_xss_dir()
    if not root.is_dir():
        pytest.skip(f"shared XSS corpus not found at {root} (set TALKBACK_SHARED_DATA)")
    payloads = corpus_payloads()
    assert len(payloads) > 1000, f"corpus at {root} looks truncated: {len(payloads)} payloads"
    failures = []
    for source, raw in payloads:
        problems = check_payload(raw)
        if problems:
            failures.append(f"{source}: {raw[:120]!r}: {problems[:3]}")
    assert not failures, f"{len(failures)} of {len(payloads)} payloads failed:\n" + "\n".join(
        failures[:10]
    )
