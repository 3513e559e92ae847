"""A Qdrant server (or ``qdrant-client``'s local mode) through ``qdrant-client``.

Writes are retried with exponential backoff on errors a server recovers from (429,
502-504, gRPC UNAVAILABLE/DEADLINE_EXCEEDED, dropped connections); anything else
fails at once. Upserts of the same uuid5 ids are idempotent, so a retried batch that
had in fact landed does no harm.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar, cast

from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from entivec.errors import StoreError
from entivec.store import KEYWORD_INDEXES, Hit, PointRecord, VectorSchema, missing_vectors

log = logging.getLogger(__name__)
T = TypeVar("T")
API_KEY_ENV = "QDRANT_API_KEY"
_TRANSIENT_HTTP = {429, 502, 503, 504}


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


# Attempts and the longest wait between them; tests lower them.
RETRY_ATTEMPTS = 6
RETRY_MAX_WAIT = 10.0


def _retrying(fn: Callable[[], T]) -> Callable[[], T]:
    return retry(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential(multiplier=0.5, max=RETRY_MAX_WAIT),
        stop=stop_after_attempt(RETRY_ATTEMPTS),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )(fn)


class ServerStore:
    """A collection on a Qdrant server, or in qdrant-client's local mode.

    Args:
        client: A ``qdrant_client.QdrantClient``.
        collection: Collection name.
        description: How to name the store in messages (never includes the API key).
    """

    def __init__(self, client: Any, *, collection: str, description: str) -> None:
        self.client = client
        self.collection = collection
        self.description = description

    @classmethod
    def connect(cls, url: str, *, collection: str) -> ServerStore:
        """Connect to the server at ``url`` (gRPC preferred), API key from ``$QDRANT_API_KEY``."""
        from qdrant_client import QdrantClient

        client = QdrantClient(
            url=url, api_key=os.environ.get(API_KEY_ENV) or None, prefer_grpc=True, timeout=60
        )
        return cls(
            client,
            collection=collection,
            description=f"Qdrant server {url}, collection {collection}",
        )

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return _retrying(fn)()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"{self.description}: could not {action}: {exc}") from exc

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
            info = self._call(
                "read the collection", lambda: self.client.get_collection(self.collection)
            )
            params = info.config.params.vectors
            have = {
                name: VectorSchema(name, p.size, str(p.distance.value).lower())  # type: ignore[arg-type]
                for name, p in (params.items() if isinstance(params, dict) else [])
            }
            for v in missing_vectors(self.description, have, vectors):
                log.info("adding the named vector %s to %s", v, self.description)
                params = models.DenseVectorNameConfig(
                    dense=models.DenseVectorConfig(size=v.size, distance=distances[v.distance])
                )
                self._call(
                    "add a named vector",
                    partial(self.client.create_vector_name, self.collection, v.name, params),
                )
            return
        config = {
            v.name: models.VectorParams(size=v.size, distance=distances[v.distance])
            for v in vectors
        }
        self._call(
            "create the collection",
            lambda: self.client.create_collection(self.collection, vectors_config=config),
        )
        with warnings.catch_warnings():
            # qdrant-client's local mode warns that it ignores payload indexes.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            for name in KEYWORD_INDEXES:
                self._call(
                    f"index {name}",
                    lambda n=name: self.client.create_payload_index(  # type: ignore[misc]
                        self.collection, n, models.PayloadSchemaType.KEYWORD, wait=True
                    ),
                )

    def upsert(self, points: Sequence[PointRecord]) -> None:
        """See :meth:`entivec.store.Store.upsert`."""
        from qdrant_client import models

        batch = [
            models.PointStruct(id=p.id, vector=cast("Any", p.vectors), payload=p.payload)
            for p in points
        ]
        self._call("upsert points", lambda: self.client.upsert(self.collection, batch, wait=True))

    def existing(self, ids: Sequence[str], vectors: Sequence[str] = ()) -> set[str]:
        """See :meth:`entivec.store.Store.existing`."""
        if not ids:
            return set()
        if not self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        ):
            return set()
        found = self._call(
            "retrieve points",
            lambda: self.client.retrieve(
                self.collection, list(ids), with_payload=False, with_vectors=list(vectors) or False
            ),
        )
        return {
            str(r.id)
            for r in found
            if set(vectors) <= set(r.vector if isinstance(r.vector, dict) else {})
        }

    def update_vectors(self, points: Sequence[PointRecord]) -> None:
        """See :meth:`entivec.store.Store.update_vectors`."""
        from qdrant_client import models

        batch = [models.PointVectors(id=p.id, vector=cast("Any", p.vectors)) for p in points]
        self._call(
            "update vectors",
            lambda: self.client.update_vectors(self.collection, batch, wait=True),
        )

    def search(
        self, vector: str, query: Sequence[float], k: int, where: dict[str, str] | None = None
    ) -> list[Hit]:
        """See :meth:`entivec.store.Store.search`."""
        from qdrant_client import models

        condition = None
        if where:
            condition = models.Filter(
                must=[
                    models.FieldCondition(key=key, match=models.MatchValue(value=value))
                    for key, value in where.items()
                ]
            )
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
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in response.points]

    def count(self) -> int:
        """See :meth:`entivec.store.Store.count`."""
        if not self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        ):
            return 0
        result = self._call("count points", lambda: self.client.count(self.collection, exact=True))
        return int(result.count)

    def points(self) -> Iterator[PointRecord]:
        """See :meth:`entivec.store.Store.points`."""
        offset = None
        while True:
            records, offset = self._call(
                "scroll",
                lambda o=offset: self.client.scroll(  # type: ignore[misc]
                    self.collection, limit=256, offset=o, with_payload=True, with_vectors=True
                ),
            )
            for r in records:
                yield PointRecord(str(r.id), dict(r.vector or {}), dict(r.payload or {}))
            if offset is None:
                return

    def distinct(self, key: str, limit: int = 1000) -> list[str]:
        """See :meth:`entivec.store.Store.distinct`."""
        if not self._call(
            "check the collection", lambda: self.client.collection_exists(self.collection)
        ):
            return []
        response = self._call(
            "facet", lambda: self.client.facet(self.collection, key, limit=limit, exact=True)
        )
        return sorted(str(hit.value) for hit in response.hits)

    def finish(self) -> None:
        """Nothing to do: a server indexes in the background."""

    def close(self) -> None:
        """Close the client."""
        self.client.close()
