"""``entivec eval layers``: how well each decoder block separates entity types.

Apart from :mod:`entivec.lab.layer_sweep` because the ``eval`` group imports each verb's module
on every ``entivec`` run to list the verbs, and that module imports tqdm and the build wing at
load; the evaluation itself is imported only when the verb runs.
"""

from __future__ import annotations

import json

import click

from entivec.cli.options import (
    corpus_arguments,
    entivec_errors,
    json_option,
    language_option,
    plot_option,
    progress,
)


@click.command("layers")
@corpus_arguments
@click.option("--model", default="smollm2-135m-instruct", show_default=True)
@language_option
@click.option(
    "--per-type",
    type=click.IntRange(min=2),
    default=40,
    show_default=True,
    help="Mentions sampled per entity type (one per sentence).",
)
@plot_option
@json_option
@entivec_errors
def eval_layers(
    format: str,
    paths: tuple[str, ...],
    model: str,
    language: str | None,
    per_type: int,
    plot: str | None,
    as_json: bool,
) -> None:
    """How well each block's raw value vectors separate the entity types of PATHS."""
    from pathlib import Path

    from entivec.lab.layer_sweep import layer_sweep
    from entivec.loaders import load
    from entivec.models import model_dir

    sentences = list(load(format, [Path(p) for p in paths], language=language))
    result = layer_sweep(
        model_dir(model), sentences, per_type=per_type, show_progress=progress(as_json)
    )
    if plot:
        from entivec.lab.plots import plot_layer_sweep

        plot_layer_sweep(result, Path(plot))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{result['mentions']} mentions of {result['types']} types")
    click.echo(f"{'block':>5} {'AUC':>7} {'R-Prec':>7} {'norm':>7} {'query norm':>11}")
    for row in result["blocks"]:
        mark = "  <- best" if row["block"] == result["best_block"] else ""
        click.echo(
            f"{row['block']:>5} {row['auc']:>7.3f} {row['r_precision']:>7.3f} "
            f"{row['norm']:>7.2f} {row['query_norm']:>11.2f}{mark}"
        )
