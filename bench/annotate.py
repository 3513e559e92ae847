"""Annotating ingestion against plain ingestion of the same raw documents, in one run.

Documents: Tatoeba sentences of the six languages, four to a document, one document per
line, no language given (real raw multilingual text). Five runs into fresh Qdrant Edge
stores:

- **plain**: the documents with ``--language`` given and ``--no-ner`` (segmentation, e5,
  the store), the peer;
- **annotating, e5**: routed and tagged, e5 sentence vectors;
- **annotating, e5 + entity**: the same, plus the ``entity`` vectors of the predicted
  mentions;
- **annotating, int8 NER**: as "annotating, e5" with ``ner_engine="onnx-int8"``, then
  also with e5's int8 variant (the speeds a host with VNNI or AMX can reach).

Each run reports sentences per second, and the share of its time in segmentation (the
loader), routing, NER, each plugin and the store, timed by wrapping those calls.

Then **unchanged, again**: 10,000 written WikiANN ``val`` sentences (detokenised, five to
a document, the six languages) ingested with annotation and e5, then ingested again
unchanged into the same store: the second run reads the stored annotations back instead
of routing and tagging (``report.annotations_reused``) and skips every point.

    .venv/bin/python bench/annotate.py [--documents N] [--unchanged N]

Needs e5, lang, the routing index, the adapters and the entity plugin (./run setup).
Prints a table and writes bench/results/annotate.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from machine import describe, headline

from entivec.annotation.routing import Router
from entivec.api import Entivec
from entivec.ingest.pipeline import IngestReport
from entivec.loaders.tatoeba import MONOLINGUAL_FILES

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tatoeba"
WIKIANN = DATA.parent / "wikiann"
PER_DOCUMENT = 4


def written_documents(sentences: int, per_document: int = 5) -> list[str]:
    """WikiANN ``val`` sentences in written form, ``per_document`` to a line, the six
    languages in equal parts."""
    from entivec.build.ner.written import written_form
    from entivec.loaders import load

    languages = ("de", "en", "es", "nl", "pl", "ru")
    out = []
    for lang in languages:
        texts = [
            w.text
            for s in load("wikiann", [WIKIANN / lang / "val.conllu"])
            if (w := written_form(s.tokens, lang)) is not None
        ][: sentences // len(languages)]
        out += [" ".join(texts[i : i + per_document]) for i in range(0, len(texts), per_document)]
    return out


def unchanged_again(path: Path) -> dict[str, Any]:
    """Annotating ingestion, then the same files again into the same store."""
    rows = {}
    with tempfile.TemporaryDirectory() as tmp, Entivec(Path(tmp) / "store") as ev:
        for name in ("first ingest", "unchanged, again"):
            start = time.perf_counter()
            report, _ = ev.ingest("text", [path], plugins=("e5",), show_progress=False)
            total = time.perf_counter() - start
            rows[name] = {
                "sentences": report.sentences,
                "seconds": round(total, 2),
                "sentences_per_second": round(report.sentences / total, 1),
                "annotated": report.annotated,
                "annotations_reused": report.annotations_reused,
                "encoded": report.encoded,
            }
    return rows


def documents(count: int) -> list[str]:
    """``count`` documents, the languages taking turns."""
    lines = {
        lang: [x for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x.strip()]
        for lang, name in MONOLINGUAL_FILES.items()
    }
    out = []
    for i in range(count):
        lang = list(MONOLINGUAL_FILES)[i % len(MONOLINGUAL_FILES)]
        start = (i // len(MONOLINGUAL_FILES)) * PER_DOCUMENT
        out.append(" ".join(lines[lang][start : start + PER_DOCUMENT]))
    return out


class Timer:
    """Seconds spent in wrapped calls, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed


