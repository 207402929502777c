"""`flask --app service sites create|origins|show|set|words|domains|premoderate|moderators|...`."""

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from service.cli.errors import service_errors
from service.core.origins import InvalidOriginError, normalize_origin
from service.extensions import db
from service.models import Site

sites_cli = AppGroup(
    "sites", help="Create, configure, close and list sites, and assign their moderators."
)

# Reset words for `sites set --rate-limit KIND=default` and `--policy KEY=null`.
RESET_VALUES = ("default", "null")


def _origins(values: tuple[str, ...], option: str) -> list[str]:
    """Normalise origins typed by an operator, or stop with the first problem."""
    origins = []
    for value in values:
        try:
            origins.append(normalize_origin(value))
        except InvalidOriginError as error:
            raise click.BadParameter(str(error), param_hint=option) from None
    return list(dict.fromkeys(origins))


def _find_site(key: str) -> Site:
    from service.core import sites

    with service_errors(fields="instead"):
        return sites.get_site(key)


def _echo_origins(site: Site) -> None:
    if not site.allowed_origins:
        click.echo(f"Site '{site.key}' allows no origins: no page can embed it yet.")
    for origin in site.allowed_origins:
        click.echo(origin)


def _update(key: str, data: dict, options: dict[str, str] | None = None) -> Site:
    """Change settings through the service (validated, logged as the CLI's action)."""
    from service.core import operator_log, sites

    with service_errors(options, fields="instead"):
        return sites.update_site(key, data, actor=operator_log.CLI_ACTOR)


@sites_cli.command("create")
@click.argument("key")
@click.option("--name", help="Human-readable name (defaults to the key).")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    metavar="URL",
    help="An origin (scheme://host[:port]) whose pages may embed the site; repeatable.",
)
@click.option(
    "--language", type=click.Choice(["en", "he"]), help="The widget's default language (en)."
)
@click.option(
    "--exist-ok",
    is_flag=True,
    help="Succeed if the site already exists (adding any --origin it lacks).",
)
def create_site(
    key: str, name: str | None, origins: tuple[str, ...], language: str | None, exist_ok: bool
) -> None:
    """Create a site that pages can embed Talkback on."""
    from service.core import operator_log, sites

    allowed = _origins(origins, "--origin")
    site = db.session.scalar(select(Site).where(Site.key == key))
    if site is not None:
        if not exist_ok:
            raise click.ClickException(f"Site '{key}' already exists.")
        added = [origin for origin in allowed if origin not in site.allowed_origins]
        if added:
            _update(key, {"allowed_origins": [*site.allowed_origins, *added]})
            click.echo(f"Site '{key}' already exists; allowed {', '.join(added)}.")
        else:
            click.echo(f"Site '{key}' already exists.")
        return
    data: dict = {"key": key, "allowed_origins": allowed}
    if name is not None:
        data["name"] = name
    if language is not None:
        data["language"] = language
    options = {"key": "KEY", "name": "--name", "allowed_origins": "--origin"}
    with service_errors(options, fields="instead"):
        sites.create_site(data, actor=operator_log.CLI_ACTOR)
    click.echo(f"Created site '{key}'.")
    if not allowed:
        click.echo("No origins allowed yet; add them with `sites origins KEY --add URL`.")


@sites_cli.command("origins")
@click.argument("key")
@click.option("--add", "to_add", multiple=True, metavar="URL", help="Allow an origin; repeatable.")
@click.option(
    "--remove", "to_remove", multiple=True, metavar="URL", help="Disallow an origin; repeatable."
)
def site_origins(key: str, to_add: tuple[str, ...], to_remove: tuple[str, ...]) -> None:
    """Show or change the origins whose pages may embed a site; print the resulting list."""
    adding, removing = _origins(to_add, "--add"), _origins(to_remove, "--remove")
    site = _find_site(key)
    origins = [origin for origin in site.allowed_origins if origin not in removing]
    origins += [origin for origin in adding if origin not in origins]
    if origins != site.allowed_origins:
        site = _update(key, {"allowed_origins": origins}, {"allowed_origins": "--add"})
    _echo_origins(site)


