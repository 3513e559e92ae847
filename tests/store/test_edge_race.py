"""Two processes that create the same new Qdrant Edge store at once: one store holding
one writer's points, the other writer told in one line that the store is open elsewhere.
Before the creation lock, both could fail on each other's half-made files."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from entivec.store import PointRecord, VectorSchema, point_id
from entivec.store.edge import EdgeStore

ROUNDS = 20
POINTS = 8
ROOT = Path(__file__).resolve().parents[2]


def _write(directory: str, writer: str, start: Barrier, outcomes: dict[str, str]) -> None:
    from entivec.errors import StoreLockedError

    try:
        start.wait(timeout=60)
        with EdgeStore(directory, collection="c") as store:
            store.ensure_schema([VectorSchema("v", 2, "cosine")])
            store.upsert(
                [
                    PointRecord(point_id(writer, str(i)), {"v": [1.0, float(i)]}, {"w": writer})
                    for i in range(POINTS)
                ]
            )
            store.finish()
        outcomes[writer] = "stored"
    except StoreLockedError as exc:
        outcomes[writer] = f"locked: {exc}"
    except BaseException as exc:
        outcomes[writer] = f"{type(exc).__name__}: {exc}"


def test_two_processes_creating_one_store_never_both_fail(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        for round in range(ROUNDS):
            directory = tmp_path / f"round{round}"
            outcomes = manager.dict()
            start = context.Barrier(2)
            writers = [
                context.Process(target=_write, args=(str(directory), w, start, outcomes))
                for w in ("a", "b")
            ]
            for process in writers:
                process.start()
            for process in writers:
                process.join(120)
            for process in writers:
                if process.is_alive():  # never leave a writer holding the next round's store
                    process.kill()
                    process.join()
            result = dict(outcomes)
            assert sorted(result) == ["a", "b"], result  # each writer said how it ended
            assert [p.exitcode for p in writers] == [0, 0], result
            stored = [w for w, outcome in result.items() if outcome == "stored"]
            assert stored, result
            for outcome in result.values():
                assert outcome == "stored" or (
                    outcome.startswith("locked: ") and "open in another process" in outcome
                ), result
            with EdgeStore(directory, collection="c") as store:
                writers_stored = sorted({str(p.payload["w"]) for p in store.points()})
                assert writers_stored == sorted(stored) and store.count() == POINTS * len(stored)


def test_the_cli_race_ends_in_one_store_and_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Berlin ist groß.\nParis ist schön.\n")
    store = tmp_path / "store"
    command = [sys.executable, "-m", "entivec", "-q", "ingest", "text", str(notes), "--store",
               str(store), "--plugin", "bm25", "--no-ner", "--language", "de"]  # fmt: skip
    runs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    codes = [run.returncode for run in runs]
    assert 0 in codes, outputs
    for code, output in zip(codes, outputs, strict=True):
        if code:
            assert code == 1 and output.strip().count("\n") == 0, output
            assert output.startswith("Error: ") and "open in another process" in output
    with EdgeStore(store, collection="entivec") as edge:
        assert edge.count() == 2


@pytest.mark.models
def test_two_raw_text_ingests_into_two_stores_at_once_both_succeed(tmp_path: Path) -> None:
    """Both route against the one shipped routing index: the second reads a copy."""
    notes = tmp_path / "notes.txt"
    notes.write_text("Die Stadt liegt am Rhein.\nDe stad ligt aan de Rijn.\n")
    commands = [
        [sys.executable, "-m", "entivec", "-q", "ingest", "text", str(notes), "--store",
         str(tmp_path / name), "--plugin", "bm25", "--no-ner"]
        for name in ("one", "two")
    ]  # fmt: skip
    scratch = tmp_path / "tmp"  # where a process would put its copy of the index
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    runs = [subprocess.Popen(c, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env) for c in commands]  # fmt: skip
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    for name in ("one", "two"):
        with EdgeStore(tmp_path / name, collection="entivec") as edge:
            languages = sorted(str(p.payload["language"]) for p in edge.points())
        assert languages == ["de", "nl"]
    assert not list(scratch.iterdir())  # a copy leaves with the process that made it
