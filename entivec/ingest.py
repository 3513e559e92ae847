"""Ingestion: sentences in, points out, resumable.

Sentences are cut into fixed windows in stream order (1,024 by default). Before a
window is encoded, its point ids (uuid5 of corpus, sentence id) are looked up: a window
whose points are all stored is skipped; any other window is encoded whole (the
encoder sorts it by length, so little is padded) and upserted in batches of 128. So a
run that was killed and is started again encodes only what is missing, each sentence
with the same batch-mates as before, and ends with the same points, ids, payloads and
vectors as one clean run. A writer thread stores window *n* while the encoder works
on window *n + 1*.

Sentence encoders give one point per sentence; mention encoders (``embeds="mention"``,
the ``entity`` plugin) one point per annotated span, id uuid5 of (corpus, sentence id,
span), in the same window as its sentence.

A point already stored without some of the requested vectors (a collection ingested
with ``e5``, now ingested with ``e5_xling``) gains them through ``update_vectors``: its
payload and the vectors other plugins wrote stay as they are.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, cast

from entivec.errors import EntivecError
from entivec.records import Sentence
from entivec.registry import Encoder, EncoderSpec
from entivec.store import PointRecord, Store, VectorSchema, point_id

if TYPE_CHECKING:
    import numpy as np

    from entivec.mentions import Mention
    from entivec.registry import MentionEncoder

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
    mentions: int = 0

    def __str__(self) -> str:
        text = (
            f"{self.sentences} sentences: {self.encoded} encoded and stored, {self.skipped} "
            f"already stored; the store holds {self.points} points"
        )
        if self.mentions:
            text += f"; {self.mentions} mention points written"
        if self.updated:
            text += f" ({self.updated} stored points gained the new vectors)"
        return text


def sentence_payload(sentence: Sentence) -> dict[str, Any]:
    """The payload of a sentence point (the schema in the README, "What gets stored")."""
    return {
        "text": sentence.text,
        "sentence_id": sentence.id,
        "language": sentence.language,
        "entity_type": sorted({s.type for s in sentence.spans}),
        "spans": [{"start": s.start, "end": s.end, "type": s.type} for s in sentence.spans],
        "corpus": sentence.corpus,
        "split": sentence.split,
    }


def mention_payload(mention: Mention) -> dict[str, Any]:
    """The payload of a mention point: the mention, its type, and where it is."""
    sentence, span = mention.sentence, mention.span
    start, end = sentence.char_offsets(span)
    return {
        "text": mention.text,
        "sentence_text": sentence.text,
        "sentence_id": sentence.id,
        "language": sentence.language,
        "entity_type": span.type,
        "span": {"start": start, "end": end, "token_start": span.start, "token_end": span.end},
        "corpus": sentence.corpus,
        "split": sentence.split,
    }


@dataclass
class _Unit:
    """Points of one window for one kind of encoder (sentence or mention)."""

    ids: list[str]
    payload: Callable[[int], dict[str, Any]]
    vectors: list[str]
    encode: Callable[[], dict[str, np.ndarray]]
    counts_sentences: bool
    mentions: bool


def _units(chunk: list[Sentence], encoders: Sequence[tuple[EncoderSpec, Encoder]]) -> list[_Unit]:
    from entivec.mentions import mentions_of

    units = []
    sentence_encoders = [(s, e) for s, e in encoders if s.embeds == "sentence"]
    mention_encoders = [(s, e) for s, e in encoders if s.embeds == "mention"]
    if sentence_encoders:
        texts = [s.text for s in chunk]
        units.append(
            _Unit(
                [point_id(s.corpus, s.id) for s in chunk],
                lambda row: sentence_payload(chunk[row]),
                [spec.vector for spec, _ in sentence_encoders],
                lambda: {s.vector: e.embed_passages(texts) for s, e in sentence_encoders},
                counts_sentences=True,
                mentions=False,
            )
        )
    if mention_encoders:
        mentions = mentions_of(chunk)
        inputs = [m.input for m in mentions]
        units.append(
            _Unit(
                [
                    point_id(m.sentence.corpus, m.sentence.id, (m.span.start, m.span.end))
                    for m in mentions
                ],
                lambda row: mention_payload(mentions[row]),
                [spec.vector for spec, _ in mention_encoders],
                lambda: {
                    s.vector: cast("MentionEncoder", e).embed_mentions(inputs)
                    for s, e in mention_encoders
                },
                counts_sentences=not sentence_encoders,
                mentions=True,
            )
        )
    return units


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
    """Encode ``sentences`` with every encoder and upsert their points.

    Sentence encoders fill one point per sentence, mention encoders one point per
    annotated span.

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
    store.ensure_schema([VectorSchema(s.vector, s.size, s.distance) for s, _ in encoders])
    if show_progress is None:
        show_progress = logging.getLogger("entivec").getEffectiveLevel() <= logging.INFO
    report = IngestReport()
    pending: queue.Queue[tuple[str, list[PointRecord], int] | None] = queue.Queue(
        maxsize=2 * window // batch_size + 1
    )
    failure: list[BaseException] = []

    def write() -> None:
        while (job := pending.get()) is not None:
            if failure:
                continue  # drain so the producer never blocks
            action, points, sentences_done = job
            try:
                if action == "upsert":
                    store.upsert(points)
                else:
                    store.update_vectors(points)
                bar.update(sentences_done)  # the bar counts stored sentences, not queued ones
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

    bar = tqdm(total=total, unit="sent", desc="ingest", disable=not show_progress)
    writer = threading.Thread(target=write, name="entivec-upsert", daemon=True)
    writer.start()
    try:
        for chunk in _windows(sentences, window):
            if failure:
                break
            seen_ids = [s.id for s in chunk]
            if len(set(seen_ids)) != len(seen_ids):
                dup = next(i for i in seen_ids if seen_ids.count(i) > 1)
                raise EntivecError(f"sentence id {dup!r} occurs twice in one corpus")
            report.sentences += len(chunk)
            for unit in _units(chunk, encoders):
                _queue_unit(unit, len(chunk), store, resume, batch_size, pending, report, bar)
    finally:
        pending.put(None)
        writer.join()
        bar.close()
    if failure:
        raise failure[0]
    store.finish()
    report.points = store.count()
    return report


