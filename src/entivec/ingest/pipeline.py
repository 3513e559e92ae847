"""Ingestion: sentences in, points out, resumable and in step with the files.

**Ids.** A sentence point's id is the uuid5 of (corpus, source file, sentence id in the
file); a mention point's adds the span and its type, so two types over the same tokens
are two points and two files never share one.

**What is skipped.** Every point carries a ``fingerprint`` (sha256 of the rest of its
payload: text, spans, language, corpus, split, source) and ``encoded_by``, the version of
the encoder behind each of its named vectors. Sentences are cut into fixed windows in
stream order (1,024 by default) and a window's points are looked up before it is encoded:

- stored with the same fingerprint and every requested vector at the same version:
  skipped;
- stored with the same fingerprint, but a requested vector missing or from another
  encoder version: that vector is set with ``update_vectors`` (the payload and the
  vectors other plugins wrote stay);
- anything else (new, or its content changed since it was stored) is written whole.

A window with anything to do is encoded whole (the encoder sorts it by length, so little
is padded), so each sentence has the same batch-mates as in a clean run and a run that
was killed and started again ends with the same ids, payloads and vectors. A writer
thread stores window *n* while the encoder works on window *n + 1*.

**What is removed.** :func:`survey` reads the stream once before anything is written
and refuses an id used twice in a file, naming both lines. Ingestion records the ids
each file yields (after annotation, so predicted mentions count). After an ingestion
that read its files to the end, the points of those files that the files no longer
yield (a sentence was deleted, the lines moved) are deleted, for the kinds of point this
run wrote. So the store after any sequence of ingests of the same files equals a clean
ingest of their final versions. Points of the other kind that no longer match their
file are counted in the report (``out_of_date``), not touched: only the plugins that
wrote them can redo them.

**Raw text.** ``annotate`` (an :class:`entivec.annotation.annotator.Annotator`) fills in each
window's missing languages and spans before its points are planned, so predicted spans
become mention points and enter the fingerprints like gold ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal, cast

from entivec.errors import CorpusFormatError, EntivecError
from entivec.records import Sentence
from entivec.registry import Encoder, EncoderSpec
from entivec.store import (
    PointRecord,
    SparseVector,
    Store,
    Vector,
    VectorSchema,
    mention_point_id,
    sentence_point_id,
)

if TYPE_CHECKING:
    from entivec.mentions import Mention
    from entivec.registry import MentionEncoder

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 128
DEFAULT_WINDOW = 1024
Kind = Literal["sentence", "mention"]
# payload keys that describe how a point was made rather than what it holds
BOOKKEEPING = ("fingerprint", "encoded_by")


@dataclass
class IngestReport:
    """What an ingestion did.

    Attributes:
        sentences: Sentences read.
        encoded: Sentences whose points were written or gained vectors.
        skipped: Sentences whose points were all stored as asked.
        points: Points in the store afterwards.
        updated: Stored points that gained (or renewed) vectors.
        mentions: Mention points written or updated.
        changed: Stored points rewritten because their content changed.
        removed: Points deleted because their file no longer yields them.
        out_of_date: Points of a kind this run did not write that no longer match their
            file (ingest again with the plugins that wrote them).
        load_seconds: Reading, annotating, encoding and writing the points.
        index_seconds: Building the search index once they were written
            (:meth:`entivec.store.Store.finish`; on Qdrant Edge the HNSW graph).
    """

    sentences: int = 0
    encoded: int = 0
    skipped: int = 0
    points: int = 0
    updated: int = 0
    mentions: int = 0
    changed: int = 0
    removed: int = 0
    out_of_date: int = 0
    load_seconds: float = 0.0
    index_seconds: float = 0.0
    languages: dict[str, int] = field(default_factory=dict)
    entity_types: dict[str, int] = field(default_factory=dict)
    adapters: dict[str, int] = field(default_factory=dict)

    def count(self, sentences: Sequence[Sentence]) -> None:
        """Add a window's sentences to the per-language, per-type and per-adapter counts."""
        for sentence in sentences:
            language = sentence.language or "unrouted"
            self.languages[language] = self.languages.get(language, 0) + 1
            for span in sentence.spans:
                self.entity_types[span.type] = self.entity_types.get(span.type, 0) + 1
            if sentence.ner_adapter:
                name = sentence.ner_adapter
                self.adapters[name] = self.adapters.get(name, 0) + 1

    def breakdown(self) -> str:
        """Sentences per language, entities per type, share tagged by each adapter."""

        def listed(counts: dict[str, int]) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))

        lines = [f"languages: {listed(self.languages)}"]
        if self.entity_types:
            lines.append(f"entities: {listed(self.entity_types)}")
        if self.adapters:
            shares = ", ".join(
                f"{name} {count / max(1, self.sentences):.0%}"
                for name, count in sorted(self.adapters.items(), key=lambda kv: -kv[1])
            )
            lines.append(f"tagged by adapter: {shares}")
        return "\n".join(lines)

    def __str__(self) -> str:
        text = (
            f"{self.sentences} sentences: {self.encoded} encoded and stored, {self.skipped} "
            f"already stored; the store holds {self.points} points"
        )
        if self.mentions:
            text += f"; {self.mentions} mention points written"
        if self.updated:
            text += f" ({self.updated} stored points gained the new vectors)"
        if self.changed:
            text += f"; {self.changed} points rewritten because their file changed"
        if self.removed:
            text += f"; {self.removed} points removed that their files no longer hold"
        if self.out_of_date:
            text += (
                f"; {self.out_of_date} points written by other plugins no longer match their "
                "files: ingest the files again with those plugins"
            )
        return (
            text + f" (loaded in {self.load_seconds:.1f} s, indexed in {self.index_seconds:.1f} s)"
        )


