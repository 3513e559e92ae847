"""The reward models: a cross-encoder from all-MiniLM-L6-v2 with a one-logit head that
reads (input, candidate demonstration), trained on the LM scores with a listwise KL
between the softmax of its logits and that of the LM scores over an input's candidates.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from entivec.build.demo.examples import KEYWORD_CLOSE, KEYWORD_OPEN, ScoredInput, reward_pair
from entivec.build.demo.recipe import BASE_MODEL, DemoTrainingBudget, teacher_name
from entivec.build.demo.stages import STAGE
from entivec.errors import ModelNotPreparedError
from entivec.models import model_dir
from entivec.query.prompts import Example


class RewardModel:
    """The cross-encoder: one logit per (input, candidate) pair.

    Args:
        folder: all-MiniLM-L6-v2, or a trained reward model.
        keywords: Read the texts with keyword tags (the tags are added to the tokenizer).
        text_form: Read whole sentences or mentions (:func:`reward_pair`).
        max_tokens: Tokens kept per pair.
    """

    def __init__(
        self, folder: Path, *, keywords: bool, text_form: str = "mention", max_tokens: int = 128
    ) -> None:
        import transformers
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        transformers.logging.set_verbosity_error()
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        if keywords and KEYWORD_OPEN not in self.tokenizer.get_vocab():
            self.tokenizer.add_special_tokens(
                {"additional_special_tokens": [KEYWORD_OPEN, KEYWORD_CLOSE]}
            )
        self.model = AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=1, use_safetensors=True
        )
        if len(self.tokenizer) > self.model.get_input_embeddings().num_embeddings:
            self.model.resize_token_embeddings(len(self.tokenizer))
        self.keywords = keywords
        self.text_form = text_form
        self.max_tokens = max_tokens

    @classmethod
    def trained(cls, folder: Path) -> RewardModel:
        """A reward model ``entivec train demo`` trained, read the way it was trained.

        Raises:
            ModelNotPreparedError: ``folder`` holds no trained reward model.
        """
        path = folder / STAGE
        if not path.is_file():
            raise ModelNotPreparedError(
                f"no reward model in {folder}; run `entivec train demo` first"
            )
        budget = json.loads(path.read_text(encoding="utf-8"))["recipe"]["budget"]
        return cls(
            folder,
            keywords=folder.name == teacher_name(True),
            # reward models trained before the form was a choice read whole sentences
            text_form=str(budget.get("reward_text_form") or "sentence"),
            max_tokens=int(budget.get("max_tokens") or 128),
        )

    def logits(self, example: Example, candidates: Sequence[Example]) -> Any:
        """Logits of ``candidates`` for ``example`` as a tensor that carries gradients."""
        pairs = [
            reward_pair(example, c, keywords=self.keywords, form=self.text_form) for c in candidates
        ]
        batch = self.tokenizer(
            [p[0] for p in pairs],
            [p[1] for p in pairs],
            padding=True,
            truncation=True,
            max_length=self.max_tokens,
            return_tensors="pt",
        )
        return self.model(**batch).logits.squeeze(-1)

    def scores(self, example: Example, candidates: Sequence[Example]) -> npt.NDArray[np.float64]:
        """Logits of ``candidates`` for ``example`` (evaluation mode)."""
        import torch

        self.model.eval()
        with torch.inference_mode():
            return np.asarray(self.logits(example, candidates).numpy(), dtype=np.float64)

    def save(self, folder: Path) -> None:
        """Weights (safetensors), config and tokenizer."""
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)


def softmax(values: Any) -> Any:
    """The distribution a listwise KL pulls a model's softmax towards: the softmax of the
    LM's scores (or of the student's labels), as a tensor."""
    import torch

    return torch.softmax(torch.as_tensor(values, dtype=torch.float32), dim=-1)


# the parts of a BERT sequence classifier over the sentence encoder's layers
HEAD_PREFIXES = ("classifier.", "bert.pooler.")


def train_reward_model(
    scored: Sequence[ScoredInput],
    budget: DemoTrainingBudget,
    *,
    keywords: bool,
    show_progress: bool | None = None,
) -> tuple[RewardModel, list[float]]:
    """A reward model trained on the LM scores of ``scored`` (listwise KL)."""
    import torch

    torch.manual_seed(budget.seed)
    reward = RewardModel(
        model_dir(BASE_MODEL),
        keywords=keywords,
        text_form=budget.reward_text_form,
        max_tokens=budget.max_tokens,
    )
    head = [p for n, p in reward.model.named_parameters() if n.startswith(HEAD_PREFIXES)]
    encoder = [p for n, p in reward.model.named_parameters() if not n.startswith(HEAD_PREFIXES)]
    optimiser = torch.optim.AdamW(
        [
            {"params": encoder, "lr": budget.reward_learning_rate},
            {"params": head, "lr": budget.reward_head_learning_rate},
        ]
    )
    order = [i for _ in range(budget.reward_epochs) for i in range(len(scored))]
    random.Random(budget.seed).shuffle(order)
    losses: list[float] = []
    reward.model.train()
    desc = f"reward model ({'with' if keywords else 'without'} keywords)"
    for index in tqdm(order, desc=desc, disable=show_progress is False):
        item = scored[index]
        log_student = torch.log_softmax(reward.logits(item.example, item.candidates), dim=-1)
        loss = torch.nn.functional.kl_div(log_student, softmax(item.scores), reduction="sum")
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
    reward.model.eval()
    return reward, losses
