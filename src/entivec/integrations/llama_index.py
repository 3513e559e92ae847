"""LlamaIndex: entivec's ONNX encoders as a ``BaseEmbedding`` and as the Qdrant store's
sparse functions, and a retriever that keeps entivec's query layer
(``pip install 'entivec[llama-index]'``).

``llama-index-vector-stores-qdrant`` reads a collection entivec made with
``QdrantVectorStore(collection_name="entivec", client=client, dense_vector_name="e5",
text_key="text")``; its nodes carry the payload's fields as metadata.
"""

from __future__ import annotations

from entivec.extras import require_extra

require_extra(
    "llama-index",
    ("llama_index.core", "llama_index.vector_stores.qdrant"),
    "entivec.integrations.llama_index",
)

from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from llama_index.core.base.base_retriever import BaseRetriever  # noqa: E402
from llama_index.core.base.embeddings.base import BaseEmbedding  # noqa: E402
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode  # noqa: E402
from pydantic import PrivateAttr  # noqa: E402

from entivec.integrations.hits import Mode, encoder, search  # noqa: E402

__all__ = ["EntivecEmbedding", "EntivecRetriever", "sparse_functions"]

SparseFunction = Callable[[list[str]], tuple[list[list[int]], list[list[float]]]]


class EntivecEmbedding(BaseEmbedding):
    """A dense entivec plugin (``e5``, ``e5_xling``, ``lang``) as a LlamaIndex embedding;
    queries and texts get e5's ``query: `` and ``passage: `` prefixes."""

    plugin: str = "e5"
    variant: str = "fp32"
    _encoder: Any = PrivateAttr()

    def __init__(self, plugin: str = "e5", *, variant: str = "fp32", **kwargs: Any) -> None:
        fields: dict[str, Any] = {
            "model_name": f"entivec/{plugin}",
            **kwargs,
            "plugin": plugin,
            "variant": variant,
        }
        super().__init__(**fields)
        self._encoder = encoder(plugin, variant)

    @classmethod
    def class_name(cls) -> str:
        return "EntivecEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._encoder.embed_queries([query])[0]]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._encoder.embed_passages(list(texts))]


def sparse_functions(plugin: str = "bm25") -> tuple[SparseFunction, SparseFunction]:
    """entivec's BM25 as ``QdrantVectorStore(sparse_doc_fn=..., sparse_query_fn=...)``:
    each takes texts and returns their indices and values."""
    bm25 = encoder(plugin, "fp32")

    def documents(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
        vectors = bm25.embed_passages(list(texts))
        return [list(v.indices) for v in vectors], [list(v.values) for v in vectors]

    def queries(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
        vectors = bm25.embed_queries(list(texts))
        return [list(v.indices) for v in vectors], [list(v.values) for v in vectors]

    return documents, queries


class EntivecRetriever(BaseRetriever):
    """Nodes from an entivec collection (an :class:`~entivec.api.Entivec`), by entivec's
    search: see :class:`entivec.integrations.langchain.EntivecRetriever` for the
    arguments; each node's metadata is the hit's payload, its score the hit's."""

    def __init__(
        self,
        entivec: Any,
        *,
        k: int = 4,
        mode: Mode = "sentences",
        language: str | None = None,
        route: bool = False,
        entity_type: str | None = None,
        vector: str | None = None,
        group_by: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entivec = entivec
        self.options: dict[str, Any] = {
            "k": k,
            "mode": mode,
            "language": language,
            "route": route,
            "entity_type": entity_type,
            "vector": vector,
            "group_by": group_by,
        }

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = search(self.entivec, query_bundle.query_str, **self.options)
        return [
            NodeWithScore(node=TextNode(id_=h.id, text=h.text, metadata=h.metadata), score=h.score)
            for h in hits
        ]
