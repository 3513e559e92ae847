"""LangChain: entivec's ONNX encoders as ``Embeddings`` and ``SparseEmbeddings``, and a
retriever that keeps entivec's query layer (``pip install 'entivec[langchain]'``).

``EntivecEmbeddings`` gives ``langchain-qdrant``'s ``QdrantVectorStore`` the vectors of a
collection entivec made: ``QdrantVectorStore(client, "entivec", embedding=
EntivecEmbeddings(), vector_name="e5", content_payload_key="text")`` reads it (the
payload's fields are top-level, so its ``metadata`` stays empty; ``EntivecRetriever``
returns them). Queries and passages get e5's ``query: `` and ``passage: `` prefixes.
"""

from __future__ import annotations

from entivec.extras import require_extra

require_extra("langchain", ("langchain_core", "langchain_qdrant"), "entivec.integrations.langchain")

from typing import Any  # noqa: E402

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from langchain_qdrant import SparseEmbeddings, SparseVector  # noqa: E402
from pydantic import ConfigDict  # noqa: E402

from entivec.integrations.hits import Mode, encoder, search  # noqa: E402

__all__ = ["EntivecEmbeddings", "EntivecRetriever", "EntivecSparseEmbeddings"]


class EntivecEmbeddings(Embeddings):
    """A dense entivec plugin (``e5``, ``e5_xling``, ``lang``) as LangChain embeddings."""

    def __init__(self, plugin: str = "e5", *, variant: str = "fp32") -> None:
        self.plugin = plugin
        self._encoder = encoder(plugin, variant)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Passage vectors, one per text."""
        return [[float(x) for x in row] for row in self._encoder.embed_passages(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        """The query vector of ``text``."""
        return [float(x) for x in self._encoder.embed_queries([text])[0]]


class EntivecSparseEmbeddings(SparseEmbeddings):
    """entivec's BM25 (``bm25``) as ``langchain-qdrant``'s sparse embeddings; the
    collection's sparse vector needs Qdrant's IDF modifier, as entivec creates it."""

    def __init__(self, plugin: str = "bm25") -> None:
        self._encoder = encoder(plugin, "fp32")

    def embed_documents(self, texts: list[str]) -> list[SparseVector]:
        """Term weights of each text as a passage."""
        return [_sparse(v) for v in self._encoder.embed_passages(list(texts))]

    def embed_query(self, text: str) -> SparseVector:
        """Term weights of ``text`` as a query."""
        return _sparse(self._encoder.embed_queries([text])[0])


def _sparse(vector: Any) -> SparseVector:
    return SparseVector(indices=list(vector.indices), values=list(vector.values))


class EntivecRetriever(BaseRetriever):
    """Documents from an entivec collection (an :class:`~entivec.api.Entivec`, on Qdrant
    Edge or a server), by entivec's search: one document per sentence, its payload
    (``language``, ``spans``; with ``mode="entities"`` the ``mention``, ``span`` and
    ``entity_type``) as metadata with the ``score``.

    Attributes:
        entivec: The open collection.
        k: Documents per query.
        mode: ``sentences``, or ``entities`` (the query names an entity type).
        language: Only documents in this language.
        route: Route each query and keep only documents in its language.
        entity_type: With ``entities``, only mentions annotated with this type.
        vector: The named vector (default ``e5``, or ``entity`` with ``entities``).
        group_by: With ``entities``, ``"text"``: one document per distinct mention, its
            ``count`` in the metadata.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    entivec: Any
    k: int = 4
    mode: Mode = "sentences"
    language: str | None = None
    route: bool = False
    entity_type: str | None = None
    vector: str | None = None
    group_by: str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = search(
            self.entivec,
            query,
            k=self.k,
            mode=self.mode,
            language=self.language,
            route=self.route,
            entity_type=self.entity_type,
            vector=self.vector,
            group_by=self.group_by,
        )
        return [
            Document(page_content=h.text, metadata={**h.metadata, "score": h.score}, id=h.id)
            for h in hits
        ]
