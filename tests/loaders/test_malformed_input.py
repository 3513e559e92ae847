"""Malformed corpus lines fail with the file, the line number and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entivec.errors import CorpusFormatError, CorpusNotFoundError, UnknownFormatError
from entivec.loaders import LoadStats, load


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / "de" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("0\tBerlin\tB-LOC\n1\tist\n", 2, "3 fields"),
        ("0\tBerlin\tB-LOC\n2\tist\tO\n", 2, "token index 1"),
        ("0\tBerlin\tX-LOC\n", 1, "IOB2 tag"),
        ("0\tBerlin\tB-LOC\n\n0\tA\tO\n0\tB\tO\n", 4, "token index 1"),
    ],
)
def test_wikiann_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    path = _write(tmp_path, "train.conllu", text)
    with pytest.raises(CorpusFormatError) as info:
        list(load("wikiann", [path]))
    assert info.value.path == str(path)
    assert info.value.line == line
    assert f"{path}:{line}:" in str(info.value)
    assert expected in str(info.value)


def test_bad_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.txt", b"Berlin\tB-LOC\n\xff\tO\n")
    with pytest.raises(CorpusFormatError, match=r"x\.txt:2: expected UTF-8"):
        list(load("conll", [path]))


def test_i_tag_without_b_tag_is_repaired_and_counted(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.txt", "der\tO\nRhein\tI-LOC\nfließt\tO\nAB\tB-ORG\nCD\tI-PER\n")
    stats = LoadStats()
    (sentence,) = load("conll", [path], stats=stats)
    assert [(s.start, s.end, s.type) for s in sentence.spans] == [
        (1, 2, "LOC"),
        (3, 4, "ORG"),
        (4, 5, "PER"),
    ]
    assert stats.repaired_tags == 2
    assert "2 I- tags" in str(stats)


def test_language_must_come_from_flag_or_path(tmp_path: Path) -> None:
    path = tmp_path / "corpus" / "data.txt"
    path.parent.mkdir()
    path.write_text("Berlin\tB-LOC\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="--language"):
        list(load("conll", [path]))
    (sentence,) = load("conll", [path], language="en")
    assert sentence.language == "en"


def test_jsonl_tags_spans_and_errors(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "tokens": ["Angela", "Merkel", "spricht"], "tags": ["B-PER", "I-PER", "O"]},
        {
            "tokens": ["in", "Berlin"],
            "spans": [{"start": 1, "end": 2, "type": "LOC"}],
            "language": "nl",
        },
        {"tokens": ["SPD"], "spans": [[0, 1, "ORG"]]},
    ]
    path = _write(tmp_path, "x.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    first, second, third = load("jsonl", [path])
    assert (first.id, first.language, first.spans[0].end) == ("de/x#a", "de", 2)
    assert (second.id, second.language) == ("de/x#2", "nl")
    assert third.spans[0].type == "ORG"

    bad = _write(
        tmp_path,
        "bad.jsonl",
        json.dumps(rows[0]) + "\n" + '{"tokens": ["x"], "spans": [[0, 5, "ORG"]]}\n',
    )
    with pytest.raises(CorpusFormatError, match=r"bad\.jsonl:2: expected a span"):
        list(load("jsonl", [bad]))
    broken = _write(tmp_path, "broken.jsonl", "{not json\n")
    with pytest.raises(CorpusFormatError, match=r"broken\.jsonl:1: expected a JSON object"):
        list(load("jsonl", [broken]))


def test_unknown_format_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormatError, match="conll, jsonl, lines, text, wikiann"):
        list(load("conllu", [tmp_path]))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError, match="no such corpus file"):
        list(load("conll", [tmp_path / "nope.txt"]))


def test_streaming_does_not_read_ahead(tmp_path: Path) -> None:
    """The first sentence arrives before a malformed line far below is ever read."""
    path = _write(tmp_path, "x.txt", "Berlin\tB-LOC\n\n" + "a\tO\n" * 100000 + "broken line\n")
    stream = load("conll", [path])
    assert next(stream).tokens == ("Berlin",)
    with pytest.raises(CorpusFormatError, match=r":100003:"):
        list(stream)
