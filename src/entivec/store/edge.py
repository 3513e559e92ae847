"""The embedded engine: Qdrant Edge (``qdrant-edge-py``), one shard directory per collection.

Qdrant Edge raises bare ``Exception``s; every call goes through :func:`_engine` so that
users see entivec errors. It has no background optimiser: :meth:`EdgeStore.finish`
builds the HNSW graph once after a bulk load (never per batch).

Qdrant Edge lets one process open a shard; two processes that create the same new store
at once both failed (each on the other's half-made files). Creating holds an exclusive
lock on the folder that holds the store's collections (``STORE``), opening a shared one,
so the second process waits for the first to finish creating and then gets the one-line
"open in another process".
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from entivec.errors import InvalidStoreError, SchemaMismatchError, StoreError, StoreLockedError
from entivec.store import (
    INT8_QUANTILE,
    KEYWORD_INDEXES,
    RRF_K,
    Hit,
    IndexSettings,
    Keywords,
    Layout,
    PointRecord,
    SparseVector,
    Vector,
    VectorSchema,
    check_collection_name,
    grouped,
    hits_of,
    missing_vectors,
    query_vector,
    vector_of,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_CONFIG_FILE = "edge_config.json"
# how much deeper than k * group_size a grouped search reads before it settles
GROUP_READ_LIMIT = 16
# Qdrant's default: below this many KB of vectors matching a filter, search them exactly
FULL_SCAN_KB = 10_000


@contextmanager
def _engine(action: str, path: Path) -> Iterator[None]:
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:  # Qdrant Edge raises bare Exception
        message = str(exc)
        if "WouldBlock" in message or "lock" in message.lower():
            raise StoreLockedError(
                f"{path} is open in another process (Qdrant Edge allows one at a time); "
                "close it there and retry"
            ) from exc
        if "Not existing vector name" in message:
            name = message.rsplit(":", 1)[-1].strip()
            raise SchemaMismatchError(
                f"{path} has no vector {name!r}; ingest the same files again with the "
                "plugin that fills it (`entivec plugins` lists them) to add it"
            ) from exc
        raise StoreError(f"Qdrant Edge could not {action} at {path}: {message}") from exc


@contextmanager
def _directory_lock(directory: Path, *, exclusive: bool) -> Iterator[None]:
    """An advisory lock on ``directory`` (released when the block ends)."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(handle)


