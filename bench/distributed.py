"""Ingestion with its encoders on Ray actors, against the same ingestion in one process.

2,000 WikiANN ``val`` sentences (the six languages in turn, gold spans, languages from
the paths) are ingested with ``e5`` into fresh Qdrant Edge stores: in one process
(onnxruntime on every core: the peer), then with ``workers`` = 1 and 2 Ray actors on a
local Ray cluster (one onnxruntime thread per actor). Ray's start and the actors'
model loading are timed apart from the ingestion.

    .venv/bin/python bench/distributed.py [--sentences 2000]

Needs the distributed extra and the e5 plugin (./run setup). Prints a table and writes
bench/results/distributed.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import describe, headline

from entivec.api import Entivec

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikiann"
LANGUAGES = ("de", "en", "es", "nl", "pl", "ru")


def corpus(folder: Path, sentences: int) -> list[Path]:
    """The first ``sentences / 6`` sentences of each language's val split, one file each."""
    files = []
    for language in LANGUAGES:
        blocks = (DATA / language / "val.conllu").read_text(encoding="utf-8").split("\n\n")
        path = folder / language / "val.conllu"
        path.parent.mkdir(parents=True)
        path.write_text("\n\n".join(blocks[: sentences // len(LANGUAGES)]) + "\n", "utf-8")
        files.append(path)
    return files


def run(files: list[Path], folder: Path, workers: int | None) -> dict[str, Any]:
    import ray

    started = time.perf_counter()
    if workers is not None and not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    ready = time.perf_counter()
    with Entivec(folder) as ev:
        report, _ = ev.ingest(
            "wikiann", files, plugins=("e5",), show_progress=False, workers=workers
        )
    seconds = time.perf_counter() - ready
    if workers is not None:
        ray.shutdown()
    return {
        "sentences": report.sentences,
        "ray_start_seconds": round(ready - started, 1),
        "seconds_with_model_loading": round(seconds, 1),
        "sentences_per_second": round(report.sentences / report.load_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    machine = describe()
    results: dict[str, Any] = {"machine": machine}
    with tempfile.TemporaryDirectory() as tmp:
        files = corpus(Path(tmp) / "corpus", args.sentences)
        for name, workers in (("one process", None), ("Ray, 1 worker", 1), ("Ray, 2 workers", 2)):
            results[name] = run(files, Path(tmp) / name.replace(" ", "-"), workers)
            print(f"  {name}: {results[name]}", flush=True)
    print(headline(machine))
    peer = results["one process"]["sentences_per_second"]
    print("| ingestion (e5) | sentences/s | vs one process | Ray start s |")
    print("|---|---:|---:|---:|")
    for name in ("one process", "Ray, 1 worker", "Ray, 2 workers"):
        r = results[name]
        print(
            f"| {name} | {r['sentences_per_second']} | {r['sentences_per_second'] / peer:.2f}× "
            f"| {r['ray_start_seconds']} |"
        )
    out = ROOT / "bench" / "results" / "distributed.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
