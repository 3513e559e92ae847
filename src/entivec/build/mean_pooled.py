"""A BERT-style encoder being fine-tuned: masked mean pooling and L2 normalisation, the
pooling the ONNX export (:mod:`entivec.build.e5.export`) bakes into the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


class MeanPooledEncoder:
    """A Hugging Face encoder folder (safetensors) that returns unit sentence vectors.

    Args:
        folder: The model folder (``config.json``, ``model.safetensors``, tokenizer).
        max_tokens: Tokens kept per text while training (longer texts are truncated).
    """

    def __init__(self, folder: Path, *, max_tokens: int) -> None:
        import transformers
        from transformers import AutoModel, AutoTokenizer

        transformers.logging.set_verbosity_error()
        self.model = AutoModel.from_pretrained(folder, use_safetensors=True)
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.max_tokens = max_tokens

    def __call__(self, texts: list[str]) -> Any:
        """Unit vectors of ``texts`` as a tensor that carries gradients."""
        import torch

        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def embed(self, texts: list[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Unit vectors of ``texts`` (evaluation mode, no gradients)."""
        import torch

        self.model.eval()
        rows = [np.zeros((0, self.model.config.hidden_size), dtype=np.float32)]
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows.append(self(texts[start : start + batch_size]).numpy())
        return np.vstack(rows).astype(np.float32)
