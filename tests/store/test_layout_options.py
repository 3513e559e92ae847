"""Shards, replicas and write consistency: refused where they cannot be honoured, and
server writes split under Qdrant's request limit.

On a real server the settings reach the collection (tests/integration/test_qdrant_server.py,
skipped without Docker); here, in every run, Qdrant Edge and qdrant-client's local mode
(one copy in one shard) refuse them with one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from qdrant_client import QdrantClient

from entivec.api import Entivec
from entivec.cli import cli
from entivec.errors import InvalidArgumentError
from entivec.store import Layout, PointRecord, VectorSchema
from entivec.store.server import ServerStore, request_batches


def test_qdrant_edge_refuses_more_than_one_shard_or_copy(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Entivec(tmp_path / "store", shards=6, replicas=2)
    message = str(info.value)
    assert message.startswith("Qdrant Edge keeps a collection in one shard")
    assert "shards 6, replicas 2" in message and "docker/compose.cluster.yaml" in message
    with Entivec(tmp_path / "store", shards=1, replicas=1) as ev:  # what Edge is
        assert ev.store.count() == 0


def test_local_mode_refuses_them_too() -> None:
    with pytest.raises(InvalidArgumentError, match="qdrant-client's local mode keeps"):
        ServerStore(
            QdrantClient(":memory:"),
            collection="c",
            description="local mode",
            layout=Layout(replicas=2),
        )


def test_the_cli_refuses_them_for_a_directory_in_one_line(tmp_path: Path) -> None:
    corpus = tmp_path / "de" / "a.txt"
    corpus.parent.mkdir()
    corpus.write_text("Berlin\tB-LOC\n", encoding="utf-8")
    store = tmp_path / "store"
    result = CliRunner().invoke(
        cli, ["ingest", "conll", str(corpus), "--store", str(store), "--shards", "3"]
    )
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "Qdrant Edge keeps a collection in one shard" in result.output
    assert not store.exists()


def test_write_consistency_cannot_exceed_the_replicas() -> None:
    with pytest.raises(InvalidArgumentError, match="needs at least as many replicas"):
        Layout(replicas=2, write_consistency=3)
    with pytest.raises(InvalidArgumentError, match="shards must be at least 1"):
        Layout(shards=0)


def _points(n: int, payload_bytes: int) -> list[PointRecord]:
    return [
        PointRecord(
            f"00000000-0000-0000-0000-{i:012d}",
            {"e5": [0.5, 0.5, 0.5, 0.5]},
            {"text": "x" * payload_bytes},
        )
        for i in range(n)
    ]


def test_upserts_are_split_under_the_request_limit() -> None:
    points = _points(10, 4000)
    groups = list(request_batches(points, limit=10_000))
    assert [p.id for group in groups for p in group] == [p.id for p in points]
    assert all(len(group) == 2 for group in groups)  # two 4 kB points fit, three do not
    # a point above the limit travels alone, for the server to judge
    assert [len(g) for g in request_batches(_points(3, 20_000), limit=10_000)] == [1, 1, 1]


def test_a_batch_over_the_limit_reaches_local_mode_whole() -> None:
    client = QdrantClient(":memory:")
    calls: list[int] = []
    upsert = client.upsert

    def counted(collection: str, points: list[object], **kwargs: object) -> object:
        calls.append(len(points))
        return upsert(collection, points, **kwargs)  # type: ignore[arg-type]

    client.upsert = counted  # type: ignore[method-assign,assignment]
    store = ServerStore(client, collection="c", description="local mode")
    store.ensure_schema([VectorSchema("e5", 4, "cosine")])
    store.upsert(_points(300, 60_000))  # 18 MB of payloads: two requests under 16 MB
    store.finish()
    assert len(calls) == 2 and sum(calls) == 300 and store.count() == 300
