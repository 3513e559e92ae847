"""multilingual-e5 in PyTorch through sentence-transformers: the reference the ONNX
plugin is checked and benchmarked against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from entivec.plugins.e5 import PASSAGE_PREFIX, QUERY_PREFIX


class TorchE5:
    """A prepared e5 folder as a sentence-transformers model (mean pooling, L2 norm)."""

    def __init__(self, folder: Path, *, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import (
            Normalize,
            Pooling,
            Transformer,
        )

        transformer = Transformer(str(folder), max_seq_length=512)
        pooling = Pooling(transformer.get_embedding_dimension(), "mean")
        self.model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu")
        self.batch_size = batch_size

    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        vectors = self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for ``query: `` + text."""
        return self._embed([QUERY_PREFIX + t for t in texts])

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for ``passage: `` + text."""
        return self._embed([PASSAGE_PREFIX + t for t in texts])
