"""Corpus loaders: stream annotated files into :class:`~entivec.records.Sentence` records.

Loaders are registered by name (``wikiann``, ``conll``, ``jsonl``, ``text`` are built in) in
:data:`entivec.registry.REGISTRY`; :func:`load` streams several files through one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from entivec.errors import CorpusFormatError, CorpusNotFoundError, InvalidArgumentError
from entivec.languages import language_problem
from entivec.loaders.base import LoadStats
from entivec.loaders.jsonl import load_jsonl
from entivec.loaders.text import load_lines, load_text
from entivec.loaders.tsv import load_conll, load_wikiann
from entivec.records import Sentence

if TYPE_CHECKING:
    from entivec.registry import Registry

__all__ = [
    "LoadStats",
    "load",
    "load_conll",
    "load_jsonl",
    "load_lines",
    "load_text",
    "load_wikiann",
    "source_name",
]


def source_name(path: Path, root: Path | None = None) -> str:
    """How a file is named in its sentences' ``source`` (and so in its point ids): its
    path relative to ``root``, by default its folder's name and its own
    (``de/val.conllu``, ``notes/letters.txt``).

    Names survive moving or re-mounting the corpus. The default is the same whichever
    other files a run reads (so ``de/train.conllu`` ingested alone and with
    ``en/train.conllu`` is one name), and keeps the folder that names a file's language;
    ingestion tells two files of one name apart by where they were read
    (:mod:`entivec.ingest.sources`).

    Raises:
        InvalidArgumentError: ``path`` is not under ``root``.
    """
    if root is None:  # as given, not resolved: a link's target may be named by a hash
        absolute = Path(os.path.abspath(path))
        return f"{absolute.parent.name}/{absolute.name}".lstrip("/")
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InvalidArgumentError(
            f"{path} is not under the root {root}; pass a --root that holds every file"
        ) from None


# formats of raw text, whose path names a language only when asked (load's
# language_from_path); annotated formats always take it from the path
RAW_FORMATS = frozenset({"text", "lines", "jsonl"})


def load(
    format: str,
    paths: Iterable[str | Path],
    *,
    language: str | None = None,
    corpus: str | None = None,
    limit: int | None = None,
    stats: LoadStats | None = None,
    root: str | Path | None = None,
    require_language: bool = True,
    document_per_file: bool = False,
    language_from_path: bool = False,
) -> Iterator[Sentence]:
    """Stream the sentences of ``paths`` read as ``format``.

    Args:
        format: A registered loader name (``wikiann``, ``conll``, ``jsonl``, ...).
        paths: Corpus files.
        language: Language of every sentence; by default taken from each path.
        corpus: Corpus name stored in the payload; defaults to ``format``.
        limit: Stop after this many sentences in all.
        stats: Filled with counts as the stream is consumed.
        root: Sentences' ``source`` is each path relative to this folder (see
            :func:`source_name`); by default its folder's name and its own.
        require_language: Refuse a sentence whose language neither the flag, the record
            nor the path gives; ``False`` leaves it ``""`` for routing.
        document_per_file: Read each file as one document (the ``text`` format).
        language_from_path: Raw text (``text``, ``lines``, ``jsonl`` text records) takes
            the language its folder or file names (``it/notes.txt``); annotated formats
            always do.

    Raises:
        UnknownFormatError: ``format`` is not registered.
        CorpusFormatError: A line is malformed, a sentence's language is unknown or not
            a language code, or a file holds no sentence.
        InvalidArgumentError: ``language`` is not a language code, or a path is outside
            ``root``.
    """
    from entivec.registry import get_registry

    loader = get_registry().loader(format)
    if language is not None and (problem := language_problem(language)):
        raise InvalidArgumentError(f"language: {problem}")
    stats = stats if stats is not None else LoadStats()
    emitted = 0
    if limit is not None and limit <= 0:
        return
    root_path = Path(root) if root is not None else None
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise CorpusNotFoundError(f"{path}: no such corpus file")
        source = source_name(path, root_path)
        location = path.resolve().as_posix()
        in_file = 0
        options: dict[str, object] = {"document_per_file": True} if document_per_file else {}
        if language_from_path and format in RAW_FORMATS:
            options["language_from_path"] = True
        try:
            sentences = loader(
                path, language=language, corpus=corpus or format, stats=stats, **options
            )
        except TypeError:
            if not options:
                raise
            raise InvalidArgumentError(
                f"document_per_file (--document-per-file) applies to the text format, not {format}"
            ) from None
        for sentence in sentences:
            if not sentence.language:
                if require_language:
                    raise CorpusFormatError(
                        str(path),
                        sentence.line or None,
                        "raw text has no language unless given: pass language='xx' (CLI: "
                        "--language xx), or language_from_path=True (--language-from-path) "
                        "for a folder or file named like 'de'"
                        if format in RAW_FORMATS and not language_from_path
                        else "cannot tell the language from the path (expected a folder or "
                        "file named like 'de' or 'en'); pass language='xx' (CLI: --language xx)",
                    )
            elif problem := language_problem(sentence.language):
                raise CorpusFormatError(str(path), sentence.line or None, problem)
            yield dataclasses.replace(sentence, source=source, location=location)
            emitted += 1
            in_file += 1
            if limit is not None and emitted >= limit:
                return  # before the loader reads (and counts) one more
        if not in_file:
            raise CorpusFormatError(
                str(path), None, "expected at least one sentence, got none (an empty file?)"
            )


def register(registry: Registry) -> None:
    """Entry point: the built-in corpus formats."""
    registry.add_loader("wikiann", load_wikiann)
    registry.add_loader("conll", load_conll)
    registry.add_loader("jsonl", load_jsonl)
    registry.add_loader("text", load_text)
    registry.add_loader("lines", load_lines)
