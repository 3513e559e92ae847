"""Attention value vectors of a frozen decoder LM at the last token of a span.

NER Retriever (arXiv 2509.04011) represents an entity mention by the output of one
middle block's value projection (``self_attn.v_proj``) at the mention's last token: in a
decoder only that token has attended to the whole span. A query (a type's name or
description) goes through the same pipeline as if the whole query were one span
(:func:`entivec.mentions.query_input`); every text starts with
:data:`entivec.mentions.PREFIX_TOKEN`, since a decoder's first position is an attention
sink.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from entivec.errors import InvalidArgumentError
from entivec.mentions import PREFIX_TOKEN, SpanInput, last_token_index
from entivec.query.language_model import load_decoder

if TYPE_CHECKING:
    import torch


class ValueVectorExtractor:
    """Reads ``self_attn.v_proj`` outputs of chosen blocks of a Llama-style decoder.

    Blocks after the last requested one are dropped from the model, so they are never
    computed.

    Args:
        model_folder: A prepared Hugging Face folder (``LlamaForCausalLM`` or similar,
            with ``model.layers[i].self_attn.v_proj``).
        blocks: Zero-based block indices to read.
        prefix_token: Token put in front of every text (see the module docstring).
        batch_size: Texts per forward pass; texts are sorted by length first.
    """

    def __init__(
        self,
        model_folder: Path,
        blocks: Sequence[int],
        *,
        prefix_token: str = PREFIX_TOKEN,
        batch_size: int = 32,
    ) -> None:
        self.tokenizer, decoder = load_decoder(model_folder)
        base = decoder.get_decoder()
        layers = base.layers
        if not blocks or min(blocks) < 0 or max(blocks) >= len(layers):
            raise InvalidArgumentError(
                f"blocks must lie in 0..{len(layers) - 1} for {model_folder.name}; "
                f"got {list(blocks)}"
            )
        self.num_blocks = len(layers)
        self.blocks = sorted(set(blocks))
        base.layers = layers[: self.blocks[-1] + 1]
        self.model = base.eval()
        self.value_size = int(layers[0].self_attn.v_proj.out_features)
        self.batch_size = batch_size
        vocabulary = self.tokenizer.get_vocab()
        if prefix_token not in vocabulary:
            raise InvalidArgumentError(f"{prefix_token!r} is not a token of {model_folder.name}")
        self.prefix_id = int(vocabulary[prefix_token])
        self._captured: dict[int, torch.Tensor] = {}
        for block in self.blocks:
            layers[block].self_attn.v_proj.register_forward_hook(self._capture(block))

    def _capture(self, block: int) -> Any:
        def hook(_module: Any, _inputs: Any, output: torch.Tensor) -> None:
            self._captured[block] = output

        return hook

    def token_ids(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids of ``text`` with the prefix first, and each token's character offsets."""
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [self.prefix_id, *encoded["input_ids"]], [(0, 0), *encoded["offset_mapping"]]

    @staticmethod
    def last_token(item: SpanInput, offsets: Sequence[tuple[int, int]]) -> int:
        """Index of the span's last token; see :func:`last_token_index`."""
        return last_token_index(item, offsets)

    def encode(
        self, items: Sequence[SpanInput], *, show_progress: bool | None = None
    ) -> dict[int, np.ndarray]:
        """Value vectors of every item: block → array ``(len(items), value_size)``.

        Items that share a text (the mentions of one sentence) share one forward pass,
        which stops at the last of their spans.
        """
        import torch

        encoded = {text: self.token_ids(text) for text in {item.text for item in items}}
        readers: dict[str, list[tuple[int, int]]] = {text: [] for text in encoded}
        for position, item in enumerate(items):
            readers[item.text].append((position, self.last_token(item, encoded[item.text][1])))
        # a decoder's tokens never see later ones: stop each text at its last span's end
        for text, reads in readers.items():
            token_ids, offsets = encoded[text]
            keep = 1 + max(token for _, token in reads)
            encoded[text] = (token_ids[:keep], offsets[:keep])
        texts = sorted(encoded, key=lambda text: len(encoded[text][0]))
        out = {b: np.zeros((len(items), self.value_size), dtype=np.float32) for b in self.blocks}
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="value vectors", disable=show_progress is False):
            chosen = texts[start : start + self.batch_size]
            width = max(len(encoded[text][0]) for text in chosen)
            ids = torch.zeros((len(chosen), width), dtype=torch.long)
            mask = torch.zeros((len(chosen), width), dtype=torch.long)
            for row, text in enumerate(chosen):
                tokens = encoded[text][0]
                ids[row, : len(tokens)] = torch.tensor(tokens)
                mask[row, : len(tokens)] = 1
            with torch.inference_mode():
                self.model(input_ids=ids, attention_mask=mask)
            rows = [row for row, text in enumerate(chosen) for _ in readers[text]]
            tokens_read = [token for text in chosen for _, token in readers[text]]
            positions = [position for text in chosen for position, _ in readers[text]]
            for block in self.blocks:
                out[block][positions] = self._captured[block][rows, tokens_read].numpy()
        self._captured.clear()
        return out
