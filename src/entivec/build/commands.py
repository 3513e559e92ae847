"""The build wing's verbs: ``models prepare``, ``train ...`` and ``export ner``.

Attached to the CLI through the ``entivec.commands`` entry point, so the run-time CLI never
imports :mod:`entivec.build`; each verb imports torch only when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from entivec.cli.options import (
    F,
    adapters_option,
    corpus_arguments,
    demo_corpus_options,
    dev_option,
    entivec_errors,
    language_option,
    train_and_dev,
)
from entivec.extras import require_extra


def needs_export(purpose: str) -> Callable[[F], F]:
    """Check for torch, transformers and peft before a verb starts: a missing ``export``
    extra is one line naming the pip command, not a traceback halfway through."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_extra("export", ("torch", "transformers", "peft"), purpose)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@click.command("prepare")
@click.option("--force", is_flag=True, help="Rebuild even what is cached.")
@click.option("--only", multiple=True, help="Prepare only these catalogue models.")
@entivec_errors
@needs_export("model preparation")
def models_prepare(force: bool, only: tuple[str, ...]) -> None:
    """Convert and verify the packaged weights, then export the ONNX artefacts. Idempotent."""
    import transformers

    from entivec.build.prepare.artefacts import prepare_everything

    # transformers' advice during conversion (legacy tokenizer, unused pooler) is noise
    # here; entivec's own checks decide whether a model is good.
    transformers.logging.set_verbosity_error()

    for line in prepare_everything(force=force, only=only or None):
        click.echo(line)


@click.group()
def train() -> None:
    """Train the parts entivec learns from your data."""


@train.command("routing")
@corpus_arguments
@language_option
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@click.option("--force", is_flag=True, help="Retrain even if trained on the same data.")
@click.option(
    "--no-index",
    is_flag=True,
    help="Do not build the routing index (the files' lang vectors, which routing votes "
    "with when a collection holds no labelled sentences).",
)
@entivec_errors
def train_routing(
    format: str,
    paths: tuple[str, ...],
    language: str | None,
    limit: int | None,
    force: bool,
    no_index: bool,
) -> None:
    """Train the `lang` routing vector on language-labelled corpus files, then index them
    as the routing index shipped with the models."""
    from pathlib import Path

    from entivec.build.lang.routing_index import build_routing_index
    from entivec.build.lang.train import train_language_vector
    from entivec.models import routing_index_dir

    files = [Path(p) for p in paths]
    manifest = train_language_vector(format, files, language=language, limit=limit, force=force)
    checks = manifest["checks"]
    click.echo(
        f"lang vector: {', '.join(manifest['languages'])}; held-out accuracy "
        f"{checks['held_out_accuracy_top5_mode']:.3f} (top-5 mode), threshold "
        f"{checks['threshold']:.4f}"
    )
    if no_index or limit is not None:
        return
    index = build_routing_index(format, files, language=language, force=force)
    counts = ", ".join(f"{lang} {n:,}" for lang, n in sorted(index["sentences"].items()))
    click.echo(f"routing index: {counts} sentences ({routing_index_dir()})")


