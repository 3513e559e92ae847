"""Ingestion: sentences in, points out, resumable.

Sentences are cut into fixed windows in stream order (1,024 by default). Before a
window is encoded, its point ids (uuid5 of corpus, sentence id) are looked up: a window
whose points are all stored is skipped; any other window is encoded whole (the
encoder sorts it by length, so little is padded) and upserted in batches of 128. So a
run that was killed and is started again encodes only what is missing, each sentence
with the same batch-mates as before, and ends with the same points, ids, payloads and
vectors as one clean run. A writer thread stores window *n* while the encoder works
on window *n + 1*.

A point already stored without some of the requested vectors (a collection ingested
with ``e5``, now ingested with ``e5_xling``) gains them through ``update_vectors``: its
payload and the vectors other plugins wrote stay as they are.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from entivec.errors import EntivecError
from entivec.records import Sentence
from entivec.registry import Encoder, EncoderSpec
from entivec.store import PointRecord, Store, VectorSchema, point_id

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 128
DEFAULT_WINDOW = 1024


@dataclass
class IngestReport:
    """What an ingestion did."""

    sentences: int = 0
    encoded: int = 0
    skipped: int = 0
    points: int = 0
    updated: int = 0

    def __str__(self) -> str:
        text = (
            f"{self.sentences} sentences: {self.encoded} encoded and stored, {self.skipped} "
            f"already stored; the store holds {self.points} points"
        )
        if self.updated:
            text += f" ({self.updated} stored points gained the new vectors)"
        return text


def sentence_payload(sentence: Sentence) -> dict[str, Any]:
    """The payload of a sentence point (the schema of DESIGN.md)."""
    return {
        "text": sentence.text,
        "sentence_id": sentence.id,
        "language": sentence.language,
        "entity_type": sorted({s.type for s in sentence.spans}),
        "spans": [{"start": s.start, "end": s.end, "type": s.type} for s in sentence.spans],
        "corpus": sentence.corpus,
        "split": sentence.split,
    }


def _windows(items: Iterable[Sentence], size: int) -> Iterator[list[Sentence]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


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
) -> IngestReport:
    """Encode ``sentences`` with every encoder and upsert one point per sentence.

    Args:
        sentences: The stream (from :func:`entivec.loaders.load`).
        store: Where to write; its schema is created or checked first.
        encoders: ``(spec, loaded encoder)`` pairs; each fills its named vector.
        batch_size: Points per upsert (64-256 suits both engines).
        window: Sentences encoded together, the unit a resumed run skips or redoes.
        resume: Skip windows whose points are all stored with every requested vector
            (see the module docstring); ``False`` re-encodes everything and rewrites
            the requested vectors of stored points.
        show_progress: Show a progress bar; by default when logging is at INFO or lower.
        total: Number of sentences, for the progress bar.

    Raises:
        SchemaMismatchError: The store's vectors differ from the encoders'.
    """
    from tqdm.auto import tqdm

    if batch_size < 1 or window < batch_size:
        raise EntivecError(
            f"expected 1 <= batch_size <= window, got batch_size={batch_size}, window={window}"
        )
    for spec, _ in encoders:
        if spec.embeds != "sentence":
            raise EntivecError(
                f"encoder {spec.name!r} embeds entity mentions; this ingestion writes one "
                "point per sentence, so pass sentence encoders only"
            )
    store.ensure_schema([VectorSchema(s.vector, s.size, s.distance) for s, _ in encoders])
    if show_progress is None:
        show_progress = logging.getLogger("entivec").getEffectiveLevel() <= logging.INFO
    report = IngestReport()
    pending: queue.Queue[tuple[str, list[PointRecord]] | None] = queue.Queue(
        maxsize=2 * window // batch_size + 1
    )
    failure: list[BaseException] = []

    def write() -> None:
        while (job := pending.get()) is not None:
            if failure:
                continue  # drain so the producer never blocks
            action, points = job
            try:
                if action == "upsert":
                    store.upsert(points)
                else:
                    store.update_vectors(points)
                bar.update(len(points))  # the bar counts stored sentences, not queued ones
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

    bar = tqdm(total=total, unit="sent", desc="ingest", disable=not show_progress)
    writer = threading.Thread(target=write, name="entivec-upsert", daemon=True)
    writer.start()
    try:
        for chunk in _windows(sentences, window):
            if failure:
                break
            ids = [point_id(s.corpus, s.id) for s in chunk]
            if len(set(ids)) != len(ids):
                seen = [s.id for s in chunk]
                dup = next(i for i in seen if seen.count(i) > 1)
                raise EntivecError(f"sentence id {dup!r} occurs twice in one corpus")
            report.sentences += len(chunk)
            names = [spec.vector for spec, _ in encoders]
            present = store.existing(ids)
            complete = store.existing(ids, vectors=names) if resume and present else set()
            log.debug(
                "window of %d sentences: %d stored, %d complete",
                len(chunk),
                len(present),
                len(complete),
            )
            if len(complete) == len(ids):
                report.skipped += len(chunk)
                bar.update(len(chunk))
                continue
            texts = [s.text for s in chunk]
            vectors = {spec.vector: encoder.embed_passages(texts) for spec, encoder in encoders}
            for start in range(0, len(chunk), batch_size):
                rows = range(start, min(start + batch_size, len(chunk)))
                records = [
                    PointRecord(
                        ids[row],
                        {name: matrix[row].tolist() for name, matrix in vectors.items()},
                        sentence_payload(chunk[row]),
                    )
                    for row in rows
                    if ids[row] not in complete
                ]
                # a stored point gains or renews only these vectors: the vectors other
                # plugins wrote stay, and nothing is encoded twice
                new = [r for r in records if r.id not in present]
                old = [r for r in records if r.id in present]
                if new:
                    pending.put(("upsert", new))
                if old:
                    pending.put(("update", old))
                report.updated += len(old)
                report.skipped += len(rows) - len(records)
                bar.update(len(rows) - len(records))
            report.encoded += len(chunk) - len(complete)
    finally:
        pending.put(None)
        writer.join()
        bar.close()
    if failure:
        raise failure[0]
    store.finish()
    report.points = store.count()
    return report
