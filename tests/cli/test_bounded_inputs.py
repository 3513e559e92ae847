"""Inputs a user can give that were accepted and then did what nobody asked for: each now
ends in a one-line error before any work, or in a documented rule the output states.

The thread ceiling is tested with the other setup errors (tests/cli/test_setup_errors.py),
certificates and keys in URLs with the server path (tests/store/test_server_path.py).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.annotation.segmentation import MAX_SENTENCE_CHARS
from entivec.cli import cli
from entivec.store.edge import EdgeStore

pytestmark = pytest.mark.usefixtures("hashed_plugins")

NOTES = (
    "Die Stadt liegt am Rhein und hat eine große Universität mit vielen Studenten.\n"
    "De gemeente ligt in de provincie Utrecht en telt ongeveer twintigduizend inwoners.\n"
    "Город расположен на берегу реки и известен своим старинным университетом.\n"
)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _payloads(store: Path) -> list[dict[str, object]]:
    with EdgeStore(store, collection="entivec") as edge:
        return [p.payload for p in edge.points() if "span" not in p.payload]


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_an_empty_query_is_refused(tmp_path: Path, query: str) -> None:
    code, output = _run("search", query, "--store", str(tmp_path / "s"), "--vector", "hashed")
    assert code == 1 and output == "Error: the query is empty; give words to search for\n"
    code, output = _run(
        "search", query, "--store", str(tmp_path / "s"), "--vector", "hashed_mention"
    )
    assert code == 1 and output == "Error: the description is empty; give words to search for\n"


def test_a_nul_escaped_in_json_is_refused_like_a_raw_one(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "Ok."}\n{"text": "Wir fahren nach Ber\\u0000lin."}\n')
    store = tmp_path / "store"
    code, output = _run("-q", "ingest", "jsonl", str(path), "--store", str(store),
                        "--plugin", "hashed", "--no-ner", "--language", "de")  # fmt: skip
    assert code == 1
    assert output == f"Error: {path}:2: expected text, got a NUL character (\\u0000)\n"
    assert not (store / "entivec").exists()


def test_a_store_path_that_is_a_file_fails_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a store")
    notes = tmp_path / "notes.txt"
    notes.write_text(NOTES)
    for store in (blocker, blocker / "below"):
        code, output = _run("-q", "ingest", "text", str(notes), "--store", str(store),
                            "--plugin", "hashed", "--no-ner", "--language", "de")  # fmt: skip
        assert code == 1 and output.count("\n") == 1
        assert output.startswith(f"Error: STORE {blocker} is a file; give a directory")
    assert blocker.read_text() == "not a store"


def test_an_overlong_sentence_is_stored_in_windows_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    words = [f"wort{i}" for i in range(2_000)]  # about 15,000 characters, no full stop
    path = tmp_path / "log.txt"
    path.write_text("Ein kurzer Satz.\n" + " ".join(words) + "\n")
    store = tmp_path / "store"
    with caplog.at_level(logging.WARNING):
        code, output = _run("-q", "ingest", "text", str(path), "--store", str(store),
                            "--plugin", "hashed", "--no-ner", "--language", "de")  # fmt: skip
    assert code == 0, output
    warned = [r.getMessage() for r in caplog.records if "windows" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith(f"{path}:2: a sentence of ")
    windows = sorted(
        (p for p in _payloads(store) if str(p["doc_id"]).endswith(":2")),
        key=lambda p: int(str(p["doc_start"])),
    )
    texts = [str(p["text"]) for p in windows]
    assert len(texts) > 1 and all(len(t) <= MAX_SENTENCE_CHARS for t in texts)
    # every word is stored once, in order: nothing cut away, nothing cut in two
    assert " ".join(texts).split() == words


@pytest.mark.models
def test_a_folder_named_like_a_language_does_not_override_routing(tmp_path: Path) -> None:
    path = tmp_path / "it" / "notes.txt"
    path.parent.mkdir()
    path.write_text(NOTES)
    routed, named = tmp_path / "routed", tmp_path / "named"
    code, output = _run("-q", "ingest", "text", str(path), "--store", str(routed),
                        "--plugin", "hashed", "--no-ner")  # fmt: skip
    assert code == 0, output
    payloads = sorted(_payloads(routed), key=lambda p: int(str(p["doc_id"]).rsplit(":")[-1]))
    assert [p["language"] for p in payloads] == ["de", "nl", "ru"]
    assert {p["language_source"] for p in payloads} == {"routed"}
    code, output = _run("-q", "ingest", "text", str(path), "--store", str(named),
                        "--plugin", "hashed", "--no-ner", "--language-from-path")  # fmt: skip
    assert code == 0, output
    assert {(p["language"], p["language_source"]) for p in _payloads(named)} == {("it", "path")}


def test_annotated_formats_still_take_the_folders_language(tmp_path: Path) -> None:
    path = tmp_path / "de" / "train.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"tokens": ["Berlin", "ist", "groß"]}) + "\n")
    store = tmp_path / "store"
    code, output = _run("-q", "ingest", "jsonl", str(path), "--store", str(store),
                        "--plugin", "hashed", "--no-ner")  # fmt: skip
    assert code == 0, output
    [payload] = _payloads(store)
    assert (payload["language"], payload["language_source"]) == ("de", "path")
