"""Readers of other services' comment exports: Disqus XML, WordPress WXR, Isso's SQLite database
and our own JSON Lines.

Each reader turns a file into a stream of ArticleRecord and CommentRecord, in file order, reading
it in chunks (the XML through defusedxml's expat parser, which refuses DTDs and entities, so no
XXE or billion laughs) and dropping every element once read, so memory stays flat however big
the file is. A malformed file raises ImportFileError naming the line (and column when known).
The engine that writes the records is service.core.imports.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from service.errors import UnprocessableError
from service.models import CommentStatus

CHUNK_BYTES = 64 * 1024
EXPORT_FORMAT = "talkback-export"
EXPORT_VERSION = 1

DISQUS = "{http://disqus.com}"
DISQUS_INTERNALS = "{http://disqus.com/disqus-internals}"
WP = "{http://wordpress.org/export/1.2/}"
# Older WordPress versions write 1.0 and 1.1 in the same shape.
WP_NAMESPACES = tuple(f"{{http://wordpress.org/export/1.{n}/}}" for n in (2, 1, 0))

Progress = Callable[[int], None]


class ImportFileError(UnprocessableError):
    """The file cannot be imported: malformed, or a record that makes no sense; names the line."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = ""
        if line:
            where = f"line {line}" + (f", column {column}" if column is not None else "") + ": "
        super().__init__(where + message, {"file": [where + message]})
        self.line = line
        self.column = column


@dataclass
class ArticleRecord:
    """An article of the source, named by `key` in its comments."""

    key: str
    external_id: str
    url: str | None
    title: str | None
    line: int
    is_closed: bool = False
    premoderated: bool = False


@dataclass
class CommentRecord:
    """A comment of the source, with its e-mail and IP in clear (hashed when stored)."""

    source_id: str
    article_key: str
    parent_source_id: str | None
    author_name: str
    created_at: datetime
    status: CommentStatus
    body_html: str
    line: int
    title: str | None = None
    email: str | None = None
    ip: str | None = None
    # Our own format only: columns copied as exported (hashes, scores, votes, picks).
    columns: dict = field(default_factory=dict)


Record = ArticleRecord | CommentRecord


# --- Streaming XML -------------------------------------------------------------------------------


class _Collector:
    """An ElementTree target that hands back each record element with its line once it ends,
    and takes it out of its parent so nothing read stays in memory."""

    def __init__(self, record_tags: frozenset[str], depth: int):
        self.record_tags = record_tags
        self.depth = depth
        self.builder = TreeBuilder()
        self.stack: list[tuple[Element, int]] = []
        self.ready: list[tuple[Element, int]] = []
        self.parser: DefusedXMLParser | None = None

    def line(self) -> int:
        return self.parser.parser.CurrentLineNumber if self.parser else 0

    def start(self, tag, attrs):
        element = self.builder.start(tag, attrs)
        self.stack.append((element, self.line()))
        return element

    def end(self, tag):
        element = self.builder.end(tag)
        _, line = self.stack.pop()
        # Only at the records' own depth: a post's <thread dsq:id/> is a reference, not a thread.
        if tag in self.record_tags and len(self.stack) == self.depth:
            self.ready.append((element, line))
            if self.stack:
                self.stack[-1][0].remove(element)
        return element

    def data(self, text):
        self.builder.data(text)

    def close(self):
        return self.builder.close()