@dataclass
class FileIds:
    """The point ids one file yields, by kind."""

    sentences: set[str] = field(default_factory=set)
    mentions: set[str] = field(default_factory=set)


@dataclass
class Survey:
    """What the validation pass found.

    Attributes:
        sentences: Sentences in the stream.
        complete: Every file was read to its end (no limit cut the stream), so points
            its files no longer yield can be removed.
        without_language: Sentences no flag, record or path gave a language (to route).
        without_gold_spans: Sentences from a format without annotations (to tag).
    """

    sentences: int = 0
    complete: bool = True
    without_language: int = 0
    without_gold_spans: int = 0


def survey(sentences: Iterable[Sentence], *, complete: bool) -> Survey:
    """Read the stream once: count it and refuse an id used twice in a file.

    Args:
        sentences: The stream (it is consumed).
        complete: Whether the stream holds its files whole (no ``limit``).

    Raises:
        CorpusFormatError: A sentence id (or a span with its type) occurs twice in a file;
            the message names the file and both lines.
    """
    result = Survey(complete=complete)
    first_line: dict[str, int] = {}
    mentions: set[str] = set()
    current: tuple[str, str] | None = None
    for sentence in sentences:
        key = (sentence.corpus, sentence.source)
        if key != current:  # a file's sentences come together: ids are checked per file
            first_line, mentions, current = {}, set(), key
        sid = sentence_id_of(sentence)
        if sid in first_line:
            earlier = first_line[sid]
            raise CorpusFormatError(
                sentence.source,
                sentence.line or None,
                f"sentence id {sentence.id!r} is used again"
                + (f" (first at line {earlier})" if earlier else "")
                + "; ids must be unique within a file",
            )
        first_line[sid] = sentence.line
        for span in sentence.spans:
            mid = mention_point_id(sentence.corpus, sentence.source, sentence.id, span)
            if mid in mentions:
                raise CorpusFormatError(
                    sentence.source,
                    sentence.line or None,
                    f"the span {span.start}:{span.end} of type {span.type!r} is listed twice",
                )
            mentions.add(mid)
        result.sentences += 1
        result.without_language += not sentence.language
        result.without_gold_spans += sentence.span_source != "gold"
    return result


def sentence_id_of(sentence: Sentence) -> str:
    """The id of a sentence's point."""
    return sentence_point_id(sentence.corpus, sentence.source, sentence.id)


