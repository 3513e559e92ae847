"""JSON Lines corpora: one ``{"id", "tokens", "tags" | "spans", "language"}`` per line.

``spans`` items are ``{"start", "end", "type"}`` objects or ``[start, end, type]``
lists over token indices, end exclusive. ``id`` and ``language`` are optional: the
line number and the ``--language`` flag (or the path) stand in for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entivec.loaders.base import (
    LoadStats,
    corpus_key,
    language_from_path,
    numbered_lines,
    split_from_path,
)
from entivec.loaders.iob import decode_iob2, parse_tag

from entivec.errors import CorpusFormatError
from entivec.records import Sentence, Span


def load_jsonl(
    path: Path, *, language: str | None, corpus: str, stats: LoadStats
) -> Iterator[Sentence]:
    """Stream a JSONL corpus file."""
    fallback_language = language or language_from_path(path)
    key = corpus_key(path)
    split = split_from_path(path)
    for number, line in numbered_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusFormatError(
                str(path), number, f"expected a JSON object: {exc.msg}"
            ) from None
        if not isinstance(record, dict):
            raise CorpusFormatError(
                str(path), number, f"expected a JSON object, got {type(record).__name__}"
            )
        tokens = record.get("tokens")
        if (
            not isinstance(tokens, list)
            or not tokens
            or not all(isinstance(t, str) and t.strip() for t in tokens)
        ):
            raise CorpusFormatError(
                str(path), number, 'expected "tokens": a non-empty list of non-empty strings'
            )
        spans, repaired = _spans(record, len(tokens), str(path), number)
        record_language = record.get("language")
        if record_language is not None and not isinstance(record_language, str):
            raise CorpusFormatError(str(path), number, 'expected "language" to be a string')
        sentence_id = record.get("id", number)
        if not isinstance(sentence_id, str | int):
            raise CorpusFormatError(str(path), number, 'expected "id" to be a string or integer')
        stats.sentences += 1
        stats.spans += len(spans)
        stats.repaired_tags += repaired
        yield Sentence(
            id=f"{key}#{sentence_id}",
            tokens=tuple(tokens),
            language=language or record_language or fallback_language,
            spans=tuple(spans),
            corpus=corpus,
            split=split,
        )


def _spans(record: dict[str, Any], length: int, path: str, number: int) -> tuple[list[Span], int]:
    if "tags" in record and "spans" in record:
        raise CorpusFormatError(path, number, 'expected "tags" or "spans", not both')
    if "tags" in record:
        tags = record["tags"]
        if not isinstance(tags, list) or len(tags) != length:
            raise CorpusFormatError(
                path, number, f'expected "tags": a list of {length} IOB2 tags, one per token'
            )
        parsed = [parse_tag(t) if isinstance(t, str) else None for t in tags]
        bad = [t for t, p in zip(tags, parsed, strict=True) if p is None]
        if bad:
            raise CorpusFormatError(
                path, number, f"expected IOB2 tags (O, B-TYPE, I-TYPE), got {bad[0]!r}"
            )
        return decode_iob2([p for p in parsed if p is not None])
    spans: list[Span] = []
    for item in record.get("spans", []):
        if isinstance(item, dict):
            start, end, kind = item.get("start"), item.get("end"), item.get("type")
        elif isinstance(item, list) and len(item) == 3:
            start, end, kind = item
        else:
            start = end = kind = None
        if not (
            isinstance(start, int)
            and isinstance(end, int)
            and isinstance(kind, str)
            and kind
            and 0 <= start < end <= length
        ):
            raise CorpusFormatError(
                path,
                number,
                f"expected a span {{start, end, type}} with 0 <= start < end <= {length}, "
                f"got {item!r}",
            )
        spans.append(Span(start, end, kind))
    return spans, 0