def iter_xml(
    path: Path, record_tags: frozenset[str], depth: int, progress: Progress | None = None
) -> Iterator[tuple[Element, int]]:
    """Yield each element named in record_tags that sits `depth` elements below the top (1:
    children of the root), with the line it starts on, as it ends."""
    collector = _Collector(record_tags, depth)
    parser = DefusedXMLParser(
        target=collector, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    collector.parser = parser
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                parser.feed(chunk)
                yield from collector.ready
                collector.ready.clear()
                if progress:
                    progress(len(chunk))
            parser.close()
            yield from collector.ready
    except ParseError as error:
        line, column = error.position
        message = str(error).split(": line")[0]
        raise ImportFileError(f"not well-formed XML ({message})", line, column) from None
    except DefusedXmlException as error:
        raise ImportFileError(
            f"the file declares a DTD or entities, which imports refuse ({type(error).__name__})",
            collector.line(),
        ) from None
    except OSError as error:
        raise ImportFileError(f"cannot read {path}: {error.strerror}") from None


def _text(element: Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _flag(element: Element, path: str) -> bool:
    return _text(element, path).lower() in {"true", "1"}


def _date(value: str, line: int, what: str) -> datetime:
    """Parse an ISO 8601 date ("2013-01-01T12:00:00Z" or "2013-01-01 12:00:00", UTC when no
    zone) into our naive UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ImportFileError(f"{what} is not a date: {value!r}", line) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _article_id(identifier: str, url: str, mode: str, line: int) -> str:
    external_id = url if mode == "url" else (identifier or url)
    if not external_id:
        raise ImportFileError("the article has neither an id nor a link", line)
    if len(external_id) > 200:
        raise ImportFileError(
            f"article id longer than 200 characters ({external_id[:60]}…); try --article-id id",
            line,
        )
    return external_id


# --- Disqus --------------------------------------------------------------------------------------


def read_disqus(path: Path, article_id: str, progress: Progress | None = None) -> Iterator[Record]:
    """Read a Disqus export: <thread> elements are articles, <post> elements comments.

    The article id is the thread's <id> (the identifier the embed was given) or, without one, its
    <link>; `article_id="url"` always takes the link.
    """
    tags = frozenset({DISQUS + "thread", DISQUS + "post", DISQUS + "category"})
    for element, line in iter_xml(path, tags, 1, progress):
        tag = element.tag
        if tag == DISQUS + "thread":
            key = element.get(DISQUS_INTERNALS + "id")
            if not key:
                raise ImportFileError("a <thread> has no dsq:id attribute", line)
            link = _text(element, DISQUS + "link")
            yield ArticleRecord(
                key=key,
                external_id=_article_id(_text(element, DISQUS + "id"), link, article_id, line),
                url=link or None,
                title=_text(element, DISQUS + "title") or None,
                line=line,
                is_closed=_flag(element, DISQUS + "isClosed"),
            )
        elif tag == DISQUS + "post":
            yield _disqus_post(element, line)


def _disqus_post(element: Element, line: int) -> CommentRecord:
    source_id = element.get(DISQUS_INTERNALS + "id")
    if not source_id:
        raise ImportFileError("a <post> has no dsq:id attribute", line)
    thread = element.find(DISQUS + "thread")
    thread_id = thread.get(DISQUS_INTERNALS + "id") if thread is not None else None
    if not thread_id:
        raise ImportFileError(f"post {source_id} names no thread", line)
    parent = element.find(DISQUS + "parent")
    created = _text(element, DISQUS + "createdAt")
    if not created:
        raise ImportFileError(f"post {source_id} has no createdAt", line)
    if _flag(element, DISQUS + "isDeleted"):
        status = CommentStatus.DELETED
    elif _flag(element, DISQUS + "isSpam"):
        status = CommentStatus.REJECTED
    elif _text(element, DISQUS + "isApproved").lower() == "false":
        # Waiting for a moderator at Disqus: it waits for one here too.
        status = CommentStatus.HELD
    else:
        status = CommentStatus.APPROVED
    author = element.find(DISQUS + "author")
    name = email = ""
    if author is not None:
        name = _text(author, DISQUS + "name") or _text(author, DISQUS + "username")
        email = _text(author, DISQUS + "email")
    message = element.find(DISQUS + "message")
    return CommentRecord(
        source_id=source_id,
        article_key=thread_id,
        parent_source_id=(parent.get(DISQUS_INTERNALS + "id") or None)
        if parent is not None
        else None,
        author_name=name,
        created_at=_date(created, line, f"post {source_id}'s createdAt"),
        status=status,
        body_html=(message.text or "") if message is not None else "",
        line=line,
        email=email or None,
        ip=_text(element, DISQUS + "ipAddress") or None,
    )


# --- WordPress -----------------------------------------------------------------------------------

WP_STATUSES = {
    "1": CommentStatus.APPROVED,
    "approve": CommentStatus.APPROVED,
    "0": CommentStatus.HELD,
    "hold": CommentStatus.HELD,
    "spam": CommentStatus.REJECTED,
    "trash": CommentStatus.DELETED,
}
# Pingbacks and trackbacks are links from other blogs, not readers' comments.
WP_SKIPPED_TYPES = frozenset({"pingback", "trackback"})


@dataclass
class Skipped:
    """A record the reader leaves out on purpose, and why."""

    reason: str
    line: int


def read_wordpress(
    path: Path, article_id: str, progress: Progress | None = None
) -> Iterator[Record | Skipped]:
    """Read a WordPress WXR file: each <item> is an article, its <wp:comment>s its comments.

    The article id is wp:post_id; `article_id="url"` takes the item's <link>. An item is held in
    memory until it ends (one post and its comments), never the whole file.
    """
    for item, line in iter_xml(path, frozenset({"item"}), 2, progress):
        wp = _wp_namespace(item)
        post_id = _text(item, wp + "post_id")
        link = _text(item, "link")
        comments = item.findall(wp + "comment")
        if not comments:
            continue
        if not post_id:
            raise ImportFileError("an <item> with comments has no wp:post_id", line)
        yield ArticleRecord(
            key=post_id,
            external_id=_article_id(post_id, link, article_id, line),
            url=link or None,
            title=_text(item, "title") or None,
            line=line,
            is_closed=_text(item, wp + "comment_status") == "closed",
        )
        for offset, comment in enumerate(comments):
            yield _wp_comment(comment, wp, post_id, line, offset)


def _wp_namespace(item: Element) -> str:
    for namespace in WP_NAMESPACES:
        if item.find(namespace + "post_id") is not None:
            return namespace
    return WP


def _wp_comment(
    comment: Element, wp: str, post_id: str, item_line: int, offset: int
) -> CommentRecord | Skipped:
    # Elements inside an item carry no line of their own: name the item's.
    line = item_line
    source_id = _text(comment, wp + "comment_id")
    if not source_id:
        raise ImportFileError(f"comment {offset + 1} of post {post_id} has no wp:comment_id", line)
    kind = _text(comment, wp + "comment_type")
    if kind in WP_SKIPPED_TYPES:
        return Skipped(kind, line)
    approved = _text(comment, wp + "comment_approved").lower()
    status = WP_STATUSES.get(approved)
    if status is None:
        raise ImportFileError(
            f"comment {source_id} has an unknown wp:comment_approved {approved!r}", line
        )
    date = _text(comment, wp + "comment_date_gmt")
    if not date or date.startswith("0000"):
        # Unapproved comments may have no GMT date; the local one is the best there is.
        date = _text(comment, wp + "comment_date")
    if not date:
        raise ImportFileError(f"comment {source_id} has no date", line)
    parent = _text(comment, wp + "comment_parent")
    return CommentRecord(
        source_id=source_id,
        article_key=post_id,
        parent_source_id=parent if parent and parent != "0" else None,
        author_name=_text(comment, wp + "comment_author"),
        created_at=_date(date, line, f"comment {source_id}'s date"),
        status=status,
        body_html=_wp_paragraphs(
            (comment.find(wp + "comment_content").text or "")
            if comment.find(wp + "comment_content") is not None
            else ""
        ),
        line=line,
        email=_text(comment, wp + "comment_author_email") or None,
        ip=_text(comment, wp + "comment_author_IP") or None,
    )


def _wp_paragraphs(content: str) -> str:
    # WordPress stores comments as text with line breaks (wpautop adds the markup when shown);
    # our sanitizer turns plain-text newlines into paragraphs itself.
    return content


# --- Our own JSON Lines --------------------------------------------------------------------------

# Columns of an exported comment copied as they are.
COPIED_COLUMNS = (
    "shadow",
    "updated_at",
    "decided_at",
    "edited_at",
    "featured_at",
    "featured_by",
    "likes",
    "dislikes",
    "top_score",
    "prev_top_score",
    "toxicity_score",
    "spam_score",
    "reasons",
    "commenter_key",
    "sso_id",
    "badges",
    "email_hash",
    "email_domain_hash",
    "ip_hash",
    "network_hash",
)
DATE_COLUMNS = frozenset({"updated_at", "decided_at", "edited_at", "featured_at"})


def read_talkback(
    path: Path, article_id: str, progress: Progress | None = None
) -> Iterator[Record]:
    """Read our own export (service.core.exports): a header line, then articles and comments."""
    try:
        with path.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                if progress:
                    progress(len(raw))
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
                except UnicodeDecodeError as error:
                    raise ImportFileError(f"not UTF-8 ({error.reason})", number) from None
                except json.JSONDecodeError as error:
                    raise ImportFileError(f"not JSON ({error.msg})", number, error.colno) from None
                if not isinstance(data, dict):
                    raise ImportFileError("a line must be a JSON object", number)
                if number == 1:
                    _check_header(data)
                    continue
                yield _talkback_record(data, number)
    except OSError as error:
        raise ImportFileError(f"cannot read {path}: {error.strerror}") from None


def _check_header(data: dict) -> None:
    if data.get("format") != EXPORT_FORMAT:
        raise ImportFileError(f'the first line is not a header with "format": "{EXPORT_FORMAT}"', 1)
    if data.get("version") != EXPORT_VERSION:
        raise ImportFileError(f"unknown format version {data.get('version')!r}", 1)


def _talkback_record(data: dict, line: int) -> Record:
    kind = data.get("type")
    try:
        if kind == "article":
            return ArticleRecord(
                key=str(data["id"]),
                external_id=str(data["id"]),
                url=data.get("url"),
                title=data.get("title"),
                line=line,
                is_closed=bool(data.get("is_closed")),
                premoderated=bool(data.get("premoderated")),
            )
        if kind == "comment":
            columns = {name: data[name] for name in COPIED_COLUMNS if name in data}
            for name in DATE_COLUMNS & columns.keys():
                if columns[name] is not None:
                    columns[name] = _date(columns[name], line, name)
            parent = data.get("parent_id")
            return CommentRecord(
                source_id=str(data["id"]),
                article_key=str(data["article"]),
                parent_source_id=str(parent) if parent is not None else None,
                author_name=data.get("author_name") or "",
                created_at=_date(str(data["created_at"]), line, "created_at"),
                status=CommentStatus(data["status"]),
                body_html=data.get("body_html") or "",
                title=data.get("title"),
                line=line,
                columns=columns,
            )
    except KeyError as error:
        raise ImportFileError(f"a {kind} without {error.args[0]!r}", line) from None
    except ValueError as error:
        raise ImportFileError(str(error), line) from None
    raise ImportFileError(f"unknown record type {kind!r}", line)


# --- Isso (SQLite) -------------------------------------------------------------------------------

# Isso's comments.mode: 1 published, 2 waiting for a moderator, 4 deleted (kept for its replies).
ISSO_MODES = {1: CommentStatus.APPROVED, 2: CommentStatus.HELD, 4: CommentStatus.DELETED}


def _isso_html(text: str) -> str:
    """Render Isso's Markdown as HTML (raw HTML in it stays text; our sanitizer runs after)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text)


def read_isso(path: Path, article_id: str, progress: Progress | None = None) -> Iterator[Record]:
    """Read Isso's SQLite database (opened read-only): threads are articles named by their uri
    (whatever `article_id` says: Isso has no other name for them), comments in id order.

    Records have no line: errors name the thread or comment id instead.
    """
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise ImportFileError(f"cannot open {path} as SQLite: {error}") from None
    try:
        size = path.stat().st_size
        rows = connection.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
        for thread_id, uri, title in connection.execute(
            "SELECT id, uri, title FROM threads ORDER BY id"
        ):
            if not uri or len(uri) > 200:
                raise ImportFileError(f"thread {thread_id} has no uri, or one over 200 characters")
            yield ArticleRecord(
                key=str(thread_id), external_id=uri, url=None, title=title or None, line=0
            )
        share, done = size / max(rows, 1), 0.0
        for row in connection.execute(
            "SELECT id, tid, parent, created, mode, remote_addr, text, author, email,"
            " likes, dislikes FROM comments ORDER BY id"
        ):
            comment_id, thread_id, parent, created, mode, address, text, author, email = row[:9]
            status = ISSO_MODES.get(mode)
            if status is None:
                raise ImportFileError(f"comment {comment_id} has an unknown mode {mode!r}")
            try:
                created_at = datetime.fromtimestamp(float(created), UTC).replace(tzinfo=None)
            except (TypeError, ValueError, OverflowError):
                raise ImportFileError(f"comment {comment_id} has no valid date") from None
            yield CommentRecord(
                source_id=str(comment_id),
                article_key=str(thread_id),
                parent_source_id=str(parent) if parent is not None else None,
                author_name=author or "",
                created_at=created_at,
                status=status,
                body_html=_isso_html(text or ""),
                line=0,
                email=email or None,
                ip=address or None,
                columns={"likes": row[9] or 0, "dislikes": row[10] or 0},
            )
            done += share
            if progress and done >= 1:
                progress(int(done))
                done -= int(done)
    except sqlite3.Error as error:
        raise ImportFileError(f"not an Isso database ({error})") from None
    finally:
        connection.close()


READERS = {
    "disqus": read_disqus,
    "wordpress": read_wordpress,
    "talkback": read_talkback,
    "isso": read_isso,
}
