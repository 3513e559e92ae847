"""extract() and eval ner with the adapters ./run trains (full budget) on real WikiANN."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.api import Entivec
from entivec.cli import cli
from entivec.lab.ner import evaluate_ner
from tests.conftest import WIKIANN_LANGUAGES


@pytest.fixture(scope="module")
def adapters() -> Path:
    from entivec.models import adapters_dir
    from entivec.ner.adapters import MANIFEST, AdapterRegistry

    folder = adapters_dir()
    if not (folder / MANIFEST).is_file():
        pytest.fail(
            "the LoRA adapters are not trained: run `entivec train lora wikiann "
            "../shared/data/wikiann/*/train.conllu` (./run test does)"
        )
    if not AdapterRegistry(folder).onnx_export:
        pytest.fail("the adapters are not exported: run `entivec export ner` (./run test does)")
    return folder


@pytest.fixture
def routed_store(routing_store: Entivec) -> Entivec:
    return routing_store


def test_extract_routes_groups_and_finds_entities(routed_store: Entivec, adapters: Path) -> None:
    texts = [
        "Angela Merkel war Bundeskanzlerin der Bundesrepublik Deutschland .",
        "Владимир Путин родился в Ленинграде .",
        "Real Madrid juega en el estadio Santiago Bernabéu de Madrid .",
    ]
    results = routed_store.extract(texts, adapters=adapters)
    assert [r.adapter for r in results] == ["de", "ru", "es"]
    assert all(r.routed and r.confidence > 0.5 for r in results)
    for r in results:
        for e in r.entities:
            assert r.text[e.start : e.end] == e.text
    found = {e.text for r in results for e in r.entities}
    assert "Angela Merkel" in found
    assert "Real Madrid" in found or "Madrid" in found
    # grouped by adapter: each adapter was loaded once and they all stay loaded
    assert sorted(routed_store.ner_model(adapters).loaded) == ["de", "es", "ru"]
    # the default engine is onnxruntime; PyTorch with PEFT finds the same entities
    with_torch = routed_store.extract(texts, adapters=adapters, engine="torch")
    assert [r.entities for r in with_torch] == [r.entities for r in results]


def test_a_long_text_is_tagged_to_its_end(routed_store: Entivec, adapters: Path) -> None:
    # 10,000 characters: far more than the model's 256 sub-tokens, the entities at the end
    sentence = "Angela Merkel besuchte am Montag die Stadt Hamburg ."
    filler = " ".join(["Die Sitzung dauerte lange und niemand sagte etwas ."] * 200)
    text = f"{filler} {sentence}"
    assert len(text) > 10_000
    [long] = routed_store.extract([text], adapters=adapters)
    [short] = routed_store.extract([sentence], adapters=adapters)
    offset = len(filler) + 1
    tail = {(e.text, e.type) for e in long.entities if e.start >= offset}
    # without windows the model stops at token 256 and finds nothing here; the context
    # before the sentence may add a guess (here "Stadt"), it does not lose the entities
    assert {("Angela Merkel", "PER"), ("Hamburg", "LOC")} <= tail
    assert {(e.text, e.type) for e in short.entities} <= tail


def test_monolingual_adapters_and_routing_costs_on_val(
    routed_store: Entivec, adapters: Path, data_dir: Path
) -> None:
    paths = [data_dir / "wikiann" / lang / "val.conllu" for lang in WIKIANN_LANGUAGES]
    result = evaluate_ner(routed_store, adapters, "wikiann", paths, limit=100, show_progress=False)
    assert set(result["by_language"]) == set(WIKIANN_LANGUAGES)
    mean = result["mean"]
    # trained adapters tag real entities: far above an untrained head (F1 near 0)
    assert mean["f1_true_language"] > 0.5 and mean["f1_joint"] > 0.5
    # routing picks the gold adapter for most sentences; wrong picks cost little F1
    assert mean["routing_accuracy"] > 0.75
    assert mean["f1_routed"] >= mean["f1_true_language"] - 0.05


def test_the_int8_graph_tags_as_well_as_fp32(
    routed_store: Entivec, adapters: Path, data_dir: Path
) -> None:
    """``--engine onnx-int8`` is a speed choice, not a quality one: on real WikiANN its F1
    stays within two points of fp32's (docs/annotate.md measures .001 on 6,000 sentences)."""
    paths = [data_dir / "wikiann" / lang / "val.conllu" for lang in WIKIANN_LANGUAGES]
    fp32, int8 = (
        evaluate_ner(
            routed_store, adapters, "wikiann", paths, limit=150, engine=e, show_progress=False
        )["mean"]
        for e in ("onnx", "onnx-int8")
    )
    assert int8["f1_true_language"] > 0.5
    for key in ("f1_true_language", "f1_routed", "f1_joint"):
        assert abs(int8[key] - fp32[key]) <= 0.02, (key, int8[key], fp32[key])


def test_cli_extract_refuses_an_unknown_registry(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["extract", "Berlin", "--store", str(tmp_path / "s"), "--adapters", str(tmp_path / "a")],
    )
    assert result.exit_code == 1
    assert "is not an adapter registry" in result.output


def test_an_unknown_engine_lists_the_engines(routed_store: Entivec, adapters: Path) -> None:
    from entivec.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="expected one of: onnx, onnx-int8, torch"):
        routed_store.extract("Berlin", adapters=adapters, engine="tensorflow")
