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

    .venv/bin/python bench/scale.py [--points 100000] [--queries 1000] [--variants all]
        [--sigma 0.02]

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
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from machine import describe, headline

from entivec.ingest.points import mention_payload
from entivec.loaders import load
from entivec.mentions import mentions_of
from entivec.store import (
    KEYWORD_INDEXES,
    IndexSettings,
    PointRecord,
    VectorSchema,
    point_id,
)
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


def perturbed(
    base: np.ndarray, start: int, stop: int, seed: int = 0, sigma: float = SIGMA
) -> np.ndarray:
    """Vectors of points ``start..stop-1``: their base mention's, perturbed and normalised
    (the same for the same index, whichever batch computes it)."""
    rows = []
    for i in range(start, stop):
        rng = np.random.default_rng([seed, i])
        v = base[i % len(base)] + np.asarray(rng.normal(0.0, sigma, base.shape[1]), np.float32)
        rows.append(v / np.linalg.norm(v))
    return np.asarray(rows, dtype=np.float32)


def points(
    base: np.ndarray, payloads: list[dict[str, Any]], n: int, sigma: float
) -> Iterator[list[PointRecord]]:
    """The ``n`` points, a batch at a time."""
    for start in range(0, n, BATCH):
        stop = min(n, start + BATCH)
        vectors = perturbed(base, start, stop, sigma=sigma)
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


def exact_top10(
    base: np.ndarray,
    n: int,
    queries: np.ndarray,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
    sigma: float = SIGMA,
) -> list[list[str]]:
    """Exact top-10 ids by cosine over the same ``n`` points, a chunk at a time;
    ``labels`` (each point's, each query's), when given, is a filter: a query may
    return only the points with its label."""
    best_scores = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 10), dtype=np.int64)
    for start in range(0, n, 16 * BATCH):
        stop = min(n, start + 16 * BATCH)
        scores = queries @ perturbed(base, start, stop, sigma=sigma).T
        if labels is not None:
            point_labels, query_labels = labels
            mask = point_labels[None, start:stop] == query_labels[:, None]
            scores = np.where(mask, scores, -np.inf)
        scores_all = np.concatenate([best_scores, scores], axis=1)
        ids_all = np.concatenate(
            [best_ids, np.broadcast_to(np.arange(start, stop), scores.shape)], axis=1
        )
        top = np.argpartition(-scores_all, 10, axis=1)[:, :10]
        best_scores = np.take_along_axis(scores_all, top, axis=1)
        best_ids = np.take_along_axis(ids_all, top, axis=1)
    return [[point_id("scale", str(int(i))) for i in row] for row in best_ids]


def language_of(n: int, base_size: int) -> np.ndarray:
    """The language index of each of the ``n`` points (as :func:`points` assigns them)."""
    i = np.arange(n)
    return (i // base_size + i % base_size) % len(LANGUAGES)


def recall(found: list[list[str]], exact: list[list[str]]) -> float:
    return round(
        float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])), 4
    )


VARIANTS: dict[str, IndexSettings] = {
    "shipped": IndexSettings(),
    "before (ef_construct 100, every key graphed)": IndexSettings(
        ef_construct=100, graph_keys=KEYWORD_INDEXES
    ),
    "ef_construct 100": IndexSettings(ef_construct=100),
    "no key graphed": IndexSettings(graph_keys=()),
    "language graphed only": IndexSettings(graph_keys=("language",)),
    "m 8": IndexSettings(m=8),
    "m 32": IndexSettings(m=32),
    "ef_construct 50": IndexSettings(ef_construct=50),
    "ef_construct 200": IndexSettings(ef_construct=200),
    "1 segment": IndexSettings(segments=1),
    "4 segments": IndexSettings(segments=4),
    "int8": IndexSettings(quantization="int8"),
}


