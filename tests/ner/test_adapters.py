"""The LoRA adapter registry and the NER model, on the real converted e5 encoder.

The adapters here are trained for a few steps only: these tests check plumbing (files,
checksums, selection, switching), not quality; tests/test_extract.py uses the adapters
./run trains with the full budget.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from entivec.annotation.extraction import choose_adapter
from entivec.annotation.routing import Route
from entivec.errors import AdapterError
from entivec.ner.adapters import MANIFEST, AdapterRegistry
from entivec.ner.tagging import (
    Entity,
    entities_from_tags,
    spans_from_tags,
    tags_from_spans,
)
from entivec.records import Span

# every test here reads a prepared or trained model
pytestmark = pytest.mark.models


def test_tags_and_spans_round_trip() -> None:
    spans = [Span(0, 2, "PER"), Span(4, 5, "LOC")]
    tags = tags_from_spans(6, spans)
    assert tags == ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
    assert spans_from_tags(tags) == spans
    # an I- with no B- opens a span, as seqeval reads it
    assert spans_from_tags(["O", "I-ORG", "I-ORG"]) == [Span(1, 3, "ORG")]


def test_entities_carry_character_offsets() -> None:
    text = "Angela  Merkel lebt in Berlin ."
    found = entities_from_tags(text, ["B-PER", "I-PER", "O", "O", "B-LOC", "O"])
    assert found == [Entity(0, 14, "PER", "Angela  Merkel"), Entity(23, 29, "LOC", "Berlin")]


@pytest.fixture(scope="module")
def tiny_registry(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    from entivec.build.ner.train import read_training_sentences, train_adapter

    pytest.importorskip("peft", reason="the export extra (peft) is not installed")
    root = tmp_path_factory.mktemp("adapters")
    paths = [data_dir / "wikiann" / lang / "train.conllu" for lang in ("de", "nl")]
    sentences = read_training_sentences("wikiann", paths, 32)
    for name in ("de", "joint"):
        chosen = sentences["de"] if name == "de" else sentences["de"] + sentences["nl"]
        train_adapter(root, name, chosen, steps=2, show_progress=False)
    return root


def test_registry_lists_and_verifies_adapters(tiny_registry: Path) -> None:
    registry = AdapterRegistry(tiny_registry)
    assert registry.names == ["de", "joint"]
    folder = registry.verified_folder("de")
    assert (folder / "adapter_model.safetensors").is_file()
    assert not list(folder.glob("*.bin"))  # safetensors only, never pickles
    with pytest.raises(AdapterError, match="registered: de, joint"):
        registry.entry("../../etc")


def test_a_corrupt_adapter_is_refused(tiny_registry: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_registry, copy)
    weights = copy / "de" / "adapter_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(AdapterError, match="does not match its checksum"):
        AdapterRegistry(copy).verified_folder("de")


def test_a_manifest_cannot_point_outside_the_registry(tiny_registry: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_registry, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["adapters"]["de"]["folder"] = "../elsewhere"
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(AdapterError, match="invalid folder"):
        AdapterRegistry(copy)


def test_routes_choose_only_registered_adapters(tiny_registry: Path) -> None:
    registry = AdapterRegistry(tiny_registry)

    def route(language: str | None) -> Route:
        outcome = "routed" if language else "tie"
        return Route("t", language, 1.0, outcome, None)  # type: ignore[arg-type]

    assert choose_adapter(registry, route("de")) == "de"
    assert choose_adapter(registry, route("pl")) == "joint"
    assert choose_adapter(registry, route("../de")) == "joint"
    assert choose_adapter(registry, route(None)) == "joint"


def test_adapters_load_once_and_switch(tiny_registry: Path) -> None:
    from entivec.ner.peft_engine import NerModel

    model = NerModel(AdapterRegistry(tiny_registry))
    words = [["Angela", "Merkel", "lebt", "in", "Berlin", "."], ["Amsterdam"]]
    tags_de = model.predict("de", words)
    assert [len(t) for t in tags_de] == [6, 1]
    assert all(t in model.labels for row in tags_de for t in row)
    model.predict("joint", words)
    model.predict("de", words)
    assert model.loaded == ["de", "joint"] and model.active == "de"
    # switching back gives the same output: adapters do not leak into each other
    assert model.predict("de", words) == tags_de


def test_word_tokenizer_matches_transformers_on_real_sentences(data_dir: Path) -> None:
    from transformers import AutoTokenizer

    from entivec.loaders import load
    from entivec.models import model_dir
    from entivec.ner.tagging import BASE_MODEL, MAX_TOKENS, word_tokenizer

    reference = AutoTokenizer.from_pretrained(model_dir(BASE_MODEL))
    ours = word_tokenizer()
    sentences = [
        s.tokens
        for lang in ("de", "ru", "pl")
        for s in load("wikiann", [data_dir / "wikiann" / lang / "val.conllu"], limit=40)
    ]
    sentences.append(["Wort"] * 400)  # longer than MAX_TOKENS: both truncate the same way
    expected = reference(
        [list(s) for s in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=MAX_TOKENS,
        padding=True,
    )
    got = ours(sentences)
    assert got.input_ids.tolist() == expected["input_ids"]
    assert got.attention_mask.tolist() == expected["attention_mask"]
    assert got.word_ids == [expected.word_ids(b) for b in range(len(sentences))]


def test_long_word_lists_are_cut_into_overlapping_windows() -> None:
    from entivec.ner.tagging import stitch, word_windows

    lengths = [1, 3, 2, 40, 1, 1, 5, 2, 2, 1] * 30
    windows = word_windows(lengths, budget=50, overlap=8)
    assert windows[0][0] == 0 and windows[-1][1] == len(lengths)
    for (start, end), (next_start, _) in itertools.pairwise(windows):
        assert sum(lengths[start:end]) <= 50 or end - start == 1
        assert start < next_start <= end  # overlapping or touching, always moving on
    # a word longer than the budget is a window of its own
    assert word_windows([3, 90, 3], budget=50) == [(0, 1), (1, 2), (2, 3)]
    # each word keeps the tag of the window where it sits farthest from an edge
    tags = stitch([(0, 4), (2, 6)], [["a0", "a1", "a2", "a3"], ["b2", "b3", "b4", "b5"]])
    assert tags == ["a0", "a1", "a2", "b3", "b4", "b5"]


@pytest.fixture(scope="module")
def exported_registry(tiny_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from entivec.build.ner.export import export_ner_onnx

    copy = tmp_path_factory.mktemp("exported") / "adapters"
    shutil.copytree(tiny_registry, copy)
    export_ner_onnx(copy)
    return copy


def test_onnx_export_is_one_graph_plus_small_adapter_files(exported_registry: Path) -> None:
    from entivec.ner.adapters import ONNX_FOLDER

    registry = AdapterRegistry(exported_registry)
    files = registry.verified_onnx_files()
    assert sorted(files) == [
        "de.onnx_adapter",
        "joint.onnx_adapter",
        "lora-inputs.json",
        "ner.onnx",
        "ner_int8.onnx",
    ]
    graph = files["ner.onnx"].stat().st_size
    for name in ("de", "joint"):
        # LoRA and head weights only: a tiny fraction of the base graph
        assert files[f"{name}.onnx_adapter"].stat().st_size < graph / 50
    assert registry.onnx_export["checks"]["max_logit_difference"] < 1e-3
    assert not list((exported_registry / ONNX_FOLDER).glob("tmp*"))  # no leftovers


def test_onnx_export_is_idempotent(exported_registry: Path) -> None:
    from entivec.build.ner.export import export_ner_onnx

    graph = exported_registry / "onnx" / "ner.onnx"
    before = graph.stat().st_mtime_ns
    export_ner_onnx(exported_registry)
    assert graph.stat().st_mtime_ns == before


def test_an_export_without_its_int8_graph_gets_it_alone(
    exported_registry: Path, tmp_path: Path
) -> None:
    """An export made before the int8 graph existed (or interrupted while quantizing)
    gains it on the next export; the fp32 graph is not exported again."""
    from entivec.build.ner.export import export_ner_onnx
    from entivec.ner.adapters import INT8_CHECK, MANIFEST
    from entivec.ner.onnx_engine import OnnxNerModel

    copy = tmp_path / "adapters"
    shutil.copytree(exported_registry, copy)
    manifest = json.loads((copy / MANIFEST).read_text(encoding="utf-8"))
    del manifest["onnx"]["files"]["ner_int8.onnx"], manifest["onnx"]["checks"][INT8_CHECK]
    (copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    (copy / "onnx" / "ner_int8.onnx").unlink()
    with pytest.raises(AdapterError, match="no checked int8 graph; run `entivec export ner"):
        OnnxNerModel(AdapterRegistry(copy), int8=True)
    before = (copy / "onnx" / "ner.onnx").stat().st_mtime_ns
    export = export_ner_onnx(copy)
    assert (copy / "onnx" / "ner.onnx").stat().st_mtime_ns == before
    assert export["checks"][INT8_CHECK] >= 0.95
    words = [["Angela", "Merkel", "lebt", "in", "Berlin", "."]]
    assert OnnxNerModel(AdapterRegistry(copy), int8=True).predict("de", words)


def test_an_int8_graph_that_fails_its_check_is_not_kept(
    exported_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fp32 export stands; --engine onnx-int8 says why there is no int8 graph, and the
    next export does not quantize again."""
    import entivec.build.ner.quantize as quantize
    from entivec.build.ner.export import export_ner_onnx
    from entivec.ner.onnx_engine import OnnxNerModel

    copy = tmp_path / "adapters"
    shutil.copytree(exported_registry, copy)
    monkeypatch.setattr(quantize, "MIN_TAG_AGREEMENT", 1.01)  # no graph can pass
    export = export_ner_onnx(copy, force=True)
    assert "ner_int8.onnx" not in export["files"]
    assert not (copy / "onnx" / "ner_int8.onnx").exists()
    with pytest.raises(AdapterError, match="was not kept; use --engine onnx"):
        OnnxNerModel(AdapterRegistry(copy), int8=True)
    OnnxNerModel(AdapterRegistry(copy)).predict("de", [["Angela", "Merkel"]])
    monkeypatch.setattr(quantize, "quantize_ner", None)  # calling it would fail
    assert export_ner_onnx(copy) == export


