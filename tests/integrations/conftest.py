"""A small two-language collection in qdrant-client's local mode, made by entivec with
the real e5 and BM25 plugins, for every framework's round trip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entivec.api import Entivec
from entivec.store.server import ServerStore

# Haystack would send usage telemetry from pipelines; these tests stay on this machine
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

SENTENCES = {
    "de": [
        "Die Universität Heidelberg ist die älteste Hochschule Deutschlands.",
        "Der Rhein fließt von den Alpen bis zur Nordsee.",
        "Im Winter fällt in Berlin oft Schnee.",
    ],
    "en": [
        "The harbour of Rotterdam handles more cargo than any other in Europe.",
        "Marie Curie won the Nobel Prize twice.",
        "The recipe needs three eggs and a cup of flour.",
    ],
}


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Entivec]]:
    """``(client, entivec)``: one local-mode collection, ``entivec``, with e5 and bm25."""
    from qdrant_client import QdrantClient

    folder: Path = tmp_path_factory.mktemp("two-languages")
    client = QdrantClient(":memory:")
    ev = Entivec(ServerStore(client, collection="entivec", description="local mode"))
    for language, sentences in SENTENCES.items():
        path = folder / f"{language}.txt"
        path.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        ev.ingest("lines", [path], language=language, plugins=("e5", "bm25"), ner="off",
                  show_progress=False)  # fmt: skip
    yield client, ev
    ev.close()
