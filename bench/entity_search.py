"""Latency of each ``search_entities`` mode on a real store, side by side.

The 2,121 CrossNER ``dev`` sentences (five domains) are ingested into a fresh Qdrant
Edge store with ``e5`` and ``entity``; then each of the 38 type names is searched (k =
its number of relevant sentences, as the evaluation does), once per mode, after one
warm-up pass:

- mentions alone (``fuse_with=None``), the peer;
- fused with e5 (``fuse_with="e5"``): a second query encoding and a second search;
- the default (``"auto"``): fused unless the name is a trained type's.

Exemplars (``exemplars=True``) add SmolLM2's generation, about 0.9 s for each new
description after a 7 s load (``bench/entity_query.py``).

    .venv/bin/python bench/entity_search.py

Needs the e5 and entity plugins (./run setup). Prints a table and writes
bench/results/entity_search.json.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import describe, headline

from entivec.api import Entivec
from entivec.loaders import load
from entivec.loaders.crossner import NOT_A_QUERY, type_name
from entivec.mentions import mentions_of

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "crossner"
DOMAINS = ("ai", "literature", "music", "politics", "science")
MODES: dict[str, str | None] = {
    "mentions alone (fuse_with=None)": None,
    "fused with e5 (fuse_with='e5')": "e5",
    "default (fuse_with='auto')": "auto",
}


def main() -> None:
    machine = describe()
    files = [DATA / domain / "dev.txt" for domain in DOMAINS]
    sentences = list(load("conll", files, language="en"))
    relevant: dict[str, set[tuple[str, str]]] = {}
    for mention in mentions_of(sentences):
        if mention.span.type not in NOT_A_QUERY:
            key = (mention.sentence.source, mention.sentence.id)
            relevant.setdefault(mention.span.type, set()).add(key)
    queries = [(type_name(t), len(keys)) for t, keys in sorted(relevant.items())]
    results: dict[str, Any] = {"machine": machine, "sentences": len(sentences)}
    with tempfile.TemporaryDirectory() as folder, Entivec(folder) as ev:
        ev.ingest("conll", files, plugins=("e5", "entity"), language="en", show_progress=False)
        for name, fuse in MODES.items():
            for text, k in queries:  # warm-up: encoders loaded, store paged in
                ev.search_entities(text, k=k, fuse_with=fuse)
            ms = []
            for text, k in queries:
                started = time.perf_counter()
                ev.search_entities(text, k=k, fuse_with=fuse)
                ms.append(1000 * (time.perf_counter() - started))
            ordered = sorted(ms)
            results[name] = {
                "p50_ms": round(statistics.median(ordered), 2),
                "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
            }
    print(headline(machine))
    print(f"{len(queries)} type names over {len(sentences):,} sentences\n")
    print("| search_entities | p50 ms | p99 ms | vs mentions alone |\n|---|---:|---:|---:|")
    peer = results["mentions alone (fuse_with=None)"]["p50_ms"]
    for name in MODES:
        r = results[name]
        print(f"| {name} | {r['p50_ms']} | {r['p99_ms']} | {r['p50_ms'] / peer:.2f}× |")
    out = ROOT / "bench" / "results" / "entity_search.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
