"""LM preference scores of candidate demonstrations: the training signal of the demo retriever.

RUIE's recipe, scaled to two CPU cores: for each input, a first-stage retriever
proposes candidates from the demonstration pool (CrossNER ``train`` mentions), and
SmolLM2-135M-Instruct scores each one by the average token log-likelihood of the gold
answer given (candidate demonstration + input), in the ``typing`` format of
:mod:`entivec.query.prompts`.

The candidates (:data:`CANDIDATE_SOURCES`) are the nearest neighbours of the untrained
student over the whole pool (``base``, the default), BM25's (bm25s) top (``bm25``,
RUIE's), or the nearest neighbours of the student ``entivec train demo`` trained last
(``student``: a second round, the hard negatives of the trained student). A student
learns to order what it is shown; trained on BM25's lists it ordered them better and
searched the whole pool worse than where it started, because at run time it ranks
candidates BM25 never proposed (docs/ruie.md). Its own neighbours are the hard negatives
it meets in a search. A ``student`` scores file records which student proposed its
candidates (the sha256 of its weights) and is never extended with another's.

Budget (:class:`ScoringBudget`): ``inputs`` mentions from the retriever-training part of
``dev`` (:func:`split_dev`), ``candidates`` per input; each (input, candidate) pair is
about 150 tokens, and an input's candidates go through the LM as one batch. The default
budget (8,000 pairs) took 21 minutes on two AVX-512 Xeon cores (0.16 s a pair) and
runs at about 0.28 s a pair on two AVX2 EPYC cores.

The job is resumable: each input's scores are appended to a JSON-lines file as soon as
they are computed, and a rerun skips the inputs already there (a line cut short by a
kill is dropped), so interrupting and repeating the job ends with the same scores as
one clean run. A larger ``inputs`` on the same file scores only the new inputs: the draw
of inputs is prefix-stable (:func:`prefix_stable_draw`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from entivec.errors import InvalidArgumentError, ModelNotPreparedError, TrainingDataError
from entivec.models import cache_dir
from entivec.query.language_model import LanguageModel
from entivec.query.prompts import Example, output_format, prompt, typing_examples
from entivec.records import Sentence

log = logging.getLogger(__name__)

# share of dev sentences (by a hash of their id) whose mentions train the retriever; the
# rest are held back for `entivec eval demos` and never seen in training
TRAINING_SHARE = 0.5

# where an input's candidates come from: the untrained student's neighbours, BM25's, or
# the trained student's
CANDIDATE_SOURCES = ("base", "bm25", "student")


def recorded_source(record: dict[str, Any]) -> str:
    """The candidate source a budget or recipe records; one written before the source was
    a choice holds BM25's candidates."""
    return str(record.get("candidates_from", "bm25"))


@dataclass(frozen=True)
class ScoringBudget:
    """How much LM scoring to do (written beside the scores)."""

    inputs: int = 400
    candidates: int = 20
    seed: int = 0
    output_format: str = "typing"
    candidates_from: str = "base"

    def __post_init__(self) -> None:
        if self.candidates_from not in CANDIDATE_SOURCES:
            raise InvalidArgumentError(
                f"unknown candidate source {self.candidates_from!r}; expected one of: "
                f"{', '.join(CANDIDATE_SOURCES)}"
            )


def split_dev(sentences: Sequence[Sentence]) -> tuple[list[Sentence], list[Sentence]]:
    """Dev sentences for retriever training and for evaluation, split by a hash of the id.

    The split depends on nothing but the sentence id, so it is the same in every run and
    for every subset of the corpus.
    """
    training: list[Sentence] = []
    evaluation: list[Sentence] = []
    for sentence in sentences:
        digest = hashlib.sha256(f"{sentence.corpus}/{sentence.id}".encode()).digest()
        share = int.from_bytes(digest[:8], "big") / 2**64
        (training if share < TRAINING_SHARE else evaluation).append(sentence)
    return training, evaluation


def bm25_text(example: Example) -> str:
    """What BM25 indexes and queries for an example: its sentence, then its mention again
    (so the mention's own words weigh more than the rest of the sentence)."""
    text = example.sentence.text
    if example.mention is None:
        return text
    start, end = example.sentence.char_offsets(example.sentence.spans[example.mention])
    return f"{text} {text[start:end]}"


