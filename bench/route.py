"""Routing and extract benchmark: latency, throughput, adapter switching, routing share.

One run, peers side by side:
- routing one text at a time (p50/p99 latency) and in batches (texts/s), lang vector on
  Qdrant Edge, against lingua on the same texts;
- for each NER engine, onnxruntime (one graph, LoRA adapter files activated per run)
  and PyTorch with PEFT: adapter switch latency for a loaded adapter and a cold load
  (read, verify, load); extract on a mixed-language batch grouped by adapter (what
  ``extract`` does) vs switching adapter per item, vs one joint model with no routing at
  all; and the share of extract time spent routing;
- the shipped ONNX layout against one merged graph per adapter: disk and throughput.

    .venv/bin/python bench/route.py [--index-per-language N] [--texts N]

Needs the lang vector and the adapters (./run setup). Prints a table and writes
bench/results/route.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import describe, headline

from entivec.annotation.extraction import choose_adapter
from entivec.annotation.langid import LinguaIdentifier
from entivec.api import Entivec
from entivec.build.ner.export import export_ner_graph
from entivec.loaders import load
from entivec.models import adapters_dir
from entivec.ner.adapters import AdapterRegistry
from entivec.ner.onnx_engine import OnnxNerModel
from entivec.ner.peft_engine import NerModel
from entivec.ner.tagging import NerEngine, WordBatch, token_logits, words_with_offsets
from entivec.store.edge import EdgeStore

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LANGUAGES = ("de", "en", "es", "nl", "pl", "ru")


def percentiles(times_ms: list[float]) -> dict[str, float]:
    times_ms = sorted(times_ms)
    return {
        "p50_ms": float(f"{statistics.median(times_ms):.3g}"),
        "p99_ms": float(f"{times_ms[int(0.99 * (len(times_ms) - 1))]:.3g}"),
    }


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_engine(
    model: NerEngine, words: list[list[str]], chosen: list[str], route_s: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Adapter load/switch latency and extract throughput of one NER engine."""
    names = model.registry.names
    cold = [1000 * timed(lambda n=name: model.load_adapter(n)) for name in names]
    switch = []
    for i in range(200):
        name = names[i % len(names)]
        switch.append(1000 * timed(lambda n=name: model.set_adapter(n)))

    def grouped() -> None:
        for name in sorted(set(chosen)):
            rows = [i for i, c in enumerate(chosen) if c == name]
            model.predict(name, [words[i] for i in rows])

    def per_item() -> None:
        for name, w in zip(chosen, words, strict=True):
            model.predict(name, [w])

    for name in names:  # warm every adapter's kernels before timing
        model.predict(name, words[:8])
    joint_s = timed(lambda: model.predict("joint", words))
    grouped_s = timed(grouped)
    per_item_s = timed(per_item)
    adapters = {"cold_load": percentiles(cold), "switch_loaded": percentiles(switch)}
    extract = {
        "grouped by adapter": round(len(words) / (route_s + grouped_s), 1),
        "switch per item": round(len(words) / (route_s + per_item_s), 1),
        "joint model, no routing": round(len(words) / joint_s, 1),
        "routing share of grouped (fraction)": round(route_s / (route_s + grouped_s), 3),
    }
    return adapters, extract


