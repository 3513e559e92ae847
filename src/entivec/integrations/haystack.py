"""Haystack: entivec's ONNX encoders as a text and a document embedder component
(``pip install 'entivec[haystack]'``).

``qdrant-haystack``'s document store names its vectors itself, so it writes and reads
its own collections; embed them with these components, or search an entivec collection
with :class:`entivec.api.Entivec`.
"""

from __future__ import annotations

from entivec.extras import require_extra

require_extra("haystack", ("haystack",), "entivec.integrations.haystack")

from dataclasses import replace  # noqa: E402
from typing import Any  # noqa: E402

from haystack import Document, component  # noqa: E402

from entivec.integrations.hits import encoder  # noqa: E402

__all__ = ["EntivecDocumentEmbedder", "EntivecTextEmbedder"]


@component
class EntivecTextEmbedder:
    """The query vector of a text (e5's ``query: `` prefix), for a retriever. The plugin
    loads on ``warm_up`` or the first ``run``; ``plugin`` and ``variant`` are what a
    saved pipeline records."""

    def __init__(self, plugin: str = "e5", variant: str = "fp32") -> None:
        self.plugin = plugin
        self.variant = variant

    def warm_up(self) -> None:
        """Load the plugin's ONNX graph."""
        encoder(self.plugin, self.variant)

    @component.output_types(embedding=list[float])
    def run(self, text: str) -> dict[str, Any]:
        """``{"embedding": [...]}`` of ``text``."""
        vector = encoder(self.plugin, self.variant).embed_queries([text])[0]
        return {"embedding": [float(x) for x in vector]}


@component
class EntivecDocumentEmbedder:
    """Passage vectors (e5's ``passage: `` prefix) of documents, for a document writer;
    loaded and saved as :class:`EntivecTextEmbedder` is."""

    def __init__(self, plugin: str = "e5", variant: str = "fp32") -> None:
        self.plugin = plugin
        self.variant = variant

    def warm_up(self) -> None:
        """Load the plugin's ONNX graph."""
        encoder(self.plugin, self.variant)

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        """The documents, each with the ``embedding`` of its content."""
        texts = [d.content or "" for d in documents]
        vectors = encoder(self.plugin, self.variant).embed_passages(texts)
        return {
            "documents": [
                replace(d, embedding=[float(x) for x in v])
                for d, v in zip(documents, vectors, strict=True)
            ]
        }
