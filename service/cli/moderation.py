"""`flask --app service moderation evaluate|rescore|reports|advise`."""

import json
import sys
from collections import Counter
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from service.cli.advice import advise
from service.cli.errors import service_errors
from service.core.sanitize import plain_text
from service.extensions import db
from service.models import Site

moderation_cli = AppGroup("moderation", help="Evaluate and re-run automatic moderation.")
moderation_cli.add_command(advise)


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

    with service_errors():
        page = list_queue("reported", None, site=site_key, limit=limit)
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
