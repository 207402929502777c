"""The import engine: writes the records of an export (service.core.importfiles) into a site.

An import reads its file twice. The first pass checks the whole file (well-formed, every comment
on a known article, dates that parse) and keeps only the articles, so a bad file is refused
before anything is written. The second writes the comments in batches, all in ONE transaction
(committed at the end, rolled back on any error: nothing is ever half-imported), dropping each
batch from the session once flushed, so memory stays flat on a file of any size.

Comments keep their source's thread structure (a reply whose parent comes later in the file is
stored first as top-level and linked once the parent is in), their dates and their state;
bodies go through our sanitizer, e-mails and IPs are stored only as our keyed hashes. Each
comment remembers its source and id (import_source, import_id; unique per site), so a second
run of the same import adds nothing. Imported comments keep their decision (an audit row by
"import:<source>") unless `rescore` sends the published and waiting ones through moderation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from service.core.bans import identity_of
from service.core.hashing import new_delete_token, text_fingerprint
from service.core.importfiles import (
    READERS,
    ArticleRecord,
    CommentRecord,
    ImportFileError,
    Progress,
    Skipped,
)
from service.core.operator_log import record_action
from service.core.queues import enqueue_moderation
from service.core.readcache import touch_article
from service.core.sanitize import plain_text, sanitize_body
from service.errors import NotFoundError, UnprocessableError
from service.extensions import db
from service.models import Article, AuditEntry, Comment, CommentStatus, Site, utcnow

SOURCES = tuple(READERS)
ARTICLE_ID_MODES = ("default", "id", "url")
BATCH_SIZE = 500
# What an imported comment without a name shows.
ANONYMOUS = "Anonymous"
# Sent through moderation by `rescore`; deleted and spam comments keep their state.
RESCORED = frozenset({CommentStatus.APPROVED, CommentStatus.HELD, CommentStatus.PENDING})


@dataclass
class ImportSummary:
    """What an import did (or, in a dry run, would do)."""

    source: str
    site: str
    dry_run: bool = False
    rescore: bool = False
    articles_in_file: int = 0
    articles_created: int = 0
    comments: Counter = field(default_factory=Counter)  # by the state stored
    already_imported: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    # Replies whose parent is not in the file: kept, as top-level comments.
    orphans: int = 0
    queued: int = 0

    def as_dict(self) -> dict:
        """Return the counts as JSON-ready data (no personal data: fit for the operators' log)."""
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "rescore": self.rescore,
            "articles_in_file": self.articles_in_file,
            "articles_created": self.articles_created,
            "comments": dict(sorted(self.comments.items())),
            "already_imported": self.already_imported,
            "skipped": dict(sorted(self.skipped.items())),
            "orphans": self.orphans,
            "queued": self.queued,
        }


