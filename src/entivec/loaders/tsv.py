"""Token-per-line corpora: WikiANN/PAN-X ``.conllu`` and CoNLL/CrossNER files.

Both put one token per line and a blank line between sentences; WikiANN lines are
``index<TAB>token<TAB>tag``, CoNLL lines ``token<TAB>tag``. A sentence's id is the file's
folder and stem and the sentence's number in the file (``de/val#12``); its ``line`` is the
line of its first token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from entivec.errors import CorpusFormatError
from entivec.loaders.base import (
    LoadStats,
    check_token,
    corpus_key,
    excerpt,
    language_from_path,
    numbered_lines,
    split_from_path,
)
from entivec.loaders.iob import decode_iob2, parse_tag
from entivec.records import Sentence


def _read(
    path: Path, *, with_index: bool, language: str | None, corpus: str, stats: LoadStats
) -> Iterator[Sentence]:
    lang = language or language_from_path(path)
    given = "given" if language else ("path" if lang else "")
    key = corpus_key(path)
    split = split_from_path(path)
    layout = "index<TAB>token<TAB>tag" if with_index else "token<TAB>tag"
    columns = 3 if with_index else 2
    tokens: list[str] = []
    tags: list[tuple[str, str]] = []
    index = 0  # sentence number within this file: the stable part of the id
    first_line = 0
    for number, line in numbered_lines(path):
        if not line.strip():
            if tokens:
                yield _sentence(
                    tokens, tags, f"{key}#{index}", lang, corpus, split, first_line, given, stats
                )
                index += 1
                tokens, tags = [], []
            continue
        fields = line.split("\t")
        if len(fields) != columns:
            raise CorpusFormatError(
                str(path), number, f"expected {layout} ({columns} fields), got {len(fields)}"
            )
        if with_index and fields[0] != str(len(tokens)):
            raise CorpusFormatError(
                str(path),
                number,
                f"expected token index {len(tokens)} in the first field, got {excerpt(fields[0])}",
            )
        token, tag = fields[-2], fields[-1]
        parsed = parse_tag(tag)
        if parsed is None:
            raise CorpusFormatError(
                str(path), number, f"expected an IOB2 tag (O, B-TYPE or I-TYPE), got {excerpt(tag)}"
            )
        if not token.strip():
            raise CorpusFormatError(str(path), number, "expected a token, got an empty field")
        check_token(token, path, number)
        if not tokens:
            first_line = number
        tokens.append(token)
        tags.append(parsed)
    if tokens:
        yield _sentence(
            tokens, tags, f"{key}#{index}", lang, corpus, split, first_line, given, stats
        )


def _sentence(
    tokens: list[str],
    tags: list[tuple[str, str]],
    sentence_id: str,
    language: str,
    corpus: str,
    split: str,
    line: int,
    language_source: str,
    stats: LoadStats,
) -> Sentence:
    spans, repaired = decode_iob2(tags)
    stats.sentences += 1
    stats.spans += len(spans)
    stats.repaired_tags += repaired
    return Sentence(
        sentence_id,
        tuple(tokens),
        language,
        tuple(spans),
        corpus,
        split,
        line=line,
        language_source=language_source,
        span_source="gold",
    )


def load_wikiann(
    path: Path, *, language: str | None, corpus: str, stats: LoadStats
) -> Iterator[Sentence]:
    """Stream a WikiANN/PAN-X ``.conllu`` file (``index<TAB>token<TAB>tag``)."""
    return _read(path, with_index=True, language=language, corpus=corpus, stats=stats)


def load_conll(
    path: Path, *, language: str | None, corpus: str, stats: LoadStats
) -> Iterator[Sentence]:
    """Stream a CoNLL/CrossNER file (``token<TAB>tag``)."""
    return _read(path, with_index=False, language=language, corpus=corpus, stats=stats)
