"""Evaluations of demonstration selection (RUIE).

:func:`compare_formats` is the evidence behind the output format: for the same inputs
and the same number of BM25 candidates, how much the LM's preference score of the gold
answer moves from one candidate demonstration to the next in each format of
:mod:`entivec.query.prompts`. A retriever distilled from those scores can only learn where they
move.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from entivec.build.demo.scores import (
    Bm25Candidates,
    NeighbourCandidates,
    candidate_retriever,
    default_scores_files,
    read_scores,
    split_dev,
)
from entivec.build.metrics import micro_f1, spread
from entivec.errors import InvalidArgumentError, TrainingDataError
from entivec.query.language_model import LanguageModel
from entivec.query.prompts import (
    FORMATS,
    Example,
    output_format,
    prompt,
    read_type,
    sentence_examples,
    typing_examples,
)
from entivec.records import Sentence


def compare_formats(
    lm: LanguageModel,
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    *,
    inputs: int = 20,
    candidates: int = 15,
    seed: int = 0,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Spread of LM scores across BM25 candidates, per output format.

    Inputs come from the retriever-training part of ``dev`` (the evaluation part stays
    unseen), the pool from ``train``. For ``typing`` it also reports the mean score after
    a demonstration of the input's own type and after one of another type.
    """
    training, _evaluation = split_dev(dev)
    result: dict[str, Any] = {"candidates": candidates, "formats": {}}
    for name in tqdm(FORMATS, desc="output formats", disable=show_progress is False):
        fmt = output_format(name)
        examples = typing_examples if name == "typing" else sentence_examples
        pool = examples(train)
        population = examples(training)
        if not population:
            raise TrainingDataError("the retriever-training half of dev has no annotated mentions")
        chosen = random.Random(seed).sample(population, min(inputs, len(population)))
        retriever = Bm25Candidates(pool)
        per_input = min(candidates, len(pool) - 1)
        prompts, answers, same_type = [], [], []
        for example in chosen:
            for index in retriever.top(example, per_input):
                prompts.append(prompt(fmt, [pool[index]], example))
                answers.append(fmt.answer(example))
                if name == "typing":
                    same_type.append(pool[index].type == example.type)
        start = time.perf_counter()
        scores = lm.answer_log_likelihood(prompts, answers, show_progress=show_progress)
        seconds = time.perf_counter() - start
        row: dict[str, Any] = {
            "inputs": len(chosen),
            **spread(scores.reshape(len(chosen), -1)),
            "mean_score": float(scores.mean()),
            "seconds_per_pair": seconds / len(prompts),
        }
        if same_type:
            flags = np.array(same_type)
            row["share_same_type"] = float(flags.mean())
            row["mean_score_same_type"] = float(scores[flags].mean())
            row["mean_score_other_type"] = float(scores[~flags].mean())
        result["formats"][name] = row
    return result


METHODS = ("random", "bm25", "base", "reward", "distilled")
SHOTS = (1, 4, 8)
# first-stage candidates the reward model reranks (as many as it was trained on)
RERANKED = 20
# prompts completed between two appends to the completions file
CHUNK = 32


class Completions:
    """The LM's answers by prompt, kept in a JSON-lines file so an interrupted evaluation
    resumes without asking the LM again (a line cut short by a kill is ignored)."""

    def __init__(self, lm: LanguageModel, path: Path | None) -> None:
        self.lm = lm
        self.path = path
        self.answers: dict[str, str] = {}
        if path is not None and path.is_file():
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.endswith("\n"):
                        record = json.loads(line)
                        self.answers[record["prompt"]] = record["answer"]

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def complete(self, prompts: Sequence[str], *, show_progress: bool | None = None) -> list[str]:
        """Greedy answers of ``prompts``, asking the LM only for the unseen ones."""
        todo = sorted({p for p in prompts if self._key(p) not in self.answers}, key=len)
        chunks = range(0, len(todo), CHUNK)
        for start in tqdm(chunks, desc="in-context answers", disable=show_progress is False):
            chunk = todo[start : start + CHUNK]
            answers = self.lm.complete(chunk, show_progress=False)
            records = [
                {"prompt": self._key(p), "answer": a} for p, a in zip(chunk, answers, strict=True)
            ]
            for record in records:
                self.answers[record["prompt"]] = record["answer"]
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as sink:
                    sink.write("".join(json.dumps(r) + "\n" for r in records))
        return [self.answers[self._key(p)] for p in prompts]