def test_onnx_engine_tags_like_peft_and_switches_adapters(exported_registry: Path) -> None:
    from entivec.ner.onnx_engine import OnnxNerModel
    from entivec.ner.peft_engine import NerModel

    registry = AdapterRegistry(exported_registry)
    words = [["Angela", "Merkel", "lebt", "in", "Berlin", "."], ["Amsterdam"], ["Die", "Partei"]]
    onnx_model, torch_model = OnnxNerModel(registry), NerModel(registry)
    for name in ("de", "joint", "de"):
        assert onnx_model.predict(name, words) == torch_model.predict(name, words)
    assert onnx_model.loaded == ["de", "joint"] and onnx_model.active == "de"
    # the adapters differ, and the active one is what runs
    de, joint = onnx_model.logits("de", words), onnx_model.logits("joint", words)
    assert any(abs(a - b).max() > 1e-4 for a, b in zip(de, joint, strict=True))
    with pytest.raises(AdapterError, match="registered: de, joint"):
        onnx_model.set_adapter("pl")


def test_a_corrupt_onnx_adapter_is_refused(exported_registry: Path, tmp_path: Path) -> None:
    from entivec.ner.onnx_engine import OnnxNerModel

    copy = tmp_path / "copy"
    shutil.copytree(exported_registry, copy)
    adapter = copy / "onnx" / "joint.onnx_adapter"
    adapter.write_bytes(adapter.read_bytes()[:-8])
    model = OnnxNerModel(AdapterRegistry(copy))
    model.set_adapter("de")  # intact
    with pytest.raises(AdapterError, match=r"joint\.onnx_adapter does not match its checksum"):
        model.set_adapter("joint")
    assert model.active == "de" and model.loaded == ["de"]


def test_the_onnx_engine_says_how_to_export(tiny_registry: Path) -> None:
    from entivec.ner.onnx_engine import OnnxNerModel

    with pytest.raises(AdapterError, match="run `entivec export ner --adapters"):
        OnnxNerModel(AdapterRegistry(tiny_registry))


def test_retraining_an_adapter_invalidates_the_onnx_export(
    exported_registry: Path, tmp_path: Path, data_dir: Path
) -> None:
    from entivec.build.ner.train import read_training_sentences, train_adapter

    copy = tmp_path / "copy"
    shutil.copytree(exported_registry, copy)
    path = data_dir / "wikiann" / "nl" / "train.conllu"
    sentences = read_training_sentences("wikiann", [path], 16)["nl"]
    train_adapter(copy, "nl", sentences, steps=1, show_progress=False)
    with pytest.raises(AdapterError, match="no ONNX export"):
        AdapterRegistry(copy).verified_onnx_files()
