"""Qdrant Edge at scale: N mention points made from real entity vectors.

How the points are made: the 45,845 mentions of CrossNER (train and dev, six domains)
are encoded once by the ``entity`` plugin (cached in ``bench/results/``); point ``i``
takes mention ``i mod 45,845``'s vector plus a small seeded Gaussian perturbation
(σ = 0.02 per dimension, then normalised: cosine ≈ 0.9 to its source) and that
mention's real payload, its ``source`` naming the copy. CrossNER is English, so the
copies are spread over the six WikiANN languages in turn (a ``language`` filter then
keeps a sixth). Points are generated and upserted in batches, never all in Python lists.

Reported, one run: upsert points/s, ``optimize()`` (the HNSW build) time, the whole
load's points/s, disk, peak RSS, search p50/p99 unfiltered and with a ``language`` and an
``entity_type`` filter, and HNSW recall@10 against exact search on 1,000 queries
(perturbed vectors of random mentions), exact search done in numpy over the same points.

    .venv/bin/python bench/scale.py [--points 100000] [--queries 1000]

Needs the ``entity`` plugin (./run setup). Prints a table and writes
bench/results/scale-<points>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from entivec.loaders import load
from machine import describe, headline

from entivec.ingest import mention_payload
from entivec.mentions import mentions_of
from entivec.store import PointRecord, VectorSchema, point_id
from entivec.store.edge import EdgeStore

if TYPE_CHECKING:
    from entivec.registry import MentionEncoder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "crossner"
CACHE = ROOT / "bench" / "results" / "scale-entity-vectors.npz"
LANGUAGES = ("de", "en", "es", "nl", "pl", "ru")
SIGMA = 0.02
BATCH = 1024


def base_mentions() -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The real mention vectors (encoded once, cached) and their payloads."""
    files = sorted(DATA.glob("*/train.txt")) + sorted(DATA.glob("*/dev.txt"))
    mentions = mentions_of(load("conll", files, language="en"))
    payloads = [mention_payload(m) for m in mentions]
    if CACHE.is_file():
        vectors = np.load(CACHE)["vectors"]
        if len(vectors) == len(mentions):
            return vectors, payloads
    from entivec.registry import get_registry

    encoder = cast("MentionEncoder", get_registry().encoder("entity").load())
    started = time.perf_counter()
    vectors = encoder.embed_mentions([m.input for m in mentions])
    print(
        f"  encoded {len(mentions)} mentions in {time.perf_counter() - started:.0f} s", flush=True
    )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, vectors=vectors)
    return vectors, payloads


def perturbed(base: np.ndarray, start: int, stop: int, seed: int = 0) -> np.ndarray:
    """Vectors of points ``start..stop-1``: their base mention's, perturbed and normalised
    (the same for the same index, whichever batch computes it)."""
    rows = []
    for i in range(start, stop):
        rng = np.random.default_rng([seed, i])
        v = base[i % len(base)] + np.asarray(rng.normal(0.0, SIGMA, base.shape[1]), np.float32)
        rows.append(v / np.linalg.norm(v))
    return np.asarray(rows, dtype=np.float32)


def points(base: np.ndarray, payloads: list[dict[str, Any]], n: int) -> Iterator[list[PointRecord]]:
    """The ``n`` points, a batch at a time."""
    for start in range(0, n, BATCH):
        stop = min(n, start + BATCH)
        vectors = perturbed(base, start, stop)
        batch = []
        for offset, i in enumerate(range(start, stop)):
            copy, j = divmod(i, len(base))
            payload = {
                **payloads[j],
                "language": LANGUAGES[(copy + j) % len(LANGUAGES)],
                "source": f"scale/copy-{copy}",
            }
            batch.append(
                PointRecord(
                    point_id("scale", str(i)), {"entity": vectors[offset].tolist()}, payload
                )
            )
        yield batch


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
    }


def exact_top10(base: np.ndarray, n: int, queries: np.ndarray) -> list[list[str]]:
    """Exact top-10 ids by cosine over the same ``n`` points, a chunk at a time."""
    best_scores = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 10), dtype=np.int64)
    for start in range(0, n, 16 * BATCH):
        stop = min(n, start + 16 * BATCH)
        scores = queries @ perturbed(base, start, stop).T
        scores_all = np.concatenate([best_scores, scores], axis=1)
        ids_all = np.concatenate(
            [best_ids, np.broadcast_to(np.arange(start, stop), scores.shape)], axis=1
        )
        top = np.argpartition(-scores_all, 10, axis=1)[:, :10]
        best_scores = np.take_along_axis(scores_all, top, axis=1)
        best_ids = np.take_along_axis(ids_all, top, axis=1)
    return [[point_id("scale", str(int(i))) for i in row] for row in best_ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    machine = describe()
    base, payloads = base_mentions()
    rng = np.random.default_rng(1)
    sources = rng.choice(len(base), args.queries, replace=False)
    queries = np.asarray(
        [perturbed(base, int(s), int(s) + 1, seed=7)[0] for s in sources], dtype=np.float32
    )
    types = [payloads[int(s)]["entity_type"] for s in sources]
    tmp = Path(tempfile.mkdtemp(prefix="entivec-scale-"))
    try:
        store = EdgeStore(tmp, collection="scale")
        store.ensure_schema([VectorSchema("entity", base.shape[1], "cosine")])
        started = time.perf_counter()
        for batch in points(base, payloads, args.points):
            store.upsert(batch)
        upserted = time.perf_counter() - started
        built = time.perf_counter()
        store.finish()
        optimize = time.perf_counter() - built
        load_s = time.perf_counter() - started
        disk = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
        latency: dict[str, list[float]] = {"unfiltered": [], "language": [], "entity_type": []}
        found: list[list[str]] = []
        for i, query in enumerate(queries):
            q = query.tolist()
            for name, where in (
                ("unfiltered", None),
                ("language", {"language": LANGUAGES[i % len(LANGUAGES)]}),
                ("entity_type", {"entity_type": types[i]}),
            ):
                t = time.perf_counter()
                hits = store.search("entity", q, 10, where)
                latency[name].append(1000 * (time.perf_counter() - t))
                if where is None:
                    found.append([h.id for h in hits])
        store.close()
        exact = exact_top10(base, args.points, queries)
        recall = float(
            np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "machine": machine,
        "points": args.points,
        "dimensions": int(base.shape[1]),
        "real_mentions": len(base),
        "upsert_points_per_second": round(args.points / upserted),
        "optimize_seconds": round(optimize, 1),
        "load_points_per_second": round(args.points / load_s),
        "disk_mb": round(disk / 2**20),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "search_ms": {name: percentiles(ms) for name, ms in latency.items()},
        "recall_at_10": round(recall, 4),
    }
    print(headline(machine))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
    out = ROOT / "bench" / "results" / f"scale-{args.points}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
