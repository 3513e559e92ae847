"""The NER adapters shipped with entivec (src/entivec/build/ner/trained/): whole, the
current recipe's, installed in place of training, and what training here gives again."""

from __future__ import annotations

from pathlib import Path

import pytest

from entivec.build.ner import train as ner_train
from entivec.build.ner.shipped import shipped_registry
from entivec.ner.adapters import JOINT, AdapterRegistry
from entivec.ner.tagging import WIKIANN_LABELS, tags_from_spans
from tests.conftest import DATA, WIKIANN_LANGUAGES

TRAIN = [DATA / "wikiann" / lang / "train.conllu" for lang in WIKIANN_LANGUAGES]
# an adapter trained again on another CPU follows other float rounding for 125 steps
MIN_TAG_AGREEMENT = 0.98
MAX_F1_DIFFERENCE = 0.01


def test_the_shipped_adapters_are_whole_and_the_current_recipes() -> None:
    registry = shipped_registry()
    assert registry is not None, "src/entivec/build/ner/trained/ is missing"
    assert registry.labels == WIKIANN_LABELS
    assert registry.names == sorted([JOINT, *WIKIANN_LANGUAGES])
    per_language_steps = ner_train.EPOCHS * ner_train.SENTENCES_PER_LANGUAGE // ner_train.BATCH_SIZE
    for name in registry.names:
        registry.verified_folder(name)  # every file against its checksum
        info = registry.entry(name).info
        joint = name == JOINT
        assert info["lora"] == ner_train.LORA_INFO
        assert info["batch_size"] == ner_train.BATCH_SIZE
        assert info["written_share"] == ner_train.WRITTEN_SHARE
        assert info["starts_from"] == (None if joint else JOINT)
        assert info["learning_rate"] == (
            ner_train.LEARNING_RATE if joint else ner_train.SPECIALISE_LEARNING_RATE
        )
        languages = len(WIKIANN_LANGUAGES) if joint else 1
        assert info["sentences"] == ner_train.SENTENCES_PER_LANGUAGE * languages
        assert info["steps"] == per_language_steps * languages


@pytest.mark.models
def test_training_on_the_shipped_data_installs_the_shipped_adapters(tmp_path: Path) -> None:
    done = ner_train.train_lora("wikiann", TRAIN, tmp_path, show_progress=False)
    assert sorted(done) == sorted([JOINT, *WIKIANN_LANGUAGES])
    assert all(info["installed_from"] == "shipped" for info in done.values())
    installed = AdapterRegistry(tmp_path)
    for name in installed.names:
        installed.verified_folder(name)
    # other data is trained, not taken from the copy
    other = ner_train.train_lora(
        "wikiann", TRAIN[:2], tmp_path / "other", per_language=16, show_progress=False
    )
    assert all("installed_from" not in info for info in other.values())


@pytest.mark.models
def test_an_adapter_trained_again_tags_as_the_shipped_one(tmp_path: Path) -> None:
    from entivec.lab.ner import span_f1
    from entivec.loaders import load
    from entivec.ner.peft_engine import NerModel

    done = ner_train.train_lora(
        "wikiann", TRAIN, tmp_path, only=["de"], retrain=True, show_progress=False
    )
    assert done[JOINT]["installed_from"] == "shipped"  # only what was asked is trained
    assert "installed_from" not in done["de"]
    shipped = shipped_registry()
    assert shipped is not None
    sentences = list(load("wikiann", [DATA / "wikiann" / "de" / "val.conllu"], limit=300))
    words = [list(s.tokens) for s in sentences]
    gold = [tags_from_spans(len(s.tokens), s.spans) for s in sentences]
    again = NerModel(AdapterRegistry(tmp_path)).predict("de", words)
    theirs = NerModel(shipped).predict("de", words)
    pairs = [(a, b) for x, y in zip(again, theirs, strict=True) for a, b in zip(x, y, strict=True)]
    agreement = sum(a == b for a, b in pairs) / len(pairs)
    assert agreement >= MIN_TAG_AGREEMENT
    assert abs(span_f1(gold, again) - span_f1(gold, theirs)) <= MAX_F1_DIFFERENCE
