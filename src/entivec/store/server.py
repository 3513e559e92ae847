"""A Qdrant server (or ``qdrant-client``'s local mode) through ``qdrant-client``.

How a server is reached (ports, the API key's rules) is :mod:`entivec.store.transport`;
which failures are retried, and how often, is :mod:`entivec.store.retries`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

from entivec.errors import SchemaMismatchError
from entivec.store import (
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
    hits_of,
    missing_vectors,
    query_vector,
    vector_of,
)
from entivec.store.client_models import (
    engine_vector,
    engine_vectors,
    keyword_filter,
    keyword_index,
)
from entivec.store.retries import Requests
from entivec.store.transport import (
    API_KEY_ENV,
    DEFAULT_TIMEOUT,
    ServerAddress,
    check_key_transport,
    open_client,
)

log = logging.getLogger(__name__)
# Qdrant refuses requests over 32 MB; an upsert is split well below it
MAX_REQUEST_BYTES = 16 * 2**20


class ServerStore:
    """A collection on a Qdrant server, or in qdrant-client's local mode.

    Args:
        client: A ``qdrant_client.QdrantClient``.
        collection: Collection name.
        description: How to name the store in messages (never includes the API key).
    """

    def __init__(
        self,
        client: Any,
        *,
        collection: str,
        description: str,
        address: ServerAddress | None = None,
        secrets: Sequence[str] = (),
        layout: Layout | None = None,
        index: IndexSettings | None = None,
    ) -> None:
        if address is None and layout is not None:
            layout.refuse_beyond_one("qdrant-client's local mode")
        self.layout = layout or Layout()
        self.index = index or IndexSettings()
        self.client = client
        self.collection = collection
        self.description = description
        self.address = address
        self._call = Requests(description, address=address, secrets=secrets)
        self._held: list[Any] | None = None  # the last upsert, sent by the next request
        self._lock = threading.Lock()  # ingestion writes from its own thread

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        collection: str,
        grpc_port: int | None = None,
        allow_insecure: bool = False,
        timeout: int = DEFAULT_TIMEOUT,
        layout: Layout | None = None,
        index: IndexSettings | None = None,
    ) -> ServerStore:
        """Connect to the server at ``url`` (see :mod:`entivec.store.transport` for the
        ports), with the API key of ``$QDRANT_API_KEY`` if set.

        Args:
            url: ``http(s)://host[:port]``; the port is the REST port.
            collection: Collection name.
            grpc_port: The server's gRPC port, when it is not 6334 beside a REST 6333.
            allow_insecure: Send the API key over plain http to a host that is not
                loopback (anyone on the path can read it).
            timeout: Seconds one request may take.
            layout: Shards, replicas and write consistency of a collection it creates.
            index: How a collection it creates builds its HNSW graph.

        Raises:
            InvalidStoreError: A bad URL, or an API key that would travel in cleartext.
        """
        address = ServerAddress.parse(url, grpc_port=grpc_port)
        api_key = os.environ.get(API_KEY_ENV) or None
        check_key_transport(address, api_key, allow_insecure=allow_insecure)
        return cls(
            open_client(address, api_key, timeout=timeout),
            collection=collection,
            description=f"Qdrant server {address}, collection {collection}",
            address=address,
            secrets=[api_key or ""],
            layout=layout,
            index=index,
        )

    def _request(
        self, action: str, method: str, *args: Any, idempotent: bool = True, **kwargs: Any
    ) -> Any:
        """``client.<method>(collection, *args, **kwargs)`` through :meth:`_call`."""
        return self._call(
            action,
            lambda: getattr(self.client, method)(self.collection, *args, **kwargs),
            idempotent=idempotent,
        )

    def ensure_schema(self, vectors: Sequence[VectorSchema]) -> None:
        """See :meth:`entivec.store.Store.ensure_schema`."""
        from qdrant_client import models

        from entivec.store.client_models import DISTANCES, quantization_config

        distances = {name: getattr(models.Distance, value) for name, value in DISTANCES.items()}
        if self._request("check the collection", "collection_exists"):
            self._check_layout()
            indexed = self._request("read the collection", "get_collection").payload_schema
            self._index_keywords([k for k in KEYWORD_INDEXES if k not in indexed], wait=False)
            have = self._read_vectors()
            for v in missing_vectors(self.description, have, vectors):
                log.info("adding the named vector %s to %s", v, self.description)
                params: Any = models.DenseVectorNameConfig(
                    dense=models.DenseVectorConfig(size=v.size, distance=distances[v.distance])
                )
                if v.sparse:
                    params = models.SparseVectorNameConfig(
                        sparse=models.SparseVectorConfig(modifier=models.Modifier.IDF)
                    )
                self._call(
                    "add a named vector",
                    partial(self.client.create_vector_name, self.collection, v.name, params),
                    idempotent=False,
                )
            return
        config = {
            v.name: models.VectorParams(size=v.size, distance=distances[v.distance])
            for v in vectors
            if not v.sparse
        }
        sparse = {
            v.name: models.SparseVectorParams(modifier=models.Modifier.IDF)
            for v in vectors
            if v.sparse
        }
        index = self.index
        self._request(
            "create the collection",
            "create_collection",
            vectors_config=config,
            sparse_vectors_config=sparse or None,
            hnsw_config=models.HnswConfigDiff(m=index.m, ef_construct=index.ef_construct),
            quantization_config=quantization_config(index.quantization),
            shard_number=self.layout.shards,
            replication_factor=self.layout.replicas,
            write_consistency_factor=self.layout.write_consistency,
            idempotent=False,
        )
        self._index_keywords(KEYWORD_INDEXES)

    def _index_keywords(self, names: Sequence[str], *, wait: bool = True) -> None:
        # on a large collection the server builds a late index longer than a request lasts
        with warnings.catch_warnings():
            # qdrant-client's local mode warns that it ignores payload indexes.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            for name in names:
                self._request(
                    f"index {name}",
                    "create_payload_index",
                    name,
                    keyword_index(name, self.index),
                    wait=wait,
                    idempotent=False,
                )

    def vectors(self) -> dict[str, VectorSchema]:
        """See :meth:`entivec.store.Store.vectors`."""
        if not self._request("check the collection", "collection_exists"):
            return {}
        return self._read_vectors()

    def _read_vectors(self) -> dict[str, VectorSchema]:
        info = self._request("read the collection", "get_collection")
        params = info.config.params.vectors
        dense = {
            name: VectorSchema(name, p.size, str(p.distance.value).lower())  # type: ignore[arg-type]
            for name, p in (params.items() if isinstance(params, dict) else [])
        }
        sparse = {
            name: VectorSchema.sparse_idf(name) for name in info.config.params.sparse_vectors or {}
        }
        return dense | sparse

    def _check_layout(self) -> None:
        """Report an existing collection laid out otherwise than asked (it is not reused)."""
        asked = {
            "shard_number": self.layout.shards,
            "replication_factor": self.layout.replicas,
            "write_consistency_factor": self.layout.write_consistency,
        }
        if all(value is None for value in asked.values()):
            return
        info = self._request("read the collection", "get_collection")
        params = info.config.params
        differs = [
            f"{key} {getattr(params, key, None)} (asked {value})"
            for key, value in asked.items()
            if value is not None and getattr(params, key, None) != value
        ]
        if differs:
            raise SchemaMismatchError(
                f"{self.description} exists with {', '.join(differs)}; use another collection, "
                "or change it on the server (shards are fixed at creation)"
            )

    def upsert(self, points: Sequence[PointRecord]) -> None:
        """See :meth:`entivec.store.Store.upsert` (split into requests well under Qdrant's
        32 MB limit).

        A request is sent with ``wait=False``: the server answers once it is in its
        write-ahead log, without waiting for it to be applied. The last one is held back
        until the next call, so that :meth:`finish` (or :meth:`close`) can send it with
        ``wait=True``; a shard applies its operations in order, so that answer means every
        upsert before it is applied too.
        """
        from qdrant_client import models

        for part in request_batches(points):
            batch = [
                models.PointStruct(id=p.id, vector=engine_vectors(p.vectors), payload=p.payload)
                for p in part
            ]
            with self._lock:
                self._send_held_locked(wait=False)
                self._held = batch

    def _send_held(self, *, wait: bool) -> None:
        """Send the upsert held back, if any: before any other request, to keep their
        order; a read waits for it, so that it sees every upsert before it."""
        with self._lock:
            self._send_held_locked(wait=wait)

    def _send_held_locked(self, *, wait: bool) -> None:
        if self._held is None:
            return
        batch, self._held = self._held, None
        self._request("upsert points", "upsert", batch, wait=wait)

    def payloads(self, ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """See :meth:`entivec.store.Store.payloads`."""
        self._send_held(wait=True)
        if not ids:
            return {}
        if not self._request("check the collection", "collection_exists"):
            return {}
        found = self._request(
            "retrieve points", "retrieve", list(ids), with_payload=list(keys), with_vectors=False
        )
        return {str(r.id): dict(r.payload or {}) for r in found}

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """See :meth:`entivec.store.Store.set_payload`."""
        self._send_held(wait=False)
        self._request("set payloads", "set_payload", payload, list(ids), wait=True)

    def ids(self, where: dict[str, str], exclude: Keywords | None = None) -> Iterator[str]:
        """See :meth:`entivec.store.Store.ids`."""
        self._send_held(wait=True)
        condition = keyword_filter(where, exclude)
        yield from (str(r.id) for r in self._scroll(1024, condition, data=False))

    def _scroll(self, limit: int, condition: Any, *, data: bool) -> Iterator[Any]:
        """The records matching ``condition``, ``limit`` a request; their data if ``data``."""
        offset = None
        while True:
            records, offset = self._call(
                "scroll",
                lambda o=offset: self.client.scroll(  # type: ignore[misc]
                    self.collection,
                    scroll_filter=condition,
                    limit=limit,
                    offset=o,
                    with_payload=data,
                    with_vectors=data,
                ),
            )
            yield from records
            if offset is None:
                return

    def delete(self, ids: Sequence[str]) -> None:
        """See :meth:`entivec.store.Store.delete`."""
        self._send_held(wait=False)
        from qdrant_client import models

        if ids:
            selector = models.PointIdsList(points=list(ids))
            self._request("delete points", "delete", selector, wait=True)

    def update_vectors(self, points: Sequence[PointRecord]) -> None:
        """See :meth:`entivec.store.Store.update_vectors`."""
        self._send_held(wait=False)
        from qdrant_client import models

        batch = [models.PointVectors(id=p.id, vector=engine_vectors(p.vectors)) for p in points]
        self._request("update vectors", "update_vectors", batch, wait=True)

    def search(
        self,
        vector: str,
        query: Sequence[float] | SparseVector,
        k: int,
        where: dict[str, str] | None = None,
        exclude: Keywords | None = None,
    ) -> list[Hit]:
        """See :meth:`entivec.store.Store.search`."""
        self._send_held(wait=True)
        condition = keyword_filter(where, exclude)
        response = self._call(
            "search",
            lambda: self.client.query_points(
                self.collection,
                query=engine_vector(query_vector(query)),
                using=vector,
                limit=k,
                query_filter=condition,
                with_payload=True,
            ),
        )
        return hits_of(response.points)

    def search_batch(
        self,
        vector: str,
        queries: Sequence[Sequence[float]],
        k: int,
        where: dict[str, str] | None = None,
        exclude: Keywords | None = None,
    ) -> list[list[Hit]]:
        """See :meth:`entivec.store.Store.search_batch`."""
        self._send_held(wait=True)
        from qdrant_client import models

        if not queries:
            return []
        condition = keyword_filter(where, exclude)
        requests = [
            models.QueryRequest(
                query=[float(x) for x in q],
                using=vector,
                limit=k,
                filter=condition,
                with_payload=True,
            )
            for q in queries
        ]
        responses = self._request("search", "query_batch_points", requests)
        return [hits_of(r.points) for r in responses]

    def search_fused(
        self,
        queries: Sequence[tuple[str, Vector]],
        k: int,
        where: dict[str, str] | None = None,
        depth: int = 100,
    ) -> list[Hit]:
        """See :meth:`entivec.store.Store.search_fused`."""
        self._send_held(wait=True)
        from qdrant_client import models

        condition = keyword_filter(where)
        prefetch = [
            models.Prefetch(
                query=engine_vector(q), using=name, limit=max(k, depth), filter=condition
            )
            for name, q in queries
        ]
        response = self._request(
            "search",
            "query_points",
            prefetch=prefetch,
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
            limit=k,
            query_filter=condition,
            with_payload=True,
        )
        return hits_of(response.points, "rank_fusion")

    def search_groups(
        self,
        vector: str,
        query: Sequence[float],
        k: int,
        group_by: str,
        group_size: int,
        where: dict[str, str] | None = None,
    ) -> list[list[Hit]]:
        """See :meth:`entivec.store.Store.search_groups`: the engine's search groups."""
        self._send_held(wait=True)
        response = self._request(
            "search",
            "query_points_groups",
            group_by=group_by,
            query=[float(x) for x in query],
            using=vector,
            limit=k,
            group_size=group_size,
            query_filter=keyword_filter(where),
            with_payload=True,
        )
        return [hits_of(group.hits) for group in response.groups]

    def count(self) -> int:
        """See :meth:`entivec.store.Store.count`."""
        self._send_held(wait=True)
        if not self._request("check the collection", "collection_exists"):
            return 0
        return int(self._request("count points", "count", exact=True).count)

    def points(self) -> Iterator[PointRecord]:
        """See :meth:`entivec.store.Store.points`."""
        self._send_held(wait=True)
        for r in self._scroll(256, None, data=True):
            vectors = {name: vector_of(v) for name, v in dict(r.vector or {}).items()}
            yield PointRecord(str(r.id), vectors, dict(r.payload or {}))

    def distinct(self, key: str, limit: int = 1000) -> list[str]:
        """See :meth:`entivec.store.Store.distinct`."""
        self._send_held(wait=True)
        if not self._request("check the collection", "collection_exists"):
            return []
        response = self._request("facet", "facet", key, limit=limit, exact=True)
        return sorted(str(hit.value) for hit in response.hits)

    def finish(self) -> None:
        """Send the last upsert with ``wait=True``, so that every upsert is applied when
        this returns. The server builds its indexes in the background."""
        self._send_held(wait=True)

    def close(self) -> None:
        """Send the upsert held back, then close the client."""
        try:
            self._send_held(wait=True)
        finally:
            self.client.close()


def request_batches(
    points: Sequence[PointRecord], limit: int = MAX_REQUEST_BYTES
) -> Iterator[list[PointRecord]]:
    """``points`` in consecutive groups whose JSON size stays under ``limit`` bytes (a
    single larger point is a group of its own, for the server to judge)."""
    group: list[PointRecord] = []
    size = 0
    for point in points:
        # JSON floats take up to about 12 characters each
        weight = 12 * sum(_numbers(v) for v in point.vectors.values()) + len(
            json.dumps(point.payload, ensure_ascii=False)
        )
        if group and size + weight > limit:
            yield group
            group, size = [], 0
        group.append(point)
        size += weight
    if group:
        yield group


def _numbers(vector: Vector) -> int:
    """How many numbers a vector sends (a sparse one sends ids and weights)."""
    return 2 * len(vector.indices) if isinstance(vector, SparseVector) else len(vector)
