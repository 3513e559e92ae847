"""``entivec eval annotate``: annotating ingestion scored on gold data.

Apart from :mod:`entivec.lab.annotate` because the ``eval`` group imports each verb's module
on every ``entivec`` run to list the verbs, and that module imports tqdm (with asyncio) at
load; the evaluation itself is imported only when the verb runs.
"""

from __future__ import annotations

import json
from typing import Any

import click

from entivec.cli.options import (
    adapters_option,
    corpus_arguments,
    entivec_errors,
    json_option,
    progress,
    routing_index_option,
)


@click.command("annotate")
@corpus_arguments
@click.option(
    "--crossner",
    "crossner",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="CrossNER files (CoNLL, English) for entity-type search with predicted spans "
    "beside gold ones (repeat for several).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@routing_index_option
@adapters_option
@json_option
@entivec_errors
def eval_annotate(
    format: str,
    paths: tuple[str, ...],
    crossner: tuple[str, ...],
    limit: int | None,
    routing_index: str | None,
    adapters: str | None,
    as_json: bool,
) -> None:
    """Annotating ingestion on gold data it does not see: language accuracy and span F1
    per language on PATHS, and entity-type R-Precision with predicted spans (--crossner)."""
    import tempfile
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.lab.annotate import (
        entity_search_with_predicted_spans,
        languages_and_spans,
    )

    with tempfile.TemporaryDirectory() as scratch, Entivec(scratch) as ev:
        result: dict[str, Any] = {
            "languages_and_spans": languages_and_spans(
                ev,
                format,
                [Path(p) for p in paths],
                limit=limit,
                routing_index=routing_index,
                adapters=adapters,
                show_progress=progress(as_json),
            )
        }
    if crossner:
        result["entity_search"] = entity_search_with_predicted_spans(
            "conll",
            [Path(p) for p in crossner],
            language="en",
            adapters=adapters,
            show_progress=progress(as_json),
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    spans = result["languages_and_spans"]
    click.echo(
        f"{'language':10}{'sentences':>10}{'language acc':>14}{'unrouted':>10}{'span F1':>9}"
    )
    for language, row in spans["by_language"].items():
        click.echo(
            f"{language:10}{row['sentences']:>10}{row['language_accuracy']:>14.3f}"
            f"{row['unrouted']:>10.3f}{row['span_f1']:>9.3f}"
        )
    overall = spans["overall"]
    click.echo(
        f"{'all':10}{overall['sentences']:>10}{overall['language_accuracy']:>14.3f}"
        f"{'':>10}{overall['span_f1']:>9.3f}"
    )
    if crossner:
        search = result["entity_search"]
        click.echo("entity-type search R-Precision: trained types / held-out types / all")
        for name in ("gold spans", "predicted spans", "predicted / gold"):
            row = search[name]
            click.echo(
                f"  {name:16} {row['trained_types']:.3f} / {row['held_out_types']:.3f} / "
                f"{row['all_types']:.3f}"
            )
