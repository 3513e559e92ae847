"""The student: a mean-pooled bi-encoder from all-MiniLM-L6-v2 distilled from the labels
(KL(labels ‖ student) over each input's candidates plus InfoNCE with the labels' favourite
as the positive), and the folder it is saved in, which the ``demo`` artefact is exported
from.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from entivec.build.demo.examples import Labelled, query_text
from entivec.build.demo.recipe import BASE_MODEL, DemoTrainingBudget
from entivec.build.demo.reward import softmax
from entivec.build.mean_pooled import MeanPooledEncoder
from entivec.models import model_dir


def _student_loss(
    student: MeanPooledEncoder,
    batch: Sequence[Labelled],
    budget: DemoTrainingBudget,
    rng: random.Random,
) -> Any:
    import torch

    per_input = min(budget.student_candidates, *(len(item.candidates) for item in batch))
    chosen: list[list[int]] = []
    for item in batch:
        best = int(np.argmax(item.rewards))
        others = [i for i in range(len(item.candidates)) if i != best]
        chosen.append([best, *rng.sample(others, per_input - 1)])
    queries = student([query_text(item.example, budget.text_form) for item in batch])
    passages = student(
        [
            item.candidates[i].demonstration_text(budget.text_form)
            for item, rows in zip(batch, chosen, strict=True)
            for i in rows
        ]
    )
    logits = queries @ passages.T / budget.temperature
    kl = torch.zeros(())
    for b, (item, rows) in enumerate(zip(batch, chosen, strict=True)):
        own = logits[b, b * per_input : (b + 1) * per_input]
        target = softmax([item.rewards[i] for i in rows])
        kl = kl + torch.nn.functional.kl_div(
            torch.log_softmax(own, dim=-1), target, reduction="sum"
        )
    # another input's candidate that is this input's positive is no negative
    ids = [item.candidates[i].id for item, rows in zip(batch, chosen, strict=True) for i in rows]
    positives = torch.tensor([b * per_input for b in range(len(batch))])
    duplicate = torch.tensor(
        [[ids[j] == ids[int(p)] and j != int(p) for j in range(len(ids))] for p in positives]
    )
    contrastive = torch.nn.functional.cross_entropy(
        logits.masked_fill(duplicate, float("-inf")), positives
    )
    return kl / len(batch) + budget.infonce_weight * contrastive


def train_student(
    labelled: Sequence[Labelled], budget: DemoTrainingBudget, *, show_progress: bool | None = None
) -> tuple[MeanPooledEncoder, list[float]]:
    """The bi-encoder distilled from the reward labels."""
    import torch

    torch.manual_seed(budget.seed)
    rng = random.Random(budget.seed)
    student = MeanPooledEncoder(model_dir(BASE_MODEL), max_tokens=budget.max_tokens)
    optimiser = torch.optim.AdamW(student.model.parameters(), lr=budget.student_learning_rate)
    order = [i for _ in range(budget.student_epochs) for i in range(len(labelled))]
    rng.shuffle(order)
    batches = [
        [labelled[i] for i in order[start : start + budget.student_batch]]
        for start in range(0, len(order), budget.student_batch)
    ]
    losses: list[float] = []
    student.model.train()
    for batch in tqdm(batches, desc="demo student", disable=show_progress is False):
        loss = _student_loss(student, batch, budget, rng)
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
    student.model.eval()
    return student, losses


def save_student(student: MeanPooledEncoder, out: Path) -> None:
    """The student's weights (safetensors), config and tokenizer files in ``out``."""
    student.model.save_pretrained(out, safe_serialization=True)
    # the base model's tokenizer files as they are (saving the loaded tokenizer would bake
    # in the training truncation)
    for file in sorted(model_dir(BASE_MODEL).iterdir()):
        if file.suffix in {".json", ".txt"} and file.name.startswith(
            ("tokenizer", "special_tokens", "vocab")
        ):
            shutil.copy(file, out / file.name)
