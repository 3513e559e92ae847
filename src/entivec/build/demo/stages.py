"""The folders a run of ``entivec train demo`` writes, one per stage (the two reward models,
the student): each is written whole with its recipe and facts and renamed into place, a
rerun reuses it while the part of the recipe it depends on is unchanged, and the
student's is read back for what it learned from and how it reads texts.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from entivec.build.demo.recipe import teacher_name
from entivec.build.demo.scores import recorded_source, scores_dir
from entivec.errors import ModelNotPreparedError

log = logging.getLogger(__name__)


def training_dir() -> Path:
    """Where ``entivec train demo`` keeps its reward models and student."""
    return scores_dir()


STAGE = "stage.json"


def finished(
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


def finish(folder: Path, recipe: dict[str, Any], facts: dict[str, Any], save: Any) -> None:
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
