"""A Qdrant server (or ``qdrant-client``'s local mode) through ``qdrant-client``.

Addresses: the URL's port is the REST port (6333 when it names none). gRPC is preferred
on 6334 when the REST port is Qdrant's 6333, on ``grpc_port`` when given, and not used
otherwise (a server behind a proxy on another port speaks REST there). An API key
(``$QDRANT_API_KEY``) is never sent over plain ``http://`` to a host that is not loopback
unless the caller allows it, and a URL with credentials is refused: messages never
contain them, nor the key.

Retries: idempotent operations (reads, searches, upserts and vector updates of uuid5
ids, whose repeat does no harm) are retried with exponential backoff on errors a server
recovers from (429, 502-504, gRPC UNAVAILABLE/DEADLINE_EXCEEDED/RESOURCE_EXHAUSTED,
dropped connections), for at most :data:`RETRY_ATTEMPTS` attempts and
:data:`RETRY_BUDGET` seconds; a refused or timed-out connection is retried only once the
server has answered (one that never answered is not there, or does not speak Qdrant).
Creating a collection, a named vector or a payload index is not retried. Each request
waits at most ``timeout`` seconds (:data:`DEFAULT_TIMEOUT`), so a host that never
answers fails after one timeout.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from entivec.errors import InvalidStoreError, SchemaMismatchError, StoreError
from entivec.store import (
    KEYWORD_INDEXES,
    RRF_K,
    Hit,
    IndexSettings,
    Layout,
    PointRecord,
    SparseVector,
    Vector,
    VectorSchema,
    hits_of,
    missing_vectors,
    vector_of,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
API_KEY_ENV = "QDRANT_API_KEY"
_TRANSIENT_HTTP = {429, 502, 503, 504}
# Qdrant refuses requests over 32 MB; an upsert is split well below it
MAX_REQUEST_BYTES = 16 * 2**20
# the payload key a collection's data is partitioned by (Qdrant's multitenancy): a
# language-filtered query reads one language's part of the index
TENANT_KEY = "language"


def is_transient(exc: BaseException) -> bool:
    """Whether a qdrant-client error is worth retrying."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, UnexpectedResponse):
        return exc.status_code in _TRANSIENT_HTTP
    if isinstance(exc, ResponseHandlingException | ConnectionError | TimeoutError):
        return True
    try:
        import grpc
    except ImportError:  # pragma: no cover - qdrant-client depends on grpcio
        return False
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        code = exc.code()
        return code in {
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        }
    return False


