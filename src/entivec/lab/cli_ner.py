"""``entivec eval ner``: seqeval F1 per language, true against routed language.

Apart from :mod:`entivec.lab.ner` because the ``eval`` group imports each verb's module
on every ``entivec`` run to list the verbs, and that module imports tqdm (with asyncio) at
load; the evaluation itself is imported only when the verb runs.
"""

from __future__ import annotations

import json

import click

from entivec.cli.options import (
    adapters_option,
    collection_option,
    corpus_arguments,
    engine_option,
    entivec_errors,
    json_option,
    progress,
    server_options,
    store_option,
)


@click.command("ner")
@corpus_arguments
@store_option("Holds the sentences routing retrieves from.")
@collection_option()
@adapters_option
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@json_option
@engine_option
@entivec_errors
def eval_ner(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    adapters: str | None,
    limit: int | None,
    engine: str,
    as_json: bool,
) -> None:
    """seqeval F1 per language: monolingual vs joint adapters, true vs routed language."""
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.lab.ner import evaluate_ner
    from entivec.models import adapters_dir

    with Entivec(store, collection=collection, server=server_options()) as ev:
        result = evaluate_ner(
            ev,
            Path(adapters) if adapters else adapters_dir(),
            format,
            [Path(p) for p in paths],
            limit=limit,
            engine=engine,
            show_progress=progress(as_json),
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    columns = ("routing_accuracy", "f1_true_language", "f1_joint", "f1_routed")
    click.echo(f"{'language':10}" + "".join(f"{c:>18}" for c in columns))
    for language, row in [*result["by_language"].items(), ("mean", result["mean"])]:
        click.echo(f"{language:10}" + "".join(f"{row[c]:>18.3f}" for c in columns))
