"""``entivec eval written``: the raw-text path on written text, against the same sentences
pre-tokenised.

Apart from :mod:`entivec.lab.written`, which imports tqdm and the build wing at load;
the evaluation is imported only when the verb runs.
"""

from __future__ import annotations

import json

import click

from entivec.cli.options import (
    adapters_option,
    corpus_arguments,
    engine_option,
    entivec_errors,
    json_option,
    progress,
    routing_index_option,
)


@click.command("written")
@corpus_arguments
@click.option("--language", help="The files' language (default: from each path, de/val.conllu).")
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@click.option(
    "--per-document",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Sentences per written document, one document a line; above 1, only corpus "
    "sentences that end as sentences do.",
)
@click.option(
    "--map-type",
    "map_types",
    multiple=True,
    metavar="GOLD=PREDICTED",
    help="Read a gold type as the adapters' (person=PER), for corpora that name them "
    "otherwise; repeat for several.",
)
@routing_index_option
@adapters_option
@engine_option
@json_option
@entivec_errors
def eval_written(
    format: str,
    paths: tuple[str, ...],
    language: str | None,
    limit: int | None,
    per_document: int,
    map_types: tuple[str, ...],
    routing_index: str | None,
    adapters: str | None,
    engine: str,
    as_json: bool,
) -> None:
    """Corpus sentences detokenised into written documents, read back as raw text: mention
    F1 (exact characters and type) written against pre-tokenised, language and
    segmentation, per language."""
    import tempfile
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.lab.written import evaluate_written

    bad = [pair for pair in map_types if "=" not in pair.strip("=")]
    if bad:
        raise click.BadParameter(
            f"expected GOLD=PREDICTED, got {bad[0]!r}", param_hint="--map-type"
        )

    with tempfile.TemporaryDirectory() as scratch, Entivec(scratch) as ev:
        result = evaluate_written(
            ev,
            format,
            [Path(p) for p in paths],
            language=language,
            limit=limit,
            per_document=per_document,
            routing_index=routing_index,
            adapters=adapters,
            engine=engine,
            types=dict(pair.split("=", 1) for pair in map_types),
            show_progress=bool(progress(as_json)),
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{'language':9}{'sentences':>10}{'F1 pre-tok':>11}{'F1 written':>11}{'ratio':>7}"
        f"{'as tokens':>10}{'no markup':>10}{'lang right':>11}{'wrong':>7}{'null':>7}"
        f"{'segm.':>7}"
    )
    for lang, row in result["by_language"].items():
        ratio = f"{row['ratio']:.3f}" if row["ratio"] is not None else "-"
        plain = row["without_markup"]["ratio"]
        click.echo(
            f"{lang:9}{row['sentences']:>10}{row['pretokenised']['f1']:>11.3f}"
            f"{row['written']['f1']:>11.3f}{ratio:>7}"
            f"{row['gold_as_tokens']['ratio'] or 0:>10.3f}{plain or 0:>10.3f}"
            f"{row['language_right']:>11.3f}{row['language_wrong']:>7.3f}"
            f"{row['language_null']:>7.3f}{row['segmentation_exact']:>7.3f}"
        )
    overall = result["overall"]
    click.echo(
        f"{'all':9}{overall['sentences']:>10}{overall['pretokenised']['f1']:>11.3f}"
        f"{overall['written']['f1']:>11.3f}{overall['ratio'] or 0:>7.3f}"
        f"{overall['gold_as_tokens']['ratio'] or 0:>10.3f}"
    )
