"""Reader-supplied HTML made safe to serve; the only module that imports bleach.

Everything a reader types goes through here before it is stored: `sanitize_body` for comment
bodies (a small allowlist of inline markup, links with a fixed rel, bare URLs linkified, plain-text
newlines turned into paragraphs) and `plain_text` for short fields such as a name.
"""

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import partial
from html import unescape
from html.parser import HTMLParser

from bleach import html5lib_shim
from bleach.linkifier import LinkifyFilter, build_url_re
from bleach.sanitizer import Cleaner

ALLOWED_TAGS: frozenset[str] = frozenset({"b", "i", "em", "strong", "p", "br", "blockquote", "a"})
LINK_REL = "nofollow ugc noopener noreferrer"

# Only href survives, and only on links; rel is added afterwards by the link policy, so a rel the
# reader wrote is never kept.
_ALLOWED_ATTRIBUTES = {"a": ["href"]}
_ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Elements whose contents are removed together with the tag. bleach's strip mode keeps the inner
# text of every tag it strips, and it never lets the parser see these as elements, so a browser's
# raw-text rules do not apply: `<script>alert(1)</script>` would leave "alert(1)" as prose and
# `<style><img src=x onerror=...>` would be parsed as markup. We let the parser build these
# elements (so script, style, xmp, iframe, noembed, noframes and noscript get raw-text content,
# textarea and title get RCDATA, svg and math get foreign content, exactly as a browser would) and
# then drop each element with everything inside it. Their contents are code or fallback content,
# never prose a reader meant others to read, and keeping it would also feed attack payloads into
# the spam and toxicity scoring. If the dropping ever failed, the sanitizer below still strips the
# tags themselves, so the worst case is escaped text, never live markup.
_DROP_CONTENT_TAGS = frozenset(
    {
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "template",
        "noscript",
        "svg",
        "math",
        "textarea",
        "title",
        "xmp",
        "noembed",
        "noframes",
    }
)

# Block markup of the reader's own; when present we leave their line structure alone.
_BLOCK_TAGS = frozenset({"p", "br", "blockquote"})

# Links must be absolute http(s) or mailto. bleach's protocol check also lets relative URLs and
# bare fragments through, and linkify's own links bypass the sanitizer, so every link (old and
# new) is checked again here. The raw attribute value is matched, so an entity-encoded scheme
# is refused rather than decoded and trusted.
_SAFE_HREF_RE = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
# Linkify only ever writes http(s) links; bleach's default also matches ftp:, data: and others.
_URL_RE = build_url_re(protocols=["http", "https"])

# NUL and other C0/C1 control characters are invisible, break storage and display, and bleach
# would turn them into "?"; tab, LF and CR are kept. A form feed is HTML whitespace, so it becomes
# a space rather than gluing words (or tag names and attributes) together.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# A str decoded from JSON may hold lone surrogates ("\ud800"), which cannot be encoded as UTF-8.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

# Format characters (Unicode category Cf: zero-width spaces, word joiners, bidi embeddings,
# overrides and isolates, soft hyphens) are invisible. In a name or a title, where the text sits
# inline beside the page's own, an override (U+202E) can reverse what follows it and a zero-width
# space can clone a colleague's name: they are removed, except the joiners some scripts and emoji
# need (ZWNJ, ZWJ), the directional marks that cannot reorder anything (LRM, RLM, ALM) and the
# tag characters of subdivision flags.
_KEPT_FORMAT = frozenset("\u200c\u200d\u200e\u200f\u061c") | frozenset(
    chr(code) for code in range(0xE0020, 0xE0080)
)
# Letters and symbols that draw nothing, favourites for "blank" names.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")

_HTML_SPACE = " \t\n\r\f"
_BLANK_LINE_RE = re.compile(r"[ \t]*\n(?:[ \t]*\n)+[ \t]*")
_NEWLINE_RE = re.compile(r"[ \t]*\n[ \t]*")
_TEXT_TOKENS = frozenset({"Characters", "SpaceCharacters"})


