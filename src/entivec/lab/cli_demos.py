"""``entivec eval demo-formats`` and ``entivec eval demos``: in-context demonstrations.

Apart from :mod:`entivec.lab.demos` because the ``eval`` group imports each verb's module
on every ``entivec`` run to list the verbs, and that module imports tqdm and the build wing at
load; the evaluation itself is imported only when the verb runs.
"""

from __future__ import annotations

import json
from typing import Any

import click

from entivec.cli.options import (
    demo_corpus_options,
    entivec_errors,
    integers,
    json_option,
    progress,
    train_and_dev,
)


@click.command("demo-formats")
@demo_corpus_options
@click.option("--inputs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--candidates", type=click.IntRange(min=2), default=15, show_default=True)
@json_option
@entivec_errors
def eval_demo_formats(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    inputs: int,
    candidates: int,
    as_json: bool,
) -> None:
    """How much the LM's score of the gold answer moves with the demonstration, per output
    format (demonstrations from PATHS, inputs from --dev)."""
    from entivec.lab.demos import compare_formats
    from entivec.models import model_dir
    from entivec.query.language_model import DEFAULT_MODEL, LanguageModel

    train_sentences, dev = train_and_dev(format, paths, dev_paths, language)
    result = compare_formats(
        LanguageModel(model_dir(DEFAULT_MODEL)),
        train_sentences,
        dev,
        inputs=inputs,
        candidates=candidates,
        show_progress=progress(as_json),
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{inputs} inputs x {candidates} BM25 candidates, one demonstration each")
    click.echo(f"{'format':10} {'std':>7} {'best-median':>12} {'mean':>7} {'s/pair':>7}")
    for name, row in result["formats"].items():
        click.echo(
            f"{name:10} {row['std']:>7.3f} {row['best_minus_median']:>12.3f} "
            f"{row['mean_score']:>7.3f} {row['seconds_per_pair']:>7.2f}"
        )


@click.command("demos")
@demo_corpus_options
@click.option(
    "--inputs",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Dev mentions per seed.",
)
@click.option(
    "--inputs-from",
    type=click.Choice(["held-back", "unscored"]),
    default="held-back",
    show_default=True,
    help="Where the inputs come from: dev's held-back half, or the mentions of its "
    "retriever-training half that no LM scores hold (to choose a recipe on without "
    "touching the held-back half).",
)
@click.option(
    "--demo-artefact",
    type=click.Path(file_okay=False, exists=True),
    help="The `demo` artefact the distilled method searches with (default: the installed one).",
)
@click.option("--seeds", default="0,1,2", show_default=True, help="Comma-separated seeds.")
@click.option("--shots", default="1,4,8", show_default=True, help="Comma-separated k.")
@click.option(
    "--methods",
    default=",".join(("random", "bm25", "base", "reward", "distilled")),
    show_default=True,
    help="Comma-separated demonstration selectors.",
)
@json_option
@entivec_errors
def eval_demos(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    inputs: int,
    inputs_from: str,
    demo_artefact: str | None,
    seeds: str,
    shots: str,
    methods: str,
    as_json: bool,
) -> None:
    """F1 of k-shot in-context typing with demonstrations (PATHS) chosen by each method,
    on --dev mentions, held-back ones by default (resumable: the LM's answers are cached)."""
    from pathlib import Path

    from entivec.build.demo.scores import scores_dir
    from entivec.lab.demos import evaluate_demos
    from entivec.models import model_dir
    from entivec.query.language_model import DEFAULT_MODEL, LanguageModel

    train_sentences, dev = train_and_dev(format, paths, dev_paths, language)
    result = evaluate_demos(
        LanguageModel(model_dir(DEFAULT_MODEL)),
        train_sentences,
        dev,
        inputs=inputs,
        seeds=integers("--seeds", seeds),
        shots=integers("--shots", shots),
        methods=[m.strip() for m in methods.split(",") if m.strip()],
        inputs_from=inputs_from,
        demo_artefact=Path(demo_artefact) if demo_artefact else None,
        completions=scores_dir() / "completions.jsonl",
        show_progress=progress(as_json),
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"micro F1 of k-shot typing, {result['inputs']} {inputs_from} mentions per seed, "
        f"seeds {result['seeds']}: mean ± std across seeds"
    )
    ks = list(next(iter(result["methods"].values())))
    click.echo(f"{'method':16}" + "".join(f"{f'k={k}':>18}" for k in ks))
    for method, rows in result["methods"].items():
        click.echo(f"{method:16}" + "".join(_mean_std(rows[k]) for k in ks))
    if result["paired"]:
        click.echo("gaps on the same inputs, mean ± std across seeds:")
    for pair, rows in result["paired"].items():
        click.echo(f"{pair:16}" + "".join(_mean_std(rows[k], sign="+") for k in ks))


def _mean_std(row: dict[str, Any], sign: str = "") -> str:
    return f"{row['mean']:>{sign}10.3f} ± {row['std']:.3f}"
