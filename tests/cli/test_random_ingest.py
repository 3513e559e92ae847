"""Random files and random option values through the CLI, as trusted parsers are tested.

Every ``entivec ingest`` of a random file ends in one of two ways: exit 0 with a store
that holds exactly the sentences a clean read of the file yields, or exit 1 with one
line naming the file, and no store written. Random option values end in a store, a
one-line error (exit 1) or click's usage message (exit 2), never a traceback.
``ENTIVEC_FUZZ_EXAMPLES`` raises the number of examples per test (docs/reliability.md
has the long run's figures).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entivec.cli import cli
from entivec.errors import EntivecError
from entivec.loaders import load
from entivec.store.edge import EdgeStore
from tests.loaders.test_random_input import FORMATS, JSON_VALUES, PIECES, RECORDS

pytestmark = pytest.mark.usefixtures("hashed_plugins")

# the test plugin, and a given language: no model, no routing
HASHED = ["--plugin", "hashed", "--no-ner", "--language", "de"]
EXAMPLES = int(os.environ.get("ENTIVEC_FUZZ_EXAMPLES") or 25)
OUTCOMES: Counter[str] = Counter()
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def _no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


def _ingest(format: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{FORMATS[format]}"
        path.write_bytes(content)
        store = Path(tmp) / "store"
        args = ["-q", "ingest", format, str(path), "--store", str(store), *HASHED]
        result = CliRunner().invoke(cli, args)
        _no_traceback(result)
        OUTCOMES[f"{format} exit {result.exit_code}"] += 1
        if result.exit_code == 1:
            assert result.output.startswith(f"Error: {path}"), result.output
            assert result.output.count("\n") == 1, result.output
            assert not (store / "entivec").exists()  # nothing written
            return
        assert result.exit_code == 0, result.output
        try:
            expected = sorted(s.text for s in load(format, [path], language="de"))
        except EntivecError as exc:  # pragma: no cover - the CLI accepted it
            raise AssertionError(f"the CLI stored what load refuses: {exc}") from exc
        with EdgeStore(store, collection="entivec") as edge:
            stored = sorted(
                str(p.payload["text"]) for p in edge.points() if "span" not in p.payload
            )
        assert stored == expected


@pytest.mark.parametrize("format", FORMATS)
@FUZZ
@given(content=st.binary(max_size=300))
def test_random_bytes_through_the_cli(format: str, content: bytes) -> None:
    _ingest(format, content)


@pytest.mark.parametrize("format", FORMATS)
@FUZZ
@given(pieces=st.lists(PIECES, max_size=50))
def test_random_lines_through_the_cli(format: str, pieces: list[str]) -> None:
    _ingest(format, "".join(pieces).encode("utf-8"))


@FUZZ
@given(records=st.lists(RECORDS | JSON_VALUES, min_size=1, max_size=4))
def test_random_json_records_through_the_cli(records: list[object]) -> None:
    _ingest("jsonl", ("\n".join(json.dumps(r) for r in records) + "\n").encode("utf-8"))


VALUES = st.one_of(
    st.integers(-5, 10**7).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "abc", "1e9", "-0", "0x10", "²", "\x00", "../x", "None"]),
)
OPTIONS = {
    "search": ["-k", "--collection", "--vector", "--timeout", "--grpc-port", "--language"],
    "route": ["-k", "--threshold", "--min-votes", "--vector", "--collection"],
    "ingest": ["--limit", "--batch-size", "--window", "--corpus", "--plugin", "--language"],
}


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    path = folder / "notes.txt"
    path.write_text("Berlin ist groß.\nParis ist schön.\n")
    args = ["-q", "ingest", "text", str(path), "--store", str(folder / "store"), *HASHED]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return folder


@FUZZ
@given(
    verb=st.sampled_from(sorted(OPTIONS)),
    choices=st.lists(st.tuples(st.integers(0, 5), VALUES), min_size=1, max_size=3),
)
def test_random_option_values(small_store: Path, verb: str, choices: list[tuple[int, str]]) -> None:
    options = [o for i, value in choices for o in (OPTIONS[verb][i % len(OPTIONS[verb])], value)]
    store = str(small_store / "store")
    if verb == "ingest":
        # into a store of its own: an example must not change what the next one meets
        fresh = tempfile.mkdtemp(dir=small_store)
        args = ["ingest", "text", str(small_store / "notes.txt"), "--store", fresh, *HASHED]
    elif verb == "route":
        args = ["route", "Berlin", "--store", store, "--vector", "hashed"]
    else:
        args = ["search", "Berlin", "--store", store, "--vector", "hashed"]
    result = CliRunner().invoke(cli, ["-q", *args, *options])
    _no_traceback(result)
    OUTCOMES[f"options {verb} exit {result.exit_code}"] += 1
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 1:
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output


def test_zz_report_the_outcomes() -> None:
    # runs last in this module; -s shows the counts (docs/reliability.md quotes them)
    print(f"\nCLI outcomes of random input: {dict(sorted(OUTCOMES.items()))}")
