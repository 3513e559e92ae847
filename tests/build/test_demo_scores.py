"""In-context mention typing with SmolLM2, and the resumable LM scoring of demonstrations."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from entivec.build.demo.scores import (
    Bm25Candidates,
    NeighbourCandidates,
    ScoringBudget,
    budget_file,
    prefix_stable_draw,
    read_scores,
    score_candidates,
    split_dev,
)
from entivec.build.metrics import micro_f1
from entivec.errors import InvalidArgumentError
from entivec.loaders import load
from entivec.query.language_model import LanguageModel
from entivec.query.prompts import Example, output_format, prompt, read_type, typing_examples
from tests.conftest import blair_example

TYPING = output_format("typing")


@pytest.fixture(scope="module")
def politics(data_dir: Path) -> dict[str, list[Example]]:
    folder = data_dir / "crossner" / "politics"
    return {
        split: typing_examples(load("conll", [folder / f"{split}.txt"], language="en", limit=60))
        for split in ("train", "dev")
    }


def test_a_typing_prompt_marks_one_mention_and_answers_with_its_type_name() -> None:
    example = blair_example()
    assert example.marked_text() == "Tony Blair led the [Labour Party] ."
    assert TYPING.answer(example) == " political party\n"
    text = prompt(TYPING, [example], example)
    assert text.endswith("Sentence: Tony Blair led the [Labour Party] .\nType:")
    assert "Type: political party\n\nSentence:" in text


def test_an_unknown_output_format_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="typing, entities"):
        output_format("json")


def test_an_answer_is_read_as_the_longest_type_name_it_starts_with() -> None:
    labels = ["politicalparty", "organisation", "person", "politician"]
    assert read_type(" political party\nSentence: x", labels) == "politicalparty"
    assert read_type("Politician.", labels) == "politician"
    assert read_type(" a city", labels) is None


def test_micro_f1_counts_unreadable_answers_as_misses_only() -> None:
    gold = ["person", "location", "person", "event"]
    assert micro_f1(gold, gold) == 1.0
    # 2 right of 3 answered: precision 2/3, recall 2/4
    assert micro_f1(gold, ["person", "location", None, "person"]) == pytest.approx(4 / 7)
    with pytest.raises(InvalidArgumentError):
        micro_f1(gold, gold[:2])


def test_an_answers_score_does_not_depend_on_its_batch_mates(
    lm: LanguageModel, politics: dict[str, list[Example]]
) -> None:
    examples = politics["dev"][:6]
    prompts = [prompt(TYPING, [politics["train"][i]], e) for i, e in enumerate(examples)]
    answers = [TYPING.answer(e) for e in examples]
    together = lm.answer_log_likelihood(prompts, answers, show_progress=False)
    alone = [
        lm.answer_log_likelihood([p], [a], show_progress=False)[0]
        for p, a in zip(prompts, answers, strict=True)
    ]
    np.testing.assert_allclose(together, alone, atol=1e-4)
    assert np.all(together < 0)


def test_a_demonstration_of_the_same_type_makes_the_gold_answer_likelier(
    lm: LanguageModel, politics: dict[str, list[Example]]
) -> None:
    # the premise of scoring demonstrations: the LM copies what a demonstration shows
    rng = random.Random(0)
    pool, inputs = politics["train"], politics["dev"][:12]
    prompts, answers, same = [], [], []
    for example in inputs:
        alike = [d for d in pool if d.type == example.type]
        other = [d for d in pool if d.type != example.type]
        for demo, is_same in ((rng.choice(alike), True), (rng.choice(other), False)):
            prompts.append(prompt(TYPING, [demo], example))
            answers.append(TYPING.answer(example))
            same.append(is_same)
    scores = lm.answer_log_likelihood(prompts, answers, show_progress=False)
    flags = np.array(same)
    assert scores[flags].mean() > scores[~flags].mean() + 0.3


def test_the_lm_answers_a_question_its_demonstration_already_answered(
    lm: LanguageModel, politics: dict[str, list[Example]]
) -> None:
    examples = politics["dev"][:4]
    prompts = [prompt(TYPING, [e], e) for e in examples]
    labels = sorted({e.type for e in politics["train"] + politics["dev"]})
    answers = lm.complete(prompts, show_progress=False)
    assert [read_type(a, labels) for a in answers] == [e.type for e in examples]


def test_dev_is_split_by_sentence_id_the_same_way_every_time(data_dir: Path) -> None:
    dev = list(load("conll", [data_dir / "crossner" / "science" / "dev.txt"], language="en"))
    training, evaluation = split_dev(dev)
    assert {s.id for s in training}.isdisjoint({s.id for s in evaluation})
    assert len(training) + len(evaluation) == len(dev)
    assert 0.4 < len(training) / len(dev) < 0.6
    # the split of a sentence does not depend on which other sentences are split with it
    assert split_dev(dev[::3])[0] == [s for s in training if s in dev[::3]]


def test_bm25_candidates_never_propose_the_input_itself(
    politics: dict[str, list[Example]],
) -> None:
    pool = politics["train"]
    candidates = Bm25Candidates(pool)
    top = candidates.top(pool[0], 5)
    assert len(top) == 5 and 0 not in top
    # the best candidate shares words with the input
    words = set(pool[0].sentence.text.lower().split())
    assert words & set(pool[top[0]].sentence.text.lower().split())


@pytest.mark.models
def test_neighbour_candidates_are_the_untrained_students_nearest_and_never_the_input(
    politics: dict[str, list[Example]],
) -> None:
    from entivec.build.mean_pooled import MeanPooledEncoder
    from entivec.models import model_dir

    pool = politics["train"]
    top = NeighbourCandidates(pool).top(pool[0], 5)
    assert len(top) == 5 and 0 not in top
    encoder = MeanPooledEncoder(model_dir("all-minilm-l6-v2"), max_tokens=128)
    query = encoder.embed([pool[0].retriever_query()])[0]
    cosines = encoder.embed([pool[i].demonstration_text() for i in range(len(pool))]) @ query
    cosines[0] = -np.inf
    assert top == [int(i) for i in np.argsort(-cosines, kind="stable")[:5]]


def test_an_unknown_candidate_source_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="expected one of: base, bm25, student"):
        ScoringBudget(candidates_from="dense")


def test_interrupted_scoring_resumes_to_the_same_scores_as_one_clean_run(
    lm: LanguageModel, politics: dict[str, list[Example]], tmp_path: Path
) -> None:
    pool, inputs = politics["train"], politics["dev"][:4]
    budget = ScoringBudget(inputs=4, candidates=3)
    clean = score_candidates(
        lm, pool, inputs, budget, tmp_path / "clean.jsonl", show_progress=False
    )

    resumed_file = tmp_path / "resumed.jsonl"
    score_candidates(lm, pool, inputs[:2], budget, resumed_file, show_progress=False)
    # a kill in the middle of writing the third input's line
    with resumed_file.open("a", encoding="utf-8") as sink:
        sink.write('{"input": "' + inputs[2].id + '", "candidates": [')
    resumed = score_candidates(lm, pool, inputs, budget, resumed_file, show_progress=False)

    assert list(resumed) == [e.id for e in inputs]
    for key, record in clean.items():
        assert resumed[key]["candidates"] == record["candidates"]
        np.testing.assert_allclose(resumed[key]["scores"], record["scores"], atol=1e-4)
    lines = resumed_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(inputs) == len(read_scores(resumed_file))


def test_scores_made_with_another_budget_or_pool_are_not_mixed_in(
    tmp_path: Path, politics: dict[str, list[Example]]
) -> None:
    out, pool = tmp_path / "scores.jsonl", politics["train"]
    budget_file(out, ScoringBudget(candidates=3), pool, "smollm2")
    budget_file(out, ScoringBudget(candidates=3), pool, "smollm2")
    with pytest.raises(InvalidArgumentError, match="candidates=3, not candidates=5"):
        budget_file(out, ScoringBudget(candidates=5), pool, "smollm2")
    with pytest.raises(InvalidArgumentError, match="pool="):
        budget_file(out, ScoringBudget(candidates=3), pool[1:], "smollm2")
    with pytest.raises(InvalidArgumentError, match="candidates_from='base', not candidates_"):
        budget_file(out, ScoringBudget(candidates=3, candidates_from="bm25"), pool, "smollm2")


def test_scores_from_before_the_candidate_source_was_a_choice_are_bm25s(
    tmp_path: Path, politics: dict[str, list[Example]]
) -> None:
    import json

    out, pool = tmp_path / "scores.jsonl", politics["train"]
    budget_file(out, ScoringBudget(candidates=3, candidates_from="bm25"), pool, "smollm2")
    older = json.loads(out.with_suffix(".budget.json").read_text())
    del older["candidates_from"]
    out.with_suffix(".budget.json").write_text(json.dumps(older))
    budget_file(out, ScoringBudget(candidates=3, candidates_from="bm25"), pool, "smollm2")
    with pytest.raises(InvalidArgumentError, match="candidates_from='bm25'"):
        budget_file(out, ScoringBudget(candidates=3), pool, "smollm2")


def test_a_budget_may_grow_its_inputs_but_not_shrink_them(
    tmp_path: Path, politics: dict[str, list[Example]]
) -> None:
    out, pool = tmp_path / "scores.jsonl", politics["train"]
    budget_file(out, ScoringBudget(inputs=2), pool, "smollm2")
    budget_file(out, ScoringBudget(inputs=3), pool, "smollm2")
    with pytest.raises(InvalidArgumentError, match="inputs=3, not inputs=2"):
        budget_file(out, ScoringBudget(inputs=2), pool, "smollm2")
    with pytest.raises(InvalidArgumentError, match="candidates="):
        budget_file(out, ScoringBudget(inputs=4, candidates=5), pool, "smollm2")


def test_the_draw_of_inputs_is_prefix_stable_and_is_the_draw_the_scores_were_made_with() -> None:
    import random

    assert prefix_stable_draw(50, 5, seed=0) == prefix_stable_draw(50, 20, seed=0)[:5]
    assert sorted(prefix_stable_draw(50, 80, seed=0)) == list(range(50))
    assert prefix_stable_draw(50, 5, seed=0) != prefix_stable_draw(50, 5, seed=1)
    # the shipped scores were drawn with random.sample from the 5,899 retriever-training
    # mentions; the prefix-stable draw must pick the same 200
    assert prefix_stable_draw(5899, 200, seed=0) == random.Random(0).sample(range(5899), 200)


@pytest.mark.models
def test_the_cli_scores_demonstrations_and_resumes_where_it_stopped(
    data_dir: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from entivec.cli import cli

    politics = data_dir / "crossner" / "politics"
    out = tmp_path / "scores.jsonl"
    args = ["-q", "train", "demo-scores", "conll", str(politics / "train.txt")]
    args += ["--dev", str(politics / "dev.txt"), "--language", "en", "--out", str(out)]
    first = CliRunner().invoke(cli, [*args, "--inputs", "2", "--candidates", "2"])
    assert first.exit_code == 0, first.output
    assert "4 LM scores for 2 inputs" in first.output
    # the same budget again: nothing to score, the file is unchanged
    before = out.read_text(encoding="utf-8")
    again = CliRunner().invoke(cli, [*args, "--inputs", "2", "--candidates", "2"])
    assert again.exit_code == 0 and out.read_text(encoding="utf-8") == before
    # another budget on the same file is a one-line error, not a mix of budgets
    other = CliRunner().invoke(cli, [*args, "--inputs", "2", "--candidates", "3"])
    assert other.exit_code == 1 and "candidates=2, not candidates=3" in other.output
    # more inputs extend the file: the two scored inputs are kept, one more is scored
    more = CliRunner().invoke(cli, [*args, "--inputs", "3", "--candidates", "2"])
    assert more.exit_code == 0, more.output
    assert "6 LM scores for 3 inputs" in more.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and "\n".join(lines[:2]) + "\n" == before


@pytest.mark.models
def test_demo_formats_reports_that_typing_scores_move_more_with_the_demonstration(
    data_dir: Path,
) -> None:
    import json

    from click.testing import CliRunner

    from entivec.cli import cli

    politics = data_dir / "crossner" / "politics"
    args = ["-q", "eval", "demo-formats", "conll", str(politics / "train.txt")]
    args += ["--dev", str(politics / "dev.txt"), "--language", "en", "--json"]
    result = CliRunner().invoke(cli, [*args, "--inputs", "4", "--candidates", "4"])
    assert result.exit_code == 0, result.output
    formats = json.loads(result.output)["formats"]
    assert set(formats) == {"typing", "entities"}
    assert formats["typing"]["std"] > formats["entities"]["std"]
    assert formats["typing"]["mean_score_same_type"] > formats["typing"]["mean_score_other_type"]
