"""The read cache: rendered thread pages, comment counts and sites' request settings in Redis.

Everything cached is stored under versions: one per article, one per site. Every change to what
readers may see replaces the version of its article (or of its site, for settings shown on every
page) once the transaction has committed, so the next read misses and renders afresh, and a page
rendered from the database before the commit can only ever be stored under the old version.
A version is a random token, not a counter: when Redis forgets one (eviction, expiry, restart)
the new token can never bring back a page stored under an old one.

Changes are found two ways: the ORM's own flushes (a Comment, Article or Site modified through
the session) and `touch_comments` for bulk UPDATEs that bypass the ORM. When Redis is down,
lookups answer "no cache" and the read goes to the database; a version bump that fails is
retried by this process at its next use of the cache, and READ_CACHE_SECONDS bounds the rest.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from service.core.metrics import READ_CACHE
from service.core.queues import redis_connection
from service.models import Article, Comment, CommentStatus, Site

log = logging.getLogger(__name__)

PREFIX = "talkback:rc:"
SITE_VERSION = PREFIX + "site:"
ARTICLE_VERSION = PREFIX + "article:"
# Pages and counts hang off the versions alone: a random 64-bit token names one article's state.
PAGE = PREFIX + "page:"
COUNT = PREFIX + "count:"
SITE_SETTINGS = PREFIX + "settings:"
# The live poll's answer (approved count, latest id) under the article's version.
LIVE = PREFIX + "live:"
# Votes never replace an article's version: they set its vote stamp, the period (of
# VOTE_COUNTS_SECONDS) from which pages must show them. See `note_votes`.
VOTE_STAMP = PREFIX + "votes:"
# A version lives twice as long as a page (each page stored renews it); when it expires the
# next read picks a new one, so junk article ids cost Redis minutes, not days.
MIN_VERSION_SECONDS = 60
# After a failed lookup, reads skip Redis this long: a dead Redis costs one timeout, not one per
# request. Bumps never skip: a lost bump is a stale page.
BACKOFF_SECONDS = 5.0

VISIBLE = (CommentStatus.APPROVED, CommentStatus.DELETED)
PENDING_ARTICLES = "talkback_readcache_articles"
PENDING_SITES = "talkback_readcache_sites"

# Read (or start) the site's and the article's versions, then what is stored under them, in one
# round trip. Keys built from the versions are not in KEYS: standalone Redis only (as RQ).
LOOKUP_PAGE = """
local function version(key, fresh)
  local current = redis.call('GET', key)
  if current then return current end
  redis.call('SET', key, fresh, 'EX', ARGV[3])
  return fresh
