"""`flask --app service import disqus|wordpress|isso|talkback FILE --site KEY`; `export`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from service.cli.errors import service_errors
from service.core import exports, imports

import_cli = AppGroup(
    "import", help="Import comments from Disqus, WordPress, Isso or a Talkback export."
)

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


def _run(source: str, path: Path, site: str, article_id: str, rescore: bool, dry_run: bool):
    size = path.stat().st_size
    with service_errors(fields="ignore"):
        with click.progressbar(length=size, label="Checking ", file=sys.stderr) as check:
            articles = imports.check_file(
                source, path, article_id=article_id, progress=check.update
            )
        click.echo(f"{path.name}: well-formed, {len(articles)} article(s).", err=True)
        with click.progressbar(length=size, label="Importing", file=sys.stderr) as bar:
            summary = imports.import_file(
                site,
                source,
                path,
                article_id=article_id,
                rescore=rescore,
                dry_run=dry_run,
                progress=bar.update,
                checked=articles,
            )
    _print_summary(summary)


def _print_summary(summary: imports.ImportSummary) -> None:
    verb = "Would import" if summary.dry_run else "Imported"
    total = sum(summary.comments.values())
    states = ", ".join(f"{count} {state}" for state, count in sorted(summary.comments.items()))
    click.echo(
        f"{verb} {total} comment(s) into site {summary.site}"
        + (f": {states}" if states else "")
        + "."
    )
    click.echo(f"Articles: {summary.articles_in_file} in the file, {summary.articles_created} new.")
    if summary.already_imported:
        click.echo(f"Already imported (left alone): {summary.already_imported}.")
    for reason, count in sorted(summary.skipped.items()):
        click.echo(f"Skipped or changed: {count} ({reason}).")
    if summary.orphans:
        click.echo(f"Replies whose parent is not in the file, kept top-level: {summary.orphans}.")
    if summary.rescore and not summary.dry_run:
        click.echo(f"Queued for moderation: {summary.queued}.")
    if summary.dry_run:
        click.echo("Dry run: nothing was written.")


def _import_command(source: str, help_text: str):
    @import_cli.command(source, help=help_text)
    @click.argument("path", metavar="FILE", type=_FILE)
    @click.option("--site", required=True, help="Key of the site to import into.")
    @click.option(
        "--article-id",
        type=click.Choice(imports.ARTICLE_ID_MODES),
        default="default",
        show_default=True,
        help="What names an article: the source's id (Disqus: the thread identifier, else its "
        "link; WordPress: wp:post_id) or its url.",
    )
    @click.option(
        "--rescore",
        is_flag=True,
        help="Send published and waiting comments through moderation instead of keeping their "
        "state (deleted and spam ones stay as they are).",
    )
    @click.option("--dry-run", is_flag=True, help="Check and count everything, write nothing.")
    def command(path: Path, site: str, article_id: str, rescore: bool, dry_run: bool) -> None:
        _run(source, path, site, article_id, rescore, dry_run)

    return command


_import_command("disqus", "Import a Disqus export (XML) into a site.")
_import_command(
    "wordpress",
    "Import a WordPress export (WXR) into a site; pingbacks and trackbacks are skipped.",
)
_import_command(
    "isso",
    "Import an Isso database (its SQLite file, read-only) into a site; threads are named by uri.",
)
_import_command("talkback", "Import a Talkback export (JSON Lines, from `export`) into a site.")


@click.command("export")
@click.option("--site", required=True, help="Key of the site to export.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
@with_appcontext
def export_command(site: str, output: Path | None) -> None:
    """Write every article and comment of a site as JSON Lines (docs/integrations.md)."""
    with service_errors():
        lines = exports.export_lines(site, actor="cli")
        if output is None:
            for line in lines:
                click.echo(line, nl=False)
            return
        count = 0
        try:
            with output.open("w", encoding="utf-8") as stream:
                for line in lines:
                    stream.write(line)
                    count += 1
        except OSError as error:
            raise click.ClickException(f"Could not write {output}: {error.strerror}.") from None
        click.echo(
            f"Wrote {count - 1} article and comment line(s) of site {site} to {output}.", err=True
        )
