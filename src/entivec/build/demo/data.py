"""The inputs of a training run: the LM-scored inputs of one or more scores files, merged
per input and split into the reward models' training and validation inputs; the student's
inputs, labelled with the LM's scores or the teacher's; the held-out mentions that check a
student's search of the whole pool; and what the recipe records of the scores.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from entivec.build.demo.examples import Labelled, ScoredInput
from entivec.build.demo.recipe import DemoTrainingBudget
from entivec.build.demo.reward import RewardModel
from entivec.build.demo.scores import (
    Bm25Candidates,
    NeighbourCandidates,
    candidate_retriever,
    pool_fingerprint,
    read_scores,
    recorded_budget,
    recorded_source,
    split_dev,
)
from entivec.errors import InvalidArgumentError, TrainingDataError
from entivec.query.prompts import Example, typing_examples
from entivec.records import Sentence

log = logging.getLogger(__name__)


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
# check a student (entivec.build.demo.quality.pool_precision)
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
