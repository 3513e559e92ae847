"""Which file a stored name stands for, through the command line: the same command after
the corpus moved stores nothing new; another file of a stored name is one line, and
nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.cli import cli
from entivec.store.edge import EdgeStore

pytestmark = pytest.mark.usefixtures("hashed_plugins")

NOTES = "Angela Merkel besuchte Paris.\nDer Rhein fließt durch Köln.\n"


def _ingest(store: Path, *files: Path, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    args = ["-q", "ingest", "lines", *map(str, files), "--store", str(store)]
    args += ["--plugin", "hashed", "--no-ner", "--language", "de", *extra]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


def _points(store: Path) -> dict[str, dict[str, object]]:
    with EdgeStore(store, collection="entivec") as edge:
        return {p.id: p.payload for p in edge.points()}


def test_the_same_command_after_a_move_keeps_every_point(tmp_path: Path) -> None:
    notes = tmp_path / "home" / "notes" / "letters.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text(NOTES, encoding="utf-8")
    assert _ingest(tmp_path / "store", notes)[0] == 0
    before = _points(tmp_path / "store")
    (tmp_path / "home").rename(tmp_path / "mnt")
    code, output = _ingest(tmp_path / "store", tmp_path / "mnt" / "notes" / "letters.txt")
    assert code == 0 and "2 sentences: 0 encoded and stored, 2 already stored" in output
    after = _points(tmp_path / "store")
    assert sorted(after) == sorted(before) and len(after) == 2
    assert {p["location"] for p in after.values()} == {
        (tmp_path / "mnt" / "notes" / "letters.txt").resolve().as_posix()
    }
    assert {p["source"] for p in after.values()} == {"notes/letters.txt"}


def test_another_file_of_a_stored_name_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "notes" / "x.txt", tmp_path / "b" / "notes" / "x.txt"
    for path, text in ((first, NOTES), (second, "Ganz andere Notizen.\n")):
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
    assert _ingest(tmp_path / "store", first)[0] == 0
    stored = _points(tmp_path / "store")
    code, output = _ingest(tmp_path / "store", second)
    assert code == 1 and output.count("\n") == 1
    assert output.startswith(f"Error: {second}: the collection already holds 'notes/x.txt'")
    assert f"from {first.resolve()}" in output and "--root" in output
    assert _points(tmp_path / "store") == stored
    # a root that holds both names them apart
    assert _ingest(tmp_path / "both", first, extra=("--root", str(tmp_path)))[0] == 0
    assert _ingest(tmp_path / "both", second, extra=("--root", str(tmp_path)))[0] == 0
    sources = {p["source"] for p in _points(tmp_path / "both").values()}
    assert sources == {"a/notes/x.txt", "b/notes/x.txt"}
