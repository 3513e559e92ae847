"""What a run of ``entivec train demo`` depends on: the training budget, the base model,
the recipe versions, and the part of the recipe the reward models depend on.

The recipe (these and the scores learned from) is recorded in every stage's folder and in
the manifest; a rerun reuses a stage only when the part of the recipe it depends on is
unchanged (:mod:`entivec.build.demo.stages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from entivec.errors import InvalidArgumentError
from entivec.query.prompts import RETRIEVER_TEXT_FORMS

BASE_MODEL = "all-minilm-l6-v2"
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