def measure_onnx_layout(
    registry: AdapterRegistry, words: list[list[str]], chosen: list[str]
) -> dict[str, Any]:
    """Disk and latency of the shipped layout (one graph, adapter files) against one
    graph per adapter with the LoRA weights merged, on the texts routed to one language."""
    import onnxruntime as ort

    files = registry.verified_onnx_files()
    graph_mb = files["ner.onnx"].stat().st_size / 2**20
    adapter_mb = [p.stat().st_size / 2**20 for f, p in files.items() if f.endswith("_adapter")]
    name = max(set(chosen) - {"joint"}, key=chosen.count)
    rows = [words[i] for i, c in enumerate(chosen) if c == name]
    lora = OnnxNerModel(registry)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "merged.onnx"
        export_ner_graph(registry, name, path, merged=True)
        merged_mb = path.stat().st_size / 2**20
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def forward(batch: WordBatch) -> Any:
            feed = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
            return session.run(["logits"], feed)[0]

        tokenizer = lora.tokenizer
        token_logits(forward, tokenizer, rows[:8], 32)
        lora.predict(name, rows[:8])
        merged_s = min(timed(lambda: token_logits(forward, tokenizer, rows, 32)) for _ in range(3))
        lora_s = min(timed(lambda: lora.predict(name, rows)) for _ in range(3))
    n = len(registry.names)
    return {
        "language measured": f"{name} ({len(rows)} texts)",
        "disk, shipped layout MB": round(graph_mb + sum(adapter_mb), 1),
        "disk, merged graphs MB": round(merged_mb * n, 1),
        "base graph MB": round(graph_mb, 1),
        "one adapter file MB": round(max(adapter_mb), 2),
        "shipped layout texts_per_s": round(len(rows) / lora_s, 1),
        "merged graph texts_per_s": round(len(rows) / merged_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-per-language", type=int, default=20000)
    parser.add_argument("--texts", type=int, default=600, help="mixed-language texts to route")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "route.json")
    args = parser.parse_args()

    val = [
        s
        for lang in LANGUAGES
        for s in load("wikiann", [DATA / "wikiann" / lang / "val.conllu"], limit=args.texts // 6)
    ]
    random.Random(0).shuffle(val)  # a mixed-language stream
    texts = [s.text for s in val]
    result: dict[str, Any] = {"machine": describe(), "texts": len(texts)}

    with tempfile.TemporaryDirectory() as tmp:
        ev = Entivec(EdgeStore(Path(tmp), collection="bench"))
        for lang in LANGUAGES:
            ev.ingest(
                "wikiann",
                [DATA / "wikiann" / lang / "train.conllu"],
                plugins=("lang",),
                limit=args.index_per_language,
                show_progress=False,
            )
        result["indexed_points"] = ev.store.count()
        router = ev.router()
        router.route(texts[:20])  # warm up
        single = [1000 * timed(lambda t=t: router.route([t])) for t in texts]
        batch_s = timed(lambda: router.route(texts))
        lingua = LinguaIdentifier(LANGUAGES)
        lingua_ms = [1000 * timed(lambda t=t: lingua.identify(t)) for t in texts]
        result["routing"] = {
            "lang top-5, one text per call": percentiles(single),
            "lang top-5, batch texts_per_s": round(len(texts) / batch_s, 1),
            "lingua, one text per call": percentiles(lingua_ms),
        }

        registry = AdapterRegistry(adapters_dir())
        words = [[w for w, _, _ in words_with_offsets(t)] for t in texts]
        routes: list[Any] = []
        route_s = timed(lambda: routes.extend(router.route(texts)))
        chosen = [choose_adapter(registry, r) for r in routes]
        result["adapters"] = {"adapters": registry.names}
        result["extract"] = {}
        for engine, make in (("onnx", OnnxNerModel), ("torch", NerModel)):
            model = make(registry)
            adapters, extract = measure_engine(model, words, chosen, route_s)
            result["adapters"][engine] = adapters
            result["extract"][engine] = extract
        result["onnx_layout"] = measure_onnx_layout(registry, words, chosen)
        ev.close()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(headline(result["machine"]))
    print(f"{len(texts)} mixed-language WikiANN val texts, {result['indexed_points']} indexed")
    print("\nrouting")
    for key, value in result["routing"].items():
        print(f"  {key:42} {value}")
    print(f"\nadapters ({', '.join(result['adapters']['adapters'])}), ms")
    print(f"  {'':30}{'onnx (LoRA adapter file)':>28}{'torch (PEFT)':>28}")
    for key in ("cold_load", "switch_loaded"):
        cells = [result["adapters"][e][key] for e in ("onnx", "torch")]
        print(f"  {key:30}" + "".join(f"{c['p50_ms']:>14} (p99 {c['p99_ms']:>8})" for c in cells))
    print("\nextract, texts/s")
    print(f"  {'':40}{'onnx':>10}{'torch':>10}")
    for key in result["extract"]["onnx"]:
        row = [result["extract"][e][key] for e in ("onnx", "torch")]
        print(f"  {key:40}" + "".join(f"{v:>10}" for v in row))
    print("\nONNX layout: one base graph + adapter files vs one merged graph per adapter")
    for key, value in result["onnx_layout"].items():
        print(f"  {key:42} {value}")


if __name__ == "__main__":
    main()
