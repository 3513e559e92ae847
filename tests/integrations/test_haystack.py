"""Haystack: entivec's text and document embedders in a pipeline, on Haystack's own
store and on qdrant-haystack's in qdrant-client's local mode; real e5."""

from __future__ import annotations

import haystack
import pytest

from tests.integrations.conftest import SENTENCES

pytestmark = pytest.mark.models


def _documents() -> list[object]:
    return [
        haystack.Document(content=text, meta={"language": language})
        for language, texts in SENTENCES.items()
        for text in texts
    ]


def test_a_pipeline_finds_the_sentence_in_both_languages() -> None:
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    from entivec.integrations.haystack import EntivecDocumentEmbedder, EntivecTextEmbedder

    store = InMemoryDocumentStore()
    store.write_documents(EntivecDocumentEmbedder().run(_documents())["documents"])
    pipeline = haystack.Pipeline()
    pipeline.add_component("embed", EntivecTextEmbedder())
    pipeline.add_component("retrieve", InMemoryEmbeddingRetriever(store, top_k=1))
    pipeline.connect("embed.embedding", "retrieve.query_embedding")
    for query, expected in [
        ("busiest port in Europe", SENTENCES["en"][0]),
        ("Welcher Fluss mündet in die Nordsee?", SENTENCES["de"][1]),
    ]:
        [found] = pipeline.run({"embed": {"text": query}})["retrieve"]["documents"]
        assert found.content == expected


def test_qdrant_haystack_stores_what_the_embedder_made() -> None:
    from haystack_integrations.components.retrievers.qdrant import QdrantEmbeddingRetriever
    from haystack_integrations.document_stores.qdrant import QdrantDocumentStore

    from entivec.integrations.haystack import EntivecDocumentEmbedder, EntivecTextEmbedder

    embedded = EntivecDocumentEmbedder().run(_documents())["documents"]
    store = QdrantDocumentStore(location=":memory:", embedding_dim=len(embedded[0].embedding))
    store.write_documents(embedded)
    query = EntivecTextEmbedder().run("Who won the Nobel Prize twice?")["embedding"]
    [found] = QdrantEmbeddingRetriever(store, top_k=1).run(query_embedding=query)["documents"]
    assert found.content == SENTENCES["en"][1] and found.meta["language"] == "en"


def test_a_pipeline_with_the_embedder_saves_and_loads() -> None:
    from entivec.integrations.haystack import EntivecTextEmbedder

    pipeline = haystack.Pipeline()
    pipeline.add_component("embed", EntivecTextEmbedder(variant="int8"))
    saved = pipeline.to_dict()
    assert saved["components"]["embed"]["init_parameters"] == {"plugin": "e5", "variant": "int8"}
    # Haystack loads classes only from modules the caller trusts
    loaded = haystack.Pipeline.from_dict(saved, allowed_modules=["entivec.integrations.haystack"])
    embedder = loaded.get_component("embed")
    assert (embedder.plugin, embedder.variant) == ("e5", "int8")
