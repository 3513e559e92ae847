"""Ingestion, top to bottom: read -> segment -> annotate -> encode -> write.

1. **Read.** The loader reads the files (:func:`entivec.loaders.load`; raw text is cut
   into sentences there) twice: once to count and validate them (:func:`survey`: a
   malformed line or an id used twice in a file fails before anything is written), once
   to stream them into the store.
2. **Annotate.** What the sentences lack is set up once for the run
   (:func:`entivec.annotation.setup.annotator_for`) and applied to each window: routing
   for sentences without a language, the NER adapters for sentences without gold spans.
   Predicted spans become mention points and enter the fingerprints like gold ones.
3. **Encode.** Sentences are cut into fixed windows in stream order (1,024 by default);
   each window's points are planned against the store (:mod:`entivec.ingest.plan`:
   skip, add vectors, or write whole) and encoded whole, so a run that was killed and
   started again ends with the same ids, payloads and vectors as one clean run.
4. **Write.** A writer thread upserts window *n* while window *n + 1* is encoded. After a
   run that read its files to the end, the points its files no longer yield are removed,
   so the store after any sequence of ingests equals a clean ingest of the final files.
   Then the index is built (:func:`build_index`).

``workers`` moves only the encoders onto Ray actors (:mod:`entivec.ingest.distributed`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from entivec.annotation.annotator import Annotator
from entivec.annotation.segmentation import windows_unsaid
from entivec.annotation.setup import annotator_for, check_ner_mode
from entivec.errors import EntivecError
from entivec.ingest.plan import (
    FileIds,
    Job,
    annotate_changed,
    out_of_date,
    plan_unit,
    refuse_repeated_ids,
    remember,
    remove_stale,
    store_job,
    units_of,
)
from entivec.ingest.report import IngestReport, Survey, survey
from entivec.ingest.sources import claim, refuse_shared_names
from entivec.loaded import Loaded
from entivec.loaders import LoadStats, load, source_name
from entivec.records import Sentence
from entivec.registry import Encoder, EncoderSpec, get_registry
from entivec.store import Store, VectorSchema

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 128
DEFAULT_WINDOW = 1024


def ingest_files(
    store: Store,
    loaded: Loaded,
    format: str,
    paths: Iterable[str | Path],
    *,
    plugins: Iterable[str] = ("e5",),
    language: str | None = None,
    corpus: str | None = None,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    window: int = DEFAULT_WINDOW,
    resume: bool = True,
    show_progress: bool | None = None,
    root: str | Path | None = None,
    ner: str = "auto",
    adapters: str | Path | None = None,
    ner_engine: str = "onnx",
    routing_index: str | Path | Store | None = None,
    document_per_file: bool = False,
    language_from_path: bool = False,
    workers: int | None = None,
) -> tuple[IngestReport, LoadStats]:
    """Read corpus files and store one point per sentence (and per mention).

    See :meth:`entivec.api.Entivec.ingest` for the arguments.
    """
    check_ner_mode(ner)
    files = [Path(p) for p in paths]
    options: dict[str, Any] = {
        "language": language,
        "corpus": corpus,
        "limit": limit,
        "root": root,
        "require_language": False,
        "document_per_file": document_per_file,
        "language_from_path": language_from_path,
    }
    named = [(f, source_name(f, Path(root) if root is not None else None)) for f in files]
    refuse_shared_names(named)
    # read: validated whole before anything is written
    surveyed = survey(load(format, files, **options), complete=limit is None)
    # annotate: what the sentences lack, set up once for the run
    annotator = annotator_for(
        store,
        loaded,
        without_language=surveyed.without_language,
        without_gold_spans=surveyed.without_gold_spans,
        ner=ner,
        adapters=adapters,
        engine=ner_engine,
        routing_index=routing_index,
        paths=files,
    )
    # encode: every plugin's encoder, here or on Ray actors
    if workers is None:
        encoders = [loaded.encoder(p) for p in plugins]
    else:
        from entivec.ingest.distributed import ray_encoders

        specs = [get_registry().encoder(p) for p in plugins]
        encoders = list(zip(specs, ray_encoders(specs, loaded.variant, workers), strict=True))
    # claim: each file's name, once the run is set up and the schema holds
    store.ensure_schema(schema_of(encoders))
    older = claim(store, corpus or format, named)
    # write: the stream again, window by window
    stats = LoadStats()
    with windows_unsaid():  # the survey said them
        report = ingest(
            load(format, files, stats=stats, **options),
            store,
            encoders,
            batch_size=batch_size,
            window=window,
            resume=resume,
            show_progress=show_progress,
            surveyed=surveyed,
            annotate=annotator,
        )
    if older:  # a limited run too: else its file would be stored twice
        kinds: set[str] = {spec.embeds for spec, _ in encoders}
        remove_stale(store, {(corpus or format, name): FileIds() for name in older}, kinds, report)
        report.points = store.count()
    return report, stats


def schema_of(encoders: Sequence[tuple[EncoderSpec, Encoder]]) -> list[VectorSchema]:
    """The named vectors ``encoders`` fill."""
    return [VectorSchema(s.vector, s.size, s.distance, sparse=s.sparse) for s, _ in encoders]


def ingest(
    sentences: Iterable[Sentence],
    store: Store,
    encoders: Sequence[tuple[EncoderSpec, Encoder]],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    window: int = DEFAULT_WINDOW,
    resume: bool = True,
    show_progress: bool | None = None,
    total: int | None = None,
    surveyed: Survey | None = None,
    annotate: Annotator | None = None,
) -> IngestReport:
    """Encode ``sentences`` with every encoder and upsert their points.

    Sentence encoders fill one point per sentence, mention encoders one point per
    annotated span.

    Args:
        sentences: The stream (from :func:`entivec.loaders.load`).
        store: Where to write; its schema is created or checked first.
        encoders: ``(spec, loaded encoder)`` pairs; each fills its named vector.
        batch_size: Points per upsert (64-256 suits both engines).
        window: Sentences encoded together, the unit a resumed run skips or redoes.
        resume: Skip points stored as asked (see the module docstring); ``False``
            re-encodes everything and rewrites the requested vectors of stored points.
        show_progress: Show a progress bar; by default when logging is at INFO or lower.
        total: Number of sentences, for the progress bar (the survey's by default).
        surveyed: The stream's :func:`survey`; with it, points the files no longer yield
            are removed at the end. Without it a duplicate id is only found within a
            window, and nothing is removed.
        annotate: Applied to each window before it is encoded (an
            :class:`entivec.annotation.annotator.Annotator`: routing, NER).

    Raises:
        SchemaMismatchError: The store's vectors differ from the encoders'.
        CorpusFormatError: A sentence id occurs twice in one window.
    """
    from tqdm.auto import tqdm

    if batch_size < 1 or window < batch_size:
        raise EntivecError(
            f"expected 1 <= batch_size <= window, got batch_size={batch_size}, window={window}"
        )
    store.ensure_schema(schema_of(encoders))
    if show_progress is None:
        show_progress = logging.getLogger("entivec").getEffectiveLevel() <= logging.INFO
    if total is None and surveyed is not None:
        total = surveyed.sentences
    report = IngestReport()
    started = time.perf_counter()
    pending: queue.Queue[Job | None] = queue.Queue(maxsize=2 * window // batch_size + 1)
    failure: list[BaseException] = []
    bar = tqdm(total=total, unit="sent", desc="ingest", disable=not show_progress)

    def write() -> None:
        while (job := pending.get()) is not None:
            if failure:
                continue  # drain so the producer never blocks
            try:
                store_job(store, job)
                bar.update(job.sentences_done)  # counts stored sentences, not queued ones
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

    kinds: set[str] = {spec.embeds for spec, _ in encoders}
    seen: dict[tuple[str, str], FileIds] = {}  # what this run wrote, per file
    writer = threading.Thread(target=write, name="entivec-upsert", daemon=True)
    writer.start()
    try:
        for chunk in _windows(sentences, window):
            if failure:
                break
            if annotate is not None:
                chunk = annotate_changed(chunk, annotate, store, report)
            refuse_repeated_ids(chunk)
            report.sentences += len(chunk)
            report.count(chunk)
            jobs: list[Job] = []
            busy = False
            remember(seen, chunk)
            for unit in units_of(chunk, encoders):
                unit_jobs, rows_done = plan_unit(unit, store, resume, batch_size, report)
                jobs += unit_jobs
                busy = busy or bool(unit_jobs)
                if unit.kind == "sentence":
                    report.encoded += rows_done
                    report.skipped += len(chunk) - rows_done
            if "sentence" not in kinds:
                report.encoded += len(chunk) if busy else 0
                report.skipped += 0 if busy else len(chunk)
            report.out_of_date += out_of_date(chunk, store, kinds)
            if jobs:
                jobs[-1].sentences_done = len(chunk)
                for job in jobs:
                    pending.put(job)
            else:
                bar.update(len(chunk))
    finally:
        pending.put(None)
        writer.join()
        bar.close()
    if failure:
        raise failure[0]
    if surveyed is not None and surveyed.complete:
        remove_stale(store, seen, kinds, report)
    report.load_seconds = time.perf_counter() - started
    report.index_seconds = build_index(store, show_progress)
    report.points = store.count()
    return report


def build_index(store: Store, show_progress: bool) -> float:
    """Run :meth:`~entivec.store.Store.finish` between two progress lines; its seconds.

    Qdrant Edge's HNSW build reports no progress and holds the GIL (a ticking thread
    never runs during it), so the bar says what is built, then how long it took.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    with tqdm(
        total=1,
        desc="index",
        bar_format="{desc}: {n}/{total} built [{elapsed}]",
        disable=not show_progress,
    ) as bar:
        store.finish()
        bar.update(1)
    return time.perf_counter() - started


def _windows(items: Iterable[Sentence], size: int) -> Iterator[list[Sentence]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
