"""The lab's verbs, ``entivec eval ...``: every paper reproduction and its baselines.

Attached to the CLI through the ``entivec.commands`` entry point, so the run-time CLI never
imports :mod:`entivec.lab`.
"""

from __future__ import annotations

import json
from typing import Any

import click

from entivec.cli.options import (
    adapters_option,
    collection_option,
    corpus_arguments,
    demo_corpus_options,
    engine_option,
    entivec_errors,
    integers,
    json_option,
    language_option,
    min_votes_option,
    plot_option,
    progress,
    routing_index_option,
    server_options,
    store_option,
    train_and_dev,
)


@click.group("eval")
def evaluate() -> None:
    """Measure entivec against baselines on labelled data."""


@evaluate.command("routing")
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


@evaluate.command("layers")
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


@evaluate.command("entity-sets")
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


@evaluate.command("entity-retrieval")
@corpus_arguments
@store_option("Where the sentences and mentions are ingested.")
@collection_option()
@language_option
@click.option("--no-raw", is_flag=True, help="Skip the raw value-vector rows (exact search).")
@json_option
@entivec_errors
def eval_entity_retrieval(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    language: str | None,
    no_raw: bool,
    as_json: bool,
) -> None:
    """R-Precision of entity-type search on PATHS: entity vectors, BM25 and e5."""
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.lab.entity_retrieval import evaluate_entity_retrieval

    with Entivec(store, collection=collection, server=server_options()) as ev:
        result = evaluate_entity_retrieval(
            ev,
            format,
            [Path(p) for p in paths],
            language=language,
            raw_blocks=not no_raw,
            show_progress=progress(as_json),
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{result['sentences']} sentences, {result['types']} types "
        f"(held out of training: {', '.join(result['held_out_types'])})"
    )
    click.echo(f"{'method':40} {'trained types':>14} {'held-out types':>15} {'all':>7}")
    for name, row in result["methods"].items():
        cells = [row["trained_types"], row["held_out_types"], row["all_types"]]
        click.echo(
            f"{name:40} "
            + " ".join(f"{c:>14.3f}" if c is not None else f"{'-':>14}" for c in cells)
        )


@evaluate.command("xling")
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


@evaluate.command("ner")
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


@evaluate.command("demo-formats")
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


@evaluate.command("demos")
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


@evaluate.command("annotate")
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


@evaluate.command("segmentation")
@click.argument("tatoeba", type=click.Path(file_okay=False, exists=True))
@click.argument("crossner", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--per-corpus",
    type=click.IntRange(min=8),
    default=400,
    show_default=True,
    help="Gold sentences per corpus (joined four to a document).",
)
@json_option
@entivec_errors
def eval_segmentation(
    tatoeba: str, crossner: tuple[str, ...], per_corpus: int, as_json: bool
) -> None:
    """Sentence segmenters (sentencex, pysbd) on documents of known sentences: Tatoeba's
    six languages (folder TATOEBA) and CrossNER's English (CoNLL files CROSSNER)."""
    from pathlib import Path

    from entivec.extras import require_extra
    from entivec.lab.segmentation import corpora, evaluate_segmenters

    require_extra("eval", ("pysbd",), "the segmenter comparison")
    gold = corpora(Path(tatoeba), [Path(p) for p in crossner], per_corpus)
    result = evaluate_segmenters(gold)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    names = list(result["corpora"])
    click.echo(
        f"boundary recall (extra boundaries per 100 sentences); {result['per_document']} "
        "sentences per document"
    )
    click.echo(f"{'segmenter':28}" + "".join(f"{n:>16}" for n in names) + f"{'sent/s':>10}")
    for row in result["rows"]:
        cells = "".join(f"{row[n]['recall']:>9.3f} ({row[n]['extra']:>4.1f})" for n in names)
        label = f"{row['segmenter']}, {row['rules']} rules"
        click.echo(f"{label:28}{cells}{row['sentences_per_second']:>10,}")


def register_commands(cli: click.Group) -> None:
    """Attach ``eval`` and its verbs."""
    cli.add_command(evaluate)