def load_and_measure(
    settings: IndexSettings,
    base: np.ndarray,
    payloads: list[dict[str, Any]],
    n: int,
    queries: np.ndarray,
    types: list[str],
    sigma: float,
) -> tuple[dict[str, Any], dict[str, list[list[str]]]]:
    """Load ``n`` points into a fresh store with ``settings``; time it and search it."""
    tmp = Path(tempfile.mkdtemp(prefix="entivec-scale-"))
    try:
        store = EdgeStore(tmp, collection="scale", index=settings)
        store.ensure_schema([VectorSchema("entity", base.shape[1], "cosine")])
        started = time.perf_counter()
        for batch in points(base, payloads, n, sigma):
            store.upsert(batch)
        upserted = time.perf_counter() - started
        built = time.perf_counter()
        store.finish()
        optimize = time.perf_counter() - built
        load_s = time.perf_counter() - started
        disk = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
        latency: dict[str, list[float]] = {name: [] for name in FILTERS}
        found: dict[str, list[list[str]]] = {name: [] for name in FILTERS}
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
                found[name].append([h.id for h in hits])
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    measured = {
        "settings": asdict(settings),
        "upsert_points_per_second": round(n / upserted),
        "optimize_seconds": round(optimize, 1),
        "load_points_per_second": round(n / load_s),
        "disk_mb": round(disk / 2**20),
        "search_ms": {name: percentiles(ms) for name, ms in latency.items()},
    }
    return measured, found


FILTERS = ("unfiltered", "language", "entity_type")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--sigma",
        type=float,
        default=SIGMA,
        help="the points' perturbation; 0 with --points 45845 stores the real mentions as "
        "they are, whose neighbours are other mentions, not copies (queries keep 0.02)",
    )
    parser.add_argument(
        "--variants",
        default="shipped",
        help=f"comma-separated index settings to compare, or 'all': {', '.join(VARIANTS)}",
    )
    args = parser.parse_args()
    names = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; expected some of {list(VARIANTS)}")
    machine = describe()
    base, payloads = base_mentions()
    rng = np.random.default_rng(1)
    sources = rng.choice(len(base), args.queries, replace=False)
    queries = np.asarray(
        [perturbed(base, int(s), int(s) + 1, seed=7)[0] for s in sources], dtype=np.float32
    )
    types = [payloads[int(s)]["entity_type"] for s in sources]
    languages = language_of(args.points, len(base))
    type_of = np.asarray([payloads[i % len(base)]["entity_type"] for i in range(args.points)])
    exact = {
        "unfiltered": exact_top10(base, args.points, queries, sigma=args.sigma),
        "language": exact_top10(
            base,
            args.points,
            queries,
            (languages, np.arange(len(queries)) % len(LANGUAGES)),
            sigma=args.sigma,
        ),
        "entity_type": exact_top10(
            base, args.points, queries, (type_of, np.asarray(types)), sigma=args.sigma
        ),
    }
    runs = {}
    for name in names:
        measured, found = load_and_measure(
            VARIANTS[name], base, payloads, args.points, queries, types, args.sigma
        )
        measured["recall_at_10"] = {f: recall(found[f], exact[f]) for f in FILTERS}
        runs[name] = measured
        print(f"  {name}: {json.dumps(measured)}", flush=True)
    result = {
        "machine": machine,
        "points": args.points,
        "dimensions": int(base.shape[1]),
        "real_mentions": len(base),
        "sigma": args.sigma,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "runs": runs,
    }
    print(headline(machine))
    print(f"{args.points:,} points; peak RSS {result['peak_rss_mb']:,} MB (the largest run)\n")
    print(
        "| settings | upserts/s | optimize s | load points/s | disk MB "
        "| p50/p99 ms | language p50/p99 | entity_type p50/p99 | recall@10 (all/lang/type) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in runs.items():
        ms = r["search_ms"]
        rec = r["recall_at_10"]
        print(
            f"| {name} | {r['upsert_points_per_second']:,} | {r['optimize_seconds']} "
            f"| {r['load_points_per_second']:,} | {r['disk_mb']:,} | "
            + " | ".join(f"{ms[f]['p50']} / {ms[f]['p99']}" for f in FILTERS)
            + f" | {rec['unfiltered']} / {rec['language']} / {rec['entity_type']} |"
        )
    suffix = ("" if names == ["shipped"] else "-variants") + (
        "" if args.sigma == SIGMA else f"-sigma{args.sigma:g}"
    )
    out = ROOT / "bench" / "results" / f"scale-{args.points}{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
