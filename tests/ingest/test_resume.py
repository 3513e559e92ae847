"""Ingestion: an interrupted run, repeated, ends with the same points as one clean run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from click.testing import CliRunner

from entivec.api import Entivec
from entivec.cli import cli
from entivec.store import PointRecord
from entivec.store.edge import EdgeStore
from tests.integration.interrupt import kill_partway

LIMIT = 1500
BATCH = 64
WINDOW = 256


def _snapshot(directory: Path) -> dict[str, PointRecord]:
    with EdgeStore(directory, collection="entivec") as store:
        return {p.id: p for p in store.points()}


def _ingest_command(data_dir: Path, store: Path) -> list[str]:
    return [
        sys.executable, "-m", "entivec", "ingest", "wikiann",
        str(data_dir / "wikiann" / "nl" / "val.conllu"), "--store", str(store),
        "--limit", str(LIMIT), "--batch-size", str(BATCH), "--window", str(WINDOW),
    ]  # fmt: skip


def test_killed_ingestion_resumes_to_the_same_points(
    tmp_path: Path, data_dir: Path, e5_encoder: object
) -> None:
    interrupted = tmp_path / "interrupted"
    kill_partway(_ingest_command(data_dir, interrupted), LIMIT)

    result = subprocess.run(
        [*_ingest_command(data_dir, interrupted), "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["skipped"] > 0, "the second run should reuse what the first one stored"
    assert report["skipped"] + report["encoded"] == LIMIT
    assert report["points"] == LIMIT

    clean = tmp_path / "clean"
    with Entivec(clean) as ev:
        ev.loaded.encoders["e5"] = e5_encoder  # type: ignore[assignment]
        ev.ingest(
            "wikiann",
            [data_dir / "wikiann" / "nl" / "val.conllu"],
            limit=LIMIT,
            batch_size=BATCH,
            window=WINDOW,
            show_progress=False,
        )
    resumed, reference = _snapshot(interrupted), _snapshot(clean)
    assert resumed.keys() == reference.keys()
    for pid, point in reference.items():
        assert resumed[pid].payload == point.payload
        assert np.allclose(
            cast("list[float]", resumed[pid].vectors["e5"]),
            cast("list[float]", point.vectors["e5"]),
            atol=1e-6,
        )


def test_ingesting_twice_adds_nothing(tmp_path: Path, data_dir: Path, e5_encoder: object) -> None:
    with Entivec(tmp_path) as ev:
        ev.loaded.encoders["e5"] = e5_encoder  # type: ignore[assignment]
        path = [data_dir / "wikiann" / "pl" / "val.conllu"]
        first, _ = ev.ingest("wikiann", path, limit=200, show_progress=False)
        second, stats = ev.ingest("wikiann", path, limit=200, show_progress=False)
    assert (first.encoded, first.points) == (200, 200)
    assert (second.encoded, second.skipped, second.points) == (0, 200, 200)
    assert stats.sentences == 200


def test_payload_schema_of_a_sentence_point(
    tmp_path: Path, data_dir: Path, e5_encoder: object
) -> None:
    path = data_dir / "wikiann" / "de" / "val.conllu"
    with Entivec(tmp_path) as ev:
        ev.loaded.encoders["e5"] = e5_encoder  # type: ignore[assignment]
        ev.ingest("wikiann", [path], limit=20)
        payloads = [p.payload for p in ev.store.points()]
    assert len(payloads) == 20
    for payload in payloads:
        assert set(payload) == {
            "kind", "text", "sentence_id", "language", "entity_type", "spans", "corpus",
            "split", "source", "location", "language_source", "span_source", "fingerprint",
            "encoded_by",
        }  # fmt: skip
        assert payload["language"] == "de" and payload["corpus"] == "wikiann"
        assert payload["split"] == "val" and payload["sentence_id"].startswith("de/val#")
        assert payload["kind"] == "sentence" and payload["source"] == "de/val.conllu"
        assert payload["location"] == path.resolve().as_posix()
        assert (payload["language_source"], payload["span_source"]) == ("path", "gold")
        assert sorted({s["type"] for s in payload["spans"]}) == payload["entity_type"]
        # the real artefact's version: its model file's checksum, from the manifest
        assert payload["encoded_by"] == {"e5": "e5:model.onnx@5ef691f4c799fda3"}


def test_cli_errors_are_one_line_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "en" / "train.conllu"
    bad.parent.mkdir()
    bad.write_text("0\tBerlin\tB-LOC\n1\tis\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["ingest", "wikiann", str(bad), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.count("\n") == 0
    assert f"{bad}:2: expected index<TAB>token<TAB>tag" in message
    unknown = CliRunner().invoke(
        cli, ["ingest", "conllx", str(bad), "--store", str(tmp_path / "s")]
    )
    assert unknown.exit_code == 1
    assert "expected one of: conll, jsonl, lines, text, wikiann" in unknown.output


@pytest.mark.models
def test_cli_search_prints_language_and_json(tmp_path: Path, data_dir: Path) -> None:
    store = str(tmp_path / "s")
    runner = CliRunner()
    empty = runner.invoke(cli, ["search", "Berlin", "--store", store])
    assert empty.exit_code == 1 and "ingest something first" in empty.output
    path = str(data_dir / "wikiann" / "es" / "val.conllu")
    ingested = runner.invoke(
        cli, ["-q", "ingest", "wikiann", path, "--store", store, "--limit", "50"]
    )
    assert ingested.exit_code == 0, ingested.output
    found = runner.invoke(cli, ["search", "ciudad", "--store", store, "-k", "3", "--json"])
    hits = json.loads(found.output)
    assert len(hits) == 3 and all(h["language"] == "es" for h in hits)
    assert hits[0]["score"] >= hits[-1]["score"]
    text = runner.invoke(cli, ["search", "ciudad", "--store", store, "-k", "2"])
    assert text.output.count("[es]") == 2


def test_a_new_plugin_adds_its_vector_to_stored_points_only(
    tmp_path: Path, data_dir: Path, e5_encoder: object, lang_encoder: object
) -> None:
    path = data_dir / "wikiann" / "nl" / "val.conllu"
    with Entivec(EdgeStore(tmp_path, collection="c")) as ev:
        ev.loaded.encoders["e5"] = e5_encoder  # type: ignore[assignment]
        ev.loaded.encoders["lang"] = lang_encoder  # type: ignore[assignment]
        ev.ingest("wikiann", [path], limit=40, show_progress=False)
        before = {p.id: p for p in ev.store.points()}
        report, _ = ev.ingest("wikiann", [path], plugins=("lang",), limit=50, show_progress=False)
        after = {p.id: p for p in ev.store.points()}
        again, _ = ev.ingest("wikiann", [path], plugins=("lang",), limit=50, show_progress=False)
    # 40 stored points gained `lang`; 10 new ones were stored with `lang` alone
    assert report.updated == 40 and report.encoded == 50 and len(after) == 50
    for point_id, point in before.items():
        assert after[point_id].vectors["e5"] == point.vectors["e5"]
        # the payload is untouched but for the record of who wrote which vector
        payload, earlier = dict(after[point_id].payload), dict(point.payload)
        gained, had = payload.pop("encoded_by"), earlier.pop("encoded_by")
        assert payload == earlier
        assert set(gained) == {"e5", "lang"} and gained["e5"] == had["e5"]
        assert set(after[point_id].vectors) == {"e5", "lang"}
    assert again.skipped == 50 and again.encoded == 0


def test_lines_files_become_one_point_per_line(tmp_path: Path, data_dir: Path) -> None:
    from entivec.loaders import load

    kb = data_dir / "tatoeba" / "tatoeba.deu-eng.eng"
    sentences = list(load("lines", [kb], language="en", corpus="tatoeba"))
    assert len(sentences) == 1000
    assert sentences[0].id == "tatoeba.deu-eng.eng:1"
    assert sentences[0].text == "Mary said she didn't know where Tom was."
    assert all(s.language == "en" and not s.spans for s in sentences)
