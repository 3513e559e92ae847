"""Entity search through the API and the CLI on Qdrant Edge: grouped by mention text
(one hit per distinct mention, with its count; the engines agree: tests/store), and
fused lists that say their scores are rank fusion, not similarities."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.api import Entivec
from entivec.cli import cli
from entivec.errors import InvalidArgumentError

pytestmark = pytest.mark.usefixtures("hashed_plugins")

MENTIONS = {"Labour": 5, "Labour Party": 2, "Tories": 3, "SPD": 1}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    records = [
        {"id": f"{name}-{i}", "tokens": [*name.split(), "won", "seat", str(i)],
         "spans": [[0, len(name.split()), "party"]]}
        for name, repeats in MENTIONS.items()
        for i in range(repeats)
    ]  # fmt: skip
    corpus = tmp_path / "parties.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    with Entivec(tmp_path / "store") as ev:
        ev.ingest("jsonl", [corpus], language="en", plugins=("hashed", "hashed_mention"),
                  show_progress=False)  # fmt: skip
    return tmp_path / "store"


def test_each_mention_text_once_with_its_count(store: Path) -> None:
    with Entivec(store) as ev:
        groups = ev.search_entities("Labour", k=4, vector="hashed_mention", group_by="text")
        per_sentence = ev.search_entities("Labour", k=4, vector="hashed_mention", fuse_with=None)
        capped = ev.search_entities(
            "Labour", k=4, vector="hashed_mention", group_by="text", group_size=2
        )
    assert sorted(h.payload["text"] for h in groups) == sorted(MENTIONS)
    assert {h.payload["text"]: h.payload["count"] for h in groups} == MENTIONS
    assert groups[0].payload["text"] == "Labour" and groups[0].score == pytest.approx(1.0)
    assert all(a.score >= b.score for a, b in itertools.pairwise(groups))
    # ungrouped, the same query spends its k on one party's sentences
    assert [h.payload["text"] for h in per_sentence] == ["Labour"] * 4
    assert {h.payload["text"]: h.payload["count"] for h in capped}["Labour"] == 2


def test_grouping_refuses_what_it_cannot_do(store: Path) -> None:
    with Entivec(store) as ev:
        with pytest.raises(InvalidArgumentError, match="group_by must be one of text"):
            ev.search_entities("Labour", vector="hashed_mention", group_by="entity_type")
        with pytest.raises(InvalidArgumentError, match="not fused"):
            ev.search_entities("Labour", vector="hashed_mention", group_by="text",
                               fuse_with="hashed")  # fmt: skip


def test_the_cli_lists_distinct_mentions(store: Path) -> None:
    args = ["search", "Labour", "--store", str(store), "--vector", "hashed_mention", "-k", "2"]
    result = CliRunner().invoke(cli, [*args, "--group-by", "text"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2 and "'Labour' ×5 (party)" in lines[0]
    sentence = CliRunner().invoke(cli, ["search", "Labour", "--store", str(store),
                                        "--vector", "hashed", "--group-by", "text"])  # fmt: skip
    assert sentence.exit_code == 1
    assert "--group-by is for an entity-type search" in sentence.output


def test_a_fused_list_says_its_scores_are_rank_fusion(store: Path) -> None:
    with Entivec(store) as ev:
        fused = ev.search_entities("Labour", k=3, vector="hashed_mention", fuse_with="hashed")
        alone = ev.search_entities("Labour", k=3, vector="hashed_mention", fuse_with=None)
    assert {h.score_kind for h in fused} == {"rank_fusion"} and all(h.score < 0.1 for h in fused)
    assert {h.score_kind for h in alone} == {"similarity"}
    args = ["search", "Labour", "--store", str(store), "--vector", "hashed_mention", "-k", "3"]
    shown = CliRunner().invoke(cli, [*args, "--fuse-with", "hashed"]).output.splitlines()
    assert shown[0] == "scores: reciprocal rank fusion of two rankings, not similarities"
    assert len(shown) == 4
    plain = CliRunner().invoke(cli, [*args, "--fuse-with", "none"]).output.splitlines()
    assert len(plain) == 3 and not plain[0].startswith("scores:")
    listed = json.loads(CliRunner().invoke(cli, [*args, "--fuse-with", "hashed", "--json"]).output)
    assert {h["score_kind"] for h in listed} == {"rank_fusion"}
