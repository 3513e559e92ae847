"""Query cost of entity-type search: a type name embedded alone vs expanded with exemplars.

One run, peers side by side on the same queries (the 38 CrossNER type names, in words),
each in its own process so that its load time and peak resident memory are its own:
- ``entity``: the ``entity`` plugin's query vector (one ONNX run per query);
- ``entity+exemplars``: SmolLM2 writes instances of the type (greedy, PyTorch), which
  the ``entity`` graph reads as mentions (``search_entities(..., exemplars=True)``);
- ``e5``: the e5 sentence query vector, the baseline the expansion is measured against.

Each query is embedded once, the first time (the exemplar writer caches a description
it has seen, so a repeated query costs what ``entity`` costs).

    .venv/bin/python bench/entity_query.py

Needs the trained ``entity`` artefact and the prepared models (./run setup). Prints a
table and writes bench/results/entity_query.json.
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

from machine import describe, headline

from entivec.loaders.crossner import TYPE_NAMES

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("entity", "entity+exemplars", "e5")


def run_engine(engine: str, queries: list[str]) -> dict[str, Any]:
    """Load the engine, then embed every query once, one at a time, as a user would."""
    start = time.perf_counter()
    if engine == "e5":
        from entivec.plugins.e5 import load as load_e5

        encoder: Any = load_e5()

        def embed(text: str) -> object:
            return encoder.embed_queries([text])
    else:
        from entivec.plugins.entity import load as load_entity

        encoder = load_entity()
        if engine == "entity":

            def embed(text: str) -> object:
                return encoder.embed_queries([text])
        else:
            from entivec.query.exemplars import ExemplarWriter, expanded_queries

            writer = ExemplarWriter()

            def embed(text: str) -> object:
                return expanded_queries(encoder, [text], writer.write([text]))

    loaded = time.perf_counter() - start
    timings = []
    for text in queries:
        start = time.perf_counter()
        embed(text)
        timings.append(time.perf_counter() - start)
    timings.sort()
    return {
        "engine": engine,
        "queries": len(queries),
        "load_s": round(loaded, 2),
        "median_ms": round(1000 * timings[len(timings) // 2], 1),
        "max_ms": round(1000 * timings[-1], 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "entity_query.json"
    )
    args = parser.parse_args()
    queries = sorted(set(TYPE_NAMES.values()))
    if args.engine:  # the child process: one engine, result on stdout
        print(json.dumps(run_engine(args.engine, queries)))
        return
    rows = []
    for engine in ENGINES:
        child = subprocess.run(
            [sys.executable, __file__, "--engine", engine],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append(json.loads(child.stdout.splitlines()[-1]))
    machine = describe()
    result = {"machine": machine, "engines": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(headline(machine))
    print(f"{len(queries)} type names, each embedded once, one at a time")
    print(f"{'engine':18}{'load s':>8}{'median ms':>11}{'max ms':>9}{'peak RSS MB':>13}")
    for row in rows:
        print(
            f"{row['engine']:18}{row['load_s']:>8}{row['median_ms']:>11}"
            f"{row['max_ms']:>9}{row['peak_rss_mb']:>13}"
        )


if __name__ == "__main__":
    main()
