"""Ingestion and search benchmark on the six WikiANN val splits (60,000 sentences).

One run, peers side by side:
- encoding: sentence-transformers/PyTorch fp32 vs the e5 ONNX plugin, fp32 and int8,
  each fed the same 128-sentence batches that ingestion uses;
- int8 quality: recall@10 of its neighbours against fp32 (WikiANN train sentences as
  queries over the 60,000 val sentences, exact search), Tatoeba R@1 against fp32, and
  how much a vector moves with its batch-mates;
- storing: upserting the same vectors into Qdrant Edge vs qdrant-client's local mode;
- end to end: `ingest()` into Qdrant Edge (encoding overlapped with upserts) against
  pure encoding;
- search latency p50/p99 with and without a `language` filter, both engines.

    .venv/bin/python bench/ingest.py [--per-language N]

Prints a table and writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import describe, headline

from entivec.ingest.pipeline import DEFAULT_BATCH_SIZE, DEFAULT_WINDOW, ingest
from entivec.ingest.points import sentence_id_of, sentence_payload
from entivec.loaders import load
from entivec.models import model_dir
from entivec.plugins.e5 import SPEC as E5_SPEC
from entivec.plugins.e5 import load as load_e5
from entivec.registry import Encoder
from entivec.store import PointRecord, Store, VectorSchema
from entivec.store.edge import EdgeStore
from entivec.store.server import ServerStore

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LANGUAGES = ("de", "en", "es", "nl", "pl", "ru")
TATOEBA = ("deu", "spa", "nld", "pol", "rus")


def encode_in_batches(embed: Any, texts: list[str]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    parts = [embed(texts[i : i + DEFAULT_WINDOW]) for i in range(0, len(texts), DEFAULT_WINDOW)]
    return np.concatenate(parts), time.perf_counter() - start


def recall_at_10(
    queries_a: np.ndarray, corpus_a: np.ndarray, queries_b: np.ndarray, corpus_b: np.ndarray
) -> float:
    top_a = np.argsort(-(queries_a @ corpus_a.T), axis=1)[:, :10]
    top_b = np.argsort(-(queries_b @ corpus_b.T), axis=1)[:, :10]
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_a, top_b, strict=True)]))


def tatoeba_r1(encoder: Any) -> dict[str, float]:
    english: list[str] = []
    queries: dict[str, list[str]] = {}
    for lang in TATOEBA:
        english += (
            (DATA / "tatoeba" / f"tatoeba.{lang}-eng.eng").read_text(encoding="utf-8").splitlines()
        )
        queries[lang] = (
            (DATA / "tatoeba" / f"tatoeba.{lang}-eng.{lang}")
            .read_text(encoding="utf-8")
            .splitlines()
        )
    kb = encoder.embed_passages(english)
    result = {}
    for i, lang in enumerate(TATOEBA):
        best = np.argmax(encoder.embed_queries(queries[lang]) @ kb.T, axis=1)
        gold = np.arange(1000) + 1000 * i
        # a verbatim duplicate of the gold English line counts as correct
        hits = [english[b] == english[g] for b, g in zip(best, gold, strict=True)]
        result[lang] = float(np.mean(hits))
    return result


def store_vectors(store: Store, points: list[PointRecord]) -> float:
    store.ensure_schema([VectorSchema("e5", 384, "cosine")])
    start = time.perf_counter()
    for i in range(0, len(points), DEFAULT_BATCH_SIZE):
        store.upsert(points[i : i + DEFAULT_BATCH_SIZE])
    store.finish()
    return time.perf_counter() - start


def latencies(store: Store, queries: np.ndarray, languages: list[str] | None) -> dict[str, float]:
    times = []
    for i, q in enumerate(queries):
        where = {"language": languages[i]} if languages else None
        start = time.perf_counter()
        store.search("e5", q.tolist(), 10, where)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": times[int(0.99 * (len(times) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-language", type=int, default=10000, help="val sentences per language"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    parser.add_argument(
        "--plot", type=Path, help="also draw the encoders' speed against PyTorch into this file"
    )
    parser.add_argument(
        "--from-results",
        type=Path,
        help="draw --plot from a results file this benchmark wrote, without running it",
    )
    args = parser.parse_args()
    if args.from_results:
        if not args.plot:
            parser.error("--from-results needs --plot")
        plot(json.loads(args.from_results.read_text()), args.plot)
        return

    sentences = [
        s
        for lang in LANGUAGES
        for s in load("wikiann", [DATA / "wikiann" / lang / "val.conllu"], limit=args.per_language)
    ]
    texts = [s.text for s in sentences]
    query_sentences = [
        s
        for lang in LANGUAGES
        for s in load("wikiann", [DATA / "wikiann" / lang / "train.conllu"], limit=100)
    ]
    query_texts = [s.text for s in query_sentences]
    n = len(texts)
    print(
        f"{n} sentences ({args.per_language} per language), {len(query_texts)} queries", flush=True
    )
    results: dict[str, Any] = {"sentences": n, "machine": describe()}
    print(headline(results["machine"]), flush=True)

    from entivec.build.e5.torch_e5 import TorchE5

    encoders: dict[str, Encoder] = {
        "pytorch fp32 (sentence-transformers)": TorchE5(model_dir("multilingual-e5-small")),
        "onnx fp32": load_e5("fp32"),
        "onnx int8": load_e5("int8"),
    }
    vectors: dict[str, np.ndarray] = {}
    query_vectors: dict[str, np.ndarray] = {}
    encode_rows: list[dict[str, Any]] = []
    for name, encoder in encoders.items():
        vectors[name], seconds = encode_in_batches(encoder.embed_passages, texts)
        query_vectors[name] = encoder.embed_queries(query_texts)
        encode_rows.append({"encoder": name, "seconds": seconds, "sentences_per_s": n / seconds})
        print(f"  encoded with {name}: {n / seconds:.1f} sentences/s", flush=True)
    base = encode_rows[0]["sentences_per_s"]
    for row in encode_rows:
        row["speedup_vs_pytorch"] = row["sentences_per_s"] / base
    fp32, int8 = "onnx fp32", "onnx int8"
    results["encoding"] = encode_rows

    shuffled = np.random.default_rng(0).permutation(n)[:2048]
    moved: dict[str, float] = {}
    for name in (fp32, int8):
        again, _ = encode_in_batches(encoders[name].embed_passages, [texts[i] for i in shuffled])
        moved[name] = float(np.min((again * vectors[name][shuffled]).sum(1)))
    results["quality"] = {
        "int8_recall_at_10_vs_fp32": recall_at_10(
            query_vectors[fp32], vectors[fp32], query_vectors[int8], vectors[int8]
        ),
        "onnx_fp32_recall_at_10_vs_pytorch": recall_at_10(
            query_vectors[encode_rows[0]["encoder"]],
            vectors[encode_rows[0]["encoder"]],
            query_vectors[fp32],
            vectors[fp32],
        ),
        "int8_min_cosine_vs_fp32": float(np.min((vectors[fp32] * vectors[int8]).sum(1))),
        "min_cosine_same_sentence_other_batch": moved,
        "tatoeba_r1": {name: tatoeba_r1(encoders[name]) for name in (fp32, int8)},
    }
    print("  quality:", json.dumps(results["quality"]), flush=True)

    points = [
        PointRecord(sentence_id_of(s), {"e5": vectors[fp32][i].tolist()}, sentence_payload(s))
        for i, s in enumerate(sentences)
    ]
    languages = [s.language for s in query_sentences]
    storage = []
    with tempfile.TemporaryDirectory() as tmp:
        from qdrant_client import QdrantClient

        engines: dict[str, Store] = {
            "qdrant edge": EdgeStore(Path(tmp) / "edge", collection="bench"),
            "qdrant-client local mode (disk)": ServerStore(
                QdrantClient(path=str(Path(tmp) / "local")), collection="bench", description="local"
            ),
        }
        for name, store in engines.items():
            seconds = store_vectors(store, points)
            row = {"engine": name, "upsert_points_per_s": n / seconds}
            row["search"] = latencies(store, query_vectors[fp32], None)
            row["filtered_search"] = latencies(store, query_vectors[fp32], languages)
            storage.append(row)
            store.close()
            print(f"  {name}: {row}", flush=True)
        results["storage"] = storage

        edge = EdgeStore(Path(tmp) / "e2e", collection="bench")
        start = time.perf_counter()
        ingest(iter(sentences), edge, [(E5_SPEC, encoders[fp32])], show_progress=False)
        seconds = time.perf_counter() - start
        edge.close()
        pure = next(r for r in encode_rows if r["encoder"] == fp32)["seconds"]
        results["end_to_end"] = {
            "seconds": seconds,
            "sentences_per_s": n / seconds,
            "pure_encoding_seconds": pure,
            "storage_overhead": seconds / pure - 1,
        }
        print(f"  end to end: {results['end_to_end']}", flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    if args.plot:
        plot(results, args.plot)


def plot(results: dict[str, Any], out: Path) -> None:
    """The encoding speeds as ratios to PyTorch, measured in the same run."""
    from entivec.lab.plots import plot_ratios

    machine = results["machine"]
    cpu = machine.get("cpu", machine) if isinstance(machine, dict) else machine
    rows = [(row["encoder"], row["speedup_vs_pytorch"]) for row in results["encoding"]]
    plot_ratios(rows, f"e5 encoding speed, {results['sentences']} sentences ({cpu})", out)


def print_table(results: dict[str, Any]) -> None:
    n = results["sentences"]
    print(f"\n== encoding {n} WikiANN val sentences (windows of {DEFAULT_WINDOW}, as ingest)")
    print(f"{'encoder':40} {'sent/s':>8} {'vs PyTorch':>10}")
    for row in results["encoding"]:
        print(
            f"{row['encoder']:40} {row['sentences_per_s']:8.1f} {row['speedup_vs_pytorch']:9.2f}x"
        )
    q = results["quality"]
    print(
        f"\nint8 recall@10 vs fp32: {q['int8_recall_at_10_vs_fp32']:.3f}   "
        f"ONNX fp32 recall@10 vs PyTorch: {q['onnx_fp32_recall_at_10_vs_pytorch']:.3f}"
    )
    moved = q["min_cosine_same_sentence_other_batch"]
    print(f"lowest cosine of a sentence re-encoded among other batch-mates: {moved}")
    print("Tatoeba R@1 (query language -> 5,000 English sentences):")
    for name, scores in q["tatoeba_r1"].items():
        print(
            f"  {name:12} "
            + "  ".join(f"{k} {v:.3f}" for k, v in scores.items())
            + f"  mean {np.mean(list(scores.values())):.3f}"
        )
    header = f"{'engine':34} {'upsert pts/s':>12} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"\n{header} {'filtered p50':>12} {'p99':>7}")
    for row in results["storage"]:
        s, f = row["search"], row["filtered_search"]
        speed = f"{row['engine']:34} {row['upsert_points_per_s']:12.0f}"
        print(
            f"{speed} {s['p50_ms']:7.2f} {s['p99_ms']:7.2f} {f['p50_ms']:12.2f} {f['p99_ms']:7.2f}"
        )
    e = results["end_to_end"]
    print(
        f"\nend to end into Qdrant Edge (fp32): {e['sentences_per_s']:.1f} sent/s; "
        f"storage adds {100 * e['storage_overhead']:.1f}% to pure encoding"
    )


if __name__ == "__main__":
    main()
