"""Contrastive fine-tuning of multilingual-e5-small for queries in any language against an
English knowledge base, with weighted hard negatives (arXiv 2506.02527).

Data: the Tatoeba ``train`` lines (:mod:`entivec.loaders.tatoeba`); a query is ``query: `` + the
sentence in its language, its positive ``passage: `` + the aligned English sentence.
Negatives come from the English sentences of the training lines only, so no test answer
is ever seen in training.

Negative sampling, :data:`NEGATIVES` explicit negatives per query:

- ``weighted`` (the paper's): one random negative plus two drawn from the positive's
  :data:`HARD_POOL` nearest English sentences with probability proportional to their
  similarity to the positive under the *base* model;
- ``hardest`` (ablation): the three nearest;
- ``random`` (ablation): three random ones.

Loss: InfoNCE at temperature :data:`TEMPERATURE` over the batch's positives (in-batch
negatives) and every explicit negative of the batch; a passage whose text equals a
query's answer is masked out for that query. Budget, the same for every variant:
:data:`EPOCHS` epochs of the 3,000 training pairs in batches of :data:`BATCH_SIZE`
(93 AdamW steps; about 9 s each on two cores). The whole schedule of batches is drawn
up front from one seed, and a checkpoint (safetensors: weights and AdamW moments) is
written every :data:`CHECKPOINT_EVERY` steps, so an interrupted run resumes where it
stopped and ends with the same weights.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from entivec.build.mean_pooled import MeanPooledEncoder
from entivec.build.metrics import retrieval_metrics
from entivec.errors import InvalidArgumentError, TrainingDataError
from entivec.loaders import tatoeba
from entivec.models import cache_dir, model_dir
from entivec.plugins.e5 import PASSAGE_PREFIX, QUERY_PREFIX

log = logging.getLogger(__name__)

SAMPLINGS = ("weighted", "hardest", "random")
BATCH_SIZE = 32
NEGATIVES = 3
HARD_POOL = 50
EPOCHS = 1
LEARNING_RATE = 2e-5
WARMUP_FRACTION = 0.1
WEIGHT_DECAY = 0.01
# e5's own pre-training temperature; at 0.05 the logits of negatives whose cosines sit
# within .1 of the positive's differ by at most 2, too soft to push them apart (dev MRR
# .954 at 0.05, .961 at 0.01)
TEMPERATURE = 0.01
MAX_TOKENS = 64
CHECKPOINT_EVERY = 25
SEED = 0
BASE_MODEL = "multilingual-e5-small"


@dataclass(frozen=True)
class Example:
    """One query with its positive and explicit negatives (texts, without prefixes)."""

    query: str
    positive: str
    negatives: tuple[str, ...]


def run_name(sampling: str, exclude: Sequence[str] = ()) -> str:
    """Folder name of a training run (``weighted``, ``weighted-no-pol``, ...)."""
    return "-".join([sampling, *(f"no-{lang}" for lang in sorted(exclude))])


def training_dir(sampling: str, exclude: Sequence[str] = ()) -> Path:
    """Where a run keeps its checkpoints and its final model."""
    return cache_dir() / "training" / "e5_xling" / run_name(sampling, exclude)


def recipe(sampling: str, exclude: Sequence[str]) -> dict[str, Any]:
    """Everything that determines a run's result (recorded in its manifest)."""
    return {
        "base_model": BASE_MODEL,
        "sampling": sampling,
        "excluded_languages": sorted(exclude),
        "splits": tatoeba.SPLITS,
        "batch_size": BATCH_SIZE,
        "negatives_per_query": NEGATIVES,
        "hard_pool": HARD_POOL,
        "epochs": EPOCHS,
        "learning_rate": LEARNING_RATE,
        "warmup_fraction": WARMUP_FRACTION,
        "weight_decay": WEIGHT_DECAY,
        "temperature": TEMPERATURE,
        "max_tokens": MAX_TOKENS,
        "frozen": ["embeddings.word_embeddings"],
        "seed": SEED,
    }


