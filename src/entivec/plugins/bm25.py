"""The ``bm25`` plugin: BM25 token weights as a sparse named vector ``bm25``.

Qdrant Edge's own BM25 (``qdrant_edge.Bm25``) computes the weights in-process, so the
same vectors go to Qdrant Edge and to a server, which multiplies them by each token's
IDF over the collection at query time (the vector is created with ``Modifier.IDF``).
Sentence search fuses it with ``e5`` (``search_sentences(..., hybrid=True)``).

One tokenisation for every language: Unicode-aware words, lower-cased, no stemming and
no stop words, since a sentence's language may be routed (or unknown) and a query's
language is not known at all; IDF gives frequent words little weight.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING, Any, cast

from entivec.registry import EncoderSpec, registers
from entivec.store import SparseVector

if TYPE_CHECKING:
    from entivec.registry import Encoder

NAME = "bm25"
# BM25's saturation and length normalisation; the average length is a sentence's
# (WikiANN and Tatoeba sentences have 8 to 20 words), not a document's
K1 = 1.2
B = 0.75
AVERAGE_WORDS = 16.0


class Bm25Encoder:
    """Sparse BM25 vectors of texts (``embed_passages`` weighs term frequency and
    length; ``embed_queries`` gives each distinct token weight 1)."""

    def __init__(self) -> None:
        import qdrant_edge as qe

        self._model: Any = qe.Bm25(
            qe.Bm25Config(
                k=K1,
                b=B,
                avg_len=AVERAGE_WORDS,
                tokenizer=qe.TokenizerType.Multilingual,
                lowercase=True,
                stemmer=qe.DisabledStemmer(),
                stopwords=qe.StopwordsSet(languages=set()),
            )
        )
        self.version = (
            f"qdrant-edge-py {version('qdrant-edge-py')} k={K1} b={B} avg={AVERAGE_WORDS}"
        )

    def embed_passages(self, texts: list[str]) -> list[SparseVector]:
        """See :class:`entivec.registry.Encoder`."""
        return [_sorted(self._model.embed_document(text)) for text in texts]

    def embed_queries(self, texts: list[str]) -> list[SparseVector]:
        """See :class:`entivec.registry.Encoder`."""
        return [_sorted(self._model.embed_query(text)) for text in texts]


def _sorted(vector: Any) -> SparseVector:
    pairs = sorted(zip(vector.indices, vector.values, strict=True))
    return SparseVector(tuple(i for i, _ in pairs), tuple(float(v) for _, v in pairs))


def load(variant: str = "fp32") -> Encoder:
    """The BM25 encoder (it has no model file, so no variants)."""
    # a sparse encoder's embed_* return SparseVector lists (EncoderSpec.sparse says so)
    return cast("Encoder", Bm25Encoder())


SPEC = EncoderSpec(
    name=NAME,
    vector="bm25",
    size=0,
    distance="dot",
    embeds="sentence",
    artefact=lambda: None,
    load=load,
    description="BM25 token weights (sparse, IDF by the engine), fused with e5 by --hybrid",
    sparse=True,
)

register = registers(SPEC)
