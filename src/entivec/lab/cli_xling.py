"""``entivec eval xling``: Tatoeba queries against their English sentences.

Apart from :mod:`entivec.lab.xling` because the ``eval`` group imports each verb's module
on every ``entivec`` run to list the verbs, and that module imports tqdm (with asyncio) at
load; the evaluation itself is imported only when the verb runs.
"""

from __future__ import annotations

import json

import click

from entivec.cli.options import (
    collection_option,
    entivec_errors,
    json_option,
    progress,
    server_options,
    store_option,
)


@click.command("xling")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@store_option("Where the English knowledge base is ingested.")
@collection_option("tatoeba")
@click.option("--split", type=click.Choice(["test", "dev"]), default="test", show_default=True)
@click.option(
    "--no-ablations", is_flag=True, help="Only the vectors in the store (no exact-search runs)."
)
@json_option
@entivec_errors
def eval_xling(
    folder: str, store: str, collection: str, split: str, no_ablations: bool, as_json: bool
) -> None:
    """MRR and Recall@k of Tatoeba queries against their English sentences, per method."""
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.lab.xling import evaluate_xling

    with Entivec(store, collection=collection, server=server_options()) as ev:
        result = evaluate_xling(
            ev,
            Path(folder),
            split=split,
            ablations=not no_ablations,
            show_progress=progress(as_json),
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    languages = result["languages"]
    click.echo(
        f"{result['queries_per_language']} {split} queries per language, "
        f"{result['kb_size']} English sentences; MRR per language, then means"
    )
    header = f"{'method':42}" + "".join(f"{lang:>7}" for lang in languages)
    click.echo(header + f"{'MRR':>7}{'R@1':>7}{'R@3':>7}{'R@10':>7}")
    for name, method in result["methods"].items():
        mean = method["mean"]
        row = "".join(f"{method['by_language'][lang]['mrr']:>7.3f}" for lang in languages)
        click.echo(
            f"{name:42}{row}{mean['mrr']:>7.3f}{mean['recall@1']:>7.3f}"
            f"{mean['recall@3']:>7.3f}{mean['recall@10']:>7.3f}"
        )
    for language, row in result["unseen_language"].items():
        click.echo(
            f"{language} never trained on: MRR {row['mrr_base']:.3f} -> "
            f"{row['mrr_not_trained_on_it']:.3f} ({row['change']:+.3f})"
        )
    for name, row in result["paired"].items():
        click.echo(
            f"{name}, same queries: MRR {row['mrr_difference']:+.4f} ± "
            f"{row['standard_error']:.4f} (paired t-test p = {row['p_value']:.2g}); "
            f"{row['a_better']} queries better, {row['b_better']} worse"
        )
