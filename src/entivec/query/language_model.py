"""The decoder LM at run time: SmolLM2 writes the instances of a type that expand an
entity-type query (:mod:`entivec.query.exemplars`), and scores answers for the
demonstration retriever's training and evaluation.

One of the two run-time modules that import torch (the other is
:mod:`entivec.ner.peft_engine`); :func:`load_decoder` guards the import: a missing ``export``
extra is one line naming the pip command.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from entivec.errors import InvalidArgumentError, ModelNotPreparedError
from entivec.extras import require_extra

DEFAULT_MODEL = "smollm2-135m-instruct"


def decoder_blocks(model_folder: Path) -> int:
    """How many blocks the prepared decoder in ``model_folder`` has (read from its
    ``config.json``, so neither torch nor transformers is loaded).

    Raises:
        ModelNotPreparedError: The folder holds no model.
    """
    config = model_folder / "config.json"
    if not config.is_file():
        raise ModelNotPreparedError(
            f"no decoder model in {model_folder}; run `entivec models prepare`"
        )
    return int(json.loads(config.read_text(encoding="utf-8"))["num_hidden_layers"])


def load_decoder(model_folder: Path) -> tuple[Any, Any]:
    """The tokenizer and float32 causal LM of a prepared decoder folder (``entivec models
    prepare`` writes it from the GGUF weights; no pickle is ever read).

    Raises:
        ModelNotPreparedError: The folder holds no model.
    """
    decoder_blocks(model_folder)
    require_extra("export", ("torch", "transformers"), "the decoder LM")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_folder)
    model = AutoModelForCausalLM.from_pretrained(
        model_folder, dtype=torch.float32, use_safetensors=True
    )
    return tokenizer, model


class LanguageModel:
    """A prepared causal LM that scores answers and completes prompts (PyTorch, CPU).

    Args:
        model_folder: A prepared Hugging Face folder (``entivec models prepare``).
        batch_size: Sequences per forward pass; sequences are sorted by length first.
            Twenty (one input's candidates) scored 1.8 times as many pairs a second as
            eight on two cores.
    """

    def __init__(self, model_folder: Path, *, batch_size: int = 20) -> None:
        self.tokenizer, model = load_decoder(model_folder)
        self.model = model.eval()
        self.batch_size = batch_size
        self.pad_id = int(self.tokenizer.pad_token_id or 0)

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def answer_log_likelihood(
        self, prompts: Sequence[str], answers: Sequence[str], *, show_progress: bool | None = None
    ) -> np.ndarray:
        """Average log-probability per token of each answer given its prompt.

        Prompt and answer are tokenised apart and joined, so the answer's tokens are the
        same whatever precedes them.
        """
        import torch

        if len(prompts) != len(answers):
            raise InvalidArgumentError(f"{len(prompts)} prompts but {len(answers)} answers")
        pairs = [(self._ids(p), self._ids(a)) for p, a in zip(prompts, answers, strict=True)]
        if any(not answer for _, answer in pairs):
            raise InvalidArgumentError("every answer needs at least one token")
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = np.zeros(len(pairs), dtype=np.float64)
        starts = range(0, len(order), self.batch_size)
        for start in tqdm(starts, desc="LM scores", disable=show_progress is False):
            rows = order[start : start + self.batch_size]
            width = max(len(pairs[i][0]) + len(pairs[i][1]) for i in rows)
            ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                sequence = pairs[i][0] + pairs[i][1]
                ids[r, : len(sequence)] = torch.tensor(sequence)
                mask[r, : len(sequence)] = 1
            with torch.inference_mode():
                hidden = self.model.get_decoder()(input_ids=ids, attention_mask=mask)
                hidden = hidden.last_hidden_state
                for r, i in enumerate(rows):
                    prompt_ids, answer_ids = pairs[i]
                    first = len(prompt_ids)
                    # the token at position t is predicted by the logits at t - 1; the
                    # vocabulary projection is applied to those positions only, since over
                    # every position it costs a fifth of the forward pass
                    states = hidden[r, first - 1 : first - 1 + len(answer_ids)]
                    logits = self.model.get_output_embeddings()(states).float()
                    log_probs = torch.log_softmax(logits, dim=-1)
                    chosen = log_probs.gather(1, torch.tensor(answer_ids).unsqueeze(1))
                    out[i] = float(chosen.mean())
        return out

    def complete(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int = 8,
        until: Callable[[str], bool] | None = None,
        show_progress: bool | None = None,
    ) -> list[str]:
        """Greedy continuations of ``prompts``, cut at the first line break; with ``until``,
        a row also stops as soon as ``until`` holds for its continuation so far."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        tokenizer = self.tokenizer

        class Until(StoppingCriteria):
            """Stops each row once ``done`` holds for what it has written past ``width``."""

            def __init__(self, width: int, done: Callable[[str], bool]) -> None:
                self.width = width
                self.done = done

            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                texts = tokenizer.batch_decode(input_ids[:, self.width :], skip_special_tokens=True)
                return torch.tensor([self.done(text) for text in texts], dtype=torch.bool)

        encoded = [self._ids(p) for p in prompts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = [""] * len(encoded)
        newline = set(self._ids("\n"))
        starts = range(0, len(order), self.batch_size)
        for start in tqdm(starts, desc="in-context answers", disable=show_progress is False):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[i]) for i in rows)
            # left padding, so every row's next token comes at the same position
            ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                ids[r, width - len(encoded[i]) :] = torch.tensor(encoded[i])
                mask[r, width - len(encoded[i]) :] = 1
            with torch.inference_mode():
                generated = self.model.generate(
                    input_ids=ids,
                    attention_mask=mask,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=self.pad_id,
                    eos_token_id=sorted(newline),
                    stopping_criteria=StoppingCriteriaList([Until(width, until)])
                    if until
                    else None,
                )
            for r, i in enumerate(rows):
                text = self.tokenizer.decode(generated[r, width:], skip_special_tokens=True)
                out[i] = text.split("\n", 1)[0]
        return out
