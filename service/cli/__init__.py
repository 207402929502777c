"""Command-line tools: `flask --app service sites|users|worker|sweeper|moderation ...`."""

import contextlib
import json
import signal
import sys
from collections import Counter
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from service.core.origins import InvalidOriginError, normalize_origin
from service.core.sanitize import plain_text
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


@contextlib.contextmanager
def _site_errors(options: dict[str, str] | None = None):
    """Turn the service's errors into click's 'Error: ...', each field named by its option."""
    from service.errors import TalkbackError

    try:
        yield
    except TalkbackError as error:
        db.session.rollback()
        lines = [error.message] if not error.fields else []
        for field, messages in error.fields.items():
            name = (options or {}).get(field, field)
            lines += [f"{name}: {message}" for message in messages]
        raise click.ClickException("\n".join(lines)) from None


def _find_site(key: str) -> Site:
    from service.core import sites

    with _site_errors():
        return sites.get_site(key)


def _echo_origins(site: Site) -> None:
    if not site.allowed_origins:
        click.echo(f"Site '{site.key}' allows no origins: no page can embed it yet.")
    for origin in site.allowed_origins:
        click.echo(origin)


def _update(key: str, data: dict, options: dict[str, str] | None = None) -> Site:
    """Change settings through the service (validated, logged as the CLI's action)."""
    from service.core import operator_log, sites

    with _site_errors(options):
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
    with _site_errors(options):
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
    "--rate-limit",
    "rate_limits",
    multiple=True,
    metavar="KIND=LIMIT",
    help="submit, report or delete = e.g. 5/minute;30/hour ('default' removes the site's "
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

    with _site_errors():
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
        with _site_errors():
            found = articles.premoderated_articles(key, site_ids=None)
        if not found:
            click.echo(f"Site '{key}' pre-moderates no article.")
        for article in found:
            click.echo("\t".join([article.external_id, article.title or ""]).rstrip())
        return
    with _site_errors({"article": "ARTICLE_ID", "site": "KEY"}):
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
        with _site_errors({"moderators": "--set"}):
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

    with _site_errors():
        sites.close_site(key, actor=operator_log.CLI_ACTOR)
    click.echo(f"Site '{key}' is closed; `sites reopen {key}` opens it again.")


@sites_cli.command("reopen")
@click.argument("key")
def reopen_site(key: str) -> None:
    """Reopen a closed site: it takes comments again."""
    from service.core import operator_log, sites

    with _site_errors():
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


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def run_worker(burst: bool) -> None:
    """Run a moderation worker (one comment at a time; start more processes to scale)."""
    from flask import current_app
    from rq import SimpleWorker

    from service.core.queues import moderation_queue, worker_connection
    from workers.scoring import semantic, toxicity

    # Both models load before the first job (a few seconds), not inside its timeout.
    toxicity.load_model()
    semantic.load_model(current_app.config["MODEL_THREADS"])
    # SimpleWorker runs jobs in this process: the model and DB pool stay warm across jobs, and
    # a crash loses nothing because the sweeper re-enqueues whatever was left pending.
    with worker_connection() as connection:
        worker = SimpleWorker([moderation_queue(connection)], connection=connection)
        worker.work(burst=burst, with_scheduler=False)


