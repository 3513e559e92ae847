"""``entivec ingest``: corpus files into a store."""

from __future__ import annotations

import json

import click

from entivec.cli.options import (
    adapters_option,
    collection_option,
    corpus_arguments,
    engine_option,
    entivec_errors,
    language_option,
    routing_index_option,
    server_options,
    store_option,
    variant_option,
)


@click.command()
@corpus_arguments
@store_option()
@collection_option()
@language_option
@click.option("--corpus", help="Corpus name in the payload (default: FORMAT).")
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True),
    help="Name each file by its path relative to this folder (part of the point ids, which "
    "stay the same when the corpus moves). Default: each file's folder and name (de/val.conllu).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N sentences.")
@click.option("--plugin", "plugin_names", multiple=True, default=["e5"], show_default=True)
@variant_option
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
@click.option(
    "--ner/--no-ner",
    "ner",
    default=None,
    help="--ner tags every sentence, replacing gold spans (to evaluate the tagger); "
    "--no-ner tags none. Default: sentences without gold spans (raw text) are tagged.",
)
@click.option(
    "--document-per-file",
    is_flag=True,
    help="text format: each file is one document (default: one document per line).",
)
@click.option(
    "--language-from-path",
    is_flag=True,
    help="Raw text (text, lines, jsonl text records): the language its folder or file "
    "names (it/notes.txt), not routing. Annotated formats always take it.",
)
@routing_index_option
@adapters_option
@engine_option
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    help="Qdrant cluster: shards of a new collection (shard_number).",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    help="Qdrant cluster: copies of each shard (replication_factor); 2 keeps reads "
    "working when a node stops.",
)
@click.option(
    "--write-consistency",
    type=click.IntRange(min=1),
    help="Qdrant cluster: replicas that must acknowledge a write.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Encode on N Ray actors per plugin ($RAY_ADDRESS's cluster, else a local one; "
    "pip install 'entivec[distributed]').",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@entivec_errors
def ingest(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    language: str | None,
    corpus: str | None,
    root: str | None,
    limit: int | None,
    plugin_names: tuple[str, ...],
    variant: str,
    batch_size: int,
    window: int,
    no_resume: bool,
    ner: bool | None,
    document_per_file: bool,
    language_from_path: bool,
    routing_index: str | None,
    adapters: str | None,
    engine: str,
    shards: int | None,
    replicas: int | None,
    write_consistency: int | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Read corpus files (FORMAT: wikiann, conll, jsonl, text, lines) into STORE.

    Raw text (text, lines, jsonl {"id", "text"}) is annotated on the way: sentences
    without a language are routed, sentences without gold spans are tagged by their
    language's NER adapter. Run it again after editing a file: changed sentences are
    encoded again and those the file no longer holds are removed (unless --limit stops
    the reading early).
    """
    from entivec.api import Entivec

    with Entivec(
        store,
        collection=collection,
        server=server_options(),
        variant=variant,
        shards=shards,
        replicas=replicas,
        write_consistency=write_consistency,
    ) as ev:
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
            root=root,
            ner={None: "auto", True: "force", False: "off"}[ner],
            adapters=adapters,
            ner_engine=engine,
            routing_index=routing_index,
            document_per_file=document_per_file,
            language_from_path=language_from_path,
            workers=workers,
        )
        if as_json:
            click.echo(
                json.dumps({**vars(report), "loaded": vars(stats), "store": ev.store.description})
            )
        else:
            click.echo(f"read {stats}")
            click.echo(f"{report} ({ev.store.description})")
            click.echo(report.breakdown())


def register_commands(cli: click.Group) -> None:
    """Attach ``ingest``."""
    cli.add_command(ingest)