def run(
    path: Path,
    plugins: tuple[str, ...],
    *,
    annotate: bool,
    ner_engine: str = "onnx",
    variant: str = "fp32",
) -> dict[str, Any]:
    """One ingestion into a fresh store, with its time split by component."""
    import entivec.loaders.text as text_loader

    timer = Timer()
    original_route = Router.route
    original_spans = text_loader.bounded_spans
    Router.route = timer.wrap("routing", original_route)  # type: ignore[method-assign]
    text_loader.bounded_spans = timer.wrap("segmentation", original_spans)
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            Entivec(Path(tmp) / "store", variant=variant) as ev,
        ):
            for plugin in plugins:
                _, encoder = ev.encoder(plugin)
                for method in ("embed_passages", "embed_mentions"):
                    if hasattr(encoder, method):
                        setattr(encoder, method, timer.wrap(plugin, getattr(encoder, method)))
            store = ev.store
            for method in ("upsert", "update_vectors", "set_payload"):  # the writer thread
                setattr(store, method, timer.wrap("store", getattr(store, method)))
            for method in ("payloads", "finish"):  # in line
                setattr(
                    store,
                    method,
                    timer.wrap("store lookups and index build", getattr(store, method)),
                )
            if annotate:
                model = ev.ner_model(engine=ner_engine)
                model.predict = timer.wrap("ner", model.predict)  # type: ignore[method-assign]
            start = time.perf_counter()
            report: IngestReport
            report, _ = ev.ingest(
                "text",
                [path],
                plugins=plugins,
                language=None if annotate else "en",
                ner="auto" if annotate else "off",
                ner_engine=ner_engine,
                show_progress=False,
            )
            total = time.perf_counter() - start
    finally:
        Router.route = original_route  # type: ignore[method-assign]
        text_loader.bounded_spans = original_spans
    # the loader reads the file twice (validation, then ingestion): both passes count;
    # the store writes in its own thread while the next window is encoded, so its share
    # overlaps the others and is left out of the remainder
    shares = {name: round(seconds / total, 3) for name, seconds in sorted(timer.seconds.items())}
    in_line = sum(v for k, v in timer.seconds.items() if k != "store")  # store: overlapping
    shares["other (loading, ids, payloads)"] = round(1 - in_line / total, 3)
    return {
        "plugins": list(plugins),
        "annotate": annotate,
        "ner_engine": ner_engine if annotate else None,
        "variant": variant,
        "sentences": report.sentences,
        "mentions": report.mentions,
        "seconds": round(total, 2),
        "sentences_per_second": round(report.sentences / total, 1),
        "time_share": shares,
        "languages": report.languages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--unchanged", type=int, default=10_000, help="sentences (0: skip)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "annotate.json"
    )
    args = parser.parse_args()
    machine = describe()
    with tempfile.TemporaryDirectory() as tmp:
        path, warm = Path(tmp) / "documents.txt", Path(tmp) / "warm.txt"
        texts = documents(args.documents)
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        warm.write_text("\n".join(texts[:30]) + "\n", encoding="utf-8")
        run(warm, ("e5", "entity"), annotate=True)  # the models' files in the page cache
        rows = {
            "plain (e5, language given, no NER)": run(path, ("e5",), annotate=False),
            "annotating (e5)": run(path, ("e5",), annotate=True),
            "annotating (e5 + entity)": run(path, ("e5", "entity"), annotate=True),
            "annotating (e5), int8 NER": run(path, ("e5",), annotate=True, ner_engine="onnx-int8"),
            "annotating (e5 int8), int8 NER": run(
                path, ("e5",), annotate=True, ner_engine="onnx-int8", variant="int8"
            ),
        }
        again = {}
        if args.unchanged:
            written = Path(tmp) / "written.txt"
            written.write_text("\n".join(written_documents(args.unchanged)) + "\n", "utf-8")
            again = unchanged_again(written)
    result = {"machine": machine, "documents": args.documents, "runs": rows, "again": again}
    print(headline(machine))
    print(f"{args.documents} documents of {PER_DOCUMENT} Tatoeba sentences, six languages")
    print(f"{'run':38}{'sent/s':>8}{'sentences':>11}{'mentions':>10}  time share")
    for name, row in rows.items():
        shares = ", ".join(f"{k} {v:.0%}" for k, v in row["time_share"].items())
        print(
            f"{name:38}{row['sentences_per_second']:>8.1f}{row['sentences']:>11}"
            f"{row['mentions']:>10}  {shares}"
        )
    for name, row in again.items():
        print(
            f"{name:38}{row['sentences_per_second']:>8.1f}{row['sentences']:>11}"
            f"  annotated {row['annotated']:,}, reused {row['annotations_reused']:,}, "
            f"encoded {row['encoded']:,}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
