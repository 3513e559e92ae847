"""entivec: Qdrant plugins for multilingual, NER-annotated corpora."""

from __future__ import annotations

from entivec.api import Entivec
from entivec.records import Sentence, Span
from entivec.store import Hit, IndexSettings, open_store

__all__ = ["Entivec", "Hit", "IndexSettings", "Sentence", "Span", "open_store"]
__version__ = "0.1.0"
