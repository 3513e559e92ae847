"""The same scenario on Qdrant Edge and on qdrant-client's local mode through the
server-engine code path (always), and on a real Qdrant server (tests/integration/
test_qdrant_server.py, when Docker or QDRANT_URL is there)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from entivec.store.edge import EdgeStore
from entivec.store.server import ServerStore
from tests.conftest import WIKIANN_LANGUAGES
from tests.hashed_encoder import HashedEncoder
from tests.store.scenario import PER_LANGUAGE, ScenarioResult, assert_same_hits, run_scenario


@pytest.fixture(scope="module")
def edge_result(
    tmp_path_factory: pytest.TempPathFactory,
    data_dir: Path,
    e5_encoder: object,
    lang_encoder: object,
) -> ScenarioResult:
    store = EdgeStore(tmp_path_factory.mktemp("edge"), collection="scenario")
    try:
        return run_scenario(store, data_dir, {"e5": e5_encoder, "lang": lang_encoder})
    finally:
        store.close()


def test_edge_answers_the_scenario(edge_result: ScenarioResult) -> None:
    assert edge_result.points == 6 * PER_LANGUAGE
    for hits in edge_result.hits:
        assert len(hits) == 10
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))
    # filtered queries return only the asked language
    for hits, lang in zip(edge_result.hits[2:], ("ru", "es", "nl", "pl"), strict=True):
        assert {h.payload["language"] for h in hits} == {lang}
    # an unfiltered query reaches several languages (e5 is cross-lingual)
    assert len({h.payload["language"] for hits in edge_result.hits[:2] for h in hits}) >= 3
    assert edge_result.languages == sorted(WIKIANN_LANGUAGES)
    # every routed text is a plain sentence in one of the six languages, in order
    assert [r.language for r in edge_result.routes] == ["de", "nl", "pl", "es", "ru", "en"]
    assert all(r.routed and r.source == "neighbours" for r in edge_result.routes)


def test_local_mode_through_the_server_code_path_matches_edge(
    edge_result: ScenarioResult, data_dir: Path, e5_encoder: object, lang_encoder: object
) -> None:
    store = ServerStore(QdrantClient(":memory:"), collection="scenario", description="local mode")
    try:
        result = run_scenario(store, data_dir, {"e5": e5_encoder, "lang": lang_encoder})
    finally:
        store.close()
    assert_same_hits(edge_result, result)


HASHED = {"search_vector": "hashed", "route_vector": "hashed"}


@pytest.mark.usefixtures("hashed_plugins")
def test_both_engines_agree_with_the_test_encoder(tmp_path: Path, data_dir: Path) -> None:
    """The fast tier's congruence check: the same scenario, no trained artefact."""
    encoders: dict[str, object] = {"hashed": HashedEncoder()}
    with EdgeStore(tmp_path / "edge", collection="scenario") as edge:
        on_edge = run_scenario(edge, data_dir, encoders, **HASHED)
    local = ServerStore(QdrantClient(":memory:"), collection="scenario", description="local")
    try:
        on_local = run_scenario(local, data_dir, encoders, **HASHED)
    finally:
        local.close()
    assert on_edge.points == 6 * PER_LANGUAGE
    for hits, lang in zip(on_edge.hits[2:], ("ru", "es", "nl", "pl"), strict=True):
        assert {h.payload["language"] for h in hits} == {lang}
    assert on_edge.languages == sorted(WIKIANN_LANGUAGES)
    assert_same_hits(on_edge, on_local)
