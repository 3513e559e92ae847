"""Plain text: raw documents (``text``) or one sentence per line (``lines``).

``text`` reads one document per non-blank line, or the whole file as one document
(``document_per_file=True``), and cuts each document into sentences
(:func:`entivec.annotation.segmentation.sentence_spans`); a sentence keeps its document's id and its
character offsets in it. ``lines`` takes every non-blank line as one sentence, for
knowledge bases and parallel text such as Tatoeba's ``tatoeba.deu-eng.eng``, where a
line is one entry. A sentence keeps its text as written; its words and their offsets
come from :func:`entivec.annotation.words.words`. Neither carries annotations: the
language comes from ``--language``, else from routing. A folder or file named like a
language (``it/notes.txt``) sets it only when asked (``language_from_path``): raw text
is often in several languages whatever its folder says, and routing finds each
sentence's.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

from entivec.annotation.segmentation import bounded_spans, warn_windows, windows
from entivec.loaders.base import (
    LoadStats,
    numbered_lines,
    split_from_path,
    written_words,
)
from entivec.loaders.base import language_from_path as path_language
from entivec.records import Sentence


def _language(path: Path, language: str | None, from_path: bool) -> tuple[str, str]:
    if language:
        return language, "given"
    named = path_language(path) if from_path else ""
    return named, "path" if named else ""


def _where(path: Path, line_of: Callable[[int], int], offset: int) -> str:
    return f"{path}:{line_of(offset)}"


def load_lines(
    path: Path,
    *,
    language: str | None,
    corpus: str,
    stats: LoadStats,
    language_from_path: bool = False,
) -> Iterator[Sentence]:
    """Stream a text file, one sentence per non-blank line (id: file and line number)."""
    language, source = _language(path, language, language_from_path)
    split = split_from_path(path)
    key = path.name  # the source names the folder: a moved folder keeps its ids
    for number, line in numbered_lines(path):
        stripped = line.strip()
        parts = windows(stripped, 0, len(stripped))
        if len(parts) > 1:
            warn_windows(f"{path}:{number}", len(stripped), len(parts))
        for part, (start, end) in enumerate(parts):
            written = stripped[start:end]
            tokens, offsets = written_words(written, path, number)
            if not tokens:
                continue
            stats.sentences += 1
            yield Sentence(
                f"{key}:{number}" if len(parts) == 1 else f"{key}:{number}.{part}",
                tokens,
                language,
                (),
                corpus,
                split,
                line=number,
                language_source=source,
                written=written,
                offsets=offsets,
            )


def load_text(
    path: Path,
    *,
    language: str | None,
    corpus: str,
    stats: LoadStats,
    document_per_file: bool = False,
    language_from_path: bool = False,
) -> Iterator[Sentence]:
    """Stream the sentences of a file of raw documents.

    A sentence's id is its document's (``notes.txt:12``, the file's name and the line,
    or the name alone with ``document_per_file``) and its place in it (``.0``, ``.1``...).
    """
    language, source = _language(path, language, language_from_path)
    split = split_from_path(path)
    key = path.name  # the source names the folder: a moved folder keeps its ids
    documents: Iterable[tuple[str, str, Callable[[int], int]]]
    if document_per_file:
        lines = list(numbered_lines(path))
        starts, at = [], 0
        for _, line in lines:
            starts.append(at)
            at += len(line) + 1
        text = "\n".join(line for _, line in lines)
        documents = [(key, text, lambda offset: bisect_right(starts, offset))]
    else:
        documents = (
            (f"{key}:{number}", line, lambda _offset, n=number: n)  # type: ignore[misc]
            for number, line in numbered_lines(path)
        )
    for document, text, line_of in documents:
        spans = bounded_spans(text, language or None, partial(_where, path, line_of))
        for index, (start, end) in enumerate(spans):
            number = line_of(start)
            tokens, offsets = written_words(text[start:end], path, number)
            if not tokens:
                continue
            stats.sentences += 1
            yield Sentence(
                f"{document}.{index}",
                tokens,
                language,
                (),
                corpus,
                split,
                line=number,
                document=document,
                doc_span=(start, end),
                language_source=source,
                written=text[start:end],
                offsets=offsets,
            )