def _base_neighbours(texts: list[str]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """For each English text, its :data:`HARD_POOL` most similar *other* texts under the
    base e5 (ONNX plugin, passage vectors) and their cosine similarities."""
    from entivec.plugins.e5 import load as load_e5

    vectors = load_e5().embed_passages(texts)
    sims = vectors @ vectors.T
    same = np.array(texts)[:, None] == np.array(texts)[None, :]
    sims[same] = -np.inf  # the text itself and its verbatim copies are no negatives
    top = np.argpartition(-sims, HARD_POOL, axis=1)[:, :HARD_POOL]
    top_sims = np.take_along_axis(sims, top, 1)
    order = np.argsort(-top_sims, axis=1)
    return np.take_along_axis(top, order, 1), np.take_along_axis(top_sims, order, 1)


def plan_examples(
    pairs: Sequence[tatoeba.Pair], sampling: str, epochs: int, seed: int = SEED
) -> list[list[Example]]:
    """The whole schedule of batches, drawn from ``seed``: the same every time."""
    if sampling not in SAMPLINGS:
        raise InvalidArgumentError(
            f"unknown sampling {sampling!r}; expected one of: {', '.join(SAMPLINGS)}"
        )
    rng = random.Random(seed)
    english = sorted({p.answer for p in pairs})
    index = {text: i for i, text in enumerate(english)}
    neighbours, sims = _base_neighbours(english)

    def random_negatives(positive: str, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            candidate = english[rng.randrange(len(english))]
            if candidate != positive and candidate not in out:
                out.append(candidate)
        return out

    def negatives(positive: str) -> tuple[str, ...]:
        row = index[positive]
        if sampling == "random":
            return tuple(random_negatives(positive, NEGATIVES))
        if sampling == "hardest":
            return tuple(english[j] for j in neighbours[row, :NEGATIVES])
        weights = np.clip(sims[row], 1e-6, None)
        chosen = np.random.default_rng(rng.randrange(2**32)).choice(
            neighbours[row], size=NEGATIVES - 1, replace=False, p=weights / weights.sum()
        )
        hard = [english[j] for j in chosen]
        return (*random_negatives(positive, 1), *hard)

    batches: list[list[Example]] = []
    for _ in range(epochs):
        order = list(pairs)
        rng.shuffle(order)
        for start in range(0, len(order) - BATCH_SIZE + 1, BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            batches.append([Example(p.query, p.answer, negatives(p.answer)) for p in batch])
    return batches


def _loss(encoder: MeanPooledEncoder, batch: list[Example]) -> Any:
    import torch

    queries = encoder([QUERY_PREFIX + e.query for e in batch])
    passages_text = [e.positive for e in batch] + [n for e in batch for n in e.negatives]
    passages = encoder([PASSAGE_PREFIX + t for t in passages_text])
    logits = queries @ passages.T / TEMPERATURE
    answers = np.array([e.positive for e in batch])[:, None]
    same = torch.from_numpy(answers == np.array(passages_text)[None, :])
    same.fill_diagonal_(False)  # a verbatim copy of the answer elsewhere is no negative
    logits = logits.masked_fill(same, float("-inf"))
    return torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))


def _learning_rate(step: int, total: int) -> float:
    warmup = max(1, int(WARMUP_FRACTION * total))
    if step < warmup:
        return LEARNING_RATE * (step + 1) / warmup
    return LEARNING_RATE * max(0.0, (total - step) / max(1, total - warmup))


def _save_checkpoint(folder: Path, encoder: MeanPooledEncoder, optimiser: Any, step: int) -> None:
    """Weights and AdamW moments as safetensors, the step as JSON; renamed into place."""
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(
        {k: v.contiguous() for k, v in encoder.model.state_dict().items()},
        tmp / "model.safetensors",
    )
    moments = {
        f"{i}.{key}": value
        for i, state in optimiser.state_dict()["state"].items()
        for key, value in state.items()
    }
    save_file(moments, tmp / "optimizer.safetensors")
    (tmp / "state.json").write_text(json.dumps({"step": step}))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def _load_checkpoint(folder: Path, encoder: MeanPooledEncoder, optimiser: Any) -> int:
    from safetensors.torch import load_file

    encoder.model.load_state_dict(load_file(folder / "model.safetensors"))
    moments = load_file(folder / "optimizer.safetensors")
    state: dict[int, dict[str, Any]] = {}
    for key, value in moments.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    optimiser.load_state_dict(
        {"state": state, "param_groups": optimiser.state_dict()["param_groups"]}
    )
    return int(json.loads((folder / "state.json").read_text())["step"])


def rank_knowledge_base(
    embed_queries: Any,
    embed_passages: Any,
    pairs: Sequence[tatoeba.Pair],
    kb: Sequence[tatoeba.KbEntry],
    k: int = 100,
) -> dict[str, list[list[str]]]:
    """Per language (sorted), the top ``k`` texts of ``kb`` for each of its queries, in
    the order of ``pairs``, by exact search."""
    kb_texts = [e.text for e in kb]
    kb_vectors = embed_passages(kb_texts)
    rankings: dict[str, list[list[str]]] = {}
    for language in sorted({p.language for p in pairs}):
        chosen = [p for p in pairs if p.language == language]
        sims = embed_queries([p.query for p in chosen]) @ kb_vectors.T
        top = np.argsort(-sims, axis=1)[:, :k]
        rankings[language] = [[kb_texts[j] for j in row] for row in top]
    return rankings


def evaluate_encoder(
    embed_queries: Any,
    embed_passages: Any,
    pairs: Sequence[tatoeba.Pair],
    kb: Sequence[tatoeba.KbEntry],
    k: int = 100,
) -> dict[str, Any]:
    """MRR and Recall@k per language by exact search over ``kb`` (top ``k`` kept)."""
    rankings = rank_knowledge_base(embed_queries, embed_passages, pairs, kb, k)
    return {
        language: retrieval_metrics(ranked, [p.answer for p in pairs if p.language == language])
        for language, ranked in rankings.items()
    }


def train_e5_xling(
    folder: Path,
    *,
    sampling: str = "weighted",
    exclude: Sequence[str] = (),
    out: Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Fine-tune e5 on the Tatoeba training lines in ``folder``; resumable.

    Args:
        folder: The Tatoeba directory (``tatoeba.<lang>-eng.<lang>`` pair files).
        sampling: ``weighted``, ``hardest`` or ``random`` (see the module docstring).
        exclude: Query languages left out of training (to measure unseen languages).
        out: The run's folder; :func:`training_dir` by default.

    Returns:
        The run's manifest (recipe, loss, dev metrics); the model is in ``out/model``.
    """
    import torch

    languages = [lang for lang in tatoeba.languages_in(folder) if lang not in exclude]
    if not languages:
        raise TrainingDataError(f"no training language left in {folder} after excluding {exclude}")
    out = out or training_dir(sampling, exclude)
    manifest_path = out / "manifest.json"
    wanted = recipe(sampling, exclude)
    if manifest_path.is_file():
        done = json.loads(manifest_path.read_text())
        if done.get("recipe") == json.loads(json.dumps(wanted)):
            log.info("e5 %s is trained (%s)", run_name(sampling, exclude), out)
            return dict(done)
    pairs = [
        p for lang in languages for p in tatoeba.split(tatoeba.read_pairs(folder, lang), "train")
    ]
    torch.manual_seed(SEED)
    batches = plan_examples(pairs, sampling, EPOCHS)
    encoder = MeanPooledEncoder(model_dir(BASE_MODEL), max_tokens=MAX_TOKENS)
    # the 250k-token embedding matrix (96 M of the 118 M weights) stays frozen: it is
    # shared by every language, including those training never sees, and updating it
    # would be most of each step's cost
    encoder.model.embeddings.word_embeddings.weight.requires_grad_(False)
    optimiser = torch.optim.AdamW(
        [p for p in encoder.model.parameters() if p.requires_grad],
        lr=LEARNING_RATE,
        weight_decay=WEIGHT_DECAY,
    )
    checkpoint = out / "checkpoint"
    step = (
        _load_checkpoint(checkpoint, encoder, optimiser)
        if (checkpoint / "state.json").is_file()
        else 0
    )
    if step:
        log.info("resuming e5 %s at step %d of %d", run_name(sampling, exclude), step, len(batches))
    losses: list[float] = []
    started = time.perf_counter()
    encoder.model.train()
    bar = tqdm(
        total=len(batches),
        initial=step,
        desc=f"e5 {run_name(sampling, exclude)}",
        disable=show_progress is False,
    )
    while step < len(batches):
        for group in optimiser.param_groups:
            group["lr"] = _learning_rate(step, len(batches))
        loss = _loss(encoder, batches[step])
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if step % CHECKPOINT_EVERY == 0 or step == len(batches):
            _save_checkpoint(checkpoint, encoder, optimiser, step)
    bar.close()
    final = out / "model"
    shutil.rmtree(final, ignore_errors=True)
    encoder.model.save_pretrained(final, safe_serialization=True)
    # the base model's tokenizer files as they are (saving the loaded tokenizer would
    # bake in the training batches' truncation to MAX_TOKENS)
    for file in sorted(model_dir(BASE_MODEL).glob("*.json")):
        if file.name.startswith(("tokenizer", "special_tokens")):
            shutil.copy(file, final / file.name)
    all_pairs = [
        p for lang in tatoeba.languages_in(folder) for p in tatoeba.read_pairs(folder, lang)
    ]
    kb = tatoeba.knowledge_base(folder, tatoeba.languages_in(folder))
    dev = evaluate_encoder(
        lambda t: encoder.embed([QUERY_PREFIX + x for x in t]),
        lambda t: encoder.embed([PASSAGE_PREFIX + x for x in t]),
        tatoeba.split(all_pairs, "dev"),
        kb,
    )
    manifest = {
        "recipe": wanted,
        "training_pairs": len(pairs),
        "steps": len(batches),
        "final_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
        "train_seconds_this_run": round(time.perf_counter() - started, 1),
        "dev": dev,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(checkpoint, ignore_errors=True)
    return manifest
