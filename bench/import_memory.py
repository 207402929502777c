"""Import memory: the peak RSS of `import disqus` on generated exports of growing size.

Run: `.venv/bin/python bench/import_memory.py [--sizes 50 200]` (sizes in MB; `make
import-memory`). For each size it writes a Disqus export into a temporary directory (threads of
50 posts, ~1.5 KB HTML bodies, a reply in five, and a reply before its parent now and then),
then imports it into a fresh database in a child process, which reports its own peak RSS
(resource.getrusage) when done. DATABASE_URL/REDIS_URL pick the servers as for the tests (a
temporary database is created and dropped); otherwise SQLite and an embedded Redis. Flat
memory means the peak does not grow with the file. Prints one JSON line per size, then a
summary line.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.worker import redis_url  # noqa: E402

POSTS_PER_THREAD = 50
WORDS = [
    "harbour",
    "bridge",
    "council",
    "budget",
    "night",
    "buses",
    "schedule",
    "reporter",
    "readers",
    "station",
    "tram",
    "line",
    "repairs",
    "summer",
    "winter",
    "museum",
    "school",
    "teachers",
    "hospital",
    "doctors",
    "election",
    "mayor",
    "river",
    "market",
    "prices",
    "bakery",
    "coffee",
    "street",
    "festival",
    "music",
    "parking",
    "bicycle",
    "lanes",
    "weather",
    "storm",
]


def _body(rng: random.Random, paragraphs: int = 4) -> str:
    return "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(55)) + ".</p>" for _ in range(paragraphs)
    )


def generate(path: Path, megabytes: int, seed: int = 16) -> int:
    """Write a Disqus export of about `megabytes` MB; return how many posts it holds."""
    rng = random.Random(seed)
    target = megabytes * 1024 * 1024
    written = posts = threads = 0
    with path.open("w", encoding="utf-8") as out:

        def write(text: str) -> None:
            nonlocal written
            out.write(text)
            written += len(text.encode())

        write(
            '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
        )
        while written < target:
            threads += 1
            write(
                f'<thread dsq:id="t{threads}"><id>story-{threads}</id>'
                f"<link>https://bench.example/story-{threads}</link><title>Story {threads}</title>"
                "<createdAt>2015-01-01T00:00:00Z</createdAt><isClosed>false</isClosed>"
                "<isDeleted>false</isDeleted></thread>\n"
            )
            first = posts + 1
            for n in range(POSTS_PER_THREAD):
                posts += 1
                parent = ""
                if n and rng.random() < 0.2:
                    parent = f'<parent dsq:id="{rng.randint(first, posts - 1)}"/>'
                elif n + 1 < POSTS_PER_THREAD and rng.random() < 0.01:
                    parent = f'<parent dsq:id="{posts + 1}"/>'  # its parent comes next
                write(
                    f'<post dsq:id="{posts}"><message><![CDATA[{_body(rng)}]]></message>'
                    f"<createdAt>2015-01-02T{n % 24:02d}:00:00Z</createdAt>"
                    f"<isDeleted>false</isDeleted><isSpam>{str(rng.random() < 0.05).lower()}"
                    f"</isSpam><author><email>reader{posts % 5000}@example.com</email>"
                    f"<name>Reader {posts % 5000}</name><isAnonymous>false</isAnonymous></author>"
                    f"<ipAddress>203.0.113.{posts % 250}</ipAddress>"
                    f'<thread dsq:id="t{threads}"/>{parent}</post>\n'
                )
        write("</disqus>\n")
    return posts


def child(path: str, database: str, redis: str) -> None:
    """Import `path` into a fresh database; print the peak RSS of this process."""
    from flask_migrate import upgrade

    from service import create_app
    from service.core.imports import import_file
    from service.extensions import db
    from service.models import Site

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "REDIS_URL": redis})
    with app.app_context():
        upgrade()
        db.session.add(Site(key="bench", name="Benchmark"))
        db.session.commit()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        summary = import_file("bench", "disqus", Path(path))
        seconds = time.perf_counter() - started
        db.engine.dispose()
    print(
        json.dumps(
            {
                "rss_before_import_mb": round(before / 1024, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "seconds": round(seconds, 1),
                "comments": sum(summary.comments.values()),
                "articles": summary.articles_created,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200], help="MB per run")
    parser.add_argument("--child", nargs=3, metavar=("FILE", "DATABASE", "REDIS"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from tests.helpers import temporary_database

    results = []
    with redis_url() as redis:
        for megabytes in args.sizes:
            with (
                tempfile.TemporaryDirectory() as directory,
                temporary_database(Path(directory)) as database,
            ):
                path = Path(directory) / f"disqus-{megabytes}mb.xml"
                posts = generate(path, megabytes)
                run = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), database, redis],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if run.returncode:
                    sys.exit(run.stderr[-3000:])
                result = {
                    "file_mb": round(path.stat().st_size / 2**20, 1),
                    "posts": posts,
                    **json.loads(run.stdout.strip().splitlines()[-1]),
                }
                results.append(result)
                print(json.dumps(result), flush=True)
    peaks = [r["peak_rss_mb"] for r in results]
    print(json.dumps({"sizes_mb": args.sizes, "peak_rss_mb": peaks}))


if __name__ == "__main__":
    main()
