"""Token-classification NER on the converted multilingual-e5-small, one LoRA adapter per
language (PEFT).

Adapters are loaded once (``load_adapter``) and switched per group of texts
(``set_adapter``), as PEFT keeps them separate: loading reads and verifies files,
switching only changes which weights the forward pass uses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from entivec.adapters import AdapterRegistry
from entivec.errors import AdapterError, MissingDependencyError, ModelNotPreparedError
from entivec.models import MANIFEST, model_dir
from entivec.records import Span

log = logging.getLogger(__name__)

BASE_MODEL = "multilingual-e5-small"
WIKIANN_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
MAX_TOKENS = 256


def tags_from_spans(length: int, spans: Sequence[Span]) -> list[str]:
    """IOB2 tags of a sentence of ``length`` tokens."""
    tags = ["O"] * length
    for span in spans:
        tags[span.start] = f"B-{span.type}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.type}"
    return tags


def spans_from_tags(tags: Sequence[str]) -> list[Span]:
    """Spans of IOB2 ``tags`` (an I- without its B- starts a span, as seqeval reads it)."""
    spans: list[Span] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind and start >= 0
        if start >= 0 and not continues:
            spans.append(Span(start, i, kind))
            start, kind = -1, ""
        if prefix in ("B", "I") and not continues:
            start, kind = i, label
    return spans


def base_model_identity() -> dict[str, Any]:
    """Name and weights checksum of the prepared base model (adapters record it)."""
    import json

    folder = model_dir(BASE_MODEL)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise ModelNotPreparedError(
            f"{BASE_MODEL} is not prepared in {folder}; run `entivec models prepare`"
        )
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    return {"name": BASE_MODEL, "model.safetensors": files["model.safetensors"]}


def load_base(labels: Sequence[str]) -> tuple[Any, Any]:
    """The base token-classification model (classifier head seeded) and its tokenizer."""
    try:
        import torch
        import transformers
        from transformers import AutoModelForTokenClassification, AutoTokenizer
    except ImportError as exc:
        raise MissingDependencyError(
            f"NER needs the export extra ({exc.name} is missing): pip install 'entivec[export]'"
        ) from exc
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
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return model, tokenizer


def encode_words(
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]] | None,
    labels: Sequence[str],
) -> Any:
    """Tokenise word lists (a ``BatchEncoding``, so ``word_ids`` stays available); with
    ``tags``, the first sub-token of each word carries its label, the others -100."""
    batch = tokenizer(
        [list(words) for words in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=MAX_TOKENS,
        padding=True,
        return_tensors="pt",
    )
    if tags is not None:
        import torch

        index = {label: i for i, label in enumerate(labels)}
        rows = []
        for b, sentence_tags in enumerate(tags):
            row, previous = [], None
            for word in batch.word_ids(b):
                row.append(-100 if word is None or word == previous else index[sentence_tags[word]])
                previous = word
            rows.append(row)
        batch["labels"] = torch.tensor(rows)
    return batch


@dataclass(frozen=True)
class Entity:
    """An extracted mention: character offsets into the text, and its words."""

    start: int
    end: int
    type: str
    text: str


class NerModel:
    """The base model with the adapters of a registry; adapters are loaded on first use.

    Args:
        registry: The adapter registry.
        batch_size: Sentences per forward pass.
    """

    def __init__(self, registry: AdapterRegistry, *, batch_size: int = 32) -> None:
        identity = base_model_identity()
        if registry.base_model != identity:
            raise AdapterError(
                f"the adapters in {registry.root} were trained on {registry.base_model}, "
                f"but the prepared base model is {identity}"
            )
        self.registry = registry
        self.labels = registry.labels
        self.batch_size = batch_size
        self._base, self.tokenizer = load_base(self.labels)
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

    def predict(self, name: str, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """IOB2 tags per word of each sentence, with adapter ``name``."""
        import torch

        self.set_adapter(name)
        out: list[list[str]] = [[] for _ in sentences]
        # sorted by length so each batch pads little; results go back in input order
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                chunk = [sentences[i] for i in rows]
                batch = encode_words(self.tokenizer, chunk, None, self.labels)
                best = np.argmax(self._model(**batch).logits.numpy(), axis=-1)
                for b, (row, words) in enumerate(zip(rows, chunk, strict=True)):
                    tags = ["O"] * len(words)  # words cut by truncation stay O
                    previous = None
                    for t, word in enumerate(batch.word_ids(b)):
                        if word is not None and word != previous:
                            tags[word] = self.labels[int(best[b, t])]
                        previous = word
                    out[row] = tags
        return out


def words_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Whitespace-separated words of ``text`` with their character offsets.

    The NER model was trained on WikiANN's tokens, which are space-separated words;
    punctuation glued to a word stays part of it.
    """
    import re

    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def entities_from_tags(text: str, tags: Sequence[str]) -> list[Entity]:
    """Character-offset entities of ``text`` from the IOB2 tags of its words."""
    words = words_with_offsets(text)
    found = []
    for span in spans_from_tags(tags):
        start, end = words[span.start][1], words[span.end - 1][2]
        found.append(Entity(start, end, span.type, text[start:end]))
    return found