class Bm25Candidates:
    """BM25 (bm25s, English stop words) over the demonstration pool."""

    def __init__(self, pool: Sequence[Example]) -> None:
        import bm25s

        if not pool:
            raise TrainingDataError("the demonstration pool is empty")
        self.pool = list(pool)
        self._bm25s = bm25s
        self.retriever = bm25s.BM25()
        self.retriever.index(self._tokens([bm25_text(e) for e in self.pool]), show_progress=False)

    def _tokens(self, texts: list[str]) -> Any:
        return self._bm25s.tokenize(texts, stopwords="en", show_progress=False)

    def top(self, example: Example, k: int) -> list[int]:
        """Pool indices of the ``k`` best candidates, best first (never the input itself)."""
        # one more than asked, in case the input is in the pool itself
        documents, _scores = self.retriever.retrieve(
            self._tokens([bm25_text(example)]), k=min(k + 1, len(self.pool)), show_progress=False
        )
        chosen = [int(d) for d in documents[0] if self.pool[int(d)].id != example.id]
        return chosen[:k]


class NeighbourCandidates:
    """A bi-encoder's nearest neighbours over the whole pool: the untrained student
    (all-MiniLM-L6-v2, mean-pooled) unless ``model`` names a trained one, reading each
    input and demonstration in ``text_form``."""

    def __init__(
        self, pool: Sequence[Example], *, text_form: str = "mention", model: Path | None = None
    ) -> None:
        from entivec.build.mean_pooled import MeanPooledEncoder
        from entivec.models import model_dir

        if not pool:
            raise TrainingDataError("the demonstration pool is empty")
        self.pool = list(pool)
        self.text_form = text_form
        self.encoder = MeanPooledEncoder(model or model_dir(BASE_RETRIEVER), max_tokens=128)
        self.vectors = self.encoder.embed([e.demonstration_text(text_form) for e in self.pool])

    def top(self, example: Example, k: int) -> list[int]:
        """Pool indices of the ``k`` nearest candidates, best first (never the input itself)."""
        query = self.encoder.embed([example.retriever_query(self.text_form)])[0]
        order = np.argsort(-(self.vectors @ query), kind="stable")
        return [int(i) for i in order if self.pool[int(i)].id != example.id][:k]


# the student's starting point (entivec.build.demo.recipe.BASE_MODEL)
BASE_RETRIEVER = "all-minilm-l6-v2"


def candidate_retriever(
    pool: Sequence[Example], source: str, *, text_form: str = "mention", student: Path | None = None
) -> Bm25Candidates | NeighbourCandidates:
    """The first stage that proposes ``source``'s candidates (:data:`CANDIDATE_SOURCES`);
    the ``student`` source is the student in ``student`` (:func:`trained_student` by
    default), reading texts as it was trained to."""
    if source == "bm25":
        return Bm25Candidates(pool)
    if source == "base":
        return NeighbourCandidates(pool, text_form=text_form)
    if source == "student":
        # imported here: the stages module builds on this one
        from entivec.build.demo.stages import student_text_form

        folder = trained_student(student)
        # a student's folder is `student` in its training folder, beside its reward models
        return NeighbourCandidates(pool, text_form=student_text_form(folder.parent), model=folder)
    raise InvalidArgumentError(
        f"unknown candidate source {source!r}; expected one of: {', '.join(CANDIDATE_SOURCES)}"
    )


def trained_student(folder: Path | None = None) -> Path:
    """The folder of the student ``entivec train demo`` trained (in its training folder
    unless ``folder`` says otherwise).

    Raises:
        ModelNotPreparedError: No student has been trained there.
    """
    folder = folder or scores_dir() / "student"
    if not (folder / "model.safetensors").is_file():
        raise ModelNotPreparedError(
            f"no trained demo student in {folder}; run `entivec train demo` first (the "
            "student source scores its neighbours)"
        )
    return folder


