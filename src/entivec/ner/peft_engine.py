"""The NER model in PyTorch with PEFT: the engine adapters are trained and checked with.

One of the two run-time modules that import torch (the other is
:mod:`entivec.query.language_model`); the import is guarded where the model is built, so
a missing ``export`` extra is one line naming the pip command. The default engine,
:mod:`entivec.ner.onnx_engine`, needs neither torch nor transformers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from entivec.extras import require_extra
from entivec.models import model_dir
from entivec.ner.adapters import AdapterRegistry
from entivec.ner.tagging import (
    BASE_MODEL,
    AdapterTagger,
    WordBatch,
    base_model_identity,
    check_base_model,
    word_tokenizer,
)

log = logging.getLogger(__name__)


def load_base(labels: Sequence[str]) -> Any:
    """The base token-classification model (classifier head seeded)."""
    require_extra("export", ("torch", "transformers", "peft"), "the PEFT NER engine")
    import torch
    import transformers
    from transformers import AutoModelForTokenClassification

    base_model_identity()
    folder = model_dir(BASE_MODEL)
    # "newly initialized classifier" and a tokenizer-regex notice written for another
    # model family: expected here, so not shown to users
    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)  # every adapter starts from the same classifier initialisation
    model = AutoModelForTokenClassification.from_pretrained(
        folder,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        use_safetensors=True,
    )
    return model


class NerModel(AdapterTagger):
    """The PyTorch/PEFT model with the adapters of a registry, loaded on first use.

    Args:
        registry: The adapter registry.
        batch_size: Sentences per forward pass.
    """

    def __init__(self, registry: AdapterRegistry, *, batch_size: int = 32) -> None:
        check_base_model(registry)
        self.registry = registry
        self.labels = registry.labels
        self.batch_size = batch_size
        self._base = load_base(self.labels)
        self.tokenizer = word_tokenizer()
        self._model: Any = None
        self.loaded: list[str] = []
        self.active: str | None = None

    def load_adapter(self, name: str) -> None:
        """Read and verify adapter ``name`` (once; later calls do nothing)."""
        if name in self.loaded:
            return
        from peft import PeftModel

        folder = self.registry.verified_folder(name)
        if self._model is None:
            self._model = PeftModel.from_pretrained(self._base, folder, adapter_name=name)
        else:
            self._model.load_adapter(folder, adapter_name=name)
        self._model.eval()
        self.loaded.append(name)
        log.debug("loaded adapter %s from %s", name, folder)

    def set_adapter(self, name: str) -> None:
        """Make adapter ``name`` the active one, loading it first if needed."""
        self.load_adapter(name)
        if self.active != name:
            self._model.set_adapter(name)
            self.active = name

    def _forward(self, batch: WordBatch) -> npt.NDArray[np.float32]:
        import torch

        with torch.inference_mode():
            logits = self._model(
                input_ids=torch.from_numpy(batch.input_ids),
                attention_mask=torch.from_numpy(batch.attention_mask),
            ).logits
        return np.asarray(logits.numpy(), dtype=np.float32)
