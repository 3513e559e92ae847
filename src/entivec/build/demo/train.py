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

This module runs the job; its parts are beside it: the budget and recipe
(:mod:`entivec.build.demo.recipe`), the texts the models read
(:mod:`entivec.build.demo.examples`), the inputs and their labels
(:mod:`entivec.build.demo.data`), the reward models (:mod:`entivec.build.demo.reward`),
the student (:mod:`entivec.build.demo.student`), the measures
(:mod:`entivec.build.demo.quality`) and the stage folders
(:mod:`entivec.build.demo.stages`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from entivec.build.demo.data import (
    label_with_reward,
    pool_check_inputs,
    scored_inputs,
    scores_record,
    split_scored,
    student_inputs,
)
from entivec.build.demo.quality import bi_encoder_scores, pool_precision, ranking_quality
from entivec.build.demo.recipe import (
    BASE_MODEL,
    RECIPE_VERSION,
    STUDENT_RECIPE_VERSION,
    DemoTrainingBudget,
    reward_recipe,
    teacher_name,
)
from entivec.build.demo.reward import RewardModel, train_reward_model
from entivec.build.demo.scores import default_scores_files
from entivec.build.demo.stages import finish, finished, training_dir
from entivec.build.demo.student import save_student, train_student
from entivec.build.mean_pooled import MeanPooledEncoder
from entivec.errors import InvalidArgumentError, TrainingDataError
from entivec.models import artefact_dir, model_dir, sha256
from entivec.query.prompts import typing_examples
from entivec.records import Sentence

NAME = "demo"


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
        facts = finished(out / name, recipe, part=reward_recipe)
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
            finish(out / name, recipe, facts, reward.save)
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
    facts = finished(out / "student", recipe)
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
        finish(out / "student", recipe, facts, lambda folder: save_student(student, folder))
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
