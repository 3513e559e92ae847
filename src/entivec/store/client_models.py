"""Vectors and keyword filters in qdrant-client's models, for the server engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from entivec.store import INT8_QUANTILE, IndexSettings, Keywords, SparseVector, Vector

# the payload key a collection's data is partitioned by (Qdrant's multitenancy): a
# language-filtered query reads one language's part of the index
TENANT_KEY = "language"
# entivec's distance names as qdrant-client's ``models.Distance`` members
DISTANCES = {"cosine": "COSINE", "dot": "DOT", "euclid": "EUCLID"}


def engine_vector(vector: Vector | Sequence[float]) -> Any:
    """A dense vector as a list of floats, a sparse one as qdrant-client's."""
    from qdrant_client import models

    if isinstance(vector, SparseVector):
        return models.SparseVector(indices=list(vector.indices), values=list(vector.values))
    return [float(x) for x in vector]


def engine_vectors(vectors: dict[str, Vector]) -> Any:
    """Named vectors, each as :func:`engine_vector` makes it."""
    return {name: engine_vector(v) for name, v in vectors.items()}


def keyword_filter(where: dict[str, str] | None, exclude: Keywords | None = None) -> Any:
    """Keyword conditions: all of ``where`` must match, none of ``exclude`` (a value, or
    any of a list of values)."""
    from qdrant_client import models

    def conditions(pairs: Keywords | None) -> list[Any] | None:
        if not pairs:
            return None
        return [
            models.FieldCondition(
                key=k,
                match=models.MatchAny(any=v) if isinstance(v, list) else models.MatchValue(value=v),
            )
            for k, v in pairs.items()
        ]

    if not where and not exclude:
        return None
    return models.Filter(must=conditions(where), must_not=conditions(exclude))


def quantization_config(quantization: str | None) -> Any:
    """:attr:`~entivec.store.IndexSettings.quantization` as qdrant-client's config."""
    from qdrant_client import models

    if quantization != "int8":
        return None
    return models.ScalarQuantization(
        scalar=models.ScalarQuantizationConfig(
            type=models.ScalarType.INT8, quantile=INT8_QUANTILE, always_ram=True
        )
    )


def keyword_index(name: str, index: IndexSettings) -> Any:
    """The keyword index of payload key ``name``: in the graph when ``index`` searches on
    it, and stored by value for :data:`TENANT_KEY`."""
    from qdrant_client import models

    return models.KeywordIndexParams(
        type=models.KeywordIndexType.KEYWORD,
        is_tenant=name == TENANT_KEY or None,
        enable_hnsw=name in index.graph_keys,
    )