@train.command("lora")
@corpus_arguments
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Adapter registry directory (default: the cache's adapters/default).",
)
@click.option(
    "--per-language",
    type=click.IntRange(min=16),
    default=2000,
    show_default=True,
    help="Training sentences per language (the budget).",
)
@click.option("--no-joint", is_flag=True, help="Skip the joint adapter on all languages.")
@click.option(
    "--from-scratch",
    is_flag=True,
    help="Train each language's adapter from a fresh start instead of specialising the "
    "joint one (the first recipe; lower F1).",
)
@click.option(
    "--written-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="The chance a drawn sentence is shown as people write it (detokenised) rather "
    "than pre-tokenised; 0 trains on the corpus's tokens alone.",
)
@click.option(
    "--retrain",
    is_flag=True,
    help="Train every adapter here, even one already trained, or shipped with entivec, "
    "on the same data by the same recipe.",
)
@entivec_errors
@needs_export("LoRA training")
def train_lora_command(
    format: str,
    paths: tuple[str, ...],
    out: str | None,
    per_language: int,
    no_joint: bool,
    from_scratch: bool,
    written_share: float,
    retrain: bool,
) -> None:
    """Train a joint NER LoRA adapter on every language of PATHS, then one per language
    (each specialising the joint one), into OUT.

    entivec ships the adapters this recipe trained on the six WikiANN `train` splits: the
    same data and recipe install that copy instead (--retrain trains them)."""
    from pathlib import Path

    from entivec.build.ner.train import train_lora
    from entivec.models import adapters_dir

    trained = train_lora(
        format,
        [Path(p) for p in paths],
        Path(out) if out else adapters_dir(),
        per_language=per_language,
        joint=not no_joint,
        from_scratch=from_scratch,
        written_share=written_share,
        retrain=retrain,
    )
    for name, info in trained.items():
        how = (
            "shipped"
            if info.get("installed_from") == "shipped"
            else f"{info['train_seconds']:.0f} s"
        )
        click.echo(
            f"{name:6} {info['sentences']:>6} sentences {info['steps']:>5} steps "
            f"loss {info['final_loss']:.3f} ({how})"
        )


@train.command("e5")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option(
    "--sampling",
    type=click.Choice(["weighted", "hardest", "random"]),
    default="weighted",
    show_default=True,
    help="Hard negatives by similarity-weighted sampling (the paper), or the ablations.",
)
@click.option(
    "--exclude-language",
    "exclude",
    multiple=True,
    help="Leave this query language out of training (to measure unseen languages).",
)
@click.option(
    "--no-ship",
    is_flag=True,
    help="Do not export the result as the e5_xling plugin (ablations never are).",
)
@entivec_errors
@needs_export("e5 fine-tuning")
def train_e5(folder: str, sampling: str, exclude: tuple[str, ...], no_ship: bool) -> None:
    """Fine-tune e5 on the Tatoeba pairs in FOLDER against their English sentences."""
    from pathlib import Path

    from entivec.build.e5_xling.train import train_e5_xling, training_dir

    manifest = train_e5_xling(Path(folder), sampling=sampling, exclude=exclude)
    dev = manifest["dev"]
    mean = sum(v["mrr"] for v in dev.values()) / len(dev)
    click.echo(
        f"e5 {sampling}: {manifest['steps']} steps, loss {manifest['final_loss']}; dev MRR "
        + ", ".join(f"{k} {v['mrr']:.3f}" for k, v in dev.items())
        + f" (mean {mean:.3f})"
    )
    if sampling == "weighted" and not exclude and not no_ship:
        from entivec.build.e5_xling.export import prepare_e5_xling_artefact

        shipped = prepare_e5_xling_artefact(training_dir(sampling, exclude) / "model", manifest)
        click.echo(
            f"e5_xling plugin: ready (ONNX vs torch cosine "
            f"{shipped['checks']['min_cosine_onnx_vs_torch']})"
        )


@train.command("entity")
@corpus_arguments
@dev_option("Annotated sentences to report R-Precision on (repeat for several files).")
@click.option(
    "--block",
    "blocks",
    type=click.IntRange(min=0),
    multiple=True,
    help="Decoder block whose value vectors are read; repeat for several, concatenated "
    "(default: the two best blocks of `entivec eval layers`).",
)
@language_option
@click.option(
    "--retrain",
    is_flag=True,
    help="Train here, even when the projection is already trained, or shipped with "
    "entivec, on the same mentions by the same recipe.",
)
@entivec_errors
@needs_export("entity training")
def train_entity_command(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    blocks: tuple[int, ...],
    language: str | None,
    retrain: bool,
) -> None:
    """Train the entity projection on the mentions of PATHS (held-out types left out).

    entivec ships the projection this recipe trained on CrossNER's six `train` files: the
    same mentions and recipe install that copy instead (--retrain trains it)."""
    from dataclasses import replace
    from pathlib import Path

    from entivec.build.entity.train import EntityRecipe, train_entity
    from entivec.loaders import load

    recipe = EntityRecipe()
    if blocks:
        recipe = replace(recipe, blocks=tuple(sorted(set(blocks))))
    manifest = train_entity(
        list(load(format, [Path(p) for p in paths], language=language)),
        list(load(format, [Path(p) for p in dev_paths], language=language)),
        recipe,
        force=retrain,
    )
    if manifest.get("installed_from") == "shipped":
        click.echo("entity projection: the shipped copy (same mentions, recipe and SmolLM2)")
    for kind, row in manifest["dev_r_precision"].items():
        click.echo(
            f"dev R-Precision, {kind}, blocks {'+'.join(map(str, recipe.blocks))}: trained types "
            f"{row['trained_types']:.3f}, held-out types {row['held_out_types']:.3f}"
        )
    from entivec.build.entity.export import prepare_entity_artefact
    from entivec.build.entity.train import training_dir

    shipped = prepare_entity_artefact(training_dir() / "model")
    click.echo(
        f"entity plugin: ready ({shipped['checks']['blocks_computed']} of 30 blocks computed; "
        f"ONNX vs torch cosine {shipped['checks']['min_cosine_onnx_vs_torch']})"
    )


