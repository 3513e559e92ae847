"""Records shared by loaders, ingestion and the query layer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """An entity mention: tokens ``[start, end)`` of a sentence, with its type."""

    start: int
    end: int
    type: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """One annotated sentence of a corpus.

    Attributes:
        id: Identifier unique within its corpus and split (stable across runs).
        tokens: The tokens, as the corpus gives them.
        language: ISO 639 code (``"en"``), or ``""`` when unknown (a raw sentence before
            routing, or one routing could not place).
        spans: Entity mentions decoded from the corpus tags.
        corpus: Corpus name (``"wikiann"``, ``"crossner-politics"``, ...).
        split: ``"train"``, ``"val"``, ``"dev"``, ``"test"`` or ``""``.
        source: The file it was read from, as :func:`entivec.loaders.load` names it:
            relative to the root it was given, else its folder and name; part of the
            point id, so the ids survive moving the corpus.
        location: The file's absolute path when it was read: which file a ``source``
            name stands for, so that another file of the same name is not mistaken for
            it (:mod:`entivec.ingest.sources`). Not part of the id.
        line: 1-based line where the sentence starts in its file (``0`` when unknown).
        document: For a sentence cut from a raw document, the document's id.
        doc_span: Its character offsets ``[start, end)`` in that document.
        language_source: Where ``language`` came from: ``given`` (a flag or the record),
            ``path``, ``routed``, or a fallback's name; ``""`` when unknown.
        language_confidence: The route's confidence, for a routed language.
        span_source: ``gold`` for spans from the corpus, ``ner`` for predicted ones, ``""``
            for a raw sentence not tagged (yet).
        ner_adapter: The LoRA adapter that predicted the spans.
        written: For written text, the sentence as written (a substring of its document);
            ``""`` for a pre-tokenised corpus, whose text is its tokens joined by spaces.
        offsets: For written text, each token's character offsets ``[start, end)`` in
            :attr:`written`.
        annotation_key: For an annotated sentence, the digest of what it was annotated
            from (:meth:`entivec.annotation.annotator.Annotator.key`).
    """

    id: str
    tokens: tuple[str, ...]
    language: str
    spans: tuple[Span, ...] = field(default=())
    corpus: str = ""
    split: str = ""
    source: str = ""
    location: str = ""
    line: int = 0
    document: str = ""
    doc_span: tuple[int, int] | None = None
    language_source: str = ""
    language_confidence: float | None = None
    span_source: str = ""
    ner_adapter: str = ""
    written: str = ""
    offsets: tuple[tuple[int, int], ...] = ()
    annotation_key: str = ""

    @property
    def text(self) -> str:
        """The sentence as written, or a corpus's tokens joined by single spaces (what the
        sentence encoders see and the payload stores)."""
        return self.written or " ".join(self.tokens)

    def char_offsets(self, span: Span) -> tuple[int, int]:
        """Character offsets ``[start, end)`` of ``span`` in :attr:`text`."""
        if self.offsets:
            return self.offsets[span.start][0], self.offsets[span.end - 1][1]
        start = sum(len(token) + 1 for token in self.tokens[: span.start])
        return start, start + len(" ".join(self.tokens[span.start : span.end]))