Ranker = Callable[[Example, int], list[int]]


def _vector_ranker(query_vectors: Any, pool_vectors: Any, inputs: Sequence[Example]) -> Ranker:
    rows = {e.id: i for i, e in enumerate(inputs)}

    def rank(example: Example, k: int) -> list[int]:
        sims = pool_vectors @ query_vectors[rows[example.id]]
        return [int(i) for i in np.argsort(-sims, kind="stable")[:k]]

    return rank


def rankers(
    methods: Sequence[str],
    pool: Sequence[Example],
    inputs: Sequence[Example],
    seed: int,
    *,
    demo_artefact: Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Ranker]:
    """For each method, a function from an input to the pool indices of its best
    demonstrations, best first (``distilled``: the ``demo`` artefact in ``demo_artefact``,
    the installed one by default)."""
    from entivec.build.demo.examples import query_text
    from entivec.build.demo.recipe import BASE_MODEL, DemoTrainingBudget
    from entivec.build.demo.reward import RewardModel
    from entivec.build.demo.stages import student_candidate_source, student_teacher, training_dir
    from entivec.build.mean_pooled import MeanPooledEncoder
    from entivec.models import model_dir

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InvalidArgumentError(
            f"unknown method {unknown[0]!r}; expected some of: {', '.join(METHODS)}"
        )
    bm25 = Bm25Candidates(pool)
    out: dict[str, Ranker] = {}
    for method in methods:
        if method == "random":
            out[method] = lambda e, k: random.Random(f"{seed}/{e.id}").sample(range(len(pool)), k)
        elif method == "bm25":
            out[method] = bm25.top
        elif method == "base":
            # the untrained student: it reads texts as the default recipe trains it to
            form = DemoTrainingBudget().text_form
            base = MeanPooledEncoder(model_dir(BASE_MODEL), max_tokens=128)
            out[method] = _vector_ranker(
                base.embed([query_text(e, form) for e in inputs]),
                base.embed([d.demonstration_text(form) for d in pool]),
                inputs,
            )
        elif method == "reward":
            # the `demo` student's reward model, reranking the first stage it learned on
            reward = RewardModel.trained(training_dir() / student_teacher())
            source = student_candidate_source()
            first = bm25 if source == "bm25" else candidate_retriever(pool, source)

            def rerank(
                example: Example,
                k: int,
                reward: RewardModel = reward,
                first: Bm25Candidates | NeighbourCandidates = first,
            ) -> list[int]:
                candidates = first.top(example, RERANKED)
                scores = reward.scores(example, [pool[i] for i in candidates])
                return [candidates[int(i)] for i in np.argsort(-scores, kind="stable")[:k]]

            out[method] = rerank
        else:
            from entivec.plugins.demo import DemoEncoder

            student = DemoEncoder(demo_artefact)
            out[method] = _vector_ranker(
                student.embed_passages([query_text(e, student.text_form) for e in inputs]),
                student.embed_passages([d.demonstration_text(student.text_form) for d in pool]),
                inputs,
            )
    return out


# where the inputs of an evaluation come from (evaluation_inputs)
INPUT_SPLITS = ("held-back", "unscored")


def evaluation_inputs(
    dev: Sequence[Sentence], split: str, scores: Sequence[Path] | None = None
) -> list[Example]:
    """The mentions an evaluation draws its inputs from.

    ``held-back``: the evaluation half of ``dev``, which no training reads. ``unscored``:
    the retriever-training half less every input of the LM scores (``scores``, the
    files ``entivec train demo`` learns from by default), so no stage learned from
    them: what a recipe is chosen on, leaving the held-back half to measure it once.
    """
    training, evaluation = split_dev(dev)
    if split == "held-back":
        return typing_examples(evaluation)
    if split == "unscored":
        files = default_scores_files() if scores is None else list(scores)
        scored = {key for file in files for key in read_scores(file)}
        return [e for e in typing_examples(training) if e.id not in scored]
    raise InvalidArgumentError(
        f"unknown input split {split!r}; expected one of: {', '.join(INPUT_SPLITS)}"
    )


