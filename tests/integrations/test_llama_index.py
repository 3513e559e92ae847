"""LlamaIndex: entivec's embedding in llama-index's Qdrant store over an entivec
collection, hybrid with entivec's BM25 functions, and entivec's own retriever; real e5."""

from __future__ import annotations

from typing import Any

import llama_index.vector_stores.qdrant as qdrant_store
import numpy as np
import pytest

from entivec.api import Entivec
from tests.integrations.conftest import SENTENCES

pytestmark = pytest.mark.models


def test_llama_indexs_store_reads_an_entivec_collection(collection: tuple[Any, Entivec]) -> None:
    from llama_index.core import VectorStoreIndex

    from entivec.integrations.llama_index import EntivecEmbedding

    client, ev = collection
    embedding = EntivecEmbedding()
    _, e5 = ev.loaded.encoder("e5")
    text = SENTENCES["de"][2]
    assert np.allclose(embedding.get_query_embedding(text), e5.embed_queries([text])[0], atol=1e-5)
    assert np.allclose(embedding.get_text_embedding(text), e5.embed_passages([text])[0], atol=1e-5)
    store = qdrant_store.QdrantVectorStore(
        collection_name="entivec", client=client, dense_vector_name="e5", text_key="text"
    )
    retriever = VectorStoreIndex.from_vector_store(store, embed_model=embedding).as_retriever(
        similarity_top_k=1
    )
    [port] = retriever.retrieve("busiest port in Europe")
    assert port.text == SENTENCES["en"][0]
    [snow] = retriever.retrieve("Schneit es in der Hauptstadt?")
    assert snow.text == SENTENCES["de"][2] and snow.metadata["language"] == "de"


def test_bm25_as_the_stores_sparse_functions(collection: tuple[Any, Entivec]) -> None:
    from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

    from entivec.integrations.llama_index import EntivecEmbedding, sparse_functions

    client, _ = collection
    documents, queries = sparse_functions()
    indices, values = queries(["Nobel Prize"])
    assert len(indices[0]) == len(values[0]) > 0
    store = qdrant_store.QdrantVectorStore(
        collection_name="entivec", client=client, dense_vector_name="e5", text_key="text",
        enable_hybrid=True, sparse_vector_name="bm25", sparse_doc_fn=documents,
        sparse_query_fn=queries,
    )  # fmt: skip
    query = VectorStoreQuery(
        query_str="Nobel Prize",
        query_embedding=EntivecEmbedding().get_query_embedding("Nobel Prize"),
        similarity_top_k=1,
        sparse_top_k=1,
        mode=VectorStoreQueryMode.HYBRID,
    )
    result = store.query(query)
    assert result.nodes is not None and result.nodes[0].get_content() == SENTENCES["en"][1]


def test_entivecs_retriever_filters_by_language(collection: tuple[Any, Entivec]) -> None:
    from entivec.integrations.llama_index import EntivecRetriever

    _, ev = collection
    nodes = EntivecRetriever(ev, k=2, language="de").retrieve("oldest university")
    assert [n.node.metadata["language"] for n in nodes] == ["de", "de"]
    assert nodes[0].text == SENTENCES["de"][0] and nodes[0].score is not None
