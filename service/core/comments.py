"""The comment service: submit, the author's view and delete.

Recording decisions lives in service.core.decisions; DecisionRecord, record_decisions and
record_decision are re-exported here for the importers from before it had a module of its own.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, and_, bindparam, delete, null, select
from sqlalchemy.exc import IntegrityError

from service.core import mail, secrets_box
from service.core.bans import (
    Identity,
    enforce_bans,
    identity_of,
    submission_ban_columns,
    submission_ban_params,
)
from service.core.decisions import DecisionRecord as DecisionRecord
from service.core.decisions import record_decision as record_decision
from service.core.decisions import record_decisions as record_decisions
from service.core.hashing import new_delete_token, text_fingerprint, token_matches
from service.core.queues import enqueue_moderation
from service.core.sanitize import SanitizedBody, has_visible_text, plain_text, sanitize_body
from service.core.sso import Reader
from service.core.webhooks import emit_comment
from service.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    SignInRequiredError,
    UnprocessableError,
)
from service.extensions import db
from service.models import (
    MAX_ID,
    Article,
    AuditEntry,
    Comment,
    CommentRevision,
    CommentStatus,
    Site,
    utcnow,
)
from workers.scoring.spam import link_domains

log = logging.getLogger(__name__)

ARTICLE_ID_MAX = 200


@dataclass(frozen=True)
class Client:
    """Who sent a comment, as the HTTP request tells it."""

    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None


@dataclass(frozen=True)
class Submitted:
    """A stored comment and the delete token its author gets once."""

    id: int
    status: str
    delete_token: str


def find_site(site_key: str) -> Site:
    """Return the site with this key or raise NotFoundError."""
    check_site_key(site_key)
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise NotFoundError(f"There is no site '{site_key}'.")
    return site


def check_site_key(site_key: str) -> None:
    """Reject a site key no site can have (PostgreSQL refuses NUL characters outright)."""
    if len(site_key) > 64 or not site_key.isprintable():
        raise NotFoundError("There is no such site.")


def is_valid_article_id(article_id: str) -> bool:
    """Tell whether the database can hold this article id (length, no control characters)."""
    return (
        bool(article_id.strip()) and len(article_id) <= ARTICLE_ID_MAX and article_id.isprintable()
    )


def check_article_id(article_id: str) -> None:
    """Reject article ids the database cannot hold."""
    if not is_valid_article_id(article_id):
        raise UnprocessableError(
            "The article id is not valid.",
            {"article": [f"Must be 1 to {ARTICLE_ID_MAX} printable characters."]},
        )


def find_or_create_article(
    site: Site, article_id: str, url: str | None = None, title: str | None = None
) -> Article:
    """Return the article, creating it when new (safely under concurrent requests)."""
    article = db.session.scalar(
        select(Article).where(Article.site_id == site.id, Article.external_id == article_id)
    )
    return _complete_article(site, article, article_id, url, title)


def _complete_article(
    site: Site, article: Article | None, article_id: str, url: str | None, title: str | None
) -> Article:
    """Return the article as found (None: create it), with its url and title once known."""
    if article is None:
        article = Article(
            site_id=site.id, external_id=article_id, url=url, title=_optional_text(title, 300)
        )
        try:
            # A savepoint: if another request created it first, only this insert is undone.
            with db.session.begin_nested():
                db.session.add(article)
        except IntegrityError:
            article = db.session.scalar(
                select(Article).where(Article.site_id == site.id, Article.external_id == article_id)
            )
    # The first comment may come from a page that didn't say its url or title; fill them later.
    if article.url is None and url:
        article.url = url
    if article.title is None and title:
        article.title = _optional_text(title, 300)
    return article


def _optional_text(value: str | None, max_length: int) -> str | None:
    """Return a short field as plain text, or None when nothing readable is left."""
    if not value:
        return None
    text = plain_text(value)[:max_length]
    return text if has_visible_text(text) else None


def check_comment_length(site: Site, text: str) -> None:
    """Reject a comment whose text is shorter or longer than the site allows."""
    if len(text) < site.min_comment_length:
        raise UnprocessableError(
            "The comment is too short.",
            {"body": [f"Write at least {site.min_comment_length} characters."]},
        )
    if len(text) > site.max_comment_length:
        raise UnprocessableError(
            "The comment is too long.",
            {"body": [f"Keep it to {site.max_comment_length} characters or fewer."]},
        )


def article_is_closed(site: Site, article: Article | None) -> bool:
    """Whether an article takes no new comments: closed by hand, or older than the site allows."""
    if article is None:
        return False
    if article.is_closed:
        return True
    if site.auto_close_days is None or article.created_at is None:
        return False
    return article.created_at <= utcnow() - timedelta(days=site.auto_close_days)


@dataclass(frozen=True)
class _Context:
    """What a submission needs from the database, loaded in one query."""

    site: Site
    article: Article | None
    parent: Comment | None
    hard_ban_id: int | None
    shadow_banned: bool


@functools.cache
def _context_query(with_article: bool, with_parent: bool) -> Select:
    """Return the query of _load_context, built once per shape (building costs more than
    running it)."""
    query = select(Site).where(Site.key == bindparam("site_key"))
    if with_article:
        query = query.add_columns(Article).outerjoin(
            Article,
            and_(Article.site_id == Site.id, Article.external_id == bindparam("article_id")),
        )
    else:
        query = query.add_columns(null())
    if with_parent:
        query = query.add_columns(Comment).outerjoin(Comment, Comment.id == bindparam("parent_id"))
    else:
        query = query.add_columns(null())
    return query.add_columns(*submission_ban_columns(Site.id))


def _load_context(
    site_key: str, article_id: str, parent_id: int | None, identity: Identity
) -> _Context:
    """Load the site, the article (None when new), the parent comment and the ban check in one
    query, or raise NotFoundError for an unknown site."""
    check_site_key(site_key)
    # An id the database can't hold (PostgreSQL refuses NUL characters) is never sent to it;
    # submit_comment answers 422 for it.
    with_article = is_valid_article_id(article_id)
    query = _context_query(with_article, parent_id is not None)
    params = {"site_key": site_key, **submission_ban_params(identity)}
    if with_article:
        params["article_id"] = article_id
    if parent_id is not None:
        params["parent_id"] = parent_id
    row = db.session.execute(query, params).first()
    if row is None:
        raise NotFoundError(f"There is no site '{site_key}'.")
    return _Context(*row)


def _check_parent(
    parent_id: int | None, parent: Comment | None, article: Article | None, shadow: bool
) -> None:
    """Raise unless the comment replied to (if any) exists, is published and on this article
    (None: the article is new)."""
    if parent_id is None:
        return
    if parent is None:
        raise NotFoundError(
            "The comment you are replying to does not exist.",
            {"parent_id": ["No such comment."]},
        )
    if article is None or parent.article_id != article.id:
        raise UnprocessableError(
            "You can only reply to a comment on the same article.",
            {"parent_id": ["That comment is on another article."]},
        )
    # A shadow-banned comment is published only in its author's eyes: others can't reply to it.
    if parent.status != CommentStatus.APPROVED or (parent.shadow and not shadow):
        raise UnprocessableError(
            "You can only reply to a published comment.",
            {"parent_id": ["That comment is not published."]},
        )


def _has_link(html: str, text: str) -> bool:
    """Whether a comment links anywhere: a kept <a> or a URL or domain in its text."""
    return "<a " in html or bool(link_domains(text))


def checked_body(site: Site, raw: str, reader: Reader | None) -> SanitizedBody:
    """Sanitize a new or edited body and apply the site's rules to it: visible text, length
    limits, and its sign-in policy (`reader`: the signed-in reader, None when anonymous)."""
    body = sanitize_body(raw)
    if not has_visible_text(body.text):
        raise UnprocessableError(
            "The comment has no text once markup is removed.",
            {"body": ["Write some text; markup alone is not a comment."]},
        )
    check_comment_length(site, body.text)
    _check_sign_in(site, reader, body.html, body.text)
    return body


def _check_sign_in(site: Site, reader: Reader | None, html: str, text: str) -> None:
    """Refuse an anonymous comment the site's sign-in policy takes only from signed-in readers."""
    if reader is not None or site.sign_in == "anonymous":
        return
    if site.sign_in == "required":
        raise SignInRequiredError("Sign in to comment on this site.")
    if site.sign_in == "links" and _has_link(html, text):
        raise SignInRequiredError("Sign in to post a comment with a link on this site.")


