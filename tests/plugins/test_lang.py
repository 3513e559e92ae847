"""The lang routing vector: training, artefact, vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from entivec.build.lang.train import train_language_vector
from entivec.errors import ModelNotPreparedError, TrainingDataError
from entivec.models import MANIFEST
from entivec.plugins.lang import LANGUAGE_SLOTS, LanguageVectorEncoder


def test_training_writes_safetensors_and_is_idempotent(tmp_path: Path, data_dir: Path) -> None:
    paths = [data_dir / "wikiann" / lang / "train.conllu" for lang in ("de", "ru")]
    out = tmp_path / "lang"
    manifest = train_language_vector("wikiann", paths, limit=300, out=out)
    assert manifest["languages"] == ["de", "ru"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "model.safetensors"]
    assert manifest["checks"]["held_out_accuracy_argmax"] > 0.9  # Cyrillic vs Latin
    stamp = (out / "model.safetensors").stat().st_mtime_ns
    again = train_language_vector("wikiann", paths, limit=300, out=out)
    assert again == manifest and (out / "model.safetensors").stat().st_mtime_ns == stamp
    encoder = LanguageVectorEncoder(out)
    vectors = encoder.embed(["Это река в Сибири .", "Die Stadt liegt am Rhein .", ""])
    assert vectors.shape == (3, LANGUAGE_SLOTS)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0)
    assert not vectors[2].any()  # no n-gram: a zero vector, routed nowhere
    scores = encoder.scores(["Это река в Сибири ."])
    assert encoder.languages[int(np.argmax(scores))] == "ru"


def test_weights_trained_on_other_features_are_refused(tmp_path: Path, data_dir: Path) -> None:
    import json

    paths = [data_dir / "wikiann" / lang / "train.conllu" for lang in ("de", "ru")]
    out = tmp_path / "lang"
    train_language_vector("wikiann", paths, limit=100, out=out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["features"]["char_analyzer"] = "char_wb"  # what an older version trained on
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelNotPreparedError, match="retrain it with `entivec train routing"):
        LanguageVectorEncoder(out)


def test_one_language_cannot_train_a_router(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(TrainingDataError, match="2 to 32 languages; these files have 1: de"):
        train_language_vector(
            "wikiann", [data_dir / "wikiann" / "de" / "train.conllu"], limit=50, out=tmp_path
        )


def test_a_missing_artefact_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotPreparedError, match="entivec train routing"):
        LanguageVectorEncoder(tmp_path)


def test_the_shipped_router_separates_the_six_languages(lang_encoder: object) -> None:
    languages = lang_encoder.languages  # type: ignore[attr-defined]
    assert languages == ("de", "en", "es", "nl", "pl", "ru")
    sentences = {
        "de": "Die Partei wurde 1990 in Berlin gegründet .",
        "nl": "Het is een gemeente in de provincie Utrecht .",
        "pl": "Jest to miasto w województwie śląskim .",
        "es": "Es un club de fútbol de la ciudad de Madrid .",
        "ru": "Это река в Сибири .",
        "en": "He played for the club until his retirement .",
    }
    vectors = lang_encoder.embed(list(sentences.values()))  # type: ignore[attr-defined]
    similarity = vectors @ vectors.T
    # each sentence is closer to itself than to any other language's sentence
    assert (np.argmax(similarity, axis=1) == np.arange(len(sentences))).all()
    assert similarity[np.triu_indices(len(sentences), 1)].max() < 0.9
