"""``entivec eval routing``: route the sentences of a corpus, and the baselines.

Apart from :mod:`entivec.lab.routing` because the ``eval`` group imports each verb's module
on every ``entivec`` run to list the verbs, and that module imports tqdm (with asyncio) at
load; the evaluation itself is imported only when the verb runs.
"""

from __future__ import annotations

import json

import click

from entivec.cli.options import (
    collection_option,
    corpus_arguments,
    entivec_errors,
    json_option,
    min_votes_option,
    plot_option,
    progress,
    server_options,
    store_option,
)


@click.command("routing")
@corpus_arguments
@store_option("Holds the indexed, language-labelled sentences.")
@collection_option()
@click.option(
    "--vector",
    "vectors",
    multiple=True,
    default=["lang"],
    show_default=True,
    help="Named vector to route by (repeat to compare, e.g. --vector lang --vector e5).",
)
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
@min_votes_option
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@plot_option
@json_option
@entivec_errors
def eval_routing(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    vectors: tuple[str, ...],
    k: int,
    min_votes: int,
    limit: int | None,
    plot: str | None,
    as_json: bool,
) -> None:
    """Route the sentences of PATHS and compare with lingua and langdetect."""
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.lab.routing import evaluate_routing

    with Entivec(store, collection=collection, server=server_options()) as ev:
        result = evaluate_routing(
            ev,
            format,
            [Path(p) for p in paths],
            vectors=vectors,
            k=k,
            min_votes=min_votes,
            limit=limit,
            show_progress=progress(as_json),
        )
    if plot:
        from entivec.lab.plots import plot_routing_by_length

        plot_routing_by_length(result, Path(plot))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    buckets = list(result["length_buckets"])
    languages = result["languages"]
    header = [
        "method",
        "overall",
        *(f"{b} tok" for b in buckets),
        *languages,
        "no answer",
        "ms/text",
    ]
    click.echo(
        f"{result['sentences']} sentences ("
        + ", ".join(f"{b} tokens: {n}" for b, n in result["length_buckets"].items())
        + ")"
    )
    click.echo(f"{header[0]:36}" + "".join(f"{h:>10}" for h in header[1:]))
    for m in result["methods"]:
        cells = [m["accuracy"], *(m["by_length"].get(b, float("nan")) for b in buckets)]
        cells += [m["by_language"][lang] for lang in languages] + [m["no_answer"]]
        click.echo(
            f"{m['method']:36}"
            + "".join(f"{c:>10.3f}" for c in cells)
            + f"{m['ms_per_text']:>10.2f}"
        )
