"""What a window of sentences needs written, given what the store holds.

Every point carries a ``fingerprint`` (sha256 of the rest of its payload: text, spans,
language, corpus, split, source) and ``encoded_by``, the version of the encoder behind
each of its named vectors. A window's points are looked up before it is encoded:

- stored with the same fingerprint and every requested vector at the same version:
  skipped;
- stored with the same fingerprint, but a requested vector missing or from another
  encoder version: that vector is set with ``update_vectors`` (the payload and the
  vectors other plugins wrote stay);
- anything else (new, or its content changed since it was stored) is written whole.

A window with anything to do is encoded whole (the encoder sorts it by length, so little
is padded), so each sentence has the same batch-mates as in a clean run.

**What is removed.** The ids each file yields are recorded (after annotation, so
predicted mentions count). After an ingestion that read its files to the end, the points
of those files that the files no longer yield are deleted, for the kinds of point the
run wrote; points of the other kind that no longer match their file are counted
(``out_of_date``), not touched: only the plugins that wrote them can redo them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from entivec.errors import CorpusFormatError
from entivec.ingest.points import (
    BOOKKEEPING,
    encoder_version,
    fingerprint,
    mention_payload,
    sentence_id_of,
    sentence_payload,
    stamped,
)
from entivec.ingest.report import IngestReport
from entivec.records import Sentence, Span
from entivec.registry import Encoder, EncoderSpec
from entivec.store import PointRecord, SparseVector, Store, Vector, mention_point_id

if TYPE_CHECKING:
    from entivec.annotation.annotator import Annotator
    from entivec.registry import MentionEncoder

log = logging.getLogger(__name__)

Kind = Literal["sentence", "mention"]
# what annotation gave a sentence point, read back to skip annotating it again
ANNOTATIONS = (
    "annotation_key",
    "language",
    "language_source",
    "language_confidence",
    "spans",
    "span_source",
    "ner_adapter",
)


@dataclass
class FileIds:
    """The point ids one file yields, by kind."""

    sentences: set[str] = field(default_factory=set)
    mentions: set[str] = field(default_factory=set)


@dataclass
class Unit:
    """Points of one window for one kind of encoder (sentence or mention)."""

    kind: Kind
    ids: list[str]
    payloads: list[dict[str, Any]]
    versions: dict[str, str]  # vector name -> encoder version
    # vector names -> matrices (dense) or lists of SparseVector
    encode: Callable[[list[str]], dict[str, Any]]


@dataclass
class Job:
    """One write for the writer thread."""

    action: Literal["upsert", "update"]
    points: list[PointRecord]
    sentences_done: int = 0  # the window's sentences, on its last job


def units_of(chunk: list[Sentence], encoders: Sequence[tuple[EncoderSpec, Encoder]]) -> list[Unit]:
    from entivec.mentions import mentions_of

    units = []
    sentence_encoders = [(s, e) for s, e in encoders if s.embeds == "sentence"]
    mention_encoders = [(s, e) for s, e in encoders if s.embeds == "mention"]
    if sentence_encoders:
        texts = [s.text for s in chunk]
        sentence_by_vector = {spec.vector: encoder for spec, encoder in sentence_encoders}
        units.append(
            Unit(
                "sentence",
                [sentence_id_of(s) for s in chunk],
                [stamped(sentence_payload(s)) for s in chunk],
                {s.vector: encoder_version(s, e) for s, e in sentence_encoders},
                lambda names: {n: sentence_by_vector[n].embed_passages(texts) for n in names},
            )
        )
    if mention_encoders:
        mentions = mentions_of(chunk)
        inputs = [m.input for m in mentions]
        mention_by_vector = {spec.vector: encoder for spec, encoder in mention_encoders}
        units.append(
            Unit(
                "mention",
                [
                    mention_point_id(m.sentence.corpus, m.sentence.source, m.sentence.id, m.span)
                    for m in mentions
                ],
                [stamped(mention_payload(m)) for m in mentions],
                {s.vector: encoder_version(s, e) for s, e in mention_encoders},
                lambda names: {
                    n: cast("MentionEncoder", mention_by_vector[n]).embed_mentions(inputs)
                    for n in names
                },
            )
        )
    return units


def annotate_changed(
    chunk: list[Sentence], annotator: Annotator, store: Store, report: IngestReport
) -> list[Sentence]:
    """``chunk`` annotated, where a sentence's stored point was annotated from the same
    sentence by the same models (equal :meth:`~Annotator.key`) its annotations are read
    back instead: an unchanged document is neither routed nor tagged again."""
    ids = [sentence_id_of(s) for s in chunk]
    keys = [annotator.key(s) for s in chunk]
    stored = store.payloads(ids, ANNOTATIONS) if ids else {}
    sentences = list(chunk)
    done = set()
    for i, (point, key) in enumerate(zip(ids, keys, strict=True)):
        have = stored.get(point)
        if have is None or have.get("annotation_key") != key:
            continue
        sentences[i] = dataclasses.replace(
            chunk[i],
            language=have.get("language") or "",
            language_source=have.get("language_source") or "",
            language_confidence=have.get("language_confidence"),
            spans=tuple(Span(d["start"], d["end"], d["type"]) for d in have.get("spans") or ()),
            span_source=have.get("span_source") or "",
            ner_adapter=have.get("ner_adapter") or "",
            annotation_key=key,
        )
        done.add(i)
    report.annotated += len(chunk) - len(done)
    report.annotations_reused += len(done)
    return annotator(sentences, done, keys)


def refuse_repeated_ids(chunk: list[Sentence]) -> None:
    seen: set[str] = set()
    for sentence in chunk:
        sid = sentence_id_of(sentence)
        if sid in seen:
            raise CorpusFormatError(
                sentence.location or sentence.source,
                sentence.line or None,
                f"sentence id {sentence.id!r} is used twice in one file",
            )
        seen.add(sid)


def plan_unit(
    unit: Unit, store: Store, resume: bool, batch_size: int, report: IngestReport
) -> tuple[list[Job], int]:
    """The writes one window's points need (see the module docstring), encoded.

    Returns:
        The jobs, and the number of rows written or updated.
    """
    stored = store.payloads(unit.ids, BOOKKEEPING) if unit.ids else {}
    whole: list[int] = []
    partial: dict[int, list[str]] = {}
    for row, point in enumerate(unit.ids):
        have = stored.get(point)
        if have is None or have.get("fingerprint") != unit.payloads[row]["fingerprint"]:
            whole.append(row)
            report.changed += have is not None
            continue
        encoded_by = have.get("encoded_by") or {}
        missing = [
            name
            for name, version in unit.versions.items()
            if not resume or encoded_by.get(name) != version
        ]
        if missing:
            partial[row] = missing
    log.debug(
        "window of %d %s points: %d to write, %d to update",
        len(unit.ids),
        unit.kind,
        len(whole),
        len(partial),
    )
    if not whole and not partial:
        return [], 0
    needed = (
        list(unit.versions) if whole else sorted({n for names in partial.values() for n in names})
    )
    vectors = unit.encode(needed)
    rewrite = set(whole)
    jobs: list[Job] = []
    for start in range(0, len(unit.ids), batch_size):
        rows = range(start, min(start + batch_size, len(unit.ids)))
        new = [
            PointRecord(
                unit.ids[row],
                {name: _row(vectors[name], row) for name in unit.versions},
                {**unit.payloads[row], "encoded_by": dict(unit.versions)},
            )
            for row in rows
            if row in rewrite
        ]
        old = [
            PointRecord(
                unit.ids[row],
                {name: _row(vectors[name], row) for name in partial[row]},
                {
                    "encoded_by": {
                        **(stored[unit.ids[row]].get("encoded_by") or {}),
                        **{name: unit.versions[name] for name in partial[row]},
                    }
                },
            )
            for row in rows
            if row in partial
        ]
        jobs += [Job("upsert", new)] if new else []
        jobs += [Job("update", old)] if old else []
        report.updated += len(old)
        if unit.kind == "mention":
            report.mentions += len(new) + len(old)
    return jobs, len(whole) + len(partial)


def _row(vectors: Any, row: int) -> Vector:
    """Row ``row`` of an encoder's output: a matrix row as a list, or a sparse vector."""
    value = vectors[row]
    return value if isinstance(value, SparseVector) else value.tolist()


