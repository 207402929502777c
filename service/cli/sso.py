"""`flask --app service sso add|list|retire`: a site's sign-in keys."""

from pathlib import Path

import click
from flask.cli import AppGroup

from service.cli.errors import service_errors
from service.core import sso
from service.core.operator_log import CLI_ACTOR

sso_cli = AppGroup("sso", help="Manage the keys a site's login signs reader sign-in tokens with.")

OPTIONS = {"public_key": "--public-key-file", "secret": "--secret", "kid": "--kid"}


@sso_cli.command("add")
@click.argument("site")
@click.option(
    "--algorithm",
    type=click.Choice(["HS256", "RS256", "ES256"]),
    default="HS256",
    show_default=True,
    help="HS256: a shared secret; RS256/ES256: the login keeps the private key.",
)
@click.option("--kid", help="The key id tokens name in their header (generated if left out).")
@click.option("--secret", help="HS256: use this secret (32+ bytes) instead of a generated one.")
@click.option(
    "--public-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="RS256/ES256: the PEM public key.",
)
def add_key(
    site: str, algorithm: str, kid: str | None, secret: str | None, public_key_file: Path | None
) -> None:
    """Add a sign-in key to SITE; an HS256 secret is printed this once."""
    public_key = public_key_file.read_text() if public_key_file else None
    with service_errors(OPTIONS, fields="lines"):
        key, shown = sso.add_key(
            site, algorithm, actor=CLI_ACTOR, kid=kid, secret=secret, public_key=public_key
        )
    click.echo(f"Added {key.algorithm} key '{key.kid}' to site '{site}' ({key.fingerprint}).")
    if shown:
        click.echo("Secret (shown this once; give it to the publisher's login):")
        click.echo(shown)


@sso_cli.command("list")
@click.argument("site")
def list_keys(site: str) -> None:
    """List SITE's sign-in keys (never a secret)."""
    with service_errors():
        keys = sso.list_keys(site)
    if not keys:
        click.echo(f"Site '{site}' has no sign-in keys: it accepts no sign-in tokens.")
    for key in keys:
        state = f"retired {key.retired_at:%Y-%m-%d %H:%M}" if key.retired_at else "active"
        click.echo(
            f"{key.kid}  {key.algorithm}  {key.fingerprint}  "
            f"added {key.created_at:%Y-%m-%d %H:%M} UTC  {state}"
        )


@sso_cli.command("retire")
@click.argument("site")
@click.argument("kid")
def retire_key(site: str, kid: str) -> None:
    """Stop accepting SITE's tokens signed with key KID."""
    with service_errors():
        sso.retire_key(site, kid, actor=CLI_ACTOR)
    click.echo(f"Key '{kid}' of site '{site}' is retired.")
