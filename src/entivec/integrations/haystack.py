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
from entivec.registry import Encoder  # noqa: E402

__all__ = ["EntivecDocumentEmbedder", "EntivecTextEmbedder"]


class _Plugin:
    """The plugin, loaded on ``warm_up`` (or the first ``run``), as Haystack expects of a
    component (held, not inherited: ``@component`` rebuilds the class it decorates)."""

    def __init__(self, plugin: str, variant: str) -> None:
        self.plugin = plugin
        self.variant = variant
        self._encoder: Encoder | None = None

    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = encoder(self.plugin, self.variant)
        return self._encoder


@component
class EntivecTextEmbedder:
    """The query vector of a text (e5's ``query: `` prefix), for a retriever."""

    def __init__(self, plugin: str = "e5", variant: str = "fp32") -> None:
        self.plugin = _Plugin(plugin, variant)

    def warm_up(self) -> None:
        """Load the plugin's ONNX graph."""
        self.plugin.encoder()

    @component.output_types(embedding=list[float])
    def run(self, text: str) -> dict[str, Any]:
        """``{"embedding": [...]}`` of ``text``."""
        return {"embedding": [float(x) for x in self.plugin.encoder().embed_queries([text])[0]]}


@component
class EntivecDocumentEmbedder:
    """Passage vectors (e5's ``passage: `` prefix) of documents, for a document writer."""

    def __init__(self, plugin: str = "e5", variant: str = "fp32") -> None:
        self.plugin = _Plugin(plugin, variant)

    def warm_up(self) -> None:
        """Load the plugin's ONNX graph."""
        self.plugin.encoder()

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        """The documents, each with the ``embedding`` of its content."""
        vectors = self.plugin.encoder().embed_passages([d.content or "" for d in documents])
        return {
            "documents": [
                replace(d, embedding=[float(x) for x in v])
                for d, v in zip(documents, vectors, strict=True)
            ]
        }
