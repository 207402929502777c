"""/metrics: Prometheus' format behind a bearer token, with real traffic and a real worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .helpers import comments_url, free_port, submit, wait_until_healthy

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def metered(app_factory, app, site):
    """A client of an app that serves /metrics with TOKEN."""
    return app_factory(METRICS_TOKEN=TOKEN).test_client()


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def total(samples: dict, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include these."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def test_each_family_counts_real_traffic(metered, run_worker):
    before = scrape(metered)
    ok = submit(metered, body="Thanks for the clear report on the bridge repairs.")
    submit(metered, body="You are a worthless idiot and everyone hates you, you moron.")
    run_worker()
    assert metered.get(comments_url()).status_code == 200
    assert metered.get(comments_url()).status_code == 200  # the same page again: a hit
    waiting = submit(metered, body="A comment still waiting for the worker.")
    time.sleep(0.05)
    after = scrape(metered)

    def grew(name: str, **labels) -> bool:
        return total(after, name, **labels) > total(before, name, **labels)

    assert grew(
        "talkback_http_request_duration_seconds_count",
        endpoint="public.ArticleComments",
        method="POST",
        status="2xx",
    )
    assert grew("talkback_http_request_duration_seconds_count", method="GET", status="2xx")
    assert grew("talkback_decisions_total", outcome="approved", reason_kind="toxicity")
    assert grew("talkback_decisions_total", outcome="rejected", reason_kind="toxicity")
    assert (
        total(after, "talkback_submit_to_decision_seconds_count")
        >= total(before, "talkback_submit_to_decision_seconds_count") + 2
    )
    assert total(after, "talkback_scoring_seconds_count") >= (
        total(before, "talkback_scoring_seconds_count") + 2
    )
    assert grew("talkback_read_cache_total", kind="page", result="miss")
    assert grew("talkback_read_cache_total", kind="page", result="hit")
    assert total(after, "talkback_queue_depth") >= 1  # the comment no worker has taken yet
    assert total(after, "talkback_oldest_pending_seconds") > 0
    assert ok["id"] != waiting["id"]


def test_metrics_need_the_token(metered):
    assert metered.get("/metrics").status_code == 401
    wrong = metered.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert wrong.json["error"]["code"] == "unauthorized"


def test_metrics_are_off_without_a_token(client):
    response = client.get("/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
    assert "TALKBACK_METRICS_TOKEN" in response.json["error"]["message"]


def _http(url: str, payload: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def test_gunicorn_processes_and_a_worker_are_scraped_together(database, redis_url, site, tmp_path):
    # The production shape: gunicorn.conf.py, two processes; a worker in a third process.
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TALKBACK_", "PROMETHEUS_")) and key != "FLASK_APP"
    }
    env.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        TALKBACK_INSTANCE_DIR=str(tmp_path),
        TALKBACK_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )
    root = Path(__file__).resolve().parent.parent
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "api.log"
    with log.open("wb") as output:
        api = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--config", str(root / "gunicorn.conf.py")),
                *("--bind", url.removeprefix("http://"), "service:create_app()"),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
    try:
        wait_until_healthy(f"{url}/healthz", api, log)
        for _ in range(20):
            status, _ = _http(f"{url}/healthz")
            assert status == 200
        for n in range(3):
            status, _ = _http(
                f"{url}/api/v1/sites/demo/articles/a1/comments",
                {"author_name": "Reader", "body": f"A polite comment number {n} on the story."},
            )
            assert status == 202
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "service", "worker", "--burst"],
            env=env,
            cwd=root,
            check=True,
            capture_output=True,
            timeout=120,
        )
        status, text = _http(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        api.terminate()
        api.wait(timeout=20)
    assert status == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert total(samples, "talkback_http_request_duration_seconds_count", method="GET") >= 21
    posted = total(
        samples, "talkback_http_request_duration_seconds_count", method="POST", status="2xx"
    )
    assert posted == 3
    assert total(samples, "talkback_decisions_total") == 3  # recorded in the worker's process
    assert total(samples, "talkback_scoring_seconds_count") == 3
    assert total(samples, "talkback_queue_depth") == 0
    # At least the two API processes and the worker wrote their own files.
    assert len({path.name.rsplit("_", 1)[-1] for path in folder.glob("*.db")}) >= 2
