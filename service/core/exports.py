"""The full export of a site as JSON Lines, streamed (docs/integrations.md, "Import and export").

A header line, then one line per article, then one per comment in id order, read with a
server-side cursor (yield_per) so a site of any size is never all in memory. Comments carry
their thread structure (parent_id, root_id), state, dates, text and the keyed hashes of the
author's e-mail and address, never the addresses. `import talkback` reads it back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from service.core.importfiles import COPIED_COLUMNS, EXPORT_FORMAT, EXPORT_VERSION
from service.core.operator_log import record_action
from service.errors import NotFoundError
from service.extensions import db
from service.models import Article, Comment, Site, utcnow

ROWS_PER_FETCH = 1000

_COMMENT_COLUMNS = (
    Comment.id,
    Article.external_id.label("article"),
    Comment.parent_id,
    Comment.root_id,
    Comment.status,
    Comment.author_name,
    Comment.title,
    Comment.body_html,
    Comment.created_at,
    Comment.import_source,
    Comment.import_id,
    *(getattr(Comment, name) for name in COPIED_COLUMNS),
)


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds") + "Z"
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def export_records(site_key: str) -> Iterator[dict]:
    """Yield the header, every article and every comment of a site, as JSON-ready dicts."""
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise NotFoundError(f"No site with key {site_key!r}.", {"site": ["No such site."]})
    site_id = site.id
    yield {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "site": site.key,
        "name": site.name,
        "language": site.language,
        "exported_at": _json_value(utcnow()),
    }
    articles = db.session.execute(
        select(
            Article.external_id,
            Article.url,
            Article.title,
            Article.is_closed,
            Article.premoderated,
            Article.created_at,
        )
        .where(Article.site_id == site_id)
        .order_by(Article.id)
        .execution_options(yield_per=ROWS_PER_FETCH)
    )
    for row in articles:
        yield {
            "type": "article",
            "id": row.external_id,
            "url": row.url,
            "title": row.title,
            "is_closed": row.is_closed,
            "premoderated": row.premoderated,
            "created_at": _json_value(row.created_at),
        }
    comments = db.session.execute(
        select(*_COMMENT_COLUMNS)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.site_id == site_id)
        .order_by(Comment.id)
        .execution_options(yield_per=ROWS_PER_FETCH)
    )
    for row in comments:
        yield {
            "type": "comment",
            **{key: _json_value(value) for key, value in row._asdict().items()},
        }


def export_lines(site_key: str, *, actor: str) -> Iterator[str]:
    """Yield the export as JSON Lines; once all is written, log it (counts only) and commit."""
    counts: Counter = Counter()
    for record in export_records(site_key):
        kind = record.get("type", "header")
        counts[kind if kind == "article" else record.get("status", kind)] += 1
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    counts.pop("header", None)
    articles = counts.pop("article", 0)
    record_action(
        actor,
        "site.export",
        f"site {site_key}",
        {"articles": articles, "comments": dict(sorted(counts.items()))},
    )
    db.session.commit()
