"""Random input for every built-in loader: records or an ``EntivecError``, nothing else.

Hypothesis feeds random bytes, random lines built from the formats' own pieces (tabs,
tags, indexes, blank lines) and random JSON to ``load`` for each format. Any other
exception (a ``KeyError``, ``RecursionError``, ``TypeError``...) is a bug: the CLI would
print a traceback. ``ENTIVEC_FUZZ_EXAMPLES`` raises the number of examples per test.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entivec.errors import EntivecError
from entivec.loaders import load

FORMATS = {
    "wikiann": ".conllu",
    "conll": ".txt",
    "jsonl": ".jsonl",
    "text": ".txt",
    "lines": ".txt",
}
EXAMPLES = int(os.environ.get("ENTIVEC_FUZZ_EXAMPLES") or 200)
TRIED: Counter[str] = Counter()
PIECES = st.sampled_from(
    ["\t", "\n", "\n\n", " ", "0", "1", "²", "B-", "I-", "O", "LOC", "PER", "B-LOC", "I-PER",
     "\ufeff", "\x00", "\r\n", "Berlin", "ß", "{", "}", "[", "]", '"', ":", ",", "-", "é"]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON_VALUES,
        "tokens": st.lists(st.text(max_size=6), max_size=5) | JSON_VALUES,
        "tags": st.lists(st.sampled_from(["O", "B-LOC", "I-LOC", "B-", "X", " O"]), max_size=5)
        | JSON_VALUES,
        "spans": st.lists(
            st.lists(
                st.integers(-1, 6) | st.booleans() | st.text(max_size=4), min_size=3, max_size=3
            )
            | st.dictionaries(st.sampled_from(["start", "end", "type"]), JSON_VALUES, max_size=3),
            max_size=3,
        )
        | JSON_VALUES,
        "language": st.sampled_from(["de", "en", "DE", "xx", "../x", "und", ""]) | JSON_VALUES,
    },
)


def _outcome(format: str, content: bytes) -> str:
    """Load ``content`` as ``format`` from two places (a language folder and none), each
    with the language required and not."""
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        for relative in (f"de/input{FORMATS[format]}", f"input{FORMATS[format]}"):
            path = Path(tmp) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            for require_language in (True, False):  # as read alone, and for ingestion
                try:
                    sentences = list(load(format, [path], require_language=require_language))
                except EntivecError:
                    outcomes.append("error")
                    continue
                assert all(s.tokens and (s.language or not require_language) for s in sentences)
                outcomes.append("records")
    TRIED[format] += 1
    return "/".join(outcomes)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("format", FORMATS)
@FUZZ
@given(content=st.binary(max_size=400))
def test_random_bytes(format: str, content: bytes) -> None:
    _outcome(format, content)


@pytest.mark.parametrize("format", FORMATS)
@FUZZ
@given(pieces=st.lists(PIECES, max_size=60))
def test_random_lines_of_the_formats_own_pieces(format: str, pieces: list[str]) -> None:
    _outcome(format, "".join(pieces).encode("utf-8"))


@FUZZ
@given(records=st.lists(RECORDS | JSON_VALUES, min_size=1, max_size=4))
def test_random_json_records(records: list[object]) -> None:
    lines = [json.dumps(r) for r in records]
    _outcome("jsonl", ("\n".join(lines) + "\n").encode("utf-8"))


def test_zz_report_how_many_inputs_were_tried() -> None:
    # runs last in this module; -s shows the counts (the closing note quotes them)
    print(f"\nrandom inputs tried per loader: {dict(TRIED)}")
    assert not TRIED or min(TRIED.values()) >= EXAMPLES
