"""``entivec ingest``: corpus files into a store."""

from __future__ import annotations

import json

import click

from entivec.cli.options import entivec_errors


@click.command()
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--store", required=True, help="A directory (Qdrant Edge) or http(s):// URL.")
@click.option("--collection", default="entivec", show_default=True)
@click.option("--language", help="Language of every sentence (default: from each path).")
@click.option("--corpus", help="Corpus name in the payload (default: FORMAT).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N sentences.")
@click.option("--plugin", "plugin_names", multiple=True, default=["e5"], show_default=True)
@click.option("--variant", type=click.Choice(["fp32", "int8"]), default="fp32", show_default=True)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 4096),
    default=128,
    show_default=True,
    help="Points per upsert.",
)
@click.option(
    "--window",
    type=click.IntRange(1, 65536),
    default=1024,
    show_default=True,
    help="Sentences encoded together; the unit a resumed run skips.",
)
@click.option("--no-resume", is_flag=True, help="Re-encode and overwrite stored points.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@entivec_errors
def ingest(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    language: str | None,
    corpus: str | None,
    limit: int | None,
    plugin_names: tuple[str, ...],
    variant: str,
    batch_size: int,
    window: int,
    no_resume: bool,
    as_json: bool,
) -> None:
    """Read corpus files (FORMAT: wikiann, conll, jsonl) into STORE."""
    from entivec.api import Entivec

    with Entivec(store, collection=collection, variant=variant) as ev:
        report, stats = ev.ingest(
            format,
            paths,
            plugins=plugin_names,
            language=language,
            corpus=corpus,
            limit=limit,
            batch_size=batch_size,
            window=window,
            resume=not no_resume,
        )
        if as_json:
            click.echo(
                json.dumps({**vars(report), "loaded": vars(stats), "store": ev.store.description})
            )
        else:
            click.echo(f"read {stats}")
            click.echo(f"{report} ({ev.store.description})")


def register_commands(cli: click.Group) -> None:
    """Attach ``ingest``."""
    cli.add_command(ingest)