def fingerprint(payload: dict[str, Any]) -> str:
    """The content fingerprint of a payload: sha256 of everything but the bookkeeping."""
    content = {k: v for k, v in payload.items() if k not in BOOKKEEPING}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def sentence_payload(sentence: Sentence) -> dict[str, Any]:
    """The payload of a sentence point (the schema in the README, "What gets stored"),
    without the bookkeeping that ingestion adds."""
    payload = {
        "kind": "sentence",
        "text": sentence.text,
        "sentence_id": sentence.id,
        "language": sentence.language or None,
        "entity_type": sorted({s.type for s in sentence.spans}),
        "spans": [{"start": s.start, "end": s.end, "type": s.type} for s in sentence.spans],
        "corpus": sentence.corpus,
        "split": sentence.split,
        "source": sentence.source,
        **_provenance(sentence),
    }
    if sentence.document and sentence.doc_span is not None:
        payload["doc_id"] = sentence.document
        payload["doc_start"], payload["doc_end"] = sentence.doc_span
    return payload


def _provenance(sentence: Sentence) -> dict[str, Any]:
    """Where the language and the spans came from (the README, "Your own text")."""
    found: dict[str, Any] = {
        "language_source": sentence.language_source or None,
        "span_source": sentence.span_source or None,
    }
    if sentence.language_confidence is not None:
        found["language_confidence"] = sentence.language_confidence
    if sentence.ner_adapter:
        found["ner_adapter"] = sentence.ner_adapter
    return found


def mention_payload(mention: Mention) -> dict[str, Any]:
    """The payload of a mention point: the mention, its type, and where it is."""
    sentence, span = mention.sentence, mention.span
    start, end = sentence.char_offsets(span)
    return {
        "kind": "mention",
        "text": mention.text,
        "sentence_text": sentence.text,
        "sentence_id": sentence.id,
        "language": sentence.language or None,
        "entity_type": span.type,
        "span": {"start": start, "end": end, "token_start": span.start, "token_end": span.end},
        "corpus": sentence.corpus,
        "split": sentence.split,
        "source": sentence.source,
        **_provenance(sentence),
    }


def encoder_version(spec: EncoderSpec, encoder: Encoder) -> str:
    """What identifies the vectors an encoder computes: its ``version`` attribute (the
    built-in plugins give their model file's checksum), else the plugin's name."""
    return f"{spec.name}:{getattr(encoder, 'version', '') or 'unversioned'}"


@dataclass
class _Unit:
    """Points of one window for one kind of encoder (sentence or mention)."""

    kind: Kind
    ids: list[str]
    payloads: list[dict[str, Any]]
    versions: dict[str, str]  # vector name -> encoder version
    # vector names -> matrices (dense) or lists of SparseVector
    encode: Callable[[list[str]], dict[str, Any]]


@dataclass
class _Job:
    """One write for the writer thread."""

    action: Literal["upsert", "update"]
    points: list[PointRecord]
    sentences_done: int = 0  # the window's sentences, on its last job


