"""Entity encoder benchmark: mentions/s and peak memory, the shipped ONNX graph vs PyTorch.

One run, peers side by side on the same CrossNER mentions, each engine in its own process
so that its peak resident memory is its own:
- ``onnx``: the ``entity`` plugin (decoder truncated after the last chosen block, value
  read-out and projection in one onnxruntime graph);
- ``torch-truncated``: the same computation in PyTorch (blocks after the last chosen one
  dropped, projection applied to the value vectors);
- ``torch-full``: what the reference implementation does, a forward pass through all
  blocks of the decoder with hooks on the chosen blocks, then the projection.

    .venv/bin/python bench/entity.py [--sentences N] [--batch-size N]

Needs the trained ``entity`` artefact (./run setup). Prints a table and writes
bench/results/entity.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import describe, headline

from entivec.loaders import load
from entivec.mentions import SpanInput, mentions_of
from entivec.models import artefact_dir, model_dir, read_manifest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
ENGINES = ("onnx", "torch-truncated", "torch-full")
SOURCES = ("politics", "science", "music")


def bench_mentions(sentences: int) -> list[SpanInput]:
    paths = [DATA / "crossner" / domain / "dev.txt" for domain in SOURCES]
    per_domain = max(1, sentences // len(SOURCES))
    loaded = [s for path in paths for s in load("conll", [path], language="en", limit=per_domain)]
    return [mention.input for mention in mentions_of(loaded)]


def run_engine(engine: str, items: list[SpanInput], batch_size: int) -> dict[str, Any]:
    """Encode ``items`` once to warm up, then time a second pass."""
    manifest = read_manifest(artefact_dir("entity"))
    blocks = [int(block) for block in manifest["blocks"]]
    if engine == "onnx":
        from entivec.plugins.entity import load as load_entity

        encoder = load_entity()
        encoder.batch_size = batch_size

        def embed() -> np.ndarray:
            return encoder.embed_mentions(items)
    else:
        from entivec.build.entity.export import load_projection
        from entivec.build.entity.train import concatenated, project, training_dir
        from entivec.build.entity.value_vectors import ValueVectorExtractor

        projection, _ = load_projection(training_dir() / "model")
        folder = model_dir(manifest["source_model"])
        computed = list(blocks)
        if engine == "torch-full":
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            computed.append(int(config["num_hidden_layers"]) - 1)
        extractor = ValueVectorExtractor(folder, computed, batch_size=batch_size)

        def embed() -> np.ndarray:
            values = concatenated(extractor.encode(items, show_progress=False), blocks)
            return project(projection, values)

    embed()
    start = time.perf_counter()
    vectors = embed()
    seconds = time.perf_counter() - start
    return {
        "engine": engine,
        "mentions": len(items),
        "seconds": round(seconds, 2),
        "mentions_per_s": round(len(items) / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "vectors": (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=300, help="CrossNER dev sentences")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "entity.json")
    args = parser.parse_args()
    items = bench_mentions(args.sentences)
    if args.engine:  # the child process: one engine, result on stdout
        print(json.dumps(run_engine(args.engine, items, args.batch_size)))
        return
    rows = []
    for engine in ENGINES:
        child = subprocess.run(
            [sys.executable, __file__, "--engine", engine, "--sentences", str(args.sentences),
             "--batch-size", str(args.batch_size)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append(json.loads(child.stdout.splitlines()[-1]))
    reference = np.array(rows[0]["vectors"])
    for row in rows:
        vectors = np.array(row.pop("vectors"))
        row["min_cosine_to_onnx"] = round(float((vectors * reference).sum(1).min()), 6)
    manifest = read_manifest(artefact_dir("entity"))
    result = {
        "machine": describe(),
        "blocks": manifest["blocks"],
        "sentences": args.sentences,
        "batch_size": args.batch_size,
        "engines": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    onnx_rate = rows[0]["mentions_per_s"]
    print(headline(result["machine"]))
    print(
        f"{rows[0]['mentions']} CrossNER dev mentions ({args.sentences} sentences), "
        f"blocks {'+'.join(map(str, manifest['blocks']))}, batch {args.batch_size}"
    )
    print(f"{'engine':18}{'mentions/s':>12}{'vs onnx':>10}{'peak RSS MB':>14}{'min cos':>10}")
    for row in rows:
        print(
            f"{row['engine']:18}{row['mentions_per_s']:>12}"
            f"{row['mentions_per_s'] / onnx_rate:>9.2f}x{row['peak_rss_mb']:>14}"
            f"{row['min_cosine_to_onnx']:>10}"
        )


if __name__ == "__main__":
    main()
