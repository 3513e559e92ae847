"""Mentions as encoders read them: a text and one span of it.

Loaders yield :class:`~entivec.records.Sentence` records with spans; ingestion turns each
span into a :class:`Mention`, and a mention encoder receives its :class:`SpanInput`. A
query (a type's name or description) is read as if the whole query were one span.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from entivec.errors import InvalidArgumentError
from entivec.records import Sentence, Span

# A token put in front of every text a decoder reads, because its first position is an
# attention sink: measured on CrossNER with SmolLM2-135M, a type name fed alone sits at
# position 0, where value vectors are degenerate (norm ~2.6 against ~15 in context).
# SmolLM2's <|endoftext|> (id 0); the GGUF metadata's BOS, <|im_start|>, is a chat marker.
PREFIX_TOKEN = "<|endoftext|>"


@dataclass(frozen=True, slots=True)
class SpanInput:
    """A text and one span of it, as mention encoders receive them.

    Attributes:
        text: The whole text the encoder reads (a sentence, or a query).
        end: Character offset one past the span's last character.
        start: Character offset of the span's first character (``None`` for a query
            embedded as if it were one span).
        label: The span's annotated type, when known. The ``entity`` encoder never reads
            it; the ``demo`` encoder embeds it, since a demonstration shows its answer.
    """

    text: str
    end: int
    start: int | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """One annotated mention of a corpus sentence."""

    sentence: Sentence
    span: Span

    @property
    def input(self) -> SpanInput:
        start, end = self.sentence.char_offsets(self.span)
        return SpanInput(self.sentence.text, end, start, self.span.type)

    @property
    def text(self) -> str:
        start, end = self.sentence.char_offsets(self.span)
        return self.sentence.text[start:end]


def mentions_of(sentences: Iterable[Sentence]) -> list[Mention]:
    """Every annotated span of ``sentences``, in corpus order."""
    return [Mention(sentence, span) for sentence in sentences for span in sentence.spans]


def last_token_index(item: SpanInput, offsets: Sequence[tuple[int, int]]) -> int:
    """Index of the last token that starts before ``item.end``.

    ``offsets`` are the character offsets of the prefixed token sequence (the prefix
    token first, at ``(0, 0)``). Byte-level BPE tokens carry their leading space, so
    the token after the span starts exactly at ``item.end``.

    Raises:
        InvalidArgumentError: ``item.end`` is not inside the text.
    """
    if not 0 < item.end <= len(item.text):
        raise InvalidArgumentError(f"span end {item.end} is outside {item.text!r}")
    return max(i for i, (start, _end) in enumerate(offsets) if i == 0 or start < item.end)


def query_input(description: str) -> SpanInput:
    """A type name or description, embedded as if it were one span."""
    return SpanInput(description, len(description))
