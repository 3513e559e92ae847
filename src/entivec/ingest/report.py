"""What an ingestion read and did: the validation pass (:func:`survey`) that runs before
anything is written, and the report that ``ingest`` prints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from entivec.errors import CorpusFormatError
from entivec.ingest.points import sentence_id_of
from entivec.records import Sentence
from entivec.store import mention_point_id


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
    annotated: int = 0
    annotations_reused: int = 0
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
        if self.annotated or self.annotations_reused:
            lines.append(
                f"annotated: {self.annotated:,} sentences routed and tagged, "
                f"{self.annotations_reused:,} unchanged (their stored annotations kept)"
            )
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
                sentence.location or sentence.source,
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
                    sentence.location or sentence.source,
                    sentence.line or None,
                    f"the span {span.start}:{span.end} of type {span.type!r} is listed twice",
                )
            mentions.add(mid)
        result.sentences += 1
        result.without_language += not sentence.language
        result.without_gold_spans += sentence.span_source != "gold"
    return result
