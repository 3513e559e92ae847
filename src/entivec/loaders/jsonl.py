"""JSON Lines corpora: one ``{"id", "tokens", "tags" | "spans", "language"}`` per line,
or raw documents, one ``{"id", "text", "language"}`` per line.

``spans`` items are ``{"start", "end", "type"}`` objects or ``[start, end, type]``
lists over token indices, end exclusive; a span listed twice is an error, two spans of
different types over the same tokens are two mentions. ``id`` and ``language`` are
optional: the line number and the ``--language`` flag (or the path) stand in for them.
``true`` and ``false`` are not numbers here (Python would read them as 1 and 0).

A ``text`` record is cut into sentences (:mod:`entivec.annotation.segmentation`), each with the
record's id as its document and its offsets in the text. A ``tokens`` record without
``tags`` or ``spans`` is unannotated (its spans can be predicted); ``"spans": []`` says
it has none.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entivec.annotation.segmentation import bounded_spans
from entivec.errors import CorpusFormatError
from entivec.loaders.base import (
    LoadStats,
    check_token,
    corpus_key,
    excerpt,
    numbered_lines,
    split_from_path,
    written_words,
)
from entivec.loaders.base import language_from_path as path_language
from entivec.loaders.iob import decode_iob2, parse_tag
from entivec.records import Sentence, Span

MAX_TYPE_CHARS = 100


def load_jsonl(
    path: Path,
    *,
    language: str | None,
    corpus: str,
    stats: LoadStats,
    language_from_path: bool = False,
) -> Iterator[Sentence]:
    """Stream a JSONL corpus file.

    A record of ``tokens`` takes its language from the path (``de/train.jsonl``) when
    neither the flag nor the record gives one; a ``text`` record, raw text, only with
    ``language_from_path`` (see :mod:`entivec.loaders.text`).
    """
    named = path_language(path)
    key = corpus_key(path)
    split = split_from_path(path)
    for number, line in numbered_lines(path):
        if not line.strip():
            continue
        record = _record(line, str(path), number)
        record_language = record.get("language")
        if record_language is not None and not isinstance(record_language, str):
            raise CorpusFormatError(str(path), number, 'expected "language" to be a string')
        sentence_id = record.get("id", number)
        if isinstance(sentence_id, bool) or not isinstance(sentence_id, str | int):
            raise CorpusFormatError(
                str(path),
                number,
                f'expected "id" to be a string or integer, got {excerpt(sentence_id)}',
            )
        raw = "text" in record
        fallback = named if language_from_path or not raw else ""
        chosen = language or record_language or fallback
        source = "given" if language or record_language else ("path" if chosen else "")
        if raw:
            shared = Sentence(
                "", (), chosen, (), corpus, split, line=number, language_source=source
            )
            for sentence in _document(record, f"{key}#{sentence_id}", path, number, shared):
                stats.sentences += 1
                yield sentence
            continue
        tokens = record.get("tokens")
        if (
            not isinstance(tokens, list)
            or not tokens
            or not all(isinstance(t, str) and t.strip() for t in tokens)
        ):
            raise CorpusFormatError(
                str(path),
                number,
                'expected "tokens": a non-empty list of non-empty strings, or "text": a document',
            )
        for token in tokens:
            check_token(token, path, number)
        spans, repaired = _spans(record, len(tokens), str(path), number)
        stats.sentences += 1
        stats.spans += len(spans)
        stats.repaired_tags += repaired
        yield Sentence(
            id=f"{key}#{sentence_id}",
            tokens=tuple(tokens),
            language=chosen,
            spans=tuple(spans),
            corpus=corpus,
            split=split,
            line=number,
            language_source=source,
            span_source="gold" if "tags" in record or "spans" in record else "",
        )


def _document(
    record: dict[str, Any], document: str, path: Path, number: int, sentence: Sentence
) -> Iterator[Sentence]:
    """The sentences of a ``text`` record; ``sentence`` carries the fields they share."""
    text = record["text"]
    if not isinstance(text, str) or not text.strip():
        raise CorpusFormatError(
            str(path), number, f'expected "text": a non-empty string, got {excerpt(text)}'
        )
    for other in ("tokens", "tags", "spans"):
        if other in record:
            raise CorpusFormatError(str(path), number, f'expected "text" or "{other}", not both')
    spans = bounded_spans(text, sentence.language or None, lambda _: f"{path}:{number}")
    for index, (start, end) in enumerate(spans):
        tokens, offsets = written_words(text[start:end], path, number)
        yield dataclasses.replace(
            sentence,
            id=f"{document}.{index}",
            tokens=tokens,
            document=document,
            doc_span=(start, end),
            written=text[start:end],
            offsets=offsets,
        )


def _record(line: str, path: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusFormatError(path, number, f"expected a JSON object: {exc.msg}") from None
    except RecursionError:
        raise CorpusFormatError(
            path, number, "expected a JSON object, got one nested too deeply to read"
        ) from None
    if not isinstance(record, dict):
        raise CorpusFormatError(
            path, number, f"expected a JSON object, got {type(record).__name__}"
        )
    try:
        # only an escape can decode to a NUL (a raw one never reaches here): no walk
        # through a record whose line lacks one
        nul = "\\u0000" in line and _holds_nul(record)
    except RecursionError:
        raise CorpusFormatError(
            path, number, "expected a JSON object, got one nested too deeply to read"
        ) from None
    if nul:
        # a raw NUL byte is refused by numbered_lines; the escape \u0000 decodes to one
        raise CorpusFormatError(path, number, "expected text, got a NUL character (\\u0000)")
    return record


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


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
                path, number, f"expected IOB2 tags (O, B-TYPE, I-TYPE), got {excerpt(bad[0])}"
            )
        return decode_iob2([p for p in parsed if p is not None])
    items = record.get("spans", [])
    if not isinstance(items, list):
        raise CorpusFormatError(
            path, number, f'expected "spans": a list of spans, got {excerpt(items)}'
        )
    spans: list[Span] = []
    for item in items:
        span = _span(item, length)
        if span is None:
            raise CorpusFormatError(
                path,
                number,
                f"expected a span {{start, end, type}} with integers 0 <= start < end <= "
                f"{length} and a type of 1 to {MAX_TYPE_CHARS} characters, got {excerpt(item)}",
            )
        if span in spans:
            raise CorpusFormatError(path, number, f"span {excerpt(item)} is listed twice")
        spans.append(span)
    return spans, 0


def _span(item: object, length: int) -> Span | None:
    if isinstance(item, dict):
        start, end, kind = item.get("start"), item.get("end"), item.get("type")
    elif isinstance(item, list) and len(item) == 3:
        start, end, kind = item
    else:
        return None
    if isinstance(start, bool) or isinstance(end, bool):
        return None
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(kind, str)):
        return None
    kind = kind.strip()
    if not 0 < len(kind) <= MAX_TYPE_CHARS or not 0 <= start < end <= length:
        return None
    return Span(start, end, kind)
