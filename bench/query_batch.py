"""Batched queries against one engine call per query, and hybrid search's cost.

The shipped routing index (120,000 WikiANN ``train`` sentences, ``lang`` vectors, in
Qdrant Edge) answers the ``lang`` vectors of N mixed-language WikiANN ``val`` texts, k = 5,
routed sentences excluded (what the router asks):

- one ``Store.search`` per query (the peer), against ``Store.search_batch`` (Qdrant Edge's
  ``query_batch``) in groups of 1, 16, 64 and 256 queries;
- the same in qdrant-client's local mode, through the server code path
  (``query_batch_points``), for the first 100 texts on a 5,000-point copy (local mode
  searches exactly, in numpy);
- on an Edge store of 5,000 other ``val`` sentences with ``e5`` and ``bm25``: ``search``
  by e5 alone against ``search_fused`` (e5 and BM25 prefetches, RRF in the engine),
  p50/p99 per query.

    .venv/bin/python bench/query_batch.py [--texts 600]

Needs the lang and e5 plugins (./run setup). Prints a table and writes
bench/results/query_batch.json.
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
from qdrant_client import QdrantClient

from entivec.annotation.routing import NOT_LABELLED
from entivec.loaders import load
from entivec.models import routing_index_dir
from entivec.registry import get_registry
from entivec.store import DEFAULT_COLLECTION, Store, VectorSchema
from entivec.store.edge import EdgeStore
from entivec.store.server import ServerStore

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikiann"
LANGUAGES = ("de", "en", "es", "nl", "pl", "ru")
GROUPS = (1, 16, 64, 256)
K = 5
LOCAL_POINTS = 5000
LOCAL_QUERIES = 100


def per_second(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def one_call_per_query(store: Store, queries: list[list[float]]) -> float:
    started = time.perf_counter()
    for q in queries:
        store.search("lang", q, K, exclude=NOT_LABELLED)
    return time.perf_counter() - started


def batched(store: Store, queries: list[list[float]], group: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(queries), group):
        store.search_batch("lang", queries[start : start + group], K, exclude=NOT_LABELLED)
    return time.perf_counter() - started


def compare(store: Store, queries: list[list[float]]) -> dict[str, float]:
    """Queries per second, the median of three passes: one call each, then each group
    size (same queries), after a full pass that pages the store in."""
    one_call_per_query(store, queries)

    def rate(run: Any) -> float:
        return per_second(len(queries), statistics.median(run() for _ in range(3)))

    rows = {"one call per query": rate(lambda: one_call_per_query(store, queries))}
    for group in GROUPS:
        rows[f"search_batch, {group} a call"] = rate(lambda g=group: batched(store, queries, g))
    return rows


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
    }


def hybrid_cost(texts: list[str], kb: list[str]) -> dict[str, dict[str, float]]:
    """Per-query latency of e5 alone and of e5 fused with BM25, on an Edge store of ``kb``."""
    from entivec.api import Entivec

    with tempfile.TemporaryDirectory() as folder, Entivec(folder) as ev:
        (Path(folder) / "kb.txt").write_text("\n".join(kb) + "\n", encoding="utf-8")
        ev.ingest(
            "lines",
            [Path(folder) / "kb.txt"],
            plugins=("e5", "bm25"),
            language="en",
            ner="off",
            show_progress=False,
        )
        _, e5 = ev.encoder("e5")
        _, bm25 = ev.encoder("bm25")
        dense = [q.tolist() for q in e5.embed_queries(texts)]
        sparse = bm25.embed_queries(texts)
        times: dict[str, list[float]] = {"e5 alone": [], "e5 + BM25, RRF in the engine": []}
        for d, s in zip(dense, sparse, strict=True):
            t = time.perf_counter()
            ev.store.search("e5", d, 10)
            times["e5 alone"].append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            ev.store.search_fused([("e5", d), ("bm25", s)], 10, depth=100)
            times["e5 + BM25, RRF in the engine"].append(1000 * (time.perf_counter() - t))
    return {name: percentiles(ms) for name, ms in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--kb", type=int, default=5000, help="sentences for the hybrid rows")
    args = parser.parse_args()
    machine = describe()
    rng = random.Random(0)
    sentences = [
        s.text
        for language in LANGUAGES
        for s in load("wikiann", [DATA / language / "val.conllu"], language=language)
    ]
    texts = rng.sample(sentences, args.texts)
    encoder = get_registry().encoder("lang").load()
    queries = [q.tolist() for q in encoder.embed_queries(texts)]
    results: dict[str, Any] = {"machine": machine, "texts": len(texts), "k": K}
    with EdgeStore(routing_index_dir(), collection=DEFAULT_COLLECTION) as index:
        results["Qdrant Edge, 120,000 points"] = compare(index, queries)
        copy = [p for _, p in zip(range(LOCAL_POINTS), index.points(), strict=False)]
    local = ServerStore(QdrantClient(":memory:"), collection="copy", description="local mode")
    local.ensure_schema([VectorSchema("lang", len(queries[0]), "cosine")])
    local.upsert(copy)
    results[f"local mode, {LOCAL_POINTS:,} points"] = compare(local, queries[:LOCAL_QUERIES])
    local.close()
    asked = set(texts)
    kb = rng.sample([s for s in sentences if s not in asked], args.kb)
    results["hybrid_ms"] = hybrid_cost(texts, kb)
    print(headline(machine))
    print(f"{len(texts)} queries ({LOCAL_QUERIES} in local mode), k = {K}; queries per second\n")
    engines = [name for name in results if name.startswith(("Qdrant", "local"))]
    print("| call | " + " | ".join(engines) + " |")
    print("|---|" + "---:|" * len(engines))
    for row in results[engines[0]]:
        cells = []
        for engine in engines:
            value = results[engine][row]
            ratio = value / results[engine]["one call per query"]
            cells.append(f"{value:,.0f} ({ratio:.2f}×)")
        print(f"| {row} | " + " | ".join(cells) + " |")
    print(f"\n| sentence search, {args.kb:,} sentences, k = 10 | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    for name, ms in results["hybrid_ms"].items():
        print(f"| {name} | {ms['p50']} | {ms['p99']} |")
    out = ROOT / "bench" / "results" / "query_batch.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
