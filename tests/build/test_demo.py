"""The demonstration retriever: texts, training from real LM scores, the ONNX `demo` plugin
in a real Qdrant Edge store, and the k-shot evaluation.

Training runs on a tiny budget (a few politics mentions, real SmolLM2 scores, real
all-MiniLM-L6-v2): it checks the plumbing end to end. The quality figures come from
`entivec eval demos` on the full budget (docs/ruie.md).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from entivec.build.demo.data import label_with_reward, scored_inputs, split_scored, student_inputs
from entivec.build.demo.examples import (
    KEYWORD_CLOSE,
    KEYWORD_OPEN,
    keyword_text,
    query_text,
    reward_pair,
)
from entivec.build.demo.recipe import DemoTrainingBudget, reward_recipe
from entivec.build.demo.reward import RewardModel
from entivec.build.demo.scores import (
    NeighbourCandidates,
    ScoringBudget,
    budget_file,
    candidate_retriever,
    proposer_fingerprint,
    read_scores,
    score_candidates,
    score_demonstrations,
    scores_source,
    scoring_inputs,
    split_dev,
)
from entivec.build.demo.stages import student_teacher, student_text_form
from entivec.build.demo.train import train_demo
from entivec.build.mean_pooled import MeanPooledEncoder
from entivec.cli import cli
from entivec.errors import InvalidArgumentError, ModelNotPreparedError
from entivec.loaders import load
from entivec.models import model_dir
from entivec.plugins.demo import DemoEncoder
from entivec.query.language_model import DEFAULT_MODEL, LanguageModel
from entivec.query.prompts import (
    demonstration_text,
    marked_mention,
    retriever_query,
    typing_examples,
)
from entivec.records import Sentence
from tests.conftest import blair_example

TINY = DemoTrainingBudget(
    reward_epochs=1,
    reward_labelled=4,
    candidates=4,
    student_candidates=3,
    student_batch=4,
    max_tokens=96,
)


def test_an_input_must_mark_exactly_one_mention_in_brackets() -> None:
    assert marked_mention("Blair led [Labour] to victory.") == (10, 18)
    for text in ("Blair led Labour.", "[Blair] led [Labour].", "Blair led [] to victory."):
        with pytest.raises(InvalidArgumentError, match="exactly one mention in brackets"):
            marked_mention(text)


def test_a_demonstration_is_embedded_with_its_answer_and_keywords_wrap_mention_and_type() -> None:
    example = blair_example()
    # the default form: the mention's own words
    assert query_text(example, "mention") == "Labour Party"
    assert example.demonstration_text() == "Labour Party Type: political party"
    assert demonstration_text("Tony Blair led the Labour Party .", 0, 10, "politician") == (
        "Tony Blair Type: politician"
    )
    assert retriever_query("Blair led [Labour] to victory.") == "Labour"
    # the form of the first students: the sentence, mention in brackets
    assert query_text(example, "sentence") == "Tony Blair led the [Labour Party] ."
    assert example.demonstration_text("sentence") == (
        "Tony Blair led the [Labour Party] . Type: political party"
    )
    assert retriever_query("Blair led [Labour] to victory.", form="sentence") == (
        "Blair led [Labour] to victory."
    )
    with pytest.raises(InvalidArgumentError, match="expected one of: sentence, mention"):
        example.demonstration_text("paragraph")
    with pytest.raises(InvalidArgumentError, match="expected one of: sentence, mention"):
        DemoTrainingBudget(text_form="paragraph")
    with pytest.raises(InvalidArgumentError, match="reward_text_form 'paragraph'"):
        DemoTrainingBudget(reward_text_form="paragraph")
    assert keyword_text(example, answer=True, form="sentence") == (
        f"Tony Blair led the {KEYWORD_OPEN} Labour Party {KEYWORD_CLOSE} . "
        f"Type: {KEYWORD_OPEN} political party {KEYWORD_CLOSE}"
    )
    assert keyword_text(example, answer=True) == (
        f"{KEYWORD_OPEN} Labour Party {KEYWORD_CLOSE} "
        f"Type: {KEYWORD_OPEN} political party {KEYWORD_CLOSE}"
    )
    assert keyword_text(example, answer=False) == f"{KEYWORD_OPEN} Labour Party {KEYWORD_CLOSE}"
    with pytest.raises(InvalidArgumentError, match="expected one of: sentence, mention"):
        keyword_text(example, answer=False, form="paragraph")
    # the untagged reward model reads what the student reads, in either form
    for form in ("sentence", "mention"):
        assert reward_pair(example, example, keywords=False, form=form) == (
            query_text(example, form),
            example.demonstration_text(form),
        )


@pytest.mark.parametrize("field", ["reward_head_learning_rate", "reward_text_form"])
def test_a_reward_stage_from_before_a_reward_field_existed_is_trained_again(field: str) -> None:
    recipe: dict[str, Any] = {"version": 1, "budget": asdict(DemoTrainingBudget())}
    older: dict[str, Any] = {"version": 1, "budget": dict(recipe["budget"])}
    del older["budget"][field]
    assert reward_recipe(older) != reward_recipe(recipe)
    # the reward models read mentions unless told otherwise
    sentences = {"version": 1, "budget": asdict(DemoTrainingBudget(reward_text_form="sentence"))}
    assert reward_recipe(sentences) != reward_recipe(recipe)
    # what the student alone reads does not touch the reward models
    student_only = {"version": 1, "budget": asdict(DemoTrainingBudget(text_form="sentence"))}
    assert reward_recipe(student_only) == reward_recipe(recipe)
    # nor does a new version of the student's recipe
    assert reward_recipe({**recipe, "student_version": 2}) == reward_recipe(recipe)


def test_the_cli_refuses_a_dev_file_that_the_shell_put_in_the_pool(data_dir: Path) -> None:
    crossner = data_dir / "crossner"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "demo-scores",
            "conll",
            str(crossner / "politics" / "train.txt"),
            str(crossner / "music" / "dev.txt"),
            "--dev",
            str(crossner / "politics" / "dev.txt"),
        ],
    )
    assert result.exit_code != 0
    assert "repeat --dev before each dev file" in result.output


@pytest.fixture(scope="module")
def politics(data_dir: Path) -> dict[str, list[Sentence]]:
    folder = data_dir / "crossner" / "politics"
    return {
        split: list(load("conll", [folder / f"{split}.txt"], language="en", limit=limit))
        for split, limit in (("train", 40), ("dev", 60))
    }


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
    lm: LanguageModel,
    politics: dict[str, list[Sentence]],
) -> dict[str, Any]:
    """Real LM scores for four politics inputs, then the whole training on a tiny budget;
    the artefact is written where a cache rooted at ``cache`` keeps it."""
    root = tmp_path_factory.mktemp("demo")
    scores = root / "scores.jsonl"
    budget = ScoringBudget(inputs=4, candidates=TINY.candidates)
    pool = typing_examples(politics["train"])
    inputs = scoring_inputs(politics["dev"], budget)
    budget_file(scores, budget, pool, DEFAULT_MODEL)
    score_candidates(lm, pool, inputs, budget, scores, show_progress=False)
    artefact = root / "cache" / "artefacts" / "demo"
    manifest = train_demo(
        politics["train"],
        politics["dev"],
        TINY,
        scores=scores,
        out=root / "training",
        artefact=artefact,
        show_progress=False,
    )
    return {"root": root, "scores": scores, "artefact": artefact, "manifest": manifest}


@pytest.mark.models
def test_training_reports_reward_models_with_and_without_keywords_and_the_student(
    trained: dict[str, Any],
) -> None:
    rows = trained["manifest"]["validation"]
    assert rows["inputs"] == 1  # a fifth of four scored inputs, at least one
    for name in (
        "candidate_order",
        "base_bi_encoder",
        "reward_plain",
        "reward_keywords",
        "student",
    ):
        assert 0.0 <= rows[name]["top1_same_type"] <= 1.0
        assert rows[name]["top1_regret"] >= 0.0
    training = trained["root"] / "training"
    keyword_vocab = json.loads((training / "reward_keywords" / "tokenizer.json").read_text())
    assert any(t["content"] == KEYWORD_OPEN for t in keyword_vocab["added_tokens"])
    plain_vocab = json.loads((training / "reward_plain" / "tokenizer.json").read_text())
    assert all(t["content"] != KEYWORD_OPEN for t in plain_vocab["added_tokens"])


@pytest.mark.models
def test_the_student_learns_the_lm_scores_where_they_exist_and_the_teachers_elsewhere(
    trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    pool = typing_examples(politics["train"])
    fitting, validation = split_scored(
        scored_inputs(trained["scores"], pool, politics["dev"]), TINY
    )
    assert scores_source(trained["scores"]) == "base"
    inputs = student_inputs(politics["dev"], fitting, validation, TINY)
    teacher = RewardModel.trained(trained["root"] / "training" / "reward_plain")
    labelled = label_with_reward(
        teacher, inputs, pool, TINY, source="base", scored=fitting, show_progress=False
    )
    by_id = {s.example.id: s for s in fitting}
    neighbours = NeighbourCandidates(pool, text_form=TINY.text_form)
    for item in labelled:
        if item.example.id in by_id:
            assert item.candidates == by_id[item.example.id].candidates
            assert item.rewards == by_id[item.example.id].scores
        else:
            # the same first stage as the LM's candidates, labelled by the teacher
            top = neighbours.top(item.example, TINY.candidates)
            assert [c.id for c in item.candidates] == [pool[i].id for i in top]
            np.testing.assert_allclose(
                item.rewards, teacher.scores(item.example, item.candidates), atol=1e-5
            )
    assert len(labelled) > len(fitting)


@pytest.mark.models
def test_training_reports_what_a_search_of_the_whole_pool_returns(
    trained: dict[str, Any],
) -> None:
    rows = trained["manifest"]["validation"]["pool"]
    # the validation input and held-out mentions of the retriever-training half
    assert rows["inputs"] > 1
    for name in ("base_bi_encoder", "student"):
        assert set(rows[name]) == {"p@1", "p@4", "p@8"}
        assert all(0.0 <= v <= 1.0 for v in rows[name].values())


@pytest.mark.models
def test_a_second_round_scores_the_trained_students_neighbours_and_trains_on_both_rounds(
    tmp_path: Path,
    lm: LanguageModel,
    trained: dict[str, Any],
    politics: dict[str, list[Sentence]],
) -> None:
    pool = typing_examples(politics["train"])
    training = tmp_path / "training"
    shutil.copytree(trained["root"] / "training", training)
    student = training / "student"
    second = tmp_path / "scores-student.jsonl"
    budget = ScoringBudget(inputs=4, candidates=TINY.candidates, seed=1, candidates_from="student")
    budget_file(second, budget, pool, DEFAULT_MODEL, proposer_fingerprint("student", student))
    inputs = scoring_inputs(politics["dev"], budget)
    done = score_candidates(lm, pool, inputs, budget, second, student=student, show_progress=False)
    # the candidates are the trained student's nearest, not the untrained encoder's
    neighbours = NeighbourCandidates(pool, model=student)
    for example in inputs:
        top = neighbours.top(example, TINY.candidates)
        assert done[example.id]["candidates"] == [pool[i].id for i in top]

    first = read_scores(trained["scores"])
    merged = scored_inputs([trained["scores"], second], pool, politics["dev"])
    assert {s.example.id for s in merged} == set(first) | set(done)
    for item in merged:
        ids = [c.id for c in item.candidates]
        both = [*first.get(item.example.id, {}).get("candidates", [])]
        both += done.get(item.example.id, {}).get("candidates", [])
        assert len(ids) == len(set(ids)) and set(ids) == set(both)
        assert len(item.scores) == len(ids)

    manifest = train_demo(
        politics["train"],
        politics["dev"],
        TINY,
        scores=[trained["scores"], second],
        out=training,
        artefact=tmp_path / "artefact",
        show_progress=False,
    )
    learned = manifest["recipe"]["scores"]
    assert [f["candidates_from"] for f in learned["files"]] == ["base", "student"]
    assert learned["inputs"] == len(merged) and learned["candidates_from"] == "base"
    # the student was trained again: its neighbours are another first stage, never added
    # to the scores of the one before
    with pytest.raises(InvalidArgumentError, match="student="):
        budget_file(second, budget, pool, DEFAULT_MODEL, proposer_fingerprint("student", student))
    # but a finished round is reused as it is (what a rerun of the whole build does)
    again = score_demonstrations(
        politics["train"], politics["dev"], budget, out=second, student=student
    )
    assert again["inputs"] == len(done) and read_scores(second) == done
    more = replace(budget, inputs=5)
    with pytest.raises(InvalidArgumentError, match="student="):
        score_demonstrations(politics["train"], politics["dev"], more, out=second, student=student)


@pytest.mark.models
def test_scores_of_different_lms_are_not_merged_and_the_student_source_needs_a_student(
    tmp_path: Path, trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    pool = typing_examples(politics["train"])
    other = tmp_path / "other.jsonl"
    shutil.copy(trained["scores"], other)
    budget_file(other, ScoringBudget(inputs=4, candidates=TINY.candidates), pool, "another-lm")
    with pytest.raises(InvalidArgumentError, match="disagree on model"):
        scored_inputs([trained["scores"], other], pool, politics["dev"])
    with pytest.raises(ModelNotPreparedError, match="run `entivec train demo` first"):
        candidate_retriever(pool, "student", student=tmp_path / "no-student")


@pytest.mark.models
def test_a_trained_reward_model_reads_texts_in_the_form_it_was_trained_on(
    tmp_path: Path, trained: dict[str, Any]
) -> None:
    training = trained["root"] / "training"
    example = blair_example()
    for name, keywords in (("reward_plain", False), ("reward_keywords", True)):
        reward = RewardModel.trained(training / name)
        assert (reward.keywords, reward.text_form) == (keywords, TINY.reward_text_form)
        assert reward.max_tokens == TINY.max_tokens
    # a reward model from before the form was recorded read whole sentences
    older = tmp_path / "reward_plain"
    shutil.copytree(training / "reward_plain", older)
    stage = json.loads((older / "stage.json").read_text())
    del stage["recipe"]["budget"]["reward_text_form"]
    (older / "stage.json").write_text(json.dumps(stage))
    reward = RewardModel.trained(older)
    assert reward.text_form == "sentence"
    assert reward.scores(example, [example]).shape == (1,)
    with pytest.raises(ModelNotPreparedError, match="run `entivec train demo` first"):
        RewardModel.trained(tmp_path / "nothing")


@pytest.mark.models
def test_the_onnx_student_matches_the_trained_torch_student(trained: dict[str, Any]) -> None:
    assert trained["manifest"]["artefact"]["min_cosine_onnx_vs_torch"] >= 0.9999
    example = blair_example()
    texts = [example.demonstration_text(), query_text(example, "mention"), "Labour"]
    torch_vectors = MeanPooledEncoder(trained["root"] / "training" / "student", max_tokens=512)
    onnx_vectors = DemoEncoder(trained["artefact"]).embed_passages(texts)
    cosines = (onnx_vectors * torch_vectors.embed(texts)).sum(-1)
    assert cosines.min() >= 0.9999
    # the student moved away from its initialisation
    base = MeanPooledEncoder(model_dir("all-minilm-l6-v2"), max_tokens=512).embed(texts)
    assert (onnx_vectors * base).sum(-1).min() < 0.9999


@pytest.mark.models
def test_the_student_never_learns_from_the_reward_models_validation_inputs(
    trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    pool = typing_examples(politics["train"])
    fitting, validation = split_scored(
        scored_inputs(trained["scores"], pool, politics["dev"]), TINY
    )
    training_half, _ = split_dev(politics["dev"])
    everything = {e.id for e in typing_examples(training_half)}
    held = {s.example.id for s in validation}
    every = student_inputs(
        politics["dev"], fitting, validation, replace(TINY, reward_labelled=None)
    )
    assert {e.id for e in every} == everything - held
    assert len(every) == len({e.id for e in every})
    few = student_inputs(politics["dev"], fitting, validation, TINY)
    assert len(few) == len(fitting) + 4  # TINY.reward_labelled
    assert {s.example.id for s in fitting} <= {e.id for e in few}
    assert not held & {e.id for e in few}


@pytest.mark.models
def test_a_rerun_reuses_every_finished_stage(
    trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    training = trained["root"] / "training"
    stamps = {p: p.stat().st_mtime_ns for p in training.glob("*/stage.json")}
    assert len(stamps) == 3
    again = train_demo(
        politics["train"],
        politics["dev"],
        TINY,
        scores=trained["scores"],
        out=training,
        artefact=trained["artefact"],
        show_progress=False,
    )
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert again["validation"] == trained["manifest"]["validation"]
    # a changed budget trains again rather than reusing what another recipe made
    changed = json.loads(json.dumps(replace(TINY, seed=1).__dict__))
    assert (
        changed != json.loads((training / "student" / "stage.json").read_text())["recipe"]["budget"]
    )


@pytest.mark.models
def test_training_on_an_unfinished_scoring_job_warns_with_the_command_that_finishes_it(
    tmp_path: Path,
    trained: dict[str, Any],
    politics: dict[str, list[Sentence]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    scores = tmp_path / "scores.jsonl"
    shutil.copy(trained["scores"], scores)
    pool = typing_examples(politics["train"])
    budget_file(scores, ScoringBudget(inputs=4, candidates=TINY.candidates), pool, "smollm2")
    with caplog.at_level("WARNING"):
        assert len(scored_inputs(scores, pool, politics["dev"])) == 4
    assert not caplog.records
    budget_file(scores, ScoringBudget(inputs=9, candidates=TINY.candidates), pool, "smollm2")
    with caplog.at_level("WARNING"):
        assert len(scored_inputs(scores, pool, politics["dev"])) == 4
    assert "holds 4 of the 9 inputs" in caplog.text and "--inputs 9" in caplog.text


@pytest.mark.models
def test_the_teacher_is_a_choice_that_retrains_only_the_student(
    tmp_path: Path, trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    training = tmp_path / "training"
    shutil.copytree(trained["root"] / "training", training)
    assert trained["manifest"]["teacher"] == "reward_plain" == student_teacher(training)
    rewards = {p: p.stat().st_mtime_ns for p in training.glob("reward_*/stage.json")}
    student = (training / "student" / "model.safetensors").read_bytes()
    manifest = train_demo(
        politics["train"],
        politics["dev"],
        replace(TINY, teacher_keywords=True),
        scores=trained["scores"],
        out=training,
        artefact=tmp_path / "artefact",
        show_progress=False,
    )
    assert manifest["teacher"] == "reward_keywords" == student_teacher(training)
    assert {p: p.stat().st_mtime_ns for p in rewards} == rewards
    assert (training / "student" / "model.safetensors").read_bytes() != student
    for name in ("reward_plain", "reward_keywords"):
        assert manifest["validation"][name] == trained["manifest"]["validation"][name]


@pytest.mark.models
def test_the_text_form_is_recorded_and_the_artefact_reads_queries_that_way(
    tmp_path: Path, trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    marked = "Blair led [Labour] to victory."
    shipped = DemoEncoder(trained["artefact"])
    assert shipped.text_form == "mention" == student_text_form(trained["root"] / "training")
    assert np.allclose(shipped.embed_queries([marked]), shipped.embed_passages(["Labour"]))
    training = tmp_path / "training"
    shutil.copytree(trained["root"] / "training", training)
    rewards = {p: p.stat().st_mtime_ns for p in training.glob("reward_*/stage.json")}
    train_demo(
        politics["train"],
        politics["dev"],
        replace(TINY, text_form="sentence"),
        scores=trained["scores"],
        out=training,
        artefact=tmp_path / "artefact",
        show_progress=False,
    )
    # the reward models do not read the student's form: only the student is retrained
    assert {p: p.stat().st_mtime_ns for p in rewards} == rewards
    assert student_text_form(training) == "sentence"
    sentences = DemoEncoder(tmp_path / "artefact")
    assert sentences.text_form == "sentence"
    assert np.allclose(sentences.embed_queries([marked]), sentences.embed_passages([marked]))


@pytest.fixture(scope="module")
def demo_store(
    tmp_path_factory: pytest.TempPathFactory,
    trained: dict[str, Any],
    politics: dict[str, list[Sentence]],
    data_dir: Path,
) -> Iterator[tuple[Any, Path]]:
    from entivec.api import Entivec
    from entivec.store.edge import EdgeStore

    folder = tmp_path_factory.mktemp("demo-store")
    ev = Entivec(EdgeStore(folder, collection="entivec"))
    ev.loaded.encoders["demo"] = DemoEncoder(trained["artefact"])
    ev.ingest(
        "conll",
        [data_dir / "crossner" / "politics" / "train.txt"],
        plugins=("demo",),
        language="en",
        limit=40,
        show_progress=False,
    )
    yield ev, folder
    ev.close()


@pytest.mark.models
def test_demonstrations_are_the_stored_mentions_nearest_to_the_input(
    demo_store: tuple[Any, Path], trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    ev, _folder = demo_store
    text = "In 1997 [Tony Blair] led Labour back into government ."
    hits = ev.demonstrations(text, k=3)
    assert len(hits) == 3
    # the same as an exact search over the pool's demonstrations
    encoder = DemoEncoder(trained["artefact"])
    pool = typing_examples(politics["train"])
    sims = (
        encoder.embed_passages([e.demonstration_text() for e in pool])
        @ (encoder.embed_queries([text])[0])
    )
    expected = [pool[i] for i in np.argsort(-sims)[:3]]
    assert [(h.payload["sentence_id"], h.payload["entity_type"]) for h in hits] == [
        (e.sentence.id, e.type) for e in expected
    ]
    first = hits[0].payload
    start, end = first["span"]["start"], first["span"]["end"]
    assert first["sentence_text"][start:end] == first["text"]
    with pytest.raises(InvalidArgumentError, match="exactly one mention in brackets"):
        ev.demonstrations("Tony Blair led Labour .", k=3)
    with pytest.raises(InvalidArgumentError, match="sentence vectors"):
        ev.demonstrations(text, k=3, vector="e5")


@pytest.mark.models
def test_the_cli_searches_the_demo_vector(
    demo_store: tuple[Any, Path], trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ev, folder = demo_store
    expected = [h.id for h in ev.demonstrations("[Labour] won the election .", k=2)]
    ev.close()  # Qdrant Edge allows one opener per directory
    monkeypatch.setenv("ENTIVEC_CACHE_DIR", str(trained["root"] / "cache"))
    result = CliRunner().invoke(
        cli,
        [
            *("search", "[Labour] won the election .", "--store", str(folder)),
            *("--vector", "demo", "-k", "2", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [h["id"] for h in json.loads(result.output)] == expected


@pytest.mark.models
def test_a_recipe_is_chosen_on_unscored_training_mentions_apart_from_the_held_back_ones(
    trained: dict[str, Any], politics: dict[str, list[Sentence]]
) -> None:
    from entivec.lab.demos import evaluation_inputs

    dev = politics["dev"]
    training, evaluation = split_dev(dev)
    held_back = {e.id for e in evaluation_inputs(dev, "held-back")}
    assert held_back == {e.id for e in typing_examples(evaluation)}
    scored = set(read_scores(trained["scores"]))
    unscored = {e.id for e in evaluation_inputs(dev, "unscored", [trained["scores"]])}
    assert unscored == {e.id for e in typing_examples(training)} - scored
    assert scored and unscored and not unscored & held_back
    with pytest.raises(InvalidArgumentError, match="expected one of: held-back, unscored"):
        evaluation_inputs(dev, "test")


@pytest.mark.models
def test_eval_demos_answers_the_same_inputs_per_method_and_resumes_from_cached_answers(
    tmp_path: Path, lm: LanguageModel, politics: dict[str, list[Sentence]]
) -> None:
    from entivec.lab.demos import evaluate_demos

    options: dict[str, Any] = {
        "inputs": 3,
        "seeds": (0, 1),
        "shots": (1, 2),
        "methods": ("random", "bm25"),
        "completions": tmp_path / "answers.jsonl",
        "show_progress": False,
    }
    first = evaluate_demos(lm, politics["train"], politics["dev"], **options)
    assert first["inputs"] == 3 and first["seeds"] == [0, 1]
    for method in ("random", "bm25"):
        for k in (1, 2):
            row = first["methods"][method][k]
            assert len(row["f1"]) == 2 and all(0.0 <= f <= 1.0 for f in row["f1"])
    for k in (1, 2):
        gaps = first["paired"]["bm25-random"][k]["f1"]
        bm25, rand = first["methods"]["bm25"][k]["f1"], first["methods"]["random"][k]["f1"]
        assert gaps == pytest.approx([b - r for b, r in zip(bm25, rand, strict=True)], abs=1e-3)
    asked: list[int] = []
    complete = lm.complete

    def counting(prompts: Any, **kwargs: Any) -> list[str]:
        asked.append(len(prompts))
        return complete(prompts, **kwargs)

    lm.complete = counting  # type: ignore[method-assign]
    try:
        again = evaluate_demos(lm, politics["train"], politics["dev"], **options)
    finally:
        del lm.complete
    assert asked == []
    assert again["methods"] == first["methods"]