def _shown(value) -> str:
    """Format a setting for people: lists joined, None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(value) if value else "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _settings_lines(info: dict) -> list[tuple[str, str]]:
    """The rows `sites show` prints, as (label, value); `sites set` compares them too."""
    closed = f"closed since {info['closed_at']:%Y-%m-%d %H:%M} UTC" if info["closed"] else "open"
    auto_close = info["auto_close_days"]
    rows = [
        ("name", info["name"]),
        ("state", closed),
        ("created", f"{info['created_at']:%Y-%m-%d %H:%M} UTC"),
        ("language", info["language"]),
        ("sign-in", info["sign_in"]),
        (
            "origins",
            ", ".join(info["allowed_origins"]) or "(none: no page can embed the site yet)",
        ),
        (
            "comment length",
            f"{info['min_comment_length']} to {info['max_comment_length']} characters",
        ),
        (
            "auto-close",
            f"articles close {auto_close} days after their first comment"
            if auto_close
            else "never",
        ),
        ("dislikes", "on" if info["dislikes_enabled"] else "off (likes only)"),
        (
            "edit window",
            f"{info['edit_window_seconds']} seconds after posting"
            if info["edit_window_seconds"]
            else "off",
        ),
        (
            "moderators",
            ", ".join(info["moderators"]) or "(none; operators moderate every site)",
        ),
    ]
    for kind, limit in info["effective_rate_limits"].items():
        own = kind in info["rate_limits"]
        rows.append((f"rate limit {kind}", limit + ("" if own else "  (default)")))
    for setting, value in info["effective_policy"].items():
        own = setting in info["policy"]
        count = f"  [{len(value)}]" if isinstance(value, list) and value else ""
        rows.append((f"policy {setting}", _shown(value) + count + ("" if own else "  (default)")))
    return rows


def _echo_settings(info: dict) -> None:
    width = max(len(label) for label, _ in _settings_lines(info))
    click.echo(f"Site '{info['key']}'")
    for label, value in _settings_lines(info):
        click.echo(f"  {label:<{width}}  {value}")


@sites_cli.command("show")
@click.argument("key")
def show_site(key: str) -> None:
    """Show every setting of a site: its policy and rate limits as applied, and its moderators."""
    from service.core import sites

    _echo_settings(sites.site_dict(_find_site(key)))


def _parse_pairs(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, equals, text = value.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"'{value}' is not NAME=VALUE.", param_hint=option)
        pairs.append((name.strip(), text.strip()))
    return pairs


def _policy_value(text: str):
    """Read a --policy value: JSON when it parses (0.6, true, ["a*"]), else the text itself."""
    if text in RESET_VALUES:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


SET_OPTIONS = {
    "name": "--name",
    "language": "--language",
    "min_comment_length": "--min-length",
    "max_comment_length": "--max-length",
    "auto_close_days": "--auto-close-days",
    "edit_window_seconds": "--edit-window",
    "sign_in": "--sign-in",
    "dislikes_enabled": "--dislikes/--no-dislikes",
}


@sites_cli.command("set")
@click.argument("key")
@click.option("--name", help="Human-readable name.")
@click.option("--language", help="The widget's default language: en or he.")
@click.option("--min-length", type=int, help="Fewest characters of text a comment needs.")
@click.option("--max-length", type=int, help="Most characters of text a comment may have.")
@click.option(
    "--auto-close-days",
    type=int,
    metavar="N",
    help="Close articles to new comments N days after their first one.",
)
@click.option("--no-auto-close", is_flag=True, help="Keep articles open (the default).")
@click.option(
    "--edit-window",
    type=int,
    metavar="SECONDS",
    help="How long authors may edit a comment after posting it (0 turns editing off).",
)
@click.option(
    "--sign-in",
    help="Who may post: anonymous (default), required (signed-in readers only) or links "
    "(sign-in needed to post a link).",
)
@click.option(
    "--dislikes/--no-dislikes",
    "dislikes_enabled",
    default=None,
    help="Let readers dislike comments too (likes are always on; off by default).",
)
@click.option(
    "--rate-limit",
    "rate_limits",
    multiple=True,
    metavar="KIND=LIMIT",
    help="submit, report, delete or vote = e.g. 5/minute;30/hour ('default' removes the site's "
    "own); repeatable.",
)
@click.option(
    "--policy",
    "policy",
    multiple=True,
    metavar="SETTING=VALUE",
    help="A moderation setting, e.g. toxicity_hold=0.6 or banned_words='[\"idiot*\"]' (JSON "
    "when it parses; 'default' puts it back to the default); repeatable.",
)
def set_site(
    key: str,
    name: str | None,
    language: str | None,
    min_length: int | None,
    max_length: int | None,
    auto_close_days: int | None,
    no_auto_close: bool,
    edit_window: int | None,
    sign_in: str | None,
    dislikes_enabled: bool | None,
    rate_limits: tuple[str, ...],
    policy: tuple[str, ...],
) -> None:
    """Change a site's settings; print what changed."""
    from service.core import sites

    if auto_close_days is not None and no_auto_close:
        raise click.UsageError("Give --auto-close-days or --no-auto-close, not both.")
    given = {
        "name": name,
        "language": language,
        "min_comment_length": min_length,
        "max_comment_length": max_length,
        "auto_close_days": auto_close_days,
        "edit_window_seconds": edit_window,
        "sign_in": sign_in,
        "dislikes_enabled": dislikes_enabled,
    }
    data: dict = {field: value for field, value in given.items() if value is not None}
    if no_auto_close:
        data["auto_close_days"] = None
    options = dict(SET_OPTIONS)
    if rate_limits:
        data["rate_limits"] = {
            kind: None if limit in RESET_VALUES else limit
            for kind, limit in _parse_pairs(rate_limits, "--rate-limit")
        }
        options.update(
            {f"rate_limits.{kind}": f"--rate-limit {kind}" for kind in data["rate_limits"]}
        )
    if policy:
        data["policy"] = {
            setting: _policy_value(text) for setting, text in _parse_pairs(policy, "--policy")
        }
        options.update({f"policy.{setting}": f"--policy {setting}" for setting in data["policy"]})
    if not data:
        raise click.UsageError("Nothing to change; see `sites set --help` for the settings.")
    before = _settings_lines(sites.site_dict(_find_site(key)))
    after = _settings_lines(sites.site_dict(_update(key, data, options)))
    changed = [(label, old, new) for (label, old), (_, new) in zip(before, after, strict=True)]
    changed = [row for row in changed if row[1] != row[2]]
    if not changed:
        click.echo(f"Site '{key}': nothing changed.")
        return
    click.echo(f"Site '{key}' updated:")
    for label, old, new in changed:
        click.echo(f"  {label}: {old} -> {new}")


