"""Command-line tools: `flask --app service sites|users|worker|moderation|bans|privacy|sso|...`
(and `webhooks`)."""

from flask import Flask

from service.cli.bans import bans_cli
from service.cli.imports import export_command, import_cli
from service.cli.mail import mail_cli
from service.cli.moderation import moderation_cli
from service.cli.privacy import privacy_cli
from service.cli.processes import run_sweeper, run_worker
from service.cli.sites import sites_cli
from service.cli.sso import sso_cli
from service.cli.users import users_cli
from service.cli.webhooks import webhooks_cli


def register(app: Flask) -> None:
    """Attach the commands to the app's `flask` CLI."""
    app.cli.add_command(sites_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(run_worker)
    app.cli.add_command(run_sweeper)
    app.cli.add_command(moderation_cli)
    app.cli.add_command(bans_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(sso_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(export_command)