end
local site = version(KEYS[1], ARGV[1])
local article = version(KEYS[2], ARGV[2])
-- The vote stamp in effect: never a period that has not begun (ARGV[8] is the current one).
local stamp = math.min(tonumber(redis.call('GET', KEYS[3]) or '0'), tonumber(ARGV[8]))
article = article .. ':' .. stamp
return {
  site, article,
  redis.call('GET', ARGV[5] .. site .. ':' .. article .. ':' .. ARGV[4]) or false,
  redis.call('GET', ARGV[6] .. string.match(article, '^[^:]+')) or false,
  redis.call('GET', ARGV[7] .. site) or false,
}
"""

# Each article's version (started if new) and its count stored under it, in one round trip.
LOOKUP_COUNTS = """
local found = {}
for i, key in ipairs(KEYS) do
  local article = redis.call('GET', key)
  if not article then
    article = ARGV[i + 2]
    redis.call('SET', key, article, 'EX', ARGV[1])
  end
  found[#found + 1] = article
  found[#found + 1] = redis.call('GET', ARGV[2] .. article) or false
end
return found
"""

# The site's version (started if new) and the settings stored under it.
LOOKUP_SETTINGS = """
local site = redis.call('GET', KEYS[1])
if not site then
  site = ARGV[1]
  redis.call('SET', KEYS[1], site, 'EX', ARGV[2])
end
return {site, redis.call('GET', ARGV[3] .. site) or false}
"""


# The article's version (started if new), the live answer stored under it and the site's
# request settings (for CORS), in one round trip: the whole cost of a live poll in steady state.
LOOKUP_LIVE = """
local article = redis.call('GET', KEYS[2])
if not article then
  article = ARGV[1]
  redis.call('SET', KEYS[2], article, 'EX', ARGV[2])
end
local site = redis.call('GET', KEYS[1])
return {
  article,
  redis.call('GET', ARGV[3] .. article) or false,
  site and redis.call('GET', ARGV[4] .. site) or false,
}
"""


@dataclass
class _Health:
    """A process's memory of Redis trouble, per app: when to try again, and bumps not yet sent."""

    retry_at: float = 0.0
    lost_bumps: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _health() -> _Health:
    return current_app.extensions.setdefault("talkback_readcache_health", _Health())


@dataclass(frozen=True)
class PageLookup:
    """What the cache holds for a page: the versions it is valid for, and the page if stored."""

    versions: str
    page: bytes | None
    count: int | None
    version_keys: tuple[str, str]
    # The site's request settings (origins, rate limits) if cached: the fast path's CORS.
    settings: bytes | None = None


def seconds() -> int:
    """Return how long cached pages live; 0 means the read cache is off."""
    return current_app.config["READ_CACHE_SECONDS"]


def _digest(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()


def _article_key(site_key: str, article_id: str) -> str:
    return ARTICLE_VERSION + _digest(site_key, article_id)


def _site_key(site_key: str) -> str:
    return SITE_VERSION + _digest(site_key)


def _vote_stamp_key(site_key: str, article_id: str) -> str:
    return VOTE_STAMP + _digest(site_key, article_id)


def _vote_period() -> int:
    """The number of the current vote period (VOTE_COUNTS_SECONDS long, shared by processes)."""
    return int(time.time()) // max(1, current_app.config["VOTE_COUNTS_SECONDS"])


def note_votes(site_key: str, article_id: str) -> None:
    """Make the article's cached pages show votes committed now from the next vote period on.

    Pages are stored under the article's version and its vote stamp in effect, the lesser of
    the stored stamp and the current period. A vote stores the period after the current one:
    pages rendered in this period are kept (however many votes arrive), and the first read of
    the next period renders afresh, once. So counts are at most VOTE_COUNTS_SECONDS old and a
    hot thread re-renders at most once a period, not once a click.
    """
    if seconds() <= 0:
        return
    try:
        redis_connection().set(
            _vote_stamp_key(site_key, article_id), _vote_period() + 1, ex=_version_seconds()
        )
    except RedisError as error:
        # Lost: counts wait for the article's next change or READ_CACHE_SECONDS.
        log.warning("could not note votes on a cached thread: %s", error)


def _version_seconds() -> int:
    return max(2 * seconds(), MIN_VERSION_SECONDS)


def _fresh() -> str:
    return secrets.token_hex(8)


def _usable() -> bool:
    """Tell whether reads should try the cache now (on, and Redis not failing lately)."""
    return seconds() > 0 and time.monotonic() >= _health().retry_at


def _script(name: str, source: str):
    """Return a registered Lua script of the app's Redis client (EVALSHA, loaded on first use)."""
    scripts = current_app.extensions.setdefault("talkback_readcache_scripts", {})
    if name not in scripts:
        scripts[name] = redis_connection().register_script(source)
    return scripts[name]


def _redis_failed(error: RedisError, what: str) -> None:
    _health().retry_at = time.monotonic() + BACKOFF_SECONDS
    READ_CACHE.labels(kind=what, result="error").inc()
    log.warning("read cache unavailable (%s): %s", what, error)


def lookup_page(site_key: str, article_id: str, variant: str) -> PageLookup | None:
    """Return the cached page and count of an article's thread, or None when not cacheable now."""
    if not _usable():
        return None
    _retry_lost_bumps()
    version_keys = (_site_key(site_key), _article_key(site_key, article_id))
    try:
        site, article, page, count, settings = _script("page", LOOKUP_PAGE)(
            keys=[*version_keys, _vote_stamp_key(site_key, article_id)],
            args=[
                _fresh(),
                _fresh(),
                _version_seconds(),
                _digest(variant),
                PAGE,
                COUNT,
                SITE_SETTINGS,
                _vote_period(),
            ],
        )
    except RedisError as error:
        _redis_failed(error, "page")
        return None
    READ_CACHE.labels(kind="page", result="miss" if page is None else "hit").inc()
    versions = f"{site.decode()}:{article.decode()}"
    return PageLookup(versions, page, None if count is None else int(count), version_keys, settings)


def store_page(
    lookup: PageLookup, variant: str, page: bytes, count: int | None, ttl: int | None = None
) -> None:
    """Keep a rendered page (and the article's count) under the versions it was looked up at."""
    ttl = min(seconds(), ttl) if ttl is not None else seconds()
    if ttl <= 0:
        return
    # "site:article:vote stamp"; counts hang off the article's version alone.
    article_version = lookup.versions.split(":")[1]
    try:
        with redis_connection().pipeline(transaction=False) as pipe:
            pipe.set(f"{PAGE}{lookup.versions}:{_digest(variant)}", page, ex=ttl)
            if count is not None and lookup.count is None:
                pipe.set(COUNT + article_version, count, ex=seconds())
            for key in lookup.version_keys:
                # Renewing a version another process has just replaced is harmless.
                pipe.expire(key, _version_seconds())
            pipe.execute()
    except RedisError as error:
        _redis_failed(error, "page")


def lookup_counts(site_key: str, article_ids: list[str]) -> tuple[dict[str, int], dict] | None:
    """Return the cached counts found, and each article's version to store the others under."""
    if not _usable():
        return None
    _retry_lost_bumps()
    try:
        found = _script("counts", LOOKUP_COUNTS)(
            keys=[_article_key(site_key, article_id) for article_id in article_ids],
            args=[_version_seconds(), COUNT, *(_fresh() for _ in article_ids)],
        )
    except RedisError as error:
        _redis_failed(error, "count")
        return None
    counts, versions = {}, {}
    for article_id, version, count in zip(article_ids, found[::2], found[1::2], strict=True):
        versions[article_id] = version.decode()
        if count is not None:
            counts[article_id] = int(count)
    READ_CACHE.labels(kind="count", result="hit").inc(len(counts))
    READ_CACHE.labels(kind="count", result="miss").inc(len(article_ids) - len(counts))
    return counts, versions


def store_counts(counts: dict[str, int], versions: dict[str, str]) -> None:
    """Keep articles' counts under the versions they were looked up at."""
    if not counts:
        return
    try:
        with redis_connection().pipeline(transaction=False) as pipe:
            for article_id, count in counts.items():
                pipe.set(COUNT + versions[article_id], count, ex=seconds())
            pipe.execute()
    except RedisError as error:
        _redis_failed(error, "count")


def lookup_settings(site_key: str) -> tuple[str, bytes | None] | None:
    """Return the site's version and the request settings stored under it, or None."""
    if not _usable():
        return None
    try:
        version, settings = _script("settings", LOOKUP_SETTINGS)(
            keys=[_site_key(site_key)], args=[_fresh(), _version_seconds(), SITE_SETTINGS]
        )
    except RedisError as error:
        _redis_failed(error, "settings")
        return None
    READ_CACHE.labels(kind="settings", result="miss" if settings is None else "hit").inc()
    return version.decode(), settings


def store_settings(version: str, settings: bytes) -> None:
    """Keep a site's request settings under the version they were looked up at."""
    try:
        redis_connection().set(SITE_SETTINGS + version, settings, ex=seconds())
    except RedisError as error:
        _redis_failed(error, "settings")


def lookup_live(site_key: str, article_id: str) -> tuple[str, bytes | None, bytes | None] | None:
    """Return the article's version, the live answer and the site's settings cached, or None."""
    if not _usable():
        return None
    _retry_lost_bumps()
    try:
        article, live, settings = _script("live", LOOKUP_LIVE)(
            keys=[_site_key(site_key), _article_key(site_key, article_id)],
            args=[_fresh(), _version_seconds(), LIVE, SITE_SETTINGS],
        )
    except RedisError as error:
        _redis_failed(error, "live")
        return None
    READ_CACHE.labels(kind="live", result="miss" if live is None else "hit").inc()
    return article.decode(), live, settings


def store_live(version: str, live: bytes) -> None:
    """Keep an article's live answer under the version it was looked up at."""
    try:
        redis_connection().set(LIVE + version, live, ex=seconds())
    except RedisError as error:
        _redis_failed(error, "live")


# Changes: collected per session while a transaction runs, published when it commits.


def _articles_named(column, ids):
    """The (site key, article id) pairs of the articles with these ids or of these comments."""
    query = select(Site.key, Article.external_id).join(Article, Article.site_id == Site.id)
    if column is Comment.id:
        query = query.join(Comment, Comment.article_id == Article.id)
    return query.where(column.in_(ids)).distinct()


def touch_comments(session: Session, comment_ids: Iterable[int]) -> None:
    """Mark the articles of these comments as changed (for UPDATEs that bypass the ORM)."""
    ids = list(comment_ids)
    if not ids:
        return
    rows = session.execute(_articles_named(Comment.id, ids))
    session.info.setdefault(PENDING_ARTICLES, set()).update(map(tuple, rows))


def touch_article(session: Session, site_key: str, article_id: str) -> None:
    """Mark one article's pages as changed (a new sort=top ranking epoch)."""
    session.info.setdefault(PENDING_ARTICLES, set()).add((site_key, article_id))


def touch_site(session: Session, site_key: str) -> None:
    """Mark a site's pages and request settings as changed."""
    session.info.setdefault(PENDING_SITES, set()).add(site_key)


def _changed(session: Session, instance) -> bool:
    return instance in session.new or instance in session.deleted or session.is_modified(instance)


@event.listens_for(Session, "after_flush")
def _collect_flushed(session: Session, _context) -> None:
    """Note the articles and sites whose rows this flush changed."""
    article_ids, comment_ids = set(), set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Site) and _changed(session, instance):
            touch_site(session, instance.key)
        elif isinstance(instance, Article) and _changed(session, instance):
            article_ids.add(instance.id)
        elif isinstance(instance, Comment) and _changed(session, instance):
            if instance in session.new:
                # A new comment is pending: no reader sees it until its decision (an import's
                # approved comments do count).
                if instance.status in VISIBLE:
                    article_ids.add(instance.article_id)
            else:
                comment_ids.add(inspect(instance).identity[0])
    if not article_ids and not comment_ids:
        return
    # Inside a flush: the connection, not the session (which must not flush again).
    connection = session.connection()
    pending = session.info.setdefault(PENDING_ARTICLES, set())
    if article_ids:
        pending.update(map(tuple, connection.execute(_articles_named(Article.id, article_ids))))
    if comment_ids:
        pending.update(map(tuple, connection.execute(_articles_named(Comment.id, comment_ids))))


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    """Replace the versions of what the committed transaction changed."""
    articles = session.info.pop(PENDING_ARTICLES, set())
    sites = session.info.pop(PENDING_SITES, set())
    keys = [_article_key(*pair) for pair in articles] + [_site_key(key) for key in sites]
    if keys and has_app_context():
        _bump(keys)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    """Drop what a transaction that ended without committing had noted (its outermost end only:
    a savepoint rolled back leaves the rest of the transaction, whose changes still count)."""
    if transaction.parent is None:
        session.info.pop(PENDING_ARTICLES, None)
        session.info.pop(PENDING_SITES, None)


def _bump(keys: list[str]) -> None:
    """Give each version key a new token; remember the ones Redis could not take."""
    try:
        with redis_connection().pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, _fresh(), ex=_version_seconds())
            pipe.execute()
    except RedisError as error:
        health = _health()
        with health.lock:
            health.lost_bumps.update(keys)
        log.warning("could not invalidate %d cached thread(s): %s", len(keys), error)


def _retry_lost_bumps() -> None:
    """Publish bumps an outage swallowed, before this process trusts the cache again."""
    health = _health()
    if not health.lost_bumps:
        return
    with health.lock:
        keys = list(health.lost_bumps)
        health.lost_bumps.clear()
    _bump(keys)
