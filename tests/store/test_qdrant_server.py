"""The scenario against a real Qdrant server: a pinned ``qdrant/qdrant`` container
started by testcontainers, or the server at ``$QDRANT_URL``. Compared with Qdrant Edge."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from entivec.store.edge import EdgeStore
from entivec.store.server import ServerStore
from tests.store.scenario import assert_same_hits, run_scenario

QDRANT_IMAGE = "qdrant/qdrant:v1.18.1"

pytestmark = pytest.mark.docker


def _docker_answers() -> str | None:
    try:
        import docker

        docker.from_env(timeout=5).ping()  # type: ignore[attr-defined]
    except Exception as exc:
        return f"no Docker engine ({type(exc).__name__}: {str(exc)[:80]})"
    return None


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    if os.environ.get("QDRANT_URL"):
        yield os.environ["QDRANT_URL"]
        return
    reason = _docker_answers()
    if reason:
        pytest.skip(reason)
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.community.qdrant import QdrantContainer

    with QdrantContainer(QDRANT_IMAGE) as container:
        yield f"http://{container.get_container_host_ip()}:{container.get_exposed_port(6333)}"


def test_server_matches_edge(
    server_url: str, tmp_path: Path, data_dir: Path, e5_encoder: object, lang_encoder: object
) -> None:
    server = ServerStore.connect(server_url, collection=f"scenario_{os.getpid()}")
    try:
        server.client.delete_collection(server.collection)
        remote = run_scenario(server, data_dir, {"e5": e5_encoder, "lang": lang_encoder})
        server.client.delete_collection(server.collection)
    finally:
        server.close()
    edge = EdgeStore(tmp_path, collection="scenario")
    try:
        local = run_scenario(edge, data_dir, {"e5": e5_encoder, "lang": lang_encoder})
    finally:
        edge.close()
    assert_same_hits(local, remote)


def test_the_layout_reaches_the_collection(server_url: str) -> None:
    from entivec.errors import SchemaMismatchError
    from entivec.store import Layout, VectorSchema

    name = f"layout_{os.getpid()}"
    schema = [VectorSchema("e5", 4, "cosine")]
    store = ServerStore.connect(server_url, collection=name, layout=Layout(shards=2))
    try:
        store.ensure_schema(schema)
        info = store.client.get_collection(name)
        assert info.config.params.shard_number == 2
        # language is the tenant key: a language-filtered query reads one part of the index
        assert info.payload_schema["language"].params.is_tenant is True
        other = ServerStore.connect(server_url, collection=name, layout=Layout(shards=3))
        with pytest.raises(SchemaMismatchError, match=r"shard_number 2 \(asked 3\)"):
            other.ensure_schema(schema)
        other.close()
    finally:
        store.client.delete_collection(name)
        store.close()


def test_a_three_node_cluster_searches_on_when_a_node_stops(tmp_path: Path) -> None:
    """docker/compose.cluster.yaml's layout, started by testcontainers: 3 shards, 2
    replicas; one node stopped, every query still answers in full."""
    if os.environ.get("QDRANT_URL"):
        pytest.skip("QDRANT_URL names one server; this scenario starts its own cluster")
    reason = _docker_answers()
    if reason:
        pytest.skip(reason)
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    import time

    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network

    from entivec.store import Layout, PointRecord, VectorSchema

    with Network() as network:
        nodes = []
        for i in range(3):
            join = [] if i == 0 else ["--bootstrap", "http://qdrant-0:6335"]
            node = (
                DockerContainer(QDRANT_IMAGE)
                .with_env("QDRANT__CLUSTER__ENABLED", "true")
                .with_network(network)
                .with_network_aliases(f"qdrant-{i}")
                .with_exposed_ports(6333)
                .with_command(["./qdrant", *join, "--uri", f"http://qdrant-{i}:6335"])
            )
            nodes.append(node.start())
            time.sleep(3)  # the first node elects itself before the others join
        try:
            first = nodes[0]
            url = f"http://{first.get_container_host_ip()}:{first.get_exposed_port(6333)}"
            store = ServerStore.connect(
                url, collection="cluster", layout=Layout(shards=3, replicas=2), timeout=30
            )
            store.ensure_schema([VectorSchema("e5", 4, "cosine")])
            points = [
                PointRecord(
                    f"00000000-0000-0000-0000-{i:012d}",
                    {"e5": [1.0, float(i % 7), 0.5, float(i % 3)]},
                    {"language": "de" if i % 2 else "en", "text": f"s{i}"},
                )
                for i in range(300)
            ]
            store.upsert(points)
            store.finish()
            before = store.search("e5", [1.0, 3.0, 0.5, 1.0], 10, {"language": "de"})
            nodes[2].stop()
            after = store.search("e5", [1.0, 3.0, 0.5, 1.0], 10, {"language": "de"})
            assert [h.id for h in after] == [h.id for h in before] and len(after) == 10
            assert store.count() == 300
            store.close()
        finally:
            for node in nodes[:2]:
                node.stop()


@pytest.mark.parametrize(
    "check",
    [
        "test_fused_search_ranks_what_both_vectors_find_first",
        "test_a_vector_can_join_as_sparse_later",
        "test_batched_search_answers_as_one_call_per_query",
        "test_upsert_is_idempotent_and_search_filters",
    ],
)
def test_the_store_checks_hold_on_a_server(server_url: str, check: str) -> None:
    """Sparse vectors, fusion in the engine and batched queries, as on Edge and local mode
    (tests/integration/test_store.py)."""
    import tests.store.test_store as store_checks

    store = ServerStore.connect(server_url, collection=f"checks_{os.getpid()}")
    try:
        store.client.delete_collection(store.collection)
        getattr(store_checks, check)(store)
    finally:
        store.client.delete_collection(store.collection)
        store.close()