def evaluate_demos(
    lm: LanguageModel,
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    *,
    inputs: int = 100,
    seeds: Sequence[int] = (0, 1, 2),
    shots: Sequence[int] = SHOTS,
    methods: Sequence[str] = METHODS,
    inputs_from: str = "held-back",
    demo_artefact: Path | None = None,
    completions: Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """F1 of k-shot in-context typing on ``dev`` mentions, per method and k.

    Each seed draws ``inputs`` mentions from ``inputs_from`` (:func:`evaluation_inputs`:
    the held-back half by default, never seen in training); every method answers the
    same inputs. Demonstrations are shown best last, nearest the input. The labels the
    LM's answers are read against are the pool's types. ``distilled`` is the ``demo``
    artefact in ``demo_artefact`` (the installed one by default).

    Returns:
        ``{"methods": {method: {k: {"f1": [per seed], "mean", "std"}}}, "paired":
        {"distilled-bm25": {k: {"f1": [per-seed gaps], "mean", "std"}}, ...}, ...}``.
    """
    if not shots or min(shots) < 1:
        raise InvalidArgumentError(f"shots must be positive, got {list(shots)}")
    fmt = output_format("typing")
    pool = typing_examples(train)
    population = evaluation_inputs(dev, inputs_from)
    if not pool or not population:
        raise TrainingDataError(
            f"need annotated mentions in the pool and in dev's {inputs_from} mentions"
        )
    labels = sorted({e.type for e in pool})
    cache = Completions(lm, completions)
    per_seed: dict[str, dict[int, list[float]]] = {m: {k: [] for k in shots} for m in methods}
    drawn = {
        seed: random.Random(seed).sample(population, min(inputs, len(population))) for seed in seeds
    }
    deepest = max(shots)
    for seed in tqdm(seeds, desc="seeds", disable=show_progress is False):
        chosen = drawn[seed]
        ranked = rankers(
            methods, pool, chosen, seed, demo_artefact=demo_artefact, show_progress=show_progress
        )
        for method in methods:
            tops = {e.id: ranked[method](e, deepest) for e in chosen}
            prompts = [
                prompt(fmt, [pool[i] for i in reversed(tops[e.id][:k])], e)
                for k in shots
                for e in chosen
            ]
            answers = cache.complete(prompts, show_progress=show_progress)
            for n, k in enumerate(shots):
                part = answers[n * len(chosen) : (n + 1) * len(chosen)]
                predicted = [read_type(a, labels) for a in part]
                per_seed[method][k].append(micro_f1([e.type for e in chosen], predicted))
    return {
        "inputs": len(drawn[seeds[0]]) if seeds else 0,
        "inputs_from": inputs_from,
        "seeds": list(seeds),
        "pool": len(pool),
        "methods": {
            method: {k: _summary(scores) for k, scores in rows.items()}
            for method, rows in per_seed.items()
        },
        "paired": {
            f"{better}-{worse}": {
                k: _summary(
                    [b - w for b, w in zip(per_seed[better][k], per_seed[worse][k], strict=True)]
                )
                for k in shots
            }
            for better, worse in GOAL_ORDER
            if better in per_seed and worse in per_seed
        },
    }


# the goal: distilled > BM25 > random; every method answers the same inputs within a
# seed, so each gap is measured per seed and its spread is the test. distilled-base is
# what distillation added to the student's starting point.
GOAL_ORDER = (
    ("distilled", "bm25"),
    ("bm25", "random"),
    ("reward", "bm25"),
    ("distilled", "base"),
)


def _summary(values: Sequence[float]) -> dict[str, Any]:
    return {
        "f1": [round(v, 4) for v in values],
        "mean": round(float(np.mean(values)), 4),
        "std": round(float(np.std(values)), 4),
    }
