"""`flask --app service users create-admin|create-moderator|assign|set-password|...`."""

import sys

import click
from flask.cli import AppGroup

from service.cli.errors import service_errors

PASSWORD_HELP = "The password (prompted for, or generated and printed, if omitted)."
users_cli = AppGroup("users", help="Create and manage moderator and operator accounts.")


def _password_or_generated(password: str | None) -> tuple[str, bool]:
    """Return the given password, one typed at a prompt, or a generated one (and whether it was)."""
    if password is None and sys.stdin.isatty():
        password = click.prompt(
            "Password (leave empty to generate one)",
            default="",
            show_default=False,
            hide_input=True,
            confirmation_prompt=True,
        )
    if password:
        return password, False
    from service.core.accounts import generate_password

    return generate_password(), True


def _create_account(username: str, password: str | None, role: str, sites: tuple[str, ...]):
    from service.core import accounts

    password, generated = _password_or_generated(password)
    with service_errors():
        user = accounts.create_user(username, password, role, sites)
    where = "all sites" if user.is_operator else ", ".join(site.key for site in user.sites)
    click.echo(f"Created {role} '{user.username}' ({where}).")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("create-admin")
@click.argument("username")
@click.option(
    "--password", help="The password (prompted for, or generated and printed, if omitted)."
)
def create_admin(username: str, password: str | None) -> None:
    """Create an operator account: every site, every console page."""
    _create_account(username, password, "operator", ())


@users_cli.command("create-moderator")
@click.argument("username")
@click.option(
    "--site", "sites", multiple=True, required=True, metavar="KEY", help="A site; repeatable."
)
@click.option(
    "--password", help="The password (prompted for, or generated and printed, if omitted)."
)
def create_moderator(username: str, sites: tuple[str, ...], password: str | None) -> None:
    """Create a moderator account for the given sites."""
    _create_account(username, password, "moderator", sites)


@users_cli.command("assign")
@click.argument("username")
@click.option(
    "--site", "sites", multiple=True, required=True, metavar="KEY", help="A site; repeatable."
)
def assign(username: str, sites: tuple[str, ...]) -> None:
    """Set the sites a moderator works on (replaces the current list)."""
    from service.core import accounts

    with service_errors():
        user = accounts.get_user(username)
        accounts.assign_sites(user, sites)
    click.echo(f"'{user.username}' moderates {', '.join(site.key for site in user.sites)}.")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", help="The new password (prompted for, or generated and printed).")
def set_password(username: str, password: str | None) -> None:
    """Set an account's password, lift its lockout and log out its sessions."""
    from service.core import accounts

    with service_errors():
        user = accounts.get_user(username)
        password, generated = _password_or_generated(password)
        accounts.set_password(user, password)
    click.echo(f"Password of '{user.username}' changed.")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Turn an account off: it can't log in and its API tokens stop working."""
    from service.core import accounts

    with service_errors():
        accounts.set_active(accounts.get_user(username), False)
    click.echo(f"'{accounts.normalize_username(username)}' is deactivated.")


@users_cli.command("activate")
@click.argument("username")
def activate(username: str) -> None:
    """Turn a deactivated account back on."""
    from service.core import accounts

    with service_errors():
        accounts.set_active(accounts.get_user(username), True)
    click.echo(f"'{accounts.normalize_username(username)}' is active.")


@users_cli.command("create-token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for (e.g. 'triage script').")
def create_token(username: str, name: str) -> None:
    """Create an API token for an account; the token is printed once, as the last line."""
    from service.core import accounts

    with service_errors():
        api_token, token = accounts.create_token(accounts.get_user(username), name)
    click.echo(f"Created API token {api_token.id} ({api_token.name}) for '{username.lower()}'.")
    click.echo("Keep it now: it is not stored and can't be shown again.")
    click.echo(token)


@users_cli.command("revoke-token")
@click.argument("token_id", metavar="ID", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke an API token by its id (see `users list`)."""
    from service.core import accounts

    with service_errors():
        api_token = accounts.revoke_token(token_id)
    click.echo(f"API token {token_id} ({api_token.name}) is revoked.")


@users_cli.command("list")
def list_users() -> None:
    """List accounts with their role, state, sites and live API tokens (id: name)."""
    from service.core import accounts

    users = accounts.list_users()
    if not users:
        click.echo("No accounts yet; create one with `users create-admin NAME`.")
    for user in users:
        sites = "all sites" if user.is_operator else ",".join(s.key for s in user.sites) or "-"
        state = "active" if user.is_active else "deactivated"
        tokens = [
            f"{token.id}: {token.name}"
            for token in accounts.list_tokens(user)
            if token.revoked_at is None
        ]
        click.echo(
            f"{user.username}\t{user.role.value}\t{state}\t{sites}"
            + (f"\ttokens {'; '.join(tokens)}" if tokens else "")
        )
