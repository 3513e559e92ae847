"""Store behaviour on both engines: schema checks, locking, payload indexes, retries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient
from qdrant_client.http.exceptions import UnexpectedResponse

import entivec.store.retries as store_retries
from entivec.errors import InvalidStoreError, SchemaMismatchError, StoreError, StoreLockedError
from entivec.store import (
    KEYWORD_INDEXES,
    PointRecord,
    SparseVector,
    Store,
    VectorSchema,
    open_store,
    point_id,
)
from entivec.store.edge import EdgeStore
from entivec.store.retries import is_transient
from entivec.store.server import ServerStore

E5 = VectorSchema("e5", 4, "cosine")


@pytest.fixture(params=["edge", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "edge":
        made = EdgeStore(tmp_path, collection="c")
    else:
        made = ServerStore(QdrantClient(":memory:"), collection="c", description="local mode")
    yield made
    made.close()


def _points(n: int) -> list[PointRecord]:
    return [
        PointRecord(
            point_id("t", f"s{i}"),
            {"e5": [1.0, float(i), 0.0, 0.5]},
            {"language": "de" if i % 2 else "en", "text": f"s{i}"},
        )
        for i in range(n)
    ]


def test_upsert_is_idempotent_and_search_filters(store: Store) -> None:
    store.ensure_schema([E5])
    store.upsert(_points(10))
    store.upsert(_points(10))
    store.finish()
    assert store.count() == 10
    hits = store.search("e5", [1.0, 0.0, 0.0, 0.5], 3, {"language": "de"})
    assert len(hits) == 3 and {h.payload["language"] for h in hits} == {"de"}
    found = store.payloads([point_id("t", "s1"), point_id("t", "nope")], ["text"])
    assert found == {point_id("t", "s1"): {"text": "s1"}}


def test_ids_by_keyword_then_delete_and_set_payload(store: Store) -> None:
    store.ensure_schema([E5])
    store.upsert(_points(6))
    german = sorted(store.ids({"language": "de"}))
    assert german == sorted(point_id("t", f"s{i}") for i in (1, 3, 5))
    store.delete([*german[:2], point_id("t", "never stored")])
    assert store.count() == 4 and list(store.ids({"language": "de"})) == german[2:]
    store.set_payload([german[2]], {"language": "nl", "note": "x"})
    assert store.payloads([german[2]], ["language", "note", "text"]) == {
        german[2]: {
            "language": "nl",
            "note": "x",
            "text": store.payloads([german[2]], ["text"])[german[2]]["text"],
        }
    }


def test_a_keyword_filter_matches_one_value_of_a_list_payload(store: Store) -> None:
    # sentence points list their sentence's entity types; search_entities(...,
    # fuse_with="e5") filters them by one type, as it filters mention points
    store.ensure_schema([E5])
    types = [["politicalparty", "election"], ["election"], ["person"], []]
    store.upsert(
        [
            PointRecord(point_id("t", f"s{i}"), {"e5": [1.0, float(i), 0.0, 0.5]},
                        {"entity_type": listed, "text": f"s{i}"})
            for i, listed in enumerate(types)
        ]
    )  # fmt: skip
    store.finish()
    hits = store.search("e5", [1.0, 0.0, 0.0, 0.5], 10, {"entity_type": "election"})
    assert sorted(h.payload["text"] for h in hits) == ["s0", "s1"]


def test_a_different_size_or_distance_is_an_error_naming_both(store: Store) -> None:
    store.ensure_schema([E5])
    with pytest.raises(SchemaMismatchError) as info:
        store.ensure_schema([VectorSchema("e5", 8, "cosine")])
    assert "size 4" in str(info.value) and "size 8" in str(info.value)
    with pytest.raises(SchemaMismatchError, match="dot"):
        store.ensure_schema([VectorSchema("e5", 4, "dot")])


def test_a_new_named_vector_joins_an_existing_collection(store: Store) -> None:
    store.ensure_schema([E5])
    store.upsert(_points(4))
    ids = [p.id for p in _points(4)]
    extra = VectorSchema("e5_xling", 2, "cosine")
    store.ensure_schema([E5, extra])  # adds the vector, keeps the points
    assert store.count() == 4
    assert set(store.payloads(ids, ["text"])) == set(ids)
    assert all("e5_xling" not in p.vectors for p in store.points())
    store.update_vectors([PointRecord(ids[0], {"e5_xling": [1.0, 0.0]}, {})])
    store.update_vectors([PointRecord(ids[1], {"e5_xling": [0.0, 1.0]}, {})])
    store.finish()
    with_both = {p.id for p in store.points() if {"e5", "e5_xling"} <= set(p.vectors)}
    assert with_both == {ids[0], ids[1]}
    [hit] = store.search("e5_xling", [0.1, 1.0], 1)
    assert hit.id == ids[1] and hit.payload["text"] == "s1"  # payload untouched
    stored = {p.id: p for p in store.points()}
    assert stored[ids[1]].vectors["e5"] == pytest.approx(
        np.array([1.0, 1.0, 0.0, 0.5]) / np.linalg.norm([1.0, 1.0, 0.0, 0.5]), rel=1e-5
    )  # the vector that was there is still there (cosine stores unit vectors)


def test_searching_a_vector_the_collection_lacks_says_how_to_add_it(tmp_path: Path) -> None:
    with EdgeStore(tmp_path, collection="c") as store:
        store.ensure_schema([E5])
        store.upsert(_points(2))
        with pytest.raises(SchemaMismatchError, match="has no vector 'e5_xling'; ingest"):
            store.search("e5_xling", [1.0, 0.0], 1)


def test_edge_schema_survives_reopening_and_indexes_exist(tmp_path: Path) -> None:
    with EdgeStore(tmp_path, collection="c") as first:
        first.ensure_schema([E5])
        first.upsert(_points(3))
        schema = first._shard.info().payload_schema
        assert set(KEYWORD_INDEXES) <= set(schema)
    with EdgeStore(tmp_path, collection="c") as again:
        assert again.count() == 3
        with pytest.raises(SchemaMismatchError, match="size 4"):
            again.ensure_schema([VectorSchema("e5", 384, "cosine")])


def test_a_store_made_without_a_keyword_index_gains_it_when_next_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collection an older entivec made lacks ``language_source``'s index, which keeps
    routing's filter off the payloads; the next ingest into it adds the index."""
    import entivec.store.edge as edge

    older = tuple(k for k in KEYWORD_INDEXES if k != "language_source")
    with monkeypatch.context() as patched:
        patched.setattr(edge, "KEYWORD_INDEXES", older)
        with EdgeStore(tmp_path, collection="c") as first:
            first.ensure_schema([E5])
            first.upsert(_points(3))
            assert "language_source" not in first._shard.info().payload_schema
    with EdgeStore(tmp_path, collection="c") as again:
        again.ensure_schema([E5])
        assert set(KEYWORD_INDEXES) <= set(again._shard.info().payload_schema)
        assert again.count() == 3