@dataclass(frozen=True)
class SanitizedBody:
    """A comment body as served to readers and as scored."""

    html: str  # safe HTML to serve to readers
    text: str  # plain text (no markup, entities decoded, whitespace normalised) kept for scoring


def sanitize_body(raw: str) -> SanitizedBody:
    """Turn a reader's comment body into safe HTML and plain text."""
    html = _cleaners.body.clean(_precleaned(raw))
    return SanitizedBody(html=html, text=_html_to_text(html))


def plain_text(raw: str) -> str:
    """Strip all markup and invisible format characters from a short field (a name or a
    title) and return plain text."""
    escaped = _cleaners.plain.clean(_precleaned(raw))
    # The result is text, not HTML: templates must escape it like any other string.
    text = "".join(
        char
        for char in unescape(escaped)
        if char in _KEPT_FORMAT or unicodedata.category(char) != "Cf"
    )
    return " ".join(text.split())


def has_visible_text(text: str) -> bool:
    """Tell whether text holds something a reader can see: a letter, digit, punctuation or
    symbol, not only spaces, zero-width and other format characters, marks or blank-looking
    fillers."""
    return any(
        unicodedata.category(char)[0] in "LNPS" and char not in _BLANK_LOOKING for char in text
    )


def _precleaned(raw: str) -> str:
    raw = _SURROGATE_RE.sub("\ufffd", raw)
    return _CONTROL_RE.sub("", raw.replace("\f", " "))


def _link_policy(attrs: dict, new: bool = False) -> dict | None:
    """Keep a link only with an absolute http(s) or mailto href, and give it our rel alone."""
    href = attrs.get((None, "href"), "").strip(_HTML_SPACE)
    if not _SAFE_HREF_RE.match(href):
        # Returning None unwraps the link and keeps its text.
        return None
    return {(None, "href"): href, (None, "rel"): LINK_REL, "_text": attrs.get("_text", "")}


class _DropContentFilter(html5lib_shim.Filter):
    """Remove the drop-content elements together with everything inside them."""

    def __iter__(self):
        # The stream comes from walking a parsed tree, so start and end tags always pair up.
        depth = 0
        for token in super().__iter__():
            kind = token["type"]
            if depth:
                if kind == "StartTag":
                    depth += 1
                elif kind == "EndTag":
                    depth -= 1
                continue
            if kind in ("StartTag", "EmptyTag") and token["name"].lower() in _DROP_CONTENT_TAGS:
                if kind == "StartTag":
                    depth = 1
                continue
            yield token


class _ParagraphFilter(html5lib_shim.Filter):
    """Turn a plain-text body's blank lines into paragraphs and its other newlines into <br>."""

    def __iter__(self):
        # Comment bodies are small, so buffering the whole stream to look ahead is fine.
        tokens = _merge_text(list(super().__iter__()))
        if any(t["type"] in ("StartTag", "EmptyTag") and t["name"] in _BLOCK_TAGS for t in tokens):
            yield from tokens
            return

        # Split into paragraphs at blank lines outside any element; a blank line inside <b> or
        # <a> becomes line breaks instead, so no element has to be closed and reopened.
        paragraphs: list[list[dict]] = [[]]
        depth = 0
        for token in tokens:
            if token["type"] == "StartTag":
                depth += 1
            elif token["type"] == "EndTag":
                depth -= 1
            elif token["type"] in _TEXT_TOKENS and depth == 0:
                for i, part in enumerate(_BLANK_LINE_RE.split(token["data"])):
                    if i:
                        paragraphs.append([])
                    if part:
                        paragraphs[-1].append({"type": "Characters", "data": part})
                continue
            paragraphs[-1].append(token)

        paragraphs = [p for p in map(_trimmed, paragraphs) if p]
        if len(paragraphs) == 1:
            # A single paragraph is left unwrapped: "hello" stays "hello".
            yield from _with_line_breaks(paragraphs[0])
            return
        for paragraph in paragraphs:
            yield {"type": "StartTag", "name": "p", "data": {}}
            yield from _with_line_breaks(paragraph)
            yield {"type": "EndTag", "name": "p"}


