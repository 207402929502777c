"""Requests gunicorn refuses before the app sees them answer in the JSON error shape
(issue 14, finding 4: they were gunicorn's HTML pages)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from .helpers import REPO_ROOT, free_port, wait_until_healthy


@pytest.fixture(scope="module")
def gunicorn_url(database, redis_url, migrated, tmp_path_factory):
    """The API under gunicorn with the production settings file, on a free port."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TALKBACK_")}
    env.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        TALKBACK_INSTANCE_DIR=str(tmp_path),
        GUNICORN_WORKERS="1",
    )
    port = free_port()
    log = tmp_path / "api.log"
    with log.open("wb") as output:
        api = subprocess.Popen(
            [
                *(
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    str(REPO_ROOT / "gunicorn.conf.py"),
                ),
                *("--bind", f"127.0.0.1:{port}", "service:create_app()"),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", api, log)
        yield port
    finally:
        api.terminate()
        api.wait(timeout=20)


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; return the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-Pad-%d: 1\r\n" % n for n in range(150))
            + b"\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"NOT A REQUEST LINE AT ALL\r\n\r\n", 400, "bad_request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n", 400, "bad_request"),
    ],
    ids=["414-long-uri", "431-many-headers", "400-request-line", "400-header-name"],
)
def test_requests_gunicorn_refuses_answer_in_the_json_error_shape(
    gunicorn_url, request_bytes, status, code
):
    answered, headers, body = _raw(gunicorn_url, request_bytes)

    assert answered == status, body[:300]
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code and error["fields"] == {}
    # gunicorn's own text echoes the request; ours does not.
    assert "aaaa" not in error["message"] and "REQUEST LINE" not in error["message"]
