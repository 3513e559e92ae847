"""The scenario against a real Qdrant server: a pinned ``qdrant/qdrant`` container
started by testcontainers, or the server at ``$QDRANT_URL``. Compared with Qdrant Edge."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from entivec.store.edge import EdgeStore
from entivec.store.server import ServerStore
from tests.integration.scenario import assert_same_hits, run_scenario

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