@click.command("sweeper")
@click.option("--once", is_flag=True, help="Sweep once and exit.")
def run_sweeper(once: bool) -> None:
    """Re-enqueue pending comments whose moderation job was lost (run exactly one)."""
    from flask import current_app

    from workers.sweeper import run_sweeper as sweep_forever
    from workers.sweeper import sweep_once

    if once:
        click.echo(f"Re-enqueued {sweep_once()} comment(s).")
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo("Sweeper running; Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        sweep_forever(current_app.config["SWEEP_INTERVAL_SECONDS"], lambda: bool(stopping))


moderation_cli = AppGroup("moderation", help="Evaluate and re-run automatic moderation.")


@moderation_cli.command("evaluate")
@click.argument("dataset", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "csv", "youtube", "jigsaw", "davidson", "sms", "hatecheck"]),
    default="auto",
    show_default=True,
    help="How to read DATASET: our text,label[,category] CSV or a public set (see docs).",
)
@click.option(
    "--leave-one-out",
    "group_column",
    metavar="COLUMN",
    help="Train the learned spam model on every other value of COLUMN (e.g. VIDEO) and test "
    "on the held-out one, in turn.",
)
@click.option("--limit", type=int, help="Score only the first N rows.")
@click.option(
    "--policy",
    "policy_json",
    metavar="JSON",
    help="Policy settings as JSON, or a JSON file, e.g. '{\"toxicity_hold\": 0.4}' "
    "(default: the default policy).",
)
@click.option(
    "--model",
    type=click.Choice(["full", "lexical"]),
    default="full",
    show_default=True,
    help="full: the semantic model and every other signal; lexical: without the semantic model.",
)
@click.option("--compare-policy", metavar="JSON", help="Score a second policy side by side.")
@click.option(
    "--compare-model",
    type=click.Choice(["full", "lexical"]),
    help="Score a second model side by side.",
)
def evaluate(
    dataset: Path,
    fmt: str,
    group_column: str | None,
    limit: int | None,
    policy_json: str | None,
    model: str,
    compare_policy: str | None,
    compare_model: str | None,
) -> None:
    """Score a labelled dataset; print a table per category, then a JSON line."""
    from workers import evaluation

    fmt = evaluation.guess_format(dataset) if fmt == "auto" else fmt
    try:
        rows = evaluation.load_rows(dataset, fmt, group_column)
    except evaluation.DatasetError as error:
        raise click.ClickException(str(error)) from error
    rows = rows[:limit] if limit else rows
    if not rows:
        raise click.ClickException(f"{dataset} has no rows to score.")
    setups = [(_policy_option(policy_json, "--policy"), model)]
    if compare_policy or compare_model:
        second = _policy_option(compare_policy, "--compare-policy") if compare_policy else None
        setups.append((second or setups[0][0], compare_model or model))
    results = []
    for number, (policy, setup_model) in enumerate(setups, 1):
        label = "Scoring" if len(setups) == 1 else f"Scoring setup {number} of {len(setups)}"
        per_group = None
        with click.progressbar(length=len(rows), label=label, file=sys.stderr) as bar:
            if group_column:
                scored, per_group = evaluation.leave_one_group_out(
                    rows, policy, progress=bar.update, model=setup_model
                )
            else:
                scored = evaluation.score_rows(rows, policy, progress=bar.update, model=setup_model)
        results.append((scored, per_group))
    if len(results) == 1:
        click.echo(evaluation.table(results[0][0]))
    else:
        names = (
            f"{setups[0][1]}{' + --policy' if policy_json else ''}",
            f"{setups[1][1]}"
            + (" + --compare-policy" if compare_policy else " + --policy" if policy_json else ""),
        )
        click.echo(evaluation.side_by_side(results[0][0], results[1][0], names))
    summaries = []
    for scored, per_group in results:
        result = evaluation.summary(scored)
        if per_group is not None:
            click.echo("\nLeave one group out (learned model trained on the other groups):")
            for group, metrics in per_group.items():
                click.echo(
                    f"  {group:<14} spam F1 {metrics['f1']:.3f}  "
                    f"precision {metrics['precision']:.3f}  recall {metrics['recall']:.3f}  "
                    f"({metrics['rows']} rows)"
                )
            overall = evaluation.spam_f1(scored, 0.5)
            result["spam_f1"] = round(overall["f1"], 4)
            result["spam_f1_mean_of_groups"] = round(
                sum(metrics["f1"] for metrics in per_group.values()) / len(per_group), 4
            )
        summaries.append(result)
    headline = ("toxic_auc", "spam_auc", "approved_bad_rate", "approved_ok_rate")
    if len(summaries) == 2:
        click.echo("\n" + "".join(f"{name:>20}" for name in ("", *names)))
        for key in headline:
            values = [summary[key] for summary in summaries]
            click.echo(
                f"{key:>20}"
                + "".join(f"{'-' if v is None else format(v, '.4f'):>20}" for v in values)
            )
        summaries[0]["compare"] = summaries[1]
    click.echo(json.dumps(summaries[0]))


def _policy_option(value: str | None, option: str):
    """Read a --policy option: inline JSON or a JSON file of policy settings."""
    from workers.scoring import Policy

    if value is None:
        return None
    text = Path(value).read_text(encoding="utf-8") if Path(value).is_file() else value
    try:
        settings = json.loads(text)
        if not isinstance(settings, dict):
            raise ValueError("a JSON object of policy settings is needed")
        unknown = sorted(set(settings) - set(Policy().to_dict()))
        if unknown:
            raise ValueError(f"not policy settings: {', '.join(unknown)}")
        return Policy.from_dict(settings)
    except (ValueError, TypeError) as error:
        raise click.BadParameter(str(error), param_hint=option) from None