def proposer_fingerprint(source: str, student: Path | None = None) -> dict[str, str]:
    """What a scores file records of who proposed its candidates beyond the source name:
    the trained student's weights, whose neighbours change when it is trained again."""
    if source != "student":
        return {}
    from entivec.models import sha256

    return {"student": sha256(trained_student(student) / "model.safetensors")[:16]}


def read_scores(path: Path) -> dict[str, dict[str, Any]]:
    """Scored inputs of a scores file, by input id; a last line cut short is ignored."""
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.endswith("\n"):
                log.info(
                    "%s:%d was cut short by an interrupted run; scoring it again", path, number
                )
                break
            record = json.loads(line)
            done[record["input"]] = record
    return done


def _drop_partial_line(path: Path) -> None:
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def score_candidates(
    lm: LanguageModel,
    pool: Sequence[Example],
    inputs: Sequence[Example],
    budget: ScoringBudget,
    out: Path,
    *,
    student: Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, dict[str, Any]]:
    """Score ``budget.candidates`` candidates for each input, appending to ``out``
    (``student``: the trained student of the ``student`` source, if not the default).

    Returns:
        Every scored input by id: ``{"input", "candidates": [pool ids, in the first
        stage's order], "scores": [average token log-likelihood]}``.
    """
    if budget.candidates < 1:
        raise InvalidArgumentError(f"candidates must be at least 1, got {budget.candidates}")
    fmt = output_format(budget.output_format)
    out.parent.mkdir(parents=True, exist_ok=True)
    _drop_partial_line(out)
    done = read_scores(out)
    todo = [e for e in inputs if e.id not in done]
    if not todo:
        return {e.id: done[e.id] for e in inputs}
    candidates = candidate_retriever(pool, budget.candidates_from, student=student)
    with out.open("a", encoding="utf-8") as sink:
        for example in tqdm(
            todo, desc="LM scores of demonstrations", disable=show_progress is False
        ):
            chosen = candidates.top(example, budget.candidates)
            prompts = [prompt(fmt, [pool[i]], example) for i in chosen]
            scores = lm.answer_log_likelihood(
                prompts, [fmt.answer(example)] * len(prompts), show_progress=False
            )
            record = {
                "input": example.id,
                "candidates": [pool[i].id for i in chosen],
                "scores": [round(float(s), 6) for s in scores],
            }
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            done[example.id] = record
    return {e.id: done[e.id] for e in inputs}


def scores_dir() -> Path:
    """Where ``entivec train demo`` keeps its LM scores."""
    return cache_dir() / "training" / "demo"


def recorded_budget(scores: Path) -> dict[str, Any] | None:
    """The budget written beside a scores file (:func:`budget_file`), if there is one."""
    path = scores.with_suffix(".budget.json")
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def scores_source(scores: Path) -> str:
    """Who proposed the candidates of a scores file (files scored before it was a choice
    hold BM25's)."""
    return recorded_source(recorded_budget(scores) or {})


def _recorded_proposer(out: Path) -> dict[str, str]:
    recorded = recorded_budget(out) or {}
    return {"student": recorded["student"]} if "student" in recorded else {}


def default_scores_file(source: str) -> Path:
    """Where ``entivec train demo-scores`` appends a source's scores by default: the
    first round's (``base`` or ``bm25``) in one file, the trained student's in another,
    so a second round never mixes with the first."""
    name = "scores-student.jsonl" if source == "student" else "scores.jsonl"
    return scores_dir() / name


def default_scores_files() -> list[Path]:
    """The scores ``entivec train demo`` learns from by default: the first round's file,
    and the second round's when it has been scored."""
    second = default_scores_file("student")
    return [default_scores_file("base"), *([second] if second.is_file() else [])]


def pool_fingerprint(pool: Sequence[Example]) -> str:
    """A digest of the pool's example ids, in order (candidates are stored as pool ids)."""
    digest = hashlib.sha256()
    for example in pool:
        digest.update(example.id.encode() + b"\n")
    return digest.hexdigest()[:16]


