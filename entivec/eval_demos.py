"""Evaluations of demonstration selection (RUIE).

:func:`compare_formats` is the evidence behind the output format: for the same inputs
and the same number of BM25 candidates, how much the LM's preference score of the gold
answer moves from one candidate demonstration to the next in each format of
:mod:`entivec.icl`. A retriever distilled from those scores can only learn where they
move.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from entivec.encoders.demo_scores import Bm25Candidates, split_dev
from entivec.errors import TrainingDataError
from entivec.icl import (
    FORMATS,
    LanguageModel,
    output_format,
    prompt,
    sentence_examples,
    spread,
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