def _edit_list(
    key: str,
    setting: str,
    to_add: tuple[str, ...],
    to_remove: tuple[str, ...],
    normalize,
    option: str,
) -> None:
    """Add and remove entries of one of the policy's lists through the service; print the list."""
    from service.core import sites

    with service_errors(fields="instead"):
        # Read under the row lock update_site takes too: a concurrent edit can't be lost.
        site = sites.get_site(key, lock=True)
    entries = list(sites.site_dict(site)["effective_policy"][setting])
    if to_add or to_remove:
        removing = {normalize(value) for value in to_remove}
        missing = sorted(removing - set(entries))
        updated = [entry for entry in entries if entry not in removing] + list(to_add)
        site = _update(key, {"policy": {setting: updated}}, {f"policy.{setting}": option})
        entries = sites.site_dict(site)["effective_policy"][setting]
        if missing:
            click.echo(f"Not on the list (nothing to remove): {', '.join(missing)}", err=True)
    if not entries:
        click.echo(f"Site '{key}': {setting} is empty.")
    for entry in entries:
        click.echo(entry)


@sites_cli.command("words")
@click.argument("key")
@click.option(
    "--banned", "setting", flag_value="banned_words", help="The banned list (comments rejected)."
)
@click.option(
    "--suspect", "setting", flag_value="suspect_words", help="The suspect list (comments held)."
)
@click.option("--add", "to_add", multiple=True, metavar="WORD", help="Add a word or phrase.")
@click.option("--remove", "to_remove", multiple=True, metavar="WORD", help="Remove one.")
def site_words(
    key: str, setting: str | None, to_add: tuple[str, ...], to_remove: tuple[str, ...]
) -> None:
    """Show or change a site's banned or suspect words ('*' any letters, '?' one letter)."""
    from service.schemas.sites import normalize_word

    if setting is None:
        raise click.UsageError("Say which list: --banned or --suspect.")
    _edit_list(key, setting, to_add, to_remove, normalize_word, "--add")


