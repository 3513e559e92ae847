"""Tatoeba pairs for cross-lingual retrieval against an English knowledge base.

``tatoeba.<lang>-eng.<lang>`` and ``tatoeba.<lang>-eng.eng`` hold aligned sentences,
one per line. The knowledge base is every English line of every pair file; a query is a
line in the other language, and its answer is the English line with the same number.
Lines are split by number, the same way for every language (:data:`SPLITS`), so a
training run never sees a test query or its English answer as a positive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from entivec.errors import CorpusFormatError, CorpusNotFoundError

LANGUAGES = ("deu", "spa", "nld", "pol", "rus")
# line numbers (0-based, end exclusive); each file holds 1,000 pairs
SPLITS = {"train": (0, 600), "dev": (600, 700), "test": (700, 1000)}
_PAIR_FILE = re.compile(r"^tatoeba\.([a-z]{3})-eng\.([a-z]{3})$")


@dataclass(frozen=True)
class Pair:
    """A query and its English answer.

    Attributes:
        language: ISO 639-3 code of the query (``deu``).
        line: 0-based line number in both files.
        query: The sentence in ``language``.
        answer: The aligned English sentence.
    """

    language: str
    line: int
    query: str
    answer: str

    @property
    def answer_id(self) -> str:
        """The knowledge-base id of the answer."""
        return kb_id(self.language, self.line)


@dataclass(frozen=True)
class KbEntry:
    """One English sentence of the knowledge base."""

    id: str
    text: str


# one file per language for monolingual text: each pair file's side in that language,
# and the German pair's English side
MONOLINGUAL_FILES = {
    "de": "tatoeba.deu-eng.deu",
    "en": "tatoeba.deu-eng.eng",
    "es": "tatoeba.spa-eng.spa",
    "nl": "tatoeba.nld-eng.nld",
    "pl": "tatoeba.pol-eng.pol",
    "ru": "tatoeba.rus-eng.rus",
}


def kb_id(language: str, line: int) -> str:
    """Id of the English line ``line`` of the ``language``-eng pair file."""
    return f"{language}-eng:{line}"


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise CorpusNotFoundError(f"{path}: no such file (expected a Tatoeba pair file)")
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise CorpusFormatError(str(path), number, "expected a sentence, got an empty line")
    return lines


def read_pairs(folder: Path, language: str) -> list[Pair]:
    """Every aligned pair of ``language`` in ``folder``.

    Raises:
        CorpusNotFoundError: A pair file is missing.
        CorpusFormatError: An empty line, or files of different lengths.
    """
    source = folder / f"tatoeba.{language}-eng.{language}"
    english = folder / f"tatoeba.{language}-eng.eng"
    queries, answers = _lines(source), _lines(english)
    if len(queries) != len(answers):
        shorter = source if len(queries) < len(answers) else english
        raise CorpusFormatError(
            str(shorter),
            min(len(queries), len(answers)) + 1,
            f"expected {max(len(queries), len(answers))} lines, aligned with its pair file",
        )
    return [Pair(language, i, q, a) for i, (q, a) in enumerate(zip(queries, answers, strict=True))]


def languages_in(folder: Path) -> list[str]:
    """The query languages with pair files in ``folder``, sorted."""
    if not folder.is_dir():
        raise CorpusNotFoundError(f"{folder}: no such directory (expected Tatoeba pair files)")
    found = {m.group(1) for p in folder.iterdir() if (m := _PAIR_FILE.match(p.name))}
    if not found:
        raise CorpusNotFoundError(f"{folder} holds no tatoeba.<lang>-eng.<lang> files")
    return sorted(found)


def split(pairs: Sequence[Pair], name: str) -> list[Pair]:
    """The pairs of split ``name`` (``train``, ``dev`` or ``test``)."""
    start, end = SPLITS[name]
    return [p for p in pairs if start <= p.line < end]


def knowledge_base(folder: Path, languages: Sequence[str] = LANGUAGES) -> list[KbEntry]:
    """Every English line of the pair files of ``languages``, in file order.

    Some English lines occur in more than one file (71 in the shipped data); each stays
    an entry of its own, and evaluation counts any entry with the answer's text as right.
    """
    return [KbEntry(p.answer_id, p.answer) for lang in languages for p in read_pairs(folder, lang)]