def _merge_text(tokens: list[dict]) -> list[dict]:
    merged: list[dict] = []
    for token in tokens:
        if token["type"] in _TEXT_TOKENS and merged and merged[-1]["type"] == "Characters":
            merged[-1] = {"type": "Characters", "data": merged[-1]["data"] + token["data"]}
        elif token["type"] in _TEXT_TOKENS:
            merged.append({"type": "Characters", "data": token["data"]})
        else:
            merged.append(token)
    return merged


def _trimmed(paragraph: list[dict]) -> list[dict]:
    """Drop whitespace at the paragraph's edges, so it starts and ends without a <br>."""
    paragraph = list(paragraph)
    while paragraph and paragraph[0]["type"] == "Characters":
        data = paragraph[0]["data"].lstrip(_HTML_SPACE)
        if data:
            paragraph[0] = {"type": "Characters", "data": data}
            break
        paragraph.pop(0)
    while paragraph and paragraph[-1]["type"] == "Characters":
        data = paragraph[-1]["data"].rstrip(_HTML_SPACE)
        if data:
            paragraph[-1] = {"type": "Characters", "data": data}
            break
        paragraph.pop()
    return paragraph


def _with_line_breaks(tokens: list[dict]):
    for token in tokens:
        if token["type"] != "Characters" or "\n" not in token["data"]:
            yield token
            continue
        for i, line in enumerate(_NEWLINE_RE.split(token["data"])):
            if i:
                yield {"type": "EmptyTag", "name": "br", "data": {}}
            if line:
                yield {"type": "Characters", "data": line}


class _Cleaner(Cleaner):
    """A bleach Cleaner whose parser builds the drop-content elements so they can be removed."""

    def __init__(self, tags: frozenset[str], filters: list) -> None:
        super().__init__(
            tags=tags,
            attributes=_ALLOWED_ATTRIBUTES,
            protocols=_ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=filters,
        )
        # bleach turns every tag outside `tags` into text before tree building; the drop-content
        # tags must reach the tree builder as elements to get their browser content models.
        # Cleaner.clean() walks self.parser's tree with self.walker, then applies
        # BleachSanitizerFilter (with the strict `tags`) and then `filters`; we slot the
        # dropping in between the walk and the sanitizer.
        self.parser = html5lib_shim.BleachHTMLParser(
            tags=tags | _DROP_CONTENT_TAGS,
            strip=True,
            consume_entities=False,
            namespaceHTMLElements=False,
        )
        self.walker = partial(_walk_without_dropped, self.walker)


def _walk_without_dropped(walker, tree):
    return _DropContentFilter(walker(tree))


class _ThreadCleaners(threading.local):
    """Per-thread cleaners: bleach's parser keeps state, so a Cleaner is not thread-safe."""

    def __init__(self) -> None:
        # Building both costs about 0.4 ms, once per thread; cleaning a comment is about 1 ms.
        linkify = partial(
            LinkifyFilter, callbacks=[_link_policy], parse_email=False, url_re=_URL_RE
        )
        self.body = _Cleaner(ALLOWED_TAGS, filters=[linkify, _ParagraphFilter])
        self.plain = _Cleaner(frozenset(), filters=[])


_cleaners = _ThreadCleaners()


class _TextExtractor(HTMLParser):
    """Collect the text of our own sanitized HTML, with block boundaries as newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def _html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    # str.split() collapses Unicode spaces too but leaves zero-width and format characters, which
    # the scorer normalises itself.
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).split("\n"))
    return "\n".join(line for line in lines if line)
