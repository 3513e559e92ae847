"""What every loader shares: line reading with positions, language and id rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from entivec.errors import CorpusFormatError

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


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

    Bytes are decoded per line so that a bad byte is reported with its line number.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise CorpusFormatError(
                    str(path), number, f"expected UTF-8 text, got byte {raw[exc.start]:#04x}"
                ) from None


def language_from_path(path: Path) -> str:
    """The language code a path names: its parent folder or its stem, like ``de/train.conllu``.

    Returns ``""`` when neither looks like an ISO 639 code.
    """
    for part in (path.parent.name, path.stem):
        if _LANGUAGE_CODE.match(part):
            return part
    return ""


def corpus_key(path: Path) -> str:
    """A short, stable name for a file within its corpus: ``de/train``, ``politics/dev``."""
    return f"{path.parent.name}/{path.stem}"


def split_from_path(path: Path) -> str:
    """The split a file name names (``train``, ``val``, ``dev``, ``test``), else ``""``."""
    stem = path.stem.lower()
    return stem if stem in {"train", "val", "dev", "test", "validation"} else ""