class _RecordingClient:
    """The real local-mode client, recording the order of the calls made to it."""

    def __init__(self) -> None:
        self.inner = QdrantClient(":memory:")
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.inner, name)


def test_server_path_creates_the_keyword_indexes_before_any_upload() -> None:
    client = _RecordingClient()
    store = ServerStore(client, collection="c", description="local")
    store.ensure_schema([E5])
    store.upsert(_points(2))
    store.finish()
    writes = [
        c for c in client.calls if c in {"create_collection", "create_payload_index", "upsert"}
    ]
    assert writes == ["create_collection"] + ["create_payload_index"] * len(KEYWORD_INDEXES) + [
        "upsert"
    ]


def test_a_second_opener_of_an_edge_store_gets_a_clear_error(tmp_path: Path) -> None:
    with EdgeStore(tmp_path, collection="c") as first:
        first.ensure_schema([E5])
        with pytest.raises(StoreLockedError, match="another process"):
            EdgeStore(tmp_path, collection="c")


@pytest.mark.parametrize("location", ["", "ftp://host/x", "grpc://host:6334"])
def test_bad_store_locations(location: str) -> None:
    with pytest.raises(InvalidStoreError):
        open_store(location)


def test_empty_edge_store_says_to_ingest_first(tmp_path: Path) -> None:
    with EdgeStore(tmp_path, collection="c") as store:
        assert store.count() == 0
        with pytest.raises(StoreError, match="ingest something first"):
            store.search("e5", [1.0, 0, 0, 0], 3)


