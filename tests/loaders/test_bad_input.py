"""Every bad input the issue lists: a one-line error naming file:line, or a documented,
tested clean-up; nothing written either way.

Run through the CLI (``entivec ingest`` with the hashed test plugin), as a user meets
them: exit status 1, one line on stderr, no traceback, and no collection created.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.cli import cli
from entivec.errors import CorpusFormatError
from entivec.loaders import load

pytestmark = pytest.mark.usefixtures("hashed_plugins")


def _file(tmp_path: Path, relative: str, content: str | bytes) -> Path:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _ingest(tmp_path: Path, format: str, path: Path, *extra: str) -> tuple[int, str]:
    store = tmp_path / "store"
    result = CliRunner().invoke(
        cli,
        # --no-ner: the fast tier needs no adapters (raw text is tagged by default)
        [
            "-q",
            "ingest",
            format,
            str(path),
            "--store",
            str(store),
            "--plugin",
            "hashed",
            "--no-ner",
            *extra,
        ],
    )
    return result.exit_code, result.output


NESTED = "[" * 200_000
CASES = {
    "a WikiANN index that is a digit but not ASCII": (
        "wikiann", "de/val.conllu", "0\tBerlin\tB-LOC\n²\tist\tO\n", ":2: expected token index 1",
    ),
    'JSONL "spans": 5': (
        "jsonl", "de/a.jsonl", '{"tokens": ["a"], "spans": 5}\n', ':1: expected "spans": a list',
    ),
    'JSONL "spans": null': (
        "jsonl", "de/a.jsonl", '{"tokens": ["a"]}\n{"tokens": ["b"], "spans": null}\n',
        ':2: expected "spans": a list',
    ),
    "JSONL nested 200,000 deep": (
        "jsonl", "de/a.jsonl", NESTED + "\n",
        ":1: expected a JSON object, got one nested too deeply",
    ),
    "a NUL inside a token": (
        "conll", "de/a.txt", "Ber\x00lin\tB-LOC\n", ":1: expected text, got a NUL",
    ),
    "a boolean span offset": (
        "jsonl", "de/a.jsonl", '{"tokens": ["a", "b"], "spans": [[true, 2, "LOC"]]}\n',
        ":1: expected a span",
    ),
    "a boolean id": ("jsonl", "de/a.jsonl", '{"id": true, "tokens": ["a"]}\n', ':1: expected "id"'),
    "a JSONL language that is a path": (
        "jsonl", "a.jsonl", '{"tokens": ["a"], "language": "../../etc/passwd"}\n',
        ":1: expected an ISO 639 language code",
    ),
    "an upper-case language code": (
        "jsonl", "a.jsonl", '{"tokens": ["a"], "language": "DE"}\n', "use 'de'",
    ),
    "a 5 MB token": (
        "text", "de/kb.txt", "kurz\n" + "x" * 5_000_000 + "\n",
        ":2: expected tokens of at most 1,000",
    ),
    "an empty file": (
        "text", "de/kb.txt", "", "kb.txt: expected at least one sentence, got none",
    ),
    "a file of blank lines": (
        "conll", "de/a.txt", "\n\n  \n", "a.txt: expected at least one sentence",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_line_naming_file_and_line(tmp_path: Path, case: str) -> None:
    format, relative, content, expected = CASES[case]
    path = _file(tmp_path, relative, content)
    code, output = _ingest(tmp_path, format, path)
    assert code == 1
    assert output.startswith(f"Error: {path}") and expected in output
    assert output.count("\n") == 1 and "Traceback" not in output
    assert len(output) < 400  # the 5 MB token is not echoed
    assert not (tmp_path / "store" / "entivec").exists()


@pytest.mark.parametrize("folder", ["val", "xyz", "dev"])
def test_a_folder_that_is_not_a_language_code_gives_no_language(
    tmp_path: Path, folder: str
) -> None:
    # such sentences are routed at ingestion (their payload says so); read alone, they
    # are refused rather than labelled with the folder's name
    path = _file(tmp_path, f"{folder}/train.txt", "Berlin\tB-LOC\n")
    with pytest.raises(CorpusFormatError, match=r"train\.txt:1: cannot tell the language"):
        list(load("conll", [path]))
    (sentence,) = load("conll", [path], require_language=False)
    assert (sentence.language, sentence.language_source) == ("", "")


def test_a_language_flag_that_is_not_a_code_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, "kb.txt", "Berlin\n")
    code, output = _ingest(tmp_path, "text", path, "--language", "english")
    assert code == 1 and "expected an ISO 639 language code like 'de'" in output
    assert _ingest(tmp_path, "text", path, "--language", "yue")[0] == 0


def test_a_collection_name_cannot_leave_the_store(tmp_path: Path) -> None:
    path = _file(tmp_path, "de/kb.txt", "Berlin\n")
    code, output = _ingest(tmp_path, "text", path, "--collection", "../x")
    assert code == 1 and "collection '../x': expected letters, digits" in output
    assert not (tmp_path / "x").exists() and not (tmp_path / "store").exists()


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    conll = _file(tmp_path, "de/a.txt", "\ufeffBerlin\tB-LOC\nist\tO\n".encode("utf-8"))
    text = _file(tmp_path, "de/kb.txt", "\ufeffBerlin ist groß\n".encode("utf-8"))
    (sentence,) = load("conll", [conll])
    assert sentence.tokens[0] == "Berlin" and sentence.spans[0].type == "LOC"
    assert next(iter(load("text", [text], require_language=False))).tokens[0] == "Berlin"


def test_whitespace_around_a_tag_is_dropped(tmp_path: Path) -> None:
    path = _file(tmp_path, "de/a.txt", "Berlin\tB-LOC \nist\t O\n")
    (sentence,) = load("conll", [path])
    assert [s.type for s in sentence.spans] == ["LOC"]
    record = {"tokens": ["Berlin"], "tags": ["B-LOC "]}
    jsonl = _file(tmp_path, "de/a.jsonl", json.dumps(record) + "\n")
    assert next(iter(load("jsonl", [jsonl]))).spans[0].type == "LOC"


def test_a_span_listed_twice_is_an_error(tmp_path: Path) -> None:
    record = {"tokens": ["Berlin"], "spans": [[0, 1, "LOC"], {"start": 0, "end": 1, "type": "LOC"}]}
    path = _file(tmp_path, "de/a.jsonl", json.dumps(record) + "\n")
    with pytest.raises(CorpusFormatError, match=r"a\.jsonl:1: span .* is listed twice"):
        list(load("jsonl", [path]))