def budget_file(
    out: Path,
    budget: ScoringBudget,
    pool: Sequence[Example],
    model: str,
    proposer: dict[str, str] | None = None,
) -> None:
    """Write what the scores depend on beside them: the budget, the pool, the LM and
    ``proposer`` (:func:`proposer_fingerprint`).

    Raises:
        InvalidArgumentError: ``out`` holds scores made with another budget, pool or LM;
            they are never mixed. A budget asking for more inputs than ``out`` holds,
            the rest unchanged, extends it.
    """
    path = out.with_suffix(".budget.json")
    wanted = {**asdict(budget), "pool": pool_fingerprint(pool), "model": model, **(proposer or {})}
    existing = recorded_budget(out)
    if existing is not None:
        existing["candidates_from"] = recorded_source(existing)
        differ = sorted(
            k for k in wanted.keys() | existing.keys() if existing.get(k) != wanted.get(k)
        )
        # more inputs extend the file: the draw is prefix-stable, so the inputs already
        # scored are the first ones of the larger draw
        if differ == ["inputs"] and int(existing["inputs"]) < budget.inputs:
            log.info("adding inputs to %s: %d → %d", out, existing["inputs"], budget.inputs)
            differ = []
            path.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
        if differ:
            was = ", ".join(f"{k}={existing.get(k)!r}" for k in differ)
            asked = ", ".join(f"{k}={wanted.get(k)!r}" for k in differ)
            raise InvalidArgumentError(
                f"{out} holds scores made with {was}, not {asked}; "
                "delete it, or score into another file with --out"
            )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")


def scoring_inputs(dev: Sequence[Sentence], budget: ScoringBudget) -> list[Example]:
    """``budget.inputs`` mentions drawn (with the budget's seed) from the retriever-training
    part of ``dev``."""
    training, _evaluation = split_dev(dev)
    examples = typing_examples(training)
    if not examples:
        raise TrainingDataError("the retriever-training part of dev has no annotated mentions")
    chosen = [examples[i] for i in prefix_stable_draw(len(examples), budget.inputs, budget.seed)]
    return sorted(chosen, key=lambda e: e.id)


def prefix_stable_draw(population: int, k: int, seed: int) -> list[int]:
    """``k`` distinct indices below ``population``, drawn with ``seed``, such that a draw
    of more is the same draw continued (the scores of a smaller budget stay valid).

    Rejection sampling; it draws what :func:`random.sample` draws from a population much
    larger than ``k``, which is how the first scores were drawn.
    """
    import random

    rng = random.Random(seed)
    seen: set[int] = set()
    order: list[int] = []
    while len(order) < min(k, population):
        index = rng.randrange(population)
        if index not in seen:
            seen.add(index)
            order.append(index)
    return order


def score_demonstrations(
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    budget: ScoringBudget | None = None,
    *,
    out: Path | None = None,
    student: Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """The LM scoring job of ``entivec train demo-scores``: pool from ``train``, inputs
    from ``dev``, scores appended to ``out`` (resumable; :func:`default_scores_file` by
    default).

    Returns:
        A summary: the budget, counts, and how much the scores move with the
        demonstration (:func:`entivec.build.metrics.spread`).
    """
    from entivec.build.metrics import spread
    from entivec.models import model_dir
    from entivec.query.language_model import DEFAULT_MODEL

    budget = budget or ScoringBudget()
    out = out or default_scores_file(budget.candidates_from)
    pool = typing_examples(train)
    inputs = scoring_inputs(dev, budget)
    done = read_scores(out)
    if budget.candidates_from == "student" and all(e.id in done for e in inputs):
        # nothing is left to propose: the scores stand, whichever student is trained now
        # (the second round's student replaces the one that proposed them)
        proposer = _recorded_proposer(out)
    else:
        proposer = proposer_fingerprint(budget.candidates_from, student)
    budget_file(out, budget, pool, DEFAULT_MODEL, proposer)
    lm = LanguageModel(model_dir(DEFAULT_MODEL))
    scored = score_candidates(
        lm, pool, inputs, budget, out, student=student, show_progress=show_progress
    )
    matrix = [r["scores"] for r in scored.values() if len(r["scores"]) == budget.candidates]
    return {
        "budget": asdict(budget),
        "scores": str(out),
        "pool": len(pool),
        "inputs": len(scored),
        "pairs": sum(len(r["scores"]) for r in scored.values()),
        "spread": spread(matrix) if matrix else None,
    }