def _queue_unit(
    unit: _Unit,
    sentences: int,
    store: Store,
    resume: bool,
    batch_size: int,
    pending: queue.Queue[tuple[str, list[PointRecord], int] | None],
    report: IngestReport,
    bar: Any,
) -> None:
    """Encode one window's points unless all are complete, and queue their writes.

    The progress bar and the report count sentences: a sentence unit counts each of its
    points; a mention unit that stands for the window (no sentence encoder) counts the
    window's ``sentences`` when its last batch is stored, and nothing otherwise.
    """
    ids = unit.ids
    present = store.existing(ids) if ids else set()
    complete = store.existing(ids, vectors=unit.vectors) if resume and present else set()
    log.debug("window of %d points: %d stored, %d complete", len(ids), len(present), len(complete))
    if len(complete) == len(ids):
        if unit.counts_sentences:
            report.skipped += sentences
            bar.update(sentences)
        return
    vectors = unit.encode()
    jobs: list[tuple[str, list[PointRecord], int]] = []
    for start in range(0, len(ids), batch_size):
        rows = range(start, min(start + batch_size, len(ids)))
        records = [
            PointRecord(
                ids[row],
                {name: matrix[row].tolist() for name, matrix in vectors.items()},
                unit.payload(row),
            )
            for row in rows
            if ids[row] not in complete
        ]
        # a stored point gains or renews only these vectors: the vectors other
        # plugins wrote stay, and nothing is encoded twice
        new = [r for r in records if r.id not in present]
        old = [r for r in records if r.id in present]
        per_point = 1 if unit.counts_sentences and not unit.mentions else 0
        for action, points in (("upsert", new), ("update", old)):
            if points:
                jobs.append((action, points, per_point * len(points)))
        report.updated += len(old)
        if unit.mentions:
            report.mentions += len(records)
        elif unit.counts_sentences:
            report.skipped += len(rows) - len(records)
            bar.update(len(rows) - len(records))
    if unit.counts_sentences:
        if unit.mentions:
            report.encoded += sentences
            action, points, _ = jobs[-1]
            jobs[-1] = (action, points, sentences)
        else:
            report.encoded += len(ids) - len(complete)
    for job in jobs:
        pending.put(job)
