"""Routing and extract benchmark: latency, throughput, adapter switching, routing share.

One run, peers side by side:
- routing one text at a time (p50/p99 latency) and in batches (texts/s), lang vector on
  Qdrant Edge, against lingua on the same texts;
- adapter switch latency for a loaded adapter (PEFT ``set_adapter``) and a cold load
  (read, verify checksums, ``load_adapter``);
- extract on a mixed-language batch: grouped by adapter (what ``extract`` does) vs
  switching adapter per item, vs one joint model with no routing at all; and the share
  of extract time spent routing.

    .venv/bin/python bench/route.py [--index-per-language N] [--texts N]

Needs the lang vector and the adapters (./run setup). Prints a table and writes
bench/results/route.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from entivec.loaders import load

from entivec.api import Entivec
from entivec.edge_store import EdgeStore
from entivec.extraction import choose_adapter
from entivec.langid import LinguaIdentifier
from entivec.models import adapters_dir
from entivec.ner import NerModel, words_with_offsets

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LANGUAGES = ("de", "en", "es", "nl", "pl", "ru")


def percentiles(times_ms: list[float]) -> dict[str, float]:
    times_ms = sorted(times_ms)
    return {
        "p50_ms": round(statistics.median(times_ms), 3),
        "p99_ms": round(times_ms[int(0.99 * (len(times_ms) - 1))], 3),
    }


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
    result: dict[str, Any] = {"machine": platform.machine(), "texts": len(texts)}

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

        model = NerModel(ev.ner_model(adapters_dir()).registry)
        names = model.registry.names
        cold = []
        for name in names:
            cold.append(1000 * timed(lambda n=name: model.load_adapter(n)))
        switch = []
        for i in range(200):
            name = names[i % len(names)]
            switch.append(1000 * timed(lambda n=name: model.set_adapter(n)))
        result["adapters"] = {
            "cold_load": percentiles(cold),
            "switch_loaded": percentiles(switch),
            "adapters": names,
        }

        words = [[w for w, _, _ in words_with_offsets(t)] for t in texts]
        routes: list[Any] = []
        route_s = timed(lambda: routes.extend(router.route(texts)))
        chosen = [choose_adapter(model.registry, r) for r in routes]

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
        result["extract"] = {
            "grouped by adapter texts_per_s": round(len(texts) / (route_s + grouped_s), 1),
            "switch per item texts_per_s": round(len(texts) / (route_s + per_item_s), 1),
            "joint model, no routing texts_per_s": round(len(texts) / joint_s, 1),
            "routing share of grouped extract": round(route_s / (route_s + grouped_s), 3),
        }
        ev.close()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{len(texts)} mixed-language WikiANN val texts, {result['indexed_points']} indexed")
    for section in ("routing", "adapters", "extract"):
        print(f"\n{section}")
        for key, value in result[section].items():
            print(f"  {key:42} {value}")


if __name__ == "__main__":
    main()