def _check_directory(path: Path) -> None:
    """Refuse a store path that can never be a directory before any work is done: the
    path, or the nearest part of it that exists, is a file."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise InvalidStoreError(
                    f"STORE {part} is a file; give a directory (new, or holding a store) or "
                    "an http(s):// URL"
                )
            return


class EdgeStore:
    """A Qdrant Edge shard at ``<directory>/<collection>``."""

    def __init__(
        self,
        directory: str | Path,
        *,
        collection: str,
        layout: Layout | None = None,
        index: IndexSettings | None = None,
    ) -> None:
        import qdrant_edge as qe

        if layout is not None:
            layout.refuse_beyond_one("Qdrant Edge")
        self._qe = qe
        self.index = index or IndexSettings()
        self.path = Path(directory) / check_collection_name(collection)
        _check_directory(self.path)
        self.description = f"Qdrant Edge at {self.path}"
        self._shard: Any = None
        if (self.path / _CONFIG_FILE).is_file():
            with _directory_lock(self.path.parent, exclusive=False):
                self._load()

    def _load(self) -> None:
        with _engine("open the store", self.path):
            self._shard = self._qe.EdgeShard.load(str(self.path))

    def _existing_vectors(self) -> dict[str, VectorSchema]:
        config = json.loads((self.path / _CONFIG_FILE).read_text(encoding="utf-8"))
        dense = {
            name: VectorSchema(name, int(v["size"]), str(v["distance"]).lower())  # type: ignore[arg-type]
            for name, v in config.get("vectors", {}).items()
        }
        sparse = {name: VectorSchema.sparse_idf(name) for name in config.get("sparse_vectors", {})}
        return dense | sparse

    def vectors(self) -> dict[str, VectorSchema]:
        """See :meth:`entivec.store.Store.vectors`."""
        return self._existing_vectors() if self._shard is not None else {}

    def _distance(self, name: str) -> Any:
        return {
            "cosine": self._qe.Distance.Cosine,
            "dot": self._qe.Distance.Dot,
            "euclid": self._qe.Distance.Euclid,
        }[name]

    def ensure_schema(self, vectors: Sequence[VectorSchema]) -> None:
        """See :meth:`entivec.store.Store.ensure_schema`."""
        if self._shard is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _directory_lock(self.path.parent, exclusive=True):
                if (self.path / _CONFIG_FILE).is_file():  # another process made it first
                    self._load()
                else:
                    self._create(vectors)
                    return
        self._add_missing(vectors)

    def _add_missing(self, vectors: Sequence[VectorSchema]) -> None:
        qe = self._qe
        shard = self._require()
        indexed = self._call("read the store", shard.info).payload_schema
        missing = [name for name in KEYWORD_INDEXES if name not in indexed]
        if missing:
            log.info("indexing the payload keys %s in %s", ", ".join(missing), self.path)
            self._index_keywords(missing)
        for v in missing_vectors(str(self.path), self._existing_vectors(), vectors):
            log.info("adding the named vector %s to %s", v, self.path)
            if v.sparse:
                operation = qe.UpdateOperation.create_sparse_vector(
                    v.name, modifier=qe.Modifier.Idf
                )
            else:
                operation = qe.UpdateOperation.create_dense_vector(
                    v.name, v.size, self._distance(v.distance)
                )
            self._call("add a named vector", partial(shard.update, operation))

    def _create(self, vectors: Sequence[VectorSchema]) -> None:
        qe = self._qe
        index = self.index
        config = qe.EdgeConfig(
            vectors={
                v.name: qe.EdgeVectorParams(size=v.size, distance=self._distance(v.distance))
                for v in vectors
                if not v.sparse
            },
            sparse_vectors={
                v.name: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)
                for v in vectors
                if v.sparse
            },
            hnsw_config=qe.HnswIndexConfig(
                m=index.m, ef_construct=index.ef_construct, full_scan_threshold=FULL_SCAN_KB
            ),
            optimizers=qe.EdgeOptimizersConfig(
                indexing_threshold=index.indexing_threshold_kb,
                default_segment_number=index.segments,
            ),
            quantization_config=qe.ScalarQuantizationConfig(
                type=qe.ScalarType.Int8, quantile=INT8_QUANTILE, always_ram=True
            )
            if index.quantization == "int8"
            else None,
        )
        with _engine("create the store", self.path):
            self.path.mkdir(parents=True, exist_ok=True)
            self._shard = qe.EdgeShard.create(str(self.path), config)
        self._index_keywords(KEYWORD_INDEXES)

    def _index_keywords(self, names: Sequence[str]) -> None:
        shard = self._require()
        for name in names:
            params = self._qe.KeywordIndexParams(enable_hnsw=name in self.index.graph_keys)
            operation = self._qe.UpdateOperation.create_field_index(name, params)
            self._call(f"index {name}", partial(shard.update, operation))

    def _engine_vector(self, vector: Vector) -> Any:
        if isinstance(vector, SparseVector):
            return self._qe.SparseVector(list(vector.indices), list(vector.values))
        return vector

    def _engine_vectors(self, vectors: dict[str, Vector]) -> dict[str, Any]:
        return {name: self._engine_vector(v) for name, v in vectors.items()}

    def _require(self) -> Any:
        if self._shard is None:
            raise StoreError(f"{self.path} holds no collection yet; ingest something first")
        return self._shard

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        with _engine(action, self.path):
            return fn()

    def upsert(self, points: Sequence[PointRecord]) -> None:
        """See :meth:`entivec.store.Store.upsert`."""
        qe = self._qe
        shard = self._require()
        batch = [
            qe.Point(id=p.id, vector=self._engine_vectors(p.vectors), payload=p.payload)
            for p in points
        ]
        self._call("upsert points", lambda: shard.update(qe.UpdateOperation.upsert_points(batch)))

    def payloads(self, ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """See :meth:`entivec.store.Store.payloads`."""
        if self._shard is None or not ids:
            return {}
        shard = self._shard
        records = self._call(
            "retrieve points",
            lambda: shard.retrieve(list(ids), with_payload=list(keys), with_vector=False),
        )
        return {str(r.id): dict(r.payload or {}) for r in records}

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """See :meth:`entivec.store.Store.set_payload`."""
        qe = self._qe
        shard = self._require()
        operation = qe.UpdateOperation.set_payload(list(ids), payload)
        self._call("set payloads", lambda: shard.update(operation))

    def ids(self, where: dict[str, str], exclude: Keywords | None = None) -> Iterator[str]:
        """See :meth:`entivec.store.Store.ids`."""
        records = self._scroll(1024, self._filter(where, exclude), with_data=False)
        yield from (str(r.id) for r in records)

    def _scroll(self, page: int, condition: Any, *, with_data: bool) -> Iterator[Any]:
        """Every record matching ``condition``, a page at a time."""
        if self._shard is None:
            return
        qe, shard = self._qe, self._shard
        offset = None
        while True:
            request = qe.ScrollRequest(
                limit=page,
                offset=offset,
                filter=condition,
                with_payload=with_data,
                with_vector=with_data,
            )
            records, offset = self._call("scroll", lambda r=request: shard.scroll(r))  # type: ignore[misc]
            yield from records
            if offset is None:
                return

    def delete(self, ids: Sequence[str]) -> None:
        """See :meth:`entivec.store.Store.delete`."""
        if self._shard is None or not ids:
            return
        qe, shard = self._qe, self._shard
        operation = qe.UpdateOperation.delete_points(list(ids))
        self._call("delete points", lambda: shard.update(operation))

    def _filter(self, where: dict[str, str] | None, exclude: Keywords | None = None) -> Any:
        if not where and not exclude:
            return None
        qe = self._qe

        def conditions(pairs: Keywords | None) -> list[Any] | None:
            if not pairs:
                return None
            return [
                qe.FieldCondition(
                    key=k, match=qe.MatchAny(v) if isinstance(v, list) else qe.MatchValue(v)
                )
                for k, v in pairs.items()
            ]

        return qe.Filter(must=conditions(where), must_not=conditions(exclude))

    def update_vectors(self, points: Sequence[PointRecord]) -> None:
        """See :meth:`entivec.store.Store.update_vectors`."""
        qe = self._qe
        shard = self._require()
        batch = [qe.PointVectors(id=p.id, vector=self._engine_vectors(p.vectors)) for p in points]
        self._call("update vectors", lambda: shard.update(qe.UpdateOperation.update_vectors(batch)))

    def search(
        self,
        vector: str,
        query: Sequence[float] | SparseVector,
        k: int,
        where: dict[str, str] | None = None,
        exclude: Keywords | None = None,
    ) -> list[Hit]:
        """See :meth:`entivec.store.Store.search`."""
        shard = self._require()
        request = self._nearest(vector, query_vector(query), k, self._filter(where, exclude))
        found = self._call("search", lambda: shard.query(request))
        return hits_of(found)

    def _nearest(self, vector: str, query: Vector, k: int, condition: Any) -> Any:
        qe = self._qe
        return qe.QueryRequest(
            limit=k,
            query=qe.Query.Nearest(self._engine_vector(query), using=vector),
            filter=condition,
            with_payload=True,
        )

    def search_batch(
        self,
        vector: str,
        queries: Sequence[Sequence[float]],
        k: int,
        where: dict[str, str] | None = None,
        exclude: Keywords | None = None,
    ) -> list[list[Hit]]:
        """See :meth:`entivec.store.Store.search_batch`."""
        if not queries:
            return []
        qe = self._qe
        shard = self._require()
        condition = self._filter(where, exclude)
        requests = [self._nearest(vector, [float(x) for x in q], k, condition) for q in queries]
        found = self._call("search", lambda: shard.query_batch(qe.QueryBatchRequest(requests)))
        return [hits_of(points) for points in found]

    def search_fused(
        self,
        queries: Sequence[tuple[str, Vector]],
        k: int,
        where: dict[str, str] | None = None,
        depth: int = 100,
    ) -> list[Hit]:
        """See :meth:`entivec.store.Store.search_fused`."""
        qe = self._qe
        shard = self._require()
        condition = self._filter(where)
        prefetches = [
            qe.Prefetch(
                limit=max(k, depth),
                query=qe.Query.Nearest(self._engine_vector(q), using=name),
                filter=condition,
            )
            for name, q in queries
        ]
        request = qe.QueryRequest(
            limit=k,
            query=qe.Fusion.Rrf(k=RRF_K),
            prefetches=prefetches,
            filter=condition,
            with_payload=True,
        )
        found = self._call("search", lambda: shard.query(request))
        return hits_of(found, "rank_fusion")

    def search_groups(
        self,
        vector: str,
        query: Sequence[float],
        k: int,
        group_by: str,
        group_size: int,
        where: dict[str, str] | None = None,
    ) -> list[list[Hit]]:
        """See :meth:`entivec.store.Store.search_groups`. Qdrant Edge has no groups: the
        nearest points are grouped here, read deeper until the ``k`` best groups are
        full, the store has no more, or :data:`GROUP_READ_LIMIT` times ``k *
        group_size`` points were read (a server stops early too)."""
        depth = limit = k * group_size
        while True:
            hits = self.search(vector, query, depth, where)
            groups = grouped(hits, group_by, group_size)[:k]
            full = len(groups) == k and all(len(g) == group_size for g in groups)
            if full or len(hits) < depth or depth >= GROUP_READ_LIMIT * limit:
                return groups
            depth *= 4

    def count(self) -> int:
        """See :meth:`entivec.store.Store.count`."""
        if self._shard is None:
            return 0
        shard = self._shard
        return int(
            self._call("count points", lambda: shard.count(self._qe.CountRequest(exact=True)))
        )

    def points(self) -> Iterator[PointRecord]:
        """See :meth:`entivec.store.Store.points`."""
        for r in self._scroll(256, None, with_data=True):
            vectors = {name: vector_of(v) for name, v in dict(r.vector or {}).items()}
            yield PointRecord(str(r.id), vectors, dict(r.payload or {}))

    def distinct(self, key: str, limit: int = 1000) -> list[str]:
        """See :meth:`entivec.store.Store.distinct`."""
        if self._shard is None:
            return []
        shard, request = self._shard, self._qe.FacetRequest(key=key, limit=limit, exact=True)
        response = self._call("facet", lambda: shard.facet(request))
        return sorted(str(hit.value) for hit in response.hits)

    def finish(self) -> None:
        """Flush, then build the HNSW graph for what was loaded."""
        if self._shard is None:
            return
        shard = self._shard
        self._call("flush", shard.flush)
        self._call("optimize", shard.optimize)

    def close(self) -> None:
        """Flush and release the directory."""
        if self._shard is not None:
            shard, self._shard = self._shard, None
            self._call("flush", shard.flush)
            self._call("close", shard.close)

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