@click.group("export")
def export() -> None:
    """Export trained parts for onnxruntime."""


@export.command("ner")
@adapters_option
@click.option("--force", is_flag=True, help="Rebuild even when the export is up to date.")
@entivec_errors
@needs_export("the NER export")
def export_ner(adapters: str | None, force: bool) -> None:
    """One ONNX graph for the NER model (and its int8 twin) plus one onnxruntime LoRA
    adapter per adapter."""
    from pathlib import Path

    from entivec.build.ner.export import export_ner_onnx
    from entivec.models import adapters_dir
    from entivec.ner.adapters import (
        INT8_CHECK,
        ONNX_ADAPTER_SUFFIX,
        ONNX_FOLDER,
        ONNX_GRAPH,
        ONNX_INT8_GRAPH,
    )

    root = Path(adapters) if adapters else adapters_dir()
    done = export_ner_onnx(root, force=force)
    folder = root / ONNX_FOLDER
    sizes = {f: (folder / f).stat().st_size / 2**20 for f in done["files"]}
    adapters_mb = [v for f, v in sizes.items() if f.endswith(ONNX_ADAPTER_SUFFIX)]
    int8 = f"int8 {sizes[ONNX_INT8_GRAPH]:.0f} MB" if ONNX_INT8_GRAPH in sizes else "no int8"
    click.echo(
        f"{folder}: graph {sizes[ONNX_GRAPH]:.0f} MB ({int8}), "
        f"{len(adapters_mb)} adapters {sum(adapters_mb):.1f} MB; logits match PEFT within "
        f"{done['checks']['max_logit_difference']:.1e}; int8 tags "
        f"{done['checks'][INT8_CHECK]:.1%} of the check words as fp32"
    )