class _FlakyClient:
    """The real local-mode client, failing its first upserts with HTTP 503."""

    def __init__(self, failures: int) -> None:
        self.inner = QdrantClient(":memory:")
        self.failures = failures

    def upsert(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise UnexpectedResponse(503, "Service Unavailable", b"busy", None)  # type: ignore[arg-type]
        return self.inner.upsert(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_transient_server_errors_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_retries, "RETRY_MAX_WAIT", 0.01)
    client = _FlakyClient(failures=2)
    store = ServerStore(client, collection="c", description="flaky")
    store.ensure_schema([E5])
    store.upsert(_points(5))
    assert store.count() == 5 and client.failures == 0
    client.failures = 10
    monkeypatch.setattr(store_retries, "RETRY_ATTEMPTS", 3)
    with pytest.raises(StoreError, match="could not upsert"):
        store.upsert(_points(5))
        store.finish()


def test_which_errors_count_as_transient() -> None:
    assert is_transient(UnexpectedResponse(503, "", b"", None))  # type: ignore[arg-type]
    assert is_transient(UnexpectedResponse(429, "", b"", None))  # type: ignore[arg-type]
    assert not is_transient(UnexpectedResponse(400, "", b"bad request", None))  # type: ignore[arg-type]
    assert not is_transient(ValueError("x"))


def test_the_api_key_never_reaches_messages(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("QDRANT_API_KEY", "s3cr3t-key")
    monkeypatch.setattr(store_retries, "RETRY_ATTEMPTS", 2)
    monkeypatch.setattr(store_retries, "RETRY_MAX_WAIT", 0.01)
    store = open_store("http://127.0.0.1:9")
    with pytest.raises(StoreError) as info:
        store.ensure_schema([E5])
    assert "s3cr3t-key" not in str(info.value)
    assert "s3cr3t-key" not in store.description
    assert "s3cr3t-key" not in caplog.text


def test_search_can_exclude_a_keyword(store: Store) -> None:
    store.ensure_schema([E5])
    store.upsert(
        [
            PointRecord(point_id("t", f"s{i}"), {"e5": [1.0, float(i), 0.0, 0.5]},
                        {"language": "de", "language_source": "routed" if i < 3 else "path"})
            for i in range(6)
        ]
    )  # fmt: skip
    store.finish()
    hits = store.search("e5", [1.0, 0.0, 0.0, 0.5], 10, exclude={"language_source": "routed"})
    assert sorted(h.id for h in hits) == sorted(point_id("t", f"s{i}") for i in (3, 4, 5))
    both = store.search("e5", [1.0, 0.0, 0.0, 0.5], 10, {"language": "de"}, {"language": "nl"})
    assert len(both) == 6


BM25 = VectorSchema.sparse_idf("bm25")


def _hybrid_points() -> list[PointRecord]:
    """Six points: sparse tokens 7 and 9 single out s4 and s5, token 9 weighing more in
    s4 (token 100 is in every point, so IDF makes it worth nothing)."""
    return [
        PointRecord(
            point_id("t", f"s{i}"),
            {
                "e5": [1.0, float(i), 0.0, 0.5],
                "bm25": SparseVector((i, 100), (1.0, 1.0))
                if i < 4
                else SparseVector((7, 9, 100), (1.0, 2.0 if i == 4 else 1.0, 1.0)),
            },
            {"language": "de" if i % 2 else "en", "text": f"s{i}"},
        )
        for i in range(6)
    ]  # fmt: skip


def test_a_sparse_vector_is_stored_read_back_and_survives_reopening(
    store: Store, tmp_path: Path
) -> None:
    store.ensure_schema([E5, BM25])
    assert store.vectors()["bm25"] == BM25
    store.upsert(_hybrid_points())
    store.finish()
    stored = {p.id: p.vectors["bm25"] for p in store.points()}
    assert stored[point_id("t", "s4")] == SparseVector((7, 9, 100), (1.0, 2.0, 1.0))
    sparse_hits = store.search_fused([("bm25", SparseVector((7,), (1.0,)))], 2)
    assert {h.id for h in sparse_hits} == {point_id("t", "s4"), point_id("t", "s5")}
    if isinstance(store, EdgeStore):
        store.close()
        with EdgeStore(tmp_path, collection="c") as reopened:
            assert reopened.vectors()["bm25"] == BM25


def test_fused_search_ranks_what_both_vectors_find_first(store: Store) -> None:
    store.ensure_schema([E5, BM25])
    store.upsert(_hybrid_points())
    store.finish()
    dense = [1.0, 4.0, 0.0, 0.5]  # nearest s4, then s5 and s3
    sparse = SparseVector((9,), (1.0,))  # s4, then s5
    hits = store.search_fused([("e5", dense), ("bm25", sparse)], 3)
    assert [h.id for h in hits][:2] == [point_id("t", "s4"), point_id("t", "s5")]
    german = store.search_fused([("e5", dense), ("bm25", sparse)], 3, {"language": "de"})
    assert german[0].id == point_id("t", "s5")
    assert {h.payload["language"] for h in german} == {"de"}


def test_a_vector_can_join_as_sparse_later(store: Store) -> None:
    store.ensure_schema([E5])
    store.upsert(_points(3))
    store.ensure_schema([E5, BM25])
    assert store.vectors()["bm25"] == BM25
    with pytest.raises(SchemaMismatchError, match="bm25"):
        store.ensure_schema([VectorSchema("bm25", 4, "cosine")])


def test_batched_search_answers_as_one_call_per_query(store: Store) -> None:
    store.ensure_schema([E5])
    store.upsert(_points(20))
    store.finish()
    queries = [[1.0, float(i), 0.0, 0.5] for i in (0, 7, 13)]
    for where, exclude in ((None, None), ({"language": "de"}, None), (None, {"language": "de"})):
        batched = store.search_batch("e5", queries, 4, where, exclude)
        one_by_one = [store.search("e5", q, 4, where, exclude) for q in queries]
        assert [[h.id for h in hits] for hits in batched] == [
            [h.id for h in hits] for hits in one_by_one
        ]
        assert all(len(hits) == 4 for hits in batched)
    german = store.search_batch("e5", queries, 4, {"language": "de"})
    assert {h.payload["language"] for hits in german for h in hits} == {"de"}
    assert store.search_batch("e5", [], 4) == []


class _WaitRecordingClient:
    """The real local-mode client, noting each upsert's ``wait`` and point ids."""

    def __init__(self) -> None:
        self.inner = QdrantClient(":memory:")
        self.upserts: list[tuple[bool, list[str]]] = []

    def upsert(self, collection: str, points: list[Any], wait: bool = True) -> Any:
        self.upserts.append((wait, [str(p.id) for p in points]))
        return self.inner.upsert(collection, points, wait=wait)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_server_load_waits_once_on_its_last_batch() -> None:
    """Upserts go with wait=False; the last is held back and sent with wait=True by
    finish, or by a read, which then sees every upsert before it."""
    client = _WaitRecordingClient()
    store = ServerStore(client, collection="c", description="recorded")
    store.ensure_schema([E5])
    points = _points(12)
    batches = [points[start : start + 4] for start in (0, 4, 8)]
    for batch in batches:
        store.upsert(batch)
    assert [wait for wait, _ in client.upserts] == [False, False]
    store.finish()
    assert [wait for wait, _ in client.upserts] == [False, False, True]
    assert [ids for _, ids in client.upserts] == [[p.id for p in b] for b in batches]
    store.finish()  # nothing held: no request
    assert len(client.upserts) == 3 and store.count() == 12
    store.upsert(_points(14)[12:])
    assert store.count() == 14 and client.upserts[-1][0] is True  # the read waited
    store.upsert(_points(16)[14:])
    store.close()  # closing sends what is held
    assert len(client.upserts) == 5 and client.upserts[-1][0] is True


def test_index_settings_reach_a_new_edge_collection(tmp_path: Path) -> None:
    import json

    from entivec import Entivec, IndexSettings
    from entivec.errors import InvalidArgumentError

    settings = IndexSettings(ef_construct=50, m=8, graph_keys=("language",))
    with Entivec(tmp_path, index=settings) as ev:
        ev.store.ensure_schema([E5])
    config = json.loads((tmp_path / "entivec" / "edge_config.json").read_text())
    assert (config["hnsw_config"]["m"], config["hnsw_config"]["ef_construct"]) == (8, 50)
    with EdgeStore(tmp_path, collection="entivec") as store:
        info = store._require().info().payload_schema
    assert info["language"].params.enable_hnsw is True
    assert info["source"].params.enable_hnsw is False
    with pytest.raises(InvalidArgumentError, match="expected some of"):
        IndexSettings(graph_keys=("nope",))
    with pytest.raises(InvalidArgumentError, match="ef_construct must be at least 1"):
        IndexSettings(ef_construct=0)


def _mentions() -> list[PointRecord]:
    """Mentions of four names, repeated 1-6 times, at distinct distances from a query."""
    names = {"Labour": 6, "Tories": 3, "SPD": 2, "Likud": 1}
    points, i = [], 0
    for name, repeats in names.items():
        for _ in range(repeats):
            i += 1
            points.append(
                PointRecord(
                    point_id("m", str(i)),
                    {"e5": [1.0, 0.05 * i, 0.0, 0.5]},
                    {"text": name, "language": "en"},
                )
            )
    return points


@pytest.mark.parametrize("group_size", [1, 2, 10])
def test_groups_are_the_same_on_both_engines(tmp_path: Path, group_size: int) -> None:
    query = [1.0, 0.0, 0.0, 0.5]
    results = []
    for made in (
        EdgeStore(tmp_path / f"edge{group_size}", collection="c"),
        ServerStore(QdrantClient(":memory:"), collection="c", description="local mode"),
    ):
        try:
            made.ensure_schema([E5])
            made.upsert(_mentions())
            made.finish()
            groups = made.search_groups("e5", query, 3, "text", group_size, {"language": "en"})
        finally:
            made.close()
        results.append([[(h.id, h.payload["text"]) for h in group] for group in groups])
    edge, local = results
    assert edge == local
    assert [group[0][1] for group in edge] == ["Labour", "Tories", "SPD"]
    assert [len(g) for g in edge] == [min(group_size, n) for n in (6, 3, 2)]


def test_int8_quantization_reaches_both_engines_and_they_still_search(tmp_path: Path) -> None:
    import json

    from qdrant_client import models

    from entivec import IndexSettings
    from entivec.errors import InvalidArgumentError

    settings = IndexSettings(quantization="int8")
    created: dict[str, Any] = {}

    class Recording(_RecordingClient):
        def create_collection(self, *args: Any, **kwargs: Any) -> Any:
            created.update(kwargs)
            return self.inner.create_collection(*args, **kwargs)

    stores: list[Store] = [
        EdgeStore(tmp_path, collection="c", index=settings),
        ServerStore(Recording(), collection="c", description="local mode", index=settings),
    ]
    for store in stores:
        store.ensure_schema([E5])
        store.upsert(_points(10))
        store.finish()
        hits = store.search("e5", [1.0, 3.0, 0.0, 0.5], 1)
        assert [h.payload["text"] for h in hits] == ["s3"]
        store.close()
    config = json.loads((tmp_path / "c" / "edge_config.json").read_text())
    assert config["quantization_config"]["scalar"]["type"] == "int8"
    scalar = created["quantization_config"].scalar
    assert (scalar.type, scalar.always_ram) == (models.ScalarType.INT8, True)
    with pytest.raises(InvalidArgumentError, match="expected one of None, 'int8'"):
        IndexSettings(quantization="int4")
