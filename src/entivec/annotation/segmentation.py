"""Raw documents into sentences, with their character offsets.

``sentencex`` (Wikimedia's segmenter, rules for some 240 languages) was chosen over
``pysbd`` by ``entivec eval segmentation``: the same boundary recall within a point on
Tatoeba's six languages and CrossNER's English, a hundred times faster, and maintained
(docs/annotate.md has the table). A document's language is often unknown before its
sentences are routed; English rules then apply, which measured the same as each
language's own on those documents.
"""

from __future__ import annotations

DEFAULT_RULES = "en"


def sentence_spans(text: str, language: str | None = None) -> list[tuple[int, int]]:
    """Character offsets ``[start, end)`` of each sentence of ``text``, spaces trimmed.

    Args:
        text: A document.
        language: Its language code, when known; English rules otherwise.
    """
    import sentencex

    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in sentencex.segment(language or DEFAULT_RULES, text):
        stripped = piece.strip()
        if not stripped:
            continue
        start = text.find(stripped, cursor)
        if start < 0:  # the segmenter returns pieces of the text; never seen otherwise
            start = cursor
        spans.append((start, start + len(stripped)))
        cursor = start + len(stripped)
    return spans
