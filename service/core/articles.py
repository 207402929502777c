"""Articles: per-article pre-moderation of hot stories, and closing an article to new comments,
switched by the site's moderators.

Every comment sent to a pre-moderated article waits for a moderator (the worker holds it with
the reason "the article is pre-moderated"). Moderators switch their own sites' articles and
operators any; each switch is written to the operators' log.
"""

from __future__ import annotations

from sqlalchemy import select

from service.core import operator_log
from service.core.comments import check_article_id, find_or_create_article, find_site
from service.core.transactions import rolls_back
from service.errors import ForbiddenError
from service.extensions import db
from service.models import Article, Site

FORBIDDEN_SITE = "You don't moderate this site."
LIST_LIMIT = 500


def _site_for(site_key: str, site_ids: set[int] | None) -> Site:
    """Return the site if the caller moderates it; 404 unknown, 403 another's."""
    site = find_site(site_key)
    if site_ids is not None and site.id not in site_ids:
        raise ForbiddenError(FORBIDDEN_SITE, {"site": [FORBIDDEN_SITE]})
    return site


def _switch(
    site_key: str,
    article_id: str,
    setting: str,
    value: bool,
    actions: tuple[str, str],
    *,
    actor: str,
    site_ids: set[int] | None,
) -> Article:
    """Set an article's on/off setting (creating the article if it has no comment yet) and log
    the switch; switching to the state it is in changes and logs nothing."""
    site = _site_for(site_key, site_ids)
    check_article_id(article_id)
    article = find_or_create_article(site, article_id)
    if getattr(article, setting) != value:
        operator_log.record_action(
            actor,
            actions[0] if value else actions[1],
            f"{site.key} article {article_id}"[:200],
            {
                "site": site.key,
                "article": article_id,
                setting: {"from": getattr(article, setting), "to": value},
            },
        )
        setattr(article, setting, value)
    db.session.commit()
    return article


@rolls_back
def set_premoderated(
    site_key: str, article_id: str, premoderated: bool, *, actor: str, site_ids: set[int] | None
) -> Article:
    """Switch an article's pre-moderation on or off; logged."""
    return _switch(
        site_key,
        article_id,
        "premoderated",
        premoderated,
        ("article.premoderate", "article.unpremoderate"),
        actor=actor,
        site_ids=site_ids,
    )


@rolls_back
def set_closed(
    site_key: str, article_id: str, closed: bool, *, actor: str, site_ids: set[int] | None
) -> Article:
    """Close an article to new comments (its thread stays readable) or reopen it; logged."""
    return _switch(
        site_key,
        article_id,
        "is_closed",
        closed,
        ("article.close", "article.reopen"),
        actor=actor,
        site_ids=site_ids,
    )


def premoderated_articles(site_key: str, *, site_ids: set[int] | None) -> list[Article]:
    """Return a site's pre-moderated articles, the latest created first."""
    site = _site_for(site_key, site_ids)
    return list(
        db.session.scalars(
            select(Article)
            .where(Article.site_id == site.id, Article.premoderated.is_(True))
            .order_by(Article.created_at.desc(), Article.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def article_dict(article: Article, site_key: str) -> dict:
    """Return an article's pre-moderation state as JSON-ready data."""
    return {
        "site": site_key,
        "article": article.external_id,
        "title": article.title,
        "url": article.url,
        "premoderated": article.premoderated,
        "closed": article.is_closed,
    }
