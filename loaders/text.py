"""Plain text corpora: one sentence per line, no annotations.

Tokens are the line's whitespace-separated words; blank lines are skipped (they hold no
sentence). A sentence's id is the file's name and the line number, so the same line
always becomes the same point. For knowledge bases and parallel text such as Tatoeba's
``tatoeba.deu-eng.eng`` (the language comes from ``--language``: such names say two).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from entivec.loaders.base import (
    LoadStats,
    check_token,
    language_from_path,
    numbered_lines,
    split_from_path,
)

from entivec.records import Sentence


def load_text(
    path: Path, *, language: str | None, corpus: str, stats: LoadStats
) -> Iterator[Sentence]:
    """Stream a text file, one sentence per non-blank line."""
    language = language or language_from_path(path)
    split = split_from_path(path)
    key = f"{path.parent.name}/{path.name}"
    for number, line in numbered_lines(path):
        tokens = tuple(line.split())
        if not tokens:
            continue
        for token in tokens:
            check_token(token, path, number)
        stats.sentences += 1
        yield Sentence(f"{key}:{number}", tokens, language, (), corpus, split, line=number)
