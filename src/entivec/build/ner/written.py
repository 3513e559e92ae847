"""Corpus sentences as people write them: the tokens detokenised by Moses' rules for the
language ("Paris ." -> "Paris.", "« Berlin »" -> "«Berlin»"), each token's characters
located in the written text so gold spans carry over to character offsets.

The adapters learn from these forms beside the corpus's own, and ``entivec eval written``
measures them, so that written text is read as well as pre-tokenised text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from entivec.records import Sentence, Span

# Moses has rules for these; other languages get the generic ones, which suit Latin and
# Cyrillic scripts
MOSES_LANGUAGES = frozenset(
    {"cs", "de", "en", "es", "fi", "fr", "ga", "hu", "it", "nl", "pl", "ru"}
)


@dataclass(frozen=True)
class Written:
    """A sentence as written, with the character offsets of each corpus token in it."""

    text: str
    offsets: tuple[tuple[int, int], ...]

    def char_span(self, span: Span) -> tuple[int, int]:
        """Character offsets ``[start, end)`` of a token span."""
        return self.offsets[span.start][0], self.offsets[span.end - 1][1]


@lru_cache(maxsize=32)
def _detokenizer(language: str) -> Any:
    from sacremoses import MosesDetokenizer

    return MosesDetokenizer(lang=language if language in MOSES_LANGUAGES else "en")


def written_form(tokens: Sequence[str], language: str) -> Written | None:
    """``tokens`` detokenised for ``language``; ``None`` when a token cannot be found in
    order in the result (Moses rewrote it), so no span can be trusted."""
    text = _detokenizer(language).detokenize(list(tokens))
    offsets = []
    cursor = 0
    for token in tokens:
        start = text.find(token, cursor)
        if start < 0 or text[cursor:start].strip():
            return None
        offsets.append((start, start + len(token)))
        cursor = start + len(token)
    return Written(text, tuple(offsets))


def written_sentence(sentence: Sentence) -> Sentence | None:
    """``sentence`` as written, keeping its tokens (so its spans stay valid) and their
    offsets in the written text; ``None`` when it cannot be detokenised faithfully."""
    import dataclasses

    found = written_form(sentence.tokens, sentence.language)
    if found is None:
        return None
    return dataclasses.replace(sentence, written=found.text, offsets=found.offsets)


def as_written_words(sentence: Sentence) -> Sentence | None:
    """``sentence`` as a user's written text reaches the adapters: detokenised, then cut
    into words again (:func:`entivec.annotation.words.words`), its gold spans carried over
    by characters. A span whose edge falls inside a word starts or ends with that word.
    ``None`` when the sentence cannot be detokenised faithfully."""
    from entivec.annotation.words import words

    found = written_form(sentence.tokens, sentence.language)
    if found is None:
        return None
    cut = words(found.text)
    spans = []
    for span in sentence.spans:
        first, last = found.char_span(span)
        inside = [i for i, (_, start, end) in enumerate(cut) if start < last and end > first]
        if inside:
            spans.append(Span(inside[0], inside[-1] + 1, span.type))
    return Sentence(
        sentence.id,
        tuple(w for w, _, _ in cut),
        sentence.language,
        tuple(spans),
        sentence.corpus,
        sentence.split,
        sentence.source,
        written=found.text,
        offsets=tuple((start, end) for _, start, end in cut),
        span_source=sentence.span_source,
    )
