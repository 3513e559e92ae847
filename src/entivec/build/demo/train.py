"""Train the demonstration retriever from the LM scores (RUIE): a reward model, then a
bi-encoder student, shipped as the ``demo`` plugin.

1. **Reward model**: a cross-encoder (all-MiniLM-L6-v2 with a one-logit head) reads
   (input, candidate demonstration) and is trained so that the softmax of its logits
   over an input's candidates matches the softmax of the LM scores (listwise KL). With
   RUIE's keyword tags, the input's mention and the candidate's mention and answer are
   wrapped in ``<kw>`` ... ``</kw>`` (two added tokens); without them, the model reads the
   texts as the LM does (mentions in brackets). A fifth of the scored inputs (by seed)
   is kept out of training to measure both against the LM's own ranking.
2. **Labels**: the student learns the LM's own scores of the reward model's training
   inputs, from one scores file or several merged per input (the shipped recipe: the
   untrained student's neighbours, then, for other inputs, the neighbours of the student
   trained on those). With ``reward_labelled`` above 0, the reward model also labels
   that many more mentions of the retriever-training half of ``dev``, their candidates
   from the same first stage as the LM's (the default adds none: those labels did not
   pay, see :class:`DemoTrainingBudget`).
3. **Student**: a bi-encoder from the same all-MiniLM-L6-v2 (mean pooling, unit
   vectors) embeds the input (``query``: its mention's words) and the demonstration
   (``passage``: :func:`entivec.query.prompts.demonstration_text`, its mention and answer); the
   recipe records this form, ``text_form``. Loss: KL(labels ‖ student) over each input's
   candidates plus 0.2 · InfoNCE at temperature 0.05 with the labels' favourite as
   the positive and the batch's other candidates as negatives.
4. **Artefact**: the student exported to ONNX like the e5 plugin (pooling in the graph,
   cosine to PyTorch ≥ 0.9999), in ``artefacts/demo``.

Each stage (the two reward models, the student) writes its folder once it is complete,
renamed into place, and a rerun with the same recipe reuses it: an interrupted run
repeats at most the stage it was in. The artefact is rebuilt only when the student's
weights change.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from entivec.build.demo.scores import (
    Bm25Candidates,
    NeighbourCandidates,
    candidate_retriever,
    default_scores_files,
    pool_fingerprint,
    read_scores,
    recorded_budget,
    recorded_source,
    scores_dir,
    split_dev,
)
from entivec.build.mean_pooled import MeanPooledEncoder
from entivec.errors import InvalidArgumentError, ModelNotPreparedError, TrainingDataError
from entivec.loaders.crossner import type_name
from entivec.models import artefact_dir, model_dir, sha256
from entivec.query.prompts import RETRIEVER_TEXT_FORMS, Example, mark, typing_examples
from entivec.records import Sentence

log = logging.getLogger(__name__)

BASE_MODEL = "all-minilm-l6-v2"
KEYWORD_OPEN, KEYWORD_CLOSE = "<kw>", "</kw>"
NAME = "demo"
# bump when the recipe changes in a way the budget does not record
RECIPE_VERSION = 1
# the same for the student alone (2: the reward model's validation inputs left out;
# 3: its labels from the scores' first stage, the LM's own scores where they exist)
STUDENT_RECIPE_VERSION = 3


@dataclass(frozen=True)
class DemoTrainingBudget:
    """What ``entivec train demo`` does with the LM scores (recorded in the manifests).

    Attributes:
        reward_epochs: Passes over the scored inputs that train the reward model.
        reward_learning_rate: AdamW learning rate of the reward model's encoder.
        reward_head_learning_rate: AdamW learning rate of its one-logit head (and the
            pooler under it), which start from scratch: at the encoder's rate the head
            stayed at its initial size, the logits spread less than half as much as the
            LM scores, and the model did not even rank its own training inputs.
        validation_share: Share of the scored inputs kept out of reward training.
        reward_labelled: Mentions of the retriever-training half of ``dev`` beyond the
            LM-scored ones that the reward model labels for the student (the validation
            inputs never); ``None`` labels them all, 0 (the default) none: the student
            learns the LM's own scores of its training inputs. On the untrained student's
            neighbours the reward model learned less than the untrained student knows
            (Spearman .09 with the LM against .07, top-1 of the input's type .46 against
            .63), and 280 inputs it labelled left the student's whole-pool search level
            at k = 1 where the LM's scores alone lifted it by .06 (docs/ruie.md).
        candidates: Candidates per input the reward model labels, from the first stage
            the LM's candidates came from.
        student_candidates: Candidates per input in one student step (the labels'
            favourite and a random draw of the others).
        student_batch: Inputs per student step.
        student_epochs: Passes over the labelled inputs (3: one pass over 320 LM-scored
            inputs is 40 steps, too few to move the student).
        student_learning_rate: AdamW learning rate of the student.
        temperature: Of the student's softmax over cosines (RUIE: 0.01; 0.05 and 0.1 lifted
            the whole-pool search of held-out inputs from .53 to .57 at k = 4).
        infonce_weight: Of the contrastive term (RUIE: 0.2).
        text_form: How the student reads inputs and demonstrations
            (:data:`entivec.query.prompts.RETRIEVER_TEXT_FORMS`): the mention's own words (the
            default), or the whole sentence with the mention in brackets.
        reward_text_form: How the reward models read them, from the same choices.
        teacher_keywords: Distil the student from the keyword-tagged reward model (RUIE's
            choice) rather than the untagged one (the default). Reading mentions, the two
            rank the LM's preferences alike (Spearman .39 and .40 on the held-out scored
            inputs), but the untagged one's first choice is better (top-1 regret .70
            against .90), and so is its student's in-context F1 at every k (docs/ruie.md).
        max_tokens: Tokens kept per text.
        seed: Of every random draw.
    """

    reward_epochs: int = 2
    reward_learning_rate: float = 3e-5
    reward_head_learning_rate: float = 1e-3
    validation_share: float = 0.2
    reward_labelled: int | None = 0
    candidates: int = 20
    student_candidates: int = 8
    student_batch: int = 8
    student_epochs: int = 3
    student_learning_rate: float = 3e-5
    temperature: float = 0.05
    infonce_weight: float = 0.2
    teacher_keywords: bool = False
    text_form: str = "mention"
    reward_text_form: str = "mention"
    max_tokens: int = 128
    seed: int = 0

    def __post_init__(self) -> None:
        if self.reward_labelled is not None and self.reward_labelled < 0:
            raise InvalidArgumentError(
                f"reward_labelled must be 0 or more (or None for all), got {self.reward_labelled}"
            )
        for field, form in (
            ("text_form", self.text_form),
            ("reward_text_form", self.reward_text_form),
        ):
            if form not in RETRIEVER_TEXT_FORMS:
                raise InvalidArgumentError(
                    f"unknown {field} {form!r}; expected one of: {', '.join(RETRIEVER_TEXT_FORMS)}"
                )


# what a reward model depends on: a change elsewhere in the budget (the student's
# recipe, the teacher) reuses the reward models a former run trained
REWARD_FIELDS = (
    "reward_epochs",
    "reward_learning_rate",
    "reward_head_learning_rate",
    "validation_share",
    "reward_text_form",
    "max_tokens",
    "seed",
)
# the rest of the recipe a reward model depends on (not the student's version)
REWARD_RECIPE_KEYS = ("version", "base_model", "scores")


def reward_recipe(recipe: dict[str, Any]) -> dict[str, Any]:
    """The part of a training recipe a reward model stage depends on (a field a former
    version's recipe lacks is None, so that stage is trained again)."""
    budget = recipe["budget"]
    return {
        **{key: recipe.get(key) for key in REWARD_RECIPE_KEYS},
        "budget": {field: budget.get(field) for field in REWARD_FIELDS},
    }


def teacher_name(teacher_keywords: bool) -> str:
    """The folder of the reward model that labels the student's inputs."""
    return "reward_keywords" if teacher_keywords else "reward_plain"


def query_text(example: Example, form: str) -> str:
    """What the student embeds for an input (:func:`entivec.query.prompts.retriever_text`)."""
    return example.retriever_query(form)


def keyword_text(example: Example, *, answer: bool, form: str = "mention") -> str:
    """The example (its sentence, or its mention alone, by ``form``) with its mention and,
    for a demonstration, its answer in keyword tags."""
    start, end = example.offsets()
    text = mark(example.sentence.text, start, end, f"{KEYWORD_OPEN} ", f" {KEYWORD_CLOSE}")
    if form == "mention":
        text = text[start : end + len(KEYWORD_OPEN) + len(KEYWORD_CLOSE) + 2]
    elif form != "sentence":
        raise InvalidArgumentError(
            f"unknown text form {form!r}; expected one of: {', '.join(RETRIEVER_TEXT_FORMS)}"
        )
    if answer:
        text += f" Type: {KEYWORD_OPEN} {type_name(example.type)} {KEYWORD_CLOSE}"
    return text


def reward_pair(
    example: Example, candidate: Example, *, keywords: bool, form: str = "mention"
) -> tuple[str, str]:
    """The (input, demonstration) texts the reward model reads, in ``form``."""
    if keywords:
        return (
            keyword_text(example, answer=False, form=form),
            keyword_text(candidate, answer=True, form=form),
        )
    return query_text(example, form), candidate.demonstration_text(form)


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


@dataclass(frozen=True)
class ScoredInput:
    """An LM-scored input with its candidates (pool examples) and their scores."""

    example: Example
    candidates: tuple[Example, ...]
    scores: tuple[float, ...]


# what every scores file of one training run must share: the LM scored the same prompts
SHARED_SCORING = ("model", "output_format", "pool")


def scored_inputs(
    scores: Path | Sequence[Path], pool: Sequence[Example], dev: Sequence[Sentence]
) -> list[ScoredInput]:
    """The inputs of one or more scores files, joined to the pool and to ``dev``'s mentions.

    An input scored in several files (two rounds that drew it both) keeps every candidate
    once, in the order of the files: the LM scored the same prompts, so its scores of one
    input compare across files.

    Raises:
        TrainingDataError: A file is empty, or names examples the corpus lacks (it was
            scored over another pool or dev set).
        InvalidArgumentError: The files were scored with different LMs, formats or pools.
    """
    files = [scores] if isinstance(scores, Path) else list(scores)
    budgets = {f: recorded_budget(f) for f in files}
    known = {f: b for f, b in budgets.items() if b is not None}
    for key in SHARED_SCORING:
        recorded = {f: b.get(key) for f, b in known.items()}
        if len(set(recorded.values())) > 1:
            listed = ", ".join(f"{f}: {v!r}" for f, v in recorded.items())
            raise InvalidArgumentError(f"scores files disagree on {key} ({listed}); train on one")
    by_id = {e.id: e for e in pool}
    training, _evaluation = split_dev(dev)
    inputs = {e.id: e for e in typing_examples(training)}
    merged: dict[str, tuple[list[Example], list[float]]] = {}
    for file in files:
        records = read_scores(file)
        if not records:
            raise TrainingDataError(
                f"no LM scores in {file}; run `entivec train demo-scores` first"
            )
        asked = budgets[file]
        if asked is not None and len(records) < int(asked["inputs"]):
            log.warning(
                "%s holds %d of the %d inputs its budget asks for (an unfinished scoring "
                "job); training on those. To finish it first: `entivec train demo-scores "
                "... --inputs %d`",
                file,
                len(records),
                asked["inputs"],
                asked["inputs"],
            )
        for record in records.values():
            missing = [
                i for i in [record["input"], *record["candidates"]] if i not in by_id | inputs
            ]
            if missing:
                raise TrainingDataError(
                    f"{file} names {missing[0]!r}, which is neither a pool mention nor a "
                    "retriever-training dev mention of this corpus; score it again over this pool"
                )
            candidates, values = merged.setdefault(record["input"], ([], []))
            seen = {c.id for c in candidates}
            for candidate, score in zip(record["candidates"], record["scores"], strict=True):
                if candidate not in seen:
                    candidates.append(by_id[candidate])
                    values.append(float(score))
    out = [
        ScoredInput(inputs[key], tuple(candidates), tuple(values))
        for key, (candidates, values) in merged.items()
    ]
    return sorted(out, key=lambda s: s.example.id)


def split_scored(
    scored: Sequence[ScoredInput], budget: DemoTrainingBudget
) -> tuple[list[ScoredInput], list[ScoredInput]]:
    """(training, validation) scored inputs; the validation ones are drawn with the seed."""
    order = list(scored)
    random.Random(budget.seed).shuffle(order)
    held = max(1, round(budget.validation_share * len(order))) if len(order) > 1 else 0
    return order[held:], order[:held]


def _softmax(values: Any) -> Any:
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
        loss = torch.nn.functional.kl_div(log_student, _softmax(item.scores), reduction="sum")
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
    reward.model.eval()
    return reward, losses


def ranking_quality(scored: Sequence[ScoredInput], predicted: Sequence[Any]) -> dict[str, float]:
    """How well ``predicted`` scores (one array per input) rank candidates as the LM does.

    ``spearman``: mean rank correlation with the LM scores; ``top1_regret``: LM score of
    the LM's favourite minus that of the predicted favourite (0 is perfect);
    ``top1_same_type``: share of inputs whose predicted favourite has the input's type.
    """
    from scipy.stats import spearmanr

    rho, regret, same = [], [], []
    for item, scores in zip(scored, predicted, strict=True):
        lm = np.asarray(item.scores)
        rho.append(float(spearmanr(scores, lm).statistic))
        best = int(np.argmax(scores))
        regret.append(float(lm.max() - lm[best]))
        same.append(item.candidates[best].type == item.example.type)
    return {
        "spearman": round(float(np.nanmean(rho)), 4),
        "top1_regret": round(float(np.mean(regret)), 4),
        "top1_same_type": round(float(np.mean(same)), 4),
    }


def bi_encoder_scores(
    encoder: MeanPooledEncoder, scored: Sequence[ScoredInput], text_form: str
) -> list[npt.NDArray[np.float32]]:
    """A bi-encoder's cosines between each input and its candidates, read in ``text_form``."""
    return [
        (
            encoder.embed([query_text(s.example, text_form)])
            @ encoder.embed([c.demonstration_text(text_form) for c in s.candidates]).T
        )[0]
        for s in scored
    ]


def student_inputs(
    dev: Sequence[Sentence],
    fitting: Sequence[ScoredInput],
    validation: Sequence[ScoredInput],
    budget: DemoTrainingBudget,
) -> list[Example]:
    """The inputs the student learns from: the reward model's training inputs (LM-scored),
    then ``budget.reward_labelled`` others of the retriever-training half of ``dev`` drawn
    with the seed (every one when it is ``None``). The validation inputs are left out, so
    the student's row of the validation table is as unseen as the reward models'."""
    chosen = [s.example for s in fitting]
    rest = _unseen_mentions(dev, [*chosen, *(s.example for s in validation)], budget.seed)
    wanted = len(rest) if budget.reward_labelled is None else budget.reward_labelled
    return chosen + rest[:wanted]


def _unseen_mentions(
    dev: Sequence[Sentence], seen: Sequence[Example], seed: int | str
) -> list[Example]:
    """The retriever-training half of ``dev``'s mentions not in ``seen``, shuffled with
    ``seed``."""
    training, _evaluation = split_dev(dev)
    ids = {e.id for e in seen}
    rest = [e for e in typing_examples(training) if e.id not in ids]
    random.Random(seed).shuffle(rest)
    return rest


# retriever-training dev mentions no stage learns from, searched over the whole pool to
# check a student (pool_precision)
POOL_CHECK_INPUTS = 500


def pool_check_inputs(
    dev: Sequence[Sentence],
    validation: Sequence[ScoredInput],
    learned: Sequence[Example],
    budget: DemoTrainingBudget,
) -> list[Example]:
    """The reward models' validation inputs and :data:`POOL_CHECK_INPUTS` more mentions of
    the retriever-training half of ``dev`` that neither the reward models nor the student
    learn from (drawn with the seed)."""
    held = [s.example for s in validation]
    rest = _unseen_mentions(dev, [*learned, *held], f"{budget.seed}/pool-check")
    return held + rest[:POOL_CHECK_INPUTS]


@dataclass(frozen=True)
class Labelled:
    """An input with its candidates and their labels: the LM's scores where it scored
    them, the reward model's logits otherwise."""

    example: Example
    candidates: tuple[Example, ...]
    rewards: tuple[float, ...]


def scores_source(scores: Path) -> str:
    """Who proposed the candidates of a scores file (files scored before it was a choice
    hold BM25's)."""
    return recorded_source(recorded_budget(scores) or {})


def scores_record(
    scores: Sequence[Path], scored: Sequence[ScoredInput], pool: Sequence[Example]
) -> dict[str, Any]:
    """What a recipe records of the scores it learned from: each file with its inputs
    and who proposed its candidates, the merged inputs, the pool, and the first file's
    source (``candidates_from``: the first stage the reward models are evaluated on)."""
    files = []
    for file in scores:
        budget = recorded_budget(file) or {}
        row: dict[str, Any] = {
            "file": str(file),
            "inputs": len(read_scores(file)),
            "candidates_from": recorded_source(budget),
        }
        if "student" in budget:
            row["student"] = budget["student"]
        files.append(row)
    return {
        "files": files,
        "inputs": len(scored),
        "pool": pool_fingerprint(pool),
        "candidates_from": files[0]["candidates_from"],
    }


def label_with_reward(
    reward: RewardModel,
    inputs: Sequence[Example],
    pool: Sequence[Example],
    budget: DemoTrainingBudget,
    *,
    source: str = "bm25",
    scored: Sequence[ScoredInput] = (),
    show_progress: bool | None = None,
) -> list[Labelled]:
    """Each input's candidates from ``source``'s first stage, labelled: an input the LM
    scored keeps the LM's candidates and scores, the others get the reward model's."""
    by_id = {s.example.id: s for s in scored}
    first_stage: Bm25Candidates | NeighbourCandidates | None = None
    out = []
    for example in tqdm(inputs, desc="reward labels", disable=show_progress is False):
        if example.id in by_id:
            item = by_id[example.id]
            out.append(Labelled(example, item.candidates, item.scores))
            continue
        if first_stage is None:
            first_stage = candidate_retriever(pool, source, text_form=budget.text_form)
        candidates = tuple(pool[i] for i in first_stage.top(example, budget.candidates))
        rewards = reward.scores(example, candidates)
        out.append(Labelled(example, candidates, tuple(float(r) for r in rewards)))
    return out


def pool_precision(
    encoder: Any,
    inputs: Sequence[Example],
    pool: Sequence[Example],
    text_form: str,
    ks: Sequence[int] = (1, 4, 8),
) -> dict[str, float]:
    """Share of a bi-encoder's top ``k`` over the whole pool that has the input's type.

    What a search returns at run time, unlike :func:`ranking_quality`, which only orders
    the scored candidates; the LM answers mostly with a demonstration's type (docs/ruie.md),
    so this is the cheap check of a student before the in-context evaluation.
    """
    pool_vectors = encoder.embed([d.demonstration_text(text_form) for d in pool])
    query_vectors = encoder.embed([query_text(e, text_form) for e in inputs])
    types = np.array([d.type for d in pool])
    order = np.argsort(-(query_vectors @ pool_vectors.T), axis=1, kind="stable")
    same = types[order[:, : max(ks)]] == np.array([e.type for e in inputs])[:, None]
    return {f"p@{k}": round(float(same[:, :k].mean()), 4) for k in ks}


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
        target = _softmax([item.rewards[i] for i in rows])
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


def training_dir() -> Path:
    """Where ``entivec train demo`` keeps its reward models and student."""
    return scores_dir()


STAGE = "stage.json"


def _finished(
    folder: Path,
    recipe: dict[str, Any],
    *,
    part: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """The facts of a stage a former run completed with the same recipe, if any.

    ``part`` maps a recipe to what the stage depends on; the whole recipe by default.
    """
    path = folder / STAGE
    if not path.is_file():
        return None
    done = json.loads(path.read_text(encoding="utf-8"))
    if "recipe" not in done:
        return None
    compared = part or (lambda r: r)
    if compared(done["recipe"]) != compared(json.loads(json.dumps(recipe))):
        return None
    log.info("reusing %s", folder)
    return dict(done["facts"])


def _student_budget(out: Path | None) -> dict[str, Any]:
    """The budget the trained student's stage records."""
    path = (out or training_dir()) / "student" / STAGE
    if not path.is_file():
        raise ModelNotPreparedError(f"no student in {path.parent}; run `entivec train demo` first")
    return dict(json.loads(path.read_text(encoding="utf-8"))["recipe"]["budget"])


def student_candidate_source(out: Path | None = None) -> str:
    """The first stage that proposed the candidates the trained student and its reward
    models learned from (:data:`entivec.build.demo.scores.CANDIDATE_SOURCES`)."""
    path = (out or training_dir()) / "student" / STAGE
    if not path.is_file():
        raise ModelNotPreparedError(f"no student in {path.parent}; run `entivec train demo` first")
    return recorded_source(json.loads(path.read_text(encoding="utf-8"))["recipe"]["scores"])


def student_teacher(out: Path | None = None) -> str:
    """The reward model the trained student was distilled from (its folder name)."""
    budget = _student_budget(out)
    # students trained before the teacher was a choice were taught by the keyword model
    return teacher_name(bool(budget.get("teacher_keywords", True)))


def student_text_form(out: Path | None = None) -> str:
    """How the trained student reads texts (:data:`entivec.query.prompts.RETRIEVER_TEXT_FORMS`)."""
    budget = _student_budget(out)
    # students trained before the form was a choice read whole sentences
    return str(budget.get("text_form", "sentence"))


def _finish(folder: Path, recipe: dict[str, Any], facts: dict[str, Any], save: Any) -> None:
    """Write a stage's files into a temporary folder, then rename it into place."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save(tmp)
    (tmp / STAGE).write_text(
        json.dumps({"recipe": recipe, "facts": facts}, indent=2) + "\n", encoding="utf-8"
    )
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def _save_student(student: MeanPooledEncoder, out: Path) -> None:
    student.model.save_pretrained(out, safe_serialization=True)
    # the base model's tokenizer files as they are (saving the loaded tokenizer would bake
    # in the training truncation)
    for file in sorted(model_dir(BASE_MODEL).iterdir()):
        if file.suffix in {".json", ".txt"} and file.name.startswith(
            ("tokenizer", "special_tokens", "vocab")
        ):
            shutil.copy(file, out / file.name)


def _mean_tail(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values[-20:])), 4) if values else None


def train_demo(
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    budget: DemoTrainingBudget | None = None,
    *,
    scores: Path | Sequence[Path] | None = None,
    out: Path | None = None,
    artefact: Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """``entivec train demo``: reward models, labels, student and the ``demo`` artefact.

    Args:
        train: The demonstration pool's sentences (the pool the scores were made over).
        dev: Dev sentences; only the retriever-training half is read.
        budget: See :class:`DemoTrainingBudget`.
        scores: The LM scores (``entivec train demo-scores``), one file or several (a
            first round and a second from the trained student's neighbours, merged per
            input); by default the first round's file in the cache and the second's
            when it exists (:func:`entivec.build.demo.scores.default_scores_files`).
        out: Where the reward models and the student go; :func:`training_dir` by default.
        artefact: Where the ``demo`` plugin's artefact goes; its place in the cache by
            default.

    Returns:
        The manifest: recipe, reward-model validation (with and without keywords, and
        BM25's order for reference), losses and the artefact's checks.
    """
    from entivec.build.prepare.artefacts import export_checked_e5
    from entivec.build.prepare.models import build_once

    budget = budget or DemoTrainingBudget()
    if scores is None:
        files = default_scores_files()
    else:
        files = [scores] if isinstance(scores, Path) else list(scores)
    if not files:
        raise InvalidArgumentError("no scores files to train on")
    out = out or training_dir()
    pool = typing_examples(train)
    if not pool:
        raise TrainingDataError("the demonstration pool has no annotated mentions")
    scored = scored_inputs(files, pool, dev)
    fitting, validation = split_scored(scored, budget)
    learned_from = scores_record(files, scored, pool)
    recipe = {
        "version": RECIPE_VERSION,
        "student_version": STUDENT_RECIPE_VERSION,
        "base_model": BASE_MODEL,
        "budget": asdict(budget),
        "scores": learned_from,
    }
    manifest_path = out / "demo-manifest.json"
    started = time.perf_counter()
    base = MeanPooledEncoder(model_dir(BASE_MODEL), max_tokens=budget.max_tokens)
    validation_rows: dict[str, Any] = {
        "inputs": len(validation),
        # the order the first stage proposed them in (BM25's or the untrained student's)
        "candidate_order": ranking_quality(
            validation, [-np.arange(len(s.candidates), dtype=float) for s in validation]
        ),
        # the student's starting point: what distillation has to improve on
        "base_bi_encoder": ranking_quality(
            validation, bi_encoder_scores(base, validation, budget.text_form)
        ),
    }
    final_losses: dict[str, float | None] = {}
    reward: RewardModel | None = None
    teacher: RewardModel | None = None
    for keywords in (False, True):
        name = teacher_name(keywords)
        facts = _finished(out / name, recipe, part=reward_recipe)
        if facts is None:
            reward, losses = train_reward_model(
                fitting, budget, keywords=keywords, show_progress=show_progress
            )
            facts = {
                "final_loss": _mean_tail(losses),
                "validation": ranking_quality(
                    validation, [reward.scores(s.example, s.candidates) for s in validation]
                ),
            }
            _finish(out / name, recipe, facts, reward.save)
        else:
            reward = RewardModel.trained(out / name)
        final_losses[name] = facts["final_loss"]
        validation_rows[name] = facts["validation"]
        if keywords == budget.teacher_keywords:
            teacher = reward
    if teacher is None:
        raise TrainingDataError("no reward model was trained")  # unreachable: two passes
    inputs = student_inputs(dev, fitting, validation, budget)
    checked = pool_check_inputs(dev, validation, inputs, budget)
    facts = _finished(out / "student", recipe)
    if facts is None:
        labelled = label_with_reward(
            teacher,
            inputs,
            pool,
            budget,
            source=learned_from["candidates_from"],
            scored=fitting,
            show_progress=show_progress,
        )
        student, losses = train_student(labelled, budget, show_progress=show_progress)
        facts = {
            "inputs": len(labelled),
            "final_loss": _mean_tail(losses),
            "validation": ranking_quality(
                validation, bi_encoder_scores(student, validation, budget.text_form)
            ),
            "pool": pool_precision(student, checked, pool, budget.text_form),
        }
        _finish(out / "student", recipe, facts, lambda folder: _save_student(student, folder))
    final_losses["student"] = facts["final_loss"]
    validation_rows["student"] = facts["validation"]
    # what a search of the whole pool returns, against the student's starting point
    validation_rows["pool"] = {
        "inputs": len(checked),
        "base_bi_encoder": pool_precision(base, checked, pool, budget.text_form),
        "student": facts.get("pool"),
    }
    manifest = {
        "recipe": recipe,
        "teacher": teacher_name(budget.teacher_keywords),
        "reward_inputs": len(fitting),
        "student_inputs": facts["inputs"],
        "final_loss": final_losses,
        "validation": validation_rows,
        "train_seconds_this_run": round(time.perf_counter() - started, 1),
    }
    built = build_once(
        artefact or artefact_dir(NAME),
        lambda folder: export_checked_e5(out / "student", folder, int8=False),
        {
            "plugin": NAME,
            "source_sha256": sha256(out / "student" / "model.safetensors"),
            "recipe": recipe,
            "validation": validation_rows,
        },
        what="the demo plugin",
    )
    manifest["artefact"] = built.get("checks", {})
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
