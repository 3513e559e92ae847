"""``entivec eval entity-sets``: entity search across held-out type sets.

Apart from :mod:`entivec.lab.entity_sets` because the ``eval`` group imports each verb's module
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
    progress,
)


@click.command("entity-sets")
@corpus_arguments
@click.option(
    "--dev",
    "dev_paths",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Annotated sentences to search (repeat for several files).",
)
@language_option
@click.option("--sets", type=click.IntRange(0, 20), default=3, show_default=True)
@click.option("--seeds", default="0,1", show_default=True, help="Training seeds, comma-separated.")
@json_option
@entivec_errors
def eval_entity_sets(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    sets: int,
    seeds: str,
    as_json: bool,
) -> None:
    """Entity search (entity, e5, fused) across held-out type sets, training on PATHS."""
    from entivec.lab.entity_sets import METHODS, evaluate_entity_sets
    from entivec.loaders import load

    result = evaluate_entity_sets(
        list(load(format, paths, language=language)),
        list(load(format, dev_paths, language=language)),
        sets=sets,
        seeds=[int(seed) for seed in seeds.split(",")],
        show_progress=progress(as_json),
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{'held-out set':44} " + " ".join(f"{name:>20}" for name in METHODS))
    for row in result["sets"]:
        cells = [row["methods"][name]["held_out_types"] for name in METHODS]
        click.echo(f"{','.join(row['held_out'])[:44]:44} " + " ".join(f"{c:>20.3f}" for c in cells))
    for key in ("held_out_mean", "held_out_min", "held_out_max"):
        cells = [result["spread"][name][key] for name in METHODS]
        click.echo(f"{key:44} " + " ".join(f"{c:>20.3f}" for c in cells))