@moderation_cli.command("rescore")
@click.option("--site", "site_key", required=True, help="The site's key.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    help="Only comments submitted on or after this date (UTC).",
)
def rescore(site_key: str, since) -> None:
    """Re-run scoring for a site's held comments, e.g. after a policy or word-list change."""
    from workers.rescore import held_comment_ids, rescore_comment

    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise click.ClickException(f"There is no site '{site_key}'.")
    ids = held_comment_ids(site.id, since)
    outcomes: Counter = Counter()
    with click.progressbar(ids, label=f"Re-scoring {len(ids)} held comments") as bar:
        for comment_id in bar:
            outcomes[rescore_comment(comment_id)] += 1
    click.echo(
        f"{len(ids)} held comment(s) re-scored: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        if ids
        else "No held comments to re-score."
    )


@moderation_cli.command("reports")
@click.option("--site", "site_key", help="Only this site's comments.")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
def list_reports(site_key: str | None, limit: int) -> None:
    """Show the reported queue as the console does: comments with reports still open."""
    from service.core.moderation import list_queue
    from service.errors import TalkbackError

    try:
        page = list_queue("reported", None, site=site_key, limit=limit)
    except TalkbackError as error:
        raise click.ClickException(error.message) from None
    if not page["comments"]:
        click.echo("No reported comments.")
        return
    click.echo(f"{'id':>7}  {'site':<12} {'status':<9} {'reports':>7}  reasons")
    for card in page["comments"]:
        reports = card["reports"]
        reasons = ", ".join(f"{reason} {n}" for reason, n in reports["reasons"].items() if n)
        click.echo(
            f"{card['id']:>7}  {card['site'][:12]:<12} {card['status']:<9} "
            f"{reports['count']:>7}  {reasons}"
        )
        excerpt = plain_text(card["body_html"])
        click.echo(f"{'':>9}{card['author_name']} on {card['article']['id']}: {excerpt[:70]}")
        for note in reports["notes"]:
            click.echo(f"{'':>9}- {note[:100]}")
    if page["next_cursor"]:
        click.echo(f"(showing {limit}; use --limit, the console or the API for more)")


PASSWORD_HELP = "The password (prompted for, or generated and printed, if omitted)."
users_cli = AppGroup("users", help="Create and manage moderator and operator accounts.")


@contextlib.contextmanager
def _service_errors():
    """Turn the service layer's errors into click's 'Error: ...' and exit status 1."""
    from service.errors import TalkbackError

    try:
        yield
    except TalkbackError as error:
        raise click.ClickException(error.message) from None


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
    with _service_errors():
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

    with _service_errors():
        user = accounts.get_user(username)
        accounts.assign_sites(user, sites)
    click.echo(f"'{user.username}' moderates {', '.join(site.key for site in user.sites)}.")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", help="The new password (prompted for, or generated and printed).")
def set_password(username: str, password: str | None) -> None:
    """Set an account's password, lift its lockout and log out its sessions."""
    from service.core import accounts

    with _service_errors():
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

    with _service_errors():
        accounts.set_active(accounts.get_user(username), False)
    click.echo(f"'{accounts.normalize_username(username)}' is deactivated.")


@users_cli.command("activate")
@click.argument("username")
def activate(username: str) -> None:
    """Turn a deactivated account back on."""
    from service.core import accounts

    with _service_errors():
        accounts.set_active(accounts.get_user(username), True)
    click.echo(f"'{accounts.normalize_username(username)}' is active.")


@users_cli.command("create-token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for (e.g. 'triage script').")
def create_token(username: str, name: str) -> None:
    """Create an API token for an account; the token is printed once, as the last line."""
    from service.core import accounts

    with _service_errors():
        api_token, token = accounts.create_token(accounts.get_user(username), name)
    click.echo(f"Created API token {api_token.id} ({api_token.name}) for '{username.lower()}'.")
    click.echo("Keep it now: it is not stored and can't be shown again.")
    click.echo(token)


@users_cli.command("revoke-token")
@click.argument("token_id", metavar="ID", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke an API token by its id (see `users list`)."""
    from service.core import accounts

    with _service_errors():
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


def register(app: Flask) -> None:
    """Attach the commands to the app's `flask` CLI."""
    app.cli.add_command(sites_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(run_worker)
    app.cli.add_command(run_sweeper)
    app.cli.add_command(moderation_cli)
    from service.cli.advice import advise
    from service.cli.bans import bans_cli
    from service.cli.privacy import privacy_cli

    moderation_cli.add_command(advise)

    app.cli.add_command(bans_cli)
    app.cli.add_command(privacy_cli)