def _domain_key(value: str) -> str:
    return value.strip().lower().rstrip(".")


@sites_cli.command("domains")
@click.argument("key")
@click.option(
    "--allow", "setting", flag_value="allowed_domains", help="Links that don't count as spam."
)
@click.option(
    "--deny", "setting", flag_value="denied_domains", help="Links that get a comment rejected."
)
@click.option("--add", "to_add", multiple=True, metavar="DOMAIN", help="Add a domain.")
@click.option("--remove", "to_remove", multiple=True, metavar="DOMAIN", help="Remove one.")
def site_domains(
    key: str, setting: str | None, to_add: tuple[str, ...], to_remove: tuple[str, ...]
) -> None:
    """Show or change a site's allowed or denied link domains (subdomains included)."""
    if setting is None:
        raise click.UsageError("Say which list: --allow or --deny.")
    _edit_list(key, setting, to_add, to_remove, _domain_key, "--add")


@sites_cli.command("premoderate")
@click.argument("key")
@click.argument("article_id", required=False)
@click.option("--off", is_flag=True, help="Stop pre-moderating the article.")
def site_premoderate(key: str, article_id: str | None, off: bool) -> None:
    """Pre-moderate an article (every new comment on it waits for a moderator), or with --off
    stop; without ARTICLE_ID, list the site's pre-moderated articles."""
    from service.core import articles, operator_log

    if article_id is None:
        if off:
            raise click.UsageError("Say which article to stop pre-moderating.")
        with service_errors(fields="instead"):
            found = articles.premoderated_articles(key, site_ids=None)
        if not found:
            click.echo(f"Site '{key}' pre-moderates no article.")
        for article in found:
            click.echo("\t".join([article.external_id, article.title or ""]).rstrip())
        return
    with service_errors({"article": "ARTICLE_ID", "site": "KEY"}, fields="instead"):
        articles.set_premoderated(
            key, article_id, not off, actor=operator_log.CLI_ACTOR, site_ids=None
        )
    if off:
        click.echo(f"Article '{article_id}' on '{key}' is no longer pre-moderated.")
    else:
        click.echo(
            f"Article '{article_id}' on '{key}' is pre-moderated: every new comment on it "
            "waits for a moderator."
        )


@sites_cli.command("moderators")
@click.argument("key")
@click.option(
    "--set",
    "usernames",
    multiple=True,
    metavar="USERNAME",
    help="A moderator account; repeatable. Replaces the current list.",
)
@click.option("--clear", is_flag=True, help="Remove every moderator of the site.")
def site_moderators(key: str, usernames: tuple[str, ...], clear: bool) -> None:
    """Show or replace the moderators of a site."""
    from service.core import operator_log, sites

    if usernames and clear:
        raise click.UsageError("Give --set or --clear, not both.")
    site = _find_site(key)
    if usernames or clear:
        with service_errors({"moderators": "--set"}, fields="instead"):
            site = sites.set_moderators(key, usernames, actor=operator_log.CLI_ACTOR)
    names = sites.site_dict(site)["moderators"]
    if not names:
        click.echo(f"Site '{key}' has no moderators (operators moderate every site).")
    for name in names:
        click.echo(name)


@sites_cli.command("close")
@click.argument("key")
def close_site(key: str) -> None:
    """Close a site: no new comments; its threads stay readable."""
    from service.core import operator_log, sites

    with service_errors(fields="instead"):
        sites.close_site(key, actor=operator_log.CLI_ACTOR)
    click.echo(f"Site '{key}' is closed; `sites reopen {key}` opens it again.")


@sites_cli.command("reopen")
@click.argument("key")
def reopen_site(key: str) -> None:
    """Reopen a closed site: it takes comments again."""
    from service.core import operator_log, sites

    with service_errors(fields="instead"):
        sites.reopen_site(key, actor=operator_log.CLI_ACTOR)
    click.echo(f"Site '{key}' is open again.")


@sites_cli.command("list")
def list_sites() -> None:
    """List the sites, tab-separated: key, name, "closed" if it is, then its allowed origins."""
    from service.core import sites

    for site in sites.list_sites():
        columns = [site.key, site.name]
        if site.is_closed:
            columns.append("closed")
        if site.allowed_origins:
            columns.append(" ".join(site.allowed_origins))
        click.echo("\t".join(columns))