def _units(chunk: list[Sentence], encoders: Sequence[tuple[EncoderSpec, Encoder]]) -> list[_Unit]:
    from entivec.mentions import mentions_of

    units = []
    sentence_encoders = [(s, e) for s, e in encoders if s.embeds == "sentence"]
    mention_encoders = [(s, e) for s, e in encoders if s.embeds == "mention"]
    if sentence_encoders:
        texts = [s.text for s in chunk]
        sentence_by_vector = {spec.vector: encoder for spec, encoder in sentence_encoders}
        units.append(
            _Unit(
                "sentence",
                [sentence_id_of(s) for s in chunk],
                [sentence_payload(s) for s in chunk],
                {s.vector: encoder_version(s, e) for s, e in sentence_encoders},
                lambda names: {n: sentence_by_vector[n].embed_passages(texts) for n in names},
            )
        )
    if mention_encoders:
        mentions = mentions_of(chunk)
        inputs = [m.input for m in mentions]
        mention_by_vector = {spec.vector: encoder for spec, encoder in mention_encoders}
        units.append(
            _Unit(
                "mention",
                [
                    mention_point_id(m.sentence.corpus, m.sentence.source, m.sentence.id, m.span)
                    for m in mentions
                ],
                [mention_payload(m) for m in mentions],
                {s.vector: encoder_version(s, e) for s, e in mention_encoders},
                lambda names: {
                    n: cast("MentionEncoder", mention_by_vector[n]).embed_mentions(inputs)
                    for n in names
                },
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
    surveyed: Survey | None = None,
    annotate: Callable[[list[Sentence]], list[Sentence]] | None = None,
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
    store.ensure_schema(
        [VectorSchema(s.vector, s.size, s.distance, sparse=s.sparse) for s, _ in encoders]
    )
    if show_progress is None:
        show_progress = logging.getLogger("entivec").getEffectiveLevel() <= logging.INFO
    if total is None and surveyed is not None:
        total = surveyed.sentences
    report = IngestReport()
    started = time.perf_counter()
    pending: queue.Queue[_Job | None] = queue.Queue(maxsize=2 * window // batch_size + 1)
    failure: list[BaseException] = []
    bar = tqdm(total=total, unit="sent", desc="ingest", disable=not show_progress)

    def write() -> None:
        while (job := pending.get()) is not None:
            if failure:
                continue  # drain so the producer never blocks
            try:
                _store(store, job)
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
                chunk = annotate(chunk)
            _refuse_repeated_ids(chunk)
            report.sentences += len(chunk)
            report.count(chunk)
            jobs: list[_Job] = []
            busy = False
            _remember(seen, chunk)
            for unit in _units(chunk, encoders):
                unit_jobs, rows_done = _plan_unit(unit, store, resume, batch_size, report)
                jobs += unit_jobs
                busy = busy or bool(unit_jobs)
                if unit.kind == "sentence":
                    report.encoded += rows_done
                    report.skipped += len(chunk) - rows_done
            if "sentence" not in kinds:
                report.encoded += len(chunk) if busy else 0
                report.skipped += 0 if busy else len(chunk)
            report.out_of_date += _out_of_date(chunk, store, kinds)
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
        _remove_stale(store, seen, kinds, report)
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


def _refuse_repeated_ids(chunk: list[Sentence]) -> None:
    seen: set[str] = set()
    for sentence in chunk:
        sid = sentence_id_of(sentence)
        if sid in seen:
            raise CorpusFormatError(
                sentence.source,
                sentence.line or None,
                f"sentence id {sentence.id!r} is used twice in one file",
            )
        seen.add(sid)


def _plan_unit(
    unit: _Unit, store: Store, resume: bool, batch_size: int, report: IngestReport
) -> tuple[list[_Job], int]:
    """The writes one window's points need (see the module docstring), encoded.

    Returns:
        The jobs, and the number of rows written or updated.
    """
    for payload in unit.payloads:
        payload["fingerprint"] = fingerprint(payload)
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
    jobs: list[_Job] = []
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
        jobs += [_Job("upsert", new)] if new else []
        jobs += [_Job("update", old)] if old else []
        report.updated += len(old)
        if unit.kind == "mention":
            report.mentions += len(new) + len(old)
    return jobs, len(whole) + len(partial)


def _row(vectors: Any, row: int) -> Vector:
    """Row ``row`` of an encoder's output: a matrix row as a list, or a sparse vector."""
    value = vectors[row]
    return value if isinstance(value, SparseVector) else value.tolist()


def _store(store: Store, job: _Job) -> None:
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


def _out_of_date(chunk: list[Sentence], store: Store, kinds: set[str]) -> int:
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


def _remember(seen: dict[tuple[str, str], FileIds], chunk: list[Sentence]) -> None:
    """Record the ids a window's sentences and mentions have, under their files (whether
    or not this run writes that kind: the other kind's stale points are counted)."""
    for sentence in chunk:
        ids = seen.setdefault((sentence.corpus, sentence.source), FileIds())
        ids.sentences.add(sentence_id_of(sentence))
        for span in sentence.spans:
            ids.mentions.add(mention_point_id(sentence.corpus, sentence.source, sentence.id, span))


def _remove_stale(
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