@train.command("demo")
@demo_corpus_options
@click.option(
    "--scores",
    type=click.Path(dir_okay=False),
    multiple=True,
    help="LM scores of `entivec train demo-scores`, repeatable: several files are merged "
    "per input (default: its first-round file in entivec's cache, and its student-round "
    "file when one has been scored).",
)
@click.option(
    "--teacher",
    type=click.Choice(["keywords", "plain"]),
    default="plain",
    show_default=True,
    help="Reward model that labels the student's inputs beyond the LM-scored ones (when "
    "the budget asks for any): with RUIE's keyword tags, or untagged.",
)
@click.option(
    "--text-form",
    type=click.Choice(["mention", "sentence"]),
    default="mention",
    show_default=True,
    help="What the student embeds of an input or a demonstration: the mention's words, or "
    "the whole sentence with the mention in brackets.",
)
@click.option(
    "--reward-text-form",
    type=click.Choice(["mention", "sentence"]),
    default="mention",
    show_default=True,
    help="What the reward models read of an input and a demonstration, from the same choices.",
)
@entivec_errors
@needs_export("demo training")
def train_demo(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    scores: tuple[str, ...],
    teacher: str,
    text_form: str,
    reward_text_form: str,
) -> None:
    """Train the reward models and the student from the LM scores, then export the student
    as the `demo` plugin (PATHS: the pool the scores were made over)."""
    from pathlib import Path

    from entivec.build.demo.recipe import DemoTrainingBudget
    from entivec.build.demo.train import train_demo as run

    train_sentences, dev = train_and_dev(format, paths, dev_paths, language)
    budget = DemoTrainingBudget(
        teacher_keywords=teacher == "keywords",
        text_form=text_form,
        reward_text_form=reward_text_form,
    )
    manifest = run(train_sentences, dev, budget, scores=[Path(s) for s in scores] or None)
    rows = manifest["validation"]
    sources = " and ".join(f["candidates_from"] for f in manifest["recipe"]["scores"]["files"])
    click.echo(
        f"rankers on {rows['inputs']} held-out scored inputs (the LM's ranking of their "
        f"{sources} candidates):"
    )
    click.echo(f"{'ranker':16} {'spearman':>9} {'top-1 regret':>13} {'top-1 same type':>16}")
    for name in (
        "candidate_order",
        "base_bi_encoder",
        "reward_plain",
        "reward_keywords",
        "student",
    ):
        row = rows[name]
        click.echo(
            f"{name:16} {row['spearman']:>9.3f} {row['top1_regret']:>13.3f} "
            f"{row['top1_same_type']:>16.3f}"
        )
    pool = rows["pool"]
    click.echo(
        f"searching the whole pool for {pool['inputs']} held-out inputs, share of the top k "
        "with the input's type:"
    )
    click.echo(f"{'ranker':16} {'k=1':>9} {'k=4':>9} {'k=8':>9}")
    for name in ("base_bi_encoder", "student"):
        shares = pool[name]
        click.echo(f"{name:16} {shares['p@1']:>9.3f} {shares['p@4']:>9.3f} {shares['p@8']:>9.3f}")
    cosine = manifest["artefact"].get("min_cosine_onnx_vs_torch")
    labelled = manifest["student_inputs"] - manifest["reward_inputs"]
    taught = f"the LM's scores of {manifest['reward_inputs']} inputs" + (
        f" and {manifest['teacher']}'s labels of {labelled} more" if labelled else ""
    )
    click.echo(f"demo plugin: ready (the student learned {taught}; ONNX vs torch cosine {cosine})")


@train.command("demo-scores")
@demo_corpus_options
@click.option("--inputs", type=click.IntRange(min=1), default=400, show_default=True)
@click.option("--candidates", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--candidates-from",
    type=click.Choice(["base", "bm25", "student"]),
    default="base",
    show_default=True,
    help="Who proposes an input's candidates: the untrained student's nearest neighbours "
    "over the whole pool, BM25 (RUIE's), or the trained student's neighbours (a second "
    "round, after `entivec train demo`).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Of the draw of inputs (a second round draws others with another seed).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Scores file (JSON lines; default: in entivec's cache, scores.jsonl, or "
    "scores-student.jsonl for the student's candidates).",
)
@entivec_errors
@needs_export("LM scoring")
def train_demo_scores(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    inputs: int,
    candidates: int,
    candidates_from: str,
    seed: int,
    out: str | None,
) -> None:
    """Score candidate demonstrations (PATHS) for dev mentions with the LM
    (resumable: run it again after an interruption)."""
    from pathlib import Path

    from entivec.build.demo.scores import ScoringBudget, score_demonstrations

    train_sentences, dev = train_and_dev(format, paths, dev_paths, language)
    summary = score_demonstrations(
        train_sentences,
        dev,
        ScoringBudget(
            inputs=inputs, candidates=candidates, seed=seed, candidates_from=candidates_from
        ),
        out=Path(out) if out else None,
    )
    click.echo(
        f"{summary['pairs']} LM scores for {summary['inputs']} inputs over a pool of "
        f"{summary['pool']} demonstrations in {summary['scores']}"
    )


def register_commands(cli: click.Group) -> None:
    """Attach ``models prepare``, ``train`` and ``export``."""
    models = cli.commands.get("models")
    if not isinstance(models, click.Group):
        raise click.ClickException("the run-time CLI has no `models` group to extend")
    models.add_command(models_prepare)
    cli.add_command(train)
    cli.add_command(export)