def is_refused(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a refused connection, on either transport."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return True
        if (
            "connection refused" in str(seen).lower()
            or "connecterror" in type(seen).__name__.lower()
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a request that ran out of time."""
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "code", None)
        if isinstance(seen, TimeoutError) or "timeout" in type(seen).__name__.lower():
            return True
        if callable(code) and getattr(code(), "name", "") == "DEADLINE_EXCEEDED":
            return True
        if "timed out" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def failure(exc: BaseException) -> str:
    """What went wrong, in a few words: the transport's status, never a repr."""
    from qdrant_client.http.exceptions import UnexpectedResponse

    if is_refused(exc):
        return "connection refused"
    if is_timeout(exc):
        return "timed out"
    if isinstance(exc, UnexpectedResponse):
        return f"HTTP {exc.status_code} {exc.reason_phrase}".rstrip()
    code = getattr(exc, "code", None)
    if callable(code):
        details = getattr(exc, "details", lambda: "")() or ""
        return f"gRPC {code().name}: {details}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


# Attempts, the longest wait between two and the time budget of one operation's
# retries, in seconds; tests lower them.
RETRY_ATTEMPTS = 6
RETRY_MAX_WAIT = 8.0
RETRY_BUDGET = 20.0
DEFAULT_TIMEOUT = 10
QDRANT_REST_PORT = 6333
QDRANT_GRPC_PORT = 6334


def _retrying(fn: Callable[[], T], *, answered: bool, what: str) -> Callable[[], T]:
    """``fn`` retried on transient errors; before the server has ever answered, a refused
    or timed-out connection is final (nothing is listening, or nothing that answers)."""

    def worth_retrying(exc: BaseException) -> bool:
        return is_transient(exc) and (answered or not (is_refused(exc) or is_timeout(exc)))

    def say(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("%s: %s; retrying in %.1f s", what, failure(exc) if exc else "?", wait)

    return retry(
        retry=retry_if_exception(worth_retrying),
        wait=wait_exponential(multiplier=0.5, max=RETRY_MAX_WAIT),
        stop=stop_after_attempt(RETRY_ATTEMPTS) | stop_after_delay(RETRY_BUDGET),
        before_sleep=say,
        reraise=True,
    )(fn)


@dataclass(frozen=True)
class ServerAddress:
    """Where a Qdrant server listens, read from a STORE URL (no credentials kept).

    Attributes:
        https: Whether the URL is ``https://``.
        host: Host name or address.
        port: The REST port.
        grpc_port: The gRPC port, or ``None`` to talk REST only.
    """

    https: bool
    host: str
    port: int
    grpc_port: int | None

    @classmethod
    def parse(cls, url: str, *, grpc_port: int | None = None) -> ServerAddress:
        """Read ``url``; ``grpc_port`` overrides the gRPC port the URL implies.

        Raises:
            InvalidStoreError: Not an http(s) URL with a host, a bad port, or credentials
                in the URL (the message never repeats them).
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidStoreError(
                "STORE: expected an http(s)://host[:port] URL of a Qdrant server"
            )
        host = parts.hostname
        if parts.username is not None or parts.password is not None:
            raise InvalidStoreError(
                f"STORE {parts.scheme}://{host}: credentials in the URL are not used by Qdrant; "
                f"remove them and put the API key in ${API_KEY_ENV}"
            )
        try:
            port = parts.port or QDRANT_REST_PORT
        except ValueError:
            raise InvalidStoreError(
                f"STORE {parts.scheme}://{host}: the port is not a number in 1..65535"
            ) from None
        if grpc_port is None and port == QDRANT_REST_PORT:
            grpc_port = QDRANT_GRPC_PORT
        return cls(parts.scheme == "https", host, port, grpc_port)

    @property
    def loopback(self) -> bool:
        """Whether the host is this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        scheme = "https" if self.https else "http"
        grpc = f", gRPC {self.grpc_port}" if self.grpc_port else ", REST only"
        return f"{scheme}://{self.host}:{self.port}{grpc}"


def check_key_transport(
    address: ServerAddress, api_key: str | None, *, allow_insecure: bool = False
) -> None:
    """Refuse to send ``api_key`` in cleartext (plain http to a host that is not loopback)
    unless ``allow_insecure``.

    Raises:
        InvalidStoreError: The key would travel in cleartext.
    """
    if api_key and not address.https and not address.loopback and not allow_insecure:
        raise InvalidStoreError(
            f"refusing to send ${API_KEY_ENV} in cleartext to {address.host} over http://: "
            "use https://, or pass --allow-insecure on a network you trust"
        )


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
        self._secrets = [secret for secret in secrets if secret]
        self._answered = address is None  # local mode is always there
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
        """Connect to the server at ``url`` (see the module docstring for the ports), with
        the API key of ``$QDRANT_API_KEY`` if set.

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
        from qdrant_client import QdrantClient

        address = ServerAddress.parse(url, grpc_port=grpc_port)
        api_key = os.environ.get(API_KEY_ENV) or None
        check_key_transport(address, api_key, allow_insecure=allow_insecure)
        with warnings.catch_warnings():
            # the insecure case is decided above; qdrant-client would warn on every open
            warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")
            client = QdrantClient(
                host=address.host,
                port=address.port,
                grpc_port=address.grpc_port or QDRANT_GRPC_PORT,
                prefer_grpc=address.grpc_port is not None,
                https=address.https,
                api_key=api_key,
                timeout=timeout,
            )
        return cls(
            client,
            collection=collection,
            description=f"Qdrant server {address}, collection {collection}",
            address=address,
            secrets=[api_key or ""],
            layout=layout,
            index=index,
        )

    def _call(self, action: str, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        where = ""
        if self.address is not None:
            where = f" at {self.address.host}:{self.address.grpc_port or self.address.port}"
        try:
            if idempotent:
                what = self._scrub(f"{self.description}: {action}{where}")
                result = _retrying(fn, answered=self._answered, what=what)()
            else:
                result = fn()
        except StoreError:
            raise
        except Exception as exc:
            message = f"{self.description}: could not {action}: {failure(exc)}{where}"
            raise StoreError(self._scrub(message)) from exc
        self._answered = True
        return result

    def _scrub(self, message: str) -> str:
        """One line, with no secret in it."""
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return " ".join(message.split())

    def ensure_schema(self, vectors: Sequence[VectorSchema]) -> None:
        """See :meth:`entivec.store.Store.ensure_schema`."""
        from qdrant_client import models

        distances = {
            "cosine": models.Distance.COSINE,
            "dot": models.Distance.DOT,
            "euclid": models.Distance.EUCLID,
        }
        exists = self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        )
        if exists:
            self._check_layout()
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
        self._call(
            "create the collection",
            lambda: self.client.create_collection(
                self.collection,
                vectors_config=config,
                sparse_vectors_config=sparse or None,
                hnsw_config=models.HnswConfigDiff(m=index.m, ef_construct=index.ef_construct),
                shard_number=self.layout.shards,
                replication_factor=self.layout.replicas,
                write_consistency_factor=self.layout.write_consistency,
            ),
            idempotent=False,
        )
        with warnings.catch_warnings():
            # qdrant-client's local mode warns that it ignores payload indexes.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            for name in KEYWORD_INDEXES:
                schema = models.KeywordIndexParams(
                    type=models.KeywordIndexType.KEYWORD,
                    is_tenant=name == TENANT_KEY or None,
                    enable_hnsw=name in index.graph_keys,
                )
                self._call(
                    f"index {name}",
                    lambda n=name, f=schema: self.client.create_payload_index(  # type: ignore[misc]
                        self.collection, n, f, wait=True
                    ),
                    idempotent=False,
                )

    def vectors(self) -> dict[str, VectorSchema]:
        """See :meth:`entivec.store.Store.vectors`."""
        if not self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        ):
            return {}
        return self._read_vectors()

    def _read_vectors(self) -> dict[str, VectorSchema]:
        info = self._call(
            "read the collection", lambda: self.client.get_collection(self.collection)
        )
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
        info = self._call(
            "read the collection", lambda: self.client.get_collection(self.collection)
        )
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
                models.PointStruct(id=p.id, vector=_engine_vectors(p.vectors), payload=p.payload)
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
        self._call("upsert points", lambda: self.client.upsert(self.collection, batch, wait=wait))

    def payloads(self, ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """See :meth:`entivec.store.Store.payloads`."""
        self._send_held(wait=True)
        if not ids:
            return {}
        if not self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        ):
            return {}
        found = self._call(
            "retrieve points",
            lambda: self.client.retrieve(
                self.collection, list(ids), with_payload=list(keys), with_vectors=False
            ),
        )
        return {str(r.id): dict(r.payload or {}) for r in found}

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """See :meth:`entivec.store.Store.set_payload`."""
        self._send_held(wait=False)
        self._call(
            "set payloads",
            lambda: self.client.set_payload(self.collection, payload, list(ids), wait=True),
        )

    def ids(self, where: dict[str, str]) -> Iterator[str]:
        """See :meth:`entivec.store.Store.ids`."""
        self._send_held(wait=True)
        offset = None
        while True:
            records, offset = self._call(
                "scroll",
                lambda o=offset: self.client.scroll(  # type: ignore[misc]
                    self.collection,
                    scroll_filter=_filter(where),
                    limit=1024,
                    offset=o,
                    with_payload=False,
                    with_vectors=False,
                ),
            )
            yield from (str(r.id) for r in records)
            if offset is None:
                return

    def delete(self, ids: Sequence[str]) -> None:
        """See :meth:`entivec.store.Store.delete`."""
        self._send_held(wait=False)
        from qdrant_client import models

        if ids:
            selector = models.PointIdsList(points=list(ids))
            self._call(
                "delete points",
                lambda: self.client.delete(self.collection, selector, wait=True),
            )

    def update_vectors(self, points: Sequence[PointRecord]) -> None:
        """See :meth:`entivec.store.Store.update_vectors`."""
        self._send_held(wait=False)
        from qdrant_client import models

        batch = [models.PointVectors(id=p.id, vector=_engine_vectors(p.vectors)) for p in points]
        self._call(
            "update vectors",
            lambda: self.client.update_vectors(self.collection, batch, wait=True),
        )

    def search(
        self,
        vector: str,
        query: Sequence[float],
        k: int,
        where: dict[str, str] | None = None,
        exclude: dict[str, str] | None = None,
    ) -> list[Hit]:
        """See :meth:`entivec.store.Store.search`."""
        self._send_held(wait=True)
        condition = _filter(where, exclude)
        response = self._call(
            "search",
            lambda: self.client.query_points(
                self.collection,
                query=[float(x) for x in query],
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
        exclude: dict[str, str] | None = None,
    ) -> list[list[Hit]]:
        """See :meth:`entivec.store.Store.search_batch`."""
        self._send_held(wait=True)
        from qdrant_client import models

        if not queries:
            return []
        condition = _filter(where, exclude)
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
        responses = self._call(
            "search", lambda: self.client.query_batch_points(self.collection, requests)
        )
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

        condition = _filter(where)
        prefetch = [
            models.Prefetch(
                query=_engine_vector(q), using=name, limit=max(k, depth), filter=condition
            )
            for name, q in queries
        ]
        response = self._call(
            "search",
            lambda: self.client.query_points(
                self.collection,
                prefetch=prefetch,
                query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                limit=k,
                query_filter=condition,
                with_payload=True,
            ),
        )
        return hits_of(response.points)

    def count(self) -> int:
        """See :meth:`entivec.store.Store.count`."""
        self._send_held(wait=True)
        if not self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        ):
            return 0
        result = self._call("count points", lambda: self.client.count(self.collection, exact=True))
        return int(result.count)

    def points(self) -> Iterator[PointRecord]:
        """See :meth:`entivec.store.Store.points`."""
        self._send_held(wait=True)
        offset = None
        while True:
            records, offset = self._call(
                "scroll",
                lambda o=offset: self.client.scroll(  # type: ignore[misc]
                    self.collection, limit=256, offset=o, with_payload=True, with_vectors=True
                ),
            )
            for r in records:
                vectors = {name: vector_of(v) for name, v in dict(r.vector or {}).items()}
                yield PointRecord(str(r.id), vectors, dict(r.payload or {}))
            if offset is None:
                return

    def distinct(self, key: str, limit: int = 1000) -> list[str]:
        """See :meth:`entivec.store.Store.distinct`."""
        self._send_held(wait=True)
        if not self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        ):
            return []
        response = self._call(
            "facet", lambda: self.client.facet(self.collection, key, limit=limit, exact=True)
        )
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


def _engine_vector(vector: Vector | Sequence[float]) -> Any:
    from qdrant_client import models

    if isinstance(vector, SparseVector):
        return models.SparseVector(indices=list(vector.indices), values=list(vector.values))
    return [float(x) for x in vector]


def _engine_vectors(vectors: dict[str, Vector]) -> Any:
    return {name: _engine_vector(v) for name, v in vectors.items()}


def _filter(where: dict[str, str] | None, exclude: dict[str, str] | None = None) -> Any:
    """Keyword conditions: all of ``where`` must match, none of ``exclude``."""
    from qdrant_client import models

    def conditions(pairs: dict[str, str] | None) -> list[Any] | None:
        if not pairs:
            return None
        return [
            models.FieldCondition(key=k, match=models.MatchValue(value=v)) for k, v in pairs.items()
        ]

    if not where and not exclude:
        return None
    return models.Filter(must=conditions(where), must_not=conditions(exclude))


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
