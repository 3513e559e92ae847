"""IOB2 tags to spans, with seqeval's repair of ill-formed sequences."""

from __future__ import annotations

from collections.abc import Sequence

from entivec.records import Span


def parse_tag(tag: str) -> tuple[str, str] | None:
    """Split ``"B-PER"`` into ``("B", "PER")``; ``"O"`` gives ``("O", "")``; else None.

    Whitespace around the tag and around its type is dropped (``"B-LOC "`` is ``B-LOC``,
    never a type ``"LOC "`` of its own).
    """
    tag = tag.strip()
    if tag == "O":
        return "O", ""
    if len(tag) > 2 and tag[0] in "BI" and tag[1] == "-" and tag[2:].strip():
        return tag[0], tag[2:].strip()
    return None


def decode_iob2(tags: Sequence[tuple[str, str]]) -> tuple[list[Span], int]:
    """Decode parsed IOB2 tags into spans.

    An ``I-X`` that follows ``O``, the start of the sentence, or a tag of another type
    opens a new span, as seqeval's default (non-strict) mode and conlleval do.

    Args:
        tags: ``(prefix, type)`` pairs from :func:`parse_tag`.

    Returns:
        The spans and the number of ``I-`` tags that had to be read as a span start.
    """
    spans: list[Span] = []
    repaired = 0
    start = -1
    current = ""
    for i, (prefix, kind) in enumerate(tags):
        continues = prefix == "I" and start >= 0 and kind == current
        if continues:
            continue
        if start >= 0:
            spans.append(Span(start, i, current))
            start, current = -1, ""
        if prefix == "O":
            continue
        if prefix == "I":
            repaired += 1
        start, current = i, kind
    if start >= 0:
        spans.append(Span(start, len(tags), current))
    return spans, repaired