def _submission_identity(data: dict, client: Client, reader: Reader | None) -> Identity:
    """The submitter's identity: a signed-in reader's email and SSO id come from their session."""
    if reader is None:
        return identity_of(data["commenter_key"], data["author_email"], client.ip)
    identity = identity_of(data["commenter_key"], None, client.ip)
    return replace(
        identity,
        email_hash=reader.email_hash,
        email_domain_hash=reader.email_domain_hash,
        sso_id=reader.sso_id,
    )


def _author_name(data: dict, reader: Reader | None) -> str:
    """The name shown: a signed-in reader's from their session (the body can't spoof it)."""
    if reader is not None:
        return reader.name
    if not data.get("author_name"):
        raise UnprocessableError(
            "Please correct: author_name.", {"author_name": ["Missing data for required field."]}
        )
    author_name = plain_text(data["author_name"])
    if not has_visible_text(author_name):
        raise UnprocessableError(
            "The name has no text once markup is removed.", {"author_name": ["Write a name."]}
        )
    return author_name


def submit_comment(
    site_key: str, article_id: str, data: dict, client: Client, reader: Reader | None = None
) -> Submitted:
    """Store a new comment as pending, then queue it for moderation.

    One query loads everything the checks need (site, article, parent, bans); then the comment
    and its audit row are inserted and committed, and the job is enqueued. `reader` is the
    signed-in reader (service.web.reader.current_reader), None for an anonymous comment.
    """
    identity = _submission_identity(data, client, reader)
    context = _load_context(site_key, article_id, data["parent_id"], identity)
    site = context.site
    if site.is_closed:
        raise ConflictError("This site no longer takes comments.")
    check_article_id(article_id)
    body = checked_body(site, data["body"], reader)
    author_name = _author_name(data, reader)
    # Before anything is written: a hard-banned submission leaves no trace.
    shadow = enforce_bans(context.hard_ban_id, context.shadow_banned)
    if article_is_closed(site, context.article):
        raise ConflictError("Comments on this article are closed.")
    parent = context.parent
    _check_parent(data["parent_id"], parent, context.article, shadow)
    article = _complete_article(
        site, context.article, article_id, data["article_url"], data["article_title"]
    )

    token, token_hash = new_delete_token()
    comment = Comment(
        site_id=site.id,
        article_id=article.id,
        parent_id=parent.id if parent else None,
        # A reply carries its thread's top-level comment; a top-level comment has none (NULL):
        # pointing at itself would take a second statement once its id is known.
        root_id=(parent.root_id or parent.id) if parent else None,
        status=CommentStatus.PENDING,
        author_name=author_name[:60],
        title=_optional_text(data["title"], 120),
        body_html=body.html,
        body_text=body.text,
        text_hash=text_fingerprint(body.text),
        reasons=[],
        commenter_key=identity.commenter_key,
        email_hash=identity.email_hash,
        email_domain_hash=identity.email_domain_hash,
        ip_hash=identity.ip_hash,
        network_hash=identity.network_hash,
        sso_id=identity.sso_id,
        badges=list(reader.badges) if reader is not None else None,
        shadow=shadow,
        delete_token_hash=token_hash,
    )
    db.session.add(comment)
    db.session.flush()  # the INSERT, returning the id the audit row needs
    comment_id = comment.id
    db.session.add(
        AuditEntry(comment_id=comment_id, actor="author", to_status=CommentStatus.PENDING.value)
    )
    if data.get("notify_replies") or data.get("notify_decision"):
        # A signed-in reader's address comes from their session, never from the body.
        email = secrets_box.decrypt(reader.email_encrypted) if reader else data.get("author_email")
        mail.subscribe(
            site,
            comment_id,
            email,
            replies=bool(data.get("notify_replies")),
            decision=bool(data.get("notify_decision")),
            digest=data.get("notify_digest"),
        )
    # Commit before enqueueing: the database is the outbox, so a Redis outage loses nothing.
    db.session.commit()
    # External scorers (Akismet) want the request's details; only they get them, in the job.
    wants_request = bool(current_app.config.get("AKISMET_API_KEY"))
    enqueue_moderation(comment_id, request_info=asdict(client) if wants_request else None)
    # Ids and status read before the commit: reading them after would reload the row.
    return Submitted(id=comment_id, status=CommentStatus.PENDING.value, delete_token=token)