def _site(site_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise NotFoundError(f"No site with key {site_key!r}.", {"site": ["No such site."]})
    return site


def check_file(
    source: str, path: Path, *, article_id: str = "default", progress: Progress | None = None
) -> dict[str, ArticleRecord]:
    """Read the whole file once without writing; return its articles by their source key.

    Raises ImportFileError (naming the line) for a malformed file or an impossible record.
    """
    if source not in READERS:
        raise UnprocessableError(f"Unknown source {source!r}.", {"source": [", ".join(SOURCES)]})
    if article_id not in ARTICLE_ID_MODES:
        raise UnprocessableError(
            f"Unknown article id mode {article_id!r}.", {"article_id": list(ARTICLE_ID_MODES)}
        )
    articles: dict[str, ArticleRecord] = {}
    # Comments naming an article not (yet) seen: the file may list its articles after them.
    unknown: dict[str, int] = {}
    for record in READERS[source](path, article_id, progress):
        if isinstance(record, ArticleRecord):
            articles.setdefault(record.key, record)
            unknown.pop(record.key, None)
        elif isinstance(record, CommentRecord) and record.article_key not in articles:
            unknown.setdefault(record.article_key, record.line)
    if unknown:
        key, line = min(unknown.items(), key=lambda item: item[1])
        raise ImportFileError(f"comment on article {key!r}, which the file does not hold", line)
    return articles


def import_file(
    site_key: str,
    source: str,
    path: Path,
    *,
    article_id: str = "default",
    rescore: bool = False,
    dry_run: bool = False,
    actor: str = "cli",
    progress: Progress | None = None,
    check_progress: Progress | None = None,
    checked: dict[str, ArticleRecord] | None = None,
) -> ImportSummary:
    """Import an export file into a site, all or nothing; return what was (or would be) done.

    `checked` is check_file's answer when the caller already ran it (to show its own progress).
    """
    site = _site(site_key)
    site_id = site.id
    articles = checked
    if articles is None:
        articles = check_file(source, path, article_id=article_id, progress=check_progress)
    writer = _Writer(site, source, articles, rescore=rescore)
    writer.summary.dry_run = dry_run
    # Comments this run writes have larger ids: --rescore queues those, not earlier runs' ones.
    last_id_before = db.session.scalar(select(func.max(Comment.id))) or 0
    try:
        batch: list[CommentRecord] = []
        for record in READERS[source](path, article_id, progress):
            if isinstance(record, Skipped):
                writer.summary.skipped[record.reason] += 1
            elif isinstance(record, CommentRecord):
                batch.append(record)
                if len(batch) >= BATCH_SIZE:
                    writer.write(batch)
                    batch = []
        writer.write(batch)
        writer.link_late_replies()
        for external_id in writer.touched:
            touch_article(db.session, site_key, external_id)
        if dry_run:
            db.session.rollback()
            return writer.summary
        record_action(actor, "site.import", f"site {site_key}", writer.summary.as_dict())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if rescore:
        writer.summary.queued = _enqueue_imported(site_id, source, last_id_before)
    return writer.summary


def _enqueue_imported(site_id: int, source: str, after_id: int) -> int:
    """Queue the pending comments this import wrote for moderation (after the commit: the
    database is the outbox; the sweeper re-queues any Redis lost)."""
    ids = db.session.scalars(
        select(Comment.id)
        .where(
            Comment.site_id == site_id,
            Comment.import_source == source,
            Comment.status == CommentStatus.PENDING,
            Comment.id > after_id,
        )
        .order_by(Comment.id)
        .execution_options(yield_per=1000)
    )
    return sum(1 for comment_id in ids if enqueue_moderation(comment_id))


class _Writer:
    """Writes batches of comment records inside the caller's transaction."""

    def __init__(self, site: Site, source: str, articles: dict[str, ArticleRecord], rescore: bool):
        self.site_id = site.id
        self.source = source
        self.actor = f"import:{source}"
        self.articles = articles
        self.rescore = rescore
        self.summary = ImportSummary(source=source, site=site.key, rescore=rescore)
        self.summary.articles_in_file = len(articles)
        self.article_ids: dict[str, int] = {}
        self.touched: set[str] = set()
        # (comment id, its parent's source id, line) of replies stored before their parent.
        self.late: list[tuple[int, str, int]] = []
        self.reasons: dict[int, str] = {}

    def _article(self, key: str) -> int:
        if key in self.article_ids:
            return self.article_ids[key]
        record = self.articles[key]
        article_id = db.session.scalar(
            select(Article.id).where(
                Article.site_id == self.site_id, Article.external_id == record.external_id
            )
        )
        if article_id is None:
            article = Article(
                site_id=self.site_id,
                external_id=record.external_id,
                url=(record.url or None) and record.url[:2000],
                title=plain_text(record.title)[:300] if record.title else None,
                is_closed=record.is_closed,
                premoderated=record.premoderated,
            )
            db.session.add(article)
            db.session.flush()
            article_id = article.id
            self.summary.articles_created += 1
        self.article_ids[key] = article_id
        self.touched.add(record.external_id)
        return article_id

    def _known(self, source_ids: Iterable[str]) -> dict[str, tuple[int, int | None, int]]:
        """Comments of this source already stored: source id -> (id, root id, article id)."""
        ids = list(set(source_ids))
        if not ids:
            return {}
        rows = db.session.execute(
            select(Comment.import_id, Comment.id, Comment.root_id, Comment.article_id).where(
                Comment.site_id == self.site_id,
                Comment.import_source == self.source,
                Comment.import_id.in_(ids),
            )
        )
        return {row.import_id: (row.id, row.root_id, row.article_id) for row in rows}

    def write(self, records: list[CommentRecord]) -> None:
        """Store a batch of comments, skipping those a previous run stored."""
        if not records:
            return
        parents = {r.parent_source_id for r in records if r.parent_source_id}
        known = self._known([r.source_id for r in records] + list(parents))
        already = {r.source_id for r in records if r.source_id in known}
        # Comments of this batch, not yet flushed: a reply to one flushes first for its id.
        fresh: dict[str, Comment] = {}
        for record in records:
            if record.source_id in already or record.source_id in fresh:
                self.summary.already_imported += 1
                continue
            article_id = self._article(record.article_key)
            parent = None
            if record.parent_source_id:
                if record.parent_source_id in fresh:
                    comment = fresh[record.parent_source_id]
                    if comment.id is None:
                        self._flush(record.line)
                    parent = (comment.id, comment.root_id, comment.article_id)
                else:
                    parent = known.get(record.parent_source_id)
                if parent is not None and parent[2] != article_id:
                    self.summary.skipped["parent on another article: kept top-level"] += 1
                    parent = None
            comment = self._comment(record, article_id, parent)
            fresh[record.source_id] = comment
        self._flush(records[-1].line)
        # The decision each keeps, as the audit log's first row (one INSERT for the batch).
        audit = [
            {
                "comment_id": comment.id,
                "actor": self.actor,
                "to_status": comment.status.value,
                "reason": self.reasons[id(comment)],
                "created_at": utcnow(),
            }
            for comment in fresh.values()
        ]
        if audit:
            db.session.execute(insert(AuditEntry), audit)
        self.reasons.clear()
        for record in records:
            comment = fresh.get(record.source_id)
            if comment is not None and record.parent_source_id and comment.parent_id is None:
                self.late.append((comment.id, record.parent_source_id, record.line))
        # Written rows need not stay in memory; the transaction keeps them.
        db.session.expunge_all()

    def _flush(self, line: int) -> None:
        try:
            db.session.flush()
        except (IntegrityError, DBAPIError) as error:
            raise ImportFileError(
                f"the database refused the comments up to here: {error.orig}", line
            ) from None

    def _comment(
        self, record: CommentRecord, article_id: int, parent: tuple[int, int | None, int] | None
    ) -> Comment:
        status = record.status
        reason = f"imported from {self.source} ({record.source_id})"
        if self.rescore and status in RESCORED:
            reason = f"imported from {self.source} for moderation (it was {status.value} there)"
            status = CommentStatus.PENDING
        body = sanitize_body(record.body_html)
        name = plain_text(record.author_name)[:60] or ANONYMOUS
        title = plain_text(record.title)[:120] if record.title else None
        if status == CommentStatus.DELETED:
            # As a deletion here: the row keeps the thread together, nothing of what was said.
            body_html = body_text = name = ""
            title = None
        else:
            body_html, body_text = body.html, body.text
            if not body_text:
                self.summary.skipped["no text once sanitized: kept empty"] += 1
        identity = identity_of(None, record.email, record.ip)
        comment = Comment(
            site_id=self.site_id,
            article_id=article_id,
            parent_id=parent[0] if parent else None,
            root_id=(parent[1] or parent[0]) if parent else None,
            status=status,
            author_name=name,
            title=title,
            body_html=body_html,
            body_text=body_text,
            text_hash=text_fingerprint(body_text),
            reasons=[],
            email_hash=identity.email_hash,
            email_domain_hash=identity.email_domain_hash,
            ip_hash=identity.ip_hash,
            network_hash=identity.network_hash,
            delete_token_hash=new_delete_token()[1],
            created_at=record.created_at,
            updated_at=record.created_at,
            decided_at=None if status == CommentStatus.PENDING else record.created_at,
            import_source=self.source,
            import_id=record.source_id[:100],
        )
        for name_, value in record.columns.items():
            setattr(comment, name_, value)
        if status == CommentStatus.DELETED:
            comment.featured_at = comment.featured_by = None
        if status == CommentStatus.PENDING:
            # Undecided here, whatever the export said about its past.
            comment.decided_at = None
        db.session.add(comment)
        self.reasons[id(comment)] = reason
        self.summary.comments[status.value] += 1
        return comment

    def link_late_replies(self) -> None:
        """Give replies stored before their parent that parent, and their threads its root."""
        if not self.late:
            return
        known = self._known(source_id for _, source_id, _ in self.late)
        linked = []
        for comment_id, parent_source_id, _line in self.late:
            parent = known.get(parent_source_id)
            if parent is None:
                self.summary.orphans += 1
                continue
            db.session.execute(
                update(Comment).where(Comment.id == comment_id).values(parent_id=parent[0])
            )
            linked.append(comment_id)
        for comment_id in linked:
            root = self._root_of(comment_id)
            if root is None:
                # A loop of replies (each the other's parent): break it here.
                db.session.execute(
                    update(Comment).where(Comment.id == comment_id).values(parent_id=None)
                )
                self.summary.skipped["reply loop: kept top-level"] += 1
                continue
            db.session.execute(
                update(Comment)
                .where((Comment.root_id == comment_id) | (Comment.id == comment_id))
                .values(root_id=root)
            )

    def _root_of(self, comment_id: int) -> int | None:
        """Walk up from a comment to its top-level comment; None if the chain loops."""
        seen = set()
        current = comment_id
        while True:
            parent_id = db.session.scalar(select(Comment.parent_id).where(Comment.id == current))
            if parent_id is None:
                return current if current != comment_id else None
            if parent_id in seen or parent_id == comment_id:
                return None
            seen.add(parent_id)
            current = parent_id
