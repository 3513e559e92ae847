"""One collection schema, two engines: Qdrant Edge on a local path, a Qdrant server by URL.

``open_store("path/to/dir")`` opens (or creates) an embedded Qdrant Edge store;
``open_store("http://host:6333")`` connects to a Qdrant server through
``qdrant-client`` (gRPC preferred; the API key comes from ``$QDRANT_API_KEY``). Both
implement :class:`Store`, so ingestion and queries do not care which is behind.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from entivec.errors import InvalidArgumentError, InvalidStoreError, SchemaMismatchError
from entivec.records import Span

DEFAULT_COLLECTION = "entivec"
# Keyword indexes created before any upload, so the engine indexes as it ingests; one a
# store lacks (made by an older entivec) is added when it is next written. Routing
# excludes the sentences it labelled itself by ``language_source``: without its index
# that filter read each candidate's payload and routing ran 3.5x slower (bench/README.md).
KEYWORD_INDEXES = (
    "language",
    "language_source",
    "entity_type",
    "sentence_id",
    "corpus",
    "source",
    "kind",
    "location",
)
# The keys searches filter on; the others serve lookups and clean-up, which need no graph
FILTERED_SEARCH_KEYS = ("language", "entity_type")
POINT_NAMESPACE = uuid.UUID("6f1d4c2e-4b0a-5d8e-9a51-2f0c8d6e7a13")
# Qdrant's own rule for collection names, minus what would leave the store's directory
_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


def point_id(*parts: str) -> str:
    """The uuid5 of a point named by its parts: the same parts always give the same id."""
    return str(uuid.uuid5(POINT_NAMESPACE, "\x1f".join(parts)))


def sentence_point_id(corpus: str, source: str, sentence_id: str) -> str:
    """The id of a sentence point: its corpus, file and id in the file."""
    return point_id(corpus, source, sentence_id)


def mention_point_id(corpus: str, source: str, sentence_id: str, span: Span) -> str:
    """The id of a mention point: its sentence's parts, then the span with its type (two
    types over the same tokens are two mentions)."""
    return point_id(corpus, source, sentence_id, f"{span.start}:{span.end}:{span.type}")


def check_collection_name(name: str) -> str:
    """``name`` if it can name a collection (and a folder inside the store), else an error.

    Raises:
        InvalidStoreError: Empty, too long, ``..`` or a character outside letters, digits,
            ``_``, ``-`` and ``.``.
    """
    if not _COLLECTION.match(name) or ".." in name:
        raise InvalidStoreError(
            f"collection {name[:60]!r}: expected letters, digits, '_', '-' or '.', starting "
            "with a letter or digit (it names a folder inside the store)"
        )
    return name


@dataclass(frozen=True)
class VectorSchema:
    """A named vector of the collection: dense (``size``, ``distance``) or sparse (token
    weights scored by dot product, with the engine's IDF: BM25)."""

    name: str
    size: int
    distance: Literal["cosine", "dot", "euclid"]
    sparse: bool = False

    def __str__(self) -> str:
        if self.sparse:
            return f"{self.name} (sparse, IDF)"
        return f"{self.name} (size {self.size}, {self.distance})"

    @classmethod
    def sparse_idf(cls, name: str) -> VectorSchema:
        """A sparse vector whose weights the engine multiplies by each token's IDF."""
        return cls(name, 0, "dot", sparse=True)


@dataclass(frozen=True)
class SparseVector:
    """Token ids and their weights, ids ascending (a BM25 document or query)."""

    indices: tuple[int, ...]
    values: tuple[float, ...]


Vector = list[float] | SparseVector


@dataclass(frozen=True)
class PointRecord:
    """A point to upsert: uuid id, named vectors, payload."""

    id: str
    vectors: dict[str, Vector]
    payload: dict[str, Any]


def query_vector(query: Sequence[float] | SparseVector) -> Vector:
    """A query as the engines take it: a sparse vector as is, a dense one as floats."""
    return query if isinstance(query, SparseVector) else [float(x) for x in query]


def grouped(hits: Sequence[Hit], key: str, size: int) -> list[list[Hit]]:
    """``hits`` (best first) grouped by their payload ``key``, at most ``size`` each, in
    the order of each group's best hit; hits without the key are left out."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        value = hit.payload.get(key)
        if isinstance(value, str):
            members = groups.setdefault(value, [])
            if len(members) < size:
                members.append(hit)
    return list(groups.values())


def hits_of(found: Sequence[Any], score_kind: ScoreKind = "similarity") -> list[Hit]:
    """An engine's scored points (Qdrant Edge's or qdrant-client's) as hits."""
    return [Hit(str(p.id), float(p.score), dict(p.payload or {}), score_kind) for p in found]


def vector_of(stored: Any) -> Vector:
    """An engine's stored vector (dense list or sparse object) as entivec's."""
    if hasattr(stored, "indices"):
        return SparseVector(tuple(stored.indices), tuple(float(x) for x in stored.values))
    return list(stored)


# keyword conditions: a key's value, or any of a list of values
Keywords = Mapping[str, str | list[str]]
# Qdrant's default RRF constant: a hit's fused score is the sum of 1 / (k + rank)
RRF_K = 2


# what a hit's score is: the vector's similarity, or a reciprocal rank fusion of
# rankings (1 / (constant + rank) summed), which is not on the similarity's scale
ScoreKind = Literal["similarity", "rank_fusion"]


@dataclass(frozen=True)
class Hit:
    """A search result; ``score_kind`` says which scale ``score`` is on."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)
    score_kind: ScoreKind = "similarity"


def missing_vectors(
    where: str, existing: dict[str, VectorSchema], wanted: Sequence[VectorSchema]
) -> list[VectorSchema]:
    """The vectors of ``wanted`` that ``existing`` lacks (a collection can gain them).

    Args:
        where: The store, as messages should name it.
        existing: The collection's named vectors.
        wanted: What the encoders need.

    Raises:
        SchemaMismatchError: A vector exists with another size or distance.
    """
    missing = []
    for vector in wanted:
        have = existing.get(vector.name)
        if have is None:
            missing.append(vector)
        elif have != vector:
            raise SchemaMismatchError(
                f"{where} stores {have}, but {vector} was asked; use another store or "
                "collection, or the encoder it was built with"
            )
    return missing


class Store(Protocol):
    """What ingestion and the query layer need from an engine."""

    description: str

    def ensure_schema(self, vectors: Sequence[VectorSchema]) -> None:
        """Create the collection with these vectors and the keyword indexes; on an existing
        one, add the named vectors and keyword indexes it lacks (its points keep everything
        they hold) and raise :class:`~entivec.errors.SchemaMismatchError` if a vector
        differs in size or distance."""
        ...

    def upsert(self, points: Sequence[PointRecord]) -> None:
        """Insert or overwrite points (retrying transient server errors); a server may
        apply them after this returns, and :meth:`finish` waits until it has."""
        ...

    def vectors(self) -> dict[str, VectorSchema]:
        """The collection's named vectors (empty when there is no collection yet)."""
        ...

    def payloads(self, ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The payload ``keys`` of the points of ``ids`` that are stored, by id."""
        ...

    def update_vectors(self, points: Sequence[PointRecord]) -> None:
        """Set the named vectors of stored points, leaving their other vectors and payload
        as they are (``payload`` of the records is ignored)."""
        ...

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Set these payload keys on stored points; their other keys stay."""
        ...

    def ids(self, where: dict[str, str], exclude: Keywords | None = None) -> Iterator[str]:
        """The id of every point whose keyword payloads match ``where`` and none of
        ``exclude``."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Delete the points of ``ids`` (ids not stored are ignored)."""
        ...

    def search(
        self,
        vector: str,
        query: Sequence[float] | SparseVector,
        k: int,
        where: dict[str, str] | None = None,
        exclude: Keywords | None = None,
    ) -> list[Hit]:
        """The ``k`` nearest points by named vector ``vector`` (dense, or sparse with a
        sparse query); ``where`` keywords must match, ``exclude`` keywords (a value, or
        any of a list) must not."""
        ...

    def search_batch(
        self,
        vector: str,
        queries: Sequence[Sequence[float]],
        k: int,
        where: dict[str, str] | None = None,
        exclude: Keywords | None = None,
    ) -> list[list[Hit]]:
        """:meth:`search` for several queries (the same filters) in one engine call; one
        hit list per query, in order."""
        ...

    def search_fused(
        self,
        queries: Sequence[tuple[str, Vector]],
        k: int,
        where: dict[str, str] | None = None,
        depth: int = 100,
    ) -> list[Hit]:
        """The ``k`` best points by the engine's reciprocal rank fusion (constant
        :data:`RRF_K`) of the ``depth`` nearest by each ``(vector name, query)``; scores
        are fusion scores."""
        ...

    def search_groups(
        self,
        vector: str,
        query: Sequence[float],
        k: int,
        group_by: str,
        group_size: int,
        where: dict[str, str] | None = None,
    ) -> list[list[Hit]]:
        """The ``k`` best groups of points sharing a value of payload ``group_by``, each
        its ``group_size`` nearest points best first, groups ordered by their best point
        (Qdrant's search groups)."""
        ...

    def count(self) -> int:
        """Number of points."""
        ...

    def points(self) -> Iterator[PointRecord]:
        """Every point with its vectors and payload (for checks and exports)."""
        ...

    def distinct(self, key: str, limit: int = 1000) -> list[str]:
        """The distinct values of keyword payload ``key`` (an indexed key), sorted."""
        ...

    def finish(self) -> None:
        """Make a bulk load durable, applied and searchable fast (flush and build the HNSW
        graph on Qdrant Edge; wait for the last upsert on a server)."""
        ...

    def close(self) -> None:
        """Release the store (Qdrant Edge allows one opener per directory)."""
        ...


@dataclass(frozen=True)
class Layout:
    """How a new collection is laid out on a Qdrant cluster (``None``: the server's
    default). Qdrant Edge and qdrant-client's local mode keep one copy in one shard.

    Attributes:
        shards: ``shard_number``: pieces the collection is split into, spread over nodes.
        replicas: ``replication_factor``: copies of each shard, on different nodes.
        write_consistency: ``write_consistency_factor``: replicas that must acknowledge
            a write before it succeeds.
    """

    shards: int | None = None
    replicas: int | None = None
    write_consistency: int | None = None

    def __post_init__(self) -> None:
        for name, value in self.settings().items():
            if value < 1:
                raise InvalidArgumentError(f"{name} must be at least 1, got {value}")
        if (self.replicas or 1) < (self.write_consistency or 1):
            raise InvalidArgumentError(
                f"write consistency {self.write_consistency} needs at least as many replicas, "
                f"got {self.replicas or 1}"
            )

    def settings(self) -> dict[str, int]:
        """The settings given, by their option names."""
        given = {
            "shards": self.shards,
            "replicas": self.replicas,
            "write consistency": self.write_consistency,
        }
        return {name: value for name, value in given.items() if value is not None}

    def refuse_beyond_one(self, engine: str) -> None:
        """Raise unless every setting given is 1: ``engine`` holds one copy in one shard.

        Raises:
            InvalidArgumentError: Naming the settings and what serves them.
        """
        beyond = {name: v for name, v in self.settings().items() if v > 1}
        if beyond:
            listed = ", ".join(f"{name} {value}" for name, value in beyond.items())
            raise InvalidArgumentError(
                f"{engine} keeps a collection in one shard with one copy, so {listed} cannot "
                "be honoured; use a Qdrant server or cluster (docker/compose.cluster.yaml)"
            )


# what IndexSettings.quantization may be; int8's quantile drops the extreme 1 % of values
QUANTIZATIONS = (None, "int8")
INT8_QUANTILE = 0.99


@dataclass(frozen=True)
class IndexSettings:
    """How a new collection builds its HNSW graph (bench/README.md, "Qdrant Edge at scale",
    has what each costs).

    Attributes:
        m: Links per node of the graph.
        ef_construct: Candidates kept while linking a node.
        segments: Segments a bulk load is optimised into (``None``: the engine's default,
            one per CPU core); each builds its own graph.
        indexing_threshold_kb: A segment gets a graph above this size.
        graph_keys: Keyword keys that get extra graph links per value, so that a search
            filtered on them stays fast and exact (Qdrant's payload-aware HNSW); the other
            keyword indexes serve lookups without adding to the build.
        quantization: ``"int8"`` keeps an int8 copy of the dense vectors in memory
            (Qdrant's scalar quantization, quantile .99), which the graph is built and
            searched on: at 300,000 mention vectors the build took half the time and
            recall@10 fell from .999 to .977 (bench/README.md); ``None`` (the default)
            builds on the float vectors.
    """

    m: int = 16
    # Qdrant's 100 costs 1.75x the build time of 64 at 300,000 points for .0006 recall@10
    # on real mention vectors (bench/README.md, "What the index settings cost")
    ef_construct: int = 64
    segments: int | None = None
    indexing_threshold_kb: int = 1000
    graph_keys: tuple[str, ...] = FILTERED_SEARCH_KEYS
    quantization: str | None = None

    def __post_init__(self) -> None:
        if self.quantization not in QUANTIZATIONS:
            choices = ", ".join(repr(q) for q in QUANTIZATIONS)
            raise InvalidArgumentError(
                f"quantization {self.quantization!r}: expected one of {choices}"
            )
        for name in ("m", "ef_construct", "segments", "indexing_threshold_kb"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidArgumentError(f"{name} must be at least 1, got {value}")
        unknown = sorted(set(self.graph_keys) - set(KEYWORD_INDEXES))
        if unknown:
            raise InvalidArgumentError(
                f"graph keys {', '.join(unknown)}: expected some of {', '.join(KEYWORD_INDEXES)}"
            )


@dataclass(frozen=True)
class ServerOptions:
    """How to reach a Qdrant server (ignored for a directory).

    Attributes:
        grpc_port: The gRPC port, when it is not 6334 beside a REST 6333.
        allow_insecure: Send ``$QDRANT_API_KEY`` over plain http to a host that is not
            loopback.
        timeout: Seconds one request may take.
    """

    grpc_port: int | None = None
    allow_insecure: bool = False
    timeout: int = 10


def open_store(
    location: str,
    *,
    collection: str = DEFAULT_COLLECTION,
    server: ServerOptions | None = None,
    layout: Layout | None = None,
    index: IndexSettings | None = None,
) -> Store:
    """Open the store ``location``: a directory (Qdrant Edge) or an http(s) URL (a server).

    Raises:
        InvalidStoreError: ``location`` is empty or a URL of another scheme, ``collection``
            is not a valid name (:func:`check_collection_name`), or a server URL that
            :meth:`entivec.store.server.ServerStore.connect` refuses.
        StoreLockedError: Another process has the directory open.
        InvalidArgumentError: ``layout`` asks Qdrant Edge for more than one shard or copy.
    """
    if not location:
        raise InvalidStoreError("STORE is empty; give a directory or an http(s):// URL")
    check_collection_name(collection)
    if "://" in location:
        if not location.startswith(("http://", "https://")):
            scheme = location.split("://", 1)[0]
            raise InvalidStoreError(
                f"STORE {scheme}://...: expected a directory or an http(s):// URL of a Qdrant "
                "server"
            )
        from entivec.store.server import ServerStore

        options = server or ServerOptions()
        return ServerStore.connect(
            location,
            collection=collection,
            grpc_port=options.grpc_port,
            allow_insecure=options.allow_insecure,
            timeout=options.timeout,
            layout=layout,
            index=index,
        )
    from entivec.store.edge import EdgeStore

    return EdgeStore(location, collection=collection, layout=layout, index=index)
