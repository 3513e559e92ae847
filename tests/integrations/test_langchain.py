"""LangChain: entivec's embeddings in langchain-qdrant's store over an entivec
collection, hybrid with entivec's BM25, and entivec's own retriever; real e5."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import langchain_qdrant
import numpy as np
import pytest

from entivec.api import Entivec
from tests.integrations.conftest import SENTENCES

pytestmark = pytest.mark.models


def test_the_embeddings_prefix_queries_and_passages_as_entivec_does(
    collection: tuple[Any, Entivec],
) -> None:
    from entivec.integrations.langchain import EntivecEmbeddings

    _, ev = collection
    embeddings = EntivecEmbeddings()
    text = SENTENCES["en"][1]
    _, e5 = ev.loaded.encoder("e5")
    assert np.allclose(embeddings.embed_query(text), e5.embed_queries([text])[0], atol=1e-5)
    [passage] = embeddings.embed_documents([text])
    assert np.allclose(passage, e5.embed_passages([text])[0], atol=1e-5)
    assert not np.allclose(passage, embeddings.embed_query(text), atol=1e-3)


def test_langchains_store_reads_an_entivec_collection_in_both_languages(
    collection: tuple[Any, Entivec],
) -> None:
    from entivec.integrations.langchain import EntivecEmbeddings, EntivecSparseEmbeddings

    client, _ = collection
    store = langchain_qdrant.QdrantVectorStore(
        client, "entivec", embedding=EntivecEmbeddings(), vector_name="e5",
        content_payload_key="text",
    )  # fmt: skip
    [port] = store.similarity_search("Which port is the busiest in Europe?", k=1)
    assert port.page_content == SENTENCES["en"][0]
    [river] = store.similarity_search("Welcher Fluss mündet in die Nordsee?", k=1)
    assert river.page_content == SENTENCES["de"][1]
    hybrid = langchain_qdrant.QdrantVectorStore(
        client, "entivec", embedding=EntivecEmbeddings(), vector_name="e5",
        content_payload_key="text", retrieval_mode=langchain_qdrant.RetrievalMode.HYBRID,
        sparse_embedding=EntivecSparseEmbeddings(), sparse_vector_name="bm25",
    )  # fmt: skip
    [curie] = hybrid.similarity_search("Nobel Prize", k=1)
    assert curie.page_content == SENTENCES["en"][1]


def test_entivecs_retriever_keeps_the_language_filter_routing_and_payload(
    collection: tuple[Any, Entivec],
) -> None:
    from entivec.integrations.langchain import EntivecRetriever

    _, ev = collection
    # the German question's nearest sentence overall is German; the filter asks for English
    english = EntivecRetriever(entivec=ev, k=3, language="en").invoke("Wo liegt die Universität?")
    assert len(english) == 3 and {d.metadata["language"] for d in english} == {"en"}
    assert all(isinstance(d.metadata["score"], float) for d in english)
    routing = EntivecRetriever(entivec=ev, k=1, route=True)
    [routed] = routing.invoke("Wo ist die älteste Universität?")
    assert routed.page_content == SENTENCES["de"][0] and routed.metadata["language"] == "de"
    assert routed.metadata["language_source"] == "given" and "text" not in routed.metadata


def test_entity_type_search_on_qdrant_edge_returns_mentions_as_metadata(
    tmp_path: Path, data_dir: Path
) -> None:
    from entivec.integrations.langchain import EntivecRetriever

    politics = data_dir / "crossner" / "politics" / "dev.txt"
    with Entivec(tmp_path / "edge") as ev:  # Qdrant Edge
        ev.ingest("conll", [politics], language="en", plugins=("e5", "entity"), limit=200,
                  show_progress=False)  # fmt: skip
        parties = EntivecRetriever(entivec=ev, k=5, mode="entities").invoke("a political party")
        grouped = EntivecRetriever(entivec=ev, k=5, mode="entities", group_by="text").invoke(
            "a political party"
        )
    assert len(parties) == 5 and len({d.page_content for d in parties}) == 5
    # fused with e5 by default: a sentence only e5 found comes as itself, without a mention
    mentions = [d for d in parties if "mention" in d.metadata]
    for document in mentions:
        mention, span = document.metadata["mention"], document.metadata["span"]
        assert document.page_content[span["start"] : span["end"]] == mention
    assert sum(d.metadata["entity_type"] == "politicalparty" for d in mentions) >= 3
    # grouped: each party once, with how often it was found
    assert len({d.metadata["mention"] for d in grouped}) == len(grouped) == 5
    assert all(d.metadata["count"] >= 1 for d in grouped)
    assert sum(d.metadata["count"] for d in grouped) > 5
