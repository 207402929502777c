"""Talkback: a self-hosted, moderated comment service for news sites."""

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service.config import DEFAULT_SECRET_KEY, INSTANCE_DIR, MIGRATIONS_DIR, Config


class InsecureConfigError(RuntimeError):
    """Raised when production settings would leave the service unsafe."""


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app: settings, extensions, auth, API blueprints, web pages and commands."""
    from . import cli
    from .api import (
        TalkbackApi,
        admin_advice,
        admin_bans,
        admin_sites,
        admin_sso,
        admin_webhooks,
        health,
        moderation,
        public,
    )
    from .console import admin as console_admin
    from .console import advice as console_advice
    from .console import auth as console_auth
    from .console import edits as console_edits
    from .console import queue as console_queue
    from .console import webhooks as console_webhooks
    from .extensions import db, migrate
    from .web import auth, cors, fastread, inputs, metrics, outages, ratelimit
    from .widget import assets as widget_assets
    from .widget import demo, mail_pages

    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    _check_production_settings(app)
    app.json.sort_keys = False  # keep the documented field order in responses
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    metrics.init_app(app)
    auth.init_app(app)
    inputs.init_app(app)
    ratelimit.init_app(app)
    api = TalkbackApi(app)
    outages.init_app(app)
    public.register(api)
    moderation.register(api)
    api.register_blueprint(admin_sites.bp)
    api.register_blueprint(admin_bans.bp)
    api.register_blueprint(admin_sso.bp)
    api.register_blueprint(admin_webhooks.bp)
    api.register_blueprint(admin_advice.bp)
    api.register_blueprint(health.bp)
    cors.init_app(app)
    fastread.init_app(app)
    if app.config["DEMO_PAGES"]:
        app.register_blueprint(demo.bp)
    app.register_blueprint(widget_assets.bp)
    app.register_blueprint(mail_pages.bp)
    app.register_blueprint(console_auth.bp)
    app.register_blueprint(console_queue.bp)
    app.register_blueprint(console_admin.bp)
    app.register_blueprint(console_advice.bp)
    app.register_blueprint(console_edits.bp)
    app.register_blueprint(console_webhooks.bp)
    cli.register(app)
    return app


def _check_production_settings(app: Flask) -> None:
    if app.config["TALKBACK_ENV"] == "production" and (
        app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(app.config["SECRET_KEY"]) < 32
    ):
        raise InsecureConfigError(
            "TALKBACK_SECRET_KEY must be set to a random string of at least 32 characters "
            "in production (it keys the hashes of emails and IP addresses)."
        )