def store_job(store: Store, job: Job) -> None:
    if job.action == "upsert":
        store.upsert(job.points)
        return
    # vectors first: a run killed in between re-encodes, it never trusts a vector
    # that was not written
    store.update_vectors(job.points)
    groups: dict[str, list[str]] = {}
    for point in job.points:
        groups.setdefault(json.dumps(point.payload, sort_keys=True), []).append(point.id)
    for payload, ids in groups.items():
        store.set_payload(ids, json.loads(payload))


def out_of_date(chunk: list[Sentence], store: Store, kinds: set[str]) -> int:
    """Stored points of the kind this run does not write whose content no longer matches."""
    expected: dict[str, str] = {}
    if "sentence" not in kinds:
        for sentence in chunk:
            expected[sentence_id_of(sentence)] = fingerprint(sentence_payload(sentence))
    if "mention" not in kinds:
        from entivec.mentions import mentions_of

        for mention in mentions_of(chunk):
            sentence = mention.sentence
            point = mention_point_id(sentence.corpus, sentence.source, sentence.id, mention.span)
            expected[point] = fingerprint(mention_payload(mention))
    if not expected:
        return 0
    stored = store.payloads(list(expected), ["fingerprint"])
    return sum(1 for point, have in stored.items() if have.get("fingerprint") != expected[point])


def remember(seen: dict[tuple[str, str], FileIds], chunk: list[Sentence]) -> None:
    """Record the ids a window's sentences and mentions have, under their files (whether
    or not this run writes that kind: the other kind's stale points are counted)."""
    for sentence in chunk:
        ids = seen.setdefault((sentence.corpus, sentence.source), FileIds())
        ids.sentences.add(sentence_id_of(sentence))
        for span in sentence.spans:
            ids.mentions.add(mention_point_id(sentence.corpus, sentence.source, sentence.id, span))


def remove_stale(
    store: Store, seen: dict[tuple[str, str], FileIds], kinds: set[str], report: IngestReport
) -> None:
    """Delete the points of the files read that the files no longer yield."""
    for (corpus, source), ids in seen.items():
        for kind, keep in (("sentence", ids.sentences), ("mention", ids.mentions)):
            where = {"corpus": corpus, "source": source, "kind": kind}
            stale = [point for point in store.ids(where) if point not in keep]
            if kind in kinds:
                if stale:
                    log.info("removing %d points that %s no longer holds", len(stale), source)
                store.delete(stale)
                report.removed += len(stale)
            else:
                report.out_of_date += len(stale)
