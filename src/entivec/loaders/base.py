"""What every loader shares: line reading with positions, language and id rules.

Clean-ups every loader applies, the same way: a UTF-8 byte order mark at the start of a
file is dropped (editors on Windows write one; it would end up inside the first token),
and ``\r\n`` line endings read as ``\n``. Everything else that is not text is an error
with its line: bytes that are not UTF-8, a NUL character, a token longer than
:data:`MAX_TOKEN_CHARS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from entivec.errors import CorpusFormatError
from entivec.languages import is_path_language

BOM = "\ufeff"
# No word is this long; such a "token" is a file read in the wrong format, or a blob
# (a 5 MB token cost 1.24 GB of memory in the encoders).
MAX_TOKEN_CHARS = 1000


@dataclass
class LoadStats:
    """Counts a loader keeps while it streams, for the end-of-run report."""

    sentences: int = 0
    spans: int = 0
    repaired_tags: int = 0

    def __str__(self) -> str:
        text = f"{self.sentences} sentences, {self.spans} entity spans"
        if self.repaired_tags:
            text += (
                f", {self.repaired_tags} I- tags without a preceding B- read as span starts"
                " (seqeval's repair)"
            )
        return text


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` one line at a time, without its line ending.

    Bytes are decoded per line so that a bad byte is reported with its line number; a
    byte order mark opening the file is dropped.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise CorpusFormatError(
                    str(path), number, f"expected UTF-8 text, got byte {raw[exc.start]:#04x}"
                ) from None
            if number == 1 and line.startswith(BOM):
                line = line[len(BOM) :]
            if "\x00" in line:
                raise CorpusFormatError(
                    str(path),
                    number,
                    f"expected text, got a NUL character at column {line.index(chr(0)) + 1}",
                )
            yield number, line


def excerpt(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for messages about bad input."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def check_token(token: str, path: Path, number: int) -> None:
    """Refuse a token no encoder should see: longer than :data:`MAX_TOKEN_CHARS`.

    Raises:
        CorpusFormatError: Naming the file and line.
    """
    if len(token) > MAX_TOKEN_CHARS:
        raise CorpusFormatError(
            str(path),
            number,
            f"expected tokens of at most {MAX_TOKEN_CHARS:,} characters, got one of "
            f"{len(token):,} (is the file in another format?)",
        )


def language_from_path(path: Path) -> str:
    """The language code a path names: its parent folder or its stem, like ``de/train.conllu``.

    Returns ``""`` when neither is an ISO 639-1 code (``val/`` and ``xyz/`` are not).
    """
    for part in (path.parent.name, path.stem):
        if is_path_language(part):
            return part
    return ""


def corpus_key(path: Path) -> str:
    """A short, stable name for a file within its corpus: ``de/train``, ``politics/dev``."""
    return f"{path.parent.name}/{path.stem}"


def split_from_path(path: Path) -> str:
    """The split a file name names (``train``, ``val``, ``dev``, ``test``), else ``""``."""
    stem = path.stem.lower()
    return stem if stem in {"train", "val", "dev", "test", "validation"} else ""


def written_words(
    text: str, path: Path, number: int
) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """The words of a written sentence and their offsets in it
    (:func:`entivec.annotation.words.words`), each checked by :func:`check_token`."""
    from entivec.annotation.words import words

    found = words(text)
    for token, _, _ in found:
        check_token(token, path, number)
    return tuple(w for w, _, _ in found), tuple((start, end) for _, start, end in found)
