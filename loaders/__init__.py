"""Corpus loaders: stream annotated files into :class:`~entivec.records.Sentence` records.

Loaders are registered by name (``wikiann``, ``conll``, ``jsonl``, ``text`` are built in) in
:data:`entivec.registry.REGISTRY`; :func:`load` streams several files through one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from entivec.loaders.base import LoadStats
from entivec.loaders.jsonl import load_jsonl
from entivec.loaders.text import load_text
from entivec.loaders.tsv import load_conll, load_wikiann

from entivec.errors import CorpusFormatError, CorpusNotFoundError
from entivec.records import Sentence

if TYPE_CHECKING:
    from entivec.registry import Registry

__all__ = ["LoadStats", "load", "load_conll", "load_jsonl", "load_text", "load_wikiann"]


def load(
    format: str,
    paths: Iterable[str | Path],
    *,
    language: str | None = None,
    corpus: str | None = None,
    limit: int | None = None,
    stats: LoadStats | None = None,
) -> Iterator[Sentence]:
    """Stream the sentences of ``paths`` read as ``format``.

    Args:
        format: A registered loader name (``wikiann``, ``conll``, ``jsonl``, ...).
        paths: Corpus files.
        language: Language of every sentence; by default taken from each path.
        corpus: Corpus name stored in the payload; defaults to ``format``.
        limit: Stop after this many sentences in all.
        stats: Filled with counts as the stream is consumed.

    Raises:
        UnknownFormatError: ``format`` is not registered.
        CorpusFormatError: A line is malformed, or a sentence's language is unknown.
    """
    from entivec.registry import get_registry

    loader = get_registry().loader(format)
    stats = stats if stats is not None else LoadStats()
    emitted = 0
    if limit is not None and limit <= 0:
        return
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise CorpusNotFoundError(f"{path}: no such corpus file")
        for sentence in loader(path, language=language, corpus=corpus or format, stats=stats):
            if not sentence.language:
                raise CorpusFormatError(
                    str(path),
                    1,
                    "cannot tell the language from the path (expected a folder or file named "
                    "like 'de' or 'en'); pass language='xx' (CLI: --language xx)",
                )
            yield sentence
            emitted += 1
            if limit is not None and emitted >= limit:
                return  # before the loader reads (and counts) one more


def register(registry: Registry) -> None:
    """Entry point: the built-in corpus formats."""
    registry.add_loader("wikiann", load_wikiann)
    registry.add_loader("conll", load_conll)
    registry.add_loader("jsonl", load_jsonl)
    registry.add_loader("text", load_text)