def get_own_comment(comment_id: int, token: str | None, reader: Reader | None = None) -> Comment:
    """Return a comment to the holder of its delete token, or to the signed-in reader who wrote
    it (`reader`, of any site: checked here), whatever its status."""
    comment = db.session.get(Comment, comment_id) if 1 <= comment_id <= MAX_ID else None
    if comment is None:
        raise NotFoundError("There is no such comment.")
    if is_authors_session(comment, reader):
        return comment
    if not token:
        raise ForbiddenError(
            "Send the comment's delete token in the X-Delete-Token header.",
            {"X-Delete-Token": ["Missing."]},
        )
    if not token_matches(token, comment.delete_token_hash):
        raise ForbiddenError(
            "That delete token does not belong to this comment.",
            {"X-Delete-Token": ["Does not match."]},
        )
    return comment


def is_authors_session(comment: Comment, reader: Reader | None) -> bool:
    """Whether a signed-in reader wrote the comment (same site, same publisher id)."""
    return (
        reader is not None
        and comment.sso_id is not None
        and reader.site_id == comment.site_id
        and reader.sso_id == comment.sso_id
    )


def delete_own_comment(comment_id: int, token: str | None, reader: Reader | None = None) -> None:
    """Delete a comment for the holder of its delete token or its signed-in author; deleting
    twice is fine."""
    comment = get_own_comment(comment_id, token, reader)
    if comment.status == CommentStatus.DELETED:
        return
    previous = comment.status
    # Keep the row (threads and the audit log hang on it) but drop what the author wrote.
    comment.status = CommentStatus.DELETED
    comment.title = None
    comment.body_html = ""
    comment.body_text = ""
    comment.author_name = ""
    comment.featured_at = comment.featured_by = None
    # Its edits, and the original text kept at the first one, go with the text.
    db.session.execute(delete(CommentRevision).where(CommentRevision.comment_id == comment.id))
    db.session.add(
        AuditEntry(
            comment_id=comment.id,
            actor="author",
            from_status=previous.value,
            to_status=CommentStatus.DELETED.value,
            reason="deleted by its author",
        )
    )
    if previous == CommentStatus.APPROVED:
        # Receivers knew it as published; they learn it is gone (without its text).
        emit_comment("comment.deleted", comment)
    db.session.commit()


def load_pending(comment_ids: list[int]) -> list[Comment]:
    """Return those of the comments that still wait for the automatic decision, in id order."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(comment_ids), Comment.status == CommentStatus.PENDING)
            .order_by(Comment.id)
        )
    )


def stale_pending_ids(older_than_seconds: float, limit: int = 500) -> list[int]:
    """Return ids of comments pending for longer than the given age, oldest first."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    return list(
        db.session.scalars(
            select(Comment.id)
            .where(Comment.status == CommentStatus.PENDING, Comment.created_at <= cutoff)
            .order_by(Comment.created_at)
            .limit(limit)
        )
    )
